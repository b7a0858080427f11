"""Two-photon processes in the equivalent-photon approximation (EPA):
e+e- -> e+e- mu+mu- (background) and e+e- -> e+e- a (ALP photon fusion).

Each beam radiates a photon with energy fraction x and virtuality Q^2 from the flux

    dN/(dx dQ^2) = alpha/(2 pi) [(1 + (1 - x)^2)/x / Q^2 - 2 m_e^2 x / Q^4],
    Q^2 > Q^2_min = m_e^2 x^2/(1 - x)

(V. M. Budnev et al., Phys. Rept. 15 (1975) 181), sampled log-uniformly in x and Q^2. The
scattered electrons get the exact kinematics for (x, Q^2, phi), so four-momentum is conserved
per event and the beam electrons mostly go down the beam pipe. The photon flux is cut off at
Q^2 < W^2 (the gamma gamma invariant mass squared), where the real-photon cross section stops
describing the virtual one. gamma gamma -> mu+ mu- uses the Breit-Wheeler cross section and
angular distribution; gamma gamma -> a the narrow-resonance formula
sigma = 8 pi^2 Gamma(a -> gamma gamma)/m delta(W^2 - m^2).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mlsearch.errors import ConfigError
from mlsearch.generate.alp import decay_alps
from mlsearch.generate.phase_space import two_body
from mlsearch.generate.unweight import weighted_events
from mlsearch.io.truth import PDG_ALP, TruthSample
from mlsearch.physics.acceptance import TrackAcceptance
from mlsearch.physics.beams import Beams, cms_to_lab
from mlsearch.physics.constants import ALPHA_EM, M_E, M_MU
from mlsearch.physics.kinematics import boost, invariant_mass2, rotate_z_to
from mlsearch.physics.mass_ranges import signal_mass_problem
from mlsearch.physics.qed_me import alp_width, breit_wheeler_dsigma_dcos

__all__ = ["epa_flux", "generate_alp_fusion", "generate_eemumu"]

FloatArray = NDArray[np.float64]
CHUNK = 50_000
W_MIN_MUMU = 0.5  # GeV: the e e mu mu sample starts at W_mumu > 0.5 GeV (as Belle II's)
Q2_GEN_MAX = 100.0  # GeV^2: sampling range; the W^2 cut-off acts inside it
Q2_MAX_FRACTION = 1.0  # photon fusion: Q^2 < Q2_MAX_FRACTION * m_a^2 for each photon
#: e e mu mu's soft-pair channel (``soft_pair_share``): x1 + x2 drawn from z^-SOFT_PAIR_Z_POWER
#: over SOFT_PAIR_X (a muon pair of 2.1-6.3 GeV, CM, recoiling at 2-8.2 GeV), x1 / (x1 + x2)
#: uniform in its logit over SOFT_PAIR_R (x1 x2 ~ W^2 / s then spreads as dW^2 / W^2, the
#: 1/W^2 of the gamma gamma -> mu mu cross section; x >= 1 is outside phase space, weight 0),
#: and one photon's Q^2, either's with probability 1/2, log-uniform in SOFT_PAIR_Q2 [GeV^2]:
#: the pair's pT* then passes the Z' selection's 0.3 GeV while the scattered electron stays
#: inside the ECL's inner edge. Measured on simulated events that pass the Z' preselection:
#: each recoil-mass window takes a narrow band of x1 + x2 (0.43-0.49 at 8 GeV, 0.55-0.65 at
#: 7.1, 0.81-1.1 at 4.8, > 1.02 at 0.5 GeV), and the effective MC luminosity per event fell
#: toward 8 GeV under the log-uniform z of 0.3-1 this channel first drew (3.5x less at 8 GeV
#: than at 6.5): the power 3 from 0.4 (below it the pair recoils above 8.2 GeV, past the
#: search) to 1.2 (docs/validation.md, "e e mu mu's soft pairs toward 8 GeV")
SOFT_PAIR_X = (0.4, 1.2)
SOFT_PAIR_Z_POWER = 3.0
SOFT_PAIR_R = (0.01, 0.99)
SOFT_PAIR_Q2 = (0.05, 3.0)
#: e e mu mu's hard-photon channel (``hard_photon_share``): one photon (either, 1/2 each)
#: with 1 - x log-uniform in HARD_PHOTON_1MX, the other's x log-uniform over its whole range,
#: one photon's Q^2 as the soft-pair channel draws it: the heavy, energetic muon pairs of
#: recoil masses 1-3.5 GeV ((1 - x1)(1 - x2) s = M_recoil^2: one x of 0.93-0.99), which the
#: log-uniform draw reaches with 2 % of its events
HARD_PHOTON_1MX = (1e-3, 0.35)


def epa_flux(x: FloatArray, q2: FloatArray) -> FloatArray:
    """dN/(dx dQ^2) [GeV^-2] of a photon with energy fraction x and virtuality Q^2."""
    return np.asarray(
        ALPHA_EM / (2 * np.pi) * ((1 + (1 - x) ** 2) / x / q2 - 2 * M_E**2 * x / q2**2)
    )


def _q2_min(x: FloatArray) -> FloatArray:
    return np.asarray(M_E**2 * x**2 / (1 - x))


def _scattered(
    e_beam: FloatArray, sign: float, x: FloatArray, q2: FloatArray, phi: FloatArray
) -> FloatArray:
    """Scattered beam electron (n, 4) in the CM frame, beam along sign*z, for (x, Q^2, phi)."""
    e1 = (1 - x) * e_beam
    p0 = np.sqrt(e_beam**2 - M_E**2)
    p1 = np.sqrt(np.clip(e1**2 - M_E**2, 0, None))
    cos_t = np.clip((e_beam * e1 - M_E**2 - q2 / 2) / (p0 * p1), -1, 1)
    sin_t = np.sqrt(1 - cos_t**2)
    return np.stack(
        [e1, p1 * sin_t * np.cos(phi), p1 * sin_t * np.sin(phi), sign * p1 * cos_t], axis=-1
    )


def _beam(e_beam: FloatArray, sign: float) -> FloatArray:
    zero = np.zeros_like(e_beam)
    return np.stack([e_beam, zero, zero, sign * np.sqrt(e_beam**2 - M_E**2)], axis=-1)


def _photon(
    e_beam: FloatArray,
    sign: float,
    x: FloatArray,
    rng: np.random.Generator,
    focused: NDArray[np.bool_] | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(scattered electron, Q^2, flux weight) with Q^2 log-uniform in [Q^2_min, Q2_GEN_MAX].

    ``focused``: these events draw Q^2 log-uniform in SOFT_PAIR_Q2 instead, and the last
    value is then the flux alone: the caller divides by the events' mixture density
    (:func:`_q2_densities`)."""
    n: int = x.shape[0]
    q2_lo = _q2_min(x)
    log_q = np.log(Q2_GEN_MAX / q2_lo)
    q2 = q2_lo * np.exp(rng.uniform(0, 1, n) * log_q)
    if focused is not None:
        low = np.maximum(SOFT_PAIR_Q2[0], q2_lo)
        q2 = np.where(focused, low * (SOFT_PAIR_Q2[1] / low) ** rng.uniform(size=n), q2)
    electron = _scattered(e_beam, sign, x, q2, rng.uniform(0, 2 * np.pi, n))
    if focused is not None:
        return electron, q2, epa_flux(x, q2)
    return electron, q2, epa_flux(x, q2) * q2 * log_q


def _q2_densities(x: FloatArray, q2: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Densities in Q^2 [GeV^-2] of the whole-range draw and of the focused one."""
    q2_lo = _q2_min(x)
    whole = 1 / (q2 * np.log(Q2_GEN_MAX / q2_lo))
    low = np.maximum(SOFT_PAIR_Q2[0], q2_lo)
    inside = (q2 >= low) & (q2 <= SOFT_PAIR_Q2[1])
    log_range = np.log(SOFT_PAIR_Q2[1] / np.where(inside, low, 1.0))
    return whole, np.where(inside, 1 / (q2 * np.where(inside, log_range, 1.0)), 0.0)


def _soft_pair_x(
    x1: FloatArray, x2: FloatArray, share: float, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """A ``share`` of the events' (x1, x2) redrawn by the soft-pair channel, and which."""
    n = x1.shape[0]
    aimed = np.asarray(rng.uniform(size=n) < share)
    r_lo, r_hi = SOFT_PAIR_R
    # inverse CDF of z^-power on SOFT_PAIR_X
    lo, hi = (bound ** (1 - SOFT_PAIR_Z_POWER) for bound in SOFT_PAIR_X)
    z = (lo + rng.uniform(size=n) * (hi - lo)) ** (1 / (1 - SOFT_PAIR_Z_POWER))
    logit = np.log(r_lo / (1 - r_lo)) + rng.uniform(size=n) * 2 * np.log(r_hi / (1 - r_hi))
    r = 1 / (1 + np.exp(-logit))
    return np.where(aimed, z * r, x1), np.where(aimed, z * (1 - r), x2), aimed


def _hard_photon_x(
    x1: FloatArray, x2: FloatArray, chosen: NDArray[np.bool_], rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """The ``chosen`` events' (x1, x2) with one photon's (either, 1/2 each) 1 - x redrawn
    log-uniform in HARD_PHOTON_1MX (the other keeps its log-uniform x)."""
    n = x1.shape[0]
    lo, hi = HARD_PHOTON_1MX
    hard = 1 - lo * (hi / lo) ** rng.uniform(size=n)
    first = rng.uniform(size=n) < 0.5
    return np.where(chosen & first, hard, x1), np.where(chosen & ~first, hard, x2)


def _hard_photon_density(x1: FloatArray, x2: FloatArray, x_min: FloatArray) -> FloatArray:
    """Density in (x1, x2) of :func:`_hard_photon_x`: 1/2 [h(x1) p(x2) + p(x1) h(x2)], h the
    hard photon's (1 / ((1 - x) ln(hi / lo)) in range), p the log-uniform x's."""
    lo, hi = HARD_PHOTON_1MX

    def hard(x: FloatArray) -> FloatArray:
        one_minus = 1 - x
        inside = (one_minus >= lo) & (one_minus <= hi)
        return np.where(inside, 1 / (np.maximum(one_minus, lo) * np.log(hi / lo)), 0.0)

    def plain(x: FloatArray) -> FloatArray:
        return np.where(x >= x_min, 1 / (np.maximum(x, 1e-300) * -np.log(x_min)), 0.0)

    return np.asarray(0.5 * (hard(x1) * plain(x2) + plain(x1) * hard(x2)))


def _x_densities(
    x1: FloatArray, x2: FloatArray, x_min: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Densities in (x1, x2) of the log-uniform draw (1 / (x1 x2 ln^2 x_min) above x_min)
    and of the soft-pair channel (z = x1 + x2 from a power law and r = x1 / z as
    :func:`_soft_pair_x` draws them; the Jacobian of (z, r) -> (x1, x2) is z)."""
    on_grid = (x1 >= x_min) & (x2 >= x_min)
    plain = np.where(on_grid, 1 / (np.maximum(x1 * x2, 1e-300) * np.log(x_min) ** 2), 0.0)
    (z_lo, z_hi), (r_lo, r_hi) = SOFT_PAIR_X, SOFT_PAIR_R
    z = np.maximum(x1 + x2, 1e-300)
    r = x1 / z
    inside = (z >= z_lo) & (z <= z_hi) & (r >= r_lo) & (r <= r_hi)
    power = SOFT_PAIR_Z_POWER
    per_z = (power - 1) * z**-power / (z_lo ** (1 - power) - z_hi ** (1 - power))
    per_r = 1 / (np.maximum(r * (1 - r), 1e-300) * 2 * np.log(r_hi / (1 - r_hi)))
    return plain, np.where(inside, per_z * per_r / z, 0.0)


def _eemumu_chunk(
    beams: Beams,
    rng: np.random.Generator,
    acceptance: TrackAcceptance | None = None,
    soft_pair_share: float = 0.0,
    hard_photon_share: float = 0.0,
) -> tuple[FloatArray, FloatArray]:
    sqrt_s = beams.sqrt_s
    n: int = sqrt_s.shape[0]
    e_beam = sqrt_s / 2
    x_min = W_MIN_MUMU**2 / sqrt_s**2
    log_x = -np.log(x_min)
    x1, x2 = (x_min * np.exp(rng.uniform(0, 1, n) * log_x) for _ in range(2))
    aimed = focus1 = focus2 = None
    hard = None
    if soft_pair_share > 0 or hard_photon_share > 0:  # only then: the plain stream stays
        x1, x2, aimed = _soft_pair_x(x1, x2, soft_pair_share, rng)
        first = rng.uniform(size=n) < 0.5  # which photon's Q^2 the channel aims
        if hard_photon_share > 0:  # of the others, hard_photon_share / (1 - soft) in all
            odds = hard_photon_share / (1 - soft_pair_share)
            hard = ~aimed & (rng.uniform(size=n) < odds)
            x1, x2 = _hard_photon_x(x1, x2, hard, rng)
            aimed = aimed | hard
        focus1, focus2 = aimed & first, aimed & ~first
    physical = (x1 < 1) & (x2 < 1)  # the soft-pair channel's z reaches 1.2
    x1, x2 = np.minimum(x1, 1 - 1e-9), np.minimum(x2, 1 - 1e-9)
    el1, q2_1, w1 = _photon(e_beam, +1.0, x1, rng, focus1)
    el2, q2_2, w2 = _photon(e_beam, -1.0, x2, rng, focus2)
    q1 = _beam(e_beam, +1.0) - el1
    q2 = _beam(e_beam, -1.0) - el2
    system = q1 + q2
    w_sq = np.clip(invariant_mass2(system), 1e-12, None)
    ok = physical & (np.sqrt(w_sq) > W_MIN_MUMU) & (system[:, 0] > 0)
    ok &= (q2_1 < w_sq) & (q2_2 < w_sq)
    # muon pair in the gamma gamma rest frame, polar angle measured from photon 1
    beta_mu = np.sqrt(np.clip(1 - 4 * M_MU**2 / w_sq, 1e-12, 1))
    cos_t = rng.uniform(-1, 1, n)
    phi = rng.uniform(0, 2 * np.pi, n)
    pair = two_body(np.sqrt(w_sq), M_MU, M_MU, cos_t, phi)
    beta_sys = system[:, 1:] / system[:, :1]
    axis = boost(q1, beta_sys)[:, 1:]
    pair = boost(rotate_z_to(pair, axis[:, None, :]), -beta_sys[:, None, :])
    dsig = breit_wheeler_dsigma_dcos(w_sq, M_MU, cos_t) * 2.0  # / uniform density 1/2
    if acceptance is not None:  # both muons reconstructable (lab frame)
        ok &= acceptance.contains(cms_to_lab(pair, beams)).all(axis=1)
    if aimed is None:
        flux = w1 * w2 * log_x**2 * x1 * x2
    else:  # the mixture: (1 - share) log-uniform x, whole-range Q^2; share soft-pair
        plain_x, soft_x = _x_densities(x1, x2, x_min)
        whole1, focused1 = _q2_densities(x1, q2_1)
        whole2, focused2 = _q2_densities(x2, q2_2)
        aimed_q2 = 0.5 * (focused1 * whole2 + whole1 * focused2)
        plain_share = 1 - soft_pair_share - hard_photon_share
        density = plain_share * plain_x * whole1 * whole2
        density = density + soft_pair_share * soft_x * aimed_q2
        if hard is not None:
            density = density + hard_photon_share * _hard_photon_density(x1, x2, x_min) * aimed_q2
        flux = w1 * w2 / np.where(density > 0, density, np.inf)
    weight = np.where(ok & (beta_mu > 1e-6), flux * dsig, 0.0)
    p4 = np.concatenate([el1[:, None], el2[:, None], pair], axis=1)
    return p4, weight


def generate_eemumu(
    n_events: int,
    seed: int,
    energy_spread: bool = True,
    acceptance: TrackAcceptance | None = None,
    soft_pair_share: float = 0.0,
    hard_photon_share: float = 0.0,
) -> TruthSample:
    """n weighted e+e- -> e+e- mu+mu- events (W_mumu > 0.5 GeV), lab frame.

    ``acceptance`` keeps only events with both muons inside it (the CDC acceptance and the
    tracking pT threshold of the simulation: the others cannot pass a two-track selection):
    sigma is then the visible part, ~1/25 of the total, and the MC statistics go where the
    analysis looks. ``soft_pair_share``: the share of the trials drawn by the soft-pair
    channel (SOFT_PAIR_X, SOFT_PAIR_Q2), ``hard_photon_share`` by the hard-photon channel
    (HARD_PHOTON_1MX, SOFT_PAIR_Q2), weighted back by the mixture's density.
    Slots: scattered e-, scattered e+, mu-, mu+."""
    if not (0 <= soft_pair_share and 0 <= hard_photon_share and
            soft_pair_share + hard_photon_share < 1):  # fmt: skip
        raise ConfigError(
            f"soft_pair_share {soft_pair_share}, hard_photon_share {hard_photon_share}: need "
            ">= 0 and a sum below 1"
        )
    ev = weighted_events(
        "eemumu",
        n_events,
        seed,
        lambda b, r: _eemumu_chunk(b, r, acceptance, soft_pair_share, hard_photon_share),
        CHUNK,
        energy_spread,
    )
    pdg = np.tile(np.array([11, -11, 13, -13], dtype=np.int32), (n_events, 1))
    return TruthSample(
        "eemumu",
        pdg,
        ev.p4,
        ev.weight_fb,
        ev.cross_section_fb,
        ev.cross_section_err_fb,
        {
            "model": "EPA (Budnev) x Breit-Wheeler",
            "w_min_gev": W_MIN_MUMU,
            "muons_in_cdc_acceptance": acceptance is not None,
            **({"soft_pair_share": soft_pair_share} if soft_pair_share else {}),
            **({"hard_photon_share": hard_photon_share} if hard_photon_share else {}),
        },
    )


def _fusion_chunk(
    beams: Beams, mass: float, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """e+e- -> e+e- a at W = m exactly: x2 solved per event by Newton steps."""
    sqrt_s = beams.sqrt_s
    n: int = sqrt_s.shape[0]
    e_beam = sqrt_s / 2
    tau = mass**2 / sqrt_s**2
    log_x = -np.log(tau)
    x1 = np.minimum(tau * np.exp(rng.uniform(0, 1, n) * log_x), 1 - 1e-9)
    el1, q2_1, w1 = _photon(e_beam, +1.0, x1, rng)
    q1 = _beam(e_beam, +1.0) - el1
    # the second photon's Q^2 and azimuth are drawn first, then x2 fixes W^2 = m^2
    u_q, phi2 = rng.uniform(0, 1, n), rng.uniform(0, 2 * np.pi, n)

    def w_sq(x2: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        q2_lo = _q2_min(x2)
        log_q = np.log(Q2_GEN_MAX / q2_lo)
        q2v = q2_lo * np.exp(u_q * log_q)
        el2 = _scattered(e_beam, -1.0, x2, q2v, phi2)
        return invariant_mass2(q1 + _beam(e_beam, -1.0) - el2), el2, q2v

    x2 = np.clip(tau / x1, 1e-9, 1 - 1e-9)
    for _ in range(8):
        h = 1e-7 * x2
        f0 = w_sq(x2)[0] - mass**2
        deriv = (w_sq(x2 + h)[0] - w_sq(x2 - h)[0]) / (2 * h)
        x2 = np.clip(x2 - f0 / np.where(deriv > 0, deriv, 1.0), 1e-9, 1 - 1e-9)
    h = 1e-7 * x2
    deriv = (w_sq(x2 + h)[0] - w_sq(x2 - h)[0]) / (2 * h)
    w_final, el2, q2_2 = w_sq(x2)
    q2_lo = _q2_min(x2)
    flux2 = epa_flux(x2, q2_2) * q2_2 * np.log(Q2_GEN_MAX / q2_lo)
    alp = q1 + _beam(e_beam, -1.0) - el2
    ok = (
        (np.abs(w_final - mass**2) < 1e-6 * mass**2)
        & (deriv > 0)
        & (q2_1 < Q2_MAX_FRACTION * mass**2)
        & (q2_2 < Q2_MAX_FRACTION * mass**2)
        & (alp[:, 0] > mass)
    )
    resonance = 8 * np.pi**2 * alp_width(mass, 1.0) / mass  # per delta(W^2 - m^2), g = 1
    weight = np.where(
        ok, w1 * log_x * x1 * flux2 * resonance / np.where(deriv > 0, deriv, 1.0), 0.0
    )
    return np.stack([el1, el2, alp], axis=1), weight


def generate_alp_fusion(
    n_events: int, mass: float, g_agg: float, seed: int, energy_spread: bool = True
) -> TruthSample:
    """n weighted e+e- -> e+e- a, a -> gamma gamma events (photon fusion), lab frame.

    Slots: scattered e-, scattered e+, a, decay photon 1, decay photon 2; sigma ~ g^2."""
    problem = signal_mass_problem("alp_fusion", mass)
    if problem:
        raise ConfigError(problem)
    ev = weighted_events(
        f"alp_fusion_m{mass:g}",
        n_events,
        seed,
        lambda b, r: _fusion_chunk(b, mass, r),
        CHUNK,
        energy_spread,
    )
    rng = np.random.default_rng(np.random.SeedSequence([seed, 11, int(mass * 1e6)]))
    photons, vertex = decay_alps(ev.p4[:, 2], g_agg, rng)
    vertices = np.zeros((n_events, 5, 3))
    vertices[:, 3:] = vertex[:, None, :]
    pdg = np.tile(np.array([11, -11, PDG_ALP, 22, 22], dtype=np.int32), (n_events, 1))
    return TruthSample(
        "alp_fusion",
        pdg,
        np.concatenate([ev.p4, photons], axis=1),
        ev.weight_fb * g_agg**2,
        ev.cross_section_fb * g_agg**2,
        ev.cross_section_err_fb * g_agg**2,
        {"mass": mass, "coupling": g_agg, "coupling_name": "g_a_gamma_gamma [GeV^-1]"},
        vertex=vertices,
    )
