"""Radiation on the four signals: ISR off both beams (with_isr), FSR off the Z' leptons.

Each check would fail if the radiation were missing, double counted or mis-normalised."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlsearch.generate import generate_process
from mlsearch.physics.constants import M_MU
from mlsearch.physics.kinematics import (
    beam_four_momenta,
    boost,
    cms_boost_vector,
    invariant_mass2,
    recoil_mass2,
)
from mlsearch.validation.references import signal_with_isr_fb, zprime_dalitz_fb

EM, EP = beam_four_momenta()
S = float(invariant_mass2(EM + EP))


def _cms(p4: np.ndarray) -> np.ndarray:
    return boost(p4, cms_boost_vector(EM + EP))


@pytest.mark.parametrize(
    ("process", "mass"), [("dark_photon", 1.0), ("dark_photon", 6.0), ("alp", 4.0)]
)
def test_photon_signal_cross_section_with_isr_matches_the_ordered_convolution(process, mass):
    """The generator (dipole angles, hard-photon factor, ordering by event) against a
    quadrature in (y1, y2, cos) of the Born dsigma/dcos with collinear ISR softer than the
    process's photon; the Born alone differs by +6 % (1 GeV A'), +2 %, -5.5 %."""
    sample = generate_process(process, 40_000, 1, mass=mass, coupling=1.0, energy_spread=False)
    ref = signal_with_isr_fb(process, mass)
    assert sample.cross_section_fb == pytest.approx(ref, rel=0.006)
    born = generate_process(
        process, 2000, 1, mass=mass, coupling=1.0, energy_spread=False, radiation=False
    )
    assert abs(born.cross_section_fb / ref - 1) > 0.015  # the check can tell


def test_zprime_cross_section_with_isr_matches_the_convolution():
    mass = 5.0
    sample = generate_process(
        "zprime", 40_000, 1, mass=mass, coupling=1.0, invisible_br="one", energy_spread=False
    )
    ref = signal_with_isr_fb("zprime", mass, s_nodes=30)
    assert sample.cross_section_fb == pytest.approx(ref, rel=0.012)
    assert zprime_dalitz_fb(mass, 1.0, math.sqrt(S), M_MU, 240) / ref > 1.05  # Born: +9 %


def test_zprime_recoil_gets_its_radiative_tail_and_only_upward():
    """Lost photons make the recoil against the muons heavier, never lighter: (P - mu mu)^2
    = (Z' + photons)^2 >= M^2; about a third of the events move by more than 0.1 GeV^2."""
    mass = 3.0
    rad = generate_process("zprime", 5000, 2, mass=mass, coupling=0.01, energy_spread=False)
    assert rad.p4.shape[1] == 7 and (rad.pdg[:, 3:] == 22).all()
    rm2 = recoil_mass2(EM + EP, rad.p4[:, 0] + rad.p4[:, 1])
    assert rm2.min() > mass**2 - 1e-4
    moved = np.mean(rm2 > mass**2 + 0.1)
    assert 0.1 < moved < 0.6
    # the Z' with every photon is still the whole recoil (1 keV photons dropped)
    z_and_photons = rad.p4[:, 2] + rad.p4[:, 3:].sum(axis=1)
    np.testing.assert_allclose(rm2, invariant_mass2(z_and_photons), atol=1e-4)


def test_isr_photons_are_softer_than_the_signal_photon_in_the_cm():
    sample = generate_process("dark_photon", 5000, 3, mass=2.0, energy_spread=False)
    cms = _cms(sample.p4)
    assert (cms[:, 2:, 0] < cms[:, :1, 0]).all()
    # and they do radiate: some photon above 0.1 GeV in a tenth of the events or more
    assert np.mean(cms[:, 2:, 0].max(axis=1) > 0.1) > 0.1


def test_lfv_fsr_lets_the_electron_radiate_more_than_the_muon():
    """Each lepton radiates with its own exponent: beta_f = 2 alpha/pi (ln(M^2/m^2) - 1) is
    ~2.2x larger for the electron; the mean FSR photon energy follows."""
    sample = generate_process("lfv_zprime", 20_000, 4, mass=2.0, energy_spread=False)
    fsr = sample.p4[:, 5:7, 0]  # off the negative, off the positive lepton
    electron_first = sample.pdg[:, 0] == 11
    e_fsr = np.where(electron_first, fsr[:, 0], fsr[:, 1])
    mu_fsr = np.where(electron_first, fsr[:, 1], fsr[:, 0])
    ratio = e_fsr.mean() / mu_fsr.mean()
    assert 1.6 < ratio < 3.2
    total = sample.p4[:, [0, 1, 2, 3, 4, 5, 6]].sum(axis=1)
    np.testing.assert_allclose(total, np.tile(EM + EP, (len(sample), 1)), atol=2e-5)
