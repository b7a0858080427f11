"""Compiled (numba) clustering: the same algorithm and variables as the numpy reference in
:func:`mlsearch.detector.clustering.clusters_from_deposits`, event by event with a scratch
crystal map, so nothing of size (clusters, 25) is materialised. Tested equal to the reference
(tests/test_ecl_showers.py); ~10x faster on tau pairs.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = ["cluster_events", "crystal_ids", "shower_cells"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_LAT_R0_2 = 25.0  # cm^2
_ZR0 = 15.0  # cm
_HIT_E_MIN = 0.001  # GeV
_LOG_WEIGHT_FLOOR = math.exp(-4.0)  # E_i / E below which max(0, 4 + ln(E_i / E)) is 0


@njit(cache=True, inline="always")
def _face_distance(theta: float) -> float:
    if theta < math.radians(31.8):
        return 196.0 / max(math.cos(theta), 1e-9)
    if theta > math.radians(129.7):
        return 102.0 / max(-math.cos(theta), 1e-9)
    return 125.0 / max(math.sin(theta), 1e-9)


@njit(cache=True, inline="always")
def _wrap(a: float) -> float:
    return a - 2.0 * math.pi * math.floor(a / (2.0 * math.pi) + 0.5)


@njit(cache=True)
def cluster_events(
    starts: IntArray,
    crystal: IntArray,
    energy: FloatArray,
    particle: IntArray,
    event_of_start: IntArray,
    neighbours: IntArray,
    theta_c: FloatArray,
    phi_c: FloatArray,
    seed_e_min: float,
    containment: float,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Deposits grouped by event (``starts``: offsets, one per event plus the end) ->
    (event, dominant particle, variables (n, 10)): clusterE, clusterTheta, clusterPhi, E1E9,
    E9E21, SecondMoment, LAT, |Z40|, |Z51|, NHits."""
    n_crystals = theta_c.shape[0]
    e_map = np.zeros(n_crystals)
    best = np.zeros(n_crystals)
    owner = np.full(n_crystals, -1, np.int64)
    denom = np.zeros(n_crystals)
    n_dep = energy.shape[0]
    out_event = np.empty(n_dep, np.int64)
    out_particle = np.empty(n_dep, np.int64)
    out = np.empty((n_dep, 10))
    n_out = 0
    cell = np.empty(25)
    cth = np.empty(25)
    cph = np.empty(25)
    seeds = np.empty(n_dep, np.int64)
    for ev in range(starts.shape[0] - 1):
        lo, hi = starts[ev], starts[ev + 1]
        for i in range(lo, hi):  # crystal energies of this event and their dominant particle
            c = crystal[i]
            e_map[c] += energy[i]
            if energy[i] > best[c]:
                best[c] = energy[i]
                owner[c] = particle[i]
        n_seeds = 0
        for i in range(lo, hi):
            c = crystal[i]
            e = e_map[c]
            if e < seed_e_min or best[c] < 0:
                continue
            is_max = True
            for a in range(1, 4):
                for b in range(1, 4):
                    nb = neighbours[c, a, b]
                    if nb >= 0 and nb != c and e_map[nb] > e:
                        is_max = False
            if is_max:
                best[c] = -1.0  # mark: seed counted once even if several deposits share it
                seeds[n_seeds] = c
                n_seeds += 1
        for s in range(n_seeds):
            c = seeds[s]
            for a in range(5):
                for b in range(5):
                    corner = (a == 0 or a == 4) and (b == 0 or b == 4)
                    nb = neighbours[c, a, b]
                    if nb >= 0 and not corner:
                        denom[nb] += e_map[c]
        for s in range(n_seeds):
            c = seeds[s]
            es = e_map[c]
            seed_phi = phi_c[c]
            e21 = 0.0
            e9 = 0.0
            e1 = 0.0
            n_cell = 0  # the crystals of the 21 with energy, packed: most of them are empty
            for a in range(5):
                for b in range(5):
                    if (a == 0 or a == 4) and (b == 0 or b == 4):
                        continue
                    nb = neighbours[c, a, b]
                    if nb < 0 or e_map[nb] <= 0:
                        continue
                    ek = e_map[nb] * es / denom[nb]
                    cell[n_cell] = ek
                    cth[n_cell] = theta_c[nb]
                    cph[n_cell] = _wrap(phi_c[nb] - seed_phi)
                    n_cell += 1
                    e21 += ek
                    if 1 <= a <= 3 and 1 <= b <= 3:
                        e9 += ek
                    if a == 2 and b == 2:
                        e1 = ek
            safe = e21 if e21 > 0 else 1.0
            wsum = 0.0
            wth = 0.0
            wph = 0.0
            w_min = safe * _LOG_WEIGHT_FLOOR
            for k in range(n_cell):
                if cell[k] > w_min:  # below it the log weight is 0: skip the log
                    w = 4.0 + math.log(cell[k] / safe)
                    wsum += w
                    wth += w * cth[k]
                    wph += w * cph[k]
            if wsum <= 0:
                wsum = 1.0
            th = wth / wsum
            dph = wph / wsum  # centroid phi relative to the seed crystal
            ph = _wrap(seed_phi + dph)
            dist = _face_distance(th)
            sin_th = math.sin(th)
            second = 0.0
            z40 = 0.0
            z51x = 0.0
            z51y = 0.0
            top1 = 0.0
            top2 = 0.0
            r1 = 0.0
            r2 = 0.0
            n_hits = 0.0
            for k in range(n_cell):
                x = (cth[k] - th) * dist
                y = (cph[k] - dph) * sin_th * dist
                rr = x * x + y * y
                ek = cell[k]
                second += ek * rr
                if ek > top1:
                    top2, r2 = top1, r1
                    top1, r1 = ek, rr
                elif ek > top2:
                    top2, r2 = ek, rr
                if ek > _HIT_E_MIN:
                    n_hits += 1.0
                rho2 = rr / (_ZR0 * _ZR0)
                if rho2 <= 1.0:
                    f = ek / safe
                    z40 += f * (6.0 * rho2 * rho2 - 6.0 * rho2 + 1.0)
                    radial = f * (5.0 * rho2 * rho2 - 4.0 * rho2) / _ZR0
                    z51x += radial * x
                    z51y += radial * y
            tail = second - top1 * r1 - top2 * r2
            lat_den = tail + (top1 + top2) * _LAT_R0_2
            out_event[n_out] = event_of_start[ev]
            out_particle[n_out] = owner[c]
            out[n_out, 0] = e21 / containment
            out[n_out, 1] = th
            out[n_out, 2] = ph
            out[n_out, 3] = e1 / e9 if e9 > 0 else 0.0
            out[n_out, 4] = e9 / safe
            out[n_out, 5] = second / safe
            out[n_out, 6] = tail / lat_den if lat_den > 0 else 0.0
            out[n_out, 7] = abs(5.0 / math.pi * z40)
            out[n_out, 8] = 6.0 / math.pi * math.hypot(z51x, z51y)
            out[n_out, 9] = n_hits
            n_out += 1
        for s in range(n_seeds):  # reset the scratch maps for the next event
            c = seeds[s]
            for a in range(5):
                for b in range(5):
                    nb = neighbours[c, a, b]
                    if nb >= 0:
                        denom[nb] = 0.0
        for i in range(lo, hi):
            c = crystal[i]
            e_map[c] = 0.0
            best[c] = 0.0
            owner[c] = -1
    return out_event[:n_out], out_particle[:n_out], out[:n_out]


@njit(cache=True, inline="always")
def _phi_cdf(x: float) -> float:
    # beyond 8.3 sigma the normal tail is below 6e-17: skip the erfc (the narrow core of a
    # shower is that far from most crystal edges of its 5x5)
    if x < -8.3:
        return 0.0
    if x > 8.3:
        return 1.0
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


@njit(cache=True)
def shower_cells(
    centre: IntArray,
    theta: FloatArray,
    phi: FloatArray,
    energy: FloatArray,
    scale: FloatArray,
    sigmas: FloatArray,
    weights: FloatArray,
    threshold: float,
    neighbours: IntArray,
    theta_c: FloatArray,
    phi_c: FloatArray,
    ring_lo: FloatArray,
    ring_hi: FloatArray,
    n_phi_ring: IntArray,
    ring_of: IntArray,
) -> tuple[IntArray, IntArray, FloatArray]:
    """The numba form of showers.shower_deposits: for each particle hitting crystal
    ``centre`` (-1: none), the 5x5 crystals, the profile integrated over each face,
    normalised to ``energy``; cells above ``threshold`` are returned as (row, crystal,
    energy). Neighbouring crystals share their edges, so the profile's cumulative
    distribution is evaluated once per edge (6 per direction) rather than twice per crystal."""
    n = centre.shape[0]
    rows = np.empty(n * 25, np.int64)
    cells = np.empty(n * 25, np.int64)
    values = np.empty(n * 25)
    frac = np.empty(25)
    n_prof = sigmas.shape[0]
    fu_k = np.empty((n_prof, 5))
    fv_k = np.empty((n_prof, 5))
    s_k = np.empty(n_prof)
    cdf_prev = np.empty(n_prof)
    m = 0
    for i in range(n):
        c0 = centre[i]
        if c0 < 0 or energy[i] <= 0:
            continue
        th = theta[i]
        dist = _face_distance(th)
        sin_t = math.sin(th)
        for k in range(n_prof):
            s_k[k] = sigmas[k] * scale[i]
        # polar factors of the five rows (rings in increasing theta, contiguous in a region)
        prev_ring = -2
        for a in range(5):
            row_c = neighbours[c0, a, 2]
            if row_c < 0:
                for k in range(n_prof):
                    fu_k[k, a] = 0.0
                prev_ring = -2
                continue
            ring = ring_of[row_c]
            hi = (ring_hi[ring] - th) * dist
            for k in range(n_prof):
                c_hi = _phi_cdf(hi / s_k[k])
                if ring == prev_ring + 1:
                    c_lo = cdf_prev[k]
                else:
                    c_lo = _phi_cdf((ring_lo[ring] - th) * dist / s_k[k])
                fu_k[k, a] = c_hi - c_lo
                cdf_prev[k] = c_hi
            prev_ring = ring
        total = 0.0
        last_nphi = -1
        for a in range(5):
            row_c = neighbours[c0, a, 2]
            if row_c < 0:
                for b in range(5):
                    frac[a * 5 + b] = 0.0
                continue
            ring = ring_of[row_c]
            # rings with the same crystal count share phi centres: the azimuthal factors of
            # the five columns are computed once per crystal count, from the six column edges
            if n_phi_ring[ring] != last_nphi:
                last_nphi = n_phi_ring[ring]
                hv = math.pi / last_nphi * sin_t * dist
                v0 = _wrap(phi_c[neighbours[c0, a, 0]] - phi[i]) * sin_t * dist
                for k in range(n_prof):
                    c_lo = _phi_cdf((v0 - hv) / s_k[k])
                    for b in range(5):
                        c_hi = _phi_cdf((v0 + (2 * b + 1) * hv) / s_k[k])
                        fv_k[k, b] = c_hi - c_lo
                        c_lo = c_hi
            for b in range(5):
                f = 0.0
                for k in range(n_prof):
                    f += weights[k] * fu_k[k, a] * fv_k[k, b]
                frac[a * 5 + b] = f
                total += f
        if total <= 0:
            continue
        norm = energy[i] / total
        cut = threshold / norm
        for a in range(5):
            for b in range(5):
                f = frac[a * 5 + b]
                if f > cut:
                    rows[m] = i
                    cells[m] = neighbours[c0, a, b]
                    values[m] = f * norm
                    m += 1
    return rows[:m], cells[:m], values[:m]


@njit(cache=True)
def crystal_ids(
    theta: FloatArray,
    phi: FloatArray,
    ring_lo: FloatArray,
    ring_hi: FloatArray,
    n_phi_ring: IntArray,
    ring_offset: IntArray,
) -> IntArray:
    """The numba form of ecl_geometry.crystal_at on flat arrays (-1 in the gaps and
    outside the coverage)."""
    n_rings = ring_hi.shape[0]
    out = np.empty(theta.shape[0], np.int64)
    for i in range(theta.shape[0]):
        th = theta[i]
        ring = min(np.searchsorted(ring_hi, th, side="right"), n_rings - 1)
        if not (ring_lo[ring] <= th < ring_hi[ring]):
            out[i] = -1
            continue
        n_phi = n_phi_ring[ring]
        turns = phi[i] / (2.0 * math.pi)
        iphi = math.floor((turns - math.floor(turns)) * n_phi)
        out[i] = ring_offset[ring] + min(max(iphi, 0), n_phi - 1)
    return out
