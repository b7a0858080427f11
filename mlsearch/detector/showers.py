"""Crystal-level ECL showers: deposits per crystal and the basf2 cluster variables.

A particle reaching the ECL deposits its energy in the 5x5 crystals around the crystal it hits.
Lateral profiles are sums of two 2-D Gaussians (a core and a halo, widths in cm on the front
face) whose integral over each crystal's face is a product of error functions, so a shower
near a crystal edge shares its energy with the neighbour (E1/E9 drops) and two photons closer
than a crystal merge. Electromagnetic showers: core 0.7 cm (85 %) + halo 3.5 cm (the Moliere
radius of CsI); hadronic showers: 2.5 cm (50 %) + 7 cm; muons and non-interacting hadrons
leave a minimum-ionising deposit in one crystal. The fractions are normalised over the 5x5, so
the crystal energies add up to the deposited energy before resolution effects.

Clustering (:func:`clusters_from_deposits`): crystal energies are summed per event; seeds are
local maxima of the 3x3 neighbourhood above 10 MeV; each seed takes the 21 crystals of its 5x5
(no corners), a crystal shared by several seeds is split in proportion to the seed energies.
The variables follow basf2's ECLVariables: clusterE (21 crystals, corrected for the mean
containment of a photon), log-weighted centroid (w = max(0, 4 + ln(E_i/E))), E1/E9, E9/E21,
second moment, LAT, |Zernike| 40 and 51 (R0 = 15 cm), number of crystals above 1 MeV, timing
and its 99 % width, a pulse-shape proxy and the truth particle that dominates the seed.
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
    N_CRYSTALS,
    NEIGHBOURS,
    RING_EDGES,
    RING_N_PHI,
    crystal_at,
    front_face_distance,
)

__all__ = [
    "CLUSTER_VARIABLES",
    "EM",
    "HADRONIC",
    "ClusterTable",
    "Deposits",
    "Profile",
    "clusters_from_deposits",
    "mip_deposits",
    "photon_containment",
    "shower_deposits",
    "shower_fractions",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

BLOCK = 16_384  # rows per vectorised block: temporaries stay in cache, no page-fault churn
SEED_E_MIN = 0.010  # GeV
DIGIT_E_MIN = 0.0005  # GeV: crystal signals below ~3 sigma of the electronic noise are dropped
HIT_E_MIN = 0.001  # GeV, a crystal counted in clusterNHits
LAT_R0 = 5.0  # cm
ZERNIKE_R0 = 15.0  # cm
_CORNERS = np.zeros((5, 5), dtype=bool)
_CORNERS[[0, 0, 4, 4], [0, 4, 0, 4]] = True
_IN21 = ~_CORNERS.ravel()
_ROW_CENTRES = np.arange(5) * 5 + 2  # the centre column of each ring row of the 5x5 grid
_GRID9 = np.zeros((5, 5), dtype=bool)
_GRID9[1:4, 1:4] = True
_IN9 = _GRID9.ravel()


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
) -> Deposits:
    """Spread deposited energies [GeV] over the crystals with ``profile`` (widths times
    ``scale`` per shower); crystal signals below ``threshold`` [GeV] are dropped (the
    digitisation threshold). ``compiled``: the numba kernel (default) or the numpy
    reference of :func:`shower_fractions`."""
    if compiled:
        from mlsearch.detector.cluster_kernel import shower_cells

        rows, cells, values = shower_cells(
            crystal_at(theta, phi),
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
            (RING_EDGES[:, 1] - RING_EDGES[:, 0]) / 2,
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


@functools.cache
def photon_containment(profile: Profile = EM) -> float:
    """Mean fraction of an EM shower inside the 21 crystals of its seed (impact points
    uniform over barrel crystals)."""
    rng = np.random.default_rng(0)
    theta = rng.uniform(np.radians(40), np.radians(120), 20_000)
    phi = rng.uniform(0, 2 * np.pi, 20_000)
    _, frac = shower_fractions(theta, phi, profile)
    return float(frac[:, _IN21].sum(axis=1).mean())
