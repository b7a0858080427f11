"""A channel aimed at photons that leave no cluster in the calorimeter (or one below the
extra-energy cut) and still give the recoiling muon pair transverse momentum.

A muon pair whose hard ISR photon leaves past the ECL's edges (12.4 deg forward, 155.1 deg
backward, lab) or into a barrel-endcap gap has a recoil mass^2 of ~0 and the photon's
transverse momentum: it is the Z' search's background in its lowest window
(docs/validation.md, "mu mu's escaping ISR photon"), with the pairs whose softer photon, ISR
in the barrel or FSR, stays below the preselection's extra-energy cut. The structure
function and the dipole pattern put most hard photons within a few m_e / E of their beam,
where they give the pair no transverse momentum; this channel draws, for 1 - FSR_PART of
its events, one ISR photon's angle to its own beam log-uniform in one of ESCAPE_BANDS (CM)
and its energy fraction y log-uniform from what gives a transverse momentum ESCAPE_PT_MIN up
to the band's largest y, the other beam's photon from the structure function's leading power
and the dipole pattern, as in the natural sample; for FSR_PART of them, both ISR photons
so and one muon's FSR photon in FSR_AIM_BAND. Mixed with
:func:`~mlsearch.generate.isr.radiate`'s channels and weighted by D(y1) D(y2) D_f(z1) D_f(z2)
over the mixture's density (:func:`aim_escape` and :func:`fsr_part_factor`), the sample stays
exact for every selection; only where its events land changes.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from mlsearch.generate.dipole import dipole_photon_cos, dipole_photon_density
from mlsearch.generate.isr import (
    IsrChannels,
    beam_velocity,
    channel_density,
    isr_photons,
    leading_power,
    photon_at,
    radiate_natural,
    structure_function,
)

__all__ = [
    "ESCAPE_BANDS",
    "ESCAPE_PT_MIN",
    "FSR_AIM_BAND",
    "FSR_PART",
    "EscapeDraw",
    "aim_escape",
    "escape_density",
    "escape_draw",
    "fsr_part_factor",
]

FloatArray = NDArray[np.float64]

#: where the channel puts the photon: (smallest, largest CM angle to its own beam [deg], share
#: of the ISR part of the channel, largest energy fraction y). Past the ECL's edges (12.4 deg
#: forward and 155.1 deg backward in the lab: 16 and 19 deg from the beam in the CM frame,
#: give or take the 2.4 deg by which the crossing angle tilts the CM axis; below 3 deg a
#: photon needs y > 0.9 for 0.25 GeV of transverse momentum), in the barrel-endcap gaps
#: (31.4-32.2 and 128.7-130.7 deg lab: 40-42 and 38-40 deg from the beam in the CM frame),
#: and in the barrel ECL below the Z' preselection's extra-energy cut (y <= 0.2, 1.06 GeV:
#: a cluster of 0.4 GeV keeps at least half of a photon's 0.8 GeV in the lab, and the boost
#: moves a CM energy by up to 30 %). With the ISR-only channel at 2-22 and 36-46 deg (0.75 and
#: 0.25) the photons in the barrel made 15 % of the sum of w^2 of mu mu in the Z' search's 0.5
#: GeV window at 4x their share of its events; the shares are the ones that maximised its
#: effective luminosity, reweighting one recorded sample, while every other window kept at
#: least 1.5x the data's 79.7 fb^-1 of mu mu (docs/validation.md, "The 0.5 GeV window")
ESCAPE_BANDS: tuple[tuple[float, float, float, float], ...] = (
    (3.0, 22.0, 0.88, 1.0),
    (36.0, 46.0, 0.05, 1.0),
    (46.0, 90.0, 0.07, 0.2),
)
#: the transverse momentum [GeV, CM] the photon gives the pair at least: the Z' preselection
#: asks 0.3 GeV of the pair (features.dimuon_pt_min), less its resolution and FSR
ESCAPE_PT_MIN = 0.25
#: the share of the channel that aims the final state instead: both beams' photons from the
#: structure function's leading power (soft, along the beams) and one muon's FSR photon with
#: z = E_gamma / E_mu in FSR_AIM_BAND (pair rest frame) log-uniform - the photon that gives a
#: pair without hard ISR its pT and stays below the extra-energy cut (or leaves past the ECL
#: with its muon). Such events made 31 % of the window's sum of w^2 at 2.7x its mean weight
FSR_PART = 0.22
#: z = E_gamma / E_mu of the aimed FSR photon: 0.21-0.79 GeV at 5.29 GeV (73 % of the
#: window's cross section of such events had the harder FSR photon there)
FSR_AIM_BAND = (0.04, 0.15)
#: |cos| of the bands' angles to the beam: (smallest, largest)
_COS_RANGE = (
    math.cos(math.radians(max(band[1] for band in ESCAPE_BANDS))),
    math.cos(math.radians(min(band[0] for band in ESCAPE_BANDS))),
)
#: the largest lower bound of y, as a fraction of the band's largest y (a photon at 3 deg
#: needs y ~ 0.9 for 0.25 GeV)
_Y_LOW_CAP = 0.9


def _y_low(theta: FloatArray, e_beam: FloatArray, y_max: float) -> FloatArray:
    """The smallest energy fraction drawn at the angle theta [rad] to the beam: what gives
    ESCAPE_PT_MIN of transverse momentum (capped at _Y_LOW_CAP of the band's largest,
    ``y_max``)."""
    return np.asarray(np.minimum(ESCAPE_PT_MIN / (e_beam * np.sin(theta)), _Y_LOW_CAP * y_max))


def escape_draw(e_beam: FloatArray, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """|cos| of the photon's angle to its beam and its energy fraction y, one per beam
    energy ``e_beam`` [GeV, CM]: a band of ESCAPE_BANDS by its share, the angle log-uniform
    in it, y log-uniform in [y_low(angle), the band's largest y]."""
    n = len(e_beam)
    pick = rng.uniform(size=n)
    u = rng.uniform(size=(2, n))
    c, y = np.empty(n), np.empty(n)
    start = 0.0
    for lo_deg, hi_deg, share, y_max in ESCAPE_BANDS:
        mine = (pick >= start) & (pick < start + share)
        start += share
        lo, hi = math.radians(lo_deg), math.radians(hi_deg)
        theta = lo * (hi / lo) ** u[0, mine]
        c[mine] = np.cos(theta)
        low = _y_low(theta, e_beam[mine], y_max)
        y[mine] = low * (y_max / low) ** u[1, mine]
    return c, y


def escape_density(c: FloatArray, y: FloatArray, e_beam: FloatArray) -> FloatArray:
    """The density of :func:`escape_draw` in (|cos|, y) at ``c`` = |cos| and ``y``; 0 where it
    never draws."""
    theta = np.arccos(np.clip(c, -1.0, 1.0))
    density = np.zeros(len(c))
    for lo_deg, hi_deg, share, y_max in ESCAPE_BANDS:
        lo, hi = math.radians(lo_deg), math.radians(hi_deg)
        t = np.clip(theta, lo, hi)
        low = _y_low(t, e_beam, y_max)
        inside = (theta >= lo) & (theta <= hi) & (y >= low) & (y <= y_max)
        per_theta = 1 / (t * math.log(hi / lo) * np.sin(t))
        per_y = 1 / (np.where(inside, y, y_max) * np.log(y_max / low))
        density += share * np.where(inside, per_theta * per_y, 0.0)
    return density


class EscapeDraw(NamedTuple):
    """The ISR of a sample with the escape channel, as :func:`aim_escape` leaves it."""

    #: the beams' energy fractions (n, 2)
    y: FloatArray
    #: the two ISR photons (n, 4) each, CM frame, the first around +z
    photons: tuple[FloatArray, FloatArray]
    #: D(y1) D(y2) over the ISR part of the mixture's density (the dipole factors cancel)
    w_isr: FloatArray
    #: the muon whose FSR the channel aims (0: mu-, 1: mu+), -1 for the other events
    fsr_lepton: NDArray[np.int8]
    #: the FSR part's ISR density, the leading powers L(y1) L(y2), over the ISR part's
    natural_odds: FloatArray


def aim_escape(
    share: float,
    sqrt_s: FloatArray,
    y: FloatArray,
    photons: tuple[FloatArray, FloatArray],
    w_isr: FloatArray,
    beta: float,
    channels: IsrChannels,
    rng: np.random.Generator,
) -> EscapeDraw:
    """Redraw a ``share`` of the events: 1 - FSR_PART of them with one beam's photon (either,
    1/2 each) from :func:`escape_draw` and the other's from the leading power and the dipole
    pattern; FSR_PART with both from the leading power and the dipole pattern and one muon's
    FSR to be aimed (``fsr_lepton``, for the caller's FSR). The ISR part of every event's
    density is (1 - share) channels(y1, y2) + share (1 - FSR_PART) / 2 (q1 / d1 L2 + L1 q2 /
    d2) (q: the escape density, d: the dipole's, L: the leading power; the dipole factors of
    the other events cancel against the target's); :func:`fsr_part_factor` adds the FSR part.
    ``w_isr``: the weights D(y1) D(y2) / channels(y1, y2) :func:`~mlsearch.generate.isr.radiate`
    gave the events as drawn (the channels' density of the events kept is read from them)."""
    n = len(sqrt_s)
    e_beam = sqrt_s / 2
    beta_e = beam_velocity(sqrt_s)
    chosen = np.flatnonzero(rng.uniform(size=n) < share)
    final = rng.uniform(size=len(chosen)) < FSR_PART
    pick, soft = chosen[~final], chosen[final]
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
    # the FSR part: both photons soft along their beams, as the natural sample draws them
    y[soft], _ = radiate_natural(len(soft), beta, rng)
    out[0][soft], out[1][soft] = isr_photons(sqrt_s[soft], y[soft], rng)
    fsr_lepton = np.full(n, -1, dtype=np.int8)
    fsr_lepton[soft] = rng.uniform(size=len(soft)) < 0.5
    target = structure_function(y, beta).prod(axis=1)
    drawn = target / w_isr  # the channels' density of the events left as they were
    drawn[chosen] = channel_density(y[chosen], beta, channels)
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
    density = (1 - share) * drawn + share * (1 - FSR_PART) / 2 * aimed_terms
    return EscapeDraw(
        y, (out[0], out[1]), target / density, fsr_lepton, lead.prod(axis=1) / density
    )


def fsr_part_factor(share: float, draw: EscapeDraw, fsr_odds: FloatArray) -> FloatArray:
    """What the FSR part of the channel changes in the weight D D_f / density of a sample drawn
    with :func:`aim_escape` at ``share`` and its FSR from
    :func:`~mlsearch.generate.fsr.radiate_final_state_aimed` (``fsr_odds``: the mean over the
    muons of FSR_AIM_BAND's density over the FSR mixture's, F): the density is the ISR part x
    F1 F2 + share FSR_PART L1 L2 (A1 F2 + F1 A2) / 2, so the weight ``draw.w_isr`` x D_f(z1)
    D_f(z2) / (F1 F2) is divided by 1 + share FSR_PART ``natural_odds`` ``fsr_odds``."""
    return np.asarray(1 / (1 + share * FSR_PART * draw.natural_odds * fsr_odds))
