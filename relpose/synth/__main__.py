"""`python -m relpose.synth`: the command line is relpose.cli.synth (entry points live in the CLI layer)."""
import sys

from relpose.cli.synth import main

sys.exit(main())
