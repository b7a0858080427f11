"""Truth-level topologies of e e (gamma) events that the ring sampling of generate/bhabha.py
aims at, as the closure tests and scripts/validate_mc_sampling.py count them."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mlsearch.generate.bhabha import compton_region
from mlsearch.physics.acceptance import CDC_THETA, in_ecl
from mlsearch.physics.kinematics import polar_angle

__all__ = ["ring_topologies"]

E_MIN = 0.25  # GeV, lab: an electron or photon that makes a photon candidate


def ring_topologies(
    p4: NDArray[np.float64],
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """For lab-frame e e (gamma) events (n, k, 4; slots e-, e+, photon, ...): the photon in
    the ECL above E_MIN and (1) both electrons in the "ring" (ECL crystals outside the CDC,
    above E_MIN), (2) one electron there and the other past the ECL (no crystal, no CDC);
    and (3) the generator's Compton region (one electron past the ECL, the other and the
    photon in the ECL on one side, :func:`~mlsearch.generate.bhabha.compton_region`)."""
    theta = polar_angle(p4)
    outside = (theta < CDC_THETA[0]) | (theta > CDC_THETA[1])
    ring = in_ecl(theta) & outside & (p4[..., 0] > E_MIN)
    past = outside & ~in_ecl(theta)
    photon = in_ecl(theta[:, 2]) & (p4[:, 2, 0] > E_MIN)
    both = ring[:, 0] & ring[:, 1] & photon
    one = ((ring[:, 0] & past[:, 1]) | (ring[:, 1] & past[:, 0])) & photon
    return np.asarray(both), np.asarray(one), compton_region(p4)
