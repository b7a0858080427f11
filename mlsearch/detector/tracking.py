"""Charged tracks: CDC acceptance, efficiency, momentum and angular resolution."""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

from mlsearch.physics.acceptance import CDC_THETA

__all__ = ["PT_MIN", "pt_resolution", "reconstruct_tracks", "track_loss_weights", "trackable"]

FloatArray = NDArray[np.float64]
PT_MIN = 0.1  # tracks reach the CDC above ~0.1 GeV [GeV]
SIGMA_ANGLE = 1.0e-3  # polar and azimuthal resolution at high momentum [rad]


def pt_resolution(
    pt: FloatArray, mass: float | FloatArray, a: float = 0.0011, b: float = 0.0025
) -> FloatArray:
    """Relative transverse-momentum resolution sigma(pT)/pT = a pT (+) b/beta (design:
    a = 0.0011 / GeV, b = 0.0025).

    >>> round(float(pt_resolution(np.array(5.0), 0.10566)), 5)
    0.00604
    """
    p_over_e = pt / np.sqrt(pt**2 + np.asarray(mass) ** 2)
    return np.hypot(a * pt, b / p_over_e)


def trackable(p3: FloatArray, pt_min: float = PT_MIN) -> NDArray[np.bool_]:
    """Which particles (n, 3 momenta [GeV]) the CDC can find: inside its polar acceptance
    and above ``pt_min`` (the condition of :func:`reconstruct_tracks`, which finds each of
    them with probability ``efficiency``)."""
    pt = np.hypot(p3[:, 0], p3[:, 1])
    theta = np.arctan2(pt, p3[:, 2])
    return np.asarray((theta > CDC_THETA[0]) & (theta < CDC_THETA[1]) & (pt > pt_min))


def track_loss_weights(
    found: NDArray[np.bool_], findable: NDArray[np.bool_], efficiency: float, loss: float
) -> FloatArray:
    """Per particle, the weight of a biased track finding that lost each findable track with
    probability ``loss`` instead of 1 - ``efficiency``: efficiency / (1 - loss) for a found
    track, (1 - efficiency) / loss for a lost one, 1 for particles the CDC cannot find.

    >>> track_loss_weights(np.array([True, False, False]), np.array([True, True, False]),
    ...                    0.99, 0.5).round(4).tolist()
    [1.98, 0.02, 1.0]
    """
    lost = findable & ~found
    return np.where(found, efficiency / (1 - loss), np.where(lost, (1 - efficiency) / loss, 1.0))


def reconstruct_tracks(
    p3: FloatArray,
    mass: FloatArray,
    efficiency: float,
    rng: np.random.Generator,
    pt_min: float = PT_MIN,
    resolution: tuple[float, float] = (0.0011, 0.0025),
    sigma_angle: float = SIGMA_ANGLE,
) -> tuple[NDArray[np.bool_], FloatArray]:
    """Which charged particles (n, 3 momenta [GeV]) become tracks, and their measured momenta.

    Returns (found mask, smeared momenta for all rows).
    """
    n = len(p3)
    accept = rng.uniform(size=n)
    normals = rng.standard_normal((3, n))  # pT, theta, phi smearing
    found, out = _smear(
        np.ascontiguousarray(p3, np.float64),
        np.broadcast_to(np.asarray(mass, np.float64), (n,)).copy(),
        accept,
        normals,
        float(efficiency),
        float(pt_min),
        float(resolution[0]),
        float(resolution[1]),
        float(sigma_angle),
        float(CDC_THETA[0]),
        float(CDC_THETA[1]),
    )
    return found, out


@njit(cache=True, error_model="numpy")  # a track along the beam divides by pT = 0
def _smear(
    p3: FloatArray,
    mass: FloatArray,
    accept: FloatArray,
    normals: FloatArray,
    efficiency: float,
    pt_min: float,
    a: float,
    b: float,
    sigma_angle: float,
    theta_min: float,
    theta_max: float,
) -> tuple[NDArray[np.bool_], FloatArray]:
    """The per-track loop of reconstruct_tracks (pt_resolution inlined)."""
    n = p3.shape[0]
    found = np.empty(n, np.bool_)
    out = np.empty((n, 3))
    for i in range(n):
        px, py, pz = p3[i, 0], p3[i, 1], p3[i, 2]
        pt = math.hypot(px, py)
        p = math.sqrt(px * px + py * py + pz * pz)
        theta = math.acos(min(max(pz / p if p > 0 else pz, -1.0), 1.0))
        phi = math.atan2(py, px)
        found[i] = theta_min < theta < theta_max and pt > pt_min and accept[i] < efficiency
        p_over_e = pt / math.sqrt(pt * pt + mass[i] * mass[i])
        rel = math.hypot(a * pt, b / p_over_e)
        pt_meas = abs(pt * (1.0 + rel * normals[0, i]))
        theta_meas = theta + sigma_angle * normals[1, i]
        phi_meas = phi + sigma_angle * normals[2, i]
        out[i, 0] = pt_meas * math.cos(phi_meas)
        out[i, 1] = pt_meas * math.sin(phi_meas)
        out[i, 2] = pt_meas / math.tan(theta_meas)
    return found, out
