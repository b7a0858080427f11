"""The generators of the four searches: cross sections against independent calculations or
published values, exact kinematics, conservation laws and coupling scaling."""

import math

import numpy as np
import pytest
from scipy import integrate

from mlsearch.errors import ConfigError
from mlsearch.generate import PROCESSES, generate_process
from mlsearch.io.truth import PDG_ALP
from mlsearch.physics.acceptance import TrackAcceptance
from mlsearch.physics.constants import ALPHA_EM, GEV2_TO_FB, M_E
from mlsearch.physics.kinematics import beam_four_momenta, boost, cms_boost_vector, invariant_mass2
from mlsearch.physics.qed_me import dark_photon_dsigma_dcos
from mlsearch.validation.references import PUBLISHED_FB, collinear_epa_fusion_fb

EM, EP = beam_four_momenta()
S = float(invariant_mass2(EM + EP))
SIGNAL_ARGS = {"mass": 2.0, "coupling": 1.0}


def _cms(p4):
    return boost(p4, cms_boost_vector(EM + EP))


@pytest.mark.parametrize("process", list(PROCESSES))
def test_every_process_conserves_four_momentum_and_is_reproducible(process):
    kwargs = SIGNAL_ARGS if PROCESSES[process].is_signal else {}
    a = generate_process(process, 2000, 3, energy_spread=False, **kwargs)
    b = generate_process(process, 2000, 3, energy_spread=False, **kwargs)
    np.testing.assert_array_equal(a.p4, b.p4)
    assert np.isfinite(a.p4).all() and (a.weight >= 0).all()
    assert a.weight.sum() == pytest.approx(a.cross_section_fb, rel=1e-9)
    final = a.pdg != PDG_ALP  # the ALP slot is the parent of its decay photons
    total = np.where(final[..., None], a.p4, 0.0).sum(axis=1)
    np.testing.assert_allclose(total, np.tile(EM + EP, (2000, 1)), atol=2e-5)  # 1 keV ISR cut


def test_dark_photon_energy_angle_and_cross_section():
    mass = 3.0
    # the Born process (radiation=False): its photon energy is fixed
    sample = generate_process(
        "dark_photon", 50_000, 1, mass=mass, energy_spread=False, radiation=False
    )
    cms = _cms(sample.p4)
    e_expected = (S - mass**2) / (2 * math.sqrt(S))
    np.testing.assert_allclose(cms[:, 0, 0], e_expected, rtol=1e-9)  # two-body photon energy
    np.testing.assert_allclose(np.sqrt(invariant_mass2(cms[:, 1])), mass, rtol=1e-6)
    beta = math.sqrt(1 - 4 * M_E**2 / 10.58**2)
    expected, _ = integrate.quad(
        lambda c: dark_photon_dsigma_dcos(S, mass, c, beta), -1, 1, points=[-0.9999, 0.9999]
    )
    expected *= GEV2_TO_FB
    assert sample.cross_section_fb == pytest.approx(expected, abs=4 * sample.cross_section_err_fb)
    small = generate_process("dark_photon", 1000, 1, mass=mass, coupling=1e-3, radiation=False)
    assert small.cross_section_fb == pytest.approx(1e-6 * expected, rel=0.01)


def test_alp_cross_section_decay_mass_and_displacement():
    mass = 1.0
    sample = generate_process(
        "alp", 20_000, 2, mass=mass, coupling=1e-3, energy_spread=False, radiation=False
    )
    analytic = ALPHA_EM * 1e-6 / 24 * (1 - mass**2 / S) ** 3 * GEV2_TO_FB
    assert sample.cross_section_fb == pytest.approx(analytic, rel=1e-5)  # unweighted: exact
    decay = sample.p4[:, 2] + sample.p4[:, 3]
    np.testing.assert_allclose(np.sqrt(invariant_mass2(decay)), mass, rtol=1e-6)
    assert np.abs(np.linalg.norm(sample.vertex[:, 2], axis=1)).max() < 0.01  # prompt [cm]
    light = generate_process("alp", 20_000, 2, mass=0.05, coupling=1e-5, energy_spread=False)
    gamma_beta = np.linalg.norm(light.p4[:, 1, 1:], axis=1) / 0.05
    ctau = 1.973269804e-14 / (1e-10 * 0.05**3 / (64 * np.pi))  # hbar c / Gamma [cm]
    lengths = np.linalg.norm(light.vertex[:, 2], axis=1)
    assert lengths.mean() == pytest.approx((gamma_beta * ctau).mean(), rel=0.03)


def test_alp_photon_fusion_matches_the_collinear_epa_integral(monkeypatch):
    import mlsearch.generate.two_photon as tp

    mass = 1.0
    # quasi-real photons: the exact kinematics must reproduce the collinear EPA integral
    monkeypatch.setattr(tp, "Q2_MAX_FRACTION", 1e-4)
    sample = tp.generate_alp_fusion(100_000, mass, 1.0, 1, energy_spread=False)
    expected = collinear_epa_fusion_fb(S, mass, 1e-4 * mass**2)
    assert sample.cross_section_fb == pytest.approx(expected, rel=0.02)
    np.testing.assert_allclose(np.sqrt(invariant_mass2(sample.p4[:, 2])), mass, rtol=1e-5)


def test_eemumu_cross_section_near_the_belle2_aafh_value():
    sample = generate_process("eemumu", 100_000, 4, energy_spread=False)
    # Belle II physics book (PTEP 2019 123C01), AAFH, W_mumu > 0.5 GeV: 18.9 nb
    assert sample.cross_section_fb == pytest.approx(PUBLISHED_FB["eemumu"][0], rel=0.1)
    w = np.sqrt(invariant_mass2(sample.p4[:, 2] + sample.p4[:, 3]))
    assert w.min() > 0.5
    cos_e = np.abs(sample.p4[:, :2, 3]) / np.linalg.norm(sample.p4[:, :2, 1:], axis=-1)
    assert np.average((cos_e > np.cos(np.radians(12.4))).all(axis=1), weights=sample.weight) > 0.8


def test_gamma_gamma_two_photon_part_is_the_analytic_integral():
    sample = generate_process("gg", 40_000, 5, energy_spread=False)
    beta = math.sqrt(1 - 4 * M_E**2 / 10.58**2)
    log = math.log((1 + beta) / (1 - beta))
    # 1/2 int (1 + c^2)/(1 - beta^2 c^2) dc over [-1, 1] in closed form
    closed = 0.5 * (log / beta * (1 + 1 / beta**2) - 2 / beta**2)
    expected = 2 * math.pi * ALPHA_EM**2 / S * closed * GEV2_TO_FB
    two = sample.metadata["sigma_2gamma_fb"]
    assert two == pytest.approx(expected, rel=0.005)
    assert two / 1e6 == pytest.approx(
        2 * math.pi * ALPHA_EM**2 / S * (math.log(S / M_E**2) - 1) * GEV2_TO_FB / 1e6, rel=1e-3
    )


def test_three_photon_sampler_agrees_with_flat_phase_space():
    from mlsearch.generate import gg
    from mlsearch.generate.phase_space import rambo_massless
    from mlsearch.physics.beams import sample_beams
    from mlsearch.physics.qed_me import me2_three_photons

    importance = gg.generate_gg(60_000, 6, energy_spread=False).metadata["sigma_3gamma_fb"]
    rng = np.random.default_rng(9)
    n = 1_000_000
    sqrt_s = sample_beams(n, rng, False).sqrt_s
    k = rambo_massless(sqrt_s, 3, rng)
    zero = np.zeros(n)
    pm = np.stack([sqrt_s / 2, zero, zero, sqrt_s / 2], axis=-1)
    pp = pm * np.array([1, 1, 1, -1])
    c_max = math.cos(math.radians(gg.THETA3_MIN))
    inside = ((k[..., 0] > gg.E3_MIN) & (np.abs(k[..., 3] / k[..., 0]) < c_max)).all(axis=1)
    w = np.where(inside, me2_three_photons(pp, pm, k[:, 0], k[:, 1], k[:, 2]), 0.0)
    w = w / (2 * S) / 6 * S / (256 * np.pi**3) * GEV2_TO_FB
    flat, flat_err = w.mean(), w.std() / math.sqrt(n)
    assert importance == pytest.approx(flat, abs=4 * flat_err + 0.01 * flat)


def test_bhabha_cross_section_near_babayaga_and_radiative_photon_inside_cuts():
    from mlsearch.generate import bhabha

    sample = generate_process("ee", 100_000, 7, energy_spread=False)
    # Belle II physics book: e+e- -> e+e-(gamma), 10 < theta*_e < 170 deg, BabaYaga@NLO 300 nb:
    # both channels together (hard wide-angle ISR lives in the radiative one only)
    cms = _cms(sample.p4)
    cos_leptons = cms[:, :2, 3] / np.linalg.norm(cms[:, :2, 1:], axis=-1)
    inside = (np.abs(cos_leptons) < math.cos(math.radians(10))).all(axis=1)
    # 3 % for the leading-log ISR against NLO, and the sample's own MC error (1.6 % here)
    w = sample.weight[inside]
    tolerance = 0.03 * PUBLISHED_FB["ee"][0] + 3 * math.sqrt((w**2).sum())
    assert w.sum() == pytest.approx(PUBLISHED_FB["ee"][0], abs=tolerance)
    rad = _cms(sample.p4[50_000:])
    k = rad[:, 2]
    assert (k[:, 0] > bhabha.E_GAMMA_MIN).all()
    cos_k = np.abs(k[:, 3] / k[:, 0])
    # (the CM frame of the lab boost has its z axis 6 mrad off the beam axis of the generator)
    assert cos_k.max() < math.cos(math.radians(bhabha.THETA_GAMMA_MIN - 0.5))
    # the single-photon configuration exists: both leptons outside the ECL (CM < 12 deg)
    cos_e = np.abs(rad[:, :2, 3]) / np.linalg.norm(rad[:, :2, 1:], axis=-1)
    lost = (cos_e > math.cos(math.radians(12))).all(axis=1)
    assert 0.3 < np.average(lost, weights=sample.weight[50_000:]) < 0.9


def test_lfv_zprime_is_the_zprime_rate_per_charge_state_at_high_mass():
    lfv = generate_process("lfv_zprime", 20_000, 8, mass=5.0, energy_spread=False)
    zp = generate_process("zprime", 20_000, 8, mass=5.0, invisible_br="one", energy_spread=False)
    # the lepton masses do not matter at M = 5 GeV: each charge state is the mu mu Z' rate
    assert lfv.cross_section_fb / 2 == pytest.approx(zp.cross_section_fb, rel=0.03)
    pairs = {tuple(r) for r in lfv.pdg[:, :2]}
    assert pairs == {(13, -11), (11, -13)}
    assert (lfv.pdg[:, :2] == (13, -11)).all(axis=1).mean() == pytest.approx(0.5, abs=1e-3)
    with pytest.raises(ConfigError, match="mu -> e Z' decay"):
        generate_process("lfv_zprime", 10, 1, mass=0.05)


def test_signal_without_mass_and_unknown_process_are_errors():
    with pytest.raises(ConfigError, match="needs a mass"):
        generate_process("alp", 10, 1)
    with pytest.raises(ConfigError, match="unknown process 'bhabha'"):
        generate_process("bhabha", 10, 1)


def test_fsr_photon_spectrum_is_the_structure_function_and_collinear():
    from mlsearch.generate.fsr import fsr_beta, radiate_final_state
    from mlsearch.generate.phase_space import two_body
    from mlsearch.physics.constants import M_MU

    n = 200_000
    rng = np.random.default_rng(4)
    pair = two_body(np.full(n, 10.58), M_MU, M_MU, rng.uniform(-1, 1, n), rng.uniform(0, 6, n))
    leptons, photons = radiate_final_state(pair, M_MU, rng)
    np.testing.assert_allclose((leptons.sum(1) + photons.sum(1))[:, 0], 10.58, rtol=1e-12)
    beta = float(fsr_beta(np.array(10.58**2), M_MU))
    assert beta == pytest.approx(0.0382, abs=2e-4)

    def d(z):
        return beta / 2 * z ** (beta / 2 - 1) * (1 + 3 * beta / 8) - beta / 4 * (2 - z)

    hard = integrate.quad(d, 0.1, 1)[0]  # P(z > 0.1) per lepton
    z = photons[:, 0, 0] / (10.58 / 2)
    assert (z > 0.1).mean() == pytest.approx(hard, rel=0.05)
    radiated = photons[:, 0, 0] > 0
    k, lep = photons[radiated, 0, 1:], pair[radiated, 0, 1:]
    cos = (k * lep).sum(1) / (np.linalg.norm(k, axis=1) * np.linalg.norm(lep, axis=1))
    # eikonal pattern sin^2/(1 - b cos)^2 in the pair frame: compare P(theta < 2 deg)
    b = math.sqrt(1 - (M_MU / 5.29) ** 2)

    def pattern(c):
        return (1 - c**2) / (1 - b * c) ** 2

    cut = math.cos(math.radians(2))
    norm = integrate.quad(pattern, -1, 1, points=[1 - 1e-3, 1 - 1e-5], limit=200)[0]
    inside = integrate.quad(pattern, cut, 1, points=[1 - 1e-3, 1 - 1e-5], limit=200)[0]
    assert (cos > cut).mean() == pytest.approx(inside / norm, abs=0.01)


def test_eemumu_in_acceptance_keeps_the_visible_part_only():
    full = generate_process("eemumu", 50_000, 4, energy_spread=False)
    visible = generate_process(
        "eemumu", 20_000, 4, energy_spread=False, acceptance=TrackAcceptance(pt_min=0.1)
    )
    mu = visible.p4[:, 2:4]
    pt = np.hypot(mu[..., 1], mu[..., 2])
    theta = np.degrees(np.arctan2(pt, mu[..., 3]))
    assert ((theta > 17) & (theta < 150) & (pt > 0.1)).all()
    # the same fraction of the full sample passes the same cut
    pt_f = np.hypot(full.p4[:, 2:4, 1], full.p4[:, 2:4, 2])
    th_f = np.degrees(np.arctan2(pt_f, full.p4[:, 2:4, 3]))
    passed = ((th_f > 17) & (th_f < 150) & (pt_f > 0.1)).all(axis=1)
    expected = full.weight[passed].sum()
    assert visible.cross_section_fb == pytest.approx(expected, rel=0.05)
    with pytest.raises(ConfigError, match="e e mu mu option"):
        generate_process("mumu", 10, 1, acceptance=TrackAcceptance(pt_min=0.1))
