"""Out-of-fold background scores per mass hypothesis: the train stage writes them, the
evaluate stage reads them.

A background row is scored at a mass when it lies in that mass's window neighbourhood
(:data:`~mlsearch.selection.windows.NEIGHBOURHOOD_WIDTHS` window widths on each side), and
at the grid's figure masses (:func:`figure_masses`, whose plots show the whole range)
everywhere. Stored long, one row per (background row, mass) scored: at 61 masses the
window-only scoring is ~1/10 of the every-row-at-every-mass one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlsearch.io.atomic import atomic_path
from mlsearch.io.feature_table import FeatureTableMeta
from mlsearch.selection.windows import (
    MIN_SIGNAL_EVENTS,
    NEIGHBOURHOOD_WIDTHS,
    MassWindow,
    search_values,
    signal_window,
)

__all__ = ["FIGURE_MASSES", "BackgroundScores", "figure_masses", "scoring_rows"]

#: most masses drawn in one model's ROC, sculpting and score plots (the table has them all)
FIGURE_MASSES = 9


def figure_masses(grid: list[float], n: int = FIGURE_MASSES) -> list[float]:
    """At most ``n`` masses spread evenly over the grid (its ends included).

    >>> figure_masses([1.0, 2.0, 3.0]), figure_masses([float(m) for m in range(1, 61)], 4)
    ([1.0, 2.0, 3.0], [1.0, 21.0, 40.0, 60.0])
    """
    if len(grid) <= n:
        return list(grid)
    return [grid[round(i * (len(grid) - 1) / (n - 1))] for i in range(n)]


def scoring_rows(
    table: pd.DataFrame, meta: FeatureTableMeta, mass: float, window_sigma: float
) -> tuple[NDArray[np.bool_], MassWindow | None]:
    """Which background rows (in table order, background only) are scored at ``mass``
    [GeV], and its window (None: too few signal events to measure one; then only a figure
    mass scores anything). The window is measured on the signal rows at that mass, as the
    evaluation and the limits measure it."""
    is_sig = table["label"].to_numpy() == 1
    at_mass = is_sig & (table["mass_hypothesis"].to_numpy() == mass)
    background = table[~is_sig]
    everywhere = mass in figure_masses(list(meta.mass_grid))
    if at_mass.sum() < MIN_SIGNAL_EVENTS:
        return np.full(len(background), everywhere), None
    window = signal_window(search_values(table[at_mass], meta.search_rule, mass), window_sigma)
    if everywhere:
        return np.ones(len(background), dtype=bool), window
    near = window.widened(NEIGHBOURHOOD_WIDTHS)
    return near.contains(search_values(background, meta.search_rule, mass)), window


@dataclass(frozen=True)
class BackgroundScores:
    """The scored (row, mass, score) triples of one model."""

    frame: pd.DataFrame

    @classmethod
    def of(
        cls, per_mass: dict[float, tuple[NDArray[np.int64], NDArray[np.float32]]]
    ) -> BackgroundScores:
        """From {mass: (background row indices, their scores)}."""
        parts = [
            pd.DataFrame(
                {
                    "row": rows.astype(np.int64),
                    "mass": np.full(len(rows), m),
                    "score": scores.astype(np.float32),
                }
            )
            for m, (rows, scores) in per_mass.items()
        ]
        frame = (
            pd.concat(parts, ignore_index=True)
            if parts
            else pd.DataFrame(
                {
                    "row": np.zeros(0, np.int64),
                    "mass": np.zeros(0),
                    "score": np.zeros(0, np.float32),
                }
            )
        )
        return cls(frame)

    def write(self, path: Path) -> None:
        with atomic_path(path) as tmp:
            self.frame.to_parquet(tmp)

    @classmethod
    def read(cls, path: Path) -> BackgroundScores:
        return cls(pd.read_parquet(path))

    def at(self, mass: float, n_background: int) -> NDArray[np.float64]:
        """The scores at ``mass`` over all ``n_background`` rows, NaN where not scored
        (float64 holding the stored float32 values exactly)."""
        out = np.full(n_background, np.nan)
        sel = self.frame["mass"].to_numpy() == mass
        out[self.frame["row"].to_numpy()[sel]] = self.frame["score"].to_numpy()[sel]
        return out
