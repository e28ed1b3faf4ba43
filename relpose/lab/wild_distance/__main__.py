"""`python -m relpose.lab.wild_distance`: the command line lives in relpose.cli.wild_distance."""
import sys

from relpose.cli.wild_distance import main

sys.exit(main())
