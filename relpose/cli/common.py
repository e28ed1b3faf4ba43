"""What every command of the kit shares: one-line errors with exit code 2, never a traceback for them."""
from __future__ import annotations

import argparse
import sys

from ..errors import UserError


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad flag gives one line (no usage dump) and exit code 2."""

    def error(self, message):
        raise UserError(f"{message} (see {self.prog} --help)")


def run_command(command, argv=None) -> int:
    """Call command(argv); a UserError becomes `error: <message>` on stderr and its exit code (2)."""
    try:
        return command(argv) or 0
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted; files written so far are intact", file=sys.stderr)
        return 130
