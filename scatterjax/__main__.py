"""Entry point for ``python -m scatterjax``: the tour."""

import sys

from ._applications.tour import main

sys.exit(main())
