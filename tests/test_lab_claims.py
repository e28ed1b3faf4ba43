"""The claims study (relpose.lab.claims) and its statistics (relpose.lab.intervals): the tests, the family's
correction and the power analysis against known values, the verdicts on hand-made results, and one tiny
study end to end (resume, refusal to replace another recipe's file, the command line)."""
import copy
import json
import math
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch
from scipy import stats

from relpose.cli import claims as cli
from relpose.datasets import load_dataset
from relpose.errors import UserError
from relpose.lab import claims as cl
from relpose.lab.intervals import detectable_effect, holm, paired_t_power, paired_t_test, seeds_needed
from relpose.lab.settings import Settings

ENCODINGS = ("raw", "raw+pos", "raw+temp", "raw+pos+temp")


# ----------------------------------------------------------------------------- statistics

def test_paired_t_test_by_hand_and_against_scipy():
    # differences 1..5: mean 3, s = sqrt(2.5), se = sqrt(0.5); t = 3 / sqrt(0.5) = 4.2426 with 4 dof;
    # two-sided p = 0.01324 (t tables: between 0.01 (t = 4.604) and 0.02 (t = 3.747)).
    mean, half, p = paired_t_test([11, 12, 13, 14, 15], [10, 10, 10, 10, 10])
    assert mean == 3 and half == pytest.approx(2.776445 * math.sqrt(0.5), rel=1e-6)
    assert p == pytest.approx(0.013236, abs=2e-6)
    assert p == pytest.approx(stats.ttest_rel([11, 12, 13, 14, 15], [10] * 5).pvalue, rel=1e-12)
    assert all(math.isnan(v) for v in paired_t_test([1.0], [2.0])[1:])
    # Identical differences: an infinite t (p = 0), or no difference at all (p = 1); SciPy gives NaN for both.
    assert paired_t_test([2, 3, 4], [1, 2, 3])[2] == 0.0 and paired_t_test([1, 2], [1, 2])[2] == 1.0


def test_holm_on_the_textbook_example():
    # Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> the last raised to 0.06.
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.6]) == [1.0, 1.0]                      # capped at 1
    out = holm([math.nan, 0.01, 0.02])                         # NaN stays NaN and is not counted: m = 2
    assert math.isnan(out[0]) and out[1:] == pytest.approx([0.02, 0.02])
    p = np.random.default_rng(0).random(20) ** 3
    adjusted = np.array(holm(p))
    assert np.all(np.diff(adjusted[np.argsort(p)]) >= 0) and np.all(adjusted >= p) and adjusted.max() <= 1
    with pytest.raises(UserError, match="p-values must lie in"):
        holm([0.5, 1.5])


def test_seeds_needed_and_detectable_effect():
    # A one-sd effect (sd 2 mm, effect 2 mm) needs 10 pairs for 80% power at 0.05 (power 0.803; 9 give 0.748).
    assert seeds_needed(2.0, 2.0) == 10
    assert paired_t_power(9, 2.0, 2.0) < 0.8 <= paired_t_power(10, 2.0, 2.0)
    assert paired_t_power(10, 2.0, 2.0) == pytest.approx(0.8031, abs=1e-4)
    # Independently, the normal approximation n = ((z(1 - a/2) + z(power)) sd / effect)^2 (7.85 here) is a
    # little below the t's answer, and Guenther's correction for the t (+ z(1 - a/2)^2 / 2) meets it.
    for sd, effect, m in [(2.0, 2.0, 1), (3.0, 2.0, 1), (2.0, 2.0, 8), (1.0, 0.5, 3), (5.0, 2.0, 6)]:
        z_a = stats.norm.ppf(1 - 0.05 / m / 2)
        normal = ((z_a + stats.norm.ppf(0.8)) * sd / effect) ** 2
        n = seeds_needed(sd, effect, m=m)
        assert normal <= n and (m > 1 or abs(n - math.ceil(normal)) <= 2)
        assert abs(n - (normal + z_a ** 2 / 2)) < 1.5, (sd, effect, m)
    assert seeds_needed(2.0, 2.0, m=8) > seeds_needed(2.0, 2.0)        # a stricter level needs more seeds
    # detectable_effect inverts it: 10 seeds detect a bit under 2 mm at sd 2, 9 seeds do not reach 2 mm.
    assert detectable_effect(2.0, 10) < 2.0 < detectable_effect(2.0, 9)
    assert paired_t_power(7, 1.5, detectable_effect(1.5, 7)) == pytest.approx(0.8, abs=1e-8)
    assert math.isnan(detectable_effect(1.0, 1))
    with pytest.raises(UserError, match="standard deviation"):
        seeds_needed(0.0)


# ----------------------------------------------------------------------------- the verdicts

LEVELS = {"translate": [0, 100, 200], "noise": [0, 10]}


def fake_results(seeds=10, ours_minus_raw=-3.0, staged_minus_one=-3.0, noise=0.3, rng_seed=0) -> dict:
    """A claims JSON by hand: raw+pos+temp is `ours_minus_raw` mm from raw everywhere (± noise), the other
    encodings equal raw (± noise); three stages `staged_minus_one` from one stage."""
    rng = np.random.default_rng(rng_seed)
    out = dict(format=cl.FORMAT, recipe=dict(name="hand", levels=LEVELS), seeds={},
               test_set=dict(frames=900, speed_edges_px=[0, 1, 2, 9], speed_frames=[300] * 3,
                             range_edges_px=[3, 6, 9, 30], range_frames=[300] * 3))
    for s in range(seeds):
        base = 50 + 5 * rng.standard_normal()          # seeds differ much more than the pairs do
        shift = {e: (ours_minus_raw if e == "raw+pos+temp" else 0.0) for e in ENCODINGS}
        jitter = lambda: noise * rng.standard_normal()
        clean = {e: base + shift[e] + jitter() for e in ENCODINGS}
        rec = dict(seed=s, clean={e: dict(mpjpe_mm=clean[e], p_mpjpe_mm=clean[e] * 0.8) for e in ENCODINGS})
        # growth: raw grows by 10 mm per level step, raw+pos+temp by 10 + shift (so its growth differs by shift)
        rec["curves"] = {p: {e: [clean[e] + k * (10 + shift[e]) + (jitter() if k else 0) for k in range(len(v))]
                             for e in ENCODINGS} for p, v in LEVELS.items()}
        rec["speed_bins"] = {e: [clean[e] + b * (4 + shift[e]) + jitter() for b in range(3)] for e in ENCODINGS}
        rec["range_bins"] = {e: [clean[e] + 2 * b + jitter() for b in range(3)] for e in ENCODINGS}
        one = base + jitter()
        rec["staged"] = dict(three_stage=dict(mpjpe_mm=one + staged_minus_one + jitter(), p_mpjpe_mm=1.0),
                             one_stage=dict(mpjpe_mm=one, p_mpjpe_mm=1.0))
        out["seeds"][str(s)] = rec
    return json.loads(json.dumps(out))


def test_a_clear_effect_in_the_paper_direction_holds_after_holm():
    data = fake_results()
    verdicts = cl.analyse(data)
    primary = cl.summaries(verdicts)
    assert list(primary) == ["a", "b:translate", "b:noise", "c", "d", "e"]
    # Rows: a 5, b:translate 1 + 2, b:noise 1 + 1, c 2 + 3 bins, d 2 + 2 x 2 bins, e 1.
    assert len(verdicts) == 5 + 3 + 2 + 5 + 6 + 1
    # growth over levels 1 and 2 differs by 1.5 x 3 mm; the speed slope over bins 0-2 by 2 x 3 mm
    expected = {"a": -3.0, "b:translate": -4.5, "b:noise": -3.0, "c": -6.0, "d": -3.0, "e": -3.0}
    for claim, v in primary.items():
        assert v.verdict == cl.HOLDS and v.agrees and v.n == 10, claim
        assert v.mean == pytest.approx(expected[claim], abs=0.5), claim
    a = primary["a"]
    raw = [data["seeds"][str(s)]["clean"]["raw"]["mpjpe_mm"] for s in range(10)]
    rpt = [data["seeds"][str(s)]["clean"]["raw+pos+temp"]["mpjpe_mm"] for s in range(10)]
    assert a.p == pytest.approx(stats.ttest_rel(rpt, raw).pvalue, rel=1e-9)
    assert [v.p_holm for v in verdicts] == pytest.approx(holm([v.p for v in verdicts]))
    assert a.p_holm >= a.p and a.p_holm < 0.05
    # Rows where nothing differs (raw+pos against raw) stay undecided; none goes against the paper.
    same = next(v for v in verdicts if v.ours == "raw+pos" and v.baseline == "raw" and v.claim == "a")
    assert same.verdict == cl.UNDECIDED and cl.against_paper(verdicts) == []


def test_an_effect_against_the_paper_is_contradicted_and_listed():
    verdicts = cl.analyse(fake_results(staged_minus_one=+4.0))
    e = cl.summaries(verdicts)["e"]
    assert e.verdict == cl.CONTRADICTED and e.agrees is False and e.mean == pytest.approx(4.0, abs=0.5)
    assert cl.against_paper(verdicts) == [e]
    table = cl.summary_table(verdicts)
    assert "contradicted" in table and "not in the kit's sources" in table and "(e) multi-stage" in table
    assert "stages 1-3 - one stage" in cl.detail_table(verdicts)
    assert "against the paper (significant after Holm): (e)" in cl.report(fake_results(staged_minus_one=+4.0))


def test_noise_alone_stays_undecided():
    verdicts = cl.analyse(fake_results(seeds=3, ours_minus_raw=0.0, staged_minus_one=0.0, noise=2.0))
    assert {v.verdict for v in verdicts} == {cl.UNDECIDED}
    one = fake_results(seeds=1)     # one seed: no interval, no p, nothing decided, and the report still prints
    assert {v.verdict for v in cl.analyse(one)} == {cl.UNDECIDED} and "(e) multi-stage" in cl.report(one)


def test_power_analysis_of_the_primary_rows():
    data = fake_results(noise=1.0)
    power = cl.power_analysis(data)
    verdicts = cl.summaries(cl.analyse(data))
    assert power["seeds_used"] == 10 and power["primary_rows"] == 6 and power["all_rows"] == 22
    for claim, row in power["rows"].items():
        sd = float(np.std(verdicts[claim].differences, ddof=1))
        assert row["sd_mm"] == pytest.approx(sd)
        assert row["seeds_needed"] == seeds_needed(sd, 2.0)
        assert row["seeds_needed_primary_family"] == seeds_needed(sd, 2.0, m=6) >= row["seeds_needed"]
        assert row["detectable_mm"] == pytest.approx(detectable_effect(sd, 10))
    assert power["median"]["sd_mm"] == pytest.approx(np.median([r["sd_mm"] for r in power["rows"].values()]))
    assert "n /6" in cl.power_table(power)


def test_no_seed_is_a_clear_error():
    with pytest.raises(UserError, match="no seed yet"):
        cl.analyse(dict(fake_results(), seeds={}))


# ----------------------------------------------------------------------------- motion range and recipes

def test_motion_range_is_root_relative_pixels_over_the_window():
    # Joint 1 moves 0.01 normalised units per frame along x (5 px at res_w 1000), joint 2 stays: with a
    # 5-frame window (pad 2) a middle frame sees joint 1 up to 2 frames (10 px) away, joint 2 0 px -> mean 5 px.
    t = np.arange(9)
    p2 = np.zeros((9, 3, 2))
    p2[:, 1, 0] = 0.01 * t
    r = cl.motion_range_px(p2, 1000, pad=2)
    assert r[2:7] == pytest.approx(np.full(5, 5.0))
    assert r[0] == pytest.approx(2.5 * 2) and r[1] == pytest.approx(5.0)   # edge-padded: frames 0,0,0,1,2
    # Global motion (the whole body moving) leaves it unchanged: it is relative to the root.
    moved = p2 + 0.05 * t[:, None, None]
    assert cl.motion_range_px(moved, 1000, pad=2) == pytest.approx(r)
    assert cl.motion_range_px(p2, 1000, pad=2, chunk=4) == pytest.approx(r)


def test_recipes_share_stage_one_and_refuse_a_mismatch():
    q = cl.QUICK_CLAIMS
    s1 = q.encoder_preset.train_config(1)
    assert (s1.epochs, s1.subset, s1.downsample) == (cl.CLAIMS_STAGE1_EPOCHS, cl.CLAIMS_SUBSET, cl.CLAIMS_DOWNSAMPLE)
    assert q.staged_preset.stages[1] == s1 and q.seeds == cl.CLAIMS_SEEDS == tuple(range(10))
    assert q.one_stage_config.epochs == sum(q.staged_preset.epochs(k) for k in (1, 2, 3))
    assert cl.FULL_CLAIMS.encoder_preset.filter_widths == (3, 3, 3, 3, 3) and cl.FULL_CLAIMS.test.cameras is None
    other = cl.TINY_CLAIMS.staged_preset.with_train(subset=0.2)
    with pytest.raises(UserError, match="stage 1 must be encoder_preset's"):
        cl.ClaimsRecipe("x", cl.TINY_CLAIMS.encoder_preset, other)
    with pytest.raises(UserError, match="unperturbed level"):
        cl.ClaimsRecipe("x", cl.TINY_CLAIMS.encoder_preset, cl.TINY_CLAIMS.staged_preset, levels={"noise": [5, 10]})
    with pytest.raises(UserError, match="frame rate"):
        cl.ClaimsRecipe("x", cl.TINY_CLAIMS.encoder_preset, cl.TINY_CLAIMS.staged_preset, test=cl.TestSet(downsample=2))
    assert cli.parse_seeds("0-3") == (0, 1, 2, 3) and cli.parse_seeds("3") == (0, 1, 2)
    assert cli.parse_seeds("4,1") == (4, 1)
    for bad in ("x", "3-1", "1,1", "0"):
        with pytest.raises(UserError, match="--seeds"):
            cli.parse_seeds(bad)


# ----------------------------------------------------------------------------- a tiny study end to end

@pytest.fixture(scope="module")
def tiny_study(tiny_data_dir, tmp_path_factory):
    """TINY_CLAIMS run for seed 0, then for seeds 0 and 1 into the same JSON, counting run_seed's calls."""
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("claims")
    s = Settings("quick", "synth", "det", tiny_data_dir, str(folder / "ckpt"), cl.TINY_CLAIMS.encoder_preset, "cpu",
                 progress=False)
    out = folder / "claims.json"
    calls, real = [], cl.run_seed
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cl, "run_seed", lambda *a, **k: calls.append(a[2]) or real(*a, **k))
        first = copy.deepcopy(cl.run_claims(s, cl.TINY_CLAIMS.with_seeds([0]), out, log=lambda *_: None))
        calls_first = list(calls)
        second = cl.run_claims(s, cl.TINY_CLAIMS, out, log=lambda *_: None)
        calls_second = calls[len(calls_first):]
        cl.run_claims(s, cl.TINY_CLAIMS, out, log=lambda *_: None)
        calls_third = calls[len(calls_first) + len(calls_second):]
    return dict(settings=s, out=out, first=first, second=second, calls=(calls_first, calls_second, calls_third))


def test_the_json_holds_every_number_of_every_seed(tiny_study):
    data = json.loads(tiny_study["out"].read_text())
    recipe = cl.TINY_CLAIMS
    assert data["format"] == cl.FORMAT and list(data["seeds"]) == ["0", "1"]
    assert data["recipe"] == cl.describe_recipe(tiny_study["settings"], recipe)
    assert "seeds" not in data["recipe"] and data["recipe"]["levels"] == recipe.levels
    test = data["test_set"]
    assert sum(test["speed_frames"]) == sum(test["range_frames"]) == test["frames"] > 0
    assert len(test["speed_edges_px"]) == recipe.speed_bins + 1 and len(test["range_edges_px"]) == recipe.range_bins + 1
    for rec in data["seeds"].values():
        assert set(rec["clean"]) == set(ENCODINGS)
        assert all(v["mpjpe_mm"] > 0 and v["p_mpjpe_mm"] > 0 for v in rec["clean"].values())
        for p, levels in recipe.levels.items():
            for e in ENCODINGS:
                assert len(rec["curves"][p][e]) == len(levels)
                assert rec["curves"][p][e][0] == rec["clean"][e]["mpjpe_mm"]   # the unperturbed level is clean
        assert all(len(rec["speed_bins"][e]) == 2 and len(rec["range_bins"][e]) == 2 for e in ENCODINGS)
        assert set(rec["staged"]) == {"three_stage", "one_stage"}
        assert set(rec["seconds"]["train"]) == set(ENCODINGS) | {"staged", "one_stage"}
        assert rec["seconds"]["evaluate"] > 0 and rec["threads"] >= 1
    assert data["seeds"]["0"]["clean"]["raw"] != data["seeds"]["1"]["clean"]["raw"]   # seeds train different models
    prov = data["provenance"]
    for key in ("git_commit", "git_dirty", "cpu_model", "torch", "threads", "workers", "wall_seconds", "date",
                "wall_seconds_all_runs"):
        assert key in prov, key
    assert set(prov["cpu_flags"]) == set(cl.CPU_FLAGS) and prov["torch"] == torch.__version__
    assert prov["data"]["files"][0]["generator"]["maker"] == "relpose.synth"
    assert prov["wall_seconds_all_runs"] >= prov["wall_seconds"] and len(data["runs"]) == 2
    # Analysable as it stands (two seeds: wide intervals, nothing decided).
    assert len(cl.analyse(data)) == 5 + 2 + 2 + (2 + 2) + (2 + 2) + 1


def test_resume_keeps_the_seeds_done_and_reuses_checkpoints(tiny_study, tiny_data_dir):
    first, second, third = tiny_study["calls"]
    assert first == [0] and second == [1] and third == []
    assert tiny_study["second"]["seeds"]["0"] == json.loads(json.dumps(tiny_study["first"]["seeds"]["0"]))
    rec = tiny_study["second"]["seeds"]["0"]
    assert all(rec["trained"].values())
    # A seed interrupted after training: running it again trains nothing and measures the same numbers.
    s, recipe = tiny_study["settings"], cl.TINY_CLAIMS
    dataset = load_dataset("synth", "det", tiny_data_dir)
    again = cl.run_seed(s, recipe, 0, dataset, cl.fetch_recipe_test_set(recipe, dataset))
    assert not any(again["trained"].values())
    assert again["clean"]["raw+pos+temp"]["mpjpe_mm"] == pytest.approx(rec["clean"]["raw+pos+temp"]["mpjpe_mm"],
                                                                       rel=1e-6)
    assert again["staged"]["three_stage"]["mpjpe_mm"] == pytest.approx(rec["staged"]["three_stage"]["mpjpe_mm"],
                                                                         rel=1e-6)
    staged = os.path.join(s.checkpoint_dir, "lab", "claims", "staged", "seed_0")
    assert sorted(f for f in os.listdir(staged) if f.endswith(".bin")) == [
        "stage_1_epoch_1.bin", "stage_2_epoch_1.bin", "stage_3_epoch_1.bin"]
    assert os.listdir(os.path.join(s.checkpoint_dir, "lab", "claims", "one_stage", "seed_0")).count(
        "stage_3_epoch_3.bin") == 1   # the stage-3 model trained in one stage for 1 + 1 + 1 epochs


def test_another_recipe_or_file_is_never_replaced(tiny_study, tmp_path):
    s = tiny_study["settings"]
    theirs = tmp_path / "claims.json"
    data = json.loads(tiny_study["out"].read_text())
    data["recipe"]["speed_bins"] = 7
    theirs.write_text(json.dumps(data))
    before = theirs.read_bytes()
    with pytest.raises(UserError, match=r"holds the results of another recipe \(speed_bins differ\); pass another "
                                        r"--out or delete it"):
        cl.run_claims(s, cl.TINY_CLAIMS, theirs, log=lambda *_: None)
    not_ours = tmp_path / "notes.json"
    not_ours.write_text('{"mine": 1}')
    with pytest.raises(UserError, match="not a claims results file; pass another --out or delete it"):
        cl.run_claims(s, cl.TINY_CLAIMS, not_ours, log=lambda *_: None)
    assert theirs.read_bytes() == before and not_ours.read_text() == '{"mine": 1}'


def test_command_line(tiny_study, capsys):
    assert cli.main(["--seeds", "x"]) == 2
    assert "error: --seeds 'x'" in capsys.readouterr().err
    assert cli.main(["--workers", "0", "--seeds", "2"]) == 2
    assert cli.main(["--mode", "half"]) == 2
    assert cli.main(["--analyse", str(tiny_study["out"])]) == 0
    out = capsys.readouterr().out
    assert "(a) accuracy" in out and "primary row" in out
    assert cli.main(["--analyse", str(tiny_study["out"].parent / "missing.json")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_stored_study_provenance_line_and_verdicts_figure(tmp_path):
    """Notebook 08 reads results/claims_<mode>.json (None where it was never made), says in one line where the
    numbers come from, and draws each claim's primary row with its interval and verdict."""
    import matplotlib

    matplotlib.use("Agg")
    from relpose.viz.robustness import VERDICT_COLOURS, verdicts_figure

    assert cl.stored_path("quick", str(tmp_path)) == str(tmp_path / "results" / "claims_quick.json")
    assert cl.stored_study("full", str(tmp_path)) is None
    data = fake_results(staged_minus_one=+4.0)
    data["provenance"] = dict(git_commit="0123456789abcdef", git_dirty=False, cpu_model="Some CPU",
                              cpu_flags=dict(avx2=True, avx512f=True, avx512_bf16=False, amx_bf16=False),
                              torch="2.13.0+cpu", workers=2, threads=1, wall_seconds=3000.0,
                              wall_seconds_all_runs=3600.0, date="2026-12-07T17:00:00+00:00")
    (tmp_path / "results").mkdir()
    cl.write_results(data, cl.stored_path("quick", str(tmp_path)))
    stored = cl.stored_study("quick", str(tmp_path))
    assert stored["seeds"].keys() == data["seeds"].keys()
    line = cl.provenance_line(stored)
    assert line == ("10 seeds of recipe 'hand'; code 0123456; Some CPU (avx2, avx512f); torch 2.13.0+cpu; "
                    "2 worker(s) x 1 thread(s); 60 min in all; 2026-12-07")
    verdicts = cl.analyse(stored)
    fig = verdicts_figure(verdicts, "test")
    ax = fig.axes[0]
    primary = [v for v in verdicts if v.primary]
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"({v.claim}) {v.ours} - {v.baseline}" for v in primary]
    assert "mm" in ax.get_xlabel()
    # one errorbar per primary row, coloured by its verdict: (e) is contradicted (red), the rest hold (green)
    colours = [bar.lines[0].get_color() for bar in ax.containers]
    assert colours.count(VERDICT_COLOURS["contradicted"]) == 1
    assert colours.count(VERDICT_COLOURS["holds"]) == len(primary) - 1


def test_the_code_version_is_read_when_the_run_starts(tiny_study):
    """A commit made while a long run goes on must not be credited with its numbers: every seed's run records
    the commit read at its start."""
    data = json.loads(tiny_study["out"].read_text())
    assert data["provenance"]["git_commit"] == cl.code_version()["commit"]
    assert all(run["git_commit"] == data["provenance"]["git_commit"] for run in data["runs"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_worker_ends_with_the_run_that_started_it(tmp_path):
    """Killing the run's process alone must not leave its workers training on (they would hold the checkpoint
    folders' locks against the next run): a child that called _end_with_parent ends with its parent."""
    script = tmp_path / "tree.py"
    script.write_text(textwrap.dedent("""
        import os, subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c",
            "from relpose.lab.claims import _end_with_parent; import time; _end_with_parent(); "
            "print('ready', flush=True); time.sleep(60)"])
        print(child.pid, flush=True)
        time.sleep(60)
    """))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.getcwd()})
    child = int(parent.stdout.readline())
    assert parent.stdout.readline().strip() == "ready"   # the child has set its parent-death signal
    parent.kill()
    parent.wait()
    def running(pid):   # a zombie (ended, not yet reaped by whoever adopted it) counts as ended
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False

    for _ in range(100):
        if not running(child):
            break
        time.sleep(0.05)
    else:
        os.kill(child, 9)
        pytest.fail("the worker outlived the run's process")
