"""Four-vector kinematics on numpy arrays.

Four-vectors are arrays of shape (..., 4) ordered (E, px, py, pz) in GeV. The lab frame is
Belle II's: z along the solenoid axis, the HER (e-) beam tilted towards +x.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mlsearch.physics import constants as c

__all__ = [
    "beam_four_momenta",
    "boost",
    "cms_boost_vector",
    "cos_theta",
    "invariant_mass2",
    "minkowski_dot",
    "momentum",
    "polar_angle",
    "recoil_mass2",
    "rotate_to_z",
    "rotate_z_to",
]

FloatArray = NDArray[np.float64]


def minkowski_dot(a: FloatArray, b: FloatArray) -> FloatArray:
    """Minkowski product a.b with metric (+,-,-,-) [GeV^2]."""
    return np.asarray(
        a[..., 0] * b[..., 0]
        - a[..., 1] * b[..., 1]
        - a[..., 2] * b[..., 2]
        - a[..., 3] * b[..., 3]
    )


def invariant_mass2(p: FloatArray) -> FloatArray:
    """Squared invariant mass p.p [GeV^2].

    >>> float(invariant_mass2(np.array([5.0, 3.0, 0.0, 0.0])))
    16.0
    """
    return minkowski_dot(p, p)


def momentum(p: FloatArray) -> FloatArray:
    """Magnitude of the three-momentum [GeV]."""
    return np.asarray(np.sqrt(p[..., 1] ** 2 + p[..., 2] ** 2 + p[..., 3] ** 2))


def cos_theta(p: FloatArray) -> FloatArray:
    """Cosine of the polar angle to +z (0 for a null momentum)."""
    mag = momentum(p)
    return np.divide(p[..., 3], mag, out=np.zeros_like(mag), where=mag > 0)


def polar_angle(p: FloatArray) -> FloatArray:
    """Polar angle to +z [rad], in [0, pi] (arctan2: exact near the beams, where arccos of
    the cosine loses digits)."""
    return np.asarray(np.arctan2(np.hypot(p[..., 1], p[..., 2]), p[..., 3]))


def beam_four_momenta(
    e_her: FloatArray | float = c.E_HER, e_ler: FloatArray | float = c.E_LER
) -> tuple[FloatArray, FloatArray]:
    """Lab four-momenta of the e- (HER) and e+ (LER) beams [GeV].

    Both beams are tilted by HALF_CROSSING_ANGLE in the x-z plane so that their sum has
    px > 0 (83 mrad total crossing angle).

    >>> em, ep = beam_four_momenta()
    >>> round(float(np.sqrt(invariant_mass2(em + ep))), 4)
    10.5796
    """
    e1 = np.asarray(e_her, dtype=np.float64)
    e2 = np.asarray(e_ler, dtype=np.float64)
    p1 = np.sqrt(e1**2 - c.M_E**2)
    p2 = np.sqrt(e2**2 - c.M_E**2)
    sa, ca = np.sin(c.HALF_CROSSING_ANGLE), np.cos(c.HALF_CROSSING_ANGLE)
    electron = np.stack([e1, p1 * sa, np.zeros_like(p1), p1 * ca], axis=-1)
    positron = np.stack([e2, p2 * sa, np.zeros_like(p2), -p2 * ca], axis=-1)
    return electron, positron


def cms_boost_vector(p_total: FloatArray) -> FloatArray:
    """Velocity beta (..., 3) of the centre-of-mass frame seen from the lab."""
    return p_total[..., 1:] / p_total[..., :1]


def boost(p: FloatArray, beta: FloatArray) -> FloatArray:
    """Boost four-vectors p into the frame that moves with velocity beta.

    A particle at rest in the lab has, after ``boost(p, beta)``, momentum -gamma*m*beta.
    To go from a frame back to the lab, boost by -beta.

    >>> p = np.array([1.0, 0.0, 0.0, 0.0])
    >>> np.round(boost(p, np.array([0.0, 0.0, 0.6])), 6).tolist()
    [1.25, 0.0, 0.0, -0.75]
    """
    beta = np.asarray(beta, dtype=np.float64)
    # component arithmetic: numpy reductions over a length-3 axis are slow
    bx, by, bz = beta[..., 0], beta[..., 1], beta[..., 2]
    e, px, py, pz = p[..., 0], p[..., 1], p[..., 2], p[..., 3]
    b2 = bx * bx + by * by + bz * bz
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = bx * px + by * py + bz * pz
    safe_b2 = np.where(b2 > 0, b2, 1.0)
    gamma2 = np.where(b2 > 0, (gamma - 1.0) / safe_b2, 0.0)
    shift = gamma2 * bp - gamma * e
    out = np.empty(np.broadcast_shapes(p.shape, (*beta.shape[:-1], 4)))
    out[..., 0] = gamma * (e - bp)
    out[..., 1] = px + shift * bx
    out[..., 2] = py + shift * by
    out[..., 3] = pz + shift * bz
    return out


def rotate_z_to(p: FloatArray, direction: FloatArray) -> FloatArray:
    """Rotate four-vectors so that the +z axis goes to the unit vector ``direction`` (..., 3).

    The rotation is the minimal one (about the axis z x direction).
    """
    return _rotate(p, direction, 1.0)


def rotate_to_z(p: FloatArray, direction: FloatArray) -> FloatArray:
    """The inverse of :func:`rotate_z_to`: rotate four-vectors so that the unit vector
    ``direction`` (..., 3) goes to the +z axis.

    >>> d = np.array([0.6, 0.0, 0.8])
    >>> p = np.array([1.0, 0.1, -0.2, 0.3])
    >>> np.allclose(rotate_to_z(rotate_z_to(p, d), d), p)
    True
    """
    return _rotate(p, direction, -1.0)


def _rotate(p: FloatArray, direction: FloatArray, sign: float) -> FloatArray:
    d = direction / np.linalg.norm(direction, axis=-1, keepdims=True)
    ct = d[..., 2]
    st = sign * np.sqrt(np.clip(1.0 - ct**2, 0.0, None))
    phi = np.arctan2(d[..., 1], d[..., 0])
    cp, sp = np.cos(phi), np.sin(phi)
    x, y, z = p[..., 1], p[..., 2], p[..., 3]
    # R = Rz(phi) Ry(theta) Rz(-phi): maps z onto d and leaves the azimuth convention intact
    # (sign -1: Ry(-theta), its inverse).
    x1 = cp * x + sp * y
    y1 = -sp * x + cp * y
    x2 = ct * x1 + st * z
    z2 = -st * x1 + ct * z
    x3 = cp * x2 - sp * y1
    y3 = sp * x2 + cp * y1
    return np.stack([p[..., 0], x3, y3, z2], axis=-1)


def recoil_mass2(p_initial: FloatArray, p_visible: FloatArray) -> FloatArray:
    """Squared mass recoiling against ``p_visible`` given the initial state [GeV^2].

    >>> pi = np.array([10.0, 0.0, 0.0, 0.0])
    >>> float(recoil_mass2(pi, np.array([4.0, 0.0, 0.0, 3.0])))
    27.0
    """
    return invariant_mass2(p_initial - p_visible)
