"""The Z' matrix element and generator against independent results."""

import math

import numpy as np
import pytest

from mlsearch.generate.zprime import generate_zprime
from mlsearch.physics.constants import ALPHA_EM
from mlsearch.physics.kinematics import beam_four_momenta, invariant_mass2, recoil_mass2
from mlsearch.physics.zprime_me import lepton_tensor, muon_tensor, squared_me_zprime
from mlsearch.physics.zprime_model import invisible_branching_fraction, total_width


def _three_body(x1, x2, sqrt_s, m, mass):
    """CM momenta for energy fractions x1 (mu-), x2 (mu+), both along fixed axes."""
    e1, e2 = x1 * sqrt_s / 2, x2 * sqrt_s / 2
    p1, p2 = math.sqrt(e1**2 - m**2), math.sqrt(e2**2 - m**2)
    ek = sqrt_s - e1 - e2
    pk = math.sqrt(ek**2 - mass**2)
    cos12 = (pk**2 - p1**2 - p2**2) / (2 * p1 * p2)
    q1 = np.array([e1, 0, 0, p1])
    q2 = np.array([e2, p2 * math.sqrt(1 - cos12**2), 0, p2 * cos12])
    k = np.array([sqrt_s, 0, 0, 0]) - q1 - q2
    return q1, q2, k


def _random_rotations(n, rng):
    q, _ = np.linalg.qr(rng.normal(size=(n, 3, 3)))
    return q


@pytest.mark.parametrize(("x1", "x2"), [(0.9, 0.8), (0.7, 0.95), (0.6, 0.6)])
def test_massless_limit_matches_qqg_formula(x1, x2):
    """m_mu, M_Z' -> 0: the e+e- -> q qbar g result with C_F alpha_s -> g'^2/(4 pi):
    d sigma / dx1 dx2 = sigma_0 g'^2/(8 pi^2) (x1^2 + x2^2)/((1 - x1)(1 - x2))."""
    sqrt_s, g = 10.0, 0.3
    s = sqrt_s**2
    q1, q2, k = _three_body(x1, x2, sqrt_s, 1e-6, 1e-6)
    rng = np.random.default_rng(0)
    rot = _random_rotations(20_000, rng)

    def rotate(v):
        return np.column_stack([np.full(len(rot), v[0]), rot @ v[1:]])

    p1 = np.tile([sqrt_s / 2, 0, 0, sqrt_s / 2], (len(rot), 1))
    p2 = np.tile([sqrt_s / 2, 0, 0, -sqrt_s / 2], (len(rot), 1))
    me2 = squared_me_zprime(p1, p2, rotate(q1), rotate(q2), rotate(k), g, m=1e-6)
    # d sigma/dx1 dx2 = 1/(2s) * <|M|^2>/4 * s/(128 pi^3)
    ours = me2.mean() / 4 / (2 * s) * s / (128 * math.pi**3)
    sigma0 = 4 * math.pi * ALPHA_EM**2 / (3 * s)
    expected = sigma0 * g**2 / (8 * math.pi**2) * (x1**2 + x2**2) / ((1 - x1) * (1 - x2))
    assert ours == pytest.approx(expected, rel=0.01)


def test_orientation_average_of_lepton_tensor():
    """<L_ab> over beam directions = (4 s / 3) (-g_ab + P_a P_b / s)."""
    rng = np.random.default_rng(1)
    rot = _random_rotations(50_000, rng)
    n = rot @ np.array([0, 0, 1.0])
    p1 = np.column_stack([np.ones(len(n)), n])
    p2 = np.column_stack([np.ones(len(n)), -n])
    avg = lepton_tensor(p1, p2).mean(axis=0)
    s = 4.0
    expected = 4 * s / 3 * (-np.diag([1.0, -1, -1, -1]) + np.diag([s, 0, 0, 0]) / s)
    np.testing.assert_allclose(avg, expected, atol=0.05)


def test_current_conservation_longitudinal_zprime_decouples():
    from mlsearch.physics.constants import M_MU

    q1, q2, k = _three_body(0.7, 0.6, 10.58, M_MU, 2.0)
    longitudinal = muon_tensor(q1, q2, k, polarisation_sum="longitudinal")
    transverse = muon_tensor(q1, q2, k)
    assert np.abs(longitudinal).max() < 1e-10 * np.abs(transverse).max()


def test_widths_and_invisible_fraction():
    # far above both thresholds: 2 nu (1/2 each) vs mu + tau (1 each) -> 1/3
    assert invisible_branching_fraction(1000.0) == pytest.approx(1 / 3, rel=1e-4)
    assert invisible_branching_fraction(0.2) == 1.0
    assert total_width(1.0, 1e-2) == pytest.approx(
        1e-4 * 1.0 / (12 * math.pi) * (1 + (1 + 2 * 0.10566**2) * math.sqrt(1 - 4 * 0.10566**2)),
        rel=1e-3,
    )


def test_generator_cross_section_scales_with_coupling_and_is_reproducible():
    a = generate_zprime(2000, 2.0, 0.01, seed=3)
    b = generate_zprime(2000, 2.0, 0.02, seed=3)
    c = generate_zprime(2000, 2.0, 0.01, seed=3)
    assert b.cross_section_fb == pytest.approx(4 * a.cross_section_fb, rel=1e-12)
    np.testing.assert_array_equal(a.p4, c.p4)
    d = generate_zprime(2000, 2.0, 0.01, seed=4)
    assert not np.array_equal(a.p4, d.p4)


def test_generated_zprime_has_the_right_mass_and_recoil_peak():
    sample = generate_zprime(3000, 3.0, 0.01, seed=1, energy_spread=False, radiation=False)
    k = sample.p4[:, 2]
    np.testing.assert_allclose(np.sqrt(invariant_mass2(k)), 3.0, rtol=1e-6)
    em, ep = beam_four_momenta()
    rm2 = recoil_mass2(em + ep, sample.p4[:, 0] + sample.p4[:, 1])
    np.testing.assert_allclose(rm2, 9.0, atol=1e-6)
    # four-momentum conservation in the lab
    np.testing.assert_allclose(sample.p4.sum(axis=1), np.tile(em + ep, (3000, 1)), atol=1e-9)


def test_generator_cross_section_matches_direct_dalitz_integration():
    """Independent check of the sampling: integrate the orientation-averaged |M|^2 over the
    Dalitz plane on a grid in (log D1, log D2) and compare with the MC estimate."""
    from mlsearch.physics.constants import M_MU
    from mlsearch.validation.references import zprime_dalitz_fb

    mass, g, sqrt_s = 1.0, 0.01, 10.5796
    total = zprime_dalitz_fb(mass, g, sqrt_s, M_MU)
    mc = generate_zprime(
        4000, mass, g, seed=5, invisible_br="one", energy_spread=False, radiation=False
    )
    assert mc.cross_section_fb == pytest.approx(total, rel=0.03)


@pytest.mark.parametrize(("m2", "z_mass"), [(None, 2.0), (0.000511, 2.0), (0.000511, 0.3)])
def test_cm_frame_transverse_form_equals_the_covariant_contraction(m2, z_mass):
    """The generators' |M|^2 (only H^11 + H^22, beams along z) is the full L_ab H^ab, for the
    L_mu - L_tau Z' and for the LFV Z' with its k k / M^2 polarisation term."""
    from mlsearch.physics.constants import M_MU
    from mlsearch.physics.zprime_me import squared_me_zprime_cm

    sqrt_s = 10.58
    rng = np.random.default_rng(3)
    rot = _random_rotations(50, rng)
    q1, q2, k = _three_body(0.7, 0.8, sqrt_s, M_MU, z_mass)
    if m2 is not None:  # put the e+ on its mass shell, same directions
        e2 = q2[0]
        q2 = np.concatenate([[e2], q2[1:] / np.linalg.norm(q2[1:]) * math.sqrt(e2**2 - m2**2)])
        k = np.array([sqrt_s, 0, 0, 0]) - q1 - q2
        z_mass = math.sqrt(k[0] ** 2 - k[1:] @ k[1:])

    def rotate(v):
        return np.column_stack([np.full(len(rot), v[0]), rot @ v[1:]])

    p1 = np.tile([sqrt_s / 2, 0, 0, sqrt_s / 2], (len(rot), 1))
    p2 = np.tile([sqrt_s / 2, 0, 0, -sqrt_s / 2], (len(rot), 1))
    full = squared_me_zprime(p1, p2, rotate(q1), rotate(q2), rotate(k), 1.0, M_MU, m2, z_mass)
    fast = squared_me_zprime_cm(
        np.full(len(rot), sqrt_s**2), rotate(q1), rotate(q2), rotate(k), 1.0, M_MU, m2, z_mass
    )
    np.testing.assert_allclose(fast, full, rtol=1e-10)
    if m2 is not None:  # the LFV longitudinal term is not zero
        bare = squared_me_zprime_cm(
            np.full(len(rot), sqrt_s**2), rotate(q1), rotate(q2), rotate(k), 1.0, M_MU, M_MU
        )
        assert not np.allclose(fast, bare, rtol=1e-6)
