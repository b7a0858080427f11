"""The compiled per-event passes and lookups of the fast simulation against the numpy
expressions they replace, and minC2TDist measured to the track's impact point."""

import numpy as np

from mlsearch.detector.calorimeter import min_track_distance, track_impact
from mlsearch.detector.ecl_geometry import RING_EDGES, _crystal_at_numpy, crystal_at
from mlsearch.detector.event_kernels import highest_per_group, nearest_cosine, two_leading
from mlsearch.detector.tracking import reconstruct_tracks


def test_crystal_lookup_equals_the_numpy_reference_at_edges_and_wraps():
    rng = np.random.default_rng(3)
    theta = np.concatenate([rng.uniform(0, np.pi, 200_000), RING_EDGES.ravel()])
    phi = rng.uniform(-8, 8, len(theta))
    phi[:8] = [0.0, -0.0, np.pi, -np.pi, 2 * np.pi, -2 * np.pi, 1e-300, -1e-300]
    assert np.array_equal(crystal_at(theta, phi), _crystal_at_numpy(theta, phi))
    # scalars and broadcasting keep their shape
    assert crystal_at(np.radians(90.0), 1.0).shape == ()
    assert crystal_at(np.array([1.0, 2.0]), 0.5).shape == (2,)


def test_two_leading_equals_a_stable_sort_and_keeps_the_earlier_of_equal_keys():
    rng = np.random.default_rng(4)
    event = rng.integers(0, 300, 5000)
    key = rng.integers(0, 20, 5000).astype(float)  # many ties
    lead, sub = two_leading(event, key, np.int64(310))
    order = np.lexsort((-key, event))  # stable: equal keys keep row order
    ev = event[order]
    first = np.concatenate([[True], ev[1:] != ev[:-1]])
    second = np.concatenate([[False], first[:-1]]) & ~first
    ref_lead, ref_sub = np.full(310, -1), np.full(310, -1)
    ref_lead[ev[first]] = order[first]
    ref_sub[ev[second]] = order[second]
    assert np.array_equal(lead, ref_lead) and np.array_equal(sub, ref_sub)
    assert (lead[300:] == -1).all()


def test_highest_per_group_and_nearest_cosine():
    rng = np.random.default_rng(5)
    group = rng.integers(0, 50, 1000)
    value = rng.uniform(0, 3, 1000)
    ref = np.zeros(60)
    np.maximum.at(ref, group, value)
    assert np.array_equal(highest_per_group(group, value, np.int64(60)), ref)

    def unit(n):
        v = rng.standard_normal((n, 3))
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    cl_event, cl = rng.integers(0, 20, 200), unit(200)
    tr_event = np.sort(rng.integers(0, 19, 40))  # event 19 has no track
    tr = unit(40)
    start = np.concatenate([[0], np.cumsum(np.bincount(tr_event, minlength=20))])
    best = nearest_cosine(cl_event, cl, start, tr)
    for i in range(200):
        mine = tr[tr_event == cl_event[i]]
        expected = (mine @ cl[i]).max() if len(mine) else -2.0
        assert np.isclose(best[i], expected, rtol=0, atol=1e-15)


def test_min_c2t_distance_is_measured_to_the_curved_impact_point():
    # a 1 GeV pT mu- at 90 deg: the field turns it by asin(0.3 * 1.5 * 1.25 / 2) = 16 deg
    theta, phi, pt = np.array([np.pi / 2]), np.array([0.5]), np.array([1.0])
    impact, reaches = track_impact(theta, phi, pt, np.array([-1.0]))
    assert reaches[0] and np.isclose(impact[0] - phi[0], np.arcsin(0.28125), rtol=1e-14)
    at_impact = min_track_distance(np.array([0]), theta, impact, np.array([0]), theta, impact, 1)
    at_direction = min_track_distance(np.array([0]), theta, phi, np.array([0]), theta, impact, 1)
    assert at_impact[0] < 1e-6
    assert abs(at_direction[0] - 125.0 * np.arcsin(0.28125)) < 1e-6  # 35.6 cm on the face
    # an event without tracks
    assert (
        min_track_distance(np.array([0]), theta, phi, np.zeros(0, int), theta[:0], phi[:0], 1)[0]
        == 1000.0
    )


def test_track_smearing_keeps_the_random_draws_and_the_acceptance():
    rng = np.random.default_rng(6)
    n = 20_000
    p3 = rng.normal(0, 2, (n, 3))
    p3[0] = [0.0, 0.0, 3.0]  # along the beam: pT = 0, must not raise
    found, meas = reconstruct_tracks(p3, np.full(n, 0.10566), 0.9, np.random.default_rng(7))
    draws = np.random.default_rng(7)
    accept = draws.uniform(size=n)
    normals = draws.standard_normal((3, n))
    pt = np.hypot(p3[:, 0], p3[:, 1])
    theta = np.arctan2(pt, p3[:, 2])
    inside = (theta > np.radians(17)) & (theta < np.radians(150)) & (pt > 0.1)
    assert np.array_equal(found, inside & (accept < 0.9))
    # the measured phi is the true phi plus 1 mrad times the third normal draw
    ok = found
    dphi = np.arctan2(meas[ok, 1], meas[ok, 0]) - np.arctan2(p3[ok, 1], p3[ok, 0])
    dphi = np.mod(dphi + np.pi, 2 * np.pi) - np.pi
    assert np.allclose(dphi, 1e-3 * normals[2, ok], atol=1e-12)
