"""Particle identification: muonID (KLM) and electronID (ECL E/p, shower shape, dE/dx)
likelihood-ratio values in [0, 1] for the true species and the fakes, as functions of
momentum and polar angle (Belle: NIM A 491 (2002) 69, NIM A 485 (2002) 490;
docs/simulation.md).

A track "passes" (value above 0.5) with the efficiency or fake rate of its species; passing
values cluster near 1, failing ones spread below 0.5, as the basf2 likelihood ratios do.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["electron_efficiency", "electron_id", "muon_efficiency", "muon_id"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def _likelihood(prob: FloatArray, rng: np.random.Generator) -> FloatArray:
    n = len(prob)
    passed = rng.uniform(size=n) < prob
    high = 1.0 - 0.5 * rng.uniform(size=n) ** 4
    low = 0.5 * rng.uniform(size=n) ** 2
    return np.where(passed, high, low)


def _klm_acceptance(theta: FloatArray) -> FloatArray:
    """Fraction of the muon plateau reached at polar angle theta [rad]: the KLM barrel and
    endcaps cover 25-145 deg fully, the edges of the CDC acceptance (17-25, 145-150 deg)
    partly."""
    deg = np.degrees(theta)
    full = (deg >= 25) & (deg <= 145)
    edge = ((deg >= 17) & (deg < 25)) | ((deg > 145) & (deg <= 150))
    return np.where(full, 1.0, np.where(edge, 0.7, 0.0))


def muon_efficiency(p: FloatArray, plateau: float, theta: FloatArray | None = None) -> FloatArray:
    """P(muonID > 0.5) for true muons: 0 below 0.6 GeV (range out before the KLM), rising to
    the plateau at 1 GeV (Belle: 89 % for 1-3 GeV/c), times the KLM angular acceptance."""
    eff = plateau * np.clip((p - 0.6) / 0.4, 0.0, 1.0)
    return eff if theta is None else eff * _klm_acceptance(theta)


def muon_id(
    p: FloatArray,
    is_muon: BoolArray,
    plateau: float,
    fake_rate: float | FloatArray,
    rng: np.random.Generator,
    theta: FloatArray | None = None,
) -> FloatArray:
    """muonID values in [0, 1]: passing tracks near 1, failing ones spread below 0.5.

    ``fake_rate`` (one value or per track) is P(muonID > 0.5) for non-muons above 0.6 GeV.
    """
    prob = np.where(is_muon, muon_efficiency(p, plateau, theta), fake_rate * (p > 0.6))
    return _likelihood(prob, rng)


def electron_efficiency(p: FloatArray, theta: FloatArray, plateau: float) -> FloatArray:
    """P(electronID > 0.5) for true electrons: rising from 0 at 0.2 GeV to the plateau at
    1 GeV (Belle: 92.4 % for 1-3 GeV/c); halved in the barrel-endcap gaps (no full cluster),
    0 outside the ECL."""
    deg = np.degrees(theta)
    in_ecl = (deg >= 12.4) & (deg <= 155.1)
    gap = ((deg > 31.4) & (deg < 32.2)) | ((deg > 128.7) & (deg < 130.7))
    eff = plateau * np.clip((p - 0.2) / 0.8, 0.0, 1.0)
    return np.where(in_ecl, np.where(gap, 0.5 * eff, eff), 0.0)


def electron_id(
    p: FloatArray,
    theta: FloatArray,
    is_electron: BoolArray,
    plateau: float,
    fake_rate: float | FloatArray,
    rng: np.random.Generator,
) -> FloatArray:
    """electronID values in [0, 1]; ``fake_rate``: P(> 0.5) for non-electrons (Belle: pions
    0.25 %)."""
    prob = np.where(is_electron, electron_efficiency(p, theta, plateau), fake_rate)
    return _likelihood(prob, rng)
