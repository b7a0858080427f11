"""Out-of-fold background scores per mass hypothesis: the train stage writes them, the
evaluate stage reads them.

A background row is scored at a mass when it lies in that mass's window neighbourhood
(:data:`~mlsearch.selection.windows.NEIGHBOURHOOD_WIDTHS` window widths on each side): what
the evaluation's window metrics, sculpting ratio and plots look at. Stored long, one row per
(background row, mass) scored: on the Z' grid (65 masses whose windows touch) a row is
scored at ~3 masses instead of 65."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlsearch.io.atomic import atomic_path
from mlsearch.selection.windows import (
    MIN_SIGNAL_EVENTS,
    NEIGHBOURHOOD_WIDTHS,
    MassWindow,
    signal_window,
)

__all__ = ["BackgroundScores", "scoring_rows"]


def scoring_rows(
    signal_values: NDArray[np.float64], background_values: NDArray[np.float64], window_sigma: float
) -> tuple[NDArray[np.bool_], MassWindow | None]:
    """Which background rows are scored at a mass, from the search variable at that mass of
    its signal rows and of every background row, and the window measured on the signal as
    the evaluation and the limits measure it (None: too few signal events to measure one,
    and nothing is scored)."""
    if len(signal_values) < MIN_SIGNAL_EVENTS:
        return np.zeros(len(background_values), dtype=bool), None
    window = signal_window(signal_values, window_sigma)
    return window.widened(NEIGHBOURHOOD_WIDTHS).contains(background_values), window


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
