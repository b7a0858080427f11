"""The inputs of the limits per mass hypothesis, read from the feature table: the signal
points of the generated masses (window, efficiency, the score distribution in the window)
and the scored background MC in each point's window.

Scores come from a ``Scorer``: rows of the table and a mass [GeV] -> one score per row
(:class:`OnnxFoldScorer`: each event by the fold ONNX model that did not train on it;
:class:`CutScorer`: the published cut-based selection, for ``limits.model: cuts``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlsearch.io.feature_table import FeatureTableMeta, background_rows
from mlsearch.limits.binned import Backgrounds
from mlsearch.limits.signal_points import SignalPoint, interpolate_points, measure_point
from mlsearch.scoring import score_by_fold, stack_inputs
from mlsearch.selection.published import PublishedSelection
from mlsearch.selection.windows import MIN_SIGNAL_EVENTS, search_values, select_window

__all__ = [
    "BackgroundSample",
    "CutScorer",
    "OnnxFoldScorer",
    "Scorer",
    "signal_points",
    "window_backgrounds",
]

Scorer = Callable[[pd.DataFrame, float], NDArray[np.float64]]


class OnnxFoldScorer:
    """Scores table rows with the fold ONNX sessions: each event by the model that did not
    train on it (its ``fold`` column; data events get the fold of their event number)."""

    def __init__(self, sessions: list[Any], features: list[str]) -> None:
        self.sessions = sessions
        self.features = features

    def __call__(self, rows: pd.DataFrame, mass: float) -> NDArray[np.float64]:
        def run(session: Any) -> Callable[[Any, Any], NDArray[np.float32]]:
            return lambda x, m: session.run(["score"], {"input": stack_inputs(x, m)})[0].reshape(-1)

        x = rows[self.features].to_numpy()
        fold = rows["fold"].to_numpy()
        runs = [run(s) for s in self.sessions]
        return np.asarray(score_by_fold(runs, x, np.full(len(x), mass), fold), dtype=np.float64)


class CutScorer:
    """Scores table rows with a published selection (selection.published): 0 for a row that
    fails a fixed step, else k / (K + 1) with k = 1 + the number of its K tuned thresholds
    passed; a score cut at ``min_cut`` or above is the selection at one threshold."""

    def __init__(self, selection: PublishedSelection) -> None:
        self.selection = selection
        self.n_levels = len(selection.tuned.values) + 1

    @property
    def min_cut(self) -> float:
        """The lowest score of a row passing the fixed steps."""
        return 0.5 / self.n_levels

    def __call__(self, rows: pd.DataFrame, mass: float) -> NDArray[np.float64]:
        return self.selection.levels(rows).astype(np.float64) / self.n_levels


def _no_signal_reason(n_selected: int, n_generated: int) -> str | None:
    if n_selected == 0:
        return f"no signal event of {n_generated} generated passes the selection (efficiency 0)"
    if n_selected < MIN_SIGNAL_EVENTS:
        return (
            f"{n_selected} selected signal events of {n_generated} generated: too few to "
            "measure a window; raise n_events"
        )
    return None


def signal_points(
    table: pd.DataFrame,
    meta: FeatureTableMeta,
    scorer: Scorer,
    window_sigma: float,
    luminosity_fb: float,
    between: int | str,
    branching: Callable[[float], float],
) -> tuple[list[SignalPoint], list[dict[str, Any]]]:
    """The signal points of the generated masses with enough selected signal (plus
    ``between`` interpolated ones in each gap; ``branching``: the signal's branching fraction
    versus mass; 'auto': as many as make the windows touch), and a "no limit" row with the
    reason for every generated mass without."""
    rule = meta.search_rule
    points, no_limit = [], []
    signals = {k: v for k, v in meta.samples.items() if v.is_signal}
    for sample, info in sorted(signals.items(), key=lambda kv: kv[1].mass or 0.0):
        mass = float(info.mass or 0.0)
        sig = table[table["process"] == sample]
        xsec, coupling = info.cross_section_fb, float(info.coupling or 0.0)
        reason = _no_signal_reason(len(sig), info.n_generated)
        if reason is None:
            sel = select_window(sig, sig.iloc[:0], rule, mass, window_sigma, luminosity_fb, xsec)
            sig, events = sig[sel.signal_in], sel.signal_events
            if events.sum() <= 0:
                reason = "no signal event in the window"
        if reason:
            no_limit.append({"mass": mass, "interpolated": False, "status": f"no limit: {reason}"})
            continue
        points.append(
            measure_point(
                mass, sel.window, scorer(sig, mass), events, xsec, coupling, luminosity_fb
            )
        )
    power = 2 if meta.search_unit == "GeV^2" else 1
    return interpolate_points(points, between, power, branching), no_limit


class BackgroundSample:
    """The table's background MC, one row per MC event, prepared once for all the mass
    points: :meth:`in_window` then selects and scores the rows of one window."""

    def __init__(self, table: pd.DataFrame, meta: FeatureTableMeta, luminosity_fb: float):
        self.rows = background_rows(table, meta)
        self.rule = meta.search_rule
        self.process = meta.physics_process(self.rows["process"])
        self.weights = self.rows["weight"].to_numpy()
        self.event = self.rows["event"].to_numpy()
        self.processes = tuple(sorted(set(meta.background_process.values())))
        self.all_names = tuple(str(p) for p in pd.unique(self.process))
        self.luminosity_fb = luminosity_fb

    def in_window(self, point: SignalPoint, scorer: Scorer) -> Backgrounds:
        """The rows in ``point``'s window scored at its mass, with the whole sample."""
        inside = point.window.contains(search_values(self.rows, self.rule, point.mass))
        return Backgrounds(
            scores=scorer(self.rows[inside], point.mass),
            weights=self.weights[inside],
            process=self.process[inside],
            all_weights=self.weights,
            all_process=self.process,
            processes=self.processes,
            luminosity_fb=self.luminosity_fb,
            event=self.event[inside],
            all_names=self.all_names,
        )


def window_backgrounds(
    table: pd.DataFrame,
    meta: FeatureTableMeta,
    point: SignalPoint,
    scorer: Scorer,
    luminosity_fb: float,
) -> Backgrounds:
    """The background MC of the table, and its rows in ``point``'s window scored at its
    mass, by physics process (the samples of one process are one background). For many
    points, build a :class:`BackgroundSample` once."""
    return BackgroundSample(table, meta, luminosity_fb).in_window(point, scorer)
