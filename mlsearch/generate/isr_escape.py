"""An ISR channel aimed at photons that leave no cluster in the calorimeter and still give the
recoiling pair transverse momentum.

A muon pair whose hard ISR photon leaves past the ECL's edges (12.4 deg forward, 155.1 deg
backward, lab) or into a barrel-endcap gap has a recoil mass^2 of ~0 and the photon's
transverse momentum: it is the Z' search's background in its lowest window
(docs/validation.md, "mu mu's escaping ISR photon"). The structure function and the dipole
pattern put most hard photons within a few m_e / E of their beam, where they give the pair no
transverse momentum; this channel draws the photon's angle to its own beam log-uniform in one
of ESCAPE_BANDS (CM) and its energy fraction y log-uniform from what gives a transverse
momentum ESCAPE_PT_MIN up to 1. The other beam's photon comes from the structure function's
leading power and the dipole pattern, as in the natural sample. Mixed with
:func:`~mlsearch.generate.isr.radiate`'s channels and weighted by D(y1) D(y2) over the
mixture's density (:func:`aim_escape`), the sample stays exact for every selection; only
where its events land changes.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from mlsearch.generate.dipole import dipole_photon_cos, dipole_photon_density
from mlsearch.generate.isr import (
    IsrChannels,
    beam_velocity,
    channel_density,
    leading_power,
    photon_at,
    structure_function,
)

__all__ = ["ESCAPE_BANDS", "ESCAPE_PT_MIN", "aim_escape", "escape_density", "escape_draw"]

FloatArray = NDArray[np.float64]

#: where the channel puts the photon: (smallest, largest CM angle to its own beam [deg], share
#: of the channel). Past the ECL's edges (12.4 deg forward and 155.1 deg backward in the lab:
#: 16 and 19 deg from the beam in the CM frame, give or take the 2.4 deg by which the crossing
#: angle tilts the CM axis; below 2 deg no photon gives 0.25 GeV of transverse momentum), and
#: in the barrel-endcap gaps (31.4-32.2 and 128.7-130.7 deg lab: 40-42 and 38-40 deg from the
#: beam in the CM frame). With the default sampler these photons made 77 % and 8 % of the sum
#: of w^2 of mu mu in the Z' search's 0.5 GeV window (docs/validation.md)
ESCAPE_BANDS: tuple[tuple[float, float, float], ...] = ((2.0, 22.0, 0.75), (36.0, 46.0, 0.25))
#: the transverse momentum [GeV, CM] the photon gives the pair at least: the Z' preselection
#: asks 0.3 GeV of the pair (features.dimuon_pt_min), less its resolution and FSR
ESCAPE_PT_MIN = 0.25
#: |cos| of the bands' angles to the beam: (smallest, largest)
_COS_RANGE = (
    math.cos(math.radians(max(band[1] for band in ESCAPE_BANDS))),
    math.cos(math.radians(min(band[0] for band in ESCAPE_BANDS))),
)
#: the largest lower bound of y (a photon at 2.7 deg needs y = 1 for 0.25 GeV)
_Y_LOW_CAP = 0.9


def _y_low(theta: FloatArray, e_beam: FloatArray) -> FloatArray:
    """The smallest energy fraction drawn at the angle theta [rad] to the beam: what gives
    ESCAPE_PT_MIN of transverse momentum (capped at _Y_LOW_CAP); the largest is 1."""
    return np.asarray(np.minimum(ESCAPE_PT_MIN / (e_beam * np.sin(theta)), _Y_LOW_CAP))


def escape_draw(e_beam: FloatArray, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """|cos| of the photon's angle to its beam and its energy fraction y, one per beam
    energy ``e_beam`` [GeV, CM]: a band of ESCAPE_BANDS by its share, the angle log-uniform
    in it, y log-uniform in [y_low(angle), 1]."""
    n = len(e_beam)
    pick = rng.uniform(size=n)
    u = rng.uniform(size=(2, n))
    c, y = np.empty(n), np.empty(n)
    start = 0.0
    for lo_deg, hi_deg, share in ESCAPE_BANDS:
        mine = (pick >= start) & (pick < start + share)
        start += share
        lo, hi = math.radians(lo_deg), math.radians(hi_deg)
        theta = lo * (hi / lo) ** u[0, mine]
        c[mine] = np.cos(theta)
        low = _y_low(theta, e_beam[mine])
        y[mine] = low * (1.0 / low) ** u[1, mine]
    return c, y


def escape_density(c: FloatArray, y: FloatArray, e_beam: FloatArray) -> FloatArray:
    """The density of :func:`escape_draw` in (|cos|, y) at ``c`` = |cos| and ``y``; 0 where it
    never draws."""
    theta = np.arccos(np.clip(c, -1.0, 1.0))
    density = np.zeros(len(c))
    for lo_deg, hi_deg, share in ESCAPE_BANDS:
        lo, hi = math.radians(lo_deg), math.radians(hi_deg)
        t = np.clip(theta, lo, hi)
        low = _y_low(t, e_beam)
        inside = (theta >= lo) & (theta <= hi) & (y >= low) & (y <= 1.0)
        per_theta = 1 / (t * math.log(hi / lo) * np.sin(t))
        per_y = 1 / (np.where(inside, y, 1.0) * np.log(1.0 / low))
        density += share * np.where(inside, per_theta * per_y, 0.0)
    return density


def aim_escape(
    share: float,
    sqrt_s: FloatArray,
    y: FloatArray,
    photons: tuple[FloatArray, FloatArray],
    w_isr: FloatArray,
    beta: float,
    channels: IsrChannels,
    rng: np.random.Generator,
) -> tuple[FloatArray, tuple[FloatArray, FloatArray], FloatArray]:
    """Redraw a ``share`` of the events with one beam's photon (either, 1/2 each) from
    :func:`escape_draw` and the other's from the leading power and the dipole pattern; the
    fractions y (n, 2), the photons (CM, the first around +z) and every event's ISR weight
    D(y1) D(y2) / [(1 - share) channels(y1, y2) + share / 2 (q1 / d1 L2 + L1 q2 / d2)]
    (q: the escape density, d: the dipole's, L: the leading power; the dipole factors of
    the channels' events cancel against the target's). ``w_isr``: the weights D(y1) D(y2) /
    channels(y1, y2) :func:`~mlsearch.generate.isr.radiate` gave the events as drawn (the
    channels' density of the events kept is read from them)."""
    n = len(sqrt_s)
    e_beam = sqrt_s / 2
    beta_e = beam_velocity(sqrt_s)
    pick = np.flatnonzero(rng.uniform(size=n) < share)
    k = len(pick)
    second = rng.uniform(size=k) < 0.5  # the e+'s photon is the aimed one
    c_aim, y_aim = escape_draw(e_beam[pick], rng)
    c_other = dipole_photon_cos(k, beta_e[pick], rng)
    y_other = np.clip(rng.uniform(size=k) ** (2 / beta), 1e-300, 1.0)
    phi = rng.uniform(0, 2 * np.pi, (2, k))
    y = y.copy()
    out = [photons[0].copy(), photons[1].copy()]
    for i, sign in ((0, 1.0), (1, -1.0)):
        aimed = second if i else ~second
        y_i = np.where(aimed, y_aim, y_other)
        out[i][pick] = photon_at(e_beam[pick] * y_i, sign * np.where(aimed, c_aim, c_other), phi[i])
        y[pick, i] = y_i
    target = structure_function(y, beta).prod(axis=1)
    drawn = target / w_isr  # the channels' density of the events left as they were
    drawn[pick] = channel_density(y[pick], beta, channels)
    aimed_terms = np.zeros(n)
    lead = leading_power(y, beta)
    for i, sign in ((0, 1.0), (1, -1.0)):
        e_i = np.where(out[i][:, 0] > 0, out[i][:, 0], 1.0)
        c_i = np.clip(sign * out[i][:, 3] / e_i, 0.0, 1.0)
        # only photons within the bands' angles have an aimed density (most are collinear)
        near = np.flatnonzero((c_i >= _COS_RANGE[0]) & (c_i <= _COS_RANGE[1]))
        q = escape_density(c_i[near], y[near, i], e_beam[near])
        d = dipole_photon_density(c_i[near], beta_e[near])
        aimed_terms[near] += q / d * lead[near, 1 - i]
    density = (1 - share) * drawn + share / 2 * aimed_terms
    return y, (out[0], out[1]), target / density
