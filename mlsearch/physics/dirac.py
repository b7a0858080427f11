"""Dirac matrices for numerical spin-summed matrix elements (Dirac representation)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["GAMMA", "METRIC", "slash"]

_I2 = np.eye(2, dtype=np.complex128)
_Z2 = np.zeros((2, 2), dtype=np.complex128)
_PAULI = [
    np.array([[0, 1], [1, 0]], dtype=np.complex128),
    np.array([[0, -1j], [1j, 0]], dtype=np.complex128),
    np.array([[1, 0], [0, -1]], dtype=np.complex128),
]

#: gamma^mu with upper index, shape (4, 4, 4): GAMMA[mu] is a 4x4 matrix.
GAMMA = np.stack(
    [np.block([[_I2, _Z2], [_Z2, -_I2]])] + [np.block([[_Z2, s], [-s, _Z2]]) for s in _PAULI]
)
#: metric diag(+,-,-,-)
METRIC = np.diag([1.0, -1.0, -1.0, -1.0])


def slash(p: NDArray[np.float64]) -> NDArray[np.complex128]:
    """Feynman slash gamma^mu p_mu for four-vectors p (..., 4) -> (..., 4, 4).

    >>> p = np.array([2.0, 0.3, -0.4, 1.0])
    >>> m2 = p[0]**2 - p[1]**2 - p[2]**2 - p[3]**2
    >>> bool(np.allclose(slash(p) @ slash(p), m2 * np.eye(4)))
    True
    """
    p_lower = p * np.diag(METRIC)
    return np.einsum("...m,mij->...ij", p_lower.astype(np.complex128), GAMMA)
