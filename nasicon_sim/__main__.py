"""``python -m nasicon_sim`` runs the command-line interface."""

import sys

from nasicon_sim.cli.main import main

sys.exit(main())
