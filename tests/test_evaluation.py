"""Background mass assignment strategies, the per-mass evaluation report and the cut-based
baselines, on synthetic tables with known answers."""

import numpy as np
import pandas as pd
import pytest

from mlsearch.errors import ConfigError, InputError
from mlsearch.evaluation.baselines import BASELINES, baseline_mask, baseline_masks
from mlsearch.evaluation.report import mass_report, roc_curve_weighted
from mlsearch.features import get_builder
from mlsearch.models.mass_assignment import assign_background_masses, expand_all_masses
from mlsearch.selection.punzi import best_punzi_cut, punzi_cross_section

from .conftest import feature_meta


def test_random_grid_follows_the_probabilities():
    rng = np.random.default_rng(1)
    m = assign_background_masses(200_000, [1.0, 2.0, 3.0], "random_grid", rng, [1, 1, 2])
    freq = [np.mean(m == x) for x in (1.0, 2.0, 3.0)]
    np.testing.assert_allclose(freq, [0.25, 0.25, 0.5], atol=0.005)


def test_window_strategy_picks_a_containing_window_or_falls_back():
    rng = np.random.default_rng(2)
    inside = np.zeros((30_000, 3), dtype=bool)
    inside[:10_000, 1] = True  # only window 2
    inside[10_000:20_000, :2] = True  # windows 1 and 2 overlap
    m = assign_background_masses(30_000, [1.0, 2.0, 3.0], "window", rng, in_window=inside)
    assert (m[:10_000] == 2.0).all()
    assert set(np.unique(m[10_000:20_000])) == {1.0, 2.0}
    assert abs(np.mean(m[10_000:20_000] == 1.0) - 0.5) < 0.02
    assert set(np.unique(m[20_000:])) == {1.0, 2.0, 3.0}  # no window: a grid draw
    with pytest.raises(ValueError, match="in_window"):
        assign_background_masses(3, [1.0, 2.0], "window", rng)
    with pytest.raises(ConfigError, match="unknown"):
        assign_background_masses(3, [1.0, 2.0], "nearest", rng)


def test_all_strategy_keeps_the_physics_totals():
    df = pd.DataFrame({"x": [1.0, 2.0], "weight": [3.0, 5.0], "event": [1, 2]})
    out = expand_all_masses(df, [1.0, 2.0, 4.0])
    assert len(out) == 6 and out["weight"].sum() == pytest.approx(8.0)
    assert sorted(out["mass_hypothesis"].unique()) == [1.0, 2.0, 4.0]


def test_roc_and_best_punzi_cut_on_known_scores():
    s = np.array([0.9, 0.8, 0.7, 0.2])
    b = np.array([0.6, 0.3, 0.1, 0.05])
    eff_b, eff_s, thr = roc_curve_weighted(s, np.ones(4), b, np.ones(4))
    assert thr[0] == 0.9 and eff_s[2] == 0.75 and eff_b[2] == 0.0  # cut at 0.7
    assert eff_b[-1] == 1.0 and eff_s[-1] == 1.0
    assert (np.diff(eff_b) >= 0).all() and (np.diff(eff_s) >= 0).all()
    # perfectly separated: the best cut keeps all signal and no background (floored at 0.5)
    sigma, cut, n_s, n_b = best_punzi_cut(
        np.full(100, 0.9), np.ones(100), np.full(100, 0.1), np.full(100, 2.0), 0.4, 10.0, 0.5
    )
    assert n_s == 100 and n_b == 0.5 and cut == pytest.approx(0.9)
    assert sigma == pytest.approx(float(punzi_cross_section(0.4, 0.5, 10.0)))


def _table(n=4000, seed=3):
    """A synthetic Z'-like table: signal at 2 GeV (recoil_mass2 ~ N(4, 0.2)), background
    flat in recoil_mass2; the 'score' is a perfect classifier."""
    rng = np.random.default_rng(seed)
    builder = get_builder("zprime_invisible")
    sig = pd.DataFrame({f: rng.uniform(0, 1, n) for f in builder.feature_names})
    sig["recoil_mass2"] = rng.normal(4.0, 0.2, n)
    sig["label"], sig["mass_hypothesis"], sig["weight"] = 1, 2.0, 0.01
    sig["process"] = "zprime_m2"
    bkg = pd.DataFrame({f: rng.uniform(0, 1, 4 * n) for f in builder.feature_names})
    bkg["recoil_mass2"] = rng.uniform(0, 20, 4 * n)
    bkg["label"], bkg["mass_hypothesis"], bkg["weight"] = 0, 2.0, 1.0
    bkg["process"] = "mumu"
    table = pd.concat([sig, bkg], ignore_index=True)
    meta = feature_meta(
        {
            "zprime_m2": {"is_signal": True, "mass": 2.0, "cross_section_fb": 100.0},
            "mumu": {"is_signal": False, "process": "mumu"},
        }
    )
    return table, meta


def test_mass_report_of_a_perfect_classifier_and_the_baseline():
    table, meta = _table()
    sig = table["label"].to_numpy() == 1
    baseline = [({}, np.ones(len(table), dtype=bool))]  # "baseline" = no cut at all
    rep = mass_report(
        table, meta, "perfect", 2.0, np.ones(sig.sum()), np.zeros((~sig).sum()), baseline, 1.0, 2.0
    )
    row = rep.row
    # window +-2 sigma: 95.4 % of the signal (4000 x 0.01 events per fb^-1 x 1 fb^-1 = 40)
    assert row["signal_in_window"] == pytest.approx(40 * 0.954, rel=0.02)
    assert row["window_low"] == pytest.approx(3.6, abs=0.03)
    # the flat background: 16000 events over 20 GeV^2, a 0.8 GeV^2 window holds ~640
    assert row["background_in_window"] == pytest.approx(640, rel=0.1)
    assert row["auc_window"] == 1.0 and row["signal_eff_at_bkg_1pct"] == pytest.approx(1.0)
    # all background removed: floored at one MC event (weight 1); efficiency = 0.954 x 40/100
    expected = float(punzi_cross_section(row["signal_in_window"] / 100.0, 1.0, 1.0))
    assert row["punzi_xsec_fb"] == pytest.approx(expected, rel=1e-9)
    base = float(
        punzi_cross_section(row["signal_in_window"] / 100.0, row["background_in_window"], 1.0)
    )
    assert row["baseline_punzi_xsec_fb"] == pytest.approx(base, rel=1e-9)
    # background MC of weight 1 fb per event: it stands for 1 fb^-1 wherever it is
    assert row["background_mc_lumi_fb"] == pytest.approx(1.0) == row["mc_lumi_fb_mumu"]
    assert row["gain_vs_baseline"] > 5
    # a random classifier gains nothing: its cut keeps background in proportion
    rng = np.random.default_rng(4)
    rand = mass_report(
        table, meta, "random", 2.0, rng.uniform(size=sig.sum()), rng.uniform(size=(~sig).sum()),
        baseline, 1.0, 2.0,
    )  # fmt: skip
    assert abs(rand.row["auc_window"] - 0.5) < 0.05
    assert rand.row["gain_vs_baseline"] < 1.2
    assert abs(rand.row["sculpt_ratio"] - 1) < 0.25


def test_too_few_signal_events_at_a_mass_is_an_error():
    table, meta = _table(n=5)
    sig = table["label"].to_numpy() == 1
    with pytest.raises(InputError, match=r"too few signal events \(5\).*at least 10"):
        mass_report(
            table, meta, "m", 2.0, np.ones(sig.sum()), np.zeros((~sig).sum()),
            [({}, np.ones(len(table), bool))], 1.0, 2.0,
        )  # fmt: skip


def test_baselines_cut_what_they_say_and_the_report_takes_the_best_setting():
    zp = pd.DataFrame(
        {
            "extra_ecl_energy": [0.1, 0.5, 0.1, 0.1, 0.3],
            "recoil_theta_lab": [1.5, 1.5, 0.3, 1.5, 1.5],
            "recoil_pt_mu_plus": [0.2, 0.2, 0.2, 2.0, 0.2],
            "recoil_pt_mu_minus": [2.0, 2.0, 2.0, 2.0, 2.0],
        }
    )
    assert baseline_mask("zprime_invisible", zp).tolist() == [True, False, False, False, True]
    assert baseline_mask("zprime_invisible", zp, extra=0.2).tolist()[4] is False
    grid = baseline_masks("zprime_invisible", zp)
    assert len(grid) == 12 and {"extra", "closest"} == set(grid[0][0])
    assert set(BASELINES) == {"zprime_invisible", "lfv_zprime", "alp", "dark_photon"}
    for search in BASELINES:  # every cut reads only the builder's features
        names = get_builder(search).feature_names
        ones = pd.DataFrame({f: [1.0] for f in names})
        assert all(len(mask) == 1 for _, mask in baseline_masks(search, ones))
    with pytest.raises(ConfigError, match="no baseline"):
        baseline_mask("higgs", zp)
    # the report picks the setting with the best Punzi sensitivity at the mass
    table, meta = _table()
    sig = table["label"].to_numpy() == 1
    keep_all = np.ones(len(table), dtype=bool)
    only_signal = sig.copy()  # a (cheating) setting that removes all background
    rep = mass_report(
        table, meta, "m", 2.0, np.ones(sig.sum()), np.zeros((~sig).sum()),
        [({"cut": 0.0}, keep_all), ({"cut": 1.0}, only_signal)], 1.0, 2.0,
    )  # fmt: skip
    assert rep.row["baseline_cuts"] == "cut=1"
    assert rep.row["baseline_background_events"] == 1.0  # the one-MC-event floor


def test_all_assignment_refuses_a_table_that_would_not_fit(monkeypatch):
    import mlsearch.pipeline.features as stage
    from mlsearch.config import load_config
    from mlsearch.errors import InputError

    from .conftest import SMALL_PROFILE

    config = load_config(SMALL_PROFILE, ["train.mass_assignment=all"])
    df = pd.DataFrame({"x": np.zeros(10), "weight": np.ones(10), "event": np.arange(10)})
    out = stage._background_masses(config, {"column": "x"}, df, "mumu", {})
    assert len(out) == 30 and out["weight"].sum() == pytest.approx(10.0)  # three masses
    monkeypatch.setattr(stage, "ALL_MAX_ROWS", 20)
    with pytest.raises(InputError, match=r"mumu: the 'all' mass assignment would put 10 x 3 = 30"):
        stage._background_masses(config, {"column": "x"}, df, "mumu", {})
