"""The Belle II tracking acceptance, where generators (truth filters) and the detector
simulation can both reach it.

The CDC covers 17 deg < theta_lab < 150 deg (Belle II Technical Design Report,
arXiv:1011.0352, ch. 6); tracks reach it above pT ~ 0.1 GeV in the 1.5 T field. The ECL's
crystals cover three polar ranges (forward endcap, barrel, backward endcap; TDR ch. 9):
a photon between them (the barrel-endcap gaps) or beyond them leaves no cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["CDC_THETA", "ECL_THETA_DEG", "TrackAcceptance", "in_ecl"]

CDC_THETA = (float(np.radians(17.0)), float(np.radians(150.0)))  # lab polar angle [rad]
#: lab polar-angle ranges of the ECL crystals [deg]: forward endcap, barrel, backward endcap
ECL_THETA_DEG = ((12.4, 31.4), (32.2, 128.7), (130.7, 155.1))


def in_ecl(theta: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Whether lab polar angles [rad] point at an ECL crystal (the crystals do not point at
    the interaction point, so only the gaps between the regions and beyond them lose photons).

    >>> in_ecl(np.radians([10.0, 20.0, 31.8, 90.0, 129.0, 150.0, 160.0])).tolist()
    [False, True, False, True, False, True, False]
    """
    deg = np.degrees(theta)
    inside = np.zeros(np.shape(deg), dtype=bool)
    for low, high in ECL_THETA_DEG:
        inside |= (deg >= low) & (deg < high)
    return inside


@dataclass(frozen=True)
class TrackAcceptance:
    """A charged particle is reconstructable if theta_min < theta_lab < theta_max [rad] and
    pT > pt_min [GeV]."""

    pt_min: float
    theta_min: float = CDC_THETA[0]
    theta_max: float = CDC_THETA[1]

    def contains(self, p4_lab: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Per particle (last axis E, px, py, pz [GeV], lab frame).

        >>> acc = TrackAcceptance(pt_min=0.1)
        >>> acc.contains(np.array([[1.0, 0.5, 0.0, 0.0], [1.0, 0.0, 0.0, 1.0]])).tolist()
        [True, False]
        """
        pt = np.hypot(p4_lab[..., 1], p4_lab[..., 2])
        theta = np.arctan2(pt, p4_lab[..., 3])
        return (theta > self.theta_min) & (theta < self.theta_max) & (pt > self.pt_min)
