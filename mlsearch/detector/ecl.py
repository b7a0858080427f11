"""ECL response pieces shared by the crystal-level simulation: the design energy resolution
and the minimum-ionising deposit of a muon (or a non-interacting hadron).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mlsearch.detector.geometry import ecl_region

__all__ = ["energy_resolution", "muon_deposit"]

FloatArray = NDArray[np.float64]


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
