"""What the limits stage builds per mass hypothesis: the signal points (generated and
interpolated), the classifier scores of the events in each window, and the binned model
(per-process backgrounds, named uncertainties, observed counts)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlsearch.config import Config
from mlsearch.features.spec import search_values
from mlsearch.folds import fold_of
from mlsearch.limits.model import SIGNAL, BinnedModel, NormSys
from mlsearch.limits.signal_points import SignalPoint, interpolate_points, measure_point
from mlsearch.models.base import stack_inputs
from mlsearch.physics.seeds import chunk_rng
from mlsearch.pipeline.features import check_finite
from mlsearch.searches import branching_fraction
from mlsearch.selection.punzi import best_punzi_cut, one_event_floor
from mlsearch.selection.windows import signal_window

__all__ = ["MIN_SIGNAL_EVENTS", "MassModel", "Scorer", "data_events", "mass_model", "signal_points"]

MIN_SIGNAL_EVENTS = 10  # selected signal events needed to measure a window


class Scorer:
    """Scores rows with the fold ONNX models: each event by the model that did not train on it
    (its ``fold`` column; data events by the fold of their event number)."""

    def __init__(self, sessions: list[Any], features: list[str]) -> None:
        self.sessions = sessions
        self.features = features

    def __call__(self, rows: pd.DataFrame, mass: float) -> np.ndarray:
        x = rows[self.features].to_numpy()
        fold = rows["fold"].to_numpy()
        out = np.empty(len(x), dtype=np.float64)
        for i, session in enumerate(self.sessions):
            sel = fold == i
            if sel.any():
                inp = stack_inputs(x[sel], np.full(int(sel.sum()), mass))
                out[sel] = session.run(["score"], {"input": inp})[0].reshape(-1)
        return out


def _rule(meta: dict[str, Any]) -> dict[str, Any]:
    return meta.get("search_rule") or {"column": meta["search_variable"]}


def signal_points(
    config: Config, table: pd.DataFrame, meta: dict[str, Any], scorer: Scorer
) -> tuple[list[SignalPoint], list[dict[str, Any]]]:
    """The signal points of the generated masses with enough selected signal (plus the
    interpolated ones of ``limits.mass_points_between``), and a "no limit" row with the
    reason for every generated mass without."""
    lumi = config.luminosity_fb
    rule = _rule(meta)
    points, no_limit = [], []
    signals = {k: v for k, v in meta["samples"].items() if v["is_signal"]}
    for sample, info in sorted(signals.items(), key=lambda kv: kv[1]["mass"]):
        mass = float(info["mass"])
        sig = table[table["process"] == sample]
        reason = None
        if len(sig) == 0:
            reason = (
                f"no signal event of {info['n_generated']} generated passes the selection "
                "(efficiency 0)"
            )
        elif len(sig) < MIN_SIGNAL_EVENTS:
            reason = (
                f"{len(sig)} selected signal events of {info['n_generated']} generated: too "
                "few to measure a window; raise n_events"
            )
        else:
            window = signal_window(search_values(sig, rule, mass), config.limits.window_sigma)
            sig = sig[window.contains(search_values(sig, rule, mass))]
            events = sig["weight"].to_numpy() * lumi
            if events.sum() <= 0:
                reason = "no signal event in the window"
        if reason:
            no_limit.append({"mass": mass, "interpolated": False, "status": f"no limit: {reason}"})
            continue
        xsec, coupling = float(info["cross_section_fb"]), float(info["coupling"])
        points.append(measure_point(mass, window, scorer(sig, mass), events, xsec, coupling, lumi))
    # (tables written before the unit was recorded: the mass-squared variables end in "2")
    unit = meta.get("search_unit") or ("GeV^2" if meta["search_variable"].endswith("2") else "")
    power = 2 if unit == "GeV^2" else 1
    signal = config.generate.signal
    branching = branching_fraction(signal.process, signal.invisible_br)
    return interpolate_points(points, config.limits.mass_points_between, power, branching), no_limit


def data_events(config: Config, path: Path, features: list[str]) -> pd.DataFrame:
    """The selected events of a data ntuple, with their features and a fold by event number."""
    from mlsearch.features import get_builder
    from mlsearch.io.basf2_ntuple import read_basf2_ntuple

    builder = get_builder(config.search)
    df = builder.build(read_basf2_ntuple(path), config.features)
    check_finite(df, features, path)
    df["fold"] = fold_of(df["event"].to_numpy(), config.train.n_folds)
    return df


@dataclass(frozen=True)
class MassModel:
    """The binned model of one hypothesis and what the table reports about it; mu = 1 is
    ``scale`` x the reference signal (n_ref events in the window before any score cut)."""

    model: BinnedModel
    scale: float
    row: dict[str, Any]


def _bin(score: np.ndarray, weight: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sum of weights and the sqrt of the sum of squared weights per bin; scores outside
    [edges[0], edges[-1]) are dropped (the region below a Punzi cut)."""
    n = len(edges) - 1
    idx = np.searchsorted(edges, score, side="right") - 1
    keep = (idx >= 0) & (idx < n)
    idx, weight = idx[keep], weight[keep]
    return (
        np.bincount(idx, weights=weight, minlength=n),
        np.sqrt(np.bincount(idx, weights=weight**2, minlength=n)),
    )


def _systematics(config: Config, processes: list[str]) -> tuple[NormSys, ...]:
    out = []
    for name, unc in config.limits.uncertainties.items():
        samples: list[str] = []
        for s in unc.samples:
            samples += processes if s == "backgrounds" else [s]
        present = tuple(s for s in dict.fromkeys(samples) if s == SIGNAL or s in processes)
        if present:
            out.append(NormSys(name, unc.size, present))
    return tuple(out)


def mass_model(
    config: Config,
    table: pd.DataFrame,
    meta: dict[str, Any],
    point: SignalPoint,
    scorer: Scorer,
    data: pd.DataFrame | None,
) -> MassModel:
    """Score the backgrounds (and data) in the window at the point's mass, bin them, and
    build the model: one background sample per process, the named uncertainties, observed
    counts from the data or from seeded Poisson pseudo-data."""
    cfg = config.limits
    lumi = config.luminosity_fb
    rule = _rule(meta)
    mass = point.mass
    bkg_all = table[table["label"] == 0]
    bkg = bkg_all[point.window.contains(search_values(bkg_all, rule, mass))]
    b_score = scorer(bkg, mass)
    b_events = bkg["weight"].to_numpy() * lumi
    s_score, s_events = point.pseudo_events()
    # an empty background bin is not a background-free bin: floor it at the mean weight of one
    # background MC event in the window (or anywhere), with 100 % uncertainty (with the "all"
    # mass assignment one MC event weighs background_copies rows)
    w_floor = b_events if (b_events > 0).any() else bkg_all["weight"].to_numpy() * lumi
    floor = one_event_floor(w_floor, meta.get("background_copies", 1))
    punzi, cut, *_ = best_punzi_cut(
        s_score, s_events, b_score, b_events, point.efficiency, lumi, floor
    )
    if cfg.score_binning == "punzi_cut":
        edges = np.array([cut, 1.0 + 1e-9])
    else:  # bins of equal expected signal: every bin carries signal information
        levels = np.linspace(0, 1, cfg.n_score_bins + 1)[1:-1]
        inner = np.quantile(s_score, levels) if cfg.n_score_bins > 1 else np.zeros(0)
        edges = np.unique(np.concatenate([[0.0], inner, [1.0 + 1e-9]]))
    s_counts, _ = _bin(s_score, s_events, edges)
    sample_process = {k: v["process"] for k, v in meta["samples"].items() if not v["is_signal"]}
    by_process: dict[str, list[np.ndarray]] = {}
    proc = bkg["process"].map(sample_process).fillna(bkg["process"]).to_numpy()
    for name in sorted(set(sample_process.values())):
        sel = proc == name
        counts, stat = _bin(b_score[sel], b_events[sel], edges)
        if counts.sum() > 0:
            by_process[name] = [counts, stat]
    if not by_process:  # no background MC in the window: the floor as the dominant process
        weights = bkg_all.groupby(bkg_all["process"].map(sample_process))["weight"].mean()
        by_process[str(weights.idxmax())] = [np.zeros(len(edges) - 1), np.zeros(len(edges) - 1)]
    total = sum(c for c, _ in by_process.values())
    empty = total <= 0
    dominant = max(by_process, key=lambda n: by_process[n][0].sum())
    by_process[dominant][0] = np.where(empty, floor, by_process[dominant][0])
    by_process[dominant][1] = np.where(empty, floor, by_process[dominant][1])
    names = list(by_process)
    counts = np.array([by_process[n][0] for n in names])
    # relative MC uncertainties below 1e-3 put huge constraint terms into the likelihood and
    # stall the minimiser; 1e-3 is negligible next to the normalisation uncertainties
    stats = np.where(counts > 0, np.maximum(np.array([by_process[n][1] for n in names]),
                                            1e-3 * counts), 0.0)  # fmt: skip
    b_total = counts.sum(axis=0)
    if data is not None:
        d = data[point.window.contains(search_values(data, rule, mass))]
        observed, _ = _bin(scorer(d, mass), np.ones(len(d)), edges)
    else:
        # (a generated mass keeps the stream named after its sample)
        key = _sample_of(meta, mass) or point.mass
        observed = chunk_rng(config.seed, f"pseudo-data/{key}", 0).poisson(b_total).astype(float)
    systematics = _systematics(config, names)
    # mu = 1 near the limit keeps the fits well conditioned: the best single-bin estimate
    # (Poisson, MC statistics and the background normalisations) bounds the combined limit
    s_total = float(s_counts.sum())
    s_frac = s_counts / s_total
    rel_norm = math.sqrt(sum(s.size**2 for s in systematics if set(s.samples) - {SIGNAL}))
    spread = np.sqrt(b_total + (stats**2).sum(axis=0) + (rel_norm * b_total) ** 2)
    with np.errstate(divide="ignore"):
        rough = float(np.min((1.64 * spread + 2.3) / np.where(s_frac > 0, s_frac, 0))) / s_total
    model = BinnedModel(s_counts * rough, counts, stats, observed, systematics, tuple(names))
    row = {
        "mass": mass,
        "interpolated": point.interpolated,
        "window_low": point.window.low,
        "window_high": point.window.high,
        "window_sigma": point.window.sigma,
        "signal_efficiency": point.efficiency,
        "n_signal_ref": point.n_ref,
        "n_signal_selected": s_total,
        "n_background": float(b_total.sum()),
        "n_observed": float(observed.sum()),
        "coupling_ref": point.coupling_ref,
        "punzi_xsec_fb": punzi,
        "cross_section_ref_fb": point.cross_section_ref_fb,
        "low_background": bool(b_total.sum() < cfg.low_background_events),
        "status": "ok",
    }
    return MassModel(model, rough, row)


def _sample_of(meta: dict[str, Any], mass: float) -> str | None:
    return next(
        (k for k, v in meta["samples"].items() if v["is_signal"] and float(v["mass"]) == mass),
        None,
    )
