"""``python -m scatterjax.extract``: scattering features of files on disk (see ``scatterjax extract --help``).

The library code lives in ``scatterjax._applications.extract``; :func:`item_index` maps output rows back to
their file, signal and frame from the sidecar.
"""

from __future__ import annotations

import sys

from ._applications.extract import item_index as item_index
from ._applications.extract import main as _main


def main(argv=None) -> int:
    """Run the extractor on ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    return _main(argv, prog="python -m scatterjax.extract")


if __name__ == "__main__":
    sys.exit(main())
