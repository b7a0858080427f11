"""Truth-level filters applied between the generator and the simulation: they drop events
that cannot pass a selection, before the (slower) detector simulation spends time on them.

A filter keeps the weights of the events it keeps: the sample's weights still sum to the
cross section of what is kept, and the dropped events' share is recorded as the filter's
acceptance. It is exact for any selection that needs what it asks for (tests/test_filters.py
checks the selected yield and distributions against an unfiltered sample).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mlsearch.physics.acceptance import CDC_THETA

__all__ = ["CHARGED_PDG", "ChargedFilter"]

#: the particles the simulation can turn into tracks (|pdg|)
CHARGED_PDG = (11, 13, 211, 321)
#: the filter's angular margin around the CDC acceptance [rad]: the simulation decides on the
#: true angle, so any margin is safe; one degree covers multiple scattering
THETA_MARGIN = float(np.radians(1.0))


@dataclass(frozen=True)
class ChargedFilter:
    """Keep events with at least ``count`` charged particles (e, mu, pi, K) inside the CDC
    acceptance (17-150 deg, one degree of margin) with lab momentum >= ``p_min`` [GeV].

    For the Z' search: two tracks passing muonID need two charged particles above 0.6 GeV
    (below it no track passes, detector/pid.py; beam-background tracks fail it), so
    ``ChargedFilter(2, 0.5)`` drops nothing the selection could keep, with 0.1 GeV of margin
    for the momentum resolution (0.3 % at 1 GeV)."""

    count: int
    p_min: float

    def keep(self, pdg: NDArray[np.int32], p4_lab: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Per event, from fixed slots: pdg (n, k), lab four-momenta (n, k, 4) [GeV].

        >>> f = ChargedFilter(2, 0.5)
        >>> mu = [1.0, 1.0, 0.0, 0.0]; slow = [0.3, 0.3, 0.0, 0.0]; fwd = [2.0, 0.0, 0.1, 2.0]
        >>> f.keep(np.array([[13, -13], [13, -13], [13, 22]]),
        ...        np.array([[mu, mu], [mu, slow], [mu, mu]])).tolist()
        [True, False, False]
        >>> f.keep(np.array([[13, 211]]), np.array([[mu, fwd]])).tolist()  # 3 deg: outside
        [False]
        """
        charged = np.isin(np.abs(pdg), CHARGED_PDG) & (p4_lab[..., 0] > 0)
        p = np.linalg.norm(p4_lab[..., 1:], axis=-1)
        theta = np.arccos(np.clip(p4_lab[..., 3] / np.where(p > 0, p, 1.0), -1, 1))
        inside = (theta > CDC_THETA[0] - THETA_MARGIN) & (theta < CDC_THETA[1] + THETA_MARGIN)
        return np.asarray((charged & inside & (p >= self.p_min)).sum(axis=1) >= self.count)
