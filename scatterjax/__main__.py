"""Entry point for ``python -m scatterjax``: the tour."""

import sys

from ._tour import main

sys.exit(main())
