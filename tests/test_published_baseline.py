"""The published selections as baselines: their steps, the nested tuned step, the cut flow and
the cut-based scorer that sets limits from them."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from mlsearch.errors import ConfigError
from mlsearch.evaluation.baselines import baseline_masks
from mlsearch.evaluation.cut_flow import cut_flow, cut_flow_html
from mlsearch.features import get_builder
from mlsearch.limits.points import CutScorer
from mlsearch.selection.published import PUBLISHED, published_selection
from mlsearch.selection.windows import signal_window

from .conftest import feature_meta

PROVENANCE = {"paper", "paper criterion", "ours"}


def _zprime_rows() -> pd.DataFrame:
    """Five events: passes all with recoil p_T 0.5 to the nearer muon; recoil outside the
    barrel; too much ECL energy; passes with p_T 1.1; passes with p_T 0.1."""
    return pd.DataFrame(
        {
            "recoil_theta_lab": [1.5, 0.3, 1.5, 1.5, 1.5],
            "extra_ecl_energy": [0.1, 0.1, 0.6, 0.0, 0.3],
            "recoil_pt_mu_plus": [0.5, 2.0, 2.0, 1.1, 3.0],
            "recoil_pt_mu_minus": [2.0, 2.0, 2.0, 2.0, 0.1],
        }
    )


def test_every_search_has_a_cited_selection_that_reads_only_its_features() -> None:
    assert set(PUBLISHED) == {"zprime_invisible", "lfv_zprime", "alp", "dark_photon"}
    for search, sel in PUBLISHED.items():
        assert sel.search == search and sel.reference and sel.preselection
        for step in [*sel.steps, sel.tuned]:
            assert step.provenance in PROVENANCE, step.name
            assert step.source and step.cut
        names = get_builder(search).feature_names
        ones = pd.DataFrame({f: [1.0, 0.0] for f in names})
        assert sel.levels(ones).shape == (2,)  # no column outside the builder's features
    with pytest.raises(ConfigError, match="no published selection"):
        published_selection("higgs")


def test_zprime_steps_cut_what_they_say_and_the_tuned_selections_are_nested() -> None:
    sel = published_selection("zprime_invisible")
    df = _zprime_rows()
    assert sel.fixed(df).tolist() == [True, False, False, True, True]
    # thresholds 0.0 0.2 0.4 0.6 0.8 1.0 1.2 GeV: 0.5 passes three, 1.1 six, 0.1 one
    assert sel.levels(df).tolist() == [4, 0, 0, 7, 2]
    masks = [m for _, m in baseline_masks("zprime_invisible", df, "published")]
    assert len(masks) == len(sel.tuned.values)
    for looser, tighter in itertools.pairwise(masks):
        assert not (tighter & ~looser).any()
    assert masks[0].tolist() == [True, False, False, True, True]  # t = 0: the fixed steps
    assert masks[3].tolist() == [False, False, False, True, False]  # t = 0.6 GeV


def test_the_cut_scorer_is_the_selection_at_each_threshold() -> None:
    sel = published_selection("zprime_invisible")
    scorer = CutScorer(sel)
    df = _zprime_rows()
    score = scorer(df, 3.0)
    assert score[~sel.fixed(df)].tolist() == [0.0, 0.0]
    passing = score[sel.fixed(df)]
    assert 0 < scorer.min_cut < passing.min()
    for k, (_, mask) in enumerate(sel.masks(df)):  # a cut between levels is a threshold
        assert ((score > (k + 1.5) / scorer.n_levels) == mask).all()


def test_cut_flow_counts_each_step_from_the_generated_sample() -> None:
    rng = np.random.default_rng(1)
    n = 400
    rows = _zprime_rows().sample(n, replace=True, random_state=2).reset_index(drop=True)
    rows["recoil_mass2"] = rng.normal(9.0, 0.2, n)
    rows["label"] = np.r_[np.ones(n // 2), np.zeros(n // 2)].astype(int)
    rows["mass_hypothesis"] = 3.0
    rows["weight"] = 0.01
    rows["process"] = np.where(rows["label"] == 1, "zprime_m3", "tautau")
    meta = feature_meta(
        {
            "zprime_m3": {"is_signal": True, "mass": 3.0, "cross_section_fb": 10.0},
            "tautau": {"is_signal": False, "cross_section_fb": 50.0},
        }
    )
    sel = published_selection("zprime_invisible")
    window = signal_window(rows.loc[rows["label"] == 1, "recoil_mass2"].to_numpy(), 2.0)
    flow = cut_flow(rows, meta, sel, {3.0: (window, 0.6)}, 10.0)
    steps = ["generated", "preselection", "recoil in ECL barrel", "ECL energy < 0.4 GeV",
             "tau suppression (0.6)", "signal window"]  # fmt: skip
    for sample, g in flow.groupby("sample"):
        assert g["step"].tolist() == steps
        events = g["events"].to_numpy()
        assert (np.diff(events) <= 1e-12).all(), sample
        assert np.prod(g["step_efficiency"]) == pytest.approx(g["efficiency"].iloc[-1])
    sig = flow[flow["sample"] == "signal"].set_index("step")
    assert sig.loc["generated", "events"] == pytest.approx(100.0)  # 10 fb x 10 fb^-1
    half = rows[rows["label"] == 1]
    assert sig.loc["preselection", "events"] == pytest.approx(0.1 * len(half))
    passing = sel.fixed(half) & (np.minimum(half.recoil_pt_mu_plus, half.recoil_pt_mu_minus) > 0.6)
    assert sig.loc["tau suppression (0.6)", "mc_events"] == passing.sum()
    bkg = flow[flow["sample"] == "tautau"].set_index("step")
    assert bkg.loc["generated", "events"] == pytest.approx(500.0)
    page = cut_flow_html(sel, flow)
    assert "PRL 124, 141801" in page and "m = 3 GeV" in page and "tau suppression" in page
