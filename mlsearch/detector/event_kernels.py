"""Compiled (numba) per-event passes of the fast simulation: one linear sweep over the rows
replaces a sort by (event, key), which dominated the trigger and the track-cluster matching
of two-track events. Each kernel states the numpy expression it equals (tested)."""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = ["highest_per_group", "nearest_cosine", "two_leading"]

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
