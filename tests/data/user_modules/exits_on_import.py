"""A user's script imported by ``--module``: its entry point runs at import and exits."""

import sys

sys.exit(3)
