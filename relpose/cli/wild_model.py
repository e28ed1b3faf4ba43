"""`python -m relpose.cli.wild_model` (`make wild-model`): make the in-the-wild model the kit ships
(relpose/data/models/wild-quick.bin; relpose.lab.wild_model says how)."""
from __future__ import annotations

import sys

from ..lab.wild_model import make_shipped_model
from .common import OneLineParser, run_command


def _main(argv) -> int:
    p = OneLineParser(prog="python -m relpose.cli.wild_model",
                      description="Make the in-the-wild model the kit ships (trained first if "
                                  "checkpoint/wild-synthwild-synth-quick has none), weights-only, float16, "
                                  "with its provenance.")
    p.add_argument("--output", default=None, metavar="FILE", help="where to write it (default: the package's "
                                                                  "relpose/data/models/wild-quick.bin)")
    p.add_argument("--overwrite", action="store_true", help="replace the model that is there")
    args = p.parse_args(argv)
    make_shipped_model(args.output, overwrite=args.overwrite)
    return 0


def main(argv=None) -> int:
    return run_command(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
