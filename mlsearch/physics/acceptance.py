"""The Belle II tracking acceptance, where generators (truth filters) and the detector
simulation can both reach it.

The CDC covers 17 deg < theta_lab < 150 deg (Belle II Technical Design Report,
arXiv:1011.0352, ch. 6); tracks reach it above pT ~ 0.1 GeV in the 1.5 T field.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["CDC_THETA", "TrackAcceptance"]

CDC_THETA = (float(np.radians(17.0)), float(np.radians(150.0)))  # lab polar angle [rad]


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
