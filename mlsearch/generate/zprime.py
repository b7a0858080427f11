"""e+e- -> mu+ mu- Z' (Z' -> invisible) with the exact tree-level matrix element.

Events are drawn in the CM frame from three-body phase space, sampled in log(D1), log(D2)
(D_i = (q_i + k)^2 - m_mu^2, the muon propagator denominators) to follow the soft and
collinear emission peaks, weighted with the spin-summed |M|^2 of
:mod:`mlsearch.physics.zprime_me`, and unweighted by accept-reject.

With ``radiation`` (the default) the beams radiate first (:func:`~mlsearch.generate.isr.with_isr`:
the hard process at the reduced s', the ISR photons at their dipole angles) and the muon pair
radiates FSR after (:func:`~mlsearch.generate.fsr.radiate_final_state`, in the pair's rest
frame, so the Z' momentum and the recoil against mu mu gamma_FSR stay as they were). Particle
slots: mu-, mu+, Z', ISR photon along e-, along e+, FSR photon off mu-, off mu+ (E = 0: none).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from mlsearch.errors import ConfigError
from mlsearch.generate.fsr import radiate_final_state
from mlsearch.generate.isr import with_isr
from mlsearch.generate.phase_space import random_rotation
from mlsearch.generate.unweight import unweighted_events
from mlsearch.io.truth import PDG_ZPRIME, TruthSample
from mlsearch.physics.beams import Beams
from mlsearch.physics.constants import M_MU
from mlsearch.physics.mass_ranges import signal_mass_problem
from mlsearch.physics.seeds import chunk_rng
from mlsearch.physics.zprime_me import squared_me_zprime_cm
from mlsearch.physics.zprime_model import invisible_branching_fraction

__all__ = ["generate_zprime", "radiate_leptons"]

FloatArray = NDArray[np.float64]
CHUNK = 40_000


def _trial_events(
    beams: Beams,
    mass: float,
    rng: np.random.Generator,
    m1: float = M_MU,
    m2: float = M_MU,
) -> tuple[FloatArray, FloatArray]:
    """Phase-space points (n, 3, 4) in the CM frame (l1-, l2+, Z') and weights [GeV^-2].

    l1 has mass m1 and l2 mass m2 (both M_MU for the L_mu - L_tau Z'; the muon and the
    electron for the LFV Z'). The weight is |M|^2/4 * flux * phase space / sampling density
    for a coupling of 1; points outside the Dalitz region get weight 0.
    """
    n = beams.electron.shape[0]
    sqrt_s = beams.sqrt_s
    s = sqrt_s**2
    # D_i = (q_i + k)^2 - m_i^2, sampled log-uniformly: the emission peaks
    d1_min, d1_max = (m1 + mass) ** 2 - m1**2, (sqrt_s - m2) ** 2 - m1**2
    d2_min, d2_max = (m2 + mass) ** 2 - m2**2, (sqrt_s - m1) ** 2 - m2**2
    log1, log2 = np.log(d1_max / d1_min), np.log(d2_max / d2_min)
    d1 = d1_min * np.exp(rng.uniform(0, 1, n) * log1)
    d2 = d2_min * np.exp(rng.uniform(0, 1, n) * log2)
    e1 = (s + m1**2 - (d2 + m2**2)) / (2 * sqrt_s)  # l1 recoils against the (l2 Z') system
    e2 = (s + m2**2 - (d1 + m1**2)) / (2 * sqrt_s)
    ek = sqrt_s - e1 - e2
    p1 = np.sqrt(np.clip(e1**2 - m1**2, 0, None))
    p2 = np.sqrt(np.clip(e2**2 - m2**2, 0, None))
    pk = np.sqrt(np.clip(ek**2 - mass**2, 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        cos12 = (pk**2 - p1**2 - p2**2) / (2 * p1 * p2)
    valid = (e1 > m1) & (e2 > m2) & (ek > mass) & (np.abs(cos12) <= 1)
    cos12 = np.where(valid, cos12, 1.0)
    sin12 = np.sqrt(1 - cos12**2)
    zero = np.zeros(n)
    q1 = np.stack([e1, zero, zero, p1], axis=-1)
    q2 = np.stack([e2, p2 * sin12, zero, p2 * cos12], axis=-1)
    total = np.stack([sqrt_s, zero, zero, zero], axis=-1)
    k = total - q1 - q2
    p = random_rotation(np.stack([q1, q2, k], axis=1), rng)
    weight = np.zeros(n)
    if valid.any():
        v = valid
        # beams along +-z in this frame: the transverse-trace form of |M|^2 applies
        me2 = squared_me_zprime_cm(s[v], p[v, 0], p[v, 1], p[v, 2], 1.0, m1, m2, mass)
        phase_space = 1.0 / (128 * np.pi**3 * s[v])  # d(Phi_3) per d s1 d s2 (angles summed)
        density = 1.0 / (d1[v] * d2[v] * log1[v] * log2[v])
        weight[v] = 0.25 * me2 / (2 * s[v]) * phase_space / density
    return p, weight


def radiate_leptons(p4: FloatArray, m1: float, m2: float, seed: int, tag: str) -> FloatArray:
    """FSR off the lepton pair in slots 0 and 1 of unweighted events (n, k, 4): the events
    with the radiated leptons and two FSR photon slots appended (n, k + 2, 4). Drawn from
    its own stream (seed, ``tag``), so the hard process's events do not move."""
    rng = chunk_rng(seed, tag + "_fsr", 0)
    leptons, photons = radiate_final_state(p4[:, :2], m1, rng, mass2=None if m1 == m2 else m2)
    return np.concatenate([leptons, p4[:, 2:], photons], axis=1)


def generate_zprime(
    n_events: int,
    mass: float,
    coupling: float,
    seed: int,
    invisible_br: Literal["lmu_ltau", "one"] = "lmu_ltau",
    energy_spread: bool = True,
    radiation: bool = True,
) -> TruthSample:
    """Generate n unweighted e+e- -> mu+ mu- Z' events (lab frame) for Z' mass [GeV];
    ``radiation``: ISR and FSR (slots in the module docstring), else the Born process (slots
    mu-, mu+, Z').

    The event weight is sigma(e+e- -> mu mu Z') * B(Z' -> invisible) / n [fb].
    """
    problem = signal_mass_problem("zprime", mass)
    if problem:
        raise ConfigError(problem)
    process = f"zprime_m{mass:g}"

    def trial(b: Beams, r: np.random.Generator) -> tuple[FloatArray, FloatArray]:
        return _trial_events(b, mass, r)

    hard = with_isr(trial, mass + 2 * M_MU) if radiation else trial
    events = unweighted_events(process, n_events, seed, hard, CHUNK, energy_spread)
    p4 = radiate_leptons(events.p4, M_MU, M_MU, seed, process) if radiation else events.p4
    sigma = coupling**2 * events.cross_section_fb
    sigma_err = coupling**2 * events.cross_section_err_fb
    br = invisible_branching_fraction(mass) if invisible_br == "lmu_ltau" else 1.0
    slots = [13, -13, PDG_ZPRIME] + ([22] * 4 if radiation else [])
    pdg = np.tile(np.array(slots, dtype=np.int32), (n_events, 1))
    return TruthSample(
        process=process,
        pdg=pdg,
        p4=p4,
        weight=np.full(n_events, sigma * br / n_events),
        cross_section_fb=sigma * br,
        cross_section_err_fb=sigma_err * br,
        metadata={
            "mass": mass,
            "coupling": coupling,
            "invisible_br": br,
            "cross_section_production_fb": sigma,
            "unweighting_efficiency": events.efficiency,
            "radiation": "ISR (structure functions, dipole angles) + FSR" if radiation else "none",
        },
    )
