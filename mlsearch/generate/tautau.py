"""e+e- -> tau+ tau- (gamma) with ISR (as for mu mu, with the tau mass) and tau decays."""

from __future__ import annotations

import numpy as np

from mlsearch.generate.isr import IsrChannels
from mlsearch.generate.mumu import isr_pair_events
from mlsearch.generate.tau_decays import SLOTS, decay_taus
from mlsearch.io.truth import TruthSample
from mlsearch.physics.constants import M_TAU
from mlsearch.physics.seeds import chunk_rng

__all__ = ["generate_tautau"]


def generate_tautau(
    n_events: int,
    seed: int,
    energy_spread: bool = True,
    tau_modes: dict[str, float] | None = None,
) -> TruthSample:
    """n weighted e+e- -> tau+ tau- (gamma_ISR gamma_ISR) events, taus decayed (lab frame).
    ``tau_modes``: sampling probabilities of named decay modes for both taus (importance
    sampling, weighted back: :func:`~mlsearch.generate.tau_decays.mode_probabilities`).

    Slots: tau- decay products (SLOTS), tau+ decay products (SLOTS), two ISR photons, two FSR
    photons (radiated by the taus before they decay).
    """
    # the structure function's own sampling: the neutrinos, not hard ISR, make the recoil of
    # the visible tau daughters, and oversampling hard photons only spread the weights (3x
    # less effective MC luminosity in the Z' windows, docs/validation.md)
    pair, weights = isr_pair_events(
        "tautau", M_TAU, n_events, seed, energy_spread, IsrChannels(hard=0.0)
    )
    rng = chunk_rng(seed, "tautau/decays", 0)
    pdg_m, p4_m, w_m = decay_taus(pair[:, 0], -1, rng, tau_modes)
    pdg_p, p4_p, w_p = decay_taus(pair[:, 1], +1, rng, tau_modes)
    if tau_modes:
        weights = weights * w_m * w_p
    photons = pair[:, 2:]
    pdg = np.concatenate([pdg_m, pdg_p, np.full((n_events, 4), 22, dtype=np.int32)], axis=1)
    p4 = np.concatenate([p4_m, p4_p, photons], axis=1)
    metadata = {
        "isr": "Kuraev-Fadin structure functions, both beams",
        "vacuum_polarisation": True,
        "fsr": "collinear structure function off the taus (generate/fsr.py)",
        "tau_decays": "PDG 2024 branching fractions, see generate/tau_decays.py",
        "slots_per_tau": SLOTS,
        **({"tau_mode_bias": dict(sorted(tau_modes.items()))} if tau_modes else {}),
    }
    return TruthSample.from_weights("tautau", pdg, p4, weights, metadata)
