"""Axion-like particles coupled to photons: e+e- -> gamma a (ALP-strahlung), a -> gamma gamma.

Production: dsigma/dcos = (alpha g^2 / 64)(1 - m^2/s)^3 (1 + cos^2)
(:func:`~mlsearch.physics.qed_me.alp_dsigma_dcos`); decay isotropic in the ALP rest frame with
Gamma = g^2 m^3 / (64 pi). The decay vertex is drawn from the exponential decay law with the
mean lab decay length beta gamma c tau: for the default couplings the decay is prompt (microns),
for small couplings and masses the photons start displaced or outside the detector. The
photon-fusion mode e+e- -> e+e- a lives in :mod:`mlsearch.generate.two_photon`.

With ``radiation`` (the default) both beams radiate first (:func:`~mlsearch.generate.isr.with_isr`),
which gives the recoil mass its radiative tail; M(gamma gamma) of the decay is unchanged. The
hard-photon factor is that of an s-channel annihilation (this process is one: e+e- -> gamma*
-> gamma a). Slots: recoil photon, a, decay photon 1, decay photon 2, then the ISR photons
along e- and e+ (E = 0: none).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mlsearch.errors import ConfigError
from mlsearch.generate.isr import with_isr
from mlsearch.generate.phase_space import decay_two_body, two_body
from mlsearch.generate.unweight import unweighted_events
from mlsearch.io.truth import PDG_ALP, TruthSample
from mlsearch.physics.beams import Beams
from mlsearch.physics.mass_ranges import signal_mass_problem
from mlsearch.physics.qed_me import alp_dsigma_dcos, alp_width

__all__ = ["decay_alps", "generate_alp", "mean_decay_length_cm"]

FloatArray = NDArray[np.float64]
HBAR_C_GEV_CM = 1.973269804e-14  # hbar c [GeV cm]


def mean_decay_length_cm(p4: FloatArray, g_agg: float) -> FloatArray:
    """beta gamma c tau [cm] of ALPs with four-momenta p4 (n, 4)."""
    mass = np.sqrt(np.clip(p4[:, 0] ** 2 - (p4[:, 1:] ** 2).sum(axis=1), 0, None))
    ctau = HBAR_C_GEV_CM / alp_width(mass, g_agg)
    return np.asarray(np.linalg.norm(p4[:, 1:], axis=1) / mass * ctau)


def decay_alps(
    alp: FloatArray, g_agg: float, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Decay lab-frame ALPs (n, 4) to two photons: momenta (n, 2, 4) and the decay vertex
    (n, 3) [cm] from the exponential decay law."""
    photons = decay_two_body(alp, 0.0, 0.0, rng)
    length = rng.exponential(mean_decay_length_cm(alp, g_agg))
    direction = alp[:, 1:] / np.linalg.norm(alp[:, 1:], axis=1, keepdims=True)
    return photons, length[:, None] * direction


def _trial(beams: Beams, mass: float, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    sqrt_s = beams.sqrt_s
    n: int = sqrt_s.shape[0]
    cos_t = rng.uniform(-1, 1, n)
    phi = rng.uniform(0, 2 * np.pi, n)
    weight = 2.0 * alp_dsigma_dcos(sqrt_s**2, mass, cos_t)
    return two_body(sqrt_s, 0.0, mass, cos_t, phi), weight


def generate_alp(
    n_events: int,
    mass: float,
    g_agg: float,
    seed: int,
    energy_spread: bool = True,
    radiation: bool = True,
) -> TruthSample:
    """n unweighted e+e- -> gamma a, a -> gamma gamma events (lab frame) for ALP mass [GeV]
    and g_a_gamma_gamma [GeV^-1]. Slots: recoil photon, a, decay photon 1, decay photon 2
    (the decay photons carry the decay vertex), with ``radiation`` the two ISR photons.
    B(a -> gamma gamma) = 1."""
    problem = signal_mass_problem("alp", mass)
    if problem:
        raise ConfigError(problem)

    def trial(b: Beams, r: np.random.Generator) -> tuple[FloatArray, FloatArray]:
        return _trial(b, mass, r)

    events = unweighted_events(
        f"alp_m{mass:g}",
        n_events,
        seed,
        with_isr(trial, mass, ordered_photons=(0,)) if radiation else trial,
        energy_spread=energy_spread,
    )
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7, int(mass * 1e6)]))
    photons, vertex = decay_alps(events.p4[:, 1], g_agg, rng)
    p4 = np.concatenate([events.p4[:, :2], photons, events.p4[:, 2:]], axis=1)
    vertices = np.zeros((n_events, p4.shape[1], 3))
    vertices[:, 2:4] = vertex[:, None, :]
    sigma = g_agg**2 * events.cross_section_fb
    slots = [22, PDG_ALP, 22, 22] + ([22, 22] if radiation else [])
    pdg = np.tile(np.array(slots, dtype=np.int32), (n_events, 1))
    return TruthSample(
        process="alp",
        pdg=pdg,
        p4=p4,
        weight=np.full(n_events, sigma / n_events),
        cross_section_fb=sigma,
        cross_section_err_fb=g_agg**2 * events.cross_section_err_fb,
        metadata={
            "mass": mass,
            "coupling": g_agg,
            "coupling_name": "g_a_gamma_gamma [GeV^-1]",
            "width_gev": float(alp_width(mass, g_agg)),
            "mean_decay_length_cm": float(np.linalg.norm(vertex, axis=1).mean()),
            "unweighting_efficiency": events.efficiency,
            "radiation": "ISR (structure functions, dipole angles)" if radiation else "none",
        },
        vertex=vertices,
    )
