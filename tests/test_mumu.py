"""mu mu (ISR) background: cross section against an independent integration."""

import numpy as np
import pytest

from mlsearch.generate.mumu import born_mumu, generate_mumu
from mlsearch.physics.constants import GEV2_TO_FB, M_MU
from mlsearch.physics.kinematics import beam_four_momenta, invariant_mass2
from mlsearch.validation.references import isr_pair_fb


def _isr_cross_section_fb(s: float) -> float:
    return isr_pair_fb(s, M_MU)


def test_born_cross_section_is_86_8_nb_over_s():
    s = 10.58**2
    assert born_mumu(s) * GEV2_TO_FB / 1e6 == pytest.approx(86.85 / s, rel=2e-3)


def test_isr_cross_section_matches_quadrature():
    em, ep = beam_four_momenta()
    s = float(invariant_mass2(em + ep))
    expected = _isr_cross_section_fb(s)
    sample = generate_mumu(400_000, seed=11, energy_spread=False)
    assert sample.cross_section_fb == pytest.approx(expected, abs=3 * sample.cross_section_err_fb)
    # ISR (radiative return to low s') and vacuum polarisation raise the Born value by ~48 %
    assert 1.4 < expected / (born_mumu(s) * GEV2_TO_FB) < 1.55


def test_weights_sum_to_cross_section_and_momentum_is_conserved():
    sample = generate_mumu(20_000, seed=2, energy_spread=False)
    assert sample.weight.sum() == pytest.approx(sample.cross_section_fb, rel=1e-12)
    em, ep = beam_four_momenta()
    np.testing.assert_allclose(
        sample.p4.sum(axis=1), np.tile(em + ep, (20_000, 1)), atol=1e-5
    )  # photons < 1 keV dropped
    mu_mass = np.sqrt(invariant_mass2(sample.p4[:, :2]))
    np.testing.assert_allclose(mu_mass, M_MU, rtol=1e-5)
