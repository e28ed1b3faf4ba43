"""`python -m relpose.lab.claims`: train and measure the encodings over many seeds, decide the paper's claims
(relpose.lab.claims), write one JSON and print the verdicts."""
from __future__ import annotations

import os
import sys

from ..errors import UserError
from ..files import find_root
from ..lab.claims import RECIPES, TINY_CLAIMS, read_results, report, run_claims
from .common import OneLineParser, run_command


def parse_seeds(text: str) -> tuple:
    """'0-9' (inclusive), '0,3,5', or 'N' (the first N seeds, 0..N-1)."""
    text = text.strip()
    try:
        if "," in text:
            seeds = tuple(int(s) for s in text.split(","))
        elif "-" in text[1:]:
            first, last = text.split("-", 1)
            seeds = tuple(range(int(first), int(last) + 1))
        else:
            seeds = tuple(range(int(text)))
    except ValueError:
        raise UserError(f"--seeds '{text}': give a range such as 0-9, a list such as 0,3,5, or a count N") from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise UserError(f"--seeds '{text}': give at least one seed, each a distinct whole number >= 0")
    return seeds


def _claims(argv) -> int:
    parser = OneLineParser(prog="python -m relpose.lab.claims",
                           description="Train and measure the four encodings and the staged model over many seeds, "
                                       "decide the paper's claims (paired t-tests, Holm-corrected) and write one JSON; "
                                       "seeds already in it are kept and skipped.")
    parser.add_argument("--mode", choices=("quick", "full"), default="quick",
                        help="quick: synthetic data on the CPU (default); full: Human3.6M, the paper's recipe, GPU")
    parser.add_argument("--seeds", help="0-9, 0,3,5, or a count N (default: the recipe's, 0-9)")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes running seeds side by side, one thread each (default 1)")
    parser.add_argument("--out", help="the JSON (default: results/claims_<recipe>.json in the kit's folder)")
    parser.add_argument("--tiny", action="store_true", help="a tiny recipe that runs in a minute (a smoke test)")
    parser.add_argument("--analyse", metavar="PATH", help="print the verdicts of an existing JSON; train nothing")
    args = parser.parse_args(argv)
    if args.analyse:
        print(report(read_results(args.analyse)))
        return 0
    seeds = parse_seeds(args.seeds) if args.seeds is not None else None
    if args.workers < 1:
        parser.error(f"--workers {args.workers}: give 1 or more")
    from ..lab.settings import settings

    s = settings(args.mode)
    recipe = TINY_CLAIMS if args.tiny else RECIPES[s.mode]
    if seeds is not None:
        recipe = recipe.with_seeds(seeds)
    out = args.out or os.path.join(find_root(), "results", f"claims_{recipe.name}.json")
    data = run_claims(s, recipe, out, workers=args.workers)
    print()
    print(report(data))
    print(f"\nwritten: {out}")
    return 0


def main(argv=None) -> int:
    return run_command(_claims, argv)


if __name__ == "__main__":
    sys.exit(main())
