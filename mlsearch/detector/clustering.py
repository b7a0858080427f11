"""Clustering of the crystal deposits and the basf2 cluster variables.

Crystal energies are summed per event; seeds are local maxima of the 3x3 neighbourhood above
``seed_e_min`` (10 MeV); each seed takes the 21 crystals of its 5x5 (no corners), a crystal
shared by several seeds is split in proportion to the seed energies. The variables follow
basf2's ECLVariables: clusterE (21 crystals, corrected for the mean containment of a photon),
log-weighted centroid (w = max(0, 4 + ln(E_i/E))), E1/E9, E9/E21, second moment, LAT,
|Zernike| 40 and 51 (R0 = 15 cm), number of crystals above 1 MeV, and the truth particle that
dominates the seed. The numba kernel of :mod:`mlsearch.detector.cluster_kernel` runs by
default; the numpy implementation here is its tested reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mlsearch.detector.ecl_geometry import (
    CRYSTAL_PHI,
    CRYSTAL_THETA,
    N_CRYSTALS,
    NEIGHBOURS,
    front_face_distance,
)
from mlsearch.detector.showers import _IN21, BLOCK, Deposits, _wrap

__all__ = ["CLUSTER_VARIABLES", "SEED_E_MIN", "ClusterTable", "clusters_from_deposits"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

SEED_E_MIN = 0.010  # GeV
HIT_E_MIN = 0.001  # GeV, a crystal counted in clusterNHits
LAT_R0 = 5.0  # cm
ZERNIKE_R0 = 15.0  # cm
_GRID9 = np.zeros((5, 5), dtype=bool)
_GRID9[1:4, 1:4] = True
_IN9 = _GRID9.ravel()


#: the per-cluster variables of ClusterTable, in the order of the compiled kernel's output
CLUSTER_VARIABLES = (
    "clusterE",
    "clusterTheta",
    "clusterPhi",
    "clusterE1E9",
    "clusterE9E21",
    "clusterSecondMoment",
    "clusterLAT",
    "clusterAbsZernikeMoment40",
    "clusterAbsZernikeMoment51",
    "clusterNHits",
)


@dataclass(frozen=True)
class ClusterTable:
    """One row per cluster (basf2 names; GeV, rad, cm, ns); ``event`` and ``particle`` (the
    flat truth row dominating the seed crystal, -1 for beam background) for bookkeeping."""

    event: IntArray
    particle: IntArray
    clusterE: FloatArray
    clusterTheta: FloatArray
    clusterPhi: FloatArray
    clusterE1E9: FloatArray
    clusterE9E21: FloatArray
    clusterSecondMoment: FloatArray
    clusterLAT: FloatArray
    clusterAbsZernikeMoment40: FloatArray
    clusterAbsZernikeMoment51: FloatArray
    clusterNHits: FloatArray

    def __len__(self) -> int:
        return len(self.event)


def _lookup(
    keys: IntArray, sorted_keys: IntArray, values: FloatArray
) -> tuple[IntArray, FloatArray]:
    """Index into sorted_keys (-1 if absent) and the value (0 if absent)."""
    idx = np.searchsorted(sorted_keys, keys)
    idx = np.clip(idx, 0, len(sorted_keys) - 1)
    found = (sorted_keys[idx] == keys) if len(sorted_keys) else np.zeros(keys.shape, bool)
    return np.where(found, idx, -1), np.where(found, values[idx] if len(values) else 0.0, 0.0)


def clusters_from_deposits(
    deposits: Deposits,
    containment: float,
    seed_e_min: float = SEED_E_MIN,
    compiled: bool = True,
) -> ClusterTable:
    """Sum deposits per crystal, find seeds, share crystals between seeds, and compute the
    cluster variables. ``containment``: mean fraction of a photon's energy in 21 crystals
    (clusterE is divided by it, as basf2's leakage correction does on average).
    ``compiled``: the numba kernel of :mod:`mlsearch.detector.cluster_kernel` (the default);
    False runs the numpy reference, which the kernel is tested against."""
    if compiled and len(deposits.event):
        return _clusters_compiled(deposits, containment, seed_e_min)
    key = deposits.event * N_CRYSTALS + deposits.crystal
    if len(key) == 0:
        none = np.zeros(0, dtype=np.int64)
        return _variables(
            np.zeros((0, 25)), np.zeros((0, 25), np.int64), none, none, none, containment
        )
    # one float sort orders by crystal key and, inside a crystal, by energy (deposits < 1 GeV
    # apart in key; the energy term is < 1): the last row of a group is the largest deposit
    scale = 1.001 * float(deposits.energy.max())
    order = np.argsort(key + deposits.energy / scale)
    key_sorted = key[order]
    starts = np.flatnonzero(np.concatenate([[True], key_sorted[1:] != key_sorted[:-1]]))
    ends = np.concatenate([starts[1:], [len(key_sorted)]]) - 1
    hit_keys = key_sorted[starts]
    hit_e = np.add.reduceat(deposits.energy[order], starts)
    hit_particle = deposits.particle[order][ends]  # largest deposit in each crystal
    hit_event = hit_keys // N_CRYSTALS
    hit_crystal = hit_keys % N_CRYSTALS

    # seeds: candidates above threshold that are the maximum of their 3x3
    cand = np.flatnonzero(hit_e >= seed_e_min)
    grid9 = NEIGHBOURS[hit_crystal[cand]].reshape(-1, 25)[:, _IN9]
    keys9 = np.where(grid9 >= 0, hit_event[cand, None] * N_CRYSTALS + grid9, -1)
    _, e9 = _lookup(keys9, hit_keys, hit_e)
    seed_idx = cand[hit_e[cand] >= e9.max(axis=1)]
    # (two exactly equal neighbours would both seed: measure zero with continuous energies)
    s_grid = NEIGHBOURS[hit_crystal[seed_idx]].reshape(-1, 25)
    s_keys = np.where(s_grid >= 0, hit_event[seed_idx, None] * N_CRYSTALS + s_grid, -1)
    member, member_e = _lookup(s_keys, hit_keys, hit_e)
    member = np.where(_IN21[None, :], member, -1)
    member_e = np.where(member >= 0, member_e, 0.0)
    # split shared crystals in proportion to the seed energies
    seed_e = np.broadcast_to(hit_e[seed_idx, None], member.shape)
    inside = member >= 0
    denom = np.bincount(member[inside], weights=seed_e[inside], minlength=len(hit_keys))
    share = np.where(
        inside, seed_e / np.where(inside, denom[np.where(inside, member, 0)], 1.0), 0.0
    )
    cell_e = member_e * share  # (n_clusters, 25) energies on the 5x5 grid
    return _variables(cell_e, s_grid, seed_idx, hit_event, hit_particle, containment)


def _clusters_compiled(deposits: Deposits, containment: float, seed_e_min: float) -> ClusterTable:
    from mlsearch.detector.cluster_kernel import cluster_events

    order = np.argsort(deposits.event, kind="stable")
    ev = deposits.event[order]
    bounds = np.flatnonzero(np.concatenate([[True], ev[1:] != ev[:-1]]))
    starts = np.concatenate([bounds, [len(ev)]]).astype(np.int64)
    event, particle, v = cluster_events(
        starts,
        deposits.crystal[order].astype(np.int64),
        deposits.energy[order].astype(np.float64),
        deposits.particle[order].astype(np.int64),
        ev[bounds].astype(np.int64),
        NEIGHBOURS,
        CRYSTAL_THETA,
        CRYSTAL_PHI,
        float(seed_e_min),
        float(containment),
    )
    return ClusterTable(
        event, particle, **{n: v[:, i].copy() for i, n in enumerate(CLUSTER_VARIABLES)}
    )


def _variables_block(
    cell_e: FloatArray,
    grid: IntArray,
    seed_idx: IntArray,
    hit_event: IntArray,
    hit_particle: IntArray,
    containment: float,
) -> ClusterTable:
    e21 = cell_e.sum(axis=1)
    safe = np.where(e21 > 0, e21, 1.0)
    e9 = cell_e.reshape(-1, 5, 5)[:, 1:4, 1:4].sum(axis=(1, 2))
    e1 = cell_e[:, 12]
    c = np.where(grid >= 0, grid, 0)
    theta_c, phi_c = np.take(CRYSTAL_THETA, c), np.take(CRYSTAL_PHI, c)
    seed_phi = phi_c[:, 12:13]
    dphi = _wrap(phi_c - seed_phi)
    positive = cell_e > 0
    ratio = np.where(positive, cell_e / safe[:, None], 1.0)
    w = np.where(positive, np.clip(4.0 + np.log(ratio), 0, None), 0.0)
    wsum = np.where(w.sum(axis=1) > 0, w.sum(axis=1), 1.0)
    theta = (w * theta_c).sum(axis=1) / wsum
    phi = _wrap(seed_phi[:, 0] + (w * dphi).sum(axis=1) / wsum)
    dist = front_face_distance(theta)[:, None]
    x = (theta_c - theta[:, None]) * dist
    dphi_c = _wrap(phi_c - phi[:, None])
    y = dphi_c * np.sin(theta)[:, None] * dist
    r2 = x**2 + y**2
    frac = cell_e / safe[:, None]
    second = (cell_e * r2).sum(axis=1) / safe
    # LAT: everything but the two most energetic crystals, against those two at r0
    rows = np.arange(len(cell_e))
    i1 = np.argmax(cell_e, axis=1)
    masked = cell_e.copy()
    masked[rows, i1] = -1.0
    i2 = np.argmax(masked, axis=1)
    er2 = cell_e * r2
    tail = er2.sum(axis=1) - er2[rows, i1] - er2[rows, i2]
    lat_den = tail + (cell_e[rows, i1] + cell_e[rows, i2]) * LAT_R0**2
    lat = np.where(lat_den > 0, tail / np.where(lat_den > 0, lat_den, 1.0), 0.0)
    # Zernike moments on the unit disc of radius R0; e^{-i phi} = (x - i y) / r
    rho2 = r2 / ZERNIKE_R0**2
    rho = np.sqrt(rho2)
    weight = np.where(rho <= 1, frac, 0.0)
    z40 = np.abs((5 / np.pi) * (weight * (6 * rho2 * rho2 - 6 * rho2 + 1)).sum(axis=1))
    # R51(rho) e^{-i phi} = (5 rho^5 - 4 rho^3) (x - i y) / r = (5 rho^4 - 4 rho^2) (x - i y) / R0
    radial = weight * (5 * rho2 * rho2 - 4 * rho2) / ZERNIKE_R0
    z51 = (6 / np.pi) * np.hypot((radial * x).sum(axis=1), (radial * y).sum(axis=1))
    return ClusterTable(
        event=hit_event[seed_idx],
        particle=hit_particle[seed_idx],
        clusterE=e21 / containment,
        clusterTheta=theta,
        clusterPhi=phi,
        clusterE1E9=np.where(e9 > 0, e1 / np.where(e9 > 0, e9, 1.0), 0.0),
        clusterE9E21=e9 / safe,
        clusterSecondMoment=second,
        clusterLAT=lat,
        clusterAbsZernikeMoment40=z40,
        clusterAbsZernikeMoment51=z51,
        clusterNHits=(cell_e > HIT_E_MIN).sum(axis=1).astype(np.float64),
    )


def _variables(
    cell_e: FloatArray,
    grid: IntArray,
    seed_idx: IntArray,
    hit_event: IntArray,
    hit_particle: IntArray,
    containment: float,
) -> ClusterTable:
    """:func:`_variables_block` over blocks of BLOCK clusters."""
    if len(cell_e) <= BLOCK:
        return _variables_block(cell_e, grid, seed_idx, hit_event, hit_particle, containment)
    parts = [
        _variables_block(
            cell_e[i : i + BLOCK],
            grid[i : i + BLOCK],
            seed_idx[i : i + BLOCK],
            hit_event,
            hit_particle,
            containment,
        )
        for i in range(0, len(cell_e), BLOCK)
    ]
    return ClusterTable(
        **{
            f: np.concatenate([getattr(p, f) for p in parts])
            for f in ClusterTable.__dataclass_fields__
        }
    )
