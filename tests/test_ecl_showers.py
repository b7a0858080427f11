"""The crystal map and crystal-level showers: counts, ranges, deposits, shower shapes."""

import numpy as np
import pytest

from mlsearch.detector.clustering import CLUSTER_VARIABLES, clusters_from_deposits
from mlsearch.detector.ecl_geometry import (
    CRYSTAL_PHI,
    CRYSTAL_REGION,
    CRYSTAL_THETA,
    N_CRYSTALS,
    NEIGHBOURS,
    RING_EDGES,
    RING_REGION,
    crystal_at,
)
from mlsearch.detector.showers import (
    EM,
    HADRONIC,
    photon_containment,
    shower_deposits,
    shower_fractions,
)


def test_crystal_map_counts_and_polar_ranges():
    assert N_CRYSTALS == 8736
    assert [(CRYSTAL_REGION == r).sum() for r in (1, 2, 3)] == [1152, 6624, 960]
    for region, (lo, hi) in {1: (12.4, 31.4), 2: (32.2, 128.7), 3: (130.7, 155.1)}.items():
        edges = np.degrees(RING_EDGES[RING_REGION == region])
        assert edges.min() == pytest.approx(lo) and edges.max() == pytest.approx(hi)
    assert (RING_REGION == 2).sum() == 46
    # every direction inside a region hits exactly the crystal whose centre is nearest
    rng = np.random.default_rng(1)
    theta = rng.uniform(np.radians(12.4), np.radians(155.1), 10_000)
    phi = rng.uniform(-np.pi, np.pi, 10_000)
    c = crystal_at(theta, phi)
    gaps = ((theta > np.radians(31.4)) & (theta < np.radians(32.2))) | (
        (theta > np.radians(128.7)) & (theta < np.radians(130.7))
    )
    assert (c[gaps] == -1).all() and (c[~gaps] >= 0).all()
    hit = c >= 0
    assert np.abs(CRYSTAL_THETA[c[hit]] - theta[hit]).max() < np.radians(1.5)
    dphi = np.abs(np.mod(CRYSTAL_PHI[c[hit]] - phi[hit] + np.pi, 2 * np.pi) - np.pi)
    assert dphi.max() <= np.pi / 48 + 1e-12  # half the widest endcap crystal
    assert (NEIGHBOURS[c[hit], 2, 2] == c[hit]).all()


def _one(theta, phi, energy=2.0, profile=EM):
    dep = shower_deposits(
        np.array([0]),
        np.array([0]),
        np.array([theta]),
        np.array([phi]),
        np.array([energy]),
        profile,
    )
    return dep, clusters_from_deposits(dep, photon_containment())


def test_shower_deposit_conserves_energy_before_resolution():
    rng = np.random.default_rng(2)
    n = 2000
    theta = rng.uniform(np.radians(14), np.radians(154), n)
    phi = rng.uniform(-np.pi, np.pi, n)
    _, frac = shower_fractions(theta, phi, EM)
    hit = crystal_at(theta, phi) >= 0
    np.testing.assert_allclose(frac[hit].sum(axis=1), 1.0, rtol=1e-12)
    assert (frac[~hit] == 0).all()
    dep = shower_deposits(np.arange(n), np.arange(n), theta, phi, np.full(n, 1.5), HADRONIC, 0.0)
    total = np.bincount(dep.event, weights=dep.energy, minlength=n)
    np.testing.assert_allclose(total[hit], 1.5, rtol=1e-12)
    # the digitisation threshold (0.5 MeV per crystal) loses little of a 1.5 GeV shower
    dep = shower_deposits(np.arange(n), np.arange(n), theta, phi, np.full(n, 1.5), HADRONIC)
    total = np.bincount(dep.event, weights=dep.energy, minlength=n)
    assert (total[hit] > 1.5 * 0.99).all()


def test_e1e9_drops_from_the_crystal_centre_to_its_edge():
    c = crystal_at(np.array([np.radians(90.0)]), np.array([1.0]))[0]
    th, ph = CRYSTAL_THETA[c], CRYSTAL_PHI[c]
    half_width = np.pi / 144
    _, centre = _one(th, ph)
    _, edge = _one(th, ph + 0.98 * half_width)
    assert centre.clusterE1E9[0] > 0.8 and edge.clusterE1E9[0] < 0.55
    assert centre.clusterE[0] == pytest.approx(2.0, rel=3e-3)  # no resolution applied here
    assert abs(centre.clusterAbsZernikeMoment51[0]) < 1e-6  # symmetric shower: no m = 1
    assert edge.clusterAbsZernikeMoment51[0] > 1e-4
    assert centre.clusterTheta[0] == pytest.approx(th, abs=1e-9)


def test_lat_of_a_symmetric_shower_and_hadronic_showers_are_wider():
    c = crystal_at(np.array([np.radians(70.0)]), np.array([0.3]))[0]
    th, ph = CRYSTAL_THETA[c], CRYSTAL_PHI[c]
    dep, em = _one(th, ph)
    # by hand from the crystal energies of this deposit: 21 crystals, sorted by energy
    from mlsearch.detector.ecl_geometry import front_face_distance

    d = front_face_distance(np.array([th]))[0]
    corners = NEIGHBOURS[c][[0, 0, 4, 4], [0, 4, 0, 4]]
    keep = ~np.isin(dep.crystal, corners)
    crystal, energy = dep.crystal[keep], dep.energy[keep]
    du = (CRYSTAL_THETA[crystal] - th) * d
    dv = (np.mod(CRYSTAL_PHI[crystal] - ph + np.pi, 2 * np.pi) - np.pi) * np.sin(th) * d
    order = np.argsort(-energy)
    es, rs = energy[order], (du**2 + dv**2)[order]
    lat = (es[2:] * rs[2:]).sum() / ((es[2:] * rs[2:]).sum() + (es[0] + es[1]) * 25.0)
    assert em.clusterLAT[0] == pytest.approx(lat, rel=1e-6)
    assert 0 < em.clusterLAT[0] < 0.4
    _, had = _one(th, ph, profile=HADRONIC)
    assert had.clusterLAT[0] > em.clusterLAT[0]
    assert had.clusterSecondMoment[0] > 2 * em.clusterSecondMoment[0]
    assert had.clusterE1E9[0] < em.clusterE1E9[0]


def test_two_close_photons_merge_and_two_far_photons_do_not():
    c = crystal_at(np.array([np.radians(90.0)]), np.array([1.0]))[0]
    th, ph = CRYSTAL_THETA[c], CRYSTAL_PHI[c]

    def pair(separation):
        dep = shower_deposits(
            np.array([0, 0]),
            np.array([0, 1]),
            np.array([th, th]),
            np.array([ph, ph + separation]),
            np.array([1.0, 1.0]),
            EM,
        )
        return clusters_from_deposits(dep, photon_containment())

    merged = pair(np.radians(1.0))  # 2.2 cm apart: inside one crystal and its neighbour
    split = pair(np.radians(12.0))
    assert len(merged) == 1 and merged.clusterE[0] == pytest.approx(2.0, rel=3e-3)
    assert merged.clusterSecondMoment[0] > 5.0
    assert len(split) == 2
    np.testing.assert_allclose(split.clusterE, 1.0, rtol=3e-3)


def test_shower_parameters_come_from_the_config():
    import awkward as ak
    import pydantic

    from mlsearch.config import SimulateConfig
    from mlsearch.detector import simulate_events

    n = 2000
    th = np.radians(np.full(n, 80.0))
    phi = np.random.default_rng(1).uniform(-np.pi, np.pi, n)
    e = np.full(n, 2.0)
    p4 = np.column_stack(
        [e, e * np.sin(th) * np.cos(phi), e * np.sin(th) * np.sin(phi), e * np.cos(th)]
    )
    parts = ak.zip(
        {"pdg": np.full(n, 22), "E": p4[:, 0], "px": p4[:, 1], "py": p4[:, 2], "pz": p4[:, 3]}
    )
    truth = ak.zip(
        {
            "event": np.arange(n),
            "weight": np.ones(n),
            "particles": ak.unflatten(parts, np.ones(n, int)),
        },
        depth_limit=1,
    )

    def median_e1e9(**kw):
        cfg = SimulateConfig(beam_background_rate=0.0, **kw)
        reco = simulate_events(truth, cfg, np.random.default_rng(2))
        return float(np.median(ak.to_numpy(ak.flatten(reco.clusters.clusterE1E9))))

    assert median_e1e9(em_profile=[(2.0, 1.0)]) < median_e1e9() - 0.2
    with pytest.raises(pydantic.ValidationError, match="widths > 0"):
        SimulateConfig(em_profile=[(0.0, 1.0)])


def test_compiled_kernels_equal_the_numpy_reference():
    """The numba shower and clustering kernels against the numpy implementation, on
    overlapping showers of many events (deposits, clusters and every cluster variable)."""
    rng = np.random.default_rng(7)
    n = 6000
    event = rng.integers(0, 800, n)  # ~7 showers per event: plenty of overlaps
    theta = rng.uniform(np.radians(10), np.radians(160), n)
    phi = rng.uniform(-np.pi, np.pi, n)
    energy = rng.exponential(0.5, n)
    scale = rng.lognormal(0.0, 0.2, n)
    for profile in (EM, HADRONIC):
        args = (event, np.arange(n), theta, phi, energy, profile, 0.0005, scale)
        fast, ref = shower_deposits(*args, compiled=True), shower_deposits(*args, compiled=False)
        kf = np.lexsort((fast.crystal, fast.particle))
        kr = np.lexsort((ref.crystal, ref.particle))
        np.testing.assert_array_equal(fast.crystal[kf], ref.crystal[kr])
        np.testing.assert_allclose(fast.energy[kf], ref.energy[kr], rtol=1e-12)
        a = clusters_from_deposits(ref, 0.999, compiled=True)
        b = clusters_from_deposits(ref, 0.999, compiled=False)
        assert len(a) == len(b) > 1000
        ka, kb = np.lexsort((a.clusterE, a.event)), np.lexsort((b.clusterE, b.event))
        for field in ("event", "particle", "clusterNHits"):
            np.testing.assert_array_equal(getattr(a, field)[ka], getattr(b, field)[kb])
        for field in CLUSTER_VARIABLES[:-1]:
            np.testing.assert_allclose(
                getattr(a, field)[ka],
                getattr(b, field)[kb],
                rtol=1e-9,
                atol=1e-12,
                err_msg=field,
            )
