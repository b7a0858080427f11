"""Benchmark of the importance-sampling levers of the background MC: for each, the same
background with and without it, generated, (filtered,) simulated and selected in one process
(one core), measured as events generated per second, events kept by the truth filter per
second (with its acceptance), events selected per second and the effective MC luminosity
(sum w / sum w^2 of the selected events, inside a range of the search variable - recoil or
missing mass^2 - where one is given) gained per second of work."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlsearch.config import SimulateConfig
from mlsearch.physics.acceptance import TrackAcceptance


@dataclass(frozen=True)
class Case:
    """One row: ``search``'s selection on ``n`` events of ``process``; ``options`` go to the
    generator (``isr``: mu mu's radiation sampling, "plain" for the structure functions' own),
    ``forced`` and ``track_loss`` to the simulation, ``charged`` is a (count, p_min[,
    pair_pt_min[, extra_ecl_veto]]) truth filter and ``single_photon`` an (e_min, veto_e)
    one, ``region`` a range of the search variable [GeV^2] the effective luminosity is taken
    in."""

    label: str
    search: str
    process: str
    n: int
    options: dict[str, Any] = field(default_factory=dict)
    forced: str | None = None
    charged: (
        tuple[int, float]
        | tuple[int, float, float | None]
        | tuple[int, float, float | None, float]
        | None
    ) = None
    region: tuple[float, float] | None = None
    track_loss: float | None = None
    single_photon: tuple[float, float] | None = None

    @property
    def is_plain(self) -> bool:
        # the acceptance (e e mu mu) defines the sample, it is no lever
        levers = {k for k in self.options if k != "acceptance"}
        return (not levers or self.options.get("isr") == "plain") and not (
            self.forced or self.charged or self.track_loss or self.single_photon
        )


#: e e mu mu as the Z' config generates it: both muons in the CDC above the tracking threshold
_CDC = TrackAcceptance(pt_min=SimulateConfig().track_pt_min)

CASES: tuple[Case, ...] = (
    Case("tau tau, LFV selection, plain", "lfv_zprime", "tautau", 300_000),
    Case("tau tau, LFV selection, tau_modes e/mu 0.45", "lfv_zprime", "tautau", 300_000,
         {"tau_modes": {"e": 0.45, "mu": 0.45}}),
    Case("tau tau, Z' selection, plain", "zprime_invisible", "tautau", 300_000),
    Case("tau tau, Z' selection, tau_modes mu 0.6 pi 0.15", "zprime_invisible", "tautau",
         300_000, {"tau_modes": {"mu": 0.6, "pi": 0.15}}),
    Case("tau tau, Z' selection, tau_modes + charged_filter (2, 0.5 GeV)", "zprime_invisible",
         "tautau", 300_000, {"tau_modes": {"mu": 0.6, "pi": 0.15}}, charged=(2, 0.5)),
    Case("tau tau, Z' selection, tau_modes + charged_filter (2, 0.5 GeV) with extra_ecl_veto "
         "0.4", "zprime_invisible", "tautau", 300_000, {"tau_modes": {"mu": 0.6, "pi": 0.15}},
         charged=(2, 0.5, None, 0.4)),
    Case("mu mu, Z' selection at M_recoil^2 4-16 GeV^2, structure-function ISR/FSR",
         "zprime_invisible", "mumu", 1_000_000, {"isr": "plain"}, region=(4.0, 16.0)),
    Case("mu mu, Z' selection at M_recoil^2 4-16 GeV^2, radiation sampling + charged_filter",
         "zprime_invisible", "mumu", 1_000_000, charged=(2, 0.5), region=(4.0, 16.0)),
    Case("mu mu, Z' selection at M_recoil^2 0.85-2.2 GeV^2 (the 1.2 GeV window), "
         "structure-function ISR/FSR", "zprime_invisible", "mumu", 1_000_000, {"isr": "plain"},
         region=(0.85, 2.2)),
    Case("mu mu, Z' selection at M_recoil^2 0.85-2.2 GeV^2, radiation sampling + "
         "charged_filter", "zprime_invisible", "mumu", 1_000_000, charged=(2, 0.5),
         region=(0.85, 2.2)),
    Case("mu mu, Z' selection at M_recoil^2 0.85-2.2 GeV^2, radiation sampling + "
         "charged_filter with pair_pt_min 0.15", "zprime_invisible", "mumu", 1_000_000,
         charged=(2, 0.5, 0.15), region=(0.85, 2.2)),
    Case("mu mu, Z' selection at M_recoil^2 -0.25-0.82 GeV^2 (the 0.5 GeV window), "
         "structure-function ISR/FSR", "zprime_invisible", "mumu", 1_000_000, {"isr": "plain"},
         region=(-0.25, 0.82)),
    Case("mu mu, Z' selection at M_recoil^2 -0.25-0.82 GeV^2, radiation sampling + "
         "charged_filter with pair_pt_min 0.15", "zprime_invisible", "mumu", 1_000_000,
         charged=(2, 0.5, 0.15), region=(-0.25, 0.82)),
    Case("mu mu, Z' selection at M_recoil^2 -0.25-0.82 GeV^2, radiation sampling + "
         "escape_share 0.15 + charged_filter with pair_pt_min 0.15", "zprime_invisible", "mumu",
         1_000_000, {"topology_share": 0.15}, charged=(2, 0.5, 0.15), region=(-0.25, 0.82)),
    Case("mu mu, Z' selection at M_recoil^2 -0.25-0.82 GeV^2, radiation sampling + "
         "escape_share 0.15 + charged_filter with pair_pt_min 0.15 and extra_ecl_veto 0.4",
         "zprime_invisible", "mumu", 1_000_000, {"topology_share": 0.15},
         charged=(2, 0.5, 0.15, 0.4), region=(-0.25, 0.82)),
    Case("mu mu, Z' selection at M_recoil^2 -0.25-0.82 GeV^2, radiation sampling + "
         "escape_share 0.45 + charged_filter with pair_pt_min 0.15 and extra_ecl_veto 0.4",
         "zprime_invisible", "mumu", 1_000_000, {"topology_share": 0.45},
         charged=(2, 0.5, 0.15, 0.4), region=(-0.25, 0.82)),
    Case("e e mu mu (muons in the CDC), Z' selection at M_recoil^2 50-65 GeV^2, plain",
         "zprime_invisible", "eemumu", 1_000_000, {"acceptance": _CDC}, region=(50.0, 65.0)),
    Case("e e mu mu (muons in the CDC), Z' selection at M_recoil^2 50-65 GeV^2, "
         "charged_filter", "zprime_invisible", "eemumu", 1_000_000, {"acceptance": _CDC},
         charged=(2, 0.5), region=(50.0, 65.0)),
    Case("e e mu mu (muons in the CDC), Z' selection at M_recoil^2 50-65 GeV^2, "
         "charged_filter with pair_pt_min 0.15", "zprime_invisible", "eemumu", 1_000_000,
         {"acceptance": _CDC}, charged=(2, 0.5, 0.15), region=(50.0, 65.0)),
    Case("e e mu mu (muons in the CDC), Z' selection at M_recoil^2 50-65 GeV^2, "
         "soft_pair_share 0.4 + charged_filter with pair_pt_min 0.15", "zprime_invisible",
         "eemumu", 1_000_000, {"acceptance": _CDC, "topology_share": 0.4},
         charged=(2, 0.5, 0.15), region=(50.0, 65.0)),
    Case("e e mu mu (muons in the CDC), Z' selection at M_recoil^2 50-65 GeV^2, "
         "soft_pair_share 0.7 + hard_photon_share 0.05 + charged_filter with pair_pt_min 0.15 "
         "and extra_ecl_veto 0.4", "zprime_invisible", "eemumu", 1_000_000,
         {"acceptance": _CDC, "topology_share": 0.7, "hard_photon_share": 0.05},
         charged=(2, 0.5, 0.15, 0.4), region=(50.0, 65.0)),
    Case("e e mu mu (muons in the CDC), Z' selection at M_recoil^2 1.8-3.2 GeV^2 (the 1.6 GeV "
         "window), plain", "zprime_invisible", "eemumu", 1_000_000, {"acceptance": _CDC},
         region=(1.8, 3.2)),
    Case("e e mu mu (muons in the CDC), Z' selection at M_recoil^2 1.8-3.2 GeV^2, "
         "soft_pair_share 0.4 + charged_filter with pair_pt_min 0.15", "zprime_invisible",
         "eemumu", 1_000_000, {"acceptance": _CDC, "topology_share": 0.4},
         charged=(2, 0.5, 0.15), region=(1.8, 3.2)),
    Case("e e mu mu (muons in the CDC), Z' selection at M_recoil^2 1.8-3.2 GeV^2, "
         "soft_pair_share 0.5 + hard_photon_share 0.05 + charged_filter with pair_pt_min 0.15",
         "zprime_invisible", "eemumu", 1_000_000,
         {"acceptance": _CDC, "topology_share": 0.5, "hard_photon_share": 0.05},
         charged=(2, 0.5, 0.15), region=(1.8, 3.2)),
    Case("e e mu mu (muons in the CDC), Z' selection at M_recoil^2 1.8-3.2 GeV^2, "
         "soft_pair_share 0.7 + hard_photon_share 0.05 + charged_filter with pair_pt_min 0.15 "
         "and extra_ecl_veto 0.4", "zprime_invisible", "eemumu", 1_000_000,
         {"acceptance": _CDC, "topology_share": 0.7, "hard_photon_share": 0.05},
         charged=(2, 0.5, 0.15, 0.4), region=(1.8, 3.2)),
    Case("e e, LFV selection, plain", "lfv_zprime", "ee", 1_000_000),
    Case("e e, LFV selection, forced_misid muon", "lfv_zprime", "ee", 1_000_000,
         forced="muon"),
    Case("mu mu, LFV selection, plain", "lfv_zprime", "mumu", 1_000_000),
    Case("mu mu, LFV selection, forced_misid electron", "lfv_zprime", "mumu", 1_000_000,
         forced="electron"),
    Case("gamma gamma, dark-photon selection at M_miss^2 < 23 GeV^2 (E* > 4.2 GeV), plain",
         "dark_photon", "gg", 1_000_000, region=(-20.0, 23.0)),
    Case("gamma gamma, dark-photon selection at M_miss^2 < 23 GeV^2, lost_photon_share 0.5",
         "dark_photon", "gg", 1_000_000, {"topology_share": 0.5}, region=(-20.0, 23.0)),
    Case("gamma gamma, dark-photon selection at M_miss^2 47-67 GeV^2 (E* 2.1-3.1 GeV), plain",
         "dark_photon", "gg", 1_000_000, region=(47.0, 67.0)),
    Case("gamma gamma, dark-photon selection at M_miss^2 47-67 GeV^2, lost_photon_share 0.5",
         "dark_photon", "gg", 1_000_000, {"topology_share": 0.5},
         region=(47.0, 67.0)),
    Case("gamma gamma, dark-photon selection at M_miss^2 47-67 GeV^2, lost_photon_share 0.5 + "
         "single_share 0.5 + single_photon_filter", "dark_photon", "gg", 1_000_000,
         {"topology_share": 0.5, "single_share": 0.5}, region=(47.0, 67.0),
         single_photon=(0.5, 1.0)),
    Case("gamma gamma, dark-photon selection at M_miss^2 47-67 GeV^2, lost_photon_share 0.3 + "
         "single_share 0.7 + single_photon_filter", "dark_photon", "gg", 1_000_000,
         {"topology_share": 0.3, "single_share": 0.7}, region=(47.0, 67.0),
         single_photon=(0.5, 1.0)),
    Case("e e, dark-photon selection at M_miss^2 55-67 GeV^2, plain", "dark_photon", "ee",
         1_000_000, region=(55.0, 67.0)),
    Case("e e, dark-photon selection at M_miss^2 55-67 GeV^2, track_loss 0.5", "dark_photon",
         "ee", 1_000_000, region=(55.0, 67.0), track_loss=0.5),
    Case("e e, dark-photon selection at M_miss^2 55-67 GeV^2, single_share 0.5 + track_loss "
         "0.5", "dark_photon", "ee", 1_000_000, {"single_share": 0.5}, region=(55.0, 67.0),
         track_loss=0.5),
    Case("e e, dark-photon selection at M_miss^2 55-67 GeV^2, single_share 0.5 + track_loss "
         "0.5 + single_photon_filter", "dark_photon", "ee", 1_000_000, {"single_share": 0.5},
         region=(55.0, 67.0), track_loss=0.5, single_photon=(0.5, 1.0)),
    Case("e e, ALP selection, plain", "alp", "ee", 1_000_000),
    Case("e e, ALP selection, ring_share 0.9", "alp", "ee", 1_000_000, {"topology_share": 0.9}),
    Case("e e, ALP selection, ring_share 0.945 + track_loss 0.5", "alp", "ee", 1_000_000,
         {"topology_share": 0.945}, track_loss=0.5),
)  # fmt: skip


def _generate(case: Case) -> Any:
    from mlsearch.generate import generate_process

    if case.options.get("isr") != "plain":
        return generate_process(case.process, case.n, 11, **case.options)
    from mlsearch.generate.isr import IsrChannels
    from mlsearch.generate.mumu import isr_pair_events
    from mlsearch.io.truth import TruthSample
    from mlsearch.physics.constants import M_MU

    p4, w = isr_pair_events("mumu", M_MU, case.n, 11, True, IsrChannels(hard=0.0))
    pdg = np.tile(np.array([13, -13, 22, 22, 22, 22], dtype=np.int32), (case.n, 1))
    return TruthSample.from_weights("mumu", pdg, p4, w, {})


def bench_mc_levers() -> list[tuple[str, str, str]]:
    """One row per case; the note compares the effective luminosity per second with the
    plain sample of the same background and selection (the last plain row before it)."""
    from mlsearch.config import FeaturesConfig, SimulateConfig
    from mlsearch.detector import simulate_events
    from mlsearch.features import get_builder
    from mlsearch.generate import generate_process
    from mlsearch.generate.filters import ChargedFilter, SinglePhotonFilter
    from mlsearch.io.events import truth_to_awkward

    # warm up (imports, first-call costs) so the first plain row is not charged for them
    for process in ("tautau", "ee"):
        warm = truth_to_awkward(generate_process(process, 20_000, 1))
        get_builder("lfv_zprime").build(
            simulate_events(warm, SimulateConfig(), np.random.default_rng(1), "muon"),
            FeaturesConfig(),
        )
    rows, plain_rate = [], 0.0
    for case in CASES:
        start = time.perf_counter()
        sample = _generate(case)
        generated = time.perf_counter() - start
        truth = truth_to_awkward(sample)
        kept = len(sample)
        truth_filter = (
            ChargedFilter(*case.charged)
            if case.charged
            else SinglePhotonFilter(*case.single_photon)
            if case.single_photon
            else None
        )
        if truth_filter is not None:
            mask = truth_filter.keep(sample.pdg, sample.p4)
            truth, kept = truth[mask], int(mask.sum())
        reco = simulate_events(
            truth, SimulateConfig(), np.random.default_rng(12), case.forced, case.track_loss
        )
        builder = get_builder(case.search)
        table = builder.build(reco, FeaturesConfig())
        seconds = time.perf_counter() - start
        if case.region:
            m2 = table[builder.search_variable].to_numpy()
            table = table[(m2 > case.region[0]) & (m2 < case.region[1])]
        w = table["weight"].to_numpy()
        lumi = float(w.sum() / (w**2).sum()) if len(w) else 0.0
        rate = lumi / seconds
        note = (
            "the plain sample"
            if case.is_plain
            else f"{rate / plain_rate:.1f}x the plain sample's fb^-1/s"
            if plain_rate
            else "-"
        )
        if case.is_plain:
            plain_rate = rate
        filtered = (
            f", kept {kept / seconds:,.0f}/s ({kept / case.n:.0%} pass the filter)"
            if truth_filter is not None
            else ""
        )
        rows.append(
            (
                f"MC levers: {case.label}",
                f"{case.n / generated / 1e3:.0f}k generated/s{filtered}; "
                f"{case.n / seconds / 1e3:.0f}k generated+simulated/s, "
                f"{len(w) / seconds:,.0f} selected/s; {lumi:.3g} fb^-1 effective in "
                f"{seconds:.1f} s",
                note,
            )
        )
    return rows
