"""The ECL crystal map: 8736 CsI(Tl) crystals in theta rings (Belle II TDR, arXiv:1011.0352;
numbers in docs/simulation.md).

Forward endcap 1152 crystals in 13 rings (12.4-31.4 deg), barrel 6624 = 46 rings x 144
(32.2-128.7 deg), backward endcap 960 in 10 rings (130.7-155.1 deg); ring counts as in the
Belle / Belle II endcaps (48 ... 144 crystals per ring). Ring edges are spaced uniformly in
theta inside each region (the real crystals are nearly so). The crystals do not point at the
interaction point, so no photon escapes between two crystals: only the barrel-endcap gaps and
the region outside the coverage lose photons. Front faces: barrel at r = 125 cm, forward
endcap at z = 196 cm, backward at z = -102 cm; about 6 x 6 cm^2 each.

Crystal ids run ring by ring from the forward edge, phi index from phi = 0 (-pi..pi mapped to
0..2 pi). ``NEIGHBOURS`` is the (8736, 5, 5) table of the 5x5 neighbourhood (ring offset -2..2,
phi offset -2..2; -1 where it leaves the region), used for E9, E21 and the clustering.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray

from mlsearch.physics.acceptance import ECL_THETA_DEG

__all__ = [
    "CRYSTAL_PHI",
    "CRYSTAL_REGION",
    "CRYSTAL_RING",
    "CRYSTAL_THETA",
    "NEIGHBOURS",
    "N_CRYSTALS",
    "RING_EDGES",
    "RING_N_PHI",
    "RING_OFFSET",
    "RING_REGION",
    "crystal_at",
    "front_face_distance",
]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

_FORWARD = (*ECL_THETA_DEG[0], [48, 48, 64, 64, 64, 96, 96, 96, 96, 96, 96, 144, 144])
_BARREL = (*ECL_THETA_DEG[1], [144] * 46)
_BACKWARD = (*ECL_THETA_DEG[2], [144, 144, 96, 96, 96, 96, 96, 64, 64, 64])


def _rings() -> tuple[FloatArray, IntArray, IntArray]:
    lo_hi, counts, regions = [], [], []
    for region, (lo, hi, n_phi) in enumerate((_FORWARD, _BARREL, _BACKWARD), start=1):
        edges = np.radians(np.linspace(lo, hi, len(n_phi) + 1))
        lo_hi += list(itertools.pairwise(edges))
        counts += n_phi
        regions += [region] * len(n_phi)
    return np.array(lo_hi), np.array(counts), np.array(regions)


RING_EDGES, RING_N_PHI, RING_REGION = _rings()  # (n_rings, 2) [rad], crystals, region
RING_OFFSET = np.concatenate([[0], np.cumsum(RING_N_PHI)[:-1]])
N_CRYSTALS = int(RING_N_PHI.sum())
_RING_LO = np.ascontiguousarray(RING_EDGES[:, 0])
_RING_HI = np.ascontiguousarray(RING_EDGES[:, 1])
_RING_N_PHI64 = RING_N_PHI.astype(np.int64)
_RING_OFFSET64 = RING_OFFSET.astype(np.int64)
CRYSTAL_RING = np.repeat(np.arange(len(RING_N_PHI)), RING_N_PHI)
_IPHI = np.arange(N_CRYSTALS) - RING_OFFSET[CRYSTAL_RING]
CRYSTAL_THETA = RING_EDGES[CRYSTAL_RING].mean(axis=1)
CRYSTAL_PHI = (_IPHI + 0.5) * 2 * np.pi / RING_N_PHI[CRYSTAL_RING]  # [0, 2 pi)
CRYSTAL_REGION = RING_REGION[CRYSTAL_RING]


def front_face_distance(theta: FloatArray) -> FloatArray:
    """Distance [cm] from the interaction point to the ECL front face along theta [rad]."""
    theta = np.asarray(theta, dtype=np.float64)
    cos_t, sin_t = np.cos(theta), np.sin(theta)
    barrel = 125.0 / np.where(sin_t > 1e-9, sin_t, 1e-9)
    forward = 196.0 / np.where(cos_t > 1e-9, cos_t, 1e-9)
    backward = 102.0 / np.where(-cos_t > 1e-9, -cos_t, 1e-9)
    region = np.select([theta < np.radians(31.8), theta > np.radians(129.7)], [1, 3], default=2)
    return np.asarray(np.select([region == 1, region == 3], [forward, backward], barrel))


def crystal_at(theta: FloatArray, phi: FloatArray) -> IntArray:
    """Crystal id hit along (theta, phi) [rad], or -1 in the gaps and outside the coverage.

    A compiled loop (one binary search over the ring edges per row); equal to
    :func:`_crystal_at_numpy`, its reference."""
    from mlsearch.detector.cluster_kernel import crystal_ids

    t, p = np.broadcast_arrays(np.asarray(theta, np.float64), np.asarray(phi, np.float64))
    ids = crystal_ids(
        np.ascontiguousarray(t).ravel(),
        np.ascontiguousarray(p).ravel(),
        _RING_LO,
        _RING_HI,
        _RING_N_PHI64,
        _RING_OFFSET64,
    )
    return ids.reshape(t.shape)


def _crystal_at_numpy(theta: FloatArray, phi: FloatArray) -> IntArray:
    theta = np.asarray(theta, dtype=np.float64)
    ring = np.searchsorted(RING_EDGES[:, 1], theta, side="right")
    ring = np.clip(ring, 0, len(RING_N_PHI) - 1)
    inside = (theta >= RING_EDGES[ring, 0]) & (theta < RING_EDGES[ring, 1])
    n_phi = RING_N_PHI[ring]
    iphi = np.floor(np.mod(phi, 2 * np.pi) / (2 * np.pi) * n_phi).astype(np.int64)
    iphi = np.clip(iphi, 0, n_phi - 1)
    return np.where(inside, RING_OFFSET[ring] + iphi, -1)


def _neighbours() -> IntArray:
    """(N_CRYSTALS, 5, 5) ids of the 5x5 neighbourhood; rings of other sizes are matched by
    the nearest phi; -1 outside the crystal's region."""
    table = np.full((N_CRYSTALS, 5, 5), -1, dtype=np.int64)
    for dr in range(-2, 3):
        ring = CRYSTAL_RING + dr
        valid = (ring >= 0) & (ring < len(RING_N_PHI))
        ring_c = np.clip(ring, 0, len(RING_N_PHI) - 1)
        valid &= RING_REGION[ring_c] == CRYSTAL_REGION
        n_phi = RING_N_PHI[ring_c]
        centre = np.floor(CRYSTAL_PHI / (2 * np.pi) * n_phi).astype(np.int64)
        for dp in range(-2, 3):
            iphi = np.mod(centre + dp, n_phi)
            table[:, dr + 2, dp + 2] = np.where(valid, RING_OFFSET[ring_c] + iphi, -1)
    return table


NEIGHBOURS = _neighbours()
