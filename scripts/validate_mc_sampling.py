"""Print the numbers of the background-MC closure tests (tests/test_mc_sampling.py) that
docs/validation.md quotes: the mu mu radiation sampling against the structure functions' own
sampling, the weighted FSR against the unweighted one, the truth filter against the
unfiltered, simulated and selected tau tau, mu mu and e e mu mu samples (and the pair
filter's margin), e e mu mu's soft-pair channel against its plain sampler, mu mu's escape
channel against the default sampler and e e mu mu's hard-photon channel against the soft
pairs alone through the Z' selection, the soft pairs' power law against their first
log-uniform draw, the extra-ECL veto of the charged filter, the lost-photon
sampling of gamma gamma through the dark-photon selection, the biased track loss on e e, and
the final-state channels of the radiative Bhabha and its ring sampling (ring_share) in the
ALP search's e e topology, and the aimed ISR of gamma gamma (single_share) in the
single-photon region.

    ./dev python scripts/validate_mc_sampling.py
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from mlsearch.config import FeaturesConfig, SimulateConfig
from mlsearch.detector import simulate_events
from mlsearch.features import get_builder
from mlsearch.features.common import cms_frame
from mlsearch.generate import generate_process
from mlsearch.generate.filters import ChargedFilter
from mlsearch.generate.fsr import radiate_final_state, radiate_final_state_weighted
from mlsearch.generate.isr import IsrChannels
from mlsearch.generate.mumu import MUMU_FSR_HARD, MUMU_ISR, isr_pair_events
from mlsearch.io.events import truth_to_awkward
from mlsearch.physics.acceptance import TrackAcceptance
from mlsearch.physics.constants import GEV2_TO_FB, M_MU
from mlsearch.physics.kinematics import invariant_mass2


def radiation_sampling(n: int = 400_000) -> None:
    p0, w0 = isr_pair_events("mumu", M_MU, n, 21, False, IsrChannels(hard=0.0))
    p1, w1 = isr_pair_events("mumu", M_MU, n, 22, False, MUMU_ISR, MUMU_FSR_HARD)
    f = GEV2_TO_FB
    print(f"mu mu sigma: structure functions {w0.mean() * f:.0f} +- "
          f"{w0.std() / np.sqrt(n) * f:.0f} fb, radiation sampling {w1.mean() * f:.0f} +- "
          f"{w1.std() / np.sqrt(n) * f:.0f} fb")  # fmt: skip
    m0 = invariant_mass2(p0.sum(1) - p0[:, 0] - p0[:, 1])
    m1 = invariant_mass2(p1.sum(1) - p1[:, 0] - p1[:, 1])
    edges = np.array([0.25, 1, 2, 4, 8, 16, 25, 36, 49, 64, 80])
    h0, _ = np.histogram(m0, edges, weights=w0)
    h1, _ = np.histogram(m1, edges, weights=w1)
    v0, _ = np.histogram(m0, edges, weights=w0**2)
    v1, _ = np.histogram(m1, edges, weights=w1**2)
    print(f"M_recoil^2 spectrum: chi2 {((h1 - h0) ** 2 / (v0 + v1)).sum():.1f} for 10 bins")
    for lo, hi in ((0.25, 1), (1, 4), (4, 16), (16, 36), (36, 64)):
        a, b = w0[(m0 > lo) & (m0 < hi)], w1[(m1 > lo) & (m1 < hi)]
        print(f"M_recoil^2 {lo}-{hi} GeV^2: {a.sum() / n * f:.0f} +- "
              f"{np.sqrt((a**2).sum()) / n * f:.0f} fb ({len(a)} events, L_eff "
              f"{a.sum() / (a**2).sum() * n / f:.3g} fb^-1) against {b.sum() / n * f:.0f} +- "
              f"{np.sqrt((b**2).sum()) / n * f:.0f} fb ({len(b)}, "
              f"{b.sum() / (b**2).sum() * n / f:.3g})")  # fmt: skip


def weighted_fsr(n: int = 300_000) -> None:
    e = 5.29
    p = np.sqrt(e**2 - M_MU**2)
    pair = np.tile(np.array([[e, 0, 0, p], [e, 0, 0, -p]]), (n, 1, 1))
    _, plain = radiate_final_state(pair, M_MU, np.random.default_rng(1), True)
    _, hard, w = radiate_final_state_weighted(pair, M_MU, np.random.default_rng(2), True,
                                              hard=0.5)  # fmt: skip
    z0, z1 = plain[:, 0, 0] / e, hard[:, 0, 0] / e
    print(f"FSR: mean weight {w.mean():.4f} +- {w.std() / np.sqrt(n):.4f}; photons above "
          f"z = 0.2: {(z0 > 0.2).sum()} unweighted, {(z1 > 0.2).sum()} weighted; rate "
          f"{(z0 > 0.2).mean():.5f} against {(w * (z1 > 0.2)).mean():.5f}")  # fmt: skip


def charged_filter(n: int = 150_000) -> None:
    eemumu = {"acceptance": TrackAcceptance(pt_min=SimulateConfig().track_pt_min)}
    for process, options, pair_pt_min in (
        ("tautau", {"tau_modes": {"mu": 0.6, "pi": 0.15}}, None), ("mumu", {}, 0.15),
        ("eemumu", eemumu, 0.15),
    ):  # fmt: skip
        sample = generate_process(process, n, 5, **options)
        keep = ChargedFilter(2, 0.5, pair_pt_min).keep(sample.pdg, sample.p4)
        reco = simulate_events(truth_to_awkward(sample), SimulateConfig(),
                               np.random.default_rng(6))  # fmt: skip
        table = get_builder("zprime_invisible").build(reco, FeaturesConfig())
        event, w = table["event"].to_numpy(), table["weight"].to_numpy()
        print(f"{process} (pair_pt_min {pair_pt_min}): the filter keeps {keep.mean():.3f} of "
              f"the events ({sample.weight[keep].sum() / sample.weight.sum():.3f} of sigma); "
              f"the Z' selection keeps {len(table)} events ({w.sum():.4g} fb), of which the "
              f"filter drops {(~keep[event]).sum()}")  # fmt: skip


def pair_filter_margin(n: int = 200_000, seeds: tuple[int, ...] = (3, 4, 5)) -> None:
    """The pair-pT filter's margin: the selected mu mu events (the Z' preselection) a filter
    at 0.2, 0.15 or 0.1 GeV would have dropped, and the resolution of the pair's pT*."""
    lost: dict[float, list[float]] = {m: [0, 0.0, 0.0, 0.0] for m in (0.2, 0.15, 0.1)}
    shifts = []
    for seed in seeds:
        sample = generate_process("mumu", n, seed)
        reco = simulate_events(truth_to_awkward(sample), SimulateConfig(),
                               np.random.default_rng(seed + 10))  # fmt: skip
        table = get_builder("zprime_invisible").build(reco, FeaturesConfig())
        event, w = table["event"].to_numpy(), table["weight"].to_numpy()
        frame = cms_frame()
        pair = frame.to_cms(sample.p4[event, 0]) + frame.to_cms(sample.p4[event, 1])
        shifts.append(table["dimuon_pt_cms"].to_numpy() - np.hypot(pair[:, 1], pair[:, 2]))
        for m, tally in lost.items():
            keep = ChargedFilter(2, 0.5, m).keep(sample.pdg, sample.p4)
            tally[0] += int((~keep[event]).sum())
            tally[1] += float(w[~keep[event]].sum())
            tally[2] += float(w.sum())
            tally[3] += float(keep.mean()) / len(seeds)
    d = np.concatenate(shifts)
    print(f"mu mu, {len(seeds)} x {n} events: pT* reco - truth of the selected pairs: std "
          f"{d.std():.4f} GeV, 99.9 % of |d| below {np.quantile(np.abs(d), 0.999):.3f}, "
          f"max {np.abs(d).max():.3f}")  # fmt: skip
    for m, (events, w_lost, w_all, kept) in lost.items():
        print(f"  pair_pt_min {m}: keeps {kept:.3f} of the events; drops {events} selected "
              f"events ({w_lost / w_all:.1e} of the selected weight)")  # fmt: skip


def soft_pair(n: int = 1_000_000, seeds: tuple[int, ...] = (11, 12)) -> None:
    """e e mu mu (both muons in the CDC) with and without the soft-pair channel: cross
    section, and per recoil mass^2 bin of the pairs the Z' filter keeps with pT* > 0.3 GeV
    and both muons above 0.7 GeV (lab), the yield and L_eff per 10^6 simulated events."""
    from mlsearch.generate.two_photon import generate_eemumu

    acceptance = TrackAcceptance(pt_min=SimulateConfig().track_pt_min)
    edges = (0, 4, 16, 25, 36, 49, 56, 64, 72)
    frame = cms_frame()
    for share in (0.0, 0.4):
        for seed in seeds:
            start = time.perf_counter()
            sample = generate_eemumu(n, seed, True, acceptance, share)
            seconds = time.perf_counter() - start
            keep = ChargedFilter(2, 0.5, 0.15).keep(sample.pdg, sample.p4)
            pair = frame.to_cms(sample.p4[:, 2]) + frame.to_cms(sample.p4[:, 3])
            recoil = invariant_mass2(frame.initial_cms - pair)
            p_lab = np.linalg.norm(sample.p4[:, 2:, 1:], axis=-1).min(axis=1)
            selected = keep & (np.hypot(pair[:, 1], pair[:, 2]) > 0.3) & (p_lab > 0.7)
            print(f"soft_pair_share {share}, seed {seed}: sigma {sample.cross_section_fb:.5g} "
                  f"+- {sample.cross_section_err_fb:.3g} fb, {seconds:.1f} s for {n} events "
                  f"(one core), the filter keeps {keep.mean():.3f}")  # fmt: skip
            for low, high in itertools.pairwise(edges):
                w = sample.weight[selected & (recoil > low) & (recoil < high)]
                per_sim = w.sum() / (w**2).sum() / (keep.sum() / 1e6)
                print(f"  M_recoil^2 {low}-{high} GeV^2: {w.sum():.4g} +- "
                      f"{np.sqrt((w**2).sum()):.3g} fb, L_eff {per_sim:.3g} fb^-1 per 10^6 "
                      "simulated")  # fmt: skip


#: the Z' windows of the default config at 0.5, 1.129, 2.247, 4.238, 6.038 and 8 GeV
#: (results/zprime_invisible/limits.csv: window_low, window_high) [GeV^2]
ZPRIME_WINDOWS = ((0.5, -0.247, 0.821), (1.129, 0.661, 1.982), (2.247, 3.5, 6.5),
                  (4.238, 16.0, 20.0), (6.038, 34.0, 39.0), (8.0, 60.0, 68.0))  # fmt: skip


def escape(
    n: int = 1_000_000, seeds: tuple[int, ...] = (11, 12), shares: tuple[float, ...] = (0.0, 0.45)
) -> None:
    """mu mu with and without the escape channel (``shares``: the config's 0.45), generated,
    filtered, simulated and selected (the Z' preselection): cross section, the filter's
    acceptance and per Z' window the selected cross section and L_eff per 10^6 generated
    events."""
    from mlsearch.generate.mumu import generate_mumu

    for share in shares:
        for seed in seeds:
            start = time.perf_counter()
            sample = generate_mumu(n, seed, True, share)
            keep = ChargedFilter(2, 0.5, 0.15).keep(sample.pdg, sample.p4)
            reco = simulate_events(truth_to_awkward(sample)[keep], SimulateConfig(),
                                   np.random.default_rng(seed + 10))  # fmt: skip
            table = get_builder("zprime_invisible").build(reco, FeaturesConfig())
            seconds = time.perf_counter() - start
            print(f"escape_share {share}, seed {seed}: sigma {sample.cross_section_fb:.5g} +- "
                  f"{sample.cross_section_err_fb:.3g} fb, the filter keeps {keep.mean():.3f}, "
                  f"{seconds:.1f} s (one core)")  # fmt: skip
            m2, w = table["recoil_mass2"].to_numpy(), table["weight"].to_numpy()
            for mass, low, high in ZPRIME_WINDOWS:
                x = w[(m2 > low) & (m2 < high)]
                print(f"  {mass} GeV window: {len(x)} events, {x.sum():.4g} +- "
                      f"{np.sqrt((x**2).sum()):.3g} fb, L_eff "
                      f"{x.sum() / (x**2).sum() / (n / 1e6):.3g} fb^-1 per 10^6 generated, "
                      f"N_eff / N {x.sum() ** 2 / (x**2).sum() / max(len(x), 1):.2f}")  # fmt: skip


#: the windows of the Z' config's e e mu mu table (docs/validation.md, "e e mu mu's heavy
#: pairs"), rounded from results/zprime_invisible/limits.csv [GeV^2]
EEMUMU_WINDOWS = ((0.5, -0.247, 0.8205), (1.129, 0.66, 1.98), (1.569, 1.82, 3.24),
                  (2.247, 4.37, 5.86), (2.768, 6.9, 8.5), (3.225, 9.7, 11.2),
                  (3.607, 12.3, 13.8), (4.238, 16.0, 20.0), (5.04, 23.5, 27.5),
                  (6.038, 34.0, 39.0), (6.78, 45.5, 46.5), (7.26, 51.5, 54.0),
                  (8.0, 63.67, 64.39))  # fmt: skip


def hard_photon(n: int = 1_000_000) -> None:
    """e e mu mu (both muons in the CDC) at the soft-pair and hard-photon shares of the
    table, generated, filtered, simulated and selected (the Z' preselection): cross section,
    the filter's acceptance and L_eff per 10^6 generated events in each window."""
    from mlsearch.generate.two_photon import generate_eemumu

    acceptance = TrackAcceptance(pt_min=SimulateConfig().track_pt_min)
    for soft, hard, seed in ((0.4, 0.0, 11), (0.4, 0.1, 12), (0.35, 0.15, 13),
                             (0.45, 0.05, 14), (0.5, 0.05, 15)):  # fmt: skip
        sample = generate_eemumu(n, seed, True, acceptance, soft, hard)
        keep = ChargedFilter(2, 0.5, 0.15).keep(sample.pdg, sample.p4)
        reco = simulate_events(truth_to_awkward(sample)[keep], SimulateConfig(),
                               np.random.default_rng(3))  # fmt: skip
        table = get_builder("zprime_invisible").build(reco, FeaturesConfig())
        m2, w = table["recoil_mass2"].to_numpy(), table["weight"].to_numpy()
        cells = []
        for mass, low, high in EEMUMU_WINDOWS:
            x = w[(m2 > low) & (m2 < high)]
            cells.append(f"{mass}: {x.sum() / (x**2).sum() / (n / 1e6):.3g}")
        print(f"soft {soft}, hard {hard} (seed {seed}): sigma {sample.cross_section_fb:.5g} +- "
              f"{sample.cross_section_err_fb:.3g} fb, the filter keeps {keep.mean():.3f}; L_eff "
              "per 10^6 generated [fb^-1]: " + ", ".join(cells))  # fmt: skip


#: windows of the Z' grid at 6.5-8 GeV (recoil mass^2 [GeV^2], from a run of the default config)
HIGH_WINDOWS = ((6.503, 41.82, 42.84), (6.78, 45.49, 46.51), (7.03, 48.99, 49.93),
                (7.26, 52.27, 53.22), (7.477, 55.5, 56.36), (7.668, 58.41, 59.22),
                (7.851, 61.29, 62.04), (8.0, 63.67, 64.39))  # fmt: skip


def soft_pair_shape(n: int = 2_000_000) -> None:
    """e e mu mu as the Z' config draws it (soft pairs 0.7 with z = x1 + x2 from z^-3 on
    0.4-1.2, heavy pairs 0.05) against the config before (soft pairs 0.5 with z log-uniform
    on 0.3-1, which this sets back for its sample: a power of 1 + 1e-6), generated, filtered,
    simulated and selected (the Z' preselection): the cross section and L_eff per 10^6
    generated events in each window."""
    import mlsearch.generate.two_photon as two_photon

    acceptance = TrackAcceptance(pt_min=SimulateConfig().track_pt_min)
    shape = two_photon.SOFT_PAIR_X, two_photon.SOFT_PAIR_Z_POWER
    for label, soft, x_range, power, seed in (("before", 0.5, (0.3, 1.0), 1 + 1e-6, 15),
                                               ("config", 0.7, *shape, 16)):  # fmt: skip
        two_photon.SOFT_PAIR_X, two_photon.SOFT_PAIR_Z_POWER = x_range, power
        try:
            sample = two_photon.generate_eemumu(n, seed, True, acceptance, soft, 0.05)
        finally:
            two_photon.SOFT_PAIR_X, two_photon.SOFT_PAIR_Z_POWER = shape
        keep = ChargedFilter(2, 0.5, 0.15, 0.4).keep(sample.pdg, sample.p4)
        reco = simulate_events(truth_to_awkward(sample)[keep], SimulateConfig(),
                               np.random.default_rng(3))  # fmt: skip
        table = get_builder("zprime_invisible").build(reco, FeaturesConfig())
        m2, w = table["recoil_mass2"].to_numpy(), table["weight"].to_numpy()
        cells = []
        for mass, low, high in EEMUMU_WINDOWS[:-1] + HIGH_WINDOWS:
            x = w[(m2 > low) & (m2 < high)]
            cells.append(f"{mass}: {x.sum() / (x**2).sum() / (n / 1e6):.3g}")
        print(f"{label}: soft {soft}, z in {x_range}, power {power:.6g}: sigma "
              f"{sample.cross_section_fb:.5g} +- {sample.cross_section_err_fb:.3g} fb, the "
              f"filter keeps {keep.mean():.3f}; L_eff per 10^6 generated [fb^-1]: "
              + ", ".join(cells))  # fmt: skip


def ecl_veto(n: int = 3_000_000) -> None:
    """The extra-ECL veto of the charged filter (0.4 GeV, the Z' cut) on the Z' config's
    three backgrounds: the share of the charged filter's events it drops, and of the
    selected events (the charged-filtered sample simulated and selected) how many it drops."""
    options = (
        ("mumu", {"topology_share": 0.15}, 0.15, 11),
        ("tautau", {"tau_modes": {"mu": 0.6, "pi": 0.15}}, None, 12),
        ("eemumu", {"acceptance": TrackAcceptance(pt_min=SimulateConfig().track_pt_min),
                    "topology_share": 0.7, "hard_photon_share": 0.05}, 0.15, 13),
    )  # fmt: skip
    for process, kwargs, pair_pt_min, seed in options:
        sample = generate_process(process, n // (2 if process == "tautau" else 1), seed, **kwargs)
        charged = ChargedFilter(2, 0.5, pair_pt_min).keep(sample.pdg, sample.p4)
        vetoed = ChargedFilter(2, 0.5, pair_pt_min, 0.4).keep(sample.pdg, sample.p4)
        reco = simulate_events(truth_to_awkward(sample)[charged], SimulateConfig(),
                               np.random.default_rng(3))  # fmt: skip
        table = get_builder("zprime_invisible").build(reco, FeaturesConfig())
        event, w = table["event"].to_numpy(), table["weight"].to_numpy()
        lost = ~vetoed[event]
        print(f"{process}: {len(sample.weight)} events; the charged filter keeps "
              f"{charged.mean():.3f}, the veto drops {1 - vetoed.sum() / charged.sum():.3f} of "
              f"those; the Z' selection keeps {len(table)}, of which the veto drops "
              f"{lost.sum()} ({w[lost].sum() / w.sum():.2e} of their weight)")  # fmt: skip


def _line(label: str, w: np.ndarray) -> str:
    return (f"{label}: {len(w)} events, {w.sum():.4g} +- {np.sqrt((w**2).sum()):.3g} fb, "
            f"L_eff {w.sum() / (w**2).sum():.3g} fb^-1")  # fmt: skip


def lost_photon(n: int = 200_000) -> None:
    from mlsearch.generate.gg import generate_gg

    tables = []
    for share, seed in ((0.0, 11), (0.5, 12)):
        sample = generate_gg(n, seed, lost_photon_share=share)
        reco = simulate_events(truth_to_awkward(sample), SimulateConfig(),
                               np.random.default_rng(seed))  # fmt: skip
        print(f"gg, lost_photon_share {share}: sigma {sample.cross_section_fb:.5g} +- "
              f"{sample.cross_section_err_fb:.3g} fb")  # fmt: skip
        tables.append(get_builder("dark_photon").build(reco, FeaturesConfig()))
    edges = np.array([0.5, 1.5, 2.2, 2.7, 3.2, 3.7, 4.2, 4.7, 5.0, 5.2, 5.35, 6.0])
    hist = []
    for share, table in zip((0.0, 0.5), tables, strict=True):
        e, w = table["photon_e_cms"].to_numpy(), table["weight"].to_numpy()
        print(_line(f"  dark-photon selection, share {share}", w))
        for lo, hi in ((0.5, 3.7), (3.7, 4.2), (4.2, 5.0), (5.0, 6.0)):
            print(_line(f"    E* {lo}-{hi} GeV", w[(e > lo) & (e < hi)]))
        hist.append([np.histogram(e, edges, weights=x)[0] for x in (w, w**2)])
    (h0, v0), (h1, v1) = hist
    print(f"  E* spectrum: chi2 {((h1 - h0) ** 2 / (v0 + v1)).sum():.1f} for {len(edges) - 1} bins")


def track_loss(n: int = 60_000) -> None:
    import awkward as ak

    from mlsearch.detector.tracking import trackable
    from mlsearch.features.common import no_track_above
    from mlsearch.generate.bhabha import generate_ee

    sample = generate_ee(n, 3)
    inside = trackable(sample.p4[:, :2, 1:].reshape(-1, 3)).reshape(-1, 2).all(axis=1)
    truth = truth_to_awkward(sample)
    config = SimulateConfig(track_efficiency=0.9)
    for loss, seed in ((None, 1), (0.5, 2)):
        reco = simulate_events(truth, config, np.random.default_rng(seed), track_loss=loss)
        e = reco.clusters.clusterE
        sel = no_track_above(reco) & ak.to_numpy(ak.sum(e > 1.0, axis=1) >= 2)
        w = ak.to_numpy(reco.weight)
        print(f"e e, track efficiency 0.9, track_loss {loss}: all events "
              f"{w.sum():.5g} fb")  # fmt: skip
        print(_line("  no track, two clusters above 1 GeV", w[sel]))
        print(_line("    of which both electrons in the CDC", w[sel & inside]))


def final_state_channel(n: int = 600_000) -> None:
    from mlsearch.generate import bhabha
    from mlsearch.generate.unweight import weighted_events
    from mlsearch.validation.ee_topology import ring_topologies

    share = bhabha.FSR_SHARE
    for fsr, seed in ((0.0, 31), (share, 32)):
        bhabha.FSR_SHARE = fsr
        r = weighted_events("ee_radiative", n, seed, bhabha._radiative, energy_spread=False)
        p, w = r.p4, r.weight_fb
        alp = ring_topologies(p)[0]
        print(f"radiative Bhabha, FSR_SHARE {fsr}: sigma {r.cross_section_fb:.5g} +- "
              f"{r.cross_section_err_fb:.3g} fb")  # fmt: skip
        print(_line("  both electrons in the ECL outside the CDC, photon in the ECL", w[alp]))
    bhabha.FSR_SHARE = share


def ring_share(n: int = 200_000) -> None:
    from mlsearch.generate import bhabha
    from mlsearch.generate.bhabha import generate_ee
    from mlsearch.validation.ee_topology import ring_topologies

    for share, seed in ((0.0, 41), (0.9, 42)):
        sample = generate_ee(n, seed, energy_spread=False, ring_share=share)
        w = sample.weight
        radiative = np.arange(n) >= sample.metadata["n_bhabha"]  # Bhabha channel first
        both, one, compton = (m & radiative for m in ring_topologies(sample.p4))
        meta = sample.metadata
        print(f"e e, ring_share {share}: radiative sigma {meta['sigma_radiative_fb']:.5g} fb"
              + (f" (both in the ring {meta['sigma_ring_fb']:.4g}, one "
                 f"{meta['sigma_ring_one_fb']:.4g}, Compton "
                 f"{meta['sigma_compton_fb']:.4g}, its lepton and photon in the ring "
                 f"{meta['sigma_compton_ring_fb']:.4g}; Bhabha channel's ring "
                 f"{meta['sigma_bhabha_ring_fb']:.4g}, both there "
                 f"{meta['sigma_bhabha_ring_both_fb']:.4g})" if share else ""))  # fmt: skip
        print(_line("  radiative, both electrons in the ring, photon in the ECL", w[both]))
        print(_line("  radiative, one in the ring, the other past the ECL", w[one]))
        print(_line("  radiative, the Compton region", w[compton]))
        born = np.where(radiative, 0, bhabha.born_ring_stratum(sample.p4))
        print(_line("  Bhabha channel: a lepton in the ring, the other in the CDC",
                    w[born == 1]))  # fmt: skip
        print(_line("  Bhabha channel: both leptons in the ring", w[born == 2]))


def aimed_strata(n_born: int = 100_000, n_compton: int = 30_000) -> None:
    """The two ring strata drawn aimed at their regions against the plain samplers
    restricted to them by rejection: the Bhabha channel with both leptons in the ring (band
    channel, natural ISR) and the radiative Compton region with the seen lepton and the
    photon in the ring (photons drawn in the ring bands)."""
    from mlsearch.generate import bhabha

    _strata_closure((
        ("Bhabha channel, both leptons in the ring", n_born, n_born,
         bhabha._bhabha_in(2, aimed=False), bhabha._bhabha_in(2)),
        ("radiative, Compton region, lepton and photon in the ring", n_compton, n_compton,
         bhabha._radiative_in(bhabha.COMPTON_RING, aimed=False),
         bhabha._radiative_in(bhabha.COMPTON_RING)),
    ))  # fmt: skip


def single_strata(n_plain: int = 20_000, n_aimed: int = 200_000) -> None:
    """The single-cluster strata (the seen particle within 20-141 deg) drawn aimed against
    the plain samplers restricted to them by rejection: both leptons down the pipe (the cone
    channels, the leptons first), a lepton seen (the cone channels, the photon first) and the
    Bhabha channel's (the pipe channel, one-returning ISR); and, for the first, the effective
    events per trial where the photon has E* 2.0-3.7 GeV (the A' masses 5.9-8 GeV)."""
    from mlsearch.generate import bhabha

    single = bhabha.SINGLE
    _strata_closure((
        ("radiative, both leptons down the beam pipe, photon in the ECL above 2 GeV", n_plain,
         n_aimed, bhabha._radiative_in(single, False, False, True),
         bhabha._radiative_in(single, True, False, True)),
        ("radiative, a lepton in the ECL above 2 GeV, the other and the photon down the pipe",
         n_plain, n_aimed, bhabha._radiative_in(bhabha.SINGLE_LEPTON, False, False, True),
         bhabha._radiative_in(bhabha.SINGLE_LEPTON, True, False, True)),
        ("Bhabha channel, a lepton in the ECL at 2-4.5 GeV, the other down the pipe", n_plain,
         n_aimed, bhabha._bhabha_in(bhabha.BORN_SINGLE, False, False, True),
         bhabha._bhabha_in(bhabha.BORN_SINGLE, True, False, True)),
    ), photon_e=(2.0, 3.7))  # fmt: skip


def _strata_closure(cases: tuple, photon_e: tuple[float, float] | None = None) -> None:  # type: ignore[type-arg]
    """Print each case's cross section, kept events per trial, N_eff / N and max / mean
    weight for the plain (rejection) and the aimed trial; with ``photon_e``, for the first
    case also the effective events per trial with the photon's CM energy in that range."""
    from mlsearch.features.common import cms_frame
    from mlsearch.generate.unweight import weighted_events

    for i, (label, n_plain, n_aimed, plain, aimed) in enumerate(cases):
        for name, n, trial in (("rejection", n_plain, plain), ("aimed", n_aimed, aimed)):
            start = time.perf_counter()
            r = weighted_events("x", n, 1, trial, energy_spread=False)
            w = r.weight_fb
            print(f"{label}, {name}: sigma {r.cross_section_fb:.5g} +- "
                  f"{r.cross_section_err_fb:.3g} fb, kept per trial {r.efficiency:.4f}, "
                  f"N_eff / N {w.sum() ** 2 / (w**2).sum() / len(w):.3f}, max / mean "
                  f"{w.max() / w.mean():.0f}, {time.perf_counter() - start:.1f} s")  # fmt: skip
            if photon_e is not None and i == 0:
                e_star = cms_frame().to_cms(r.p4[:, 2])[:, 0]
                wr = w[(e_star >= photon_e[0]) & (e_star < photon_e[1])]
                per_trial = wr.sum() ** 2 / (wr**2).sum() * r.efficiency / len(w)
                print(f"  photon E* {photon_e[0]}-{photon_e[1]} GeV: sigma "
                      f"{wr.sum():.5g} fb, effective events per trial {per_trial:.5f}")  # fmt: skip


def aimed_selection(n: int = 2_000_000) -> None:
    """The Bhabha channel's both-in-ring stratum as the ALP preselection sees it (simulated,
    `track_loss` 0.5): effective events and the largest weight over the mean of the selected
    ones, for the plain ISR channels with 70 % of the angles aimed and for the config's
    sampler (returning ISR channel, BAND_SHARE aimed), split by the ISR energy."""
    from mlsearch.generate import bhabha
    from mlsearch.generate.isr import IsrChannels
    from mlsearch.generate.unweight import weighted_events
    from mlsearch.io.truth import TruthSample

    chunk = 250_000
    saved = bhabha.BAND_SHARE, bhabha.BAND_ISR
    for share, isr in ((0.7, IsrChannels()), saved):
        bhabha.BAND_SHARE, bhabha.BAND_ISR = share, isr
        weights, energies, mean = [], [], 0.0
        for seed in range(n // chunk):
            r = weighted_events("x", chunk, 100 + seed, bhabha._bhabha_in(2))
            mean += r.weight_fb.mean() / (n // chunk)
            pdg = np.tile(np.array([11, -11, 22, 22], dtype=np.int32), (chunk, 1))
            truth = truth_to_awkward(TruthSample("ee", pdg, r.p4, r.weight_fb, 0.0, 0.0))
            reco = simulate_events(truth, SimulateConfig(), np.random.default_rng(seed),
                                   track_loss=0.5)  # fmt: skip
            df = get_builder("alp").build(reco, FeaturesConfig())
            weights.append(df["weight"].to_numpy() / (n // chunk))
            energies.append(r.p4[df["event"].to_numpy(), 2:, 0].sum(axis=1))
        w, e = np.concatenate(weights), np.concatenate(energies)
        print(f"Bhabha channel, both in the ring, {share:.0%} aimed, ISR {isr}: {len(w)} "
              f"selected, {w.sum() / 1e3:.3f} pb, N_eff {w.sum() ** 2 / (w**2).sum():.0f}, "
              f"max / mean weight {w.max() * (n // chunk) / mean:.0f}")  # fmt: skip
        for lo, hi in ((0, 0.3), (0.3, 1), (1, 3), (3, 11)):
            m = (e >= lo) & (e < hi)
            print(_line(f"  ISR energy {lo}-{hi} GeV", w[m]))
    bhabha.BAND_SHARE, bhabha.BAND_ISR = saved


def bhabha_channel(n: int = 500_000) -> None:
    from mlsearch.generate import bhabha
    from mlsearch.generate.unweight import weighted_events

    for seed in (1, 2, 3):
        r = weighted_events("ee_bhabha", n, seed, bhabha._bhabha, energy_spread=False)
        w = r.weight_fb
        print(f"Bhabha channel, seed {seed}: sigma {r.cross_section_fb:.5g} +- "
              f"{r.cross_section_err_fb:.3g} fb, max / mean weight {w.max() / w.mean():.0f}, "
              f"N_eff / N {w.sum() ** 2 / (w**2).sum() / len(w):.3f}")  # fmt: skip


def gg_single_share(n: int = 300_000, chunks_plain: int = 12, chunks_aimed: int = 4) -> None:
    """The two-photon channel of gamma gamma with and without single_share 0.5 (both with
    lost_photon_share 0.5), at truth level: one photon in the ECL with CM energy in the bin,
    nothing else above 1 GeV; cross sections [GeV^-2] and effective events per event."""
    from mlsearch.generate.gg import _two_photon_isr
    from mlsearch.physics.acceptance import in_ecl
    from mlsearch.physics.beams import cms_to_lab, sample_beams
    from mlsearch.physics.kinematics import polar_angle

    bins = ((2.0, 2.3), (2.3, 2.6), (2.6, 2.9), (2.9, 3.2), (3.2, 4.0), (4.0, 4.8))
    per_event = []
    for share, chunks in ((0.0, chunks_plain), (0.5, chunks_aimed)):
        s, s2 = np.zeros(len(bins)), np.zeros(len(bins))
        total, total2 = 0.0, 0.0
        for c in range(chunks):
            rng = np.random.default_rng(100 + c)
            beams = sample_beams(n, rng, energy_spread=True)
            p, w = _two_photon_isr(0.5, share)(beams, rng)
            seen = in_ecl(polar_angle(cms_to_lab(p, beams))) & (p[..., 0] > 0.1)
            e = np.where(seen, p[..., 0], 0.0)
            first, second = e.max(axis=1), np.sort(e, axis=1)[:, -2]
            total, total2 = total + w.sum(), total2 + (w**2).sum()
            for i, (lo, hi) in enumerate(bins):
                m = (first > lo) & (first < hi) & (second < 1.0)
                s[i], s2[i] = s[i] + w[m].sum(), s2[i] + (w[m] ** 2).sum()
        big_n = n * chunks
        print(f"gamma gamma two-photon channel, single_share {share}, {big_n} events: sigma "
              f"{total / big_n:.5e} +- {np.sqrt(total2) / big_n:.2e} GeV^-2")  # fmt: skip
        for i, (lo, hi) in enumerate(bins):
            print(f"  E* {lo}-{hi} GeV: {s[i] / big_n:.4e} +- {np.sqrt(s2[i]) / big_n:.2e}, "
                  f"N_eff {s[i] ** 2 / s2[i]:.0f}")  # fmt: skip
        per_event.append(s**2 / s2 / big_n)
    print("  effective events per event, aimed / plain:", np.round(per_event[1] / per_event[0], 1))


if __name__ == "__main__":
    radiation_sampling()
    weighted_fsr()
    charged_filter()
    pair_filter_margin()
    soft_pair()
    escape()
    hard_photon()
    soft_pair_shape()
    ecl_veto()
    lost_photon()
    track_loss()
    final_state_channel()
    ring_share()
    aimed_strata()
    single_strata()
    aimed_selection()
    bhabha_channel()
    gg_single_share()
