"""Compiled (numba) per-event passes of the fast simulation: one linear sweep over the rows
replaces a sort by (event, key), which dominated the trigger and the track-cluster matching
of two-track events. Each kernel states the numpy expression it equals (tested)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = ["ecl_trigger_sums", "highest_per_group", "nearest_cosine", "two_leading"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@njit(cache=True)
def two_leading(event: IntArray, key: FloatArray, n_events: np.int64) -> tuple[IntArray, IntArray]:
    """Row indices of the highest and second-highest ``key`` per event (-1 if absent); of
    equal keys the earlier row ranks higher (as a stable sort by (event, -key) would)."""
    lead = np.full(n_events, -1, np.int64)
    sub = np.full(n_events, -1, np.int64)
    for i in range(event.shape[0]):
        ev = event[i]
        a = lead[ev]
        if a < 0 or key[i] > key[a]:
            sub[ev] = a
            lead[ev] = i
        elif sub[ev] < 0 or key[i] > key[sub[ev]]:
            sub[ev] = i
    return lead, sub


@njit(cache=True)
def highest_per_group(group: IntArray, value: FloatArray, n_groups: np.int64) -> FloatArray:
    """Per group the largest ``value`` (0 where the group has no row; values are >= 0)."""
    out = np.zeros(n_groups)
    for i in range(group.shape[0]):
        if value[i] > out[group[i]]:
            out[group[i]] = value[i]
    return out


@njit(cache=True)
def nearest_cosine(
    cl_event: IntArray, cl_unit: FloatArray, tr_start: IntArray, tr_unit: FloatArray
) -> FloatArray:
    """Per cluster the largest cosine between its direction (unit rows of ``cl_unit``) and
    the tracks of its event (rows tr_start[ev]:tr_start[ev + 1] of ``tr_unit``); -2 when the
    event has no track."""
    out = np.full(cl_event.shape[0], -2.0)
    for i in range(cl_event.shape[0]):
        ev = cl_event[i]
        for j in range(tr_start[ev], tr_start[ev + 1]):
            c = (
                cl_unit[i, 0] * tr_unit[j, 0]
                + cl_unit[i, 1] * tr_unit[j, 1]
                + cl_unit[i, 2] * tr_unit[j, 2]
            )
            if c > out[i]:
                out[i] = c
    return out


@njit(cache=True)
def ecl_trigger_sums(
    event: IntArray,
    energy: FloatArray,
    theta: FloatArray,
    phi: FloatArray,
    beta: FloatArray,
    n_events: np.int64,
    e_cuts: FloatArray,
    windows: FloatArray,
    bhabha: FloatArray,
) -> tuple[IntArray, FloatArray, NDArray[np.bool_]]:
    """One pass over the ECL clusters (lab E [GeV], theta, phi [rad]) for the L1 lines.

    ``e_cuts`` = (veto, sp1, sp2, sp3 on E* ; c4 on lab E) [GeV]; ``windows`` (3, 2): the
    lab polar windows [deg] of sp1, sp2, sp3; ``bhabha`` = (E* each, E* sum, window [deg]).
    Returns per event the counts (n_events, 5): E* > veto, sp1, sp2, sp3 candidates, lab
    E > c4; the lab energy sum; and the Bhabha veto (the two leading clusters in E* back to
    back within the window in theta* sum and dphi*, each and together above threshold)."""
    bx, by, bz = beta[0], beta[1], beta[2]
    b2 = bx * bx + by * by + bz * bz
    gamma = 1.0 / math.sqrt(1.0 - b2)
    g2 = (gamma - 1.0) / b2 if b2 > 0 else 0.0
    m = event.shape[0]
    e_star = np.empty(m)
    p_star = np.empty((m, 3))
    counts = np.zeros((n_events, 5), np.int64)
    e_sum = np.zeros(n_events)
    lead = np.full(n_events, -1, np.int64)
    sub = np.full(n_events, -1, np.int64)
    for i in range(m):
        ev = event[i]
        e = energy[i]
        st = math.sin(theta[i])
        px, py, pz = e * st * math.cos(phi[i]), e * st * math.sin(phi[i]), e * math.cos(theta[i])
        bp = bx * px + by * py + bz * pz
        shift = g2 * bp - gamma * e
        es = gamma * (e - bp)
        e_star[i] = es
        p_star[i, 0] = px + shift * bx
        p_star[i, 1] = py + shift * by
        p_star[i, 2] = pz + shift * bz
        deg = math.degrees(theta[i])
        if es > e_cuts[0]:
            counts[ev, 0] += 1
        for line in range(3):
            if es > e_cuts[line + 1] and windows[line, 0] < deg < windows[line, 1]:
                counts[ev, line + 1] += 1
        if e > e_cuts[4]:
            counts[ev, 4] += 1
        e_sum[ev] += e
        a = lead[ev]
        if a < 0 or es > e_star[a]:
            sub[ev] = a
            lead[ev] = i
        elif sub[ev] < 0 or es > e_star[sub[ev]]:
            sub[ev] = i
    veto = np.zeros(n_events, np.bool_)
    for ev in range(n_events):
        a, b = lead[ev], sub[ev]
        if a < 0 or b < 0:
            continue
        ea, eb = e_star[a], e_star[b]
        if not (ea > bhabha[0] and eb > bhabha[0] and ea + eb > bhabha[1]):
            continue
        ra = math.sqrt(p_star[a, 0] ** 2 + p_star[a, 1] ** 2 + p_star[a, 2] ** 2)
        rb = math.sqrt(p_star[b, 0] ** 2 + p_star[b, 1] ** 2 + p_star[b, 2] ** 2)
        th_a = math.degrees(math.acos(min(max(p_star[a, 2] / ra, -1.0), 1.0)))
        th_b = math.degrees(math.acos(min(max(p_star[b, 2] / rb, -1.0), 1.0)))
        dphi = math.degrees(
            abs(math.atan2(p_star[a, 1], p_star[a, 0]) - math.atan2(p_star[b, 1], p_star[b, 0]))
        )
        if dphi > 180.0:
            dphi = 360.0 - dphi
        veto[ev] = abs(th_a + th_b - 180.0) < bhabha[2] and abs(dphi - 180.0) < bhabha[2]
    return counts, e_sum, veto
