"""The per-mass evaluation report: for each model and mass hypothesis, inside the signal
window of the search variable, the ROC and AUC, the signal efficiency at a fixed background
efficiency, the Punzi sensitivity with its optimal cut and the expected signal and background
there, the background sculpting of that cut, and the same Punzi sensitivity of the search's
cut-based baseline. Scores are out-of-fold (every event scored by a model that did not train
on it), signal at its own mass, background at each hypothesis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.metrics import roc_auc_score

from mlsearch.errors import InputError
from mlsearch.io.feature_table import FeatureTableMeta, background_rows
from mlsearch.selection.mc_statistics import WindowMcLuminosity, window_mc_luminosity
from mlsearch.selection.punzi import best_punzi_cut, one_event_floor, punzi_cross_section
from mlsearch.selection.windows import (
    NEIGHBOURHOOD_WIDTHS,
    MassWindow,
    search_values,
    select_window,
)

__all__ = ["MassReport", "ReportTable", "Sculpt", "mass_report", "roc_curve_weighted"]

FloatArray = NDArray[np.float64]
FIXED_BACKGROUND_EFFICIENCY = 0.01


@dataclass(frozen=True)
class Sculpt:
    """The background distribution of the search variable at one mass, normalised, before
    (``all``) and after (``passing``) the Punzi-optimal score cut, on ``edges``, and the
    window (low, high): what the sculpting plot draws (a few kB, not the table's columns)."""

    edges: FloatArray
    all: FloatArray
    passing: FloatArray
    window: tuple[float, float]

    @classmethod
    def of(
        cls, values: FloatArray, weight: FloatArray, passes: NDArray[np.bool_],
        window: tuple[float, float], n_bins: int = 40,
    ) -> Sculpt:  # fmt: skip
        """Histograms over the central 99 % of ``values`` (and the window)."""
        finite = np.isfinite(values)
        lo, hi = np.quantile(values[finite], [0.005, 0.995]) if finite.any() else (0.0, 1.0)
        lo, hi = min(lo, window[0]), max(hi, window[1])
        edges = np.linspace(lo, hi if hi > lo else lo + 1, n_bins + 1)

        def density(keep: NDArray[np.bool_]) -> FloatArray:
            h, _ = np.histogram(values[keep & finite], edges, weights=weight[keep & finite])
            total = h.sum() * (edges[1] - edges[0])
            return h / total if total > 0 else h

        return cls(edges, density(np.ones_like(passes)), density(passes), window)


@dataclass(frozen=True)
class MassReport:
    """One model at one mass: the table row and the arrays the plots need."""

    row: dict[str, Any]
    roc: tuple[FloatArray, FloatArray]  # background efficiency, signal efficiency (window)
    #: the background's search variable before and after the Punzi-optimal cut, histogrammed
    sculpt: Sculpt
    window: MassWindow
    #: the baseline setting (thresholds) with the best Punzi sensitivity at this mass
    baseline_setting: dict[str, float]


def roc_curve_weighted(
    s_score: FloatArray, s_w: FloatArray, b_score: FloatArray, b_w: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(background efficiency, signal efficiency, threshold) for cuts score >= threshold at
    every distinct score, weighted, from the tightest cut to the loosest."""
    score = np.concatenate([s_score, b_score])
    w_sig = np.concatenate([s_w, np.zeros(len(b_score))])
    w_bkg = np.concatenate([np.zeros(len(s_score)), b_w])
    order = np.argsort(-score, kind="stable")
    score, w_sig, w_bkg = score[order], w_sig[order], w_bkg[order]
    last = np.concatenate([score[1:] != score[:-1], [True]]) if len(score) else np.zeros(0, bool)
    eff_s = np.cumsum(w_sig)[last] / max(w_sig.sum(), 1e-300)
    eff_b = np.cumsum(w_bkg)[last] / max(w_bkg.sum(), 1e-300)
    return eff_b, eff_s, score[last]


def _window_auc(
    s_score: FloatArray, s_events: FloatArray, b_score: FloatArray, b_events: FloatArray
) -> float:
    """Weighted ROC AUC inside the window, signal and background each normalised to 1."""
    if not len(b_score) or b_events.sum() <= 0:
        return float("nan")
    return float(
        roc_auc_score(
            np.r_[np.ones(len(s_score)), np.zeros(len(b_score))],
            np.r_[s_score, b_score],
            sample_weight=np.r_[s_events / s_events.sum(), b_events / b_events.sum()],
        )
    )


def _best_baseline(
    selections: list[tuple[dict[str, float], NDArray[np.bool_], NDArray[np.bool_]]],
    s_events: FloatArray, b_events: FloatArray, eff_window: float, floor: float,
    luminosity_fb: float,
) -> tuple[float, float, float, dict[str, float]]:  # fmt: skip
    """The baseline setting with the best Punzi sensitivity: (sigma_min [fb], signal and
    background events it keeps, its cuts); ``selections``: (cuts, passes over the in-window
    signal, passes over the in-window background)."""
    best: tuple[float, float, float, dict[str, float]] = (float("inf"), 0.0, 0.0, {})
    for cuts, s_pass, b_pass in selections:
        n_sig = float(s_events[s_pass].sum())
        n_bkg = max(float(b_events[b_pass].sum()), floor)
        eff = eff_window * n_sig / max(float(s_events.sum()), 1e-300)
        sigma = float(punzi_cross_section(eff, n_bkg, luminosity_fb))
        if sigma < best[0]:
            best = (sigma, n_sig, n_bkg, cuts)
    return best


@dataclass(frozen=True)
class ReportTable:
    """What every mass's report reads from the feature table, split once per evaluation (at
    61 masses and 3.5e6 background rows, splitting and mapping per mass took 3 of the
    evaluation's 6 minutes): the signal and background rows, and the background's MC rows
    (one per MC event: io.feature_table.background_rows) with their physics process."""

    table: pd.DataFrame
    is_signal: NDArray[np.bool_]
    signal: pd.DataFrame
    background: pd.DataFrame
    mc_rows: pd.DataFrame
    mc_weight: FloatArray
    mc_process: NDArray[np.object_]
    processes: tuple[str, ...]
    #: the baseline selections split into signal and background rows, once per selection
    _splits: dict[int, tuple[NDArray[np.bool_], ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def split(self, selection: NDArray[np.bool_]) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """(signal rows, background rows) of a selection over the table's rows, split the
        first time this selection is asked for (per mass it cost 22 s of a 9.7x10^6-row
        evaluation)."""
        hit = self._splits.get(id(selection))
        if hit is None or hit[0] is not selection:  # an id reused by a new array
            hit = (selection, selection[self.is_signal], selection[~self.is_signal])
            self._splits[id(selection)] = hit
        return hit[1], hit[2]

    @classmethod
    def of(cls, table: pd.DataFrame, meta: FeatureTableMeta) -> ReportTable:
        is_sig = table["label"].to_numpy() == 1
        background = table[~is_sig]
        rows = background_rows(background, meta)
        process = meta.physics_process(rows["process"])
        names = tuple(sorted({str(p) for p in pd.unique(process)}))
        return cls(table, is_sig, table[is_sig], background, rows,
                   rows["weight"].to_numpy(), process, names)  # fmt: skip

    def window_mc(
        self, meta: FeatureTableMeta, window: MassWindow, mass: float
    ) -> WindowMcLuminosity:
        """The background MC's effective luminosity per process in the window."""
        inside = window.contains(search_values(self.mc_rows, meta.search_rule, mass))
        return window_mc_luminosity(
            self.mc_weight[inside], self.mc_process[inside], self.mc_weight, self.mc_process,
            self.processes,
        )  # fmt: skip


def _sculpting(
    passes: NDArray[np.bool_], values: FloatArray, weight: FloatArray, inside: NDArray[np.bool_],
    window: MassWindow,
) -> tuple[float, Sculpt]:  # fmt: skip
    """The sculpting of a score cut (``passes``, per background row; rows not scored at this
    mass, outside the window's neighbourhood (pipeline/oof.py), are NaN and do not pass):
    the background kept inside the window (``inside``) over that kept in its neighbourhood
    (one window width each side), > 1 where the classifier prefers background that looks like
    the hypothesis (a sculpted peak); and the distributions the plot draws."""
    near = window.widened(NEIGHBOURHOOD_WIDTHS).contains(values)
    eff_in = weight[inside & passes].sum() / max(weight[inside].sum(), 1e-300)
    eff_near = weight[passes & near].sum() / max(weight[near].sum(), 1e-300)
    ratio = float(eff_in / eff_near) if eff_near > 0 else float("nan")
    return ratio, Sculpt.of(values[near], weight[near], passes[near], (window.low, window.high))


def mass_report(
    table: pd.DataFrame,
    meta: FeatureTableMeta,
    model: str,
    mass: float,
    signal_score: FloatArray,
    background_score: FloatArray,
    baselines: list[tuple[dict[str, float], NDArray[np.bool_]]],
    luminosity_fb: float,
    window_sigma: float,
    prepared: ReportTable | None = None,
) -> MassReport:
    """The report of ``model`` at ``mass``. ``signal_score``: over the table's signal rows at
    their own mass; ``background_score``: over the background rows at ``mass``;
    ``baselines``: (thresholds, selection over all rows of ``table``) of the cut-based
    baseline's grid; the best at this mass is reported."""
    rule = meta.search_rule
    prepared = prepared or ReportTable.of(table, meta)
    sig_tab, bkg_tab = prepared.signal, prepared.background
    at_mass = sig_tab["mass_hypothesis"].to_numpy() == mass
    found = meta.signal_sample(mass)
    if found is None:
        raise InputError(f"no signal sample at {mass:g} GeV in the feature table")
    sample = found[1]
    sig = sig_tab[at_mass]
    sel = select_window(
        sig, bkg_tab, rule, mass, window_sigma, luminosity_fb, sample.cross_section_fb
    )
    window, s_in, b_in = sel.window, sel.signal_in, sel.background_in
    b_var = search_values(bkg_tab, rule, mass)
    s_score = signal_score[at_mass][s_in].astype(np.float64)
    b_score = background_score[b_in].astype(np.float64)
    s_events = sel.signal_events
    b_w_all = bkg_tab["weight"].to_numpy() * luminosity_fb
    b_events = b_w_all[b_in]
    eff_window = sel.efficiency
    floor = one_event_floor(b_w_all, meta.background_copies)
    punzi, cut, n_s, n_b = best_punzi_cut(
        s_score, s_events, b_score, b_events, eff_window, luminosity_fb, floor
    )
    eff_b, eff_s, _ = roc_curve_weighted(s_score, s_events, b_score, b_events)
    mc = prepared.window_mc(meta, window, mass)
    at_fixed = float(np.interp(FIXED_BACKGROUND_EFFICIENCY, eff_b, eff_s)) if len(eff_b) else 0.0
    auc = _window_auc(s_score, s_events, b_score, b_events)
    split = [(cuts, *prepared.split(sel)) for cuts, sel in baselines]
    base_punzi, base_sig, base_bkg, base_cuts = _best_baseline(
        [(cuts, s_sel[at_mass][s_in], b_sel[b_in]) for cuts, s_sel, b_sel in split],
        s_events, b_events, eff_window, floor, luminosity_fb,
    )  # fmt: skip
    ratio, sculpt = _sculpting(background_score >= cut, b_var, b_w_all, b_in, window)
    row = {
        "model": model,
        "mass": mass,
        "window_low": window.low,
        "window_high": window.high,
        "signal_in_window": float(s_events.sum()),
        "background_in_window": float(b_events.sum()),
        "auc_window": auc,
        "signal_eff_at_bkg_1pct": at_fixed,
        "punzi_xsec_fb": punzi,
        "punzi_cut": cut,
        "signal_events": n_s,
        "background_events": n_b,
        "baseline_punzi_xsec_fb": base_punzi,
        "baseline_signal_events": base_sig,
        "baseline_background_events": base_bkg,
        "baseline_cuts": ";".join(f"{k}={v:g}" for k, v in base_cuts.items()),
        "gain_vs_baseline": base_punzi / punzi if punzi > 0 else float("nan"),
        "sculpt_ratio": ratio,
        # [fb^-1]: below the luminosity, the background MC limits this mass
        "background_mc_lumi_fb": mc.limiting,
        **{f"mc_lumi_fb_{p}": v for p, v in sorted(mc.per_process.items())},
    }
    # the plot's points: log-spaced in the background efficiency (a window can hold 10^6)
    keep = np.unique(np.searchsorted(eff_b, np.geomspace(1e-6, 1.0, 2000)).clip(0, len(eff_b) - 1))
    roc = (eff_b[keep], eff_s[keep]) if len(eff_b) else (eff_b, eff_s)
    return MassReport(row, roc, sculpt, window, base_cuts)
