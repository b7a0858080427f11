"""Final-state radiation off a lepton pair, in the collinear (structure-function) picture.

In the pair rest frame each lepton radiates a photon carrying the fraction z of its energy,
drawn from the Kuraev-Fadin structure function with the final-state exponent
beta_f = 2 alpha/pi (ln(M^2/m^2) - 1) (M: pair mass; 0.038 for muon pairs at 10.58 GeV),
normalised to one, so FSR changes the shape and not the rate (the O(alpha) KLN correction to
the total, 3 alpha / 4 pi = 0.17 %, is left out). The photon angle to its lepton follows
the pair's dipole pattern in that lepton's hemisphere, (1 - cos^2) / (1 - beta_l^2 cos^2)^2
(dead cone inside 1/gamma, then flat in log theta: FSR photons are not all collinear; hard
FSR beyond 10 deg of the muons within 4 % of the exact e+e- -> mu+ mu- gamma matrix
element, docs/validation.md). The leptons then share what the
photons leave: they are put back to back in the rest frame of the remaining momentum, along
their original axis, so four-momentum is conserved exactly.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mlsearch.generate.dipole import dipole_photon_cos
from mlsearch.generate.isr import structure_function
from mlsearch.physics.constants import ALPHA_EM
from mlsearch.physics.kinematics import boost, invariant_mass2, rotate_z_to

__all__ = [
    "Z_MIN",
    "fsr_beta",
    "radiate_final_state",
    "radiate_final_state_aimed",
    "radiate_final_state_weighted",
]

FloatArray = NDArray[np.float64]
Z_MIN = 1e-4  # lighter photons are dropped (below ~0.5 MeV for muons at 10.58 GeV)


def fsr_beta(m_pair2: FloatArray, mass: float) -> FloatArray:
    """beta_f = 2 alpha / pi (ln(M^2/m^2) - 1), floored at 0 near threshold."""
    return np.asarray(np.clip(2 * ALPHA_EM / np.pi * (np.log(m_pair2 / mass**2) - 1), 0, None))


def _fractions(beta: FloatArray, rng: np.random.Generator) -> FloatArray:
    """z from D(z) = beta/2 z^(beta/2-1)(1 + 3 beta/8) - beta/4 (2 - z): the leading power
    by inverse transform, the rest by accept-reject (the ratio is in (0, 1])."""
    n = beta.shape[0]
    out = np.zeros(n)
    todo = np.flatnonzero(beta > 0)
    while todo.size:
        b = beta[todo]
        z = rng.uniform(size=todo.size) ** (2 / b)
        ratio = 1 - (2 - z) * z ** (1 - b / 2) / (2 * (1 + 3 * b / 8))
        ok = rng.uniform(size=todo.size) < ratio
        out[todo[ok]] = z[ok]
        todo = todo[~ok]
    return out


def _fractions_weighted(
    beta: FloatArray,
    hard: float,
    rng: np.random.Generator,
    aimed: NDArray[np.bool_] | None = None,
    band: tuple[float, float] = (Z_MIN, 1.0),
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """z from the mixture (1 - hard) x the leading power beta/2 z^(beta/2-1) + hard x
    log-uniform in [Z_MIN, 1], the weight D(z) / (mixture density) and, for the ``aimed``
    events, z log-uniform in ``band`` instead, with the ratio (band's density) / (mixture
    density) of every event (0 outside the band; all 0 without ``aimed``): hard photons (the
    recoil mass of a muon pair that radiated) ~1/hard x more often at weight ~hard. D is
    normalised to one, so the mean weight is 1 and the rate stays that of the unweighted
    sampler."""
    n = beta.shape[0]
    b = np.where(beta > 0, beta, 1.0)
    u = rng.uniform(size=n)
    z = np.where(rng.uniform(size=n) < hard, Z_MIN ** (1 - u), u ** (2 / b))
    low, high = band
    if aimed is not None:  # drawn only then: the other samples keep their random stream
        z = np.where(aimed, low * (high / low) ** rng.uniform(size=n), z)
    z = np.clip(z, 1e-300, 1.0)
    power = b / 2 * z ** (b / 2 - 1)
    density = (1 - hard) * power + hard * np.where(z >= Z_MIN, 1 / (z * -np.log(Z_MIN)), 0.0)
    d = structure_function(z, b)
    odds = np.zeros(n)
    if aimed is not None:
        inside = (z >= low) & (z <= high) & (beta > 0)
        odds = np.where(inside, 1 / (z * np.log(high / low) * density), 0.0)
    return np.where(beta > 0, z, 0.0), np.where(beta > 0, d / density, 1.0), odds


def _photon_direction(
    lepton: FloatArray, beta_l: FloatArray, rng: np.random.Generator
) -> FloatArray:
    """Unit vectors (n, 3) at angle theta to the lepton (in the pair rest frame, where the
    two leptons are back to back) from the pair's dipole pattern in the lepton's hemisphere,
    (1 - cos^2) / (1 - beta_l^2 cos^2)^2 (:func:`~mlsearch.generate.dipole.dipole_photon_cos`:
    the dead cone inside 1/gamma, then flat in log theta)."""
    n = lepton.shape[0]
    c = dipole_photon_cos(n, np.clip(beta_l, 1e-9, 1 - 1e-15), rng)
    phi = rng.uniform(0, 2 * np.pi, n)
    s = np.sqrt(np.clip(1 - c**2, 0, None))
    local = np.stack([np.ones(n), s * np.cos(phi), s * np.sin(phi), c], axis=-1)
    axis = lepton[:, 1:] / np.linalg.norm(lepton[:, 1:], axis=1, keepdims=True)
    return rotate_z_to(local[:, None], axis[:, None])[:, 0, 1:]


def radiate_final_state(
    pair: FloatArray,
    mass: float,
    rng: np.random.Generator,
    at_rest: bool = False,
    mass2: float | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Leptons (n, 2, 4) after FSR and the two FSR photons (n, 2, 4) (E = 0: none), same frame
    as the input pair; ``at_rest``: the pair is given in its rest frame (saves two boosts).
    ``mass2``: the second lepton's mass when it differs from the first's (e mu pairs): each
    lepton then radiates with its own exponent beta_f and velocity."""
    leptons, photons, _ = radiate_final_state_weighted(pair, mass, rng, at_rest, mass2)
    return leptons, photons


def radiate_final_state_weighted(
    pair: FloatArray,
    mass: float,
    rng: np.random.Generator,
    at_rest: bool = False,
    mass2: float | None = None,
    hard: float = 0.0,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`radiate_final_state` with the photon fractions importance-sampled: ``hard`` > 0
    draws each z from the mixture of :func:`_fractions_weighted` and returns the event
    weights (n,) (mean 1) with the leptons and photons; ``hard`` = 0 is the unweighted
    sampler (weights 1, the same events as :func:`radiate_final_state`)."""
    leptons, photons, weight, _ = radiate_final_state_aimed(pair, mass, rng, at_rest, mass2, hard)
    return leptons, photons, weight


def radiate_final_state_aimed(
    pair: FloatArray,
    mass: float,
    rng: np.random.Generator,
    at_rest: bool = False,
    mass2: float | None = None,
    hard: float = 0.0,
    aimed_lepton: NDArray[np.int8] | None = None,
    band: tuple[float, float] = (Z_MIN, 1.0),
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """:func:`radiate_final_state_weighted` where the events with ``aimed_lepton`` 0 or 1 (-1:
    none) draw that lepton's z log-uniform in ``band``; also returns, per event, the mean
    over the two leptons of (band's density) / (mixture density) at their z, which the
    caller's weight needs: the events drawn aimed are one channel of the caller's mixture."""
    n: int = pair.shape[0]
    weight = np.ones(n)
    odds = np.zeros(n)
    total = pair[:, 0] + pair[:, 1]
    m2 = invariant_mass2(total)
    beta_p = total[:, 1:] / total[:, :1]
    rest = pair if at_rest else boost(pair, beta_p[:, None, :])  # pair rest frame
    masses = (mass, mass if mass2 is None else mass2)
    photons = np.zeros((n, 2, 4))
    for i in range(2):
        m_i, m_j = masses[i], masses[1 - i]
        # the lepton's energy in the pair rest frame (the equal-mass form kept bit for bit)
        e_star = np.sqrt(m2) / 2 if mass2 is None else (m2 + m_i**2 - m_j**2) / (2 * np.sqrt(m2))
        beta_l = np.sqrt(np.clip(1 - m_i**2 / e_star**2, 0, None))
        if hard > 0 or aimed_lepton is not None:
            aimed = None if aimed_lepton is None else aimed_lepton == i
            z, w_z, odds_i = _fractions_weighted(fsr_beta(m2, m_i), hard, rng, aimed, band)
            weight *= w_z
            odds += odds_i / 2
        else:
            z = _fractions(fsr_beta(m2, m_i), rng)
        direction = _photon_direction(rest[:, i], beta_l, rng)
        energy = np.where(z > Z_MIN, z * e_star, 0.0)
        photons[:, i] = np.concatenate([energy[:, None], energy[:, None] * direction], axis=1)
    frame = np.zeros((n, 4))
    frame[:, 0] = np.sqrt(m2)
    q = frame - photons.sum(axis=1)
    q_m2 = invariant_mass2(q)
    threshold2 = 4 * mass**2 if mass2 is None else (mass + mass2) ** 2
    ok = q_m2 > threshold2 * 1.0001  # else: no FSR for this event
    photons[~ok] = 0.0
    q[~ok] = frame[~ok]
    q_m2 = np.where(ok, q_m2, m2)
    beta_q = q[:, 1:] / q[:, :1]
    axis = boost(rest[:, 0], beta_q)[:, 1:]
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    if mass2 is None:
        e_l = e_m = np.sqrt(q_m2) / 2
    else:
        e_l = (q_m2 + mass**2 - mass2**2) / (2 * np.sqrt(q_m2))
        e_m = np.sqrt(q_m2) - e_l
    p_l = np.sqrt(np.clip(e_l**2 - mass**2, 0, None))
    minus = np.concatenate([e_l[:, None], p_l[:, None] * axis], axis=1)
    plus = np.concatenate([e_m[:, None], -p_l[:, None] * axis], axis=1)
    leptons = boost(np.stack([minus, plus], axis=1), -beta_q[:, None, :])
    if at_rest:
        return leptons, photons, weight, odds
    leptons = boost(leptons, -beta_p[:, None, :])
    photons = np.where(photons[..., :1] > 0, boost(photons, -beta_p[:, None, :]), 0.0)
    return leptons, photons, weight, odds
