"""Punzi figure of merit (G. Punzi, physics/0308063): the smallest cross section a selection
can discover (a sigma) or exclude (b sigma), independent of the signal normalisation."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["best_punzi_cross_section", "punzi_cross_section"]

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


def best_punzi_cross_section(
    signal_score: NDArray[np.float64],
    signal_weight: NDArray[np.float64],
    background_score: NDArray[np.float64],
    background_weight: NDArray[np.float64],
    efficiency_before: float,
    luminosity_fb: float,
    background_floor: float = 0.0,
    n_cuts: int = 50,
) -> float:
    """Best sigma_min [fb] over score cuts (at signal-score quantiles); ``efficiency_before``
    is the signal efficiency of everything before the score cut; weights in events.

    ``background_floor`` [events] is the least background a cut is credited with: a cut that
    leaves no background MC event has not shown that the background is zero.
    """
    if len(signal_score) == 0:
        return float("inf")
    cuts = np.quantile(signal_score, np.linspace(0, 0.99, n_cuts))
    s_total = signal_weight.sum()
    eff = np.array([signal_weight[signal_score >= c].sum() for c in cuts]) / s_total
    bkg = np.array([background_weight[background_score >= c].sum() for c in cuts])
    bkg = np.maximum(bkg, background_floor)
    return float(np.min(punzi_cross_section(eff * efficiency_before, bkg, luminosity_fb)))
