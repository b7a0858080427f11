"""Closure of the background-MC levers: the radiation importance sampling of mu mu, the
lost-photon sampling of gamma gamma and the truth filter before the simulation give what the
plain sampler gives, within MC errors."""

import re
from pathlib import Path

import numpy as np
import pytest

from mlsearch.errors import ConfigError
from mlsearch.generate.isr import IsrChannels
from mlsearch.generate.mumu import MUMU_FSR_HARD, MUMU_ISR, isr_pair_events
from mlsearch.physics.beams import cms_to_lab, sample_beams
from mlsearch.physics.constants import GEV2_TO_FB, M_MU
from mlsearch.physics.kinematics import invariant_mass2


def _recoil_mass2(p4: np.ndarray) -> np.ndarray:
    """Truth recoil mass^2 of the muon pair [GeV^2] (slots 0, 1: the muons)."""
    return np.asarray(invariant_mass2(p4.sum(axis=1) - p4[:, 0] - p4[:, 1]))


def _chi2(x0, w0, x1, w1, edges):  # type: ignore[no-untyped-def]
    h0, _ = np.histogram(x0, edges, weights=w0)
    h1, _ = np.histogram(x1, edges, weights=w1)
    v0, _ = np.histogram(x0, edges, weights=w0**2)
    v1, _ = np.histogram(x1, edges, weights=w1**2)
    return float((((h1 - h0) ** 2) / np.maximum(v0 + v1, 1e-300)).sum())


def test_mumu_radiation_sampling_is_unbiased_and_fills_the_recoil_tail():
    """The mu mu sampler (hard, one-hard and recoil ISR channels, hard FSR channel) against
    the structure functions' own sampling (no channel, unweighted FSR): the same cross
    section and recoil-mass^2 spectrum within MC errors, and >= 3x the effective MC
    luminosity above M_recoil = 2 GeV, >= 20x at 0.5-2 GeV, where the Z' windows are."""
    n = 400_000
    plain_p4, plain_w = isr_pair_events("mumu", M_MU, n, 21, False, IsrChannels(hard=0.0))
    p4, w = isr_pair_events("mumu", M_MU, n, 22, False, MUMU_ISR, MUMU_FSR_HARD)
    err = np.hypot(plain_w.std(), w.std()) / np.sqrt(n)
    assert abs(w.mean() - plain_w.mean()) < 4 * err
    m0, m1 = _recoil_mass2(plain_p4), _recoil_mass2(p4)
    edges = np.array([0.25, 1, 2, 4, 8, 16, 25, 36, 49, 64, 80])
    chi2 = _chi2(m0, plain_w, m1, w, edges)
    assert chi2 < 10 + 4 * np.sqrt(20), chi2  # 10 bins: within ~4 sigma of the mean

    def lumi(m: np.ndarray, weights: np.ndarray, lo: float, hi: float) -> float:
        t = weights[(m > lo) & (m < hi)]
        return float(t.sum() / (t**2).sum() * n / GEV2_TO_FB)

    assert lumi(m1, w, 4, 80) > 3 * lumi(m0, plain_w, 4, 80)
    # the one-returning channel: pairs returned near threshold with a soft second photon were
    # the heavy events of 0.5-2 GeV recoil masses (the sampler without it: 3.1x here)
    assert lumi(m1, w, 0.25, 4) > 20 * lumi(m0, plain_w, 0.25, 4)


def test_weighted_fsr_has_the_unweighted_rate_and_spectrum():
    """Each FSR photon log-uniform with probability 0.5, weighted back: mean weight 1 (FSR
    keeps the rate) and the photon energy spectrum of the accept-reject sampler."""
    from mlsearch.generate.fsr import radiate_final_state, radiate_final_state_weighted

    n = 300_000
    e = 5.29
    p = np.sqrt(e**2 - M_MU**2)
    pair = np.tile(np.array([[e, 0, 0, p], [e, 0, 0, -p]]), (n, 1, 1))
    _, plain = radiate_final_state(pair, M_MU, np.random.default_rng(1), True)
    _, photons, w = radiate_final_state_weighted(pair, M_MU, np.random.default_rng(2), True,
                                                 hard=0.5)  # fmt: skip
    assert w.mean() == pytest.approx(1.0, abs=4 * w.std() / np.sqrt(n))
    z0, z1 = plain[:, 0, 0] / e, photons[:, 0, 0] / e
    edges = np.array([1e-3, 1e-2, 0.05, 0.1, 0.2, 0.4, 0.7, 1.0])
    chi2 = _chi2(z0, np.ones(n), z1, w, edges)
    assert chi2 < 7 + 4 * np.sqrt(14), chi2
    # the point: ~10x more events with a photon above 1 GeV
    assert (z1 > 0.2).sum() > 5 * (z0 > 0.2).sum()


def test_gg_lost_photon_sampling_is_unbiased_for_the_single_photon_selection():
    """gamma gamma with half its two-photon events in the lost-photon bands, against the
    collinear sampling alone, both simulated and put through the dark-photon selection: the
    same total and selected cross sections and photon-energy spectrum within MC errors, and
    >= 4x the effective MC luminosity where the photon carries E* > 4.2 GeV (the windows of
    A' masses below ~5 GeV, where gamma gamma dominates)."""
    from mlsearch.config import FeaturesConfig, SimulateConfig
    from mlsearch.detector import simulate_events
    from mlsearch.features import get_builder
    from mlsearch.generate.gg import generate_gg
    from mlsearch.io.events import truth_to_awkward

    n = 200_000
    samples, tables = [], []
    for share, seed in ((0.0, 11), (0.5, 12)):
        sample = generate_gg(n, seed, lost_photon_share=share)
        reco = simulate_events(
            truth_to_awkward(sample), SimulateConfig(), np.random.default_rng(seed)
        )
        samples.append(sample)
        tables.append(get_builder("dark_photon").build(reco, FeaturesConfig()))
    plain, bands = samples
    err = np.hypot(plain.cross_section_err_fb, bands.cross_section_err_fb)
    assert abs(plain.cross_section_fb - bands.cross_section_fb) < 4 * err
    (e0, w0), (e1, w1) = ((t["photon_e_cms"].to_numpy(), t["weight"].to_numpy()) for t in tables)
    assert abs(w0.sum() - w1.sum()) < 4 * np.sqrt((w0**2).sum() + (w1**2).sum())
    edges = np.array([0.5, 1.5, 2.2, 2.7, 3.2, 3.7, 4.2, 4.7, 5.0, 5.2, 5.35, 6.0])
    chi2 = _chi2(e0, w0, e1, w1, edges)
    assert chi2 < 11 + 4 * np.sqrt(22), chi2
    hard0, hard1 = w0[e0 > 4.2], w1[e1 > 4.2]
    lumi0, lumi1 = (h.sum() / (h**2).sum() for h in (hard0, hard1))
    assert lumi1 > 4 * lumi0, (lumi0, lumi1)


def _single_photon_truth(sample, lo, hi):  # type: ignore[no-untyped-def]
    """Per event: exactly one photon in the ECL (lab) above 0.1 GeV with CM energy in
    [lo, hi) GeV, and every other below 1 GeV (CM) or without a crystal: the truth of the
    dark-photon selection at high A' masses."""
    from mlsearch.physics.acceptance import in_ecl
    from mlsearch.physics.kinematics import (
        beam_four_momenta,
        boost,
        cms_boost_vector,
        polar_angle,
    )

    electron, positron = beam_four_momenta()
    p = sample.p4
    cms = boost(p, np.broadcast_to(cms_boost_vector(electron + positron), (*p.shape[:-1], 3)))
    seen = in_ecl(polar_angle(p)) & (p[..., 0] > 0.1)
    e = np.where(seen, cms[..., 0], 0.0)
    first, second = e.max(axis=1), np.sort(e, axis=1)[:, -2]
    return (first >= lo) & (first < hi) & (second < 1.0)


def test_gg_single_share_is_unbiased_and_fills_the_high_mass_windows() -> None:
    """gamma gamma with half of its two-photon events' ISR aimed at the single-photon region
    (generate/gg_lost.py) against the same generator without it: the same total cross
    section and the same cross section of one photon seen at E* 2.0-2.6, 2.6-3.2 and 3.2-4.0
    GeV with nothing else above 1 GeV (the windows of A' masses 6.5-8 GeV) within MC errors,
    and >= 3x the effective MC events per generated event at E* 2.0-3.2 GeV."""
    from mlsearch.generate.gg import generate_gg

    plain = generate_gg(1_200_000, 31, lost_photon_share=0.5)
    aimed = generate_gg(600_000, 32, lost_photon_share=0.5, single_share=0.5)
    err = np.hypot(plain.cross_section_err_fb, aimed.cross_section_err_fb)
    assert abs(plain.cross_section_fb - aimed.cross_section_fb) < 4 * err
    for lo, hi in ((2.0, 2.6), (2.6, 3.2), (3.2, 4.0)):
        (w0, w1) = (s.weight[_single_photon_truth(s, lo, hi)] for s in (plain, aimed))
        diff = abs(w0.sum() - w1.sum())
        assert diff < 4 * np.sqrt((w0**2).sum() + (w1**2).sum()), (lo, hi, w0.sum(), w1.sum())
    (w0, w1) = (s.weight[_single_photon_truth(s, 2.0, 3.2)] for s in (plain, aimed))
    per_event0, per_event1 = (
        w.sum() ** 2 / (w**2).sum() / len(s) for w, s in ((w0, plain), (w1, aimed))
    )
    assert per_event1 > 3 * per_event0, (per_event0, per_event1)


def test_radiative_bhabha_final_state_channel_is_unbiased_and_fills_the_alp_topology(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The radiative Bhabha sampler with its final-state channels (lepton along the photon)
    against the same sampler without them: the same cross section and photon-lepton angle
    spectrum within MC errors, and >= 5x the effective MC luminosity of the ALP search's e e
    topology (both electrons in the ECL outside the CDC, photon in the ECL)."""
    from mlsearch.generate import bhabha
    from mlsearch.generate.unweight import weighted_events
    from mlsearch.validation.ee_topology import ring_topologies

    def sample(share: float, seed: int):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(bhabha, "FSR_SHARE", share)
        r = weighted_events("ee_radiative", 600_000, seed, bhabha._radiative, energy_spread=False)
        p, w = r.p4, r.weight_fb
        k = p[:, 2, 1:] / np.linalg.norm(p[:, 2, 1:], axis=1, keepdims=True)
        cos_psi = [(k * q).sum(1) / np.linalg.norm(q, axis=1) for q in (p[:, 0, 1:], p[:, 1, 1:])]
        psi = np.degrees(np.arccos(np.clip(np.maximum(*cos_psi), -1, 1)))
        return r, psi, w, ring_topologies(p)[0]

    share = bhabha.FSR_SHARE
    plain, psi0, w0, alp0 = sample(0.0, 31)
    fsr, psi1, w1, alp1 = sample(share, 32)
    err = np.hypot(plain.cross_section_err_fb, fsr.cross_section_err_fb)
    assert abs(fsr.cross_section_fb - plain.cross_section_fb) < 4 * err
    edges = np.array([2, 3, 5, 10, 20, 40, 90, 180])
    assert _chi2(psi0, w0, psi1, w1, edges) < 20  # 7 bins: p = 0.005
    y0, y1 = w0[alp0].sum(), w1[alp1].sum()
    assert abs(y1 - y0) < 4 * np.sqrt((w0[alp0] ** 2).sum() + (w1[alp1] ** 2).sum())

    def n_eff(w: np.ndarray) -> float:
        return float(w.sum() ** 2 / (w**2).sum())

    assert share > 0
    assert n_eff(w1[alp1]) > 5 * n_eff(w0[alp0])


def test_ring_share_is_unbiased_and_fills_the_ring() -> None:
    """An e e sample with 90 % of its events drawn in the ring (the ECL outside the CDC; both
    leptons there or one) or the Compton region (one lepton past the ECL, the other and the
    photon in the ECL on its side), and those regions left out of the rest, against the plain
    sample: the same radiative cross section, and in each region (both electrons in the ring;
    one there and the other past the ECL; the Compton region) the same yield within MC
    errors and more effective MC luminosity."""
    from mlsearch.generate import bhabha
    from mlsearch.validation.ee_topology import ring_topologies

    def yields(sample):  # type: ignore[no-untyped-def]
        return tuple(sample.weight[m] for m in ring_topologies(sample.p4))

    def rad(sample, first: int):  # type: ignore[no-untyped-def]
        return tuple(m & (np.arange(len(m)) >= first) for m in ring_topologies(sample.p4))

    plain = bhabha.generate_ee(200_000, 41, energy_spread=False)
    ringed = bhabha.generate_ee(200_000, 42, energy_spread=False, ring_share=0.9)
    rad0, rad1 = plain.metadata["sigma_radiative_fb"], ringed.metadata["sigma_radiative_fb"]
    n0, n_born = plain.metadata["n_bhabha"], ringed.metadata["n_bhabha"]  # Bhabha channel first
    assert (n0, n_born) == (100_000, 10_000 + 5_400 + 57_600)
    w0_rad = plain.weight[n0:]  # the radiative half of the plain sample
    err = np.hypot(np.sqrt((w0_rad**2).sum() - (w0_rad.sum() ** 2) / len(w0_rad)), 0.01 * rad1)
    assert abs(rad1 - rad0) < 4 * err
    for w0, w1 in zip(yields(plain), yields(ringed), strict=True):
        assert abs(w1.sum() - w0.sum()) < 4 * np.sqrt((w0**2).sum() + (w1**2).sum())
    # the gains of the radiative events (the Bhabha channel reaches the Compton region too,
    # with an ISR photon; the ring sampling leaves it fewer events): both in the ring 10x;
    # one there (10 nb, 10 % of the ring's events; the Compton events with a lepton in the
    # ring are the other stratum's) 1.5x; the Compton region (3.7 nb, 30 %) 6x the plain
    # sample's radiative half
    gains = (10, 1.5, 6)
    for m0, m1, gain in zip(rad(plain, n0), rad(ringed, n_born), gains, strict=True):
        w0, w1 = plain.weight[m0], ringed.weight[m1]
        assert w1.sum() / (w1**2).sum() > gain * w0.sum() / (w0**2).sum()
    # the Bhabha channel with a lepton in the ring, the other in the ring or the CDC (28 nb,
    # 18 000 events against the plain sample's ~5 000): the same yield, > 2.5x the luminosity
    # (3.7x measured)
    m0, m1 = (bhabha.born_ring_stratum(s.p4) > 0 for s in (plain, ringed))
    m0[n0:], m1[n_born:] = False, False
    w0, w1 = plain.weight[m0], ringed.weight[m1]
    assert abs(w1.sum() - w0.sum()) < 4 * np.sqrt((w0**2).sum() + (w1**2).sum())
    assert w1.sum() / (w1**2).sum() > 2.5 * w0.sum() / (w0**2).sum()
    # the four restricted trials split the radiative events between them (CM frame)
    beams = sample_beams(50_000, np.random.default_rng(5), energy_spread=False)
    # (COMPTON_RING, drawn with photons aimed at the ring, is
    # test_aimed_strata_are_unbiased's)
    strata = (0, 1, 2, bhabha.COMPTON)
    parts = [bhabha._radiative_in(k)(beams, np.random.default_rng(6)) for k in strata]
    stratum = bhabha._stratum(parts[0][0], beams)
    assert set(np.unique(stratum)) == {*strata, bhabha.COMPTON_RING}
    for k, (_, w) in zip(strata, parts, strict=True):
        assert (w[stratum != k] == 0).all() and (w[stratum == k] > 0).any()
    whole = bhabha._radiative(beams, np.random.default_rng(6))[1]
    np.testing.assert_array_equal(
        sum(w for _, w in parts), np.where(stratum == bhabha.COMPTON_RING, 0.0, whole)
    )
    # the Bhabha channel's strata 0 and 1 split its trials (2, both leptons in the ring, is
    # drawn aimed at the ring: test_aimed_strata_are_unbiased)
    whole = bhabha._bhabha(beams, np.random.default_rng(6))
    label = bhabha.born_ring_stratum(cms_to_lab(whole[0][:, :2], beams))
    born = [bhabha._bhabha_in(k)(beams, np.random.default_rng(6))[1] for k in (0, 1)]
    assert (born[0] > 0).any() and (born[1] > 0).any() and not (born[0] * born[1]).any()
    np.testing.assert_array_equal(born[0] + born[1], np.where(label < 2, whole[1], 0.0))


@pytest.mark.parametrize(
    ("channels", "low", "gain"),
    [(IsrChannels(0.2, returning=0.5), 0.05, 20),
     # mu mu's: one beam returning down to 1 - y = 3e-4, the recoil channel log-uniform
     (IsrChannels(0.05, single=0.1, recoil=0.3, recoil_log=True, one_returning=0.25,
                  return_min=3e-4), 0.005, 50)],
)  # fmt: skip
def test_returning_isr_channel_is_unbiased_and_fills_low_pair_masses(channels, low, gain) -> None:  # type: ignore[no-untyped-def]
    """ISR fractions with the returning channels (1 - y log-uniform: density ~ 1/s') against
    the structure functions' own sampling: the same mean weight (the integral of D(y1) D(y2))
    and s'/s = (1 - y1)(1 - y2) spectrum within MC errors, and > ``gain`` x the events below
    s'/s = ``low`` (light pairs after hard photons; what that buys a selection is measured on
    it: test_aimed_strata_are_unbiased, the mu mu radiation sampling's test, docs/validation.md).
    """
    from mlsearch.generate.isr import isr_beta, radiate, radiate_natural

    beta = isr_beta(10.58**2)
    y0, w0 = radiate_natural(1_000_000, beta, np.random.default_rng(1))
    y1, w1 = radiate(1_000_000, beta, np.random.default_rng(2), channels)
    w0, w1 = w0 / len(w0), w1 / len(w1)
    assert abs(w1.sum() - w0.sum()) < 4 * np.hypot(np.sqrt((w0**2).sum()), np.sqrt((w1**2).sum()))
    r0, r1 = ((1 - y[:, 0]) * (1 - y[:, 1]) for y in (y0, y1))
    edges = np.array([0.0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.7, 0.9, 0.99, 1.0])
    assert _chi2(r0, w0, r1, w1, edges) < 12 + 4 * np.sqrt(24)
    assert (r1 < low).sum() > gain * (r0 < low).sum()


def _closure(  # type: ignore[no-untyped-def]
    plain, aimed, edges: dict[int, list[float]], energy: tuple[int, ...], min_gain: float
) -> None:
    """``aimed`` (a stratum drawn with a channel aimed at its region) against ``plain`` (the
    same region by rejection from the plain sampler): the same cross section, lab polar
    angles [deg] of the slots in ``edges`` (bins where each carries cross section: a bin of
    1e-4 of it holds a handful of events, whose spread chi2 does not see) and the summed
    energy of the photon slots ``energy`` within MC errors, and > ``min_gain`` times the
    effective events per trial."""
    from mlsearch.physics.kinematics import polar_angle

    err = np.hypot(plain.cross_section_err_fb, aimed.cross_section_err_fb)
    assert abs(aimed.cross_section_fb - plain.cross_section_fb) < 4 * err
    (x0, w0), (x1, w1) = ((polar_angle(r.p4), r.weight_fb) for r in (plain, aimed))
    for slot, bins in edges.items():
        k = len(bins) - 1
        assert _chi2(x0[:, slot], w0, x1[:, slot], w1, np.radians(bins)) < k + 4 * np.sqrt(2 * k)
    bins = np.array([0, 1e-3, 0.03, 0.3, 1.0, 2.0, 11.0])
    e0, e1 = (r.p4[:, list(energy), 0].sum(axis=1) for r in (plain, aimed))
    assert _chi2(e0, w0, e1, w1, bins) < 6 + 4 * np.sqrt(12)

    def per_trial(r) -> float:  # type: ignore[no-untyped-def]
        return float(
            r.weight_fb.sum() ** 2 / (r.weight_fb**2).sum() * r.efficiency / len(r.weight_fb)
        )

    assert per_trial(aimed) > min_gain * per_trial(plain)


def test_aimed_strata_are_unbiased() -> None:
    """The two strata drawn with a channel aimed at their region, each against the plain
    sampler restricted to that region by rejection (same cross section and distributions,
    more effective events per trial): the Bhabha channel with both leptons in the ring
    (born_ring_stratum 2, 13 nb: the band channel, ISR with the returning channel; measured
    14x the effective events per trial, and for the ALP preselection's events 4x the N_eff
    at equal events, docs/validation.md) and the radiative Compton region with the seen
    lepton and the photon in the ring (COMPTON_RING, 0.7 nb: photons in the ring bands; 3x
    per trial)."""
    from mlsearch.generate import bhabha
    from mlsearch.generate.unweight import weighted_events

    plain = weighted_events("x", 20_000, 7, bhabha._bhabha_in(2, aimed=False))
    aimed = weighted_events("x", 20_000, 8, bhabha._bhabha_in(2))
    assert 12e6 < plain.cross_section_fb < 14.5e6  # 13.2 nb measured (2e5 events)
    forward, backward = [12, 13, 14, 15, 16, 17], [150, 151, 152, 153, 154, 155.2]
    _closure(plain, aimed, {0: [*forward, 150, 155.2], 1: [12, 17, *backward]}, (2, 3), 8)
    compton_ring = bhabha.COMPTON_RING
    plain = weighted_events("x", 10_000, 7, bhabha._radiative_in(compton_ring, aimed=False))
    aimed = weighted_events("x", 10_000, 8, bhabha._radiative_in(compton_ring))
    assert 0.6e6 < plain.cross_section_fb < 0.85e6  # 0.71 nb measured (3e4 events)
    ring = [0, 12.4, 13, 14, 15, 16, 17, 150, 152, 154, 155.2, 180]
    _closure(plain, aimed, {0: ring, 1: ring, 2: ring}, (2,), 2)


def test_single_cluster_strata_are_unbiased() -> None:
    """The three single-cluster strata of the e e background of the single-photon search
    (the seen particle within SINGLE_THETA_DEG, 20-141 deg lab), each against the plain
    sampler restricted to its region by rejection: the same cross section, lab angles of
    the three particles and photon energy within MC errors, and more effective events per
    trial (docs/validation.md). SINGLE: both leptons down the beam pipe, the photon in the
    ECL above 2 GeV (91 pb), drawn by the cone channels (the leptons first, the photon from
    conservation: 40x per trial measured on the dark-photon search's region); SINGLE_LEPTON:
    a lepton in the ECL above 2 GeV, the other and the photon down the pipe (0.22 nb), drawn
    by its cone channels, the photon and the lost lepton first (7.3x; its old draw, the
    photons aimed at the beam-pipe bands, gave 3.1x and fails this); the Bhabha channel's
    BORN_SINGLE: a lepton in the ECL with 2-4.5 GeV, the other down the pipe (1.5 nb), the
    one-returning ISR channel and 70 % of the angles from the pipe channel's t-channel side
    (36x)."""
    from mlsearch.generate import bhabha
    from mlsearch.generate.unweight import weighted_events

    past = [0, 1, 2, 4, 8, 12.4, 155.1, 160, 165, 170, 175, 180]
    # the e- past the forward endcap and the e+ past the backward one: each lepton on the
    # other side holds 0.2 % of SINGLE's cross section, a handful of events in either sample
    # (their weights' spread is not Gaussian there; the cross section check covers them)
    forward, backward = past[:6], past[6:]
    ecl = [20, 25, 31.4, 60, 100, 130.7, 135, 141]
    cases = (
        (bhabha.SINGLE, (0.8e5, 1.0e5), {0: forward, 1: backward, 2: ecl}, 10, 5_000),  # 91 pb
        (bhabha.SINGLE_LEPTON, (1.9e5, 2.45e5), {2: past}, 4, 10_000),  # 0.22 nb
    )
    for stratum, (low, high), edges, gain, n_plain in cases:
        trial = bhabha._radiative_in(stratum, False, False, True)
        plain = weighted_events("x", n_plain, 7, trial)
        aimed = weighted_events("x", 20_000, 8, bhabha._radiative_in(stratum, True, False, True))
        assert low < plain.cross_section_fb < high
        _closure(plain, aimed, edges, (2,), gain)
    born = bhabha.BORN_SINGLE
    plain = weighted_events("x", 3_000, 7, bhabha._bhabha_in(born, False, False, True))
    aimed = weighted_events("x", 20_000, 8, bhabha._bhabha_in(born, True, False, True))
    assert 1.2e6 < plain.cross_section_fb < 1.8e6  # 1.50 nb measured (1.2e4 events)
    # each lepton on its beam's side (the other side: 0.4 % of the cross section, where the
    # plain sample's weights reach 100-500x their mean - e+ seen at 20-30 deg: 5.96 +- 0.98
    # pb with 1.2x10^7 plain trials, 6.57 +- 0.34 aimed - and 3x10^3 events miss it)
    electron = [0, 5, 8, 10, 12.4, 20, 30, 60, 90]
    positron = [90, 120, 141, 155.1, 160, 165, 170, 180]
    _closure(plain, aimed, {0: electron, 1: positron}, (2, 3), 5)


def test_single_share_is_unbiased() -> None:
    """An e e sample with 80 % of its events in the single-cluster strata and those regions
    left out of the rest, against the plain sample: the same radiative cross section; in
    each region (the photon seen within 20-141 deg, both leptons down the beam pipe; a
    lepton seen there, the other and the photon down the pipe) the same yield within MC
    errors, and for the radiative events > 15x the effective MC luminosity of the plain
    sample's radiative half."""
    from mlsearch.features.common import cms_frame
    from mlsearch.generate import bhabha
    from mlsearch.generate.bhabha_lost import E_LOST_MIN, past_ecl
    from mlsearch.physics.kinematics import polar_angle

    plain = bhabha.generate_ee(100_000, 41, energy_spread=False)
    split = bhabha.generate_ee(100_000, 42, energy_spread=False, single_share=0.8)
    meta = split.metadata
    assert (meta["n_bhabha"], meta["single_share"]) == (10_000 + 20_000, 0.8)
    assert meta["sigma_single_fb"] < meta["sigma_single_lepton_fb"] < meta["sigma_radiative_fb"]
    rad0, rad1 = plain.metadata["sigma_radiative_fb"], meta["sigma_radiative_fb"]
    w0_rad = plain.weight[plain.metadata["n_bhabha"] :]
    err = np.hypot(np.sqrt((w0_rad**2).sum() - (w0_rad.sum() ** 2) / len(w0_rad)), 0.01 * rad1)
    assert abs(rad1 - rad0) < 4 * err

    def regions(sample):  # type: ignore[no-untyped-def]
        theta = polar_angle(sample.p4[:, :3])
        e_star = cms_frame().to_cms(sample.p4[:, :3].reshape(-1, 4))[:, 0].reshape(-1, 3)
        seen = bhabha._seen_single(theta) & (e_star >= E_LOST_MIN)  # nominal beams: trials' CM
        past = past_ecl(theta)
        photon = past[:, :2].all(axis=1) & seen[:, 2]
        lepton = ((seen[:, 0] & past[:, 1]) | (seen[:, 1] & past[:, 0])) & past[:, 2]
        radiative = np.arange(len(sample.weight)) >= sample.metadata["n_bhabha"]
        return [(sample.weight[m], sample.weight[m & radiative]) for m in (photon, lepton)]

    for (w0, r0), (w1, r1) in zip(regions(plain), regions(split), strict=True):
        assert abs(w1.sum() - w0.sum()) < 4 * np.sqrt((w0**2).sum() + (w1**2).sum())
        assert r1.sum() / (r1**2).sum() > 15 * r0.sum() / (r0**2).sum()
    # the Bhabha channel's pairs with a lepton seen at 2-4.5 GeV within 20-141 deg and the
    # other down the pipe (1.5 nb; 16 000 events here): > 10x
    lab_w = []
    for sample in (plain, split):
        n_born = sample.metadata["n_bhabha"]
        theta = polar_angle(sample.p4[:n_born, :2])
        e_star = cms_frame().to_cms(sample.p4[:n_born, :2].reshape(-1, 4))[:, 0].reshape(-1, 2)
        seen = bhabha._seen_single(theta) & (e_star >= E_LOST_MIN)
        seen &= e_star < bhabha.E_BORN_SINGLE_MAX
        past = past_ecl(theta)
        lab_w.append(sample.weight[:n_born][(seen[:, 0] & past[:, 1]) | (seen[:, 1] & past[:, 0])])
    w0, w1 = lab_w
    assert abs(w1.sum() - w0.sum()) < 4 * np.sqrt((w0**2).sum() + (w1**2).sum())
    assert w1.sum() / (w1**2).sum() > 10 * w0.sum() / (w0**2).sum()


def test_ring_share_reaches_the_ee_generator_through_the_pipeline(tmp_path: Path) -> None:
    """`ring_share` on the ALP profile's e e: a sample job of its own cache key, and its
    partitions draw that share of the events in the ring (the generator's metadata says so)."""
    from mlsearch.config import load_config
    from mlsearch.io.events import EventDataset
    from mlsearch.pipeline.generate import _generate_partition, _partitions
    from mlsearch.pipeline.samples import sample_jobs

    profile = Path(__file__).parents[1] / "configs" / "profiles" / "alp_small.yaml"
    plain, ringed = (
        load_config(profile, [f"workdir={tmp_path}", *extra])
        for extra in ([], ["generate.backgrounds.1.ring_share=0.9"])
    )
    job0, job = sample_jobs(plain)[-1], sample_jobs(ringed)[-1]
    assert (job.process, job0.topology_share, job.topology_share) == ("ee", 0.0, 0.9)
    assert job.key != job0.key
    dataset = EventDataset(job.path, job.key).prepare()
    summary = _generate_partition(_partitions(ringed, job, dataset)[0])
    assert summary["metadata"]["ring_share"] == 0.9
    assert 0 < summary["metadata"]["sigma_ring_fb"] < summary["metadata"]["sigma_radiative_fb"]


def test_single_share_reaches_the_ee_generator_through_the_pipeline(tmp_path: Path) -> None:
    """`single_share` with `ring_share` on the ALP profile's e e: its own cache key, both
    reach the partitions, and the strata split the radiative events (the generator's
    metadata); a share sum of 1 is a config error naming both keys."""
    from mlsearch.config import load_config
    from mlsearch.io.events import EventDataset
    from mlsearch.pipeline.generate import _generate_partition, _partitions
    from mlsearch.pipeline.samples import sample_jobs

    profile = Path(__file__).parents[1] / "configs" / "profiles" / "alp_small.yaml"
    ring = ["generate.backgrounds.1.ring_share=0.5"]
    both = [*ring, "generate.backgrounds.1.single_share=0.3"]
    plain, split = (load_config(profile, [f"workdir={tmp_path}", *extra]) for extra in (ring, both))
    job0, job = sample_jobs(plain)[-1], sample_jobs(split)[-1]
    assert (job.topology_share, job0.single_share, job.single_share) == (0.5, 0.0, 0.3)
    assert job.key != job0.key
    dataset = EventDataset(job.path, job.key).prepare()
    meta = _generate_partition(_partitions(split, job, dataset)[0])["metadata"]
    assert (meta["ring_share"], meta["single_share"]) == (0.5, 0.3)
    assert 0 < meta["sigma_single_fb"] < meta["sigma_radiative_fb"]
    with pytest.raises(ConfigError, match="ring_share \\+ single_share must be below 1"):
        load_config(profile, [*both[:1], "generate.backgrounds.1.single_share=0.5"])


def test_gg_single_share_and_filter_reach_the_generator_through_the_pipeline(
    tmp_path: Path,
) -> None:
    """`single_share` and `single_photon_filter` on the dark-photon profile's gamma gamma:
    their own cache key, the generator's metadata names the share, the part holds the kept
    events only and the sample's metadata counts them."""
    from mlsearch.config import load_config
    from mlsearch.io.events import EventDataset, read_events
    from mlsearch.pipeline.generate import _generate_partition, _partitions, _sample_summary
    from mlsearch.pipeline.samples import sample_jobs

    profile = Path(__file__).parents[1] / "configs" / "profiles" / "dark_photon_small.yaml"
    aimed = [
        "generate.backgrounds.0.single_share=0.5",
        "generate.backgrounds.0.single_photon_filter={e_min: 0.5, veto_e: 1.0}",
    ]
    plain, config = (load_config(profile, [f"workdir={tmp_path}", *x]) for x in ([], aimed))
    job0 = next(j for j in sample_jobs(plain) if j.name == "gg")
    job = next(j for j in sample_jobs(config) if j.name == "gg")
    assert job.single_share == 0.5 and job.key != job0.key
    with pytest.raises(
        ConfigError, match=re.escape("it needs e_min <= features.single_photon_e_min")
    ):
        load_config(profile, [*aimed, "generate.backgrounds.0.single_photon_filter={e_min: 0.8}"])
    with pytest.raises(
        ConfigError, match=re.escape("veto_e >= features.second_photon_e_max (1.0)")
    ):
        load_config(profile, ["generate.backgrounds.0.single_photon_filter={veto_e: 0.9}"])
    dataset = EventDataset(job.path, job.key).prepare()
    part = _partitions(config, job, dataset)[0]
    summary = _generate_partition(part)
    assert summary["metadata"]["single_share"] == 0.5
    assert 0.1 * summary["n"] < summary["n_kept"] < 0.5 * summary["n"]
    events, _ = read_events(part.out)
    assert len(events) == summary["n_kept"]
    meta = _sample_summary(job, [summary], {})
    assert meta["single_photon_filter"] == {"e_min": 0.5, "veto_e": 1.0, "kept": len(events)}


@pytest.mark.parametrize(
    ("index", "process", "override", "expected"),
    [(0, "mumu", "escape_share=0.15", "escape share 0.15"),
     (2, "eemumu", "hard_photon_share=0.05", 0.05)],
)  # fmt: skip
def test_zprime_channels_reach_the_generator_through_the_pipeline(  # type: ignore[no-untyped-def]
    tmp_path: Path, index, process, override, expected
) -> None:
    """`escape_share` (mu mu) and `hard_photon_share` (e e mu mu) on the Z' profile: their own
    cache key, and the generator's metadata of a generated part names the share."""
    from mlsearch.config import load_config
    from mlsearch.io.events import EventDataset
    from mlsearch.pipeline.generate import _generate_partition, _partitions
    from mlsearch.pipeline.samples import sample_jobs

    profile = Path(__file__).parents[1] / "configs" / "profiles" / "zprime_invisible_small.yaml"
    options = [f"workdir={tmp_path}", f"generate.backgrounds.{index}.n_events=20000"]
    plain = load_config(profile, options)
    config = load_config(profile, [*options, f"generate.backgrounds.{index}.{override}"])
    job0 = next(j for j in sample_jobs(plain) if j.name == process)
    job = next(j for j in sample_jobs(config) if j.name == process)
    assert job.key != job0.key
    part = _partitions(config, job, EventDataset(job.path, job.key).prepare())[0]
    metadata = _generate_partition(part)["metadata"]
    if process == "mumu":
        assert expected in metadata["importance_sampling"]
    else:
        assert metadata["hard_photon_share"] == expected


def _soft_pairs(share: float, seed: int, hard: float = 0.0):  # type: ignore[no-untyped-def]
    """An e e mu mu sample (both muons in the CDC), the events the Z' pair filter keeps, the
    truth recoil mass^2 of their muon pair [GeV^2] (nominal CM frame) and their weights."""
    from mlsearch.config import SimulateConfig
    from mlsearch.features.common import cms_frame
    from mlsearch.generate.filters import ChargedFilter
    from mlsearch.generate.two_photon import generate_eemumu
    from mlsearch.physics.acceptance import TrackAcceptance

    acceptance = TrackAcceptance(pt_min=SimulateConfig().track_pt_min)
    sample = generate_eemumu(300_000, seed, True, acceptance, share, hard)
    keep = ChargedFilter(2, 0.5, 0.15).keep(sample.pdg, sample.p4)
    frame = cms_frame()
    pair = frame.to_cms(sample.p4[keep, 2]) + frame.to_cms(sample.p4[keep, 3])
    recoil = invariant_mass2(frame.initial_cms - pair)
    electrons = sample.p4[keep, :2]
    theta = np.degrees(np.arccos(electrons[..., 3] / np.linalg.norm(electrons[..., 1:], axis=-1)))
    lost = ((theta < 12.4) | (theta > 155.1)).all(axis=1)  # neither electron in the ECL
    pt = np.hypot(pair[:, 1], pair[:, 2])
    return sample, keep, recoil, pt, lost, sample.weight[keep]


def test_eemumu_soft_pair_channel_is_unbiased_and_fills_the_high_recoil_masses() -> None:
    """e e mu mu with 40 % of its trials in the soft-pair channel against the plain sampler:
    the same cross section, the same yield per recoil-mass^2 bin of the pairs the Z' filter
    keeps (chi2 over 8 bins), and at recoil masses of 7-8 GeV with pT* > 0.3 GeV and
    neither electron in the ECL (what the selection keeps) > 2.5x the effective MC
    luminosity per filtered event (3.6x measured; plain: 0.84x10^-6 fb^-1 per event there)."""
    plain, keep0, x0, pt0, lost0, w0 = _soft_pairs(0.0, 21)
    aimed, keep1, x1, pt1, lost1, w1 = _soft_pairs(0.4, 22)
    assert aimed.metadata["soft_pair_share"] == 0.4
    err = np.hypot(plain.cross_section_err_fb, aimed.cross_section_err_fb)
    assert abs(aimed.cross_section_fb - plain.cross_section_fb) < 4 * err
    edges = np.array([0, 4, 16, 25, 36, 49, 56, 64, 72.0])
    assert _chi2(x0, w0, x1, w1, edges) < 20  # 8 bins: P(chi2 > 20) = 1 %

    def lumi_per_event(x, pt, lost, w, keep):  # type: ignore[no-untyped-def]
        high = (x > 49) & (x < 64) & (pt > 0.3) & lost
        return w[high].sum() / (w[high] ** 2).sum() / keep.sum()

    gain = lumi_per_event(x1, pt1, lost1, w1, keep1) / lumi_per_event(x0, pt0, lost0, w0, keep0)
    assert gain > 2.5


ESCAPE_EVENTS = 300_000


def test_eemumu_hard_photon_channel_is_unbiased_and_fills_the_low_recoil_masses() -> None:
    """e e mu mu as the Z' config draws it (soft pairs 0.7, hard photons 0.05) against soft
    pairs alone (0.7): the same cross section, the same yield per recoil-mass^2 bin of the
    pairs the Z' filter keeps (chi2 over 9 bins), and at recoil masses of 1-2 GeV (heavy
    pairs near the beam energy) with pT* > 0.3 GeV and neither electron in the ECL (what the
    selection keeps) > 2.2x the effective MC luminosity per event (3.2x measured; 1.7x at
    2-3.5 GeV, which the soft pairs' x1 + x2 of 1-1.2 also reach)."""
    plain, _, x0, pt0, lost0, w0 = _soft_pairs(0.7, 23)
    aimed, _, x1, pt1, lost1, w1 = _soft_pairs(0.7, 24, 0.05)
    assert aimed.metadata["hard_photon_share"] == 0.05
    err = np.hypot(plain.cross_section_err_fb, aimed.cross_section_err_fb)
    assert abs(aimed.cross_section_fb - plain.cross_section_fb) < 4 * err
    edges = np.array([-1, 1, 4, 12, 25, 36, 49, 56, 64, 72.0])
    assert _chi2(x0, w0, x1, w1, edges) < 22  # 9 bins: P(chi2 > 22) = 1 %

    def lumi_per_event(x, pt, lost, w):  # type: ignore[no-untyped-def]
        low = (x > 1) & (x < 4) & (pt > 0.3) & lost
        return w[low].sum() / (w[low] ** 2).sum()

    assert lumi_per_event(x1, pt1, lost1, w1) > 2.2 * lumi_per_event(x0, pt0, lost0, w0)


def _escape(share: float, seed: int):  # type: ignore[no-untyped-def]
    """A mu mu sample and, of the events the Z' pair filter keeps, their muon pair's truth recoil
    mass^2 [GeV^2] and pT* [GeV] (nominal CM frame), whether a photon above 0.4 GeV (lab)
    reaches the ECL outside its gaps, and the weights."""
    from mlsearch.features.common import cms_frame
    from mlsearch.generate.filters import ChargedFilter
    from mlsearch.generate.mumu import generate_mumu
    from mlsearch.physics.acceptance import ECL_THETA_DEG

    sample = generate_mumu(ESCAPE_EVENTS, seed, True, share)
    keep = ChargedFilter(2, 0.5, 0.15).keep(sample.pdg, sample.p4)
    frame = cms_frame()
    p4 = sample.p4[keep]
    pair = frame.to_cms(p4[:, 0]) + frame.to_cms(p4[:, 1])
    recoil = invariant_mass2(frame.initial_cms - pair)
    photons = p4[:, 2:]
    energy = photons[..., 0]
    theta = np.degrees(np.arccos(np.clip(photons[..., 3] / np.maximum(energy, 1e-12), -1, 1)))
    in_ecl = np.zeros(energy.shape, dtype=bool)
    for low, high in ECL_THETA_DEG:
        in_ecl |= (theta > low) & (theta < high)
    seen = (in_ecl & (energy > 0.4)).any(axis=1)
    return sample, recoil, np.hypot(pair[:, 1], pair[:, 2]), seen, sample.weight[keep]


def test_mumu_escape_channel_is_unbiased_and_fills_the_lowest_recoil_masses() -> None:
    """mu mu with 45 % of its events drawn by the escape channel (one ISR photon aimed past the
    ECL's edges, at its gaps or soft into its barrel; or soft ISR and one muon's FSR photon
    aimed at 4-15 % of its energy) against the default sampler (different seeds): the same
    cross section, the same yield per truth recoil-mass^2 bin of the pairs with pT* > 0.3 GeV
    the Z' filter keeps (chi2 over 6 bins, photons seen or not), the same pT* spectrum of
    those with no photon in the ECL at recoil masses^2 below 0.8 GeV^2 (the 0.5 GeV window's
    background; chi2 over 8 bins), and there > 3.4x the effective MC luminosity per
    generated event (4.2x measured)."""
    plain, x0, pt0, seen0, w0 = _escape(0.0, 31)
    aimed, x1, pt1, seen1, w1 = _escape(0.45, 32)
    assert "escape share 0.45" in aimed.metadata["importance_sampling"]
    err = np.hypot(plain.cross_section_err_fb, aimed.cross_section_err_fb)
    assert abs(aimed.cross_section_fb - plain.cross_section_fb) < 4 * err
    edges = np.array([-1, 0.8, 4, 16, 36, 64, 100.0])
    hard0, hard1 = pt0 > 0.3, pt1 > 0.3
    assert _chi2(x0[hard0 & seen0], w0[hard0 & seen0], x1[hard1 & seen1], w1[hard1 & seen1],
                 edges) < 17  # 6 bins: P(chi2 > 17) = 1 %  # fmt: skip
    lost0, lost1 = hard0 & ~seen0, hard1 & ~seen1
    assert _chi2(x0[lost0], w0[lost0], x1[lost1], w1[lost1], edges) < 17
    low0, low1 = lost0 & (x0 < 0.8), lost1 & (x1 < 0.8)
    pt_edges = np.array([0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.5, 2.5, 6])
    assert _chi2(pt0[low0], w0[low0], pt1[low1], w1[low1], pt_edges) < 20  # P(> 20.1) = 1 %

    def lumi(w, low):  # type: ignore[no-untyped-def]
        return w[low].sum() / (w[low] ** 2).sum()

    assert lumi(w1, low1) > 3.4 * lumi(w0, low0)


@pytest.mark.parametrize(
    ("process", "options", "pair_pt_min", "kept_max", "vetoed_min"),
    [("tautau", {"tau_modes": {"mu": 0.6, "pi": 0.15}}, None, 0.65, 0.08),
     ("mumu", {}, 0.15, 0.25, 0.3), ("eemumu", {"in_acceptance": True}, 0.15, 0.4, 0.01)],
)  # fmt: skip
def test_charged_filter_drops_no_event_the_zprime_selection_keeps(  # type: ignore[no-untyped-def]
    process, options, pair_pt_min, kept_max, vetoed_min
):
    """Simulate and select the unfiltered sample: every selected event is one the filter (as
    the default config sets it, with the extra-ECL veto at the selection's 0.4 GeV) keeps,
    so filtering before the simulation changes no selected yield or distribution, while the
    filter drops a real share of the events, and the veto a real share of what the charged
    part keeps (mu mu: 36 %, tau tau: 13 %, e e mu mu: 4 % measured). A pair cut at the
    selection's own 0.3 GeV, without the margin, would lose selected events (the resolution
    moves pairs across it), as would a veto on photons of 0.2 GeV (a 0.1 GeV cut)."""
    from mlsearch.config import FeaturesConfig, SimulateConfig
    from mlsearch.detector import simulate_events
    from mlsearch.features import get_builder
    from mlsearch.generate import generate_process
    from mlsearch.generate.filters import ChargedFilter
    from mlsearch.io.events import truth_to_awkward
    from mlsearch.physics.acceptance import TrackAcceptance

    options = dict(options)
    if options.pop("in_acceptance", False):  # e e mu mu: both muons in the CDC, as configs do
        options["acceptance"] = TrackAcceptance(pt_min=SimulateConfig().track_pt_min)
    sample = generate_process(process, 150_000, 5, **options)
    cut = FeaturesConfig().extra_ecl_max
    keep = ChargedFilter(2, 0.5, pair_pt_min, cut).keep(sample.pdg, sample.p4)
    charged = ChargedFilter(2, 0.5, pair_pt_min).keep(sample.pdg, sample.p4)
    reco = simulate_events(truth_to_awkward(sample), SimulateConfig(), np.random.default_rng(6))
    table = get_builder("zprime_invisible").build(reco, FeaturesConfig())
    assert len(table) > 1000
    selected = table["event"].to_numpy()
    assert keep[selected].all()
    assert keep.mean() < kept_max
    assert keep.sum() < (1 - vetoed_min) * charged.sum()
    assert not ChargedFilter(2, 0.5, pair_pt_min, 0.1).keep(sample.pdg, sample.p4)[selected].all()
    if pair_pt_min is not None:
        at_cut = ChargedFilter(2, 0.5, FeaturesConfig().dimuon_pt_min)
        assert not at_cut.keep(sample.pdg, sample.p4)[selected].all()


@pytest.mark.parametrize(
    ("process", "options", "track_loss", "kept_max"),
    [("gg", {"topology_share": 0.5, "single_share": 0.5}, None, 0.4),
     ("ee", {"single_share": 0.5}, 0.5, 0.75)],
)  # fmt: skip
def test_single_photon_filter_drops_no_event_the_dark_photon_selection_keeps(  # type: ignore[no-untyped-def]
    process, options, track_loss, kept_max
):
    """The dark-photon selection on the unfiltered, simulated sample: every selected event is
    one SinglePhotonFilter(0.5, 1.0) keeps (it drops events with every photon and electron
    lost, or two clear ones), while it drops a real share of the generated events (of the e e
    sample aimed at the single-cluster regions, less)."""
    from mlsearch.config import FeaturesConfig, SimulateConfig
    from mlsearch.detector import simulate_events
    from mlsearch.features import get_builder
    from mlsearch.generate import generate_process
    from mlsearch.generate.filters import SinglePhotonFilter
    from mlsearch.io.events import truth_to_awkward

    sample = generate_process(process, 150_000, 5, **options)
    keep = SinglePhotonFilter(0.5, 1.0).keep(sample.pdg, sample.p4)
    reco = simulate_events(
        truth_to_awkward(sample), SimulateConfig(), np.random.default_rng(6), None, track_loss
    )
    table = get_builder("dark_photon").build(reco, FeaturesConfig())
    assert len(table) > 1000
    assert keep[table["event"].to_numpy()].all()
    assert keep.mean() < kept_max


@pytest.mark.slow
def test_filtered_sample_keeps_its_events_and_says_how_many(small_run: Path):
    """The small profile filters tau tau: the file holds the kept events with their own
    weights, and its metadata the generated count and the kept one."""
    import awkward as ak

    from mlsearch.io.events import read_events, read_metadata

    path = small_run / "data" / "zprime_invisible" / "events" / "tautau.parquet"
    meta = read_metadata(path)
    kept = meta["charged_filter"]["kept"]
    assert meta["charged_filter"]["count"] == 2
    assert 0.3 * meta["n_events"] < kept < 0.9 * meta["n_events"]
    events, _ = read_events(path)
    assert len(events) == kept
    assert ak.sum(events.weight) < meta["cross_section_fb"]


def test_weighted_events_count_the_trials_up_to_the_last_event_kept() -> None:
    """A weighted sample stops counting trials at its last event: a heavy trial in the unused
    tail of the last chunk neither enters the cross section nor inflates the kept weights
    (rescaling the kept weights to the whole chunk's mean had multiplied them 1 000x)."""
    from mlsearch.generate.unweight import weighted_events

    def trial(beams, rng):  # type: ignore[no-untyped-def]
        n = beams.sqrt_s.shape[0]
        w = np.where(np.arange(n) % 2 == 0, 1.0, 0.0)  # every other trial in phase space
        w[-1] = 1e6  # a heavy trial at the end of the chunk
        return np.tile(np.array([1.0, 0.0, 0.0, 0.0]), (n, 2, 1)), w

    sample = weighted_events("toy", 300, 1, trial, chunk=1000, energy_spread=False)
    # 300 events: trials 0, 2, ..., 598 -> 599 trials counted
    assert len(sample.weight_fb) == 300
    np.testing.assert_allclose(sample.weight_fb, GEV2_TO_FB / 599)
    np.testing.assert_allclose(sample.cross_section_fb, 300 * GEV2_TO_FB / 599)
    assert sample.efficiency == pytest.approx(300 / 599)
    # over two chunks the first chunk's heavy trial is kept (501 events there), the second
    # chunk counted up to its 299th event (trial 596)
    two = weighted_events("toy", 800, 1, trial, chunk=1000, energy_spread=False)
    assert two.weight_fb.max() == pytest.approx(1e6 * GEV2_TO_FB / (1000 + 597))
    np.testing.assert_allclose(two.weight_fb.sum(), two.cross_section_fb)
