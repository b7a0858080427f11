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
    pdg, p4 = decay_taus(rest, -1, np.random.default_rng(1))
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
    pdg, p4 = decay_taus(rest, -1, np.random.default_rng(2))
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
    expected = isr_pair_fb(s, M_TAU)
    sample = generate_tautau(300_000, seed=4, energy_spread=False)
    assert sample.cross_section_fb == pytest.approx(expected, abs=3 * sample.cross_section_err_fb)
    # threshold factor: the Born tau pair cross section is 0.995 of the massless one
    assert born_mumu(s, M_TAU) / born_mumu(s, 0.0) == pytest.approx(0.9951, abs=2e-4)
    np.testing.assert_allclose(sample.p4.sum(axis=1), np.tile(em + ep, (300_000, 1)), atol=1e-5)
