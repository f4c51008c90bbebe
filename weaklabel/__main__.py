"""``python -m weaklabel``: the ``weaklabel`` console script."""

import sys

from weaklabel.cli import main

sys.exit(main())
