"""Read .npz data files without letting them run code.

The VideoPose3D layout stores nested dicts (subject -> action -> arrays) as pickled object arrays,
and `np.load(allow_pickle=True)` executes whatever a pickle names: a downloaded file whose
`metadata` carries a `__reduce__` payload runs it. Here each member of the archive is read by hand:
plain arrays through numpy with pickles disallowed, object arrays through an unpickler that can
build only dicts, lists, tuples, sets, strings, bytes, numbers, booleans, None and numpy arrays,
dtypes and scalars. Any other name a pickle asks for (a function, a class, a module) stops the
read with a message naming the file and the name; nothing is imported or called.

Nor is anything allocated for what a file merely claims (a few kB can claim terabytes): sizes in
.npy headers, zip entries and pickle opcodes are checked against the bytes really there and against
MAX_READ_BYTES, MAX_PICKLE_OPS and MAX_DEPTH, and the tree a pickle builds is walked once per object
however often it is shared.
"""
from __future__ import annotations

import io
import math
import pickle
import pickletools
import zipfile
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from .errors import DataError

# (module, name) pairs a genuine numpy object array pickles to, under numpy 1.x and 2.x names.
_NUMPY_CORE = ("numpy.core.multiarray", "numpy._core.multiarray")
_NUMPY_NUMERIC = ("numpy.core.numeric", "numpy._core.numeric")
_ALLOWED = {(m, n) for m in _NUMPY_CORE for n in ("_reconstruct", "scalar")}
_ALLOWED |= {(m, "_frombuffer") for m in _NUMPY_NUMERIC} | {("numpy", "ndarray"), ("numpy", "dtype")}
# Plain containers a pickle may name explicitly (old protocols, Python 2 files, an OrderedDict of actions).
_BUILTINS = ("dict", "list", "tuple", "set", "frozenset", "str", "bytes", "bytearray", "int", "float", "complex",
             "bool")
_ALLOWED |= {(m, n) for m in ("builtins", "__builtin__") for n in _BUILTINS} | {("collections", "OrderedDict")}
# numpy >= 1.25 may pickle a dtype by its class, e.g. numpy.dtypes.Float32DType.
_DTYPE_MODULE = "numpy.dtypes"


# What a file may claim, checked before anything is allocated (a few kB can claim terabytes):
# bytes read from one archive, decompressed (a zip member's size is what it says; Human3.6M's largest
# VideoPose3D array, its 2D detections, is about 0.5 GiB);
MAX_READ_BYTES = 4 * 2 ** 30
# opcodes in one pickled member (a genuine dict of arrays takes ~15 per array: Human3.6M ~15,000; checking
# two million takes about a second);
MAX_PICKLE_OPS = 2_000_000
# nesting of a pickled tree (the layout nests 4 levels: subject, action, camera list, array).
MAX_DEPTH = 64


class _Refused(Exception):
    """A pickle asked for something a data file never needs; load_npz names the file."""


def _count(shape) -> int:
    if not isinstance(shape, tuple) or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool)
                                                and 0 <= n < 2 ** 63 for n in shape):
        try:
            shown = repr(shape)[:80]
        except ValueError:   # Python will not print an integer of more than 4,300 digits
            shown = "a number too long to show"
        raise _Refused(f"gives an array a shape that is not a tuple of sizes ({shown})")
    return math.prod(int(n) for n in shape)


class _PendingArray(np.ndarray):
    """An array being unpickled: the shape and the bytes its state claims are checked before numpy
    allocates it (numpy sizes an object array by the claimed shape first). Replaced by a plain
    ndarray view once the tree is checked."""

    def __new__(cls, *args, **kwargs):
        raise _Refused("calls numpy.ndarray directly, which numpy's own pickles never do")

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise _Refused("gives an array a state numpy never writes")
        shape, dtype, _fortran, raw = state[-4:]
        if not isinstance(dtype, np.dtype):
            raise _Refused(f"gives an array the dtype {type(dtype).__name__}")
        count = _count(shape)
        if dtype.hasobject:
            if not isinstance(raw, list) or len(raw) != count:
                raise _Refused(f"claims an object array of shape {shape} ({count:,} items) but holds "
                               f"{len(raw) if isinstance(raw, list) else 'no list of'} items")
        elif not isinstance(raw, (bytes, bytearray)) or len(raw) != count * dtype.itemsize:
            raise _Refused(f"claims an array of shape {shape} ({count * dtype.itemsize:,} bytes of {dtype}) but "
                           f"holds {len(raw) if isinstance(raw, (bytes, bytearray)) else 'no'} bytes")
        np.ndarray.__setstate__(self, state)


def _reconstruct_checked(subtype, shape, dtype):
    """numpy's _reconstruct: numpy's pickles ask for an empty array, filled by its state."""
    if subtype is not _PendingArray or _count(shape) != 0:
        raise _Refused(f"asks numpy for an array of shape {str(shape)[:80]} before its data, which numpy's "
                       "own pickles never do")
    from numpy._core import multiarray
    return multiarray._reconstruct(subtype, shape, dtype)


def _built(cls):
    """A builtin a pickle may call, refusing the calls that build more than the file holds:
    bytes(10**11) or bytearray(10**11) (zeros), list('...') (one object per character)."""
    def build(*args, **kwargs):
        if args and cls in (bytes, bytearray) and isinstance(args[0], int):
            raise _Refused(f"asks to build {cls.__name__}({args[0]:,}) of zeros, which a data file never does")
        if args and cls not in (bytes, bytearray, str, int, float, complex, bool) \
                and isinstance(args[0], (str, bytes, bytearray)):
            raise _Refused(f"asks to build a {cls.__name__} from a string, which a data file never does")
        return cls(*args, **kwargs)
    return build


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, where: str):
        super().__init__(file, encoding="latin1")   # latin1: reads Python 2 pickles' numpy buffers intact
        self.where = where

    def find_class(self, module, name):
        import builtins
        import collections

        from numpy._core import multiarray, numeric   # numpy 2's names; numpy 1.x files name numpy.core
        if (module, name) in _ALLOWED:
            if name == "ndarray":
                return _PendingArray
            if name == "_reconstruct":
                return _reconstruct_checked
            home = {**dict.fromkeys(_NUMPY_CORE, multiarray), **dict.fromkeys(_NUMPY_NUMERIC, numeric),
                    "numpy": np, "collections": collections, "builtins": builtins, "__builtin__": builtins}[module]
            found = getattr(home, name)
            return _built(found) if home in (builtins, collections) else found
        if module == _DTYPE_MODULE and name.endswith("DType") and hasattr(np.dtypes, name):
            return getattr(np.dtypes, name)
        raise DataError(f"{self.where} asks to load '{module}.{name}', which a data file never needs: refused "
                        "before anything ran (a data file can carry code); get the file from a source you trust, "
                        "or re-create it in the VideoPose3D layout")

    def persistent_load(self, pid):
        raise DataError(f"{self.where} holds a persistent reference, which a data file never needs; re-create it")


def _check_opcodes(data: bytes, start: int, where: str) -> None:
    """Read the pickle's opcodes without running them, before the (C) unpickler does: every length an
    opcode claims must be in the file (the unpickler allocates a bytearray8's claimed size before reading
    it), memo entries must be numbered in order (it sizes its memo by the highest number), and there
    may be at most MAX_PICKLE_OPS of them."""
    stream = io.BytesIO(data)
    stream.seek(start)
    memo = 0
    try:
        for n, (op, arg, _pos) in enumerate(pickletools.genops(stream), 1):
            if n > MAX_PICKLE_OPS:
                raise DataError(f"{where} holds a pickle of more than {MAX_PICKLE_OPS:,} opcodes (the most a data "
                                "file may hold; numpy writes ~15 per array); re-create it in the VideoPose3D layout")
            if op.name in ("PUT", "BINPUT", "LONG_BINPUT"):
                if arg > memo:
                    raise DataError(f"{where} numbers a pickle memo entry {arg:,} out of order (a pickler numbers "
                                    "them 0, 1, 2, ...); replace it with a good copy")
                memo = max(memo, arg + 1)
            elif op.name == "MEMOIZE":
                memo += 1
            elif op.name == "FRAME" and arg > len(data):
                raise DataError(f"{where} claims a pickle frame of {arg:,} bytes in a {len(data):,}-byte member; "
                                "replace it with a good copy")
    except ValueError as e:   # a claimed length past the end, a damaged opcode, no STOP
        raise DataError(f"{where} cannot be read: its pickle is cut short, damaged, or claims more than it holds "
                        f"({_first_line(e)[:160]}); replace it with a good copy") from None


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


class _TreeCheck:
    """What the unpickler built must be data all the way down (ndarrays of objects included), at most
    MAX_DEPTH levels deep. Each container is visited once however often it is shared (a file of lists
    that hold the same list twice, 60 levels deep, names 2**60 paths), and pending arrays become plain
    ndarrays."""

    _LEAVES = (str, bytes, bytearray, int, float, complex, bool, type(None), np.generic, np.dtype)

    def __init__(self, where: str):
        self.where = where
        self.done: dict[int, tuple] = {}   # id -> (the object, kept alive so ids stay unique; result; height)
        self.open: set[int] = set()

    def __call__(self, value, depth: int = 0):
        return self._visit(value, depth)[0]

    def _visit(self, value, depth: int):
        if isinstance(value, self._LEAVES) and not isinstance(value, np.ndarray):
            return value, 0
        key = id(value)
        if key in self.open:
            raise DataError(f"{self.where} holds a container that contains itself, which a data file never does; "
                            "re-create it in the VideoPose3D layout")
        if key in self.done:
            _, result, height = self.done[key]
        else:
            if depth > MAX_DEPTH:
                self._too_deep()
            self.open.add(key)
            result, height = self._children(value, depth)
            self.open.discard(key)
            self.done[key] = (value, result, height)
        if depth + height > MAX_DEPTH:
            self._too_deep()
        return result, height

    def _too_deep(self):
        raise DataError(f"{self.where} is nested more than {MAX_DEPTH} levels deep (the VideoPose3D layout nests 4); "
                        "re-create it in the VideoPose3D layout")

    def _children(self, value, depth: int):
        height = 0

        def visit(child):
            nonlocal height
            result, h = self._visit(child, depth + 1)
            height = max(height, h + 1)
            return result

        if isinstance(value, dict):
            for k in list(value):
                visit(k)
                new = visit(value[k])
                if new is not value[k]:
                    value[k] = new
        elif isinstance(value, list):
            for i, v in enumerate(value):
                new = visit(v)
                if new is not v:
                    value[i] = new
        elif isinstance(value, tuple):
            items = [visit(v) for v in value]
            if any(a is not b for a, b in zip(items, value)):
                value = tuple(items)
        elif isinstance(value, (set, frozenset)):
            for v in value:
                visit(v)
        elif isinstance(value, np.ndarray):
            if type(value) not in (np.ndarray, _PendingArray):
                raise DataError(f"{self.where} holds an array subclass {type(value).__name__}; re-create the file")
            value = value.view(np.ndarray) if type(value) is _PendingArray else value
            if value.dtype.hasobject and value.dtype.fields is None:
                for index in np.ndindex(value.shape):
                    item = value[index]
                    new = visit(item)
                    if new is not item:
                        value[index] = new
        else:
            raise DataError(f"{self.where} holds a {type(value).__name__}, which a data file never needs; re-create it")
        return value, height


def _npy_header(f, where: str):
    version = npy_format.read_magic(f)
    if version == (1, 0):
        return npy_format.read_array_header_1_0(f)
    if version in ((2, 0), (3, 0)):
        return npy_format.read_array_header_2_0(f)
    raise DataError(f"{where}: unknown .npy format version {version}; re-create the file")


def _read_member(data: bytes, where: str) -> np.ndarray:
    f = io.BytesIO(data)
    shape, fortran, dtype = _npy_header(f, where)
    try:
        count = _count(shape)
    except _Refused as e:
        raise DataError(f"{where} {e}; re-create the file") from None
    if not dtype.hasobject:
        claimed, held = count * dtype.itemsize, len(data) - f.tell()
        if claimed > held:   # numpy would allocate the claim first, then find the data short
            raise DataError(f"{where} claims an array of shape {shape} ({claimed:,} bytes of {dtype}) but holds "
                            f"{held:,} bytes; replace it with a good copy")
        return np.load(io.BytesIO(data), allow_pickle=False)
    _check_opcodes(data, f.tell(), where)
    try:
        value = _RestrictedUnpickler(f, where).load()
    except _Refused as e:
        raise DataError(f"{where} {e}: refused; re-create it in the VideoPose3D layout") from None
    if not isinstance(value, np.ndarray):
        raise DataError(f"{where} holds a pickled {type(value).__name__} where an array belongs; re-create the file")
    value = _TreeCheck(where)(value)
    if value.shape != tuple(shape):
        raise DataError(f"{where}: its header says shape {shape}, its pickle holds {value.shape}; re-create the file")
    return value


def npz_keys(path) -> list[str]:
    """The keys of an .npz archive, without reading any array."""
    with zipfile.ZipFile(path) as archive:
        return [m[:-4] if m.endswith(".npy") else m for m in archive.namelist()]


def load_npz(path, keys=None) -> dict[str, np.ndarray]:
    """The arrays of an .npz archive by key (all, or those of `keys` that it has), as np.load gives
    them, reading object arrays safely.

    Raises DataError (one line, naming the file) for anything that is not a readable archive of
    arrays, and for any pickle that names something other than plain data.
    """
    path = Path(path)
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path} is not an .npz (zip) archive; replace it with a file in the VideoPose3D layout")
    out = {}
    try:
        with zipfile.ZipFile(path) as archive:
            read = 0
            for info in archive.infolist():
                member = info.filename
                key = member[:-4] if member.endswith(".npy") else member
                if keys is not None and key not in keys:
                    continue
                read += info.file_size   # what the member says it decompresses to; zipfile reads no more
                if read > MAX_READ_BYTES:
                    raise DataError(f"{path} (key '{key}') makes {read:,} bytes uncompressed, more than the "
                                    f"{MAX_READ_BYTES:,} a data file may hold; re-create it in the VideoPose3D layout")
                out[key] = _read_member(archive.read(member), f"{path} (key '{key}')")
    except DataError:
        raise
    except (pickle.UnpicklingError, ValueError, EOFError, OSError, zipfile.BadZipFile, KeyError, TypeError,
            AttributeError, IndexError, RecursionError) as e:
        raise DataError(f"{path} cannot be read ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); "
                        "replace it with a good copy") from None
    return out
