"""Errors a user can cause (bad files, flags, checkpoints).

The command line prints ``error: <message>`` and exits with code 2 for these, without a traceback;
anything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """Something the user can fix: the message says what is wrong, where, and what to do."""

    exit_code = 2


class DataError(UserError):
    """A data file is missing or malformed."""


class CheckpointError(UserError):
    """A checkpoint is missing, unreadable, or does not match the model flags."""
