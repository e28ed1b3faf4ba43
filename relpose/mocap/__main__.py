"""`python -m relpose.mocap`: the command line is relpose.cli.mocap (entry points live in the CLI layer)."""
import sys

from relpose.cli.mocap import main

sys.exit(main())
