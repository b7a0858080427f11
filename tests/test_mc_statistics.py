"""The background MC's effective luminosity in a window, the 'all' mass assignment counted
once per MC event, and the limits table's flag for MC-limited masses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlsearch.config import load_config
from mlsearch.limits.binned import binned_mass_model
from mlsearch.limits.points import window_backgrounds
from mlsearch.selection.mc_statistics import effective_luminosity, window_mc_luminosity

from .conftest import SMALL_PROFILE, feature_meta, one_gev_point


def test_unweighted_mc_stands_for_its_generated_luminosity() -> None:
    sigma_fb, n = 1.2e6, 40_000  # mu mu at Belle II: 1.2 nb
    assert effective_luminosity(np.full(n, sigma_fb / n)) == pytest.approx(n / sigma_fb)


def test_the_limiting_process_is_the_scarcest_one_that_matters() -> None:
    weights = np.r_[np.full(1000, 0.01), np.full(10, 1.0), np.full(2, 0.04)]
    process = np.array(["a"] * 1000 + ["b"] * 10 + ["c"] * 2)
    mc = window_mc_luminosity(weights, process, weights, process)
    assert mc.per_process["a"] == pytest.approx(100.0) and mc.per_process["b"] == 1.0
    # c: 0.08 of 20.08 events (0.4 %) does not limit the window, though its L_eff is 25
    assert mc.shares["c"] < 0.01 and mc.limiting == pytest.approx(1.0)
    empty = window_mc_luminosity(np.zeros(0), np.zeros(0, dtype=object), weights, process)
    assert empty.absent == ("a", "b", "c")
    # no event in the window: each process stands there for one event of its whole sample's
    # effective weight; b's (1 fb) is the largest, and its 1 fb^-1 limits the window
    assert empty.one_event_fb == pytest.approx({"a": 0.01, "b": 1.0, "c": 0.04})
    assert empty.limiting == pytest.approx(1.0)


def test_a_process_absent_from_the_window_counts_with_one_event_of_its_sample() -> None:
    """Only a's MC is in the window; b (one event of 2 fb anywhere) is absent, but its
    MC cannot say it is below 2 fb there, so it is the window's limiting process."""
    weights = np.r_[np.full(100, 0.01), np.full(5, 2.0)]
    process = np.array(["a"] * 100 + ["b"] * 5)
    inside = process == "a"
    mc = window_mc_luminosity(weights[inside], process[inside], weights, process)
    assert mc.absent == ("b",) and mc.per_process["b"] == pytest.approx(0.5)
    assert mc.shares["b"] == pytest.approx(2.0 / 3.0)  # 2 fb of floor against a's 1 fb
    assert mc.limiting == pytest.approx(0.5)


def _table(copies: int) -> tuple[pd.DataFrame, object]:
    """Ten background events (weight 0.5 fb) in the window at 1 GeV, held ``copies`` times
    (the 'all' assignment: weights divided) at the masses 1, 2, ... GeV."""
    grid = [float(m) for m in range(1, copies + 1)]
    rows = [
        pd.DataFrame({"process": "mumu", "label": 0, "recoil_mass2": np.linspace(0.8, 1.2, 10),
                      "weight": 0.5 / copies, "fold": 0, "mass_hypothesis": m,
                      "event": np.arange(10)})
        for m in grid
    ]  # fmt: skip
    meta = feature_meta(
        {"mumu": {"is_signal": False, "process": "mumu"}}, mass_grid=grid,
        background_copies=copies, mass_assignment="all" if copies > 1 else "random_grid",
    )  # fmt: skip
    return pd.concat(rows, ignore_index=True), meta


def test_all_assignment_copies_count_once_with_their_full_weight() -> None:
    config = load_config(SMALL_PROFILE, ["luminosity_fb=10", "limits.n_score_bins=1"])
    rng = np.random.default_rng(1)
    point = one_gev_point(rng)

    def scorer(rows: pd.DataFrame, mass: float) -> np.ndarray:
        return np.full(len(rows), 0.7)

    built = {}
    for copies in (1, 4):
        table, meta = _table(copies)
        bkg = window_backgrounds(table, meta, point, scorer, 10.0)  # type: ignore[arg-type]
        built[copies] = binned_mass_model(point, bkg, config.limits, 10.0, None, rng)
    for copies in (1, 4):
        model, row = built[copies].model, built[copies].row
        np.testing.assert_allclose(model.background, [10 * 0.5 * 10])  # 10 events x 0.5 fb x L
        # one bin of ten MC events of 5 events each: sqrt(10) x 5, not sqrt(40) x 1.25
        np.testing.assert_allclose(model.background_stat, [np.sqrt(10) * 5.0])
        assert row["background_mc_lumi_fb"] == pytest.approx(2.0)  # 10 / (10 x 0.5^2)
        assert row["mc_limited"] is True  # 2 fb^-1 of MC for 10 fb^-1 of data
        assert row["mc_lumi_fb_mumu"] == pytest.approx(2.0)
