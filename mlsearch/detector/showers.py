"""Crystal-level ECL showers: deposits per crystal and the basf2 cluster variables.

A particle reaching the ECL deposits its energy in the 5x5 crystals around the crystal it hits.
Lateral profiles are sums of two 2-D Gaussians (a core and a halo, widths in cm on the front
face) whose integral over each crystal's face is a product of error functions, so a shower
near a crystal edge shares its energy with the neighbour (E1/E9 drops) and two photons closer
than a crystal merge. Electromagnetic showers: core 0.7 cm (85 %) + halo 3.5 cm (the Moliere
radius of CsI); hadronic showers: 2.5 cm (50 %) + 7 cm; muons and non-interacting hadrons
leave a minimum-ionising deposit in one crystal. The fractions are normalised over the 5x5, so
the crystal energies add up to the deposited energy before resolution effects. The numba
kernel of :mod:`mlsearch.detector.cluster_kernel` runs by default; the numpy code here is its
tested reference. Clustering and the cluster variables: :mod:`mlsearch.detector.clustering`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

from mlsearch.detector.ecl_geometry import (
    CRYSTAL_PHI,
    CRYSTAL_RING,
    CRYSTAL_THETA,
    NEIGHBOURS,
    RING_EDGES,
    RING_N_PHI,
    crystal_at,
    front_face_distance,
)

__all__ = [
    "EM",
    "HADRONIC",
    "Deposits",
    "Profile",
    "mip_deposits",
    "photon_containment",
    "shower_deposits",
    "shower_fractions",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

BLOCK = 16_384  # rows per vectorised block: temporaries stay in cache, no page-fault churn
DIGIT_E_MIN = 0.0005  # GeV: crystal signals below ~3 sigma of the electronic noise are dropped
_CORNERS = np.zeros((5, 5), dtype=bool)
_CORNERS[[0, 0, 4, 4], [0, 4, 0, 4]] = True
_IN21 = ~_CORNERS.ravel()
_ROW_CENTRES = np.arange(5) * 5 + 2  # the centre column of each ring row of the 5x5 grid


@dataclass(frozen=True)
class Profile:
    """Lateral profile: Gaussian widths [cm] and their weights."""

    sigmas: tuple[float, ...]
    weights: tuple[float, ...]


EM = Profile((0.7, 3.5), (0.85, 0.15))
HADRONIC = Profile((2.5, 7.0), (0.5, 0.5))


@dataclass(frozen=True)
class Deposits:
    """Energy deposits: one row per (particle, crystal); ``particle`` indexes the flat truth
    particle list (-1: beam background)."""

    event: IntArray
    crystal: IntArray
    energy: FloatArray
    particle: IntArray

    @staticmethod
    def concat(parts: list[Deposits]) -> Deposits:
        return Deposits(
            np.concatenate([p.event for p in parts]),
            np.concatenate([p.crystal for p in parts]),
            np.concatenate([p.energy for p in parts]),
            np.concatenate([p.particle for p in parts]),
        )


def _wrap(angle: FloatArray) -> FloatArray:
    """Angle differences into [-pi, pi] (arithmetic: np.mod is several times slower)."""
    return np.asarray(angle - 2 * np.pi * np.round(angle / (2 * np.pi)))


def _local_offsets(
    crystals: IntArray, theta: FloatArray, phi: FloatArray
) -> tuple[FloatArray, ...]:
    """(u, v, half-width u, half-width v) [cm] of crystals (n, k) on the front face around
    the impact point (theta, phi) of each row."""
    dist = front_face_distance(theta)[:, None]
    sin_t = np.sin(theta)[:, None]
    c = np.where(crystals >= 0, crystals, 0)
    u = (np.take(CRYSTAL_THETA, c) - theta[:, None]) * dist
    dphi = _wrap(np.take(CRYSTAL_PHI, c) - phi[:, None])
    v = dphi * sin_t * dist
    ring = CRYSTAL_RING[c]
    half_u = (RING_EDGES[ring, 1] - RING_EDGES[ring, 0]) / 2 * dist
    half_v = np.pi / RING_N_PHI[ring] * sin_t * dist
    return u, v, half_u, half_v


def shower_fractions(
    theta: FloatArray, phi: FloatArray, profile: Profile, scale: FloatArray | None = None
) -> tuple[IntArray, FloatArray]:
    """Crystals (n, 25) around the impact point and the fraction of the shower in each
    (rows sum to 1; -1 / 0 where no crystal); rows of particles that miss the ECL are -1.
    ``scale`` (n,) multiplies the profile widths per shower (shower-to-shower fluctuations).
    Computed in blocks of BLOCK rows."""
    if len(theta) <= BLOCK:
        return _fractions_block(theta, phi, profile, scale)
    parts = [
        _fractions_block(
            theta[i : i + BLOCK],
            phi[i : i + BLOCK],
            profile,
            None if scale is None else scale[i : i + BLOCK],
        )
        for i in range(0, len(theta), BLOCK)
    ]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _fractions_block(
    theta: FloatArray, phi: FloatArray, profile: Profile, scale: FloatArray | None = None
) -> tuple[IntArray, FloatArray]:
    """Crystals (n, 25) around the impact point and the fraction of the shower in each
    (rows sum to 1; -1 / 0 where no crystal); rows of particles that miss the ECL are -1.
    ``scale`` (n,) multiplies the profile widths per shower (shower-to-shower fluctuations)."""
    centre = crystal_at(theta, phi)
    hit = centre >= 0
    crystals = np.where(hit[:, None], NEIGHBOURS[np.where(hit, centre, 0)].reshape(-1, 25), -1)
    u, v, hu, hv = _local_offsets(crystals, theta, phi)
    frac = np.zeros(crystals.shape)
    factor = np.ones((len(theta), 1)) if scale is None else np.asarray(scale)[:, None]
    # the five crystals of a grid row share their ring, so u and its half-width: evaluate the
    # polar factor once per row (the centre column) and broadcast it
    u_row, hu_row = u[:, _ROW_CENTRES], hu[:, _ROW_CENTRES]
    for width, weight in zip(profile.sigmas, profile.weights, strict=True):
        sigma = width * factor
        fu = ndtr((u_row + hu_row) / sigma) - ndtr((u_row - hu_row) / sigma)
        fv = ndtr((v + hv) / sigma) - ndtr((v - hv) / sigma)
        frac += weight * np.repeat(fu, 5, axis=1) * fv
    frac = np.where(crystals >= 0, frac, 0.0)
    total = frac.sum(axis=1, keepdims=True)
    frac = np.where(total > 0, frac / np.where(total > 0, total, 1.0), 0.0)
    return crystals, frac


def shower_deposits(
    event: IntArray,
    particle: IntArray,
    theta: FloatArray,
    phi: FloatArray,
    energy: FloatArray,
    profile: Profile,
    threshold: float = DIGIT_E_MIN,
    scale: FloatArray | None = None,
    compiled: bool = True,
    centre: IntArray | None = None,
) -> Deposits:
    """Spread deposited energies [GeV] over the crystals with ``profile`` (widths times
    ``scale`` per shower); crystal signals below ``threshold`` [GeV] are dropped (the
    digitisation threshold). ``compiled``: the numba kernel (default) or the numpy
    reference of :func:`shower_fractions`. ``centre``: crystal_at(theta, phi) when the
    caller has it already."""
    if compiled:
        from mlsearch.detector.cluster_kernel import shower_cells

        rows, cells, values = shower_cells(
            crystal_at(theta, phi) if centre is None else centre,
            np.asarray(theta, np.float64),
            np.asarray(phi, np.float64),
            np.asarray(energy, np.float64),
            np.ones(len(theta)) if scale is None else np.asarray(scale, np.float64),
            np.asarray(profile.sigmas, np.float64),
            np.asarray(profile.weights, np.float64),
            float(threshold),
            NEIGHBOURS,
            CRYSTAL_THETA,
            CRYSTAL_PHI,
            np.ascontiguousarray(RING_EDGES[:, 0]),
            np.ascontiguousarray(RING_EDGES[:, 1]),
            RING_N_PHI.astype(np.int64),
            CRYSTAL_RING.astype(np.int64),
        )
        return Deposits(event[rows], cells, values, particle[rows])
    crystals, frac = shower_fractions(theta, phi, profile, scale)
    e = energy[:, None] * frac
    keep = (crystals >= 0) & (e > threshold)
    rows = np.broadcast_to(np.arange(len(theta))[:, None], crystals.shape)[keep]
    return Deposits(event[rows], crystals[keep], e[keep], particle[rows])


def mip_deposits(
    event: IntArray, particle: IntArray, theta: FloatArray, phi: FloatArray, energy: FloatArray
) -> Deposits:
    """A minimum-ionising deposit [GeV] in the crystal each track crosses."""
    crystal = crystal_at(theta, phi)
    keep = (crystal >= 0) & (energy > 0)
    return Deposits(event[keep], crystal[keep], energy[keep], particle[keep])


@functools.cache
def photon_containment(profile: Profile = EM) -> float:
    """Mean fraction of an EM shower inside the 21 crystals of its seed (impact points
    uniform over barrel crystals)."""
    rng = np.random.default_rng(0)
    theta = rng.uniform(np.radians(40), np.radians(120), 20_000)
    phi = rng.uniform(0, 2 * np.pi, 20_000)
    _, frac = shower_fractions(theta, phi, profile)
    return float(frac[:, _IN21].sum(axis=1).mean())
