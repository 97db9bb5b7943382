"""``python -m coursemate.cli``."""

import sys

from coursemate.cli import main

sys.exit(main())
