"""Temporal smoothing (relpose.wild.smoothing) on signals whose answer is known: polynomials Savitzky-Golay
keeps exactly, constants and steps through the 1 euro filter, noisy samples of a smooth curve; and the
measurement's bookkeeping (relpose.lab.wild_smoothing) on made-up errors."""
import json

import numpy as np
import pytest

from relpose.errors import DataError, UserError
from relpose.lab.wild_smoothing import (COMMAND, NONE, Errors, Variant, acceleration_error, check_output,
                                        leave_one_clip_out, paired_interval, pooled)
from relpose.wild.smoothing import (OneEuroParams, one_euro, parse_smoothing, savgol_window, smooth_keypoints,
                                    smooth_poses)

FPS = 50.0


def polynomial(T, J, C, degree, seed=0):
    """(T, J, C) float64: per joint and axis a random polynomial of `degree` in time (seconds)."""
    t = np.arange(T) / FPS
    coeffs = np.random.default_rng(seed).normal(size=(degree + 1, J, C))
    return sum(c * t[:, None, None] ** k for k, c in enumerate(coeffs))


def one_euro_by_hand(x, fps, min_cutoff, beta, d_cutoff):
    """The paper's filter for one scalar signal, written out sample by sample."""
    def alpha(fc):
        return 1 / (1 + (1 / (2 * np.pi * fc)) / (1 / fps))
    out, dx_hat = [x[0]], 0.0
    for value in x[1:]:
        dx = (value - out[-1]) * fps
        dx_hat = alpha(d_cutoff) * dx + (1 - alpha(d_cutoff)) * dx_hat
        a = alpha(min_cutoff + beta * abs(dx_hat))
        out.append(a * value + (1 - a) * out[-1])
    return np.array(out)


# ----------------------------------------------------------------------------- Savitzky-Golay

@pytest.mark.parametrize("order,degree", [(2, 0), (2, 1), (2, 2), (3, 3)])
def test_savgol_returns_a_polynomial_of_degree_up_to_its_order_ends_included(order, degree):
    x = polynomial(80, 5, 3, degree)
    out = smooth_poses(x, FPS, "savgol", window_s=0.3, order=order)
    np.testing.assert_allclose(out, x, rtol=0, atol=1e-9)   # float64 least squares on values of size ~10


def test_savgol_does_change_a_polynomial_of_higher_degree():
    x = polynomial(80, 2, 2, 6)
    assert np.abs(smooth_keypoints(x, FPS, "savgol", window_s=0.5, order=2) - x).max() > 1e-3


@pytest.mark.parametrize("window_s,fps,order,frames,expected", [
    (0.2, 50, 2, 100, (11, 2)),    # 10 frames -> odd
    (0.3, 30, 2, 100, (9, 2)),     # 9 frames, odd already
    (0.01, 50, 2, 100, (5, 2)),    # at least order + 2, odd
    (1.0, 50, 3, 20, (19, 3)),     # clipped to the largest odd count in the sequence
    (1.0, 50, 3, 4, (3, 2)),       # shorter than order + 2: the order drops to fit
    (1.0, 50, 2, 2, (1, 0)),       # too short to fit anything
])
def test_savgol_window_in_frames(window_s, fps, order, frames, expected):
    assert savgol_window(window_s, fps, order, frames) == expected


@pytest.mark.parametrize("frames", [1, 2, 3, 4])
def test_savgol_on_sequences_shorter_than_its_window(frames):
    x = polynomial(frames, 3, 2, 1).astype(np.float32)
    out = smooth_keypoints(x, FPS, "savgol", window_s=0.5, order=3)
    assert out.shape == x.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, x, rtol=0, atol=1e-5)    # a line survives any of these fits


# ----------------------------------------------------------------------------- One Euro

@pytest.mark.parametrize("zero_phase", [False, True])
@pytest.mark.parametrize("beta", [0.0, 5.0])
def test_one_euro_keeps_a_constant(zero_phase, beta):
    x = np.broadcast_to(np.array([0.3, -0.7, 1.1]), (60, 4, 3)).copy()
    out = smooth_poses(x, FPS, "one-euro", min_cutoff=1.0, beta=beta, zero_phase=zero_phase)
    np.testing.assert_allclose(out, x, rtol=0, atol=1e-12)


def test_one_euro_step_response_converges_without_overshoot_and_lags():
    x = np.zeros((200, 1, 2))
    x[20:] = 1.0
    out = smooth_keypoints(x, FPS, "one-euro", min_cutoff=1.0, beta=0.0, zero_phase=False)
    assert np.all(np.diff(out[:, 0, 0]) >= 0) and out.max() <= 1.0          # a first-order low-pass: monotone
    assert abs(out[-1, 0, 0] - 1.0) < 1e-3                                 # 3.6 s later (time constant 0.16 s)
    assert out[19, 0, 0] == 0 and out[21, 0, 0] < 0.5                     # causal: nothing before, lag after
    # time constant 1 / (2 pi) s: after one of them (8 frames at 50 fps) about 1 - 1/e of the step
    assert 0.5 < out[20 + 8, 0, 0] < 0.75


def test_one_euro_zero_phase_removes_the_lag():
    t = np.arange(200) / FPS
    x = np.sin(2 * np.pi * 0.5 * t)[:, None, None] * np.ones((1, 1, 2))
    causal = smooth_keypoints(x, FPS, "one-euro", min_cutoff=1.0, beta=0.0, zero_phase=False)
    zero = smooth_keypoints(x, FPS, "one-euro", min_cutoff=1.0, beta=0.0, zero_phase=True)
    lag = lambda y: int(np.argmax(y[50:150, 0, 0])) - int(np.argmax(x[50:150, 0, 0]))   # noqa: E731
    assert lag(causal) >= 4 and abs(lag(zero)) <= 1      # ~0.1 s of lag at 0.5 Hz, gone both ways


def test_one_euro_follows_fast_motion_closer_with_a_larger_beta():
    x = (np.arange(100) / FPS * 2.0)[:, None, None] * np.ones((1, 2, 3))   # 2 units/s along every axis
    slow = smooth_poses(x, FPS, "one-euro", min_cutoff=0.5, beta=0.0, zero_phase=False)
    fast = smooth_poses(x, FPS, "one-euro", min_cutoff=0.5, beta=5.0, zero_phase=False)
    assert np.abs(fast - x)[-1].max() < 0.25 * np.abs(slow - x)[-1].min()


def test_one_euro_is_the_papers_filter_joint_by_joint():
    x = np.random.default_rng(1).normal(size=(50, 3, 1)).cumsum(0)
    params = OneEuroParams(min_cutoff=1.5, beta=0.7, d_cutoff=1.2, zero_phase=False)
    out = one_euro(x, 30.0, params)
    for j in range(3):
        np.testing.assert_allclose(out[:, j, 0], one_euro_by_hand(x[:, j, 0], 30.0, 1.5, 0.7, 1.2), rtol=1e-12)


def test_one_euro_cutoff_uses_the_speed_of_the_whole_joint():
    """x moving fast and y still: y of that joint is filtered with the joint's (high) cutoff."""
    x = np.zeros((40, 1, 2))
    x[:, 0, 0] = np.arange(40) / FPS * 3.0              # 3 units/s
    x[20:, 0, 1] = 0.05                                 # a small step on the still axis (little speed of its own)
    causal = dict(min_cutoff=0.5, beta=5.0, zero_phase=False)
    together = smooth_keypoints(x, FPS, "one-euro", **causal)
    alone = smooth_keypoints(x[:, :, 1:].repeat(2, -1), FPS, "one-euro", **causal)
    # Joint cutoff about 0.5 + 5 * 2.7 = 14 Hz (alpha 0.64) against about 0.5 + 5 * 0.3 = 2 Hz (alpha 0.2) alone.
    assert together[20, 0, 1] / 0.05 > 0.55 and alone[20, 0, 1] / 0.05 < 0.3


# ----------------------------------------------------------------------------- both filters

SMOOTHERS = [("savgol", dict(window_s=0.2, order=2)), ("one-euro", dict(min_cutoff=1.0, beta=0.5, zero_phase=True)),
             ("one-euro", dict(min_cutoff=2.0, beta=0.5, zero_phase=False)), ("one-euro", {})]


@pytest.mark.parametrize("method,params", SMOOTHERS)
@pytest.mark.parametrize("smooth,coords", [(smooth_keypoints, 2), (smooth_poses, 3)])
def test_smoothing_lowers_the_error_of_noisy_samples_of_a_smooth_curve(method, params, smooth, coords):
    t = np.arange(250) / FPS
    phases = np.random.default_rng(2).uniform(0, 2 * np.pi, (1, 6, coords))
    # A body-scale swing (0.1 m or a tenth of the half-width, 0.16 units/s at most) with large noise.
    truth = 0.1 * np.sin(2 * np.pi * 0.25 * t[:, None, None] + phases)
    noisy = truth + np.random.default_rng(3).normal(scale=0.03, size=truth.shape)
    before = np.sqrt(((noisy - truth) ** 2).mean())
    after = np.sqrt(((smooth(noisy, FPS, method, **params) - truth) ** 2).mean())
    assert after < 0.6 * before


@pytest.mark.parametrize("method,params", [("none", {})] + SMOOTHERS)
@pytest.mark.parametrize("dtype,out_dtype", [(np.float32, np.float32), (np.float64, np.float64),
                                             (np.int64, np.float64)])
def test_shapes_and_dtypes_are_kept(method, params, dtype, out_dtype):
    keypoints = (np.random.default_rng(0).uniform(0, 500, (30, 17, 2))).astype(dtype)
    poses = np.random.default_rng(0).normal(size=(30, 17, 3)).astype(dtype)
    for smooth, x in ((smooth_keypoints, keypoints), (smooth_poses, poses)):
        out = smooth(x, 25.0, method, **params)
        assert out.shape == x.shape and out is not x
        if method == "none":   # unchanged, a copy
            assert out.dtype == x.dtype
            np.testing.assert_array_equal(out, x)
        else:                  # a smoothed integer pixel is not a whole one
            assert out.dtype == out_dtype


@pytest.mark.parametrize("frames", [0, 1])
@pytest.mark.parametrize("method,params", SMOOTHERS)
def test_sequences_of_no_or_one_frame_come_back_as_they_are(frames, method, params):
    x = np.arange(frames * 17 * 2, dtype=np.float32).reshape(frames, 17, 2)
    out = smooth_keypoints(x, FPS, method, **params)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, x)


def test_the_input_is_left_as_it_was():
    x = np.random.default_rng(0).normal(size=(30, 4, 3))
    kept = x.copy()
    for method, params in SMOOTHERS:
        smooth_poses(x, FPS, method, **params)
    np.testing.assert_array_equal(x, kept)


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("method,params,named", [
    ("gauss", {}, "method 'gauss'"),
    ("none", dict(window_s=0.2), "'none' takes no parameters"),
    ("savgol", dict(window=0.2), "'window' is not one of savgol's"),
    ("savgol", dict(window_s=0), "window_s=0"),
    ("savgol", dict(window_s=float("nan")), "window_s=nan"),
    ("savgol", dict(window_s="0.2"), "window_s='0.2'"),
    ("savgol", dict(order=-1), "order=-1"),
    ("savgol", dict(order=2.5), "order=2.5"),
    ("savgol", dict(order=True), "order=True"),
    ("one-euro", dict(min_cutoff=0), "min_cutoff=0"),
    ("one-euro", dict(beta=-1), "beta=-1"),
    ("one-euro", dict(d_cutoff=float("inf")), "d_cutoff=inf"),
    ("one-euro", dict(zero_phase="yes"), "zero_phase='yes'"),
    ("one-euro", dict(window_s=0.2), "'window_s' is not one of one-euro's"),
])
def test_bad_parameters_are_one_line_naming_them(method, params, named):
    with pytest.raises(UserError, match=None) as e:
        smooth_keypoints(np.zeros((10, 17, 2)), FPS, method, **params)
    assert named in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("fps", [0, -25, None, float("nan"), "30"])
def test_a_bad_frame_rate_is_named(fps):
    with pytest.raises(UserError, match=r"^smoothing parameter fps="):
        smooth_poses(np.zeros((10, 17, 3)), fps, "savgol")


def test_bad_arrays_are_named():
    with pytest.raises(UserError, match=r"keypoints: expected shape \(T, J, 2\), got \(10, 17, 3\)"):
        smooth_keypoints(np.zeros((10, 17, 3)), FPS, "savgol")
    with pytest.raises(UserError, match=r"poses: expected shape \(T, J, 3\), got \(10, 17\)"):
        smooth_poses(np.zeros((10, 17)), FPS, "savgol")
    x = np.zeros((10, 17, 2))
    x[7, 3, 1] = np.nan
    with pytest.raises(DataError, match="keypoints: frame 7 holds NaN or inf; fill the gaps first"):
        smooth_keypoints(x, FPS, "one-euro")


# ----------------------------------------------------------------------------- a flag's text

@pytest.mark.parametrize("text,expected", [
    ("none", ("none", {})),
    ("savgol", ("savgol", {})),
    ("savgol:window_s=0.3,order=3", ("savgol", dict(window_s=0.3, order=3))),
    ("one-euro: min_cutoff=1.5, beta=0.5, zero_phase=1", ("one-euro", dict(min_cutoff=1.5, beta=0.5, zero_phase=True))),
    ("one-euro:zero_phase=false", ("one-euro", dict(zero_phase=False))),
])
def test_parse_smoothing(text, expected):
    assert parse_smoothing(text) == expected


@pytest.mark.parametrize("text,named", [
    ("median", "--smooth: smoothing method 'median'"),
    ("savgol:0.3", "--smooth 'savgol:0.3': write parameters as name=value"),
    ("savgol:order=two", "--smooth: smoothing parameter order='two': give an integer"),
    ("savgol:window_s=-1", "--smooth: smoothing parameter window_s=-1.0"),
    ("one-euro:zero_phase=maybe", "zero_phase='maybe': give 1 or 0 (true or false)"),
])
def test_parse_smoothing_errors_name_the_flag(text, named):
    with pytest.raises(UserError) as e:
        parse_smoothing(text)
    assert named in str(e.value)


# ----------------------------------------------------------------------------- the measurement's bookkeeping

def test_acceleration_error_of_known_curves():
    t = np.arange(20, dtype=float)
    target = np.zeros((20, 2, 3))
    pred = target.copy()
    pred[..., 0] = 0.5 * 3.0 * t[:, None] ** 2        # second difference 3 per frame^2 on every joint
    assert acceleration_error(pred, target) == pytest.approx(3.0, abs=1e-9)
    pred[..., 0] += 7 * t[:, None] + 2                  # a line and an offset have no acceleration
    assert acceleration_error(pred, target) == pytest.approx(3.0, abs=1e-9)


def test_pooled_errors_are_frame_weighted():
    p = pooled([Errors(10, 1.0, 2.0, 3.0, 4.0), Errors(30, 5.0, 6.0, 7.0, 8.0)])
    assert (p.frames, p.mpjpe_mm, p.mpjve_mm, p.accel_mm, p.keypoints_px) == (40, 4.0, 5.0, 6.0, 7.0)


def test_leave_one_clip_out_never_chooses_on_the_held_out_clip():
    a, b = Variant("savgol", "2d", (("window_s", 0.1),)), Variant("savgol", "2d", (("window_s", 0.5),))
    e = lambda m: Errors(100, m, 0.0, 0.0, 0.0)   # noqa: E731
    # a is better on c1 and c2; b is far better on c3 only
    results = {NONE: {c: e(10.0) for c in ("c1", "c2", "c3")},
               a: dict(c1=e(5.0), c2=e(5.0), c3=e(9.0)), b: dict(c1=e(6.0), c2=e(6.0), c3=e(1.0))}
    chosen = {c: v for c, (v, _) in leave_one_clip_out(results, ("savgol", "2d")).items()}
    assert chosen == dict(c1=b, c2=b, c3=a)        # c3 held out: a wins on c1 + c2


def test_paired_interval_brackets_a_consistent_difference_and_straddles_a_coin_flip():
    lo, hi = paired_interval([-1.0, -1.2, -0.8, -1.1], [10, 10, 10, 10])
    assert -1.2 <= lo <= hi <= -0.8
    lo, hi = paired_interval([-1.0, 1.0, -1.0, 1.0, -1.0, 1.0], [1] * 6)
    assert lo < 0 < hi


def test_the_results_file_is_replaced_only_when_this_command_wrote_it(tmp_path):
    ours, theirs = tmp_path / "ours.json", tmp_path / "theirs.json"
    ours.write_text(json.dumps(dict(setup=dict(command=COMMAND))))
    theirs.write_text(json.dumps(dict(notes="mine")))
    assert check_output(ours) == str(ours) and check_output(tmp_path / "new.json")
    with pytest.raises(UserError, match="exists and was not written by"):
        check_output(theirs)
    with pytest.raises(UserError, match="is a folder"):
        check_output(tmp_path)
