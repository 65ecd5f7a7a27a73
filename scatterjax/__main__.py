"""Entry point for ``python -m scatterjax``: the tour; ``python -m scatterjax extract ...``: the extractor."""

import sys

if sys.argv[1:2] == ["extract"]:
    from ._applications.cli import main as cli_main

    sys.exit(cli_main(sys.argv[1:]))

from ._applications.tour import main

sys.exit(main())
