"""`python -m relpose.wild.detect`: the command line lives in relpose.cli.detect."""
import sys

from relpose.cli.detect import main

sys.exit(main())
