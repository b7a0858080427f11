"""Detector acceptances in the lab frame: ECL regions (Belle II Technical Design Report,
arXiv:1011.0352, ch. 8; numbers in docs/simulation.md). The CDC acceptance lives in
mlsearch.physics.acceptance, where the generators' truth filters reach it too."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["ecl_region"]

_FWD = (np.radians(12.4), np.radians(31.4))
_BARREL = (np.radians(32.2), np.radians(128.7))
_BWD = (np.radians(130.7), np.radians(155.1))


def ecl_region(theta: NDArray[np.float64]) -> NDArray[np.int32]:
    """basf2 clusterReg for lab polar angles [rad]: 1 fwd, 2 barrel, 3 bwd, 11/13 gaps, 0 out.

    >>> ecl_region(np.radians(np.array([10.0, 20.0, 31.8, 90.0, 129.0, 140.0]))).tolist()
    [0, 1, 11, 2, 13, 3]
    """
    reg = np.zeros(theta.shape, dtype=np.int32)
    reg[(theta >= _FWD[0]) & (theta < _FWD[1])] = 1
    reg[(theta >= _FWD[1]) & (theta < _BARREL[0])] = 11
    reg[(theta >= _BARREL[0]) & (theta <= _BARREL[1])] = 2
    reg[(theta > _BARREL[1]) & (theta < _BWD[0])] = 13
    reg[(theta >= _BWD[0]) & (theta <= _BWD[1])] = 3
    return reg
