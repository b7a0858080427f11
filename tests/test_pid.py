"""muonID and electronID against the published Belle performance (efficiency and pion fake
rate for 1-3 GeV/c: NIM A 491 (2002) 69, NIM A 485 (2002) 490) and the public detector
coverage (ECL 12.4-155.1 deg with the barrel-endcap gaps; KLM reached above ~0.7 GeV/c),
not against the model's own shape parameters."""

import numpy as np
import pytest

from mlsearch.detector.pid import electron_efficiency, electron_id, muon_efficiency, muon_id

BELLE_E_EFF, BELLE_E_FAKE = 0.924, 0.0025  # electron ID, 1-3 GeV/c
BELLE_MU_EFF, BELLE_MU_FAKE = 0.89, 0.014  # muon ID, 1-3 GeV/c


def test_electron_id_reproduces_the_published_efficiency_and_fake_rate():
    rng = np.random.default_rng(1)
    n = 200_000
    theta = np.full(n, np.radians(90.0))
    for p in (1.0, 2.0, 3.0):  # the momentum range of the published numbers
        mom = np.full(n, p)
        eid = electron_id(mom, theta, np.ones(n, bool), BELLE_E_EFF, BELLE_E_FAKE, rng)
        assert (eid > 0.5).mean() == pytest.approx(BELLE_E_EFF, abs=0.003)
        fake = electron_id(mom, theta, np.zeros(n, bool), BELLE_E_EFF, BELLE_E_FAKE, rng)
        assert (fake > 0.5).mean() == pytest.approx(BELLE_E_FAKE, abs=0.0005)


def test_electron_id_needs_the_ecl():
    p = np.full(5, 2.0)
    deg = np.array([10.0, 31.8, 60.0, 129.5, 160.0])  # outside, gap, barrel, gap, outside
    eff = electron_efficiency(p, np.radians(deg), BELLE_E_EFF)
    assert eff[0] == 0.0 and eff[4] == 0.0  # no ECL outside 12.4-155.1 deg
    assert eff[2] == pytest.approx(BELLE_E_EFF)
    assert 0.0 < eff[1] < eff[2] and 0.0 < eff[3] < eff[2]  # gaps: partial clusters


def test_muon_id_reproduces_the_published_numbers_and_needs_the_klm():
    rng = np.random.default_rng(2)
    n = 100_000
    barrel = np.full(n, np.radians(90.0))
    for p in (1.0, 2.0, 3.0):
        mom = np.full(n, p)
        mid = muon_id(mom, np.ones(n, bool), BELLE_MU_EFF, BELLE_MU_FAKE, rng, barrel)
        assert (mid > 0.5).mean() == pytest.approx(BELLE_MU_EFF, abs=0.005)
        fake = muon_id(mom, np.zeros(n, bool), BELLE_MU_EFF, BELLE_MU_FAKE, rng, barrel)
        assert (fake > 0.5).mean() == pytest.approx(BELLE_MU_FAKE, abs=0.002)
    # a muon below ~0.7 GeV/c ranges out before the KLM: no muon ID
    assert muon_efficiency(np.array([0.5]), BELLE_MU_EFF, np.radians([90.0]))[0] == 0.0
    # the KLM covers less than the barrel far forward and nothing behind the backward endcap
    deg = np.radians(np.array([20.0, 90.0, 160.0]))
    eff = muon_efficiency(np.full(3, 2.0), BELLE_MU_EFF, deg)
    assert 0.0 < eff[0] < eff[1] and eff[2] == 0.0
