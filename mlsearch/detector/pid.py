"""Particle identification: muonID (KLM) and electronID (ECL E/p, shower shape, dE/dx)
likelihood-ratio values in [0, 1] for the true species and the fakes, as functions of
momentum and polar angle (Belle: NIM A 491 (2002) 69, NIM A 485 (2002) 490;
docs/simulation.md).

A track "passes" (value above 0.5) with the efficiency or fake rate of its species; passing
values cluster near 1, failing ones spread below 0.5, as the basf2 likelihood ratios do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ForcedFakes",
    "electron_efficiency",
    "electron_id",
    "forced_fakes",
    "muon_efficiency",
    "muon_id",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class ForcedFakes:
    """One forced fake per event (:func:`forced_fakes`): ``chosen`` marks the track made to
    pass; ``rate`` the true fake rate of every track (0: cannot fake), ``event`` its event,
    ``n_candidates`` per event."""

    chosen: BoolArray
    rate: FloatArray
    event: NDArray[np.int64]
    n_candidates: NDArray[np.int64]

    def event_weight(self, passed: BoolArray) -> FloatArray:
        """The weight that makes the forced sample unbiased, per event: with S the candidate
        tracks that passed (the chosen one and any that faked on their own),

            w = P_true(S) / P_forced(S) = 1 / sum_{j in S} q_j / f_j,   q_j = 1 / n_candidates

        (P_forced(S) = sum_{j in S} q_j prod_{S \\ j} f prod_{not S} (1 - f)); events without
        a candidate keep weight 1 (nothing was forced)."""
        n = len(self.n_candidates)
        q = 1.0 / np.maximum(self.n_candidates[self.event], 1)
        terms = np.where(passed & (self.rate > 0), q / np.where(self.rate > 0, self.rate, 1), 0.0)
        total = np.bincount(self.event, weights=terms, minlength=n)
        return np.where(self.n_candidates > 0, 1.0 / np.where(total > 0, total, 1.0), 1.0)


def forced_fakes(
    event: NDArray[np.int64], rate: FloatArray, n_events: int, rng: np.random.Generator
) -> ForcedFakes:
    """Importance sampling of misidentification: in every event, one of the tracks that can
    fake the ID (``rate`` > 0, their true fake rates) is chosen uniformly and made to pass;
    the others are drawn as usual. A sample of e+e- -> e+e- then gives its e-mu background
    from every event instead of one in ~10^3, with exact weights (ForcedFakes.event_weight).
    Events where no track faked are absent from the forced sample, so it is unbiased only for
    selections that need a track passing the ID."""
    candidate = rate > 0
    n_candidates = np.bincount(event[candidate], minlength=n_events).astype(np.int64)
    # the k-th candidate of each event, k uniform in [0, n_candidates)
    pick = np.floor(rng.uniform(size=n_events) * n_candidates).astype(np.int64)
    order = np.flatnonzero(candidate)
    first = np.concatenate([[0], np.cumsum(n_candidates)[:-1]])
    has = n_candidates > 0
    chosen = np.zeros(len(rate), dtype=bool)
    # candidates are in event order (tracks are listed event by event)
    chosen[order[(first + pick)[has]]] = True
    return ForcedFakes(chosen, np.asarray(rate, dtype=np.float64), event, n_candidates)


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
