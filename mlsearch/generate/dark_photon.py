"""e+e- -> gamma A', A' -> invisible (kinetic mixing epsilon), exact LO angular distribution.

The photon polar angle follows :func:`~mlsearch.physics.qed_me.dark_photon_dsigma_dcos`
(mass-dependent: (1 + cos^2 + 4 s m^2/(s - m^2)^2) / sin^2), its collinear poles
regularised by the electron velocity. In the CM frame of the hard process the photon energy
is fixed, E* = (s - m^2) / (2 sqrt(s)) (tested per event). sigma scales as epsilon^2.

With ``radiation`` (the default) both beams radiate first (:func:`~mlsearch.generate.isr.with_isr`:
the hard process at the reduced s', the ISR photons at their dipole angles), which smears the
photon energy seen at the nominal s: the missing-mass peak gets its radiative tail. The
hard-photon factor is that of an s-channel annihilation, an approximation for this process
(its own photon is initial-state radiation); the collinear photons, where the rate is, are
exact to leading log. Slots: photon, A', ISR photon along e-, along e+ (E = 0: none).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mlsearch.errors import ConfigError
from mlsearch.generate.isr import with_isr
from mlsearch.generate.phase_space import collinear_cos, collinear_cos_density, two_body
from mlsearch.generate.unweight import unweighted_events
from mlsearch.io.truth import PDG_DARK_PHOTON, TruthSample
from mlsearch.physics.beams import Beams
from mlsearch.physics.constants import M_E
from mlsearch.physics.mass_ranges import signal_mass_problem
from mlsearch.physics.qed_me import dark_photon_dsigma_dcos

__all__ = ["generate_dark_photon"]

FloatArray = NDArray[np.float64]
SQRT_S_MAX = 10.58


def electron_beta(sqrt_s: float) -> float:
    """Velocity of the beam electrons in the CM frame (regulates the collinear poles)."""
    return float(np.sqrt(1 - 4 * M_E**2 / sqrt_s**2))


def _trial(beams: Beams, mass: float, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    sqrt_s = beams.sqrt_s
    n: int = sqrt_s.shape[0]
    beta = electron_beta(SQRT_S_MAX)
    cos_t = collinear_cos(n, beta, rng)
    phi = rng.uniform(0, 2 * np.pi, n)
    weight = dark_photon_dsigma_dcos(sqrt_s**2, mass, cos_t, beta) / collinear_cos_density(
        cos_t, beta
    )
    return two_body(sqrt_s, 0.0, mass, cos_t, phi), weight


def generate_dark_photon(
    n_events: int,
    mass: float,
    epsilon: float,
    seed: int,
    energy_spread: bool = True,
    radiation: bool = True,
) -> TruthSample:
    """n unweighted e+e- -> gamma A' events in the lab frame for A' mass [GeV] and mixing
    epsilon; particle slots: photon, A' (and with ``radiation`` the two ISR photons).
    Event weight sigma/n [fb]."""
    problem = signal_mass_problem("dark_photon", mass)
    if problem:
        raise ConfigError(problem)

    def trial(b: Beams, r: np.random.Generator) -> tuple[FloatArray, FloatArray]:
        return _trial(b, mass, r)

    events = unweighted_events(
        f"dark_photon_m{mass:g}",
        n_events,
        seed,
        with_isr(trial, mass, ordered_photons=(0,)) if radiation else trial,
        energy_spread=energy_spread,
    )
    sigma = epsilon**2 * events.cross_section_fb
    slots = [22, PDG_DARK_PHOTON] + ([22, 22] if radiation else [])
    pdg = np.tile(np.array(slots, dtype=np.int32), (n_events, 1))
    return TruthSample(
        process="dark_photon",
        pdg=pdg,
        p4=events.p4,
        weight=np.full(n_events, sigma / n_events),
        cross_section_fb=sigma,
        cross_section_err_fb=epsilon**2 * events.cross_section_err_fb,
        metadata={
            "mass": mass,
            "coupling": epsilon,
            "coupling_name": "epsilon",
            "invisible_br": 1.0,
            "unweighting_efficiency": events.efficiency,
            "radiation": "ISR (structure functions, dipole angles)" if radiation else "none",
        },
    )
