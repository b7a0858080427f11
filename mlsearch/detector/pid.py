"""Muon identification (KLM): muonID likelihood-ratio values for muons and pion fakes."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["muon_id"]

FloatArray = NDArray[np.float64]


def muon_efficiency(p: FloatArray, plateau: float) -> FloatArray:
    """P(muonID > 0.5) for true muons: 0 below 0.6 GeV (range out before the KLM), rising to
    the plateau at 1 GeV (Belle: 89 % for 1-3 GeV/c)."""
    return plateau * np.clip((p - 0.6) / 0.4, 0.0, 1.0)


def muon_id(
    p: FloatArray,
    is_muon: NDArray[np.bool_],
    plateau: float,
    fake_rate: float | FloatArray,
    rng: np.random.Generator,
) -> FloatArray:
    """muonID values in [0, 1]: passing tracks near 1, failing ones spread below 0.5.

    ``fake_rate`` (one value or per track) is P(muonID > 0.5) for non-muons above 0.6 GeV.
    """
    n = len(p)
    prob = np.where(is_muon, muon_efficiency(p, plateau), fake_rate * (p > 0.6))
    passed = rng.uniform(size=n) < prob
    high = 1.0 - 0.5 * rng.uniform(size=n) ** 4
    low = 0.5 * rng.uniform(size=n) ** 2
    return np.where(passed, high, low)
