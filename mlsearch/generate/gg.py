"""e+e- -> gamma gamma (gamma): the two-photon Born process over the full solid angle plus the
hard three-photon process inside generator cuts (weighted events).

gamma gamma: half of :func:`~mlsearch.physics.qed_me.dark_photon_dsigma_dcos` at m = 0 (the
1/2 for identical photons), collinear poles regularised by the electron velocity, so photons
down the beam pipe (the single-photon background) are included; with ISR off both beams
(:func:`~mlsearch.generate.isr.with_isr`: structure functions, photons at the dipole angles,
softer than both hard photons), so a third photon can go down the beam pipe or into a gap
while the two others are anywhere. Where all three photons of such an event (the two hard
ones and an ISR photon) lie inside the three-photon channel's cuts, the event gets weight 0:
that region belongs to the exact matrix element of the second channel.
With ``lost_photon_share`` > 0 that share of the two-photon events draws cos(theta*) uniformly
in the bands where one photon of the pair leaves no cluster (a barrel-endcap gap, or past the
backward endcap while its partner is in the forward one: :func:`lost_photon_bands`) - the
events that pass a single-photon selection - and every event is weighted by the true
dsigma/dcos over the mixture's density, so the sample stays unbiased. With ``single_share``
> 0 that share of the two-photon events draws its ISR from the aimed channel of
:mod:`mlsearch.generate.gg_lost` (one photon of 2-4 GeV seen, the others lost: the
single-photon background at high A' masses) and a share of the pair angles from the bands
of the pair's boosted frame; weighted back the same way.
gamma gamma gamma: Berends-Kleiss |M|^2 with 1/3! for identical photons (the sampler is
cross-checked against flat RAMBO phase space in the tests), all three photons with CM energy
above E3_MIN and CM polar angle within [THETA3_MIN, 180 - THETA3_MIN]. The soft and virtual
O(alpha) correction to the two-photon rate is not included (a few per cent;
docs/validation.md).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from mlsearch.errors import ConfigError
from mlsearch.generate.dark_photon import SQRT_S_MAX, electron_beta
from mlsearch.generate.gg_lost import aimed_isr, aimed_isr_density, boosted_cos, boosted_density
from mlsearch.generate.isr import AimedIsr, with_isr
from mlsearch.generate.phase_space import (
    cm_beams,
    collinear_cos,
    collinear_cos_density,
    dilate,
    lab_polar_scan,
    two_body,
)
from mlsearch.generate.unweight import Trial, weighted_events
from mlsearch.io.truth import TruthSample
from mlsearch.physics.acceptance import in_ecl
from mlsearch.physics.beams import Beams
from mlsearch.physics.kinematics import boost, invariant_mass2
from mlsearch.physics.qed_me import dark_photon_dsigma_dcos, me2_three_photons

__all__ = ["E3_MIN", "THETA3_MIN", "generate_gg", "in_lost_photon_bands", "lost_photon_bands"]

FloatArray = NDArray[np.float64]
E3_MIN = 0.1  # GeV, every photon of the 3-photon channel (CM)
THETA3_MIN = 10.0  # deg, every photon of the 3-photon channel (CM)
THREE_PHOTON_FRACTION = 0.5  # share of the events from the 3-photon channel


#: cos(theta*) bins of the band search (width 0.005), azimuths tried per bin, and bins added
#: on each side of a band: ISR and the beam-energy spread move the photons by ~1 deg
_BAND_BINS, _BAND_PHI, _BAND_DILATE = 400, 72, 2


def lost_photon_bands() -> tuple[FloatArray, FloatArray]:
    """Intervals (low, high edges) of cos(theta*) of photon 1 in the generator CM frame where,
    for some azimuth, one photon of a back-to-back pair hits an ECL crystal and the other none
    (:func:`~mlsearch.physics.acceptance.in_ecl`: the gaps, beyond the endcaps) in the lab of
    the nominal beams; widened by _BAND_DILATE bins each side. The bands only steer
    the sampling (the weights are exact wherever they lie)."""
    edges, theta = lab_polar_scan(_BAND_BINS, _BAND_PHI)
    hit = in_ecl(theta)
    one_lost = (hit[..., 0] != hit[..., 1]).any(axis=1)
    chosen = dilate(one_lost, _BAND_DILATE)
    return edges[:-1][chosen], edges[1:][chosen]


_BANDS = lost_photon_bands()


def _band_cos(n: int, rng: np.random.Generator) -> FloatArray:
    """cos(theta*) uniform over the bins of :func:`lost_photon_bands`."""
    low, high = _BANDS
    pick = rng.integers(0, len(low), n)
    return np.asarray(rng.uniform(low[pick], high[pick]))


def in_lost_photon_bands(cos_t: FloatArray) -> NDArray[np.bool_]:
    """Whether cos(theta*) of a photon lies in :func:`lost_photon_bands` (its back-to-back
    partner may leave no cluster)."""
    low, high = _BANDS
    inside = np.zeros(cos_t.shape, dtype=bool)
    for lo, hi in zip(low, high, strict=True):
        inside |= (cos_t >= lo) & (cos_t < hi)
    return inside


def _band_density(cos_t: FloatArray) -> FloatArray:
    low, high = _BANDS
    return np.where(in_lost_photon_bands(cos_t), 1.0 / float((high - low).sum()), 0.0)


def _two_photon_trial(lost_photon_share: float, boosted_share: float = 0.0) -> Trial:
    """The e+e- -> gamma gamma Born trial; with ``lost_photon_share`` > 0 a mixture of the
    collinear-peak sampling and the lost-photon bands, with ``boosted_share`` > 0 also of
    the bands of a pair boosted by a hard ISR photon (:func:`~mlsearch.generate.gg_lost.
    boosted_bands`, where its s' has them)."""
    beta = electron_beta(SQRT_S_MAX)

    def trial(beams: Beams, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
        sqrt_s = beams.sqrt_s
        n: int = sqrt_s.shape[0]
        cos_t = collinear_cos(n, beta, rng)
        band = np.zeros(n, dtype=bool)
        if lost_photon_share > 0:
            band = rng.uniform(size=n) < lost_photon_share
            cos_t = np.where(band, _band_cos(n, rng), cos_t)
        boosted: float | FloatArray = 0.0  # per event: 0 where its s' has no boosted bands
        if boosted_share > 0:  # only then: the other samplers keep their random streams
            # events outside the lost-photon bands are redrawn so that boosted_share of all
            # events come from the boosted bands of their s', where it has them
            drawn, usable = boosted_cos(sqrt_s**2, rng)
            pick = rng.uniform(size=n) < boosted_share / (1 - lost_photon_share)
            cos_t = np.where(usable & ~band & pick, drawn, cos_t)
            boosted = np.where(usable, boosted_share, 0.0)
        density = (1 - lost_photon_share - boosted) * collinear_cos_density(cos_t, beta)
        if boosted_share > 0:
            density = density + boosted * boosted_density(sqrt_s**2, cos_t)
        if lost_photon_share > 0:
            density = density + lost_photon_share * _band_density(cos_t)
        phi = rng.uniform(0, 2 * np.pi, n)
        w = 0.5 * dark_photon_dsigma_dcos(sqrt_s**2, 0.0, cos_t, beta)
        return two_body(sqrt_s, 0.0, 0.0, cos_t, phi), w / density

    return trial


def _in_three_photon_cuts(p: FloatArray) -> NDArray[np.bool_]:
    """Photons (n, k, 4) in the CM frame inside the three-photon channel's cuts."""
    e = p[..., 0]
    cos_t = p[..., 3] / np.where(e > 0, e, 1.0)
    return np.asarray((e > E3_MIN) & (np.abs(cos_t) < math.cos(math.radians(THETA3_MIN))))


def _two_photon_isr(lost_photon_share: float, single_share: float = 0.0) -> Trial:
    """gamma gamma with ISR: slots photon, photon, ISR photon along e-, along e+; events with
    three photons inside the three-photon cuts are left to that channel (weight 0). With
    ``single_share`` > 0 that share of the events draws one ISR photon from
    :func:`~mlsearch.generate.gg_lost.aimed_isr` (seen or in a gap at a wide angle, or hard
    along its beam) and single_share x (1 - lost_photon_share) of the pair angles from the
    bands of the pair boosted by it: the single-photon region at 2-4 GeV."""
    aimed = AimedIsr(single_share, aimed_isr, aimed_isr_density) if single_share > 0 else None
    boosted = single_share * (1 - lost_photon_share)
    radiated = with_isr(
        _two_photon_trial(lost_photon_share, boosted), 0.0, ordered_photons=(0, 1), aimed=aimed
    )

    def trial(beams: Beams, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
        p, w = radiated(beams, rng)
        inside = _in_three_photon_cuts(p)
        covered = inside[:, 0] & inside[:, 1] & (inside[:, 2] | inside[:, 3])
        return p, np.where(covered, 0.0, w)

    return trial


def _three_photon(beams: Beams, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """Photon 3 drawn first (E log-uniform, 1/sin^2 in angle inside the cut), the other two
    isotropic in their rest frame: the soft-photon peaks of |M|^2 are sampled, not hit by luck.
    Phase space: d Phi_3 = E3 dE3 dOmega3 / (16 pi^3) * dOmega* / (32 pi^2)."""
    sqrt_s = beams.sqrt_s
    n: int = sqrt_s.shape[0]
    s = sqrt_s**2
    c_max = math.cos(math.radians(THETA3_MIN))
    e_max = sqrt_s / 2 * (1 - 1e-9)
    log_e = np.log(e_max / E3_MIN)
    e3 = E3_MIN * np.exp(rng.uniform(0, 1, n) * log_e)
    k3 = two_body(sqrt_s, 0.0, 0.0, collinear_cos(n, 1.0, rng, c_max), rng.uniform(0, 2 * np.pi, n))
    k3 = k3[:, 0] * (e3 / k3[:, 0, 0])[:, None]
    rest = np.stack([sqrt_s, np.zeros(n), np.zeros(n), np.zeros(n)], axis=-1) - k3
    m_rest = np.sqrt(np.clip(invariant_mass2(rest), 0, None))
    pair = two_body(m_rest, 0.0, 0.0, rng.uniform(-1, 1, n), rng.uniform(0, 2 * np.pi, n))
    pair = boost(pair, -(rest[:, 1:] / rest[:, :1])[:, None, :])
    k = np.concatenate([pair, k3[:, None]], axis=1)
    p_minus, p_plus = cm_beams(sqrt_s)
    cos_t = k[..., 3] / k[..., 0]
    inside = ((k[..., 0] > E3_MIN) & (np.abs(cos_t) < c_max)).all(axis=1)
    me2 = me2_three_photons(p_plus, p_minus, k[:, 0], k[:, 1], k[:, 2])
    # density per d Phi_3 of "photon j was drawn first", averaged over j (multichannel): any of
    # the three may be the soft one, and |M|^2 and the cuts are symmetric in the photons
    energies = np.clip(k[..., 0], E3_MIN, None)
    angular = collinear_cos_density(k[..., 3] / k[..., 0], 1.0, c_max) / (2 * np.pi)
    per_channel = (
        (16 * np.pi**3 * 32 * np.pi**2) * angular / (energies**2 * log_e[:, None] * (4 * np.pi))
    )
    density = per_channel.mean(axis=1)
    w = np.where(inside, me2 / (2 * s) / 6 / density, 0.0)
    return np.concatenate([k, np.zeros((n, 1, 4))], axis=1), w


def generate_gg(
    n_events: int,
    seed: int,
    energy_spread: bool = True,
    lost_photon_share: float = 0.0,
    single_share: float = 0.0,
) -> TruthSample:
    """n weighted e+e- -> gamma gamma (gamma) events (lab frame); slots: four photons (two-photon
    events: the two hard photons and the ISR photons along e- and e+, E = 0 when softer than
    1 keV; three-photon events: three photons and an empty slot). Weights sum to
    sigma_2gamma(ISR) + sigma_3gamma(cuts). ``lost_photon_share``: the share of the
    two-photon events drawn in the lost-photon bands (0: the collinear peaks alone);
    ``single_share``: the share whose ISR is aimed at the single-photon region (one photon
    of 2-4 GeV seen, the others without a cluster)."""
    for name, share in (("lost_photon_share", lost_photon_share), ("single_share", single_share)):
        if not 0 <= share < 1:
            raise ConfigError(f"gg: {name} must be in [0, 1), not {share}")
    n3 = round(n_events * THREE_PHOTON_FRACTION)
    two = weighted_events(
        "gg2",
        n_events - n3,
        seed,
        _two_photon_isr(lost_photon_share, single_share),
        energy_spread=energy_spread,
    )
    three = weighted_events("gg3", n3, seed, _three_photon, energy_spread=energy_spread)
    sigma = two.cross_section_fb + three.cross_section_fb
    return TruthSample(
        "gg",
        np.full((n_events, 4), 22, dtype=np.int32),
        np.concatenate([two.p4, three.p4]),
        np.concatenate([two.weight_fb, three.weight_fb]),
        sigma,
        math.hypot(two.cross_section_err_fb, three.cross_section_err_fb),
        {
            "sigma_2gamma_fb": two.cross_section_fb,
            "sigma_3gamma_fb": three.cross_section_fb,
            "three_photon_cuts": {"e_min_gev": E3_MIN, "theta_min_deg": THETA3_MIN},
            "isr": "two-photon channel: structure functions, dipole angles, ordered",
            **({"lost_photon_share": lost_photon_share} if lost_photon_share else {}),
            **({"single_share": single_share} if single_share else {}),
        },
    )
