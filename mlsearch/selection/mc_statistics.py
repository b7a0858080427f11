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
import pandas as pd
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
    """Per background process in one window: its effective MC luminosity [fb^-1], its share of
    the window's expected background, and the weight of one of its effective MC events
    [fb] (``one_event_fb`` = 1 / L_eff: the least background its MC can resolve, the scale of
    its empty-bin floor); ``limiting``: the smallest L_eff among the processes with at least
    MIN_BACKGROUND_SHARE of the window's background.

    A process without any MC event in the window is represented by its whole sample: no event
    of an MC of luminosity L_MC says only that the process is below ~1 / L_MC there, so it
    takes that L_MC and one event of that weight counts in its share (``absent`` names them).
    """

    per_process: dict[str, float]
    shares: dict[str, float]
    absent: tuple[str, ...]
    limiting: float

    @property
    def one_event_fb(self) -> dict[str, float]:
        return {n: 1.0 / lumi if lumi > 0 else 0.0 for n, lumi in self.per_process.items()}


def window_mc_luminosity(
    weights_fb: NDArray[np.float64],
    process: NDArray[Any],
    all_weights_fb: NDArray[np.float64],
    all_process: NDArray[Any],
    all_names: tuple[str, ...] | None = None,
) -> WindowMcLuminosity:
    """L_eff per process of the MC events in a window (``weights_fb``, ``process``), every
    process of the sample (``all_weights_fb``, ``all_process``; ``all_names``: its distinct
    names, when the caller has them: finding them is a pass over every row) included."""
    everywhere = all_names if all_names is not None else {str(p) for p in all_process}
    names = sorted(set(everywhere) | {str(p) for p in pd.unique(process)})
    per, absent, expected = {}, [], {}
    for name in names:
        inside = weights_fb[process == name]
        if not (inside > 0).any():
            absent.append(name)
            inside = all_weights_fb[all_process == name]
        per[name] = effective_luminosity(inside)
        # an absent process counts with one effective event of its sample: 1 / L_eff [fb]
        one = 1.0 / per[name] if per[name] > 0 else 0.0
        expected[name] = one if name in absent else float(inside.sum())
    total = sum(expected.values())
    shares = {n: expected[n] / total if total > 0 else 0.0 for n in names}
    relevant = [per[n] for n in names if shares[n] >= MIN_BACKGROUND_SHARE]
    return WindowMcLuminosity(per, shares, tuple(absent), min(relevant, default=0.0))
