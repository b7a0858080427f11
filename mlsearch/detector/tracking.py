"""Charged tracks: CDC acceptance, efficiency, momentum and angular resolution."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mlsearch.detector.geometry import CDC_THETA

__all__ = ["PT_MIN", "pt_resolution", "reconstruct_tracks"]

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
    pt = np.hypot(p3[:, 0], p3[:, 1])
    p = np.linalg.norm(p3, axis=1)
    theta = np.arccos(np.clip(p3[:, 2] / np.where(p > 0, p, 1), -1, 1))
    phi = np.arctan2(p3[:, 1], p3[:, 0])
    found = (theta > CDC_THETA[0]) & (theta < CDC_THETA[1]) & (pt > pt_min)
    found &= rng.uniform(size=len(pt)) < efficiency
    pt_meas = pt * (1 + pt_resolution(pt, mass, *resolution) * rng.standard_normal(len(pt)))
    theta_meas = theta + sigma_angle * rng.standard_normal(len(pt))
    phi_meas = phi + sigma_angle * rng.standard_normal(len(pt))
    p_meas = np.abs(pt_meas) / np.sin(theta_meas)
    out = np.stack(
        [
            p_meas * np.sin(theta_meas) * np.cos(phi_meas),
            p_meas * np.sin(theta_meas) * np.sin(phi_meas),
            p_meas * np.cos(theta_meas),
        ],
        axis=1,
    )
    return found, out
