"""The cone channels of the radiative Bhabha (two particles drawn past the ECL in the lab, the
third from conservation): their phase-space density against the known three-body volume,
the energy-conserving roots, and the SINGLE stratum they draw against the plain sampler."""

from __future__ import annotations

import math

import numpy as np

from mlsearch.generate.bhabha_cones import MASSES, Cones, cone_events
from mlsearch.physics.acceptance import ECL_THETA_DEG
from mlsearch.physics.beams import sample_beams
from mlsearch.physics.constants import M_E


def test_cone_density_integrates_to_the_three_body_phase_space() -> None:
    """E[1 / density] over a channel's draws in a region is the region's phase-space volume.
    The region: the two drawn particles a and b in the cones past the ECL (where the draw
    is dense; outside them only the beam peaks' tails reach, and 1 / density has a long
    tail) and b more than 20 deg from the solved particle c (where they are collinear the
    Jacobian 1/J diverges). Reference: RAMBO's flat three-body events (massless; m_e moves
    the volume by ~1e-7) in the same region, times the volume s / (256 pi^3) (R. Kleiss et
    al., Comput. Phys. Commun. 40 (1986) 359). A wrong Jacobian (a missing |p_b|, E_b E_c
    or 1/J) or density moves it by O(1)."""
    from mlsearch.generate.phase_space import rambo_massless
    from mlsearch.physics.beams import cms_to_lab
    from mlsearch.physics.kinematics import polar_angle

    def region(lab: np.ndarray, cones: Cones) -> np.ndarray:
        deg = np.degrees(polar_angle(lab))
        past = (deg < ECL_THETA_DEG[0][0]) | (deg > ECL_THETA_DEG[2][1])
        a, b, c = cones.energy, cones.direction, cones.rest
        unit = lab[..., 1:] / np.maximum(np.linalg.norm(lab[..., 1:], axis=-1), 1e-300)[..., None]
        apart = (unit[:, b] * unit[:, c]).sum(axis=1) < math.cos(math.radians(20))
        return np.asarray(past[:, a] & past[:, b] & apart)

    n, n_flat = 300_000, 3_000_000
    beams = sample_beams(n, np.random.default_rng(1), energy_spread=False)
    s = float(beams.sqrt_s[0] ** 2)
    flat_beams = sample_beams(n_flat, np.random.default_rng(0), energy_spread=False)
    flat = cms_to_lab(rambo_massless(flat_beams.sqrt_s, 3, np.random.default_rng(0)), flat_beams)
    for cones in (
        Cones(0, 1, forward=(0.7, 0.2), peak=(0.5, 0.5)),
        Cones(1, 2, forward=(0.3, 0.6), peak=(0.6, 0.4)),
    ):
        inside = region(flat, cones)
        volume = s / (256 * math.pi**3) * inside.mean()
        volume_err = volume / math.sqrt(inside.sum())
        events, density = cone_events(beams, np.random.default_rng(2), ((1.0, cones),))
        kept = (density > 0) & region(events, cones)
        inv = np.where(kept, 1 / np.where(kept, density, 1.0), 0.0)
        mean, err = inv.mean(), inv.std() / math.sqrt(n)
        assert err < 0.02 * volume and volume_err < 0.02 * volume
        assert abs(mean - volume) < 4 * np.hypot(err, volume_err), (mean, err, volume)


def test_cone_events_conserve_four_momentum_and_count_both_roots() -> None:
    """Every drawn event conserves the beams' four-momentum with the particles on their mass
    shells (lab frame, beams with energy spread and crossing angle)."""
    n = 50_000
    beams = sample_beams(n, np.random.default_rng(3))
    cones = Cones(0, 1, forward=(0.9, 0.1), peak=(0.5, 0.5))
    events, density = cone_events(beams, np.random.default_rng(4), ((1.0, cones),))
    found = density > 0
    assert found.mean() > 0.5
    total = (beams.electron + beams.positron)[found]
    np.testing.assert_allclose(events[found].sum(axis=1), total, atol=1e-9)
    mass2 = events[found, :, 0] ** 2 - (events[found, :, 1:] ** 2).sum(axis=-1)
    np.testing.assert_allclose(mass2, np.broadcast_to(np.square(MASSES), mass2.shape), atol=1e-9)


def test_roots_solve_energy_conservation_and_count_both_branches() -> None:
    """|p_b| from energy conservation (CM frame, the e- along +z, the e+ along ``n_b``, the
    photon the rest): one root for an e- of 3 GeV; two for an e- 10 keV below the top of its
    spectrum with the e+ opposite it (E+ + |p_- + p_+| falls to E(p_-) + m^2 / 2 p_- below
    sqrt(s) - E_- and rises again) - where the draw's density halves."""
    from mlsearch.generate.bhabha_cones import _roots

    sqrt_s = 10.58
    total = np.array([[sqrt_s, 0.0, 0.0, 0.0]] * 3)
    e_minus = np.array([3.0, sqrt_s / 2 - 1e-5, 3.0])
    k_minus = np.sqrt(e_minus**2 - M_E**2)
    p_a = np.stack([e_minus, 0 * e_minus, 0 * e_minus, k_minus], axis=1)
    tilt = math.radians(20.0)
    n_b = np.array([[0.0, 0.0, -1.0], [0.0, 0.0, -1.0], [math.sin(tilt), 0.0, -math.cos(tilt)]])
    roots, ok = _roots(total, p_a, n_b, M_E, 0.0)
    assert ok.sum(axis=1).tolist() == [1, 2, 1]
    for i, j in zip(*np.nonzero(ok), strict=True):
        p_b = roots[i, j] * n_b[i]
        e_b = math.hypot(roots[i, j], M_E)
        e_c = np.linalg.norm(total[i, 1:] - p_a[i, 1:] - p_b)
        assert abs(e_minus[i] + e_b + e_c - sqrt_s) < 1e-9
