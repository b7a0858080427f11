"""muonID and electronID versus momentum and angle, with fakes (belle2-facts numbers)."""

import numpy as np
import pytest

from mlsearch.detector.pid import electron_efficiency, electron_id, muon_efficiency, muon_id


def test_electron_id_plateau_fakes_and_the_ecl_coverage():
    rng = np.random.default_rng(1)
    n = 200_000
    p = np.full(n, 2.0)
    theta = np.full(n, np.radians(90.0))
    eid = electron_id(p, theta, np.ones(n, bool), 0.924, 0.0025, rng)
    assert (eid > 0.5).mean() == pytest.approx(0.924, abs=0.003)
    fake = electron_id(p, theta, np.zeros(n, bool), 0.924, 0.0025, rng)
    assert (fake > 0.5).mean() == pytest.approx(0.0025, abs=0.0005)
    deg = np.radians(np.array([10.0, 31.8, 60.0, 160.0]))
    eff = electron_efficiency(np.full(4, 2.0), deg, 0.924)
    assert eff.tolist() == pytest.approx([0.0, 0.462, 0.924, 0.0])
    assert electron_efficiency(np.array([0.1, 0.6]), np.radians([90.0, 90.0]), 0.924).tolist() == (
        pytest.approx([0.0, 0.462])
    )


def test_muon_id_follows_the_klm_acceptance():
    rng = np.random.default_rng(2)
    n = 100_000
    p = np.full(n, 2.0)
    for deg, expected in ((90.0, 0.89), (20.0, 0.89 * 0.7), (155.0, 0.0)):
        theta = np.full(n, np.radians(deg))
        assert muon_efficiency(p[:1], 0.89, theta[:1])[0] == pytest.approx(expected)
        mid = muon_id(p, np.ones(n, bool), 0.89, 0.014, rng, theta)
        assert (mid > 0.5).mean() == pytest.approx(expected, abs=0.005)
