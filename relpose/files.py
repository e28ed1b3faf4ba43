"""Files a user keeps: atomic writes, outputs checked before work starts, one training per folder.

Everything the kit writes goes through `atomic_path` (a temporary file beside the target, renamed over
it only when complete), so an interrupted write never leaves half a file under the real name.
`check_output_file` / `check_writable_folder` run before any work, so that a path that cannot be
written is reported in one line at start-up, not after an hour of training, and an existing file is
never replaced unless the caller says so. `FolderLock` keeps two trainings out of one checkpoint
folder (`OutputsLock`: two runs out of one set of named outputs); the operating system drops the lock
when its process dies, so a killed run's lock is recognised as stale and taken over. `path_argument`
keeps a user's file name from being read as a flag by the program it is handed to; `find_root` finds the
kit's top folder from a notebook's or a command's working directory.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

from .errors import DataError, UserError

TMP_PREFIX = ".relpose-"
TMP_SUFFIX = ".tmp"
LOCK_NAME = ".relpose.lock"


def _reason(e: OSError) -> str:
    return e.strerror or str(e)


@contextlib.contextmanager
def atomic_path(path, *, what: str = "file"):
    """Yield a temporary path beside `path`; on success it is fsynced and renamed to `path`.

    On any exception the temporary file is removed and `path` is left as it was. The temporary name
    keeps the target's extension, so writers that choose a format by suffix (matplotlib, ffmpeg) work.
    """
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{path.stem}.", suffix=TMP_SUFFIX + path.suffix,
                                   dir=path.parent)
    except OSError as e:
        raise UserError(f"cannot write {what} '{path}': {_reason(e)}; choose a writable folder") from None
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise UserError(f"cannot write {what} '{path}': {_reason(e)}") from None
        raise
    with contextlib.suppress(OSError):  # make the rename durable where the file system allows it
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def path_argument(path) -> str:
    """`path` as one argument of a command line (an argument list, never a shell string): a relative
    name that starts with '-' gets './' so that no program reads it as a flag."""
    text = str(path)
    return f"./{text}" if text.startswith("-") else text


def check_writable_folder(folder, flag: str, create: bool = True) -> Path:
    """Make sure `folder` exists (created if `create`) and a file can be written into it; else UserError."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{flag} '{folder}' is a file, not a folder; give a folder path")
    if not folder.exists():
        if not create:
            raise UserError(f"{flag} '{folder}' does not exist; create it or give another folder")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UserError(f"{flag} '{folder}' cannot be created: {_reason(e)}; choose a writable folder") from None
    try:  # os.access can be wrong (root, ACLs, read-only mounts): write a probe file instead
        fd, probe = tempfile.mkstemp(prefix=TMP_PREFIX + "probe.", suffix=TMP_SUFFIX, dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise UserError(f"{flag} '{folder}' is not writable: {_reason(e)}; choose a writable folder") from None
    return folder


def check_output_file(path, flag: str, *, overwrite: bool = False, suffixes=()) -> Path:
    """Check before any work that `path` can be written: its folder is writable, it is not a folder,
    it has one of `suffixes` (if given) and, unless `overwrite`, does not exist yet."""
    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        raise UserError(f"{flag} '{path}': unsupported extension '{path.suffix}'; use {' or '.join(suffixes)}")
    if path.is_dir():
        raise UserError(f"{flag} '{path}' is a folder; give a file name such as {path / ('out' + (suffixes or ('',))[0])}")
    if path.exists() and not overwrite:
        raise UserError(f"{flag} '{path}' already exists; choose another name, delete it, or pass --overwrite")
    check_writable_folder(path.parent if str(path.parent) else Path("."), f"the folder of {flag}")
    return path


def remove_stray_temporaries(folder) -> list[Path]:
    """Delete the temporary files interrupted writes left in `folder` (call while holding its lock)."""
    removed = []
    for p in Path(folder).glob(f"{TMP_PREFIX}*{TMP_SUFFIX}*"):
        if p.is_file():
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(p)
    # Checkpoints written before this module existed used ".<name>.<random>.tmp".
    for p in Path(folder).glob(".*.bin.*.tmp"):
        if p.is_file():
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(p)
    return removed


class FolderLock:
    """An exclusive lock on a folder for the length of a `with` block (one training per checkpoint folder).

    The lock is an flock on `<folder>/.relpose.lock`, which also records who holds it (pid, host,
    start time, command) for the message a second run gets. A lock file whose flock is free was left
    by a run that died: it is taken over, and `stale` says whose it was.
    """

    def __init__(self, folder, flag: str = "-c", command: str | None = None, *, lock_name: str = LOCK_NAME):
        self.folder = Path(folder)
        self.path = self.folder / lock_name
        self.flag = flag
        self.command = command if command is not None else " ".join(sys.argv)
        self.stale: dict | None = None
        self._fd: int | None = None

    def _holder(self) -> dict:
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def acquire(self) -> "FolderLock":
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise UserError(f"{self.flag} '{self.folder}': cannot create the lock file: {_reason(e)}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            h = self._holder()
            who = f"pid {h.get('pid', '?')} on {h.get('host', '?')}, started {h.get('started', '?')}"
            cmd = f": {h['command']}" if h.get("command") else ""
            raise UserError(self._busy(f"{who}{cmd}")) from None
        previous = self._holder()
        if previous.get("pid"):
            self.stale = previous
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": time.strftime("%Y-%m-%d %H:%M:%S"), "command": self.command}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd
        return self

    def _busy(self, holder: str) -> str:
        return (f"{self.flag} '{self.folder}' is in use by another training run ({holder}); "
                f"wait for it to finish or train into another folder with {self.flag}")

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)  # an empty file: nobody holds it (the file itself may stay)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> "FolderLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


class OutputsLock(FolderLock):
    """An exclusive lock on the outputs named `name` in `folder` (`<folder>/.relpose-<name>.lock`): two runs
    writing the same outputs at once would each check that none exist, then replace each other's."""

    def __init__(self, folder, name: str, flag: str = "-k", command: str | None = None):
        super().__init__(folder, flag, command, lock_name=f"{TMP_PREFIX}{name}.lock")
        self.name = name

    def _busy(self, holder: str) -> str:
        return (f"{self.flag} {self.name}: the outputs {self.folder / self.name}.* are being written by another run "
                f"({holder}); wait for it to finish or give another {self.flag}")


def read_json(path, *, what: str, max_bytes: int, fix: str, too_large: str = ""):
    """A JSON file's content, read with bounds: DataError naming the file for a missing, unreadable, too large
    (more than `max_bytes`: json builds ~10 times a file's size in memory) or invalid file. `what` names the
    kind of file ("a joints file"), `fix` ends each message (what the user gives instead), `too_large` ends the
    message of a file over the bound instead (why the bound is there, and what to do)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DataError(f"{path} holds {size:,} bytes, more than the {max_bytes:,} {what} may hold"
                            f"{too_large or '; ' + fix}")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path} does not exist; {fix}") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a folder; {fix}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path} cannot be read ({getattr(e, 'strerror', None) or e}); {fix}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{path} is not valid JSON ({e.msg} at line {e.lineno}); {fix}, complete") from None
    except RecursionError:   # json's parser recurses once per level
        raise DataError(f"{path} is nested deeper than Python's JSON reader can follow; {fix}") from None
    except ValueError as e:   # Python refuses integers of more than 4,300 digits
        raise DataError(f"{path} cannot be read as JSON ({str(e).split(';')[0][:120]}); {fix}") from None


def find_root(start: str | None = None) -> str:
    """The kit's top folder (the one holding relpose/ and notebooks/), from a notebook's working dir."""
    here = os.path.abspath(start or os.getcwd())
    for folder in (here, os.path.dirname(here), os.path.dirname(os.path.dirname(here))):
        if os.path.isdir(os.path.join(folder, "relpose")) and os.path.isdir(os.path.join(folder, "notebooks")):
            return folder
    return here
