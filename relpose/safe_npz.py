"""Read .npz data files without letting them run code.

The VideoPose3D layout stores nested dicts (subject -> action -> arrays) as pickled object arrays,
and `np.load(allow_pickle=True)` executes whatever a pickle names: a downloaded file whose
`metadata` carries a `__reduce__` payload runs it. Here each member of the archive is read by hand:
plain arrays through numpy with pickles disallowed, object arrays through an unpickler that can
build only dicts, lists, tuples, sets, strings, bytes, numbers, booleans, None and numpy arrays,
dtypes and scalars. Any other name a pickle asks for (a function, a class, a module) stops the
read with a message naming the file and the name; nothing is imported or called.
"""
from __future__ import annotations

import io
import pickle
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


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, where: str):
        super().__init__(file, encoding="latin1")   # latin1: reads Python 2 pickles' numpy buffers intact
        self.where = where

    def find_class(self, module, name):
        import builtins
        import collections

        from numpy._core import multiarray, numeric   # numpy 2's names; numpy 1.x files name numpy.core
        if (module, name) in _ALLOWED:
            home = {**dict.fromkeys(_NUMPY_CORE, multiarray), **dict.fromkeys(_NUMPY_NUMERIC, numeric),
                    "numpy": np, "collections": collections, "builtins": builtins, "__builtin__": builtins}[module]
            return getattr(home, name)
        if module == _DTYPE_MODULE and name.endswith("DType") and hasattr(np.dtypes, name):
            return getattr(np.dtypes, name)
        raise DataError(f"{self.where} asks to load '{module}.{name}', which a data file never needs: refused "
                        "before anything ran (a data file can carry code); get the file from a source you trust, "
                        "or re-create it in the VideoPose3D layout")

    def persistent_load(self, pid):
        raise DataError(f"{self.where} holds a persistent reference, which a data file never needs; re-create it")


def _check_tree(value, where: str, depth: int = 0):
    """What the unpickler built must be data all the way down (ndarrays of objects included)."""
    if depth > 64:
        raise DataError(f"{where} is nested more than 64 levels deep; re-create it in the VideoPose3D layout")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_tree(k, where, depth + 1)
            _check_tree(v, where, depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            _check_tree(v, where, depth + 1)
    elif isinstance(value, np.ndarray):
        if type(value) is not np.ndarray:
            raise DataError(f"{where} holds an array subclass {type(value).__name__}; re-create the file")
        if value.dtype.hasobject:
            for v in value.flat:
                _check_tree(v, where, depth + 1)
    elif not isinstance(value, (str, bytes, bytearray, int, float, complex, bool, type(None), np.generic, np.dtype)):
        raise DataError(f"{where} holds a {type(value).__name__}, which a data file never needs; re-create it")


def _read_member(data: bytes, where: str) -> np.ndarray:
    f = io.BytesIO(data)
    version = npy_format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = npy_format.read_array_header_1_0(f)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = npy_format.read_array_header_2_0(f)
    else:
        raise DataError(f"{where}: unknown .npy format version {version}; re-create the file")
    if not dtype.hasobject:
        return np.load(io.BytesIO(data), allow_pickle=False)
    value = _RestrictedUnpickler(f, where).load()
    if not isinstance(value, np.ndarray):
        raise DataError(f"{where} holds a pickled {type(value).__name__} where an array belongs; re-create the file")
    _check_tree(value, where)
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
            for member in archive.namelist():
                key = member[:-4] if member.endswith(".npy") else member
                if keys is not None and key not in keys:
                    continue
                out[key] = _read_member(archive.read(member), f"{path} (key '{key}')")
    except DataError:
        raise
    except (pickle.UnpicklingError, ValueError, EOFError, OSError, zipfile.BadZipFile, KeyError, TypeError,
            AttributeError, IndexError, RecursionError) as e:
        raise DataError(f"{path} cannot be read ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); "
                        "replace it with a good copy") from None
    return out
