"""Cross sections with CM-frame cuts, from the generators themselves (``mlsearch xsec``)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mlsearch.generate import PROCESSES, generate_process
from mlsearch.physics.kinematics import beam_four_momenta, boost, cms_boost_vector

__all__ = ["XsecResult", "cross_section"]


@dataclass(frozen=True)
class XsecResult:
    """The cross section for the stated cuts [pb]: ``sigma_pb`` = ``production_sigma_pb``
    (e.g. e+e- -> mu+ mu- Z') x ``branching_fraction`` (e.g. B(Z' -> invisible); 1 where
    nothing decays), with its Monte Carlo uncertainty ``error_pb``."""

    process: str
    sigma_pb: float
    error_pb: float
    mass: float | None
    coupling: float | None
    cuts: dict[str, float]
    radiation: bool = True  # signals: ISR (and FSR off the Z' leptons); False: the Born process
    production_sigma_pb: float = 0.0
    branching_fraction: float = 1.0
    branching: str = "none (no decay)"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def cross_section(
    process: str,
    mass: float | None = None,
    coupling: float | None = None,
    theta_min: float = 0.0,
    theta_max: float = 180.0,
    e_min: float = 0.0,
    n_events: int = 200_000,
    seed: int = 1,
    radiation: bool = True,
) -> XsecResult:
    """sigma(process) [pb] for events whose final-state particles of PROCESSES[process] (e.g.
    the two muons of zprime, the photon of dark_photon, the three photons of alp, the leading
    two charged tau-decay products of tautau) have CM polar angles in [theta_min, theta_max]
    [deg] and CM energies above e_min [GeV].

    Couplings default to 1 in the model's natural unit (g' = 1, g_emu = 1, epsilon = 1,
    g_a_gamma_gamma = 1 GeV^-1); Z' cross sections include B(Z' -> invisible). Signals
    carry ISR (and FSR off the Z' leptons) unless ``radiation`` is False (the Born process).
    Nominal beam energies (no spread), so the CM frame is exact.
    """
    info = PROCESSES[process]
    if info.is_signal and coupling is None:
        coupling = 1.0
    sample = generate_process(
        process, n_events, seed, mass=mass, coupling=coupling, energy_spread=False,
        radiation=radiation,
    )  # fmt: skip
    em, ep = beam_four_momenta()
    cms = boost(sample.p4, cms_boost_vector(em + ep))
    charged = np.isin(np.abs(sample.pdg), info.cut_pdgs) & (sample.p4[..., 0] > 0)
    energy = np.where(charged, cms[..., 0], -1.0)
    lead = np.argsort(-energy, axis=1)[:, : info.cut_count]
    rows = np.arange(len(energy))[:, None]
    p = cms[rows, lead]
    theta = np.degrees(np.arccos(np.clip(p[..., 3] / np.linalg.norm(p[..., 1:], axis=-1), -1, 1)))
    passed = (
        charged[rows, lead].all(axis=1)
        & (theta >= theta_min).all(axis=1)
        & (theta <= theta_max).all(axis=1)
        & (p[..., 0] >= e_min).all(axis=1)
    )
    w = sample.weight * 1e-3  # fb -> pb
    sigma = float(w[passed].sum())
    # weighted samples: sqrt(sum w^2); the generator's own error adds in proportion
    rel_gen = (
        sample.cross_section_err_fb / sample.cross_section_fb if sample.cross_section_fb else 0
    )
    error = math.hypot(float(np.sqrt((w[passed] ** 2).sum())), sigma * rel_gen)
    cuts = {"theta_min_deg": theta_min, "theta_max_deg": theta_max, "e_min_gev": e_min}
    br = float(sample.metadata.get("invisible_br", 1.0)) if info.is_signal else 1.0
    return XsecResult(
        process, sigma, error, mass, coupling, cuts, radiation,
        production_sigma_pb=sigma / br if br > 0 else 0.0, branching_fraction=br,
        branching=info.branching,
    )  # fmt: skip
