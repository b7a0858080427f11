"""ECL response (skeleton level): photon clusters and minimum-ionising muon deposits.

Crystal-level showers and the basf2 shower-shape variables are the fast-simulation issue's
work; here a photon becomes one cluster with the design energy resolution and a muon leaves a
Landau-like MIP deposit.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mlsearch.detector.geometry import ecl_region

__all__ = [
    "CLUSTER_E_MIN",
    "electron_deposit",
    "energy_resolution",
    "hadron_deposit",
    "muon_deposit",
    "photon_clusters",
]

FloatArray = NDArray[np.float64]
CLUSTER_E_MIN = 0.020  # clusters are stored above 20 MeV [GeV]


def energy_resolution(e: FloatArray) -> FloatArray:
    """Relative photon energy resolution 0.066%/E (+) 0.81%/E^(1/4) (+) 1.34%, E in GeV.

    >>> round(float(energy_resolution(np.array(1.0))), 4)
    0.0157
    """
    return np.sqrt((0.00066 / e) ** 2 + (0.0081 / e**0.25) ** 2 + 0.0134**2)


def muon_deposit(theta: FloatArray, rng: np.random.Generator) -> FloatArray:
    """ECL energy of a muon [GeV]: ~0.19 GeV MIP peak with a Landau (Moyal) tail; 0 outside."""
    n = len(theta)
    inside = np.isin(ecl_region(theta), (1, 2, 3))
    moyal = -np.log(rng.standard_normal(n) ** 2 + 1e-300)
    energy = np.clip(0.175 + 0.012 * moyal, 0.0, None)
    return np.where(inside, energy, 0.0)


def electron_deposit(energy: FloatArray, theta: FloatArray, rng: np.random.Generator) -> FloatArray:
    """ECL energy of an electron track [GeV]: a full electromagnetic shower, 0 outside."""
    inside = np.isin(ecl_region(theta), (1, 2, 3))
    sigma = energy_resolution(np.where(energy > 0, energy, 1.0))
    return np.where(
        inside, np.clip(energy * (1 + sigma * rng.standard_normal(len(energy))), 0.0, None), 0.0
    )


def hadron_deposit(energy: FloatArray, theta: FloatArray, rng: np.random.Generator) -> FloatArray:
    """ECL energy of a charged pion or kaon [GeV]: about half of them pass as minimum
    ionising (0.9 nuclear interaction lengths of CsI), the rest start a hadronic shower that
    leaves 20-90 % of the energy."""
    n = len(energy)
    mip = muon_deposit(theta, rng)
    shower = energy * rng.uniform(0.2, 0.9, n)
    inside = np.isin(ecl_region(theta), (1, 2, 3))
    return np.where(rng.uniform(size=n) < 0.5, mip, np.where(inside, shower, 0.0))


def photon_clusters(
    energy: FloatArray, theta: FloatArray, phi: FloatArray, rng: np.random.Generator
) -> tuple[NDArray[np.bool_], FloatArray, FloatArray, FloatArray, NDArray[np.int32]]:
    """Clusters of photons: (kept mask, clusterE, clusterTheta, clusterPhi, clusterReg).

    Photons in the barrel-endcap gaps or outside 12.4-155.1 deg are lost.
    """
    reg = ecl_region(theta)
    sigma = energy_resolution(np.where(energy > 0, energy, 1.0))
    e_meas = energy * (1 + sigma * rng.standard_normal(len(energy)))
    # position resolution ~ 5 mrad / sqrt(E) with a 1 mrad floor
    sigma_pos = np.hypot(5e-3 / np.sqrt(np.where(energy > 0, energy, 1.0)), 1e-3)
    theta_meas = theta + sigma_pos * rng.standard_normal(len(energy))
    phi_meas = phi + sigma_pos * rng.standard_normal(len(energy))
    kept = np.isin(reg, (1, 2, 3)) & (e_meas > CLUSTER_E_MIN)
    return kept, e_meas, theta_meas, phi_meas, reg
