"""How much luminosity the background Monte Carlo stands for inside a window.

A sample of weighted MC events (w_i [fb] = expected events per fb^-1) measures its total with
the relative precision of N_eff = (sum w)^2 / sum w^2 unweighted events, as much as data of

    L_eff = sum w / sum w^2   [fb^-1]

would (for unweighted events of weight sigma / N this is N / sigma, the generated
luminosity). Where L_eff is below the data luminosity, the MC statistics, not the data,
set how well the background is known; a limit there measures the MC sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "MIN_BACKGROUND_SHARE",
    "WindowMcLuminosity",
    "effective_luminosity",
    "window_mc_luminosity",
]

#: processes below this share of the window's expected background do not limit it
MIN_BACKGROUND_SHARE = 0.01


def effective_luminosity(weights_fb: NDArray[np.float64]) -> float:
    """sum w / sum w^2 [fb^-1] of MC events of weights ``weights_fb`` [fb] (0 if none).

    >>> effective_luminosity(np.full(1000, 0.5))  # 1000 events of sigma = 500 fb: 2 fb^-1
    2.0
    >>> # one event of 100x the weight: 10x less luminosity than the 1000 events stood for
    >>> round(effective_luminosity(np.array([0.5] * 999 + [50.0])), 3)
    0.2
    """
    w = np.asarray(weights_fb, dtype=np.float64)
    w2 = float((w**2).sum())
    return float(w.sum()) / w2 if w2 > 0 else 0.0


@dataclass(frozen=True)
class WindowMcLuminosity:
    """Per background process in one window: its effective MC luminosity [fb^-1] and its
    share of the window's expected background; ``limiting``: the smallest L_eff among the
    processes with at least MIN_BACKGROUND_SHARE of it."""

    per_process: dict[str, float]
    shares: dict[str, float]
    limiting: float


def window_mc_luminosity(
    weights_fb: NDArray[np.float64],
    process: NDArray[Any],
    all_weights_fb: NDArray[np.float64],
    all_process: NDArray[Any],
) -> WindowMcLuminosity:
    """L_eff per process of the MC events in a window (``weights_fb``, ``process``). A
    window without any background MC is limited by the whole sample of the process an
    empty bin is charged to (the one of largest mean weight: ``all_*``): no event of an MC
    of luminosity L_MC in the window says only that the background is below ~1 / L_MC."""
    names = sorted({str(p) for p in process})
    total = float(np.sum(weights_fb))
    per = {n: effective_luminosity(weights_fb[process == n]) for n in names}
    shares = {n: float(weights_fb[process == n].sum()) / total if total > 0 else 0.0 for n in names}
    relevant = [per[n] for n in names if shares[n] >= MIN_BACKGROUND_SHARE]
    if relevant:
        return WindowMcLuminosity(per, shares, min(relevant))
    means = {str(p): float(all_weights_fb[all_process == p].mean()) for p in set(all_process)}
    heaviest = max(sorted(means), key=lambda n: means[n])
    whole = effective_luminosity(all_weights_fb[all_process == heaviest])
    return WindowMcLuminosity({heaviest: 0.0}, {heaviest: 0.0}, whole)
