"""Optional temporal smoothing of a video's 2D keypoints (before lifting) or of its 3D poses (after).

Two filters, along the time axis of a (T, J, C) sequence at a known frame rate:

- "savgol": Savitzky-Golay (scipy.signal.savgol_filter): a least-squares polynomial of degree `order`
  fitted to a window of `window_s` seconds around each frame. It keeps any polynomial motion of degree
  <= order exactly and is zero-phase (no lag). The window in frames is round(window_s * fps), made odd,
  at least order + 2 and at most the sequence (then the largest odd count that fits; the order drops
  to fit windows shorter than order + 2). The ends use scipy's mode 'interp': the polynomial fitted to
  the first / last full window, so the ends are not pulled towards a padding value.
- "one-euro": the 1 euro filter of Casiez, Roussel and Vogel (CHI 2012): a first-order low-pass whose
  cutoff rises with speed, fc = min_cutoff + beta * |speed| (Hz; speed from the filtered derivative,
  itself low-passed at d_cutoff). Still joints are smoothed hard, fast ones follow with little lag.
  As the paper defines it the filter is causal and lags: a first-order low-pass delays slow motion by
  about 1 / (2 pi fc) s (160 ms at fc = 1 Hz). `zero_phase=True` runs it forwards and then backwards
  over the result, which cancels the lag (the whole sequence is known when a video is lifted).
  The cutoff is per joint, from the length of its velocity vector, so the axes of a joint are filtered
  alike. `beta` is in 1 / (unit of the input): give keypoints normalised as the model reads them
  (relpose.cameras.normalize_screen_coordinates: the image width spans 2) and poses in metres.

Whether it helps is measured, not assumed (relpose.lab.wild_smoothing, on the DeepMimic clips with
detector noise): neither filter, on 2D or 3D, lowered the MPJPE beyond what the choice of clips moves it,
so the kit does not smooth unless asked ('none'). The filters do lower the velocity and acceleration errors.

Frames the detector missed and that were interpolated (relpose.wild.detections.fill_gaps) are smoothed
like every other frame. Numpy and scipy only, as the rest of relpose.wild.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from ..errors import DataError, UserError

METHODS = ("none", "savgol", "one-euro")


@dataclass(frozen=True)
class SavgolParams:
    window_s: float = 0.2     # window length in seconds
    order: int = 2            # degree of the fitted polynomial


@dataclass(frozen=True)
class OneEuroParams:
    """Defaults: the grid point of relpose.lab.wild_smoothing that brought the mocap clips' detections
    closest to the truth (5.1 -> 4.0 px). The paper's starting point (min_cutoff 1, beta 0, causal) lags
    so much on body motion at 50 fps that it added 16 mm to the MPJPE there."""
    min_cutoff: float = 4.0   # Hz: the cutoff of a still joint
    beta: float = 5.0         # Hz per (unit/s): how fast the cutoff rises with speed
    d_cutoff: float = 1.0     # Hz: the low-pass of the speed estimate (the paper keeps it at 1 Hz)
    zero_phase: bool = True   # forwards then backwards: no lag (False: the paper's causal filter)


PARAMS = {"none": None, "savgol": SavgolParams, "one-euro": OneEuroParams}


# ----------------------------------------------------------------------------- checks

def _number(name: str, value, *, low: float, inclusive: bool, hint: str) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)) \
        and math.isfinite(value) and (value >= low if inclusive else value > low)
    if not ok:
        raise UserError(f"smoothing parameter {name}={value!r}: give {hint}")
    return float(value)


def check_params(method: str, **params):
    """The parameters of `method` as its dataclass (defaults for those not given), checked; None for 'none'.
    A bad method, an unknown parameter or a bad value is a UserError naming it."""
    if method not in METHODS:
        raise UserError(f"smoothing method {method!r}: choose one of {', '.join(METHODS)}")
    kind = PARAMS[method]
    if kind is None:
        if params:
            raise UserError(f"smoothing method 'none' takes no parameters, got {', '.join(params)}")
        return None
    known = [f.name for f in fields(kind)]
    for name in params:
        if name not in known:
            raise UserError(f"smoothing parameter {name!r} is not one of {method}'s: {', '.join(known)}")
    p = kind(**params)
    if isinstance(p, SavgolParams):
        _number("window_s", p.window_s, low=0, inclusive=False, hint="a window length in seconds > 0, e.g. 0.2")
        if not isinstance(p.order, (int, np.integer)) or isinstance(p.order, (bool, np.bool_)) or p.order < 0:
            raise UserError(f"smoothing parameter order={p.order!r}: give a polynomial degree, an integer >= 0")
        return SavgolParams(float(p.window_s), int(p.order))
    _number("min_cutoff", p.min_cutoff, low=0, inclusive=False, hint="a cutoff frequency in Hz > 0, e.g. 1.0")
    _number("beta", p.beta, low=0, inclusive=True, hint="a speed coefficient >= 0, e.g. 0.5")
    _number("d_cutoff", p.d_cutoff, low=0, inclusive=False, hint="a cutoff frequency in Hz > 0, e.g. 1.0")
    if not isinstance(p.zero_phase, (bool, np.bool_)):
        raise UserError(f"smoothing parameter zero_phase={p.zero_phase!r}: give True or False")
    return OneEuroParams(float(p.min_cutoff), float(p.beta), float(p.d_cutoff), bool(p.zero_phase))


def _check_sequence(a, coords: int, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 3 or a.shape[-1] != coords:
        raise UserError(f"{name}: expected shape (T, J, {coords}), got {a.shape}")
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise UserError(f"{name}: expected numbers, got dtype {a.dtype}")
    if a.size and not np.isfinite(a).all():
        t = int(np.nonzero(~np.isfinite(a).reshape(len(a), -1).all(1))[0][0])
        raise DataError(f"{name}: frame {t} holds NaN or inf; fill the gaps first (relpose.wild.detections.fill_gaps)")
    return a


def _check_fps(fps) -> float:
    return _number("fps", fps, low=0, inclusive=False,
                   hint="the sequence's frame rate in frames per second > 0 (e.g. the video's, 25 or 30)")


# ----------------------------------------------------------------------------- filters

def savgol_window(window_s: float, fps: float, order: int, num_frames: int) -> tuple[int, int]:
    """(window in frames, polynomial order) used on a sequence of `num_frames` frames (see the module doc)."""
    window = max(int(round(window_s * fps)), order + 2)
    window += 1 - window % 2                      # odd: centred on its frame
    if window > num_frames:
        window = num_frames - 1 + num_frames % 2  # the largest odd count that fits
    return window, min(order, window - 1)


def savgol(x: np.ndarray, fps: float, p: SavgolParams) -> np.ndarray:
    """Savitzky-Golay along axis 0 of x (T, ...), float64."""
    from scipy.signal import savgol_filter
    window, order = savgol_window(p.window_s, fps, p.order, len(x))
    if window < 2:                                # one frame (or none): nothing to fit
        return np.array(x, dtype=np.float64)
    return savgol_filter(np.asarray(x, dtype=np.float64), window, order, axis=0, mode="interp")


def _alpha(cutoff, dt: float):
    """Smoothing factor of a first-order low-pass with `cutoff` (Hz) sampled every dt s: 1 / (1 + tau / dt)."""
    tau = 1.0 / (2 * np.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


def _one_euro_pass(x: np.ndarray, dt: float, p: OneEuroParams) -> np.ndarray:
    """One causal pass of the 1 euro filter over x (T, J, C), every joint at once (float64)."""
    out = np.empty_like(x)
    out[0] = x[0]
    speed = np.zeros_like(x[0])                   # the filtered derivative, units / s
    alpha_d = _alpha(p.d_cutoff, dt)
    for t in range(1, len(x)):
        raw_speed = (x[t] - out[t - 1]) / dt
        speed = alpha_d * raw_speed + (1 - alpha_d) * speed
        cutoff = p.min_cutoff + p.beta * np.linalg.norm(speed, axis=-1, keepdims=True)
        a = _alpha(cutoff, dt)
        out[t] = a * x[t] + (1 - a) * out[t - 1]
    return out


def one_euro(x: np.ndarray, fps: float, p: OneEuroParams) -> np.ndarray:
    """The 1 euro filter along axis 0 of x (T, J, C), float64; forwards then backwards if p.zero_phase."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) < 2:
        return x.copy()
    out = _one_euro_pass(x, 1.0 / fps, p)
    if p.zero_phase:
        out = _one_euro_pass(out[::-1], 1.0 / fps, p)[::-1].copy()
    return out


def _smooth(a, coords: int, name: str, fps, method: str, params: dict) -> np.ndarray:
    p = check_params(method, **params)
    a = _check_sequence(a, coords, name)
    fps = _check_fps(fps)
    if p is None:
        return a.copy()
    out = savgol(a, fps, p) if isinstance(p, SavgolParams) else one_euro(a, fps, p)
    # Floating inputs keep their dtype; integer pixels become float64 (a smoothed pixel is not a whole one).
    return out.astype(a.dtype if np.issubdtype(a.dtype, np.floating) else np.float64)


def smooth_keypoints(keypoints, fps: float, method: str = "none", **params) -> np.ndarray:
    """(T, J, 2) keypoints at `fps` frames/s smoothed in time by `method` ('none', 'savgol', 'one-euro');
    `params` are those of SavgolParams / OneEuroParams. Same shape; a floating dtype is kept."""
    return _smooth(keypoints, 2, "keypoints", fps, method, params)


def smooth_poses(poses, fps: float, method: str = "none", **params) -> np.ndarray:
    """(T, J, 3) poses at `fps` frames/s smoothed in time by `method` ('none', 'savgol', 'one-euro');
    `params` are those of SavgolParams / OneEuroParams. Same shape; a floating dtype is kept."""
    return _smooth(poses, 3, "poses", fps, method, params)


# ----------------------------------------------------------------------------- from a flag's text

def parse_smoothing(text: str, flag: str = "--smooth") -> tuple[str, dict]:
    """'none', 'savgol', 'savgol:window_s=0.3,order=3' or 'one-euro:min_cutoff=1,beta=0.5,zero_phase=1'
    -> (method, params), checked; a UserError naming `flag` otherwise."""
    method, _, rest = str(text).strip().partition(":")
    params = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise UserError(f"{flag} {text!r}: write parameters as name=value, e.g. savgol:window_s=0.2,order=2")
        params[name.strip()] = value.strip()
    kind = PARAMS.get(method.strip())
    types = {f.name: f.type for f in fields(kind)} if kind else {}
    for name, value in params.items():
        try:
            if types.get(name) == "bool":
                if value.lower() not in ("0", "1", "true", "false", "yes", "no"):
                    raise ValueError
                params[name] = value.lower() in ("1", "true", "yes")
            elif types.get(name) == "int":
                params[name] = int(value)
            else:
                params[name] = float(value)
        except ValueError:
            wanted = {"int": "an integer", "bool": "1 or 0 (true or false)"}.get(types.get(name), "a number")
            raise UserError(f"{flag}: smoothing parameter {name}={value!r}: give {wanted}") from None
    try:
        check_params(method.strip(), **params)
    except UserError as e:
        raise UserError(f"{flag}: {e}") from None
    return method.strip(), params
