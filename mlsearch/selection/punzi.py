"""Punzi figure of merit (G. Punzi, physics/0308063): the smallest cross section a selection
can discover (a sigma) or exclude (b sigma), independent of the signal normalisation."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["best_punzi_cut", "one_event_floor", "punzi_cross_section"]

A_SIGMA = 3.0  # discovery significance
B_SIGMA = 1.28155  # 90 % CL exclusion


def punzi_cross_section(
    efficiency: NDArray[np.float64] | float,
    background: NDArray[np.float64] | float,
    luminosity_fb: float,
) -> NDArray[np.float64]:
    """sigma_min [fb] = [a^2/8 + 9 b^2/13 + a sqrt(B) + b/2 sqrt(b^2 + 4 a sqrt(B) + 4 B)]
    / (efficiency x luminosity), B in events.

    >>> # background-free: (a^2/8 + 9 b^2/13 + b^2/2) / 0.5 = (1.125 + 1.1369 + 0.8212) / 0.5
    >>> round(float(punzi_cross_section(0.5, 0.0, 1.0)), 4)
    6.1664
    """
    a, b = A_SIGMA, B_SIGMA
    bkg = np.asarray(background, dtype=np.float64)
    root_b = np.sqrt(bkg)
    numerator = (
        a**2 / 8 + 9 * b**2 / 13 + a * root_b + b / 2 * np.sqrt(b**2 + 4 * a * root_b + 4 * bkg)
    )
    eff = np.asarray(efficiency, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(eff > 0, numerator / (eff * luminosity_fb), np.inf)


def one_event_floor(background_events: NDArray[np.float64], copies: int = 1) -> float:
    """The least background [events] a selection is credited with: the mean weight of one
    background MC event (``copies``: rows per event, the "all" mass assignment). A cut that
    leaves no MC event has not shown that the background is zero."""
    positive = background_events[background_events > 0]
    return float(positive.mean()) * copies if len(positive) else 0.0


def best_punzi_cut(
    s_score: NDArray[np.float64],
    s_events: NDArray[np.float64],
    b_score: NDArray[np.float64],
    b_events: NDArray[np.float64],
    efficiency_before: float,
    luminosity_fb: float,
    background_floor: float,
    n_cuts: int = 50,
    min_cut: float = -np.inf,
) -> tuple[float, float, float, float]:
    """(sigma_min [fb], cut, signal events, background events) of the best score cut; cuts at
    signal-score quantiles, none below ``min_cut``; weights in events; ``efficiency_before``:
    the signal efficiency of everything before the score cut; the background is floored at
    ``background_floor``."""
    if not len(s_score):
        return float("inf"), float("nan"), 0.0, 0.0
    cuts = np.maximum(np.quantile(s_score, np.linspace(0, 0.99, n_cuts)), min_cut)
    s_total = s_events.sum()
    sig = np.array([s_events[s_score >= c].sum() for c in cuts])
    bkg = np.maximum(np.array([b_events[b_score >= c].sum() for c in cuts]), background_floor)
    sigma = punzi_cross_section(sig / s_total * efficiency_before, bkg, luminosity_fb)
    i = int(np.argmin(sigma))
    return float(sigma[i]), float(cuts[i]), float(sig[i]), float(bkg[i])
