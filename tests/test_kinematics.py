import numpy as np

from mlsearch.physics import constants as c
from mlsearch.physics.beams import cms_to_lab, sample_beams
from mlsearch.physics.kinematics import (
    beam_four_momenta,
    boost,
    cms_boost_vector,
    invariant_mass2,
    recoil_mass2,
    rotate_z_to,
)


def test_nominal_beams_give_belle2_cm_energy_and_boost():
    em, ep = beam_four_momenta()
    total = em + ep
    sqrt_s = np.sqrt(invariant_mass2(total))
    assert abs(sqrt_s - 10.5796) < 1e-3
    # beta*gamma = |p| / sqrt(s): Belle II quotes ~0.28; the crossing angle tilts it along x
    assert abs(np.linalg.norm(total[1:]) / sqrt_s - 0.2874) < 1e-3
    assert total[1] > 0.4  # px from the 83 mrad crossing angle


def test_boost_to_cms_makes_beams_back_to_back():
    em, ep = beam_four_momenta()
    beta = cms_boost_vector(em + ep)
    cm_total = boost(em + ep, beta)
    np.testing.assert_allclose(cm_total[1:], 0, atol=1e-12)
    e_cm = boost(em, beta)
    assert abs(e_cm[0] - 10.5796 / 2) < 1e-3


def test_boost_round_trip_and_invariance():
    rng = np.random.default_rng(3)
    p3 = rng.normal(size=(100, 3))
    p = np.column_stack([np.sqrt((p3**2).sum(1) + 0.3**2), p3])
    beta = np.array([0.1, -0.2, 0.25])
    back = boost(boost(p, beta), -beta)
    np.testing.assert_allclose(back, p, atol=1e-12)
    np.testing.assert_allclose(invariant_mass2(boost(p, beta)), 0.09, rtol=1e-10)


def test_rotate_z_to_maps_z_axis_onto_direction():
    d = np.array([0.3, -0.4, 0.5])
    d /= np.linalg.norm(d)
    out = rotate_z_to(np.array([2.0, 0.0, 0.0, 1.0]), d)
    np.testing.assert_allclose(out[1:], d, atol=1e-12)


def test_cms_to_lab_conserves_total_four_momentum():
    rng = np.random.default_rng(4)
    beams = sample_beams(1000, rng)
    sqrt_s = beams.sqrt_s
    # two back-to-back massless particles along a random axis in the CM frame
    cos_t = rng.uniform(-1, 1, 1000)
    sin_t = np.sqrt(1 - cos_t**2)
    half = sqrt_s / 2
    a = np.stack([half, half * sin_t, np.zeros(1000), half * cos_t], axis=1)
    b = a * np.array([1, -1, -1, -1])
    lab = cms_to_lab(np.stack([a, b], axis=1), beams)
    np.testing.assert_allclose(lab.sum(axis=1), beams.electron + beams.positron, atol=1e-9)
    # and the CM +z axis goes to the e- beam direction
    along = cms_to_lab(np.array([[[1.0, 0, 0, 1.0]]]).repeat(1000, 0), beams)[:, 0, 1:]
    along /= np.linalg.norm(along, axis=1, keepdims=True)
    beta = cms_boost_vector(beams.electron + beams.positron)
    e_cm = boost(beams.electron, beta)[:, 1:]
    e_dir_lab = boost(np.column_stack([np.linalg.norm(e_cm, axis=1), e_cm]), -beta)[:, 1:]
    e_dir_lab /= np.linalg.norm(e_dir_lab, axis=1, keepdims=True)
    np.testing.assert_allclose(along, e_dir_lab, atol=1e-9)


def test_energy_spread_matches_beam_parameters():
    beams = sample_beams(200_000, np.random.default_rng(5))
    # sigma(sqrt s) = 2 sqrt(E_LER^2 s_HER^2 + E_HER^2 s_LER^2) / sqrt(s)  (head-on approx)
    expected = 2 * np.hypot(c.E_LER * c.SIGMA_E_HER, c.E_HER * c.SIGMA_E_LER) / 10.58
    assert abs(beams.sqrt_s.std() / expected - 1) < 0.02


def test_recoil_mass_of_nothing_is_s():
    em, ep = beam_four_momenta()
    zero = np.zeros(4)
    assert abs(recoil_mass2(em + ep, zero) - 10.5796**2) < 0.05
