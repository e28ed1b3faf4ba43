"""`python -m relpose.cli.yardsticks` (`make yardsticks`): measure the plausibility checks' yardsticks (the same
checks on takes whose truth is known; relpose.lab.yardsticks says how) and write them to
relpose/data/plausibility_yardsticks.json, which every lift prints beside its own values. An existing file is
replaced only with --overwrite."""
from __future__ import annotations

import sys

from .common import OneLineParser, run_command, shell_command


def _main(argv) -> int:
    p = OneLineParser(prog="python -m relpose.cli.yardsticks",
                      description="Measure the plausibility checks on the synthetic test subjects' and the "
                                  "DeepMimic clips' truth and on the kit's models' lifts of them; write the "
                                  "yardsticks a lift prints beside its values.")
    p.add_argument("--output", default=None, metavar="FILE",
                   help="where to write them (default: the package's relpose/data/plausibility_yardsticks.json)")
    p.add_argument("--mocap-keypoints", default=None, metavar="K",
                   help="the mocap 2D keypoints the models lift (default: each model's training keypoints where "
                        "relpose.mocap makes them, else det)")
    p.add_argument("--overwrite", action="store_true", help="replace the file that is there")
    args = p.parse_args(argv)
    from ..lab.yardsticks import make_yardsticks   # torch and the models after the flags are checked
    words = ["python", "-m", "relpose.cli.yardsticks", *(sys.argv[1:] if argv is None else argv)]
    make_yardsticks(args.output, overwrite=args.overwrite, wanted_mocap=args.mocap_keypoints,
                    command=shell_command(words))
    return 0


def main(argv=None) -> int:
    return run_command(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
