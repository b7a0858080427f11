"""e+e- -> e+e- (gamma): Bhabha scattering with ISR, and the radiative Bhabha process with a
hard photon at large angle (the leptons anywhere, down the beam pipe included) - the
background that mimics a single photon. Weighted events; two channels:

* ``bhabha``: Born Bhabha (s- and t-channel photons, each with the running alpha of
  :mod:`mlsearch.physics.vacuum_polarisation` at its |q^2|) convolved with the Kuraev-Fadin
  structure functions of both beams, the ISR photons at the initial-state dipole's angles
  (:mod:`mlsearch.generate.isr`, as for mu mu) and the pair recoiling against them; both
  leptons inside [THETA_E_MIN, 180 - THETA_E_MIN] in the CM frame, their mass above
  M_PAIR_MIN. An ISR photon inside the
  radiative channel's cuts (below) gives the event weight 0: hard photons at large angles
  come from the exact matrix element of that channel, not twice. (The s-channel hard-photon
  factor of mu mu is not applied: Bhabha scattering is t-channel dominated, and the photons
  where it would matter are those the radiative channel takes.)
* ``radiative``: the CALKUL |M|^2 (:func:`~mlsearch.physics.qed_me.me2_radiative_bhabha`),
  photon with E* > E_GAMMA_MIN and CM polar angle in [THETA_GAMMA_MIN, 180 - THETA_GAMMA_MIN],
  at least PSI_MIN from both leptons. The leptons have the electron mass in the kinematics, so
  the t-channel pole of a lepton along the beam is cut off at |t| ~ m_e^2 (the massless
  formula is used there: ~10 % on the rate with an untagged lepton, docs/validation.md).
  Its photon may go anywhere outside the leptons' 2 deg cones, the leptons anywhere: the
  radiative Bhabha with both leptons lost down the beam pipe is in.

With ``ring_share`` > 0 that share of the events is a radiative sample of the regions a
multi-photon selection keeps of e e (clusters without tracks): the "ring" - leptons' CM
directions in :func:`ring_bands`, where the lab ECL sees a particle and the CDC does not -
RING_BOTH of them with both leptons there, the rest of them with exactly one; and the
"Compton" region (:func:`compton_region`: one lepton past the ECL, the other and the photon in
the ECL on its side), RING_COMPTON of them; RING_BORN of them from the Bhabha channel with
a lepton in the ring and the other in the CDC, and RING_BORN_BOTH with both in the ring
(:func:`born_ring_stratum`; these drawn aimed at the ring, :func:`_band_cos`, with the ISR
of BAND_ISR's returning channel). With ``single_share`` > 0 that share is drawn in the
single-cluster regions of a single-photon selection (SINGLE, SINGLE_LEPTON, BORN_SINGLE: one
particle in the ECL above E_LOST_MIN within the single-photon triggers' polar range, the two
others down the beam pipe; SINGLE and SINGLE_LEPTON drawn lost particles first,
:mod:`~mlsearch.generate.bhabha_cones`, BORN_SINGLE's pair angles aimed there,
:func:`_pipe_intervals`).
The rest of each channel has none of its regions. The parts are drawn by the same sampler
with the same weights (the aimed parts by mixtures that add channels of their own),
restricted to complementary regions (:func:`_stratum`, :func:`_bhabha_in`), so together they
are the unrestricted sample, with ~1/(share of the region's cross section) more events in
each region.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from mlsearch.errors import ConfigError
from mlsearch.generate.bhabha_cones import Cones, Mixture, cone_events
from mlsearch.generate.bhabha_lost import (
    E_LOST_MIN,
    past_ecl,
)
from mlsearch.generate.isr import (
    IsrChannels,
    hard_axis,
    isr_beta,
    isr_photons,
    radiate,
    reduced_frame,
)
from mlsearch.generate.phase_space import (
    cm_beams,
    collinear_cos,
    collinear_cos_density,
    dilate,
    lab_polar_scan,
    peaked_density,
    peaked_direction,
    two_body,
)
from mlsearch.generate.unweight import Trial, weighted_events
from mlsearch.io.truth import TruthSample
from mlsearch.physics.acceptance import CDC_THETA, in_ecl
from mlsearch.physics.beams import Beams, cms_to_lab, lab_to_cms
from mlsearch.physics.constants import ALPHA_EM, E_HER, E_LER, M_E
from mlsearch.physics.kinematics import boost, polar_angle, rotate_z_to
from mlsearch.physics.qed_me import me2_radiative_bhabha
from mlsearch.physics.vacuum_polarisation import vp_factor

__all__ = [
    "bhabha_vp_dsigma_dcos",
    "born_ring_stratum",
    "compton_region",
    "generate_ee",
    "ring_bands",
]

FloatArray = NDArray[np.float64]
THETA_E_MIN = 10.0  # deg, CM, both leptons of the Bhabha channel
E_GAMMA_MIN = 0.25  # GeV, CM, radiative channel
THETA_GAMMA_MIN = 10.0  # deg, CM, radiative channel
PSI_MIN = 2.0  # deg, photon to either lepton, radiative channel
#: GeV, Bhabha channel: the e+e- pair's mass after ISR. Below it two hard photons along the
#: beams leave a light pair at large angle, whose factorised rate (sigma_Born ~ 1/s') is not
#: to be trusted and whose tracks every search here vetoes.
M_PAIR_MIN = 1.0
RADIATIVE_FRACTION = 0.5
_DELTA = 1e-10  # 1 + delta - cos: the t-channel peak of the radiative sampler
#: share of the radiative events whose lepton is drawn along the photon (final-state
#: collinear peaks, half for each lepton); the rest go to the flat and t-channel channels
FSR_SHARE = 0.4
#: 1 + delta - cos of the final-state channels, in the pair frame: ~0.8 deg there is about
#: where the PSI_MIN cone of the CM frame ends (the pair frame's boost widens the angles), so
#: the peak is not spent inside the cone the weights zero
_DELTA_FSR = 1e-4
#: cos(theta*) bins of the ring search, azimuths tried per bin, bins added on each side (the
#: beam-energy spread moves the lab angles; only the efficiency of the split depends on it)
_RING_BINS, _RING_PHI, _RING_DILATE = 1000, 72, 3
#: shares of the ring events: radiative with both leptons in the ring (3.5 nb), radiative in
#: the Compton region (3.7 nb, :func:`compton_region`), Bhabha-channel with a lepton in the
#: ring and the other in the CDC (15 nb) and with both in the ring (13 nb,
#: :func:`born_ring_stratum`; kept by a three-photon selection only with a split cluster or
#: a lost track and a failed Bhabha veto: 5e-4 of them, which in the ALP windows had set the
#: MC luminosity); the rest are radiative with exactly one lepton in the ring (9 nb, but
#: outside the Compton region each weighs in a three-photon selection only with a lost track
#: or a split cluster, so it gets fewer events)
RING_BOTH, RING_COMPTON, RING_COMPTON_RING = 0.34, 0.19, 0.08
RING_BORN, RING_BORN_BOTH = 0.03, 0.32
#: the Bhabha channel's both-in-ring stratum: the share of its trials aimed at the ring
#: (:func:`_band_cos`; the rest keep the peaked and flat channels, which cover the pairs
#: recoiling against hard ISR, whose pair-frame angles lie outside the bands) and its ISR
#: channels. A three-photon selection keeps those recoiling pairs 100x as often as the soft
#: ones (the trigger's Bhabha veto fails), and their Born cross section grows as 1/s': the
#: returning channel (density ~ 1/s') puts half the trials there. Selected by the ALP
#: preselection, 2x10^6 events: N_eff 911 and max / mean weight 5, against 225 and 53 with
#: the plain ISR channels (docs/validation.md)
BAND_SHARE = 0.5
BAND_ISR = IsrChannels(hard=0.2, returning=0.5)
#: the ISR channels of BORN_SINGLE: its pairs recoil against one hard photon (y 0.3-0.7)
#: along either beam, the other beam's photon soft
PIPE_ISR = IsrChannels(hard=0.1, returning=0.1, one_returning=0.6)
#: the Compton strata's labels (the others are the number of leptons in the ring, 0-2):
#: COMPTON_RING with the seen lepton and the photon both in the ring (0.7 nb; three clusters
#: without a track then need no lost track, and their photons are drawn in the ring bands,
#: PHOTON_RING of them), COMPTON the rest of the Compton region (3 nb)
COMPTON, COMPTON_RING = 3, 4
#: the single-cluster strata (``single_share``, SINGLE_PHOTON of it in SINGLE): the e e
#: background of the single-photon search, its seen particle within SINGLE_THETA_DEG.
#: SINGLE: both leptons past the ECL (down the beam pipe) and the photon in it with at
#: least E_LOST_MIN (CM), 91 pb; drawn by the cone channels (SINGLE_CONES: the leptons
#: first, in the lab, the photon from conservation; 39x the effective events per trial of
#: the plain sampler). SINGLE_LEPTON: a lepton there
#: with at least E_LOST_MIN, the other lepton and the photon past the ECL (0.22 nb, seen as
#: a single cluster when the lepton's track is lost or it is outside the CDC); drawn by the
#: cone channels SINGLE_LEPTON_CONES (the photon and the lost lepton first)
SINGLE, SINGLE_LEPTON = 5, 6
#: the Bhabha channel's single-cluster stratum (1.5 nb): a lepton in the ECL within
#: SINGLE_THETA_DEG with E_LOST_MIN to E_BORN_SINGLE_MAX (CM), the other past it - a pair
#: recoiling against one hard ISR photon (y 0.3-0.7, down the pipe); drawn with PIPE_ISR's
#: channels and PIPE_SHARE of its angles from the pipe channel (:func:`_pipe_intervals`):
#: 36x the effective events per trial
BORN_SINGLE = 3
E_BORN_SINGLE_MAX = 4.5  # GeV, CM
PIPE_SHARE = 0.7
#: shares of the single-cluster events: SINGLE 0.65, BORN_SINGLE 0.25, SINGLE_LEPTON the
#: rest, 0.1 - by what each gives the dark-photon windows per CPU second (measured in its
#: job: SINGLE holds 23-93 % of e e's sum of w^2 at 5.3-8 GeV and draws 19.6k events/s,
#: BORN_SINGLE 7-52 % at 4.9k/s, SINGLE_LEPTON < 1 % at 3.4k/s; it was 0.4 / 0.2 / 0.4)
SINGLE_PHOTON, SINGLE_BORN = 0.65, 0.25
#: deg, lab: the single-cluster strata's seen particle lies in this polar range - the
#: single-photon trigger lines' (22-139 deg, detector/trigger.py) with 2 deg of margin:
#: clusters nearer the beams, which those lines never take, stay in the rest of their
#: channel (fewer events there; the sample is exact either way)
SINGLE_THETA_DEG = (20.0, 141.0)
PHOTON_RING = 0.8
#: GeV, lab: a lepton or photon that makes a photon candidate in the Compton region
E_SEEN = 0.25


def ring_bands() -> NDArray[np.bool_]:
    """Which of _RING_BINS equal cos(theta*) bins (generator CM, -1 to 1) hold directions
    that, for some azimuth, point in the lab of the nominal beams at an ECL crystal outside
    the CDC (:data:`~mlsearch.physics.acceptance.CDC_THETA`; 12.4-17 and 150-155.1 deg):
    massless particles (a lepton of 0.25 GeV is off by 1e-6 rad), widened by _RING_DILATE."""
    _, theta = lab_polar_scan(_RING_BINS, _RING_PHI)
    one = theta[..., 0]
    ring = in_ecl(one) & ((one < CDC_THETA[0]) | (one > CDC_THETA[1]))
    return dilate(np.asarray(ring.any(axis=1)), _RING_DILATE)


_RING = ring_bands()


def _bin_of(cos_t: FloatArray) -> NDArray[np.int64]:
    """The _RING_BINS bin of each cos(theta*) in [-1, 1]."""
    return np.clip(((cos_t + 1) / 2 * _RING_BINS).astype(np.int64), 0, _RING_BINS - 1)


def _in_bins(chosen: NDArray[np.int64], rng: np.random.Generator) -> FloatArray:
    """cos(theta*) uniform inside each of the ``chosen`` _RING_BINS bins."""
    return np.asarray(-1 + (chosen + rng.uniform(size=len(chosen))) * 2 / _RING_BINS)


#: the normalised density of :func:`_ring_cos` per bin (0 outside the bands)
_RING_DENSITY = np.where(_RING, _RING_BINS / (2 * _RING.sum()), 0.0)


def _ring_count(pair: FloatArray) -> NDArray[np.int64]:
    """How many leptons of ``pair`` (n, 2, 4), CM frame, are in the ring bands (0, 1, 2)."""
    return np.asarray(_RING[_bin_of(_cm_cos(pair))].sum(axis=1))


def compton_region(lab: FloatArray) -> NDArray[np.bool_]:
    """Lab-frame e e (gamma) events ((n, k >= 3, 4): e-, e+, photon, ...) in the Compton
    region: one lepton past the ECL (neither a crystal nor the CDC), the other and the photon
    above E_SEEN in the ECL on the same side (lab polar angles both below or above 90 deg) -
    quasi-real Compton scattering (the lost lepton exchanged a nearly real photon), whose
    lepton and photon make two photon candidates when the lepton's track is lost or the
    lepton is in the ring."""
    theta = polar_angle(lab[:, :3])
    ecl = in_ecl(theta)
    past = ~ecl & ((theta < CDC_THETA[0]) | (theta > CDC_THETA[1]))
    seen = ecl & (lab[:, :3, 0] > E_SEEN)
    forward = theta < np.pi / 2
    partner = [seen[:, j] & (forward[:, j] == forward[:, 2]) for j in (1, 0)]
    return np.asarray(((past[:, 0] & partner[0]) | (past[:, 1] & partner[1])) & seen[:, 2])


def born_ring_stratum(lab: FloatArray) -> NDArray[np.int64]:
    """Lab-frame e e (gamma) events ((n, k >= 2, 4): e-, e+, ...) labelled 2 with both
    leptons in the ring (an ECL crystal outside the CDC, above E_SEEN), 1 with one there and
    the other inside the CDC, else 0: the Bhabha-channel events whose leptons make two
    clusters without tracks (when the one in the CDC, if any, loses its track)."""
    theta = polar_angle(lab[:, :2])
    inside = (theta >= CDC_THETA[0]) & (theta <= CDC_THETA[1])
    ring = in_ecl(theta) & ~inside & (lab[:, :2, 0] > E_SEEN)
    one = (ring[:, 0] & inside[:, 1]) | (ring[:, 1] & inside[:, 0])
    return np.where(ring.all(axis=1), 2, np.where(one, 1, 0))


def _seen_single(theta: FloatArray) -> NDArray[np.bool_]:
    """Lab polar angles [rad] in the ECL and in SINGLE_THETA_DEG: where the single-cluster
    strata put their seen particle."""
    low, high = np.radians(SINGLE_THETA_DEG)
    return np.asarray(in_ecl(theta) & (theta >= low) & (theta <= high))


def _one_seen(seen: NDArray[np.bool_], past: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Events (n, 2 leptons) with one lepton ``seen`` and the other ``past`` the ECL."""
    return np.asarray((seen[:, 0] & past[:, 1]) | (seen[:, 1] & past[:, 0]))


def _bhabha_in(stratum: int, aimed: bool = True, ring: bool = True, single: bool = False) -> Trial:
    """The Bhabha-channel trial restricted to one stratum of the split ``ring`` and
    ``single`` ask for (:func:`born_ring_stratum`'s 0-2; BORN_SINGLE); the pairs with both
    leptons in the ring are drawn aimed at it (:func:`_bhabha`'s band channel), BORN_SINGLE
    with its pipe channel (BAND_ISR's and PIPE_ISR's returning ISR), unless ``aimed`` is False
    (the plain sampler by rejection: the closure tests' reference)."""
    band = BAND_SHARE if stratum == 2 and aimed else 0.0
    pipe = PIPE_SHARE if stratum == BORN_SINGLE and aimed else 0.0

    def trial(beams: Beams, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
        p, w = _bhabha(beams, rng, band, pipe)
        lab = cms_to_lab(p[:, :2], beams)
        region = born_ring_stratum(lab) if ring else np.zeros(len(p), dtype=np.int64)
        if single:
            theta = polar_angle(lab)
            energy = (p[:, :2, 0] >= E_LOST_MIN) & (p[:, :2, 0] < E_BORN_SINGLE_MAX)
            alone = _one_seen(_seen_single(theta) & energy, past_ecl(theta))
            region = np.where(alone, BORN_SINGLE, region)
        return p, np.where(region == stratum, w, 0.0)

    return trial


def _stratum(
    p: FloatArray, beams: Beams, ring: bool = True, single: bool = False
) -> NDArray[np.int64]:
    """The stratum of radiative events (CM frame, their beams). With ``single``: SINGLE in
    the single-photon region (see SINGLE). Else, with ``ring``: in
    the Compton region COMPTON_RING when none of the three particles is inside the CDC, else
    COMPTON; outside it the number of leptons in the ring (0, 1, 2). The rest 0."""
    lab = cms_to_lab(p[:, :3], beams)
    theta = polar_angle(lab)
    if ring:
        outside = ((theta < CDC_THETA[0]) | (theta > CDC_THETA[1])).all(axis=1)
        compton = np.where(outside, COMPTON_RING, COMPTON)
        label = np.where(compton_region(lab), compton, _ring_count(p[:, :2]))
    else:
        label = np.zeros(len(p), dtype=np.int64)
    if single:
        past = past_ecl(theta)
        seen = _seen_single(theta[:, 2])
        alone = past[:, :2].all(axis=1) & seen & (p[:, 2, 0] >= E_LOST_MIN)
        lepton = _seen_single(theta[:, :2]) & (p[:, :2, 0] >= E_LOST_MIN)
        lepton_alone = _one_seen(lepton, past[:, :2]) & past[:, 2]
        label = np.where(alone, SINGLE, np.where(lepton_alone, SINGLE_LEPTON, label))
    return np.asarray(label)


def bhabha_vp_dsigma_dcos(s: FloatArray, cos_t: FloatArray) -> FloatArray:
    """Born dsigma/dcos(theta_e-) [GeV^-2] with the running coupling in each channel."""
    t = -s * (1 - cos_t) / 2
    u = -s * (1 + cos_t) / 2
    fs, ft = vp_factor(s), vp_factor(-t)
    bracket = (s**2 + u**2) / t**2 * ft + 2 * u**2 / (s * t) * np.sqrt(fs * ft)
    return np.asarray(np.pi * ALPHA_EM**2 / s * (bracket + (u**2 + t**2) / s**2 * fs))


def _cm_cos(p: FloatArray) -> FloatArray:
    return np.asarray(p[..., 3] / np.linalg.norm(p[..., 1:], axis=-1))


def _in_radiative_cuts(k: FloatArray, pair: FloatArray) -> NDArray[np.bool_]:
    """Photons (n, 4), CM frame, inside the radiative channel's cuts (energy, polar angle, at
    least PSI_MIN from both leptons of ``pair`` (n, 2, 4))."""
    e = np.where(k[:, 0] > 0, k[:, 0], 1.0)
    direction = k[:, 1:] / e[:, None]
    cos_psi = math.cos(math.radians(PSI_MIN))
    inside = (k[:, 0] > E_GAMMA_MIN) & (
        np.abs(direction[:, 2]) < math.cos(math.radians(THETA_GAMMA_MIN))
    )
    for i in range(2):
        q = pair[:, i, 1:]
        inside &= (direction * q).sum(axis=1) / np.linalg.norm(q, axis=1) < cos_psi
    return np.asarray(inside)


def _band_table() -> tuple[NDArray[np.int64], FloatArray]:
    """The cos(theta*) bins of the ring bands whose back-to-back partner is in them too
    (both leptons of a Born pair can be in the ring) and each bin's probability in the band
    channel: the Born cross section at the bin centre (nominal s), so the band's events
    carry about equal weights."""
    both = np.flatnonzero(_RING & _RING[::-1])
    centre = -1 + (both + 0.5) * 2 / _RING_BINS
    born = bhabha_vp_dsigma_dcos(np.full(len(both), 4 * E_HER * E_LER), centre)
    return both, born / born.sum()


_BAND_BINS, _BAND_PROB = _band_table()
#: the normalised density of :func:`_band_cos` per bin (0 outside the bands)
_BAND_DENSITY = np.zeros(_RING_BINS)
_BAND_DENSITY[_BAND_BINS] = _BAND_PROB * _RING_BINS / 2


def _band_cos(n: int, rng: np.random.Generator) -> FloatArray:
    """n values of cos(theta) from the band channel (a bin of :func:`_band_table`, then
    uniform inside it)."""
    return _in_bins(_BAND_BINS[rng.choice(len(_BAND_BINS), size=n, p=_BAND_PROB)], rng)


def _bhabha(
    beams: Beams, rng: np.random.Generator, band: float = 0.0, pipe: float = 0.0
) -> tuple[FloatArray, FloatArray]:
    """Bhabha-channel trials (CM frame) and weights [GeV^-2]. ``band`` > 0: that share of
    the trials has its pair-frame angle from the band channel (:func:`_band_cos`: both
    leptons aimed at the ring); ``pipe`` > 0: that share from the pipe channel
    (:func:`_pipe_intervals`: a lepton aimed down the beam pipe); the rest from the peaked
    and flat channels. The ISR fractions come from BAND_ISR's channels with ``band``,
    PIPE_ISR's with ``pipe``."""
    sqrt_s = beams.sqrt_s
    n: int = sqrt_s.shape[0]
    s = sqrt_s**2
    beta = isr_beta(float(np.mean(s)))
    channels = PIPE_ISR if pipe else BAND_ISR if band else IsrChannels()
    y, w_isr = radiate(n, beta, rng, channels)
    g1, g2 = isr_photons(sqrt_s, y, rng)
    rest, s_red, above = reduced_frame(sqrt_s, g1, g2, M_PAIR_MIN**2)
    # pair-frame angle to the hard axis: half t-peaked (1/(1 + d - c)^2), half flat, both
    # inside THETA_E_MIN / 3 of either axis direction (wider than the CM cut: the ISR boost
    # moves the angles); the CM cut is applied afterwards. Inside that cone, a pair the CM
    # cut keeps is a light one with two hard photons at angles, its lepton along its own
    # incoming one - where factorised ISR x Born does not hold (its Born 1/(1 - c)^2 there had
    # given 20 trials in 2x10^6 a tenth of the channel's cross section, 1e5x the mean weight)
    c_max = math.cos(math.radians(THETA_E_MIN / 3))
    d = 1 - c_max
    u = rng.uniform(size=n)
    a, b = 1 / (1 + d + c_max), 1 / (2 * d)  # CDF of the peaked part runs over [a, b]
    peaked = 1 + d - 1 / (a + u * (b - a))
    cos_t = np.where(rng.uniform(size=n) < 0.5, peaked, rng.uniform(-c_max, c_max, n))
    if band:  # drawn only then: the other strata keep their random streams
        cos_t = np.where(rng.uniform(size=n) < band, _band_cos(n, rng), cos_t)
    if pipe:  # likewise
        low, high = _pipe_intervals(rest[:, 3] / rest[:, 0], c_max)
        length = high - low
        total = length.sum(axis=1)
        share = np.where(total > 0, pipe, 0.0)  # no interval: the plain channels alone
        u = rng.uniform(size=n) * total
        start = np.cumsum(length, axis=1) - length
        k = np.clip((u[:, None] >= start + length).sum(axis=1), 0, low.shape[1] - 1)
        rows = np.arange(n)
        aimed_cos = low[rows, k] + u - start[rows, k]
        cos_t = np.where(rng.uniform(size=n) < share, aimed_cos, cos_t)
    density = 0.5 / ((1 + d - cos_t) ** 2 * (b - a)) + 0.5 / (2 * c_max)
    if band:  # the bands lie inside [-c_max, c_max], where both other channels are
        density = (1 - band) * density + band * _BAND_DENSITY[_bin_of(cos_t)]
    if pipe:  # the intervals too (clipped)
        hits = ((cos_t[:, None] >= low) & (cos_t[:, None] < high)).sum(axis=1)
        density = (1 - share) * density + share * hits / np.where(total > 0, total, 1.0)
    pair = two_body(np.sqrt(s_red), M_E, M_E, cos_t, rng.uniform(0, 2 * np.pi, n))
    pair = rotate_z_to(pair, hard_axis(sqrt_s, g1, rest)[:, None, :])
    pair = boost(pair, -(rest[:, 1:] / rest[:, :1])[:, None, :])
    p = np.concatenate([pair, g1[:, None], g2[:, None]], axis=1)
    p[:, 2:][p[:, 2:, 0] < 1e-6] = 0.0
    cut = math.cos(math.radians(THETA_E_MIN))
    keep = above & (np.abs(_cm_cos(pair)) < cut).all(axis=1)
    keep &= ~(_in_radiative_cuts(p[:, 2], pair) | _in_radiative_cuts(p[:, 3], pair))
    w = bhabha_vp_dsigma_dcos(s_red, cos_t) / density * w_isr
    return p, np.where(keep, w, 0.0)


#: cos(theta*) bands of the CM frame where a lepton is past the ECL (10-20 and 158.5-170
#: deg: the lab's 12.4 and 155.1 deg are CM 13.3-19.4 and 159.4-162.7 deg over the azimuth -
#: the crossing angle tilts the boost -, with ~0.7 deg of margin for the energy spread)
_PIPE_CM = (
    (math.cos(math.radians(20.0)), math.cos(math.radians(THETA_E_MIN))),
    (-math.cos(math.radians(THETA_E_MIN)), math.cos(math.radians(158.5))),
)


def _pipe_intervals(beta: FloatArray, c_max: float) -> tuple[FloatArray, FloatArray]:
    """Per event (pair velocity ``beta`` along z in the CM frame) two intervals (n, 2) of
    the pair-frame cos(theta) of the e- that put the e- into the forward band of _PIPE_CM or
    the e+ (at -cos) into the backward one - the t-channel's side, the e- along its beam
    (the other two ways, 0.4 % of the stratum's cross section, are left to the plain
    channels) -, clipped to [-c_max, c_max]; empty ones have low = high. (The pair-frame
    axis is the hard axis, along z but for the ISR photons' angles: the intervals only
    steer.)"""
    b = beta[:, None]

    def pair_frame(c: float) -> FloatArray:
        return np.asarray((c - b) / (1 - b * c))

    (f0, f1), (b0, b1) = _PIPE_CM
    lows = [pair_frame(f0), -pair_frame(b1)]
    highs = [pair_frame(f1), -pair_frame(b0)]
    low = np.clip(np.concatenate(lows, axis=1), -c_max, c_max)
    high = np.clip(np.concatenate(highs, axis=1), -c_max, c_max)
    return low, np.maximum(high, low)


def _ring_cos(n: int, rng: np.random.Generator) -> FloatArray:
    """n values of cos(theta) uniform over the ring bands (:func:`ring_bands`)."""
    bins = np.flatnonzero(_RING)
    return _in_bins(bins[rng.integers(len(bins), size=n)], rng)


def _photons(
    sqrt_s: FloatArray, rng: np.random.Generator, photon_ring: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """The radiative channel's photons (CM energy [GeV] log-uniform above E_GAMMA_MIN, cos
    theta* along the initial-state collinear peaks, mixed with the channels :func:`_radiative`
    names) and their density: (E*, cos theta*, density in cos theta* times E* log_e, log_e)
    with log_e = log(E_max / E_GAMMA_MIN), the usual draw's density being 1 / (E* log_e) in
    E*."""
    n: int = sqrt_s.shape[0]
    c_gamma = math.cos(math.radians(THETA_GAMMA_MIN))
    e_max = sqrt_s / 2 - 2 * M_E
    log_e = np.log(e_max / E_GAMMA_MIN)
    e_k = E_GAMMA_MIN * np.exp(rng.uniform(size=n) * log_e)
    cos_k = collinear_cos(n, 1.0, rng, c_gamma)  # the initial-state collinear peaks
    if photon_ring:  # drawn only then: the other strata keep their random streams
        cos_k = np.where(rng.uniform(size=n) < photon_ring, _ring_cos(n, rng), cos_k)
    cos_density = collinear_cos_density(cos_k, 1.0, c_gamma)
    if photon_ring:  # the bands lie inside [-c_gamma, c_gamma]
        cos_density = (1 - photon_ring) * cos_density + photon_ring * _RING_DENSITY[_bin_of(cos_k)]
    return e_k, cos_k, cos_density, log_e


def _radiative(
    beams: Beams,
    rng: np.random.Generator,
    photon_ring: float = 0.0,
) -> tuple[FloatArray, FloatArray]:
    """Radiative-channel trials (CM frame) and weights [GeV^-2]; ``photon_ring`` > 0: that
    share of the photons is drawn in the ring bands (:func:`_ring_cos`), the rest along the
    beams' collinear peaks."""
    sqrt_s = beams.sqrt_s
    n: int = sqrt_s.shape[0]
    s = sqrt_s**2
    e_k, cos_k, cos_density, log_e = _photons(sqrt_s, rng, photon_ring)
    k = two_body(sqrt_s, 0.0, 0.0, cos_k, rng.uniform(0, 2 * np.pi, n))
    k = k[:, 0] * (e_k / k[:, 0, 0])[:, None]
    p_minus, p_plus = cm_beams(sqrt_s)
    rest = p_minus + p_plus - k
    m_pair = np.sqrt(np.clip(rest[:, 0] ** 2 - (rest[:, 1:] ** 2).sum(axis=1), 0, None))
    beta = rest[:, 1:] / rest[:, :1]
    # e- direction in the pair frame: flat, along the e- beam, against the e+ beam (the
    # t-channel peaks), or along / against the photon (e- or e+ collinear with it: the pair
    # frame moves against the photon, so its direction there is still k's)
    d_minus = boost(p_minus, beta)[:, 1:]
    d_minus /= np.linalg.norm(d_minus, axis=1, keepdims=True)
    d_plus = boost(p_plus, beta)[:, 1:]
    d_plus /= np.linalg.norm(d_plus, axis=1, keepdims=True)
    d_k = k[:, 1:] / e_k[:, None]
    share = [(1 - FSR_SHARE) / 3] * 3 + [FSR_SHARE / 2] * 2
    channel = rng.choice(5, size=n, p=share)
    flat = rng.normal(size=(n, 3))
    flat /= np.linalg.norm(flat, axis=1, keepdims=True)
    candidates = [
        flat,
        peaked_direction(d_minus, rng, _DELTA),
        -peaked_direction(d_plus, rng, _DELTA),
        peaked_direction(d_k, rng, _DELTA_FSR),
        -peaked_direction(d_k, rng, _DELTA_FSR),
    ]
    direction = np.select([channel[:, None] == i for i in range(4)], candidates[:4], candidates[4])
    c1 = np.clip((direction * d_minus).sum(axis=1), -1, 1)
    c2 = np.clip(-(direction * d_plus).sum(axis=1), -1, 1)
    c3 = np.clip((direction * d_k).sum(axis=1), -1, 1)
    density = (
        share[0] / (4 * np.pi)
        + share[1] * (peaked_density(c1, _DELTA) + peaked_density(c2, _DELTA))
        + share[3] * (peaked_density(c3, _DELTA_FSR) + peaked_density(-c3, _DELTA_FSR))
    )
    cos_t = direction[:, 2]
    phi = np.arctan2(direction[:, 1], direction[:, 0])
    pair = boost(two_body(m_pair, M_E, M_E, cos_t, phi), -beta[:, None, :])
    q_minus, q_plus = pair[:, 0], pair[:, 1]
    me2 = me2_radiative_bhabha(p_plus, p_minus, q_plus, q_minus, k)
    bar_beta = np.sqrt(np.clip(1 - 4 * M_E**2 / m_pair**2, 0, None))
    phase_space = e_k / (16 * np.pi**3) * bar_beta / (8 * np.pi) / (4 * np.pi)
    sampling = cos_density / (e_k * log_e * 2 * np.pi) * density
    cos_psi = np.cos(math.radians(PSI_MIN))
    separated = np.ones(n, dtype=bool)
    for q in (q_minus, q_plus):
        separated &= (d_k * q[:, 1:]).sum(axis=1) / np.linalg.norm(q[:, 1:], axis=1) < cos_psi
    w = np.where(separated, me2 / (2 * s) * phase_space / sampling, 0.0)
    return np.stack([q_minus, q_plus, k, np.zeros_like(k)], axis=1), w


#: the cone channels of the SINGLE stratum (:mod:`~mlsearch.generate.bhabha_cones`; the
#: photon follows from conservation). 0.1: the e- drawn with its energy, 95 % in the forward
#: cone, the e+ by direction, 95 % in the backward one (the other sides keep every event of
#: the stratum reachable), a fifth of each peaked along its beam; 0.47: the e+ a spectator
#: (90 % peaked along its beam), the e- forward with 3-7.1 GeV (lab); 0.43: the e- a
#: spectator, the e+ backward with 1.5-4.4 GeV. The shares minimise the weights' variance
#: where the photon has E* < 5.3 GeV (Kleiss-Pittau iteration on 6x10^5 trials); the
#: leptons' energy ranges hold all of those events' weight
SINGLE_CONES: Mixture = (
    (0.1, Cones(0, 1, forward=(0.95, 0.05), peak=(0.2, 0.2))),
    (0.47, Cones(0, 1, forward=(1.0, 0.0), peak=(0.0, 0.9), e_forward=(3.0, 7.1))),
    (0.43, Cones(1, 0, forward=(0.0, 1.0), peak=(0.0, 0.9), e_backward=(1.5, 4.4))),
)


#: the cone channels of the SINGLE_LEPTON stratum: the photon drawn with its energy, in
#: either cone, half of each peaked along its beam; the lost lepton by direction, 95 % on
#: its own beam's side and 80 % peaked along that beam (the t-channel spectator); the seen
#: lepton from conservation. Measured against the old draw (the usual radiative trial with
#: 90 % of its photons in the beam-pipe bands): 1.5x the events per second and N_eff / N
#: 0.44 against 0.38, 1.8x the effective events per second (docs/validation.md); drawing a
#: lepton's energy instead, or peaking the photons harder, did worse
SINGLE_LEPTON_CONES: Mixture = (
    (0.5, Cones(2, 1, forward=(0.5, 0.05), peak=(0.5, 0.8))),
    (0.5, Cones(2, 0, forward=(0.5, 0.95), peak=(0.5, 0.8))),
)


def _radiative_cones(
    beams: Beams, rng: np.random.Generator, cones: Mixture
) -> tuple[FloatArray, FloatArray]:
    """Radiative-channel trials (CM frame) drawn by cone channels and their weights
    [GeV^-2], inside the channel's cuts (:func:`_in_radiative_cuts`)."""
    lab, density = cone_events(beams, rng, cones)
    p = lab_to_cms(lab, beams)
    sqrt_s = beams.sqrt_s
    n: int = sqrt_s.shape[0]
    p_minus, p_plus = cm_beams(sqrt_s)
    me2 = me2_radiative_bhabha(p_plus, p_minus, p[:, 1], p[:, 0], p[:, 2])
    keep = (density > 0) & _in_radiative_cuts(p[:, 2], p[:, :2])
    with np.errstate(all="ignore"):
        w = np.where(keep, me2 / (2 * sqrt_s**2) / density, 0.0)
    return np.concatenate([p, np.zeros((n, 1, 4))], axis=1), w


def _radiative_in(
    stratum: int, aimed: bool = True, ring: bool = True, single: bool = False
) -> Trial:
    """The radiative trial restricted to one :func:`_stratum` of the split ``ring`` and
    ``single`` ask for (COMPTON_RING's photons drawn in the ring bands, PHOTON_RING of them;
    SINGLE and SINGLE_LEPTON drawn by their cone channels, SINGLE_CONES and
    SINGLE_LEPTON_CONES; unless ``aimed`` is False)."""
    photon_ring = PHOTON_RING if stratum == COMPTON_RING and aimed else 0.0
    by_stratum = {SINGLE: SINGLE_CONES, SINGLE_LEPTON: SINGLE_LEPTON_CONES}
    cones = by_stratum.get(stratum) if aimed else None

    def trial(beams: Beams, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
        if cones is not None:
            p, w = _radiative_cones(beams, rng, cones)
        else:
            p, w = _radiative(beams, rng, photon_ring)
        return p, np.where(_stratum(p, beams, ring, single) == stratum, w, 0.0)

    return trial


def _strata(
    n_events: int, ring_share: float, single_share: float
) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]]]:
    """The (name, events, stratum) of the Bhabha-channel and the radiative parts of a sample
    split by ``ring_share`` and ``single_share`` (:func:`generate_ee`), in the order the
    sample concatenates them."""
    n_ring, n_single = round(n_events * ring_share), round(n_events * single_share)
    n_both, n_compton = round(n_ring * RING_BOTH), round(n_ring * RING_COMPTON)
    n_compton_ring = round(n_ring * RING_COMPTON_RING)
    n_born_ring, n_born_both = round(n_ring * RING_BORN), round(n_ring * RING_BORN_BOTH)
    n_rad = round((n_events - n_ring - n_single) * RADIATIVE_FRACTION)
    n_photon, n_born_single = round(n_single * SINGLE_PHOTON), round(n_single * SINGLE_BORN)
    n_one = n_ring - n_both - n_compton - n_compton_ring - n_born_ring - n_born_both
    born = [("ee_bhabha", n_events - n_ring - n_single - n_rad, 0)]
    radiative = [("ee_radiative", n_rad, 0)]
    if ring_share:
        born += [("ee_bhabha_ring", n_born_ring, 1), ("ee_bhabha_ring_both", n_born_both, 2)]
        radiative += [
            ("ee_ring_one", n_one, 1),
            ("ee_ring", n_both, 2),
            ("ee_compton", n_compton, COMPTON),
            ("ee_compton_ring", n_compton_ring, COMPTON_RING),
        ]
    if single_share:
        born += [("ee_bhabha_single", n_born_single, BORN_SINGLE)]
        radiative += [
            ("ee_single", n_photon, SINGLE),
            ("ee_single_lepton", n_single - n_photon - n_born_single, SINGLE_LEPTON),
        ]
    return born, radiative


def _strata_metadata(
    sigma: dict[str, float], ring_share: float, single_share: float
) -> dict[str, float]:
    """A split sample's shares and cross sections per region [fb] (``sigma``: per part)."""
    out: dict[str, float] = {}
    if ring_share:
        out |= {
            "ring_share": ring_share,
            "sigma_ring_one_fb": sigma["ee_ring_one"],
            "sigma_ring_fb": sigma["ee_ring"],
            "sigma_compton_fb": sigma["ee_compton"] + sigma["ee_compton_ring"],
            "sigma_compton_ring_fb": sigma["ee_compton_ring"],
            "sigma_bhabha_ring_fb": sigma["ee_bhabha_ring"],
            "sigma_bhabha_ring_both_fb": sigma["ee_bhabha_ring_both"],
        }
    if single_share:
        out |= {
            "single_share": single_share,
            "sigma_single_fb": sigma["ee_single"],
            "sigma_single_lepton_fb": sigma["ee_single_lepton"],
            "sigma_bhabha_single_fb": sigma["ee_bhabha_single"],
        }
    return out


def generate_ee(
    n_events: int,
    seed: int,
    energy_spread: bool = True,
    ring_share: float = 0.0,
    single_share: float = 0.0,
) -> TruthSample:
    """n weighted e+e- -> e+e- (gamma) events (lab frame): the Bhabha-with-ISR channel and
    the radiative channel (RADIATIVE_FRACTION of the events other than the ring's); with
    ``ring_share`` > 0 that share of the events is drawn in the regions a multi-photon
    selection keeps: RING_BOTH of them radiative with both leptons in the ring (the ECL
    outside the CDC), RING_COMPTON radiative in the Compton region, RING_BORN and
    RING_BORN_BOTH from the Bhabha channel with one lepton in the ring and the other in the
    CDC, or both in the ring (:func:`born_ring_stratum`), the rest radiative with exactly one
    lepton in the ring; the other events of each channel are in none of its regions. With
    ``single_share`` > 0 that share of the events is drawn in the single-cluster regions
    (the seen particle within SINGLE_THETA_DEG; SINGLE_PHOTON of them radiative SINGLE:
    both leptons past the ECL, the photon in it above E_LOST_MIN; SINGLE_BORN from the
    Bhabha channel, BORN_SINGLE: a lepton in the ECL with E_LOST_MIN to E_BORN_SINGLE_MAX,
    the other past it; the rest radiative SINGLE_LEPTON: a lepton there above E_LOST_MIN,
    the other lepton and the photon past it),
    which the other events of each channel then leave out. Slots: e-, e+, photon, photon."""
    if not 0 <= ring_share < 1 or not 0 <= single_share < 1 or ring_share + single_share >= 1:
        raise ConfigError(
            f"ee: ring_share ({ring_share}) and single_share ({single_share}) must each be in "
            "[0, 1), their sum below 1"
        )
    ring, single = bool(ring_share), bool(single_share)
    if ring or single:
        born_parts, radiative_parts = _strata(n_events, ring_share, single_share)
    else:
        n_rad = round(n_events * RADIATIVE_FRACTION)
        born_parts, radiative_parts = (
            [("ee_bhabha", n_events - n_rad, 0)],
            [("ee_radiative", n_rad, 0)],
        )
    born = {
        name: weighted_events(
            name, n, seed, _bhabha_in(label, True, ring, single) if ring or single else _bhabha,
            energy_spread=energy_spread,
        )
        for name, n, label in born_parts
    }  # fmt: skip
    parts = {
        name: weighted_events(
            name, n, seed,
            _radiative_in(label, True, ring, single) if ring or single else _radiative,
            energy_spread=energy_spread,
        )
        for name, n, label in radiative_parts
    }  # fmt: skip
    every = [*born.values(), *parts.values()]
    sigma_born = sum(part.cross_section_fb for part in born.values())
    sigma_rad = sum(part.cross_section_fb for part in parts.values())
    return TruthSample(
        "ee",
        np.tile(np.array([11, -11, 22, 22], dtype=np.int32), (n_events, 1)),
        np.concatenate([part.p4 for part in every]),
        np.concatenate([part.weight_fb for part in every]),
        sigma_born + sigma_rad,
        math.sqrt(sum(part.cross_section_err_fb**2 for part in every)),
        {
            "sigma_bhabha_fb": sigma_born,
            "sigma_radiative_fb": sigma_rad,
            "n_bhabha": sum(len(part.weight_fb) for part in born.values()),  # the first events
            **_strata_metadata(
                {name: part.cross_section_fb for name, part in {**born, **parts}.items()},
                ring_share,
                single_share,
            ),
            "cuts": {
                "theta_e_min_deg": THETA_E_MIN,
                "m_pair_min_gev": M_PAIR_MIN,
                "e_gamma_min_gev": E_GAMMA_MIN,
                "theta_gamma_min_deg": THETA_GAMMA_MIN,
                "psi_min_deg": PSI_MIN,
            },
        },
    )
