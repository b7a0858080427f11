"""tau tau (gamma): cross section, branching fractions and decay kinematics."""

import numpy as np
import pytest

from mlsearch.generate.mumu import born_mumu
from mlsearch.generate.tau_decays import M_PI, MODES, _michel_x, decay_taus
from mlsearch.generate.tautau import generate_tautau
from mlsearch.physics.constants import M_TAU
from mlsearch.physics.kinematics import beam_four_momenta, invariant_mass2, momentum
from mlsearch.validation.references import isr_pair_fb


def test_branching_fractions_sum_to_one_and_are_sampled():
    assert sum(m[1] for m in MODES) == pytest.approx(1.0, abs=1e-9)
    n = 200_000
    rest = np.tile([M_TAU, 0.0, 0.0, 0.0], (n, 1))
    pdg, p4, _ = decay_taus(rest, -1, np.random.default_rng(1))
    # one-prong muon decays: 17.39 %
    assert np.mean((pdg == 13).any(axis=1)) == pytest.approx(0.1739, abs=0.003)
    # tau- gives net charge -1 in every decay
    charge = (
        np.isin(pdg, (11, 13)) * -1
        + np.isin(pdg, (-11, -13)) * 1
        + np.isin(pdg, (211, 321)) * 1
        + np.isin(pdg, (-211, -321)) * -1
    ).sum(axis=1)
    assert (charge == -1).all()
    # every decay conserves the tau four-momentum
    np.testing.assert_allclose(p4.sum(axis=1), rest, atol=1e-9)


def test_two_body_pion_momentum_and_michel_spectrum():
    rest = np.tile([M_TAU, 0.0, 0.0, 0.0], (50_000, 1))
    pdg, p4, _ = decay_taus(rest, -1, np.random.default_rng(2))
    one_pion = (pdg == -211).sum(axis=1) == 1
    one_pion &= (pdg == 22).sum(axis=1) == 0
    pions = p4[one_pion][pdg[one_pion] == -211]
    # tau -> pi nu: |p| = (m_tau^2 - m_pi^2) / (2 m_tau)
    np.testing.assert_allclose(momentum(pions), (M_TAU**2 - M_PI**2) / (2 * M_TAU), rtol=1e-9)
    # V-A spectrum x^2 (3 - 2x): <x> = 0.7, <x^2> = 0.5333
    x = _michel_x(200_000, np.random.default_rng(3))
    assert x.mean() == pytest.approx(0.7, abs=0.002)
    assert (x**2).mean() == pytest.approx(8 / 15, abs=0.003)


def test_tautau_cross_section_matches_quadrature():
    em, ep = beam_four_momenta()
    s = float(invariant_mass2(em + ep))
    # the generator applies the exact O(alpha) hard-photon factor per photon: -0.23 % here,
    # 7 standard errors of this sample (the structure functions' own ISR sampling)
    expected = isr_pair_fb(s, M_TAU, hard_photon_term=True)
    sample = generate_tautau(300_000, seed=4, energy_spread=False)
    assert sample.cross_section_fb == pytest.approx(expected, abs=3 * sample.cross_section_err_fb)
    # threshold factor: the Born tau pair cross section is 0.995 of the massless one
    assert born_mumu(s, M_TAU) / born_mumu(s, 0.0) == pytest.approx(0.9951, abs=2e-4)
    np.testing.assert_allclose(sample.p4.sum(axis=1), np.tile(em + ep, (300_000, 1)), atol=1e-5)


def _e_mu_selection(sample):
    """Truth-level stand-in for the LFV selection: one electron and one muon with p > 0.5 GeV
    in the CDC (17-150 deg, lab), the other tau's products anything. Returns (weights [fb]
    of the selected events, their muon momenta [GeV])."""
    from mlsearch.physics.acceptance import CDC_THETA

    p = np.linalg.norm(sample.p4[..., 1:], axis=-1)
    theta = np.arccos(np.clip(sample.p4[..., 3] / np.maximum(p, 1e-12), -1, 1))  # rad
    seen = (p > 0.5) & (theta > CDC_THETA[0]) & (theta < CDC_THETA[1])
    is_e = seen & (np.abs(sample.pdg) == 11)
    is_mu = seen & (np.abs(sample.pdg) == 13)
    sel = (is_e.sum(axis=1) == 1) & (is_mu.sum(axis=1) == 1)
    p_mu = np.where(is_mu, p, 0.0).sum(axis=1)
    return sample.weight[sel], p_mu[sel]


def test_biased_tau_decays_give_the_unbiased_yields_and_spectra():
    """Closure of the decay-mode importance sampling: e and mu sampled at 40 % each (BR 17.8
    and 17.4 %) give the same total and e-mu selected cross section and the same muon
    spectrum as the plain sample within MC errors, from ~5x more selected events."""
    from mlsearch.generate.tautau import generate_tautau

    n = 300_000
    plain = generate_tautau(n, 11)
    biased = generate_tautau(n, 12, tau_modes={"e": 0.4, "mu": 0.4})
    assert biased.metadata["tau_mode_bias"] == {"e": 0.4, "mu": 0.4}
    pull = (biased.cross_section_fb - plain.cross_section_fb) / np.hypot(
        biased.cross_section_err_fb, plain.cross_section_err_fb
    )
    assert abs(pull) < 4
    (w0, p0), (w1, p1) = _e_mu_selection(plain), _e_mu_selection(biased)
    y0, y1 = w0.sum(), w1.sum()
    e0, e1 = np.sqrt((w0**2).sum()), np.sqrt((w1**2).sum())
    assert abs(y1 - y0) / np.hypot(e0, e1) < 4, (y0, y1)
    assert len(w1) > 4 * len(w0)
    # more precise: the effective luminosity of the selected MC (sum w / sum w^2)
    assert y1 / e1**2 > 3 * y0 / e0**2
    edges = np.linspace(0.5, 5.5, 9)
    h0, _ = np.histogram(p0, edges, weights=w0)
    h1, _ = np.histogram(p1, edges, weights=w1)
    s0, _ = np.histogram(p0, edges, weights=w0**2)
    s1, _ = np.histogram(p1, edges, weights=w1**2)
    chi2 = float((((h1 - h0) ** 2) / np.maximum(s0 + s1, 1e-300)).sum())
    assert chi2 < 8 + 4 * np.sqrt(2 * 8), chi2  # 8 bins: chi2 within ~4 sigma of its mean


def test_tau_mode_bias_is_refused_when_it_would_bias():
    from mlsearch.errors import ConfigError
    from mlsearch.generate.tau_decays import mode_probabilities

    with pytest.raises(ConfigError, match="leave a share"):
        mode_probabilities({"e": 0.5, "mu": 0.5})
    with pytest.raises(ConfigError, match="unknown tau decay modes"):
        mode_probabilities({"muon": 0.5})


def test_config_tau_modes_are_the_generator_modes():
    from typing import get_args

    from mlsearch.config import TauMode

    assert set(get_args(TauMode)) == {m[0] for m in MODES}
