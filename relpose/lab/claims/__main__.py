"""`python -m relpose.lab.claims`: the command line lives in relpose.cli.claims."""
import sys

from relpose.cli.claims import main

if __name__ == "__main__":   # worker processes started by 'spawn' import this module; they must not run it
    sys.exit(main())
