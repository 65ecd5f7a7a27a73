"""``python -m scatterjax.extract``: scattering features of files on disk (see ``scatterjax extract --help``).

The library code lives in ``scatterjax._applications.extract``. :func:`item_index` maps output rows back
to their file, signal and frame from the sidecar, and :func:`read` reads an input file as the extractor
does (``(array, sample_rate)``), so that a row can be traced back to its samples.
"""

from __future__ import annotations

import sys

from ._applications.extract import item_index as item_index
from ._applications.extract import main as _main
from ._applications.io import read as read


def main(argv=None) -> int:
    """Run the extractor on ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    return _main(argv, prog="python -m scatterjax.extract")


if __name__ == "__main__":
    sys.exit(main())
