"""What every command of the kit shares: one-line errors with exit code 2, never a traceback for them."""
from __future__ import annotations

import argparse
import shlex
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


def option(flag: str, value) -> list[str]:
    """`flag value` as words of a command line; `flag=value` when the value starts with '-' (a file named
    '-x.mp4'), which argparse would otherwise read as a flag."""
    value = str(value)
    return [f"{flag}={value}"] if value.startswith("-") else [flag, value]


def shell_command(words, placeholders=()) -> str:
    """A command to print for a person to copy into a shell: every word shell-quoted, so that what a file
    name holds ($(...), backticks, ;, quotes, spaces) stays part of the name and never runs. Words in
    `placeholders` (such as <checkpoint>, for the person to replace) are printed as they are."""
    return " ".join(w if w in placeholders else shlex.quote(str(w)) for w in words)
