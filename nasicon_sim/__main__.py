"""``python -m nasicon_sim`` runs the command-line interface."""

import sys

from nasicon_sim.cli.main import main

if __name__ == "__main__":  # not on import (autosummary imports every module)
    sys.exit(main())
