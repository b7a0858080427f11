"""Signal windows in the search variable, from the signal sample's own resolution."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Window", "signal_window"]


@dataclass(frozen=True)
class Window:
    """[low, high] around ``center``; ``sigma`` is the signal resolution (same unit)."""

    center: float
    sigma: float
    low: float
    high: float

    def contains(self, values: NDArray[np.float64]) -> NDArray[np.bool_]:
        return (values >= self.low) & (values <= self.high)


def signal_window(values: NDArray[np.float64], n_sigma: float) -> Window:
    """Window of +-n_sigma around the signal median; sigma is half the central 68 % interval
    (robust against the low-side radiative and high-side resolution tails).

    >>> rng = np.random.default_rng(1)
    >>> w = signal_window(rng.normal(4.0, 0.5, 200_000), 2.0)
    >>> round(w.center, 2), round(w.sigma, 2), round(w.low, 1), round(w.high, 1)
    (4.0, 0.5, 3.0, 5.0)
    """
    if len(values) < 10:
        raise ValueError(f"too few signal events ({len(values)}) to measure a resolution")
    q16, q50, q84 = np.quantile(values, [0.16, 0.5, 0.84])
    sigma = float(q84 - q16) / 2
    return Window(float(q50), sigma, float(q50 - n_sigma * sigma), float(q50 + n_sigma * sigma))
