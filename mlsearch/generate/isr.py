"""Initial-state radiation: the beams' photons, shared by the backgrounds and the signals.

Each beam radiates a photon carrying the energy fraction y, drawn from the leading-order
Kuraev-Fadin electron structure function with soft-photon exponentiation,

    D(y) = beta/2 * y^(beta/2 - 1) * (1 + 3 beta / 8) - beta/4 * (2 - y),
    beta = 2 alpha / pi * (ln(s / m_e^2) - 1),

(E. A. Kuraev, V. S. Fadin, Sov. J. Nucl. Phys. 41 (1985) 466), at a polar angle to its beam
from the initial-state dipole pattern (1 - cos^2) / (1 - beta_e^2 cos^2)^2
(:mod:`mlsearch.generate.dipole`), weighted by the exact O(alpha) radiator of an s-channel
annihilation over its eikonal form, 1 - y^2 sin^2 / (2 (1 + (1 - y)^2)) (Berends & Kleiss).

:func:`with_isr` puts this radiation on any two-body or three-body hard process given as a
trial function (the signals): the hard process happens at the reduced s' = (P - k1 - k2)^2
in the rest frame of P - k1 - k2, which recoils against both photons, its axis along the
radiating e- (:func:`hard_axis`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mlsearch.generate.dipole import dipole_photon_cos, dipole_photon_density
from mlsearch.generate.unweight import Trial
from mlsearch.physics.beams import Beams
from mlsearch.physics.constants import ALPHA_EM, M_E
from mlsearch.physics.kinematics import boost, invariant_mass2, rotate_z_to

__all__ = [
    "HARD_CHANNEL",
    "Y_MIN_HARD",
    "AimedIsr",
    "IsrChannels",
    "beam_velocity",
    "channel_density",
    "hard_axis",
    "hard_isr_factor",
    "isr_beta",
    "isr_photons",
    "leading_power",
    "photon_at",
    "radiate",
    "radiate_natural",
    "reduced_frame",
    "structure_function",
    "with_isr",
]

FloatArray = NDArray[np.float64]

#: multichannel sampling of the ISR fractions: with probability HARD_CHANNEL both y are drawn
#: log-uniformly in [Y_MIN_HARD, 1], which puts ~7x more (lower-weight) events at the large
#: recoil masses where the Z' windows are than the structure function itself would.
HARD_CHANNEL = 0.7
Y_MIN_HARD = 1e-4
#: the returning channel's smallest 1 - y (a pair of 1 GeV after two photons: (1 - y)^2 ~ 0.01)
RETURN_MIN = 0.005
#: photons below this CM energy [GeV] are left out (empty slots, E = 0)
E_PHOTON_MIN = 1e-6


def isr_beta(s: float) -> float:
    """ISR exponent beta = 2 alpha/pi (ln(s/m_e^2) - 1); 0.0878 at sqrt(s) = 10.58 GeV."""
    return 2 * ALPHA_EM / math.pi * (math.log(s / M_E**2) - 1)


def structure_function(y: FloatArray, beta: float | FloatArray) -> FloatArray:
    """Kuraev-Fadin D(y) for the fraction y of the beam energy radiated."""
    return beta / 2 * y ** (beta / 2 - 1) * (1 + 3 * beta / 8) - beta / 4 * (2 - y)


@dataclass(frozen=True)
class IsrChannels:
    """How the ISR fractions (y1, y2) of a weighted background are sampled: a mixture of four
    densities, the weight D(y1) D(y2) / (mixture density) making any choice exact.

    ``hard``: probability of both y log-uniform in [Y_MIN_HARD, 1]; ``single``: of one beam's
    y log-uniform, the other's from the leading power (one hard photon, the other soft: with a
    hard FSR photon the commonest way a muon pair gets a large recoil mass); ``recoil``: probability
    of the recoil channel, y1 y2 (= M_recoil^2 / s of two collinear photons) uniform in
    [``recoil_min``, ``recoil_max``] (log-uniform with ``recoil_log``) and ln y1 uniform in
    [ln(y1 y2), 0]: as many events per GeV^2 of recoil mass^2 at 8 GeV as at 1 GeV, where the
    Z' windows are (with ``recoil_log``, per unit of ln M_recoil^2); ``returning``:
    of both 1 - y log-uniform in [``return_min``, 1] (density ~ 1 / (1 - y): the 1/s' of a
    Born cross section, s' = (1 - y1)(1 - y2) s, whose light pairs recoiling against two
    hard photons the other channels leave heavy); ``one_returning``: of one beam's 1 - y so
    (halves: beam 1, beam 2), the other's from the leading power (a pair recoiling against
    one hard photon); the rest: the structure function's own leading power (the soft
    bulk)."""

    hard: float = HARD_CHANNEL
    single: float = 0.0
    recoil: float = 0.0
    recoil_min: float = 0.005
    recoil_max: float = 0.8
    recoil_log: bool = False
    returning: float = 0.0
    one_returning: float = 0.0
    return_min: float = RETURN_MIN

    def __post_init__(self) -> None:
        shares = (self.hard, self.single, self.recoil, self.returning, self.one_returning)
        if min(shares) < 0 or sum(shares) >= 1:
            raise ValueError(f"ISR channel probabilities {shares}: need >= 0, sum < 1")
        if not 0 < self.recoil_min < self.recoil_max <= 1:
            raise ValueError(f"recoil channel range [{self.recoil_min}, {self.recoil_max}]")
        if not 0 < self.return_min < 1:
            raise ValueError(f"returning channels' smallest 1 - y {self.return_min}: need (0, 1)")


def radiate(
    n: int, beta: float, rng: np.random.Generator, channels: IsrChannels = IsrChannels()
) -> tuple[FloatArray, FloatArray]:
    """ISR fractions (y1, y2) per event and the weight D(y1) D(y2) / sampling density, drawn
    from the ``channels`` mixture (weighted backgrounds: more events at large y). ``pick``
    chooses the channel: [0, hard) hard, then recoil, then single (its halves: beam 1, beam 2),
    then returning, then one_returning (halves likewise), the rest soft."""
    pick = rng.uniform(size=n)
    hard = pick < channels.hard
    u = rng.uniform(size=(n, 2))
    log_uniform = Y_MIN_HARD ** (1 - u)
    y = np.where(hard[:, None], log_uniform, u ** (2 / beta))
    lo, hi = channels.recoil_min, channels.recoil_max
    if channels.single > 0:
        start = channels.hard + channels.recoil
        single = (pick >= start) & (pick < start + channels.single)
        first = pick < start + channels.single / 2
        y[:, 0] = np.where(single & first, log_uniform[:, 0], y[:, 0])
        y[:, 1] = np.where(single & ~first, log_uniform[:, 1], y[:, 1])
    if channels.recoil > 0:
        recoil = (pick >= channels.hard) & (pick < channels.hard + channels.recoil)
        product = lo * (hi / lo) ** u[:, 0] if channels.recoil_log else lo + (hi - lo) * u[:, 0]
        y1 = product ** (1 - u[:, 1])  # ln y1 uniform in [ln(y1 y2), 0]
        y = np.where(recoil[:, None], np.stack([y1, product / y1], axis=1), y)
    if channels.returning > 0:  # drawn only then: the other samplers keep their streams
        start = channels.hard + channels.recoil + channels.single
        back = (pick >= start) & (pick < start + channels.returning)
        y = np.where(back[:, None], 1 - channels.return_min**u, y)
    if channels.one_returning > 0:  # likewise
        start = channels.hard + channels.recoil + channels.single + channels.returning
        one = (pick >= start) & (pick < start + channels.one_returning)
        first = pick < start + channels.one_returning / 2
        y[:, 0] = np.where(one & first, 1 - channels.return_min ** u[:, 0], y[:, 0])
        y[:, 1] = np.where(one & ~first, 1 - channels.return_min ** u[:, 1], y[:, 1])
    y = np.clip(y, 1e-300, 1.0)
    weight = structure_function(y, beta).prod(axis=1) / channel_density(y, beta, channels)
    return y, weight


def channel_density(y: FloatArray, beta: float, channels: IsrChannels) -> FloatArray:
    """The density in (y1, y2) of :func:`radiate`'s ``channels`` mixture (per event)."""
    lo, hi = channels.recoil_min, channels.recoil_max
    log_range = -np.log(Y_MIN_HARD)
    soft_density = leading_power(y, beta)
    hard_density = np.where(y >= Y_MIN_HARD, 1 / (y * log_range), 0.0)
    soft = 1 - channels.hard - channels.single - channels.recoil - channels.returning
    soft -= channels.one_returning
    density = soft * soft_density.prod(axis=1) + channels.hard * hard_density.prod(axis=1)
    if channels.recoil > 0:
        # the recoil channel's density in (y1, y2): 1/(hi - lo) for y1 y2, 1/(-ln y1 y2) for
        # ln y1 given it, and |d(y1 y2, ln y1) / d(y1, y2)| = 1
        yy = y.prod(axis=1)
        inside = (yy >= lo) & (yy <= hi)
        safe = np.where(inside, yy, 0.5)
        per_product = 1 / (safe * math.log(hi / lo)) if channels.recoil_log else 1 / (hi - lo)
        density = density + channels.recoil * np.where(inside, per_product / -np.log(safe), 0)
    density = density + channels.single / 2 * (
        hard_density[:, 0] * soft_density[:, 1] + soft_density[:, 0] * hard_density[:, 1]
    )
    if channels.returning > 0 or channels.one_returning > 0:
        one_minus = 1 - y
        r_min = channels.return_min
        inside = one_minus >= r_min
        per_beam = np.where(inside, 1 / (np.maximum(one_minus, r_min) * -math.log(r_min)), 0.0)
        density = density + channels.returning * per_beam.prod(axis=1)
        density = density + channels.one_returning / 2 * (
            per_beam[:, 0] * soft_density[:, 1] + soft_density[:, 0] * per_beam[:, 1]
        )
    return np.asarray(density)


def radiate_natural(n: int, beta: float, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """ISR fractions (y1, y2) drawn from the leading power beta/2 y^(beta/2 - 1) alone, and the
    weight D(y1) D(y2) / density, which lies in [0.25, 1.07]: for unweighted samples (the
    signals), where a flat weight keeps the hit-or-miss efficient."""
    y = np.clip(rng.uniform(size=(n, 2)) ** (2 / beta), 1e-300, 1.0)
    return y, _natural_ratio(y, beta).prod(axis=1)


def leading_power(y: FloatArray, beta: float) -> FloatArray:
    """The structure function's leading power beta/2 y^(beta/2 - 1): the density of
    :func:`radiate_natural`'s y and of the soft channel of :func:`radiate`."""
    return np.asarray(beta / 2 * y ** (beta / 2 - 1))


def beam_velocity(sqrt_s: FloatArray) -> FloatArray:
    """The beams' velocity in the CM frame (the dipole pattern's beta_e)."""
    return np.asarray(np.sqrt(np.clip(1 - (2 * M_E / sqrt_s) ** 2, 0, None)))


def photon_at(e: FloatArray, cos_t: FloatArray, phi: FloatArray) -> FloatArray:
    """Photons (n, 4) of energy e [GeV] at polar cos_t and azimuth phi."""
    sin_t = np.sqrt(np.clip(1 - cos_t**2, 0, None))
    return np.stack([e, e * sin_t * np.cos(phi), e * sin_t * np.sin(phi), e * cos_t], axis=-1)


def _natural_ratio(y: FloatArray, beta: float) -> FloatArray:
    """D(y) over the leading power beta/2 y^(beta/2 - 1), per beam."""
    return np.asarray((1 + 3 * beta / 8) - (2 - y) * y ** (1 - beta / 2) / 2)


@dataclass(frozen=True)
class AimedIsr:
    """A channel of :func:`with_isr` that puts one ISR photon where a search needs it:
    with probability ``share`` an event draws (cos theta* to +z, y) from ``draw`` (n, rng)
    instead of the dipole pattern and the structure function's leading power; the photon is
    the e-'s when cos theta* >= 0, else the e+'s (each beam radiates into its own
    hemisphere), and ``density`` (cos theta*, y) is the draw's density there (0 where it
    never goes). The weight D(y1) D(y2) / (mixture density) keeps the sample exact."""

    share: float
    draw: Callable[[int, np.random.Generator], tuple[FloatArray, FloatArray]]
    density: Callable[[FloatArray, FloatArray], FloatArray]


def _aim(
    aimed: AimedIsr,
    sqrt_s: FloatArray,
    y: FloatArray,
    photons: tuple[FloatArray, FloatArray],
    beta: float,
    rng: np.random.Generator,
) -> tuple[FloatArray, tuple[FloatArray, FloatArray], FloatArray]:
    """Replace one ISR photon of a ``share`` of the events by the aimed channel's; the fractions
    y, the photons and the ISR weight D(y1) D(y2) / (mixture density) of every event."""
    n = len(sqrt_s)
    pick = rng.uniform(size=n) < aimed.share
    cos_a, y_a = aimed.draw(n, rng)
    photon = photon_at(sqrt_s / 2 * y_a, cos_a, rng.uniform(0, 2 * np.pi, n))
    y = y.copy()
    out = []
    for i, mine in enumerate((cos_a >= 0, cos_a < 0)):
        chosen = pick & mine
        y[:, i] = np.where(chosen, y_a, y[:, i])
        out.append(np.where(chosen[:, None], photon, photons[i]))
    beta_e = beam_velocity(sqrt_s)
    odds = np.zeros(n)  # sum over beams of (aimed density) / (natural density)
    for i in range(2):
        e_i = np.where(out[i][:, 0] > 0, out[i][:, 0], 1.0)
        cos_i = out[i][:, 3] / e_i
        q = aimed.density(cos_i, y[:, i])
        dipole = dipole_photon_density(np.abs(cos_i), beta_e)
        natural = leading_power(y[:, i], beta) * dipole
        odds += np.where(q > 0, q / np.where(q > 0, natural, 1.0), 0.0)
    weight = _natural_ratio(y, beta).prod(axis=1) / (1 - aimed.share + aimed.share * odds)
    return y, (out[0], out[1]), weight


def isr_photons(
    sqrt_s: FloatArray, y: FloatArray, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """The two ISR photons (n, 4) each in the CM frame: energies y_i sqrt(s) / 2, the first
    around the e- direction (+z), the second around the e+ direction, each at the dipole
    angle of :func:`~mlsearch.generate.dipole.dipole_photon_cos` and a uniform azimuth."""
    n = len(sqrt_s)
    beta_e = beam_velocity(sqrt_s)
    photons = []
    for i, sign in ((0, 1.0), (1, -1.0)):
        c = sign * dipole_photon_cos(n, beta_e, rng)
        photons.append(photon_at(sqrt_s / 2 * y[:, i], c, rng.uniform(0, 2 * np.pi, n)))
    return photons[0], photons[1]


def hard_isr_factor(y: FloatArray, photon: FloatArray) -> FloatArray:
    """The exact O(alpha) initial-state radiator over its eikonal (soft-photon) form, for a
    photon of beam-energy fraction y at polar angle theta (F. A. Berends, R. Kleiss, Nucl.
    Phys. B 177 (1981) 237; with the final-state angles integrated):

        dsigma / dy dcos = sigma_Born(s') alpha/pi [(1 + (1 - y)^2) / (y sin^2) - y / 2]
                         = eikonal x [1 - y^2 sin^2 / (2 (1 + (1 - y)^2))],

    1 for soft or collinear photons (where the structure function holds), 0.9 for y = 0.5
    at 90 deg. Checked against the full e+e- -> mu+ mu- gamma matrix element to 1e-4
    (docs/validation.md)."""
    # below 1e-30 GeV E^2 underflows; such a photon's factor is 1 anyway (sin2 -> 0 here)
    e = np.where(photon[:, 0] > 1e-30, photon[:, 0], 1.0)
    sin2 = (photon[:, 1] ** 2 + photon[:, 2] ** 2) / e**2
    return 1.0 - y**2 * sin2 / (2 * (1 + (1 - y) ** 2))


def hard_axis(sqrt_s: FloatArray, g1: FloatArray, rest: FloatArray) -> FloatArray:
    """The beam axis of the hard process (n, 3): the direction, in the rest frame of
    ``rest`` = P - k1 - k2, of the e- after it radiated k1 = ``g1`` (CM frame, e- along +z).
    Along +z for collinear photons; when the photons carry transverse momentum, the hard
    process's t-channel peaks and angular distributions follow its own incoming lepton, not
    the lab's z (which matters for a light system recoiling against photons at angles)."""
    half = sqrt_s / 2
    zero = np.zeros_like(half)
    incoming = np.stack([half, zero, zero, half], axis=-1) - g1
    axis = boost(incoming, rest[:, 1:] / rest[:, :1])[:, 1:]
    norm = np.linalg.norm(axis, axis=1, keepdims=True)
    return np.where(norm > 0, axis / np.where(norm > 0, norm, 1.0), np.array([0.0, 0.0, 1.0]))


def reduced_frame(
    sqrt_s: FloatArray, g1: FloatArray, g2: FloatArray, s_min: float
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """What the hard process has left after the ISR photons ``g1``, ``g2`` (CM frame):
    P - k1 - k2 (n, 4), its s' [GeV^2] and whether s' > ``s_min`` with positive energy;
    where not, the unradiated frame (sqrt_s at rest) and s, so that the caller's kinematics
    stay finite for the events it gives weight 0."""
    n = len(sqrt_s)
    at_rest = np.zeros((n, 4))
    at_rest[:, 0] = sqrt_s
    rest = at_rest - (g1 + g2)
    s_red = invariant_mass2(rest)
    above = (s_red > s_min) & (rest[:, 0] > 0)
    return (
        np.where(above[:, None], rest, at_rest),
        np.where(above, s_red, sqrt_s**2),
        np.asarray(above),
    )


def _beams_at_rest(sqrt_s: FloatArray) -> Beams:
    """Beams (n, 4) along +-z with the CM energies sqrt_s (the hard process's frame)."""
    half = sqrt_s / 2
    zero = np.zeros_like(half)
    p = np.sqrt(np.clip(half**2 - M_E**2, 0, None))
    return Beams(np.stack([half, zero, zero, p], -1), np.stack([half, zero, zero, -p], -1))


def with_isr(
    trial: Trial,
    threshold: float,
    ordered_photons: tuple[int, ...] = (),
    aimed: AimedIsr | None = None,
) -> Trial:
    """The hard process ``trial`` (CM four-momenta (n, k, 4), weights [GeV^-2]) with ISR off
    both beams: its k particles, then the ISR photon along e- and the one along e+ (E = 0
    when softer than 1 keV). The hard process runs at the reduced CM energy sqrt(s') in the
    rest frame of P - k1 - k2, its z axis turned onto the radiating e- (:func:`hard_axis`),
    and is boosted back; its weight is multiplied by D(y1) D(y2) / density and the
    hard-photon factor of each photon. Events with sqrt(s') <= ``threshold`` [GeV] (the sum
    of the final-state masses) get weight 0.

    ``ordered_photons``: the slots of the hard process's own photons (e+e- -> gamma A',
    gamma a, gamma gamma). They and the ISR photons are the same radiation; the structure
    functions describe the softer ones only, so events where an ISR photon is harder (CM
    energy) than one of the hard process's photons get weight 0 (strong ordering; the swapped
    assignment is the event where the other photon is the hard process's). Without it
    e+e- -> gamma A' at s' -> m^2, where its photon turns soft and dsigma diverges, would be
    counted on top of itself.

    ``aimed``: a channel that draws one ISR photon where a search needs it (weighted back).

    The total cross section becomes the Born one convolved with the structure functions,
    including their soft and virtual O(alpha) correction (1 + 3 beta / 8 per beam)."""

    def radiated(beams: Beams, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
        sqrt_s = beams.sqrt_s
        n = len(sqrt_s)
        beta = isr_beta(float(np.mean(sqrt_s**2)))
        y, w_isr = radiate_natural(n, beta, rng)
        g1, g2 = isr_photons(sqrt_s, y, rng)
        if aimed is not None:  # only then: the other samplers keep their random streams
            y, (g1, g2), w_isr = _aim(aimed, sqrt_s, y, (g1, g2), beta, rng)
        rest, s_red, above = reduced_frame(sqrt_s, g1, g2, threshold**2 * 1.0001)
        g1, g2 = np.where(above[:, None], g1, 0.0), np.where(above[:, None], g2, 0.0)
        p, w = trial(_beams_at_rest(np.sqrt(s_red)), rng)
        p = rotate_z_to(p, hard_axis(sqrt_s, g1, rest)[:, None, :])
        p = boost(p, -(rest[:, 1:] / rest[:, :1])[:, None, :])
        w_hard = hard_isr_factor(y[:, 0], g1) * hard_isr_factor(y[:, 1], g2)
        for slot in ordered_photons:
            above &= np.maximum(g1[:, 0], g2[:, 0]) < p[:, slot, 0]
        weight = np.where(above, w * w_isr * w_hard, 0.0)
        photons = np.stack([g1, g2], axis=1)
        photons[photons[..., 0] < E_PHOTON_MIN] = 0.0
        return np.concatenate([p, photons], axis=1), weight

    return radiated
