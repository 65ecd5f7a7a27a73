"""The ``scatterjax`` console script (also ``python -m scatterjax extract ...``): see ``scatterjax extract --help``."""

from __future__ import annotations

import sys

_USAGE = """usage: scatterjax <command> [options]

commands:
  extract   compute scattering features (1D, 2D, 3D, JTFS) of files (.npy/.npz, .wav/.flac, images)
            into one .npy, resumably (rerun the same command after an interruption)

Run 'scatterjax <command> --help' for a command's options."""


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "extract":
        from .extract import main as extract_main

        return extract_main(rest, prog="scatterjax extract")
    print(f"scatterjax: error: unknown command {command!r}\n\n{_USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
