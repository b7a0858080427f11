"""Lepton-flavour-violating Z': e+e- -> e+- mu-+ Z', Z' -> invisible.

Model (documented choice for the model-independent search): a vector Z' with a flavour-
changing coupling g_emu to the e-mu current, no flavour-diagonal couplings, B(Z' -> invisible)
= 1. For the mu- e+ final state two tree diagrams enter: gamma* -> mu- mu+*, mu+* -> e+ Z'
and gamma* -> e-* e+, e-* -> mu- Z'; the exact 2 -> 3 |M|^2 with the lepton masses and the
massive-Z' polarisation sum comes from :func:`~mlsearch.physics.zprime_me.squared_me_zprime`.
The charge-conjugate final state e- mu+ is its CP image (QED and a real g_emu are
CP-invariant): half of the events are generated as such, and sigma is the sum of both charge
states.

With ``radiation`` (the default) both beams radiate (:func:`~mlsearch.generate.isr.with_isr`)
and the e mu pair radiates FSR, each lepton with its own mass
(:func:`~mlsearch.generate.zprime.radiate_leptons`). Slots: negative lepton, positive lepton,
Z', ISR photon along e-, along e+, FSR photon off the negative lepton, off the positive one.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mlsearch.errors import ConfigError
from mlsearch.generate.isr import with_isr
from mlsearch.generate.unweight import Trial, unweighted_events
from mlsearch.generate.zprime import CHUNK, _trial_events, radiate_leptons
from mlsearch.io.truth import PDG_ZPRIME, TruthSample
from mlsearch.physics.beams import Beams
from mlsearch.physics.constants import M_E, M_MU
from mlsearch.physics.mass_ranges import signal_mass_problem

__all__ = ["generate_lfv_zprime"]

FloatArray = NDArray[np.float64]


def _mu_minus_e_plus(
    beams: Beams, mass: float, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    return _trial_events(beams, mass, rng, M_MU, M_E)


def _e_minus_mu_plus(
    beams: Beams, mass: float, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """The CP image: mu-(q1) e+(q2) Z'(k) -> e-(-q2) mu+(-q1) Z'(-k), beams unchanged."""
    p, w = _trial_events(beams, mass, rng, M_MU, M_E)
    p = p[:, [1, 0, 2]] * np.array([1.0, -1.0, -1.0, -1.0])
    return p, w


def generate_lfv_zprime(
    n_events: int,
    mass: float,
    coupling: float,
    seed: int,
    energy_spread: bool = True,
    radiation: bool = True,
) -> TruthSample:
    """n unweighted e+e- -> e mu Z' events (both charge states, lab frame) for Z' mass [GeV]
    and g_emu; ``radiation``: ISR and FSR (slots in the module docstring), else the Born
    process (slots: negative lepton, positive lepton, Z'). Event weight sigma/n [fb]."""
    problem = signal_mass_problem("lfv_zprime", mass)
    if problem:
        raise ConfigError(problem)
    n_a = n_events // 2
    tag = f"lfv_zprime_m{mass:g}"

    def mue(b: Beams, r: np.random.Generator) -> tuple[FloatArray, FloatArray]:
        return _mu_minus_e_plus(b, mass, r)

    def emu(b: Beams, r: np.random.Generator) -> tuple[FloatArray, FloatArray]:
        return _e_minus_mu_plus(b, mass, r)

    def radiated(trial: Trial) -> Trial:
        return with_isr(trial, mass + M_MU + M_E) if radiation else trial

    a = unweighted_events(tag + "_mue", n_a, seed, radiated(mue), CHUNK, energy_spread)
    b = unweighted_events(tag + "_emu", n_events - n_a, seed, radiated(emu), CHUNK, energy_spread)
    p4_a, p4_b = a.p4[:n_a], b.p4[: n_events - n_a]
    if radiation:
        p4_a = radiate_leptons(p4_a, M_MU, M_E, seed, tag + "_mue")
        p4_b = radiate_leptons(p4_b, M_E, M_MU, seed, tag + "_emu")
    sigma = coupling**2 * (a.cross_section_fb + b.cross_section_fb)
    err = coupling**2 * float(np.hypot(a.cross_section_err_fb, b.cross_section_err_fb))
    photons = (22,) * 4 if radiation else ()
    pdg = np.empty((n_events, 3 + len(photons)), dtype=np.int32)
    pdg[:n_a] = (13, -11, PDG_ZPRIME, *photons)
    pdg[n_a:] = (11, -13, PDG_ZPRIME, *photons)
    return TruthSample(
        "lfv_zprime",
        pdg,
        np.concatenate([p4_a, p4_b]),
        np.full(n_events, sigma / n_events),
        sigma,
        err,
        {
            "mass": mass,
            "coupling": coupling,
            "coupling_name": "g_emu",
            "invisible_br": 1.0,
            "unweighting_efficiency": (a.efficiency + b.efficiency) / 2,
            "radiation": "ISR (structure functions, dipole angles) + FSR" if radiation else "none",
        },
    )
