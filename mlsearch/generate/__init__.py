"""Event generators. :func:`generate_process` is the one entry point; each process lives in
its own module and returns a :class:`~mlsearch.io.truth.TruthSample`."""

from __future__ import annotations

from dataclasses import dataclass

from mlsearch.errors import ConfigError
from mlsearch.io.truth import TruthSample
from mlsearch.physics.acceptance import TrackAcceptance

__all__ = ["PROCESSES", "ProcessInfo", "generate_process"]


@dataclass(frozen=True)
class ProcessInfo:
    """What a process needs and what ``mlsearch xsec`` cuts on.

    ``coupling``: the name of the signal coupling (None for backgrounds; its natural unit is 1);
    ``cut_pdgs``/``cut_count``: the final-state particles the CM cuts apply to (the
    ``cut_count`` most energetic of those pdg codes, charge ignored); ``branching``: what
    the signal's branching fraction is of (``mlsearch xsec`` reports sigma as production x
    branching fraction).
    """

    description: str
    coupling: str | None
    cut_pdgs: tuple[int, ...]
    cut_count: int
    branching: str = "none (no decay)"

    @property
    def is_signal(self) -> bool:
        return self.coupling is not None


_CHARGED = (11, 13, 15, 211, 321)
PROCESSES: dict[str, ProcessInfo] = {
    "zprime": ProcessInfo(
        "e+e- -> mu+mu- Z', Z' -> invisible",
        "g'",
        (13,),
        2,
        branching="B(Z' -> invisible) of L_mu - L_tau (the neutrinos; 1 below 2 m_mu)",
    ),
    "lfv_zprime": ProcessInfo(
        "e+e- -> e+- mu-+ Z', Z' -> invisible",
        "g_emu",
        (11, 13),
        2,
        branching="B(Z' -> invisible) = 1 (the model's choice)",
    ),
    "alp": ProcessInfo(
        "e+e- -> gamma a, a -> gamma gamma",
        "g_a_gamma_gamma [GeV^-1]",
        (22,),
        3,
        branching="B(a -> gamma gamma) = 1",
    ),
    "alp_fusion": ProcessInfo(
        "e+e- -> e+e- a (photon fusion), a -> gamma gamma",
        "g_a_gamma_gamma [GeV^-1]",
        (22,),
        2,
        branching="B(a -> gamma gamma) = 1",
    ),
    "dark_photon": ProcessInfo(
        "e+e- -> gamma A', A' -> invisible", "epsilon", (22,), 1, branching="B(A' -> invisible) = 1"
    ),
    "mumu": ProcessInfo("e+e- -> mu+mu- (gamma)", None, (13,), 2),
    "tautau": ProcessInfo("e+e- -> tau+tau- (gamma), tau decays", None, _CHARGED, 2),
    "eemumu": ProcessInfo("e+e- -> e+e- mu+mu- (two-photon, W > 0.5 GeV)", None, (13,), 2),
    "gg": ProcessInfo("e+e- -> gamma gamma (gamma)", None, (22,), 2),
    "ee": ProcessInfo("e+e- -> e+e- (gamma), incl. radiative Bhabha", None, (11,), 2),
}


def generate_process(
    process: str,
    n_events: int,
    seed: int,
    *,
    mass: float | None = None,
    coupling: float | None = None,
    invisible_br: str = "lmu_ltau",
    energy_spread: bool = True,
    acceptance: TrackAcceptance | None = None,
    tau_modes: dict[str, float] | None = None,
    radiation: bool = True,
    topology_share: float = 0.0,
    single_share: float = 0.0,
    hard_photon_share: float = 0.0,
) -> TruthSample:
    """Generate ``n_events`` of ``process`` (a key of PROCESSES); signals need a mass [GeV]
    and take a coupling (default 1 in the model's natural unit). ``acceptance``: e e mu mu
    only with both muons inside this tracking acceptance (other processes refuse it).
    ``tau_modes``: tau tau only, importance sampling of named tau decay modes.
    ``radiation``: signals only (photon fusion aside), ISR and FSR; False gives the Born
    process. ``topology_share``: the share of the events drawn in the generator's focused
    topology, weighted back or with the region left out of the rest: gamma gamma, two-photon
    events with one photon lost (generate/gg.py ``lost_photon_share``); e e, radiative
    Bhabhas with both leptons in the ECL outside the CDC (generate/bhabha.py ``ring_share``);
    e e mu mu, soft muon pairs with pT (generate/two_photon.py ``soft_pair_share``); mu mu,
    a photon that leaves no cluster (ISR past the ECL, soft ISR in its barrel, or FSR) with pT
    (generate/isr_escape.py, ``escape_share``).
    ``single_share``: the share aimed at a single-photon selection's regions: e e, one
    particle in the ECL above 2 GeV and the two others down the beam pipe (generate/bhabha.py);
    gamma gamma, the two-photon events whose ISR puts one photon above 2 GeV in the ECL and
    leaves the others without a cluster (generate/gg.py, generate/gg_lost.py).
    ``hard_photon_share``: e e mu mu, the share drawn with one photon near the beam energy
    (generate/two_photon.py)."""
    if process not in PROCESSES:
        raise ConfigError(f"unknown process {process!r}; known: {', '.join(PROCESSES)}")
    info = PROCESSES[process]
    if acceptance is not None and process != "eemumu":
        raise ConfigError(f"an acceptance filter is an e e mu mu option, not one of {process}")
    if tau_modes and process != "tautau":
        raise ConfigError(f"tau decay modes are a tau tau option, not one of {process}")
    if topology_share and process not in ("gg", "ee", "eemumu", "mumu"):
        raise ConfigError(
            f"topology_share is a gamma gamma, e e, e e mu mu and mu mu option, not one of "
            f"{process}"
        )
    if hard_photon_share and process != "eemumu":
        raise ConfigError(f"hard_photon_share is an e e mu mu option, not one of {process}")
    if single_share and process not in ("gg", "ee"):
        raise ConfigError(f"single_share is a gamma gamma and e e option, not one of {process}")
    if info.is_signal:
        if mass is None:
            raise ConfigError(f"{process} needs a mass [GeV] (--mass)")
        g = 1.0 if coupling is None else coupling
        return _signal(process, n_events, seed, mass, g, invisible_br, energy_spread, radiation)
    if process == "tautau":
        from mlsearch.generate.tautau import generate_tautau

        return generate_tautau(n_events, seed, energy_spread, tau_modes)
    if process == "gg":
        from mlsearch.generate.gg import generate_gg

        return generate_gg(n_events, seed, energy_spread, topology_share, single_share)
    if process == "ee":
        from mlsearch.generate.bhabha import generate_ee

        return generate_ee(n_events, seed, energy_spread, topology_share, single_share)
    if process == "eemumu":
        from mlsearch.generate.two_photon import generate_eemumu

        return generate_eemumu(
            n_events, seed, energy_spread, acceptance, topology_share, hard_photon_share
        )
    from mlsearch.generate.mumu import generate_mumu

    return generate_mumu(n_events, seed, energy_spread, topology_share)


def _signal(
    process: str, n: int, seed: int, mass: float, g: float, br: str, spread: bool, rad: bool
) -> TruthSample:
    if process == "zprime":
        from mlsearch.generate.zprime import generate_zprime

        return generate_zprime(n, mass, g, seed, "one" if br == "one" else "lmu_ltau", spread, rad)
    if process == "lfv_zprime":
        from mlsearch.generate.lfv_zprime import generate_lfv_zprime

        return generate_lfv_zprime(n, mass, g, seed, spread, rad)
    if process == "alp":
        from mlsearch.generate.alp import generate_alp

        return generate_alp(n, mass, g, seed, spread, rad)
    if process == "alp_fusion":
        from mlsearch.generate.two_photon import generate_alp_fusion

        return generate_alp_fusion(n, mass, g, seed, spread)
    from mlsearch.generate.dark_photon import generate_dark_photon

    return generate_dark_photon(n, mass, g, seed, spread, rad)
