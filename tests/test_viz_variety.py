"""The figures of the synthetic data's variety (relpose.viz.variety): the library's poses on a child and an adult at
one scale, and one pose of the broad set as its four cameras see it, with the cameras' numbers in the titles."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from relpose.cameras import camera_from_record  # noqa: E402
from relpose.skeleton import H36M_KEPT_JOINTS  # noqa: E402
from relpose.synth import wild_set  # noqa: E402
from relpose.synth.generator import project  # noqa: E402
from relpose.synth.library import library_take, random_body  # noqa: E402
from relpose.synth.wild_cameras import draw_camera  # noqa: E402
from relpose.viz import legibility, variety  # noqa: E402
from relpose.viz.static import DPI  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def panels(fig):
    """The Axes that draw data with axes of their own (not the zoom insets, which are pictures)."""
    return [ax for ax in fig.axes if ax.get_visible() and ax.axison]


def segments(ax):
    return [line.get_xydata() for line in ax.lines if len(line.get_xydata()) == 2]


@pytest.fixture(scope="module")
def take():
    return library_take(np.random.default_rng(3), random_body(np.random.default_rng(4), 1.7), "squat", 300)


# ----------------------------------------------------------------------------------------------- poses

def test_side_view_keeps_heights_and_ignores_where_the_body_stands_and_faces(take):
    pose = take[120].astype(np.float64)
    view = variety.side_view(pose)
    assert view.shape == (32, 2)
    assert np.allclose(view[:, 1], pose[:, 2])                                  # heights as they are
    assert view[variety.ROOT, 0] == pytest.approx(0.0)                          # from the root
    a = np.radians(70)
    turn = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    moved = pose @ turn.T + np.array([3.0, -2.0, 0.0])
    assert np.allclose(variety.side_view(moved), view, atol=1e-9)
    # horizontal distances from the root are never longer than in the world
    assert (np.abs(view[:, 0]) <= np.linalg.norm(pose[:, :2] - pose[0, :2], axis=1) + 1e-9).all()


def test_side_view_shows_an_upright_body_facing_forward(take):
    standing = take[np.argmax(take[:, variety.HEAD, 2])].astype(np.float64)
    view = variety.side_view(standing)
    toe_tips, ankles = view[[5, 10], 0], view[[3, 8], 0]    # 32-joint indices: the feet point forward
    assert (toe_tips > ankles).all()


def test_moments_are_distinct_in_time_order_and_include_the_most_unusual_pose(take):
    frames = variety.pick_moments(take, 3)
    assert len(frames) == 3 and frames == sorted(set(frames))
    assert all(f % variety.SAMPLE_STEP == 0 for f in frames)
    heads = take[::variety.SAMPLE_STEP, variety.HEAD, 2]
    # a squat take: one moment low (the squat), one high (standing)
    assert min(take[frames, variety.HEAD, 2]) < heads.min() + 0.15
    assert max(take[frames, variety.HEAD, 2]) > heads.max() - 0.15


def test_strips_lay_moments_out_left_to_right_on_the_floor_and_bodies_to_scale():
    strips = variety.library_strips(["squat", "squat"], {"adult": 1.8, "child": 1.1}, moments=3)
    assert [(s["body"], s["height"]) for s in strips] == [("adult", 1.8), ("child", 1.1)]
    for s in strips:
        views = s["views"]
        assert len(views) == 3 and all(v.shape == (17, 2) for v in views)
        assert s["times"] == sorted(s["times"])
        for a, b in zip(views, views[1:]):
            assert b[:, 0].min() - a[:, 0].max() == pytest.approx(variety.GAP_M)
        assert all(-0.02 < v[:, 1].min() < 0.15 for v in views)       # joint centres just above the floor
    adult, child = (max(v[:, 1].max() for v in s["views"]) for s in strips)
    assert child / adult == pytest.approx(1.1 / 1.8, rel=0.08)         # the same motion, drawn to scale


def test_poses_figure_has_a_panel_per_motion_at_one_scale_with_units():
    motions = ["crawl", "kneel", "handstand"]
    fig = variety.poses_figure(motions, columns=2)
    shown = panels(fig)
    assert len(shown) == 3 and len(fig.axes) == 4                      # the fourth cell of the grid is hidden
    titles = [ax.get_title() for ax in shown]
    assert titles == ["crawling: adult, 1.80 m", "kneeling: child, 1.15 m", "handstand: adult, 1.80 m"]
    spans = {(round(np.ptp(ax.get_xlim()), 6), ax.get_ylim()) for ax in shown}
    assert len(spans) == 1                                              # the same scale everywhere
    assert shown[0].get_ylim()[0] < 0 < shown[0].get_ylim()[1]         # the floor in view
    assert all(ax.get_ylabel() == "height (m)" for ax in shown[::2])
    assert all(ax.get_xlabel() == "along the view (m)" for ax in shown[1:])   # the bottom of each column
    assert all(len(segments(ax)) == 3 * 16 + 1 for ax in shown)        # three moments of 16 bones, the floor line
    assert not legibility.problems(legibility.measure(fig, DPI))


def test_default_poses_figure_is_legible_and_deterministic():
    a, b = variety.poses_figure(), variety.poses_figure()
    assert len(panels(a)) == len(variety.MOTIONS) == 10
    assert {t.split(": ")[1] for t in (ax.get_title() for ax in panels(a))} == {"adult, 1.80 m", "child, 1.15 m"}
    assert all(np.array_equal(p, q) for x, y in zip(panels(a), panels(b)) for p, q in zip(segments(x), segments(y)))
    assert not legibility.problems(legibility.measure(a, DPI))


def test_unknown_motions_are_refused():
    with pytest.raises(ValueError, match="motions of the library"):
        variety.library_strips(["moonwalk"])


# --------------------------------------------------------------------------------------------- cameras

def test_camera_facts_are_the_drawn_camera_s():
    rng = np.random.default_rng(5)
    target = (0.4, -0.3, 0.9)
    for k in range(6):
        wc = draw_camera(rng, target)
        pose = np.zeros((17, 3))
        pose[:, :2] = target[:2]
        facts = variety.camera_facts(wc.camera(f"c{k}"), pose)
        assert facts["kind"] == wc.kind and (facts["res_w"], facts["res_h"]) == (wc.res_w, wc.res_h)
        assert facts["height_m"] == pytest.approx(wc.height, abs=1e-5)
        assert facts["distance_m"] == pytest.approx(wc.distance, abs=1e-5)
        assert facts["hfov_deg"] == pytest.approx(wc.horizontal_fov(), abs=1e-3)


@pytest.fixture(scope="module")
def view():
    return variety.broad_set_view("W07", "kneel")


def test_broad_set_view_is_the_set_s_subject_and_cameras(view):
    pose, cams = view
    si = wild_set.SUBJECTS.index("W07")
    takes, records = wild_set.subject_takes(0, si, wild_set.take_lengths(0, si, "default", None))
    assert pose.shape == (32, 3)
    assert any(np.allclose(pose, p) for p in takes["kneel"])
    heads = takes["kneel"][:, variety.HEAD, 2]
    assert pose[variety.HEAD, 2] < heads.min() + 0.05 < heads.max() - 0.3        # kneeling, not standing
    assert [c["id"] for c in cams] == [r["id"] for r in records]
    assert cams[0]["kind"] == "Human3.6M" and len(cams) == 1 + wild_set.WILD_CAMERAS
    with pytest.raises(ValueError, match="subject one of"):
        variety.broad_set_view("S9")


def test_camera_views_figure_titles_each_image_with_its_camera_and_draws_the_pose_inside(view):
    pose, cams = view
    fig = variety.camera_views_figure(pose, cams, title="W07 kneeling")
    shown = panels(fig)
    assert len(shown) == len(cams) + 1                                   # an image per camera and the top view
    pose17 = pose[list(H36M_KEPT_JOINTS)]
    orientations = set()
    for k, (ax, cam) in enumerate(zip(shown, cams), 1):
        facts = variety.camera_facts(cam, pose17)
        title = ax.get_title()
        assert title == variety.camera_title(k, facts)
        assert title.startswith(f"{k}. {facts['kind']}, {cam['res_w']} x {cam['res_h']} px")
        for number in (f"{facts['height_m']:.1f} m up", f"{facts['distance_m']:.1f} m away",
                       f"{facts['hfov_deg']:.0f}° across"):
            assert number in title
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("x (px)", "y (px)")
        assert ax.get_ylim()[0] > ax.get_ylim()[1]                      # image y points down
        image = next(p for p in ax.patches if isinstance(p, Rectangle) and p.get_fill())
        assert (image.get_width(), image.get_height()) == (cam["res_w"], cam["res_h"])
        orientations.add(cam["res_h"] > cam["res_w"])
        px = project(pose17, cam)
        drawn = np.concatenate(segments(ax))
        assert np.isin(drawn.round(3), px.round(3)).all()               # the projected keypoints, in pixels
        assert (drawn >= 0).all() and (drawn <= [cam["res_w"], cam["res_h"]]).all()
    assert orientations == {True, False}                                 # W07 has portrait and landscape images
    top = shown[-1]
    assert (top.get_xlabel(), top.get_ylabel()) == ("x (m)", "y (m)")
    marks = np.array([line.get_xydata()[0] for line in top.lines if line.get_marker() == "s"])
    assert np.allclose(marks, [np.asarray(c["translation"])[:2] for c in cams], atol=1e-5)
    assert fig._suptitle.get_text() == "W07 kneeling"
    assert not legibility.problems(legibility.measure(fig, DPI))


def test_camera_views_figure_takes_any_cameras_and_refuses_a_wrong_pose():
    rng = np.random.default_rng(8)
    pose = library_take(rng, random_body(rng, 1.2), "crawl", 50, centre=(0.0, 0.0))[25]
    cams = [camera_from_record(draw_camera(rng, (0.0, 0.0, 0.4)).record(f"c{k}")) for k in range(3)]
    fig = variety.camera_views_figure(pose, cams)
    assert len(panels(fig)) == 4
    with pytest.raises(ValueError, match="pose"):
        variety.camera_views_figure(pose[:, :2], cams)
