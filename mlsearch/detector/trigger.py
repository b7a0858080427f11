"""L1 trigger bits from the simulated ECL clusters and CDC tracks (the lines of the
Belle II Physics Book, arXiv:1808.10567; docs/simulation.md).

Single-photon lines (cluster energies in the CM frame, polar angles in the lab):
``trg_sp1`` at least one cluster with E* > 2 GeV in 22-139 deg (the ECL in full 3D trigger
coverage); ``trg_sp2`` exactly one cluster with E* > 1 GeV in the barrel and no other cluster
above ``veto_e``; ``trg_sp3`` exactly one cluster with E* > 0.5 GeV in the central barrel
(44-98 deg) and no other above ``veto_e``. Two-track line ``trg_ffo``: two tracks with
pT > 0.3 GeV more than 90 deg apart in phi. ECL lines: ``trg_hie`` (lab energy sum above
1 GeV), ``trg_lowe`` (above 0.5 GeV), ``trg_c4`` (four clusters above 0.1 GeV), all three
vetoed by ``trg_bhabha``: the two leading clusters back to back in the CM frame
(theta*_1 + theta*_2 and dphi* within 10 deg of 180), each with E* > 3 GeV, together above
6 GeV.
The thresholds are parameters of :class:`TriggerConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mlsearch.detector.event_kernels import ecl_trigger_sums, two_leading
from mlsearch.physics.kinematics import beam_four_momenta, cms_boost_vector

__all__ = ["TriggerConfig", "trigger_bits"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class TriggerConfig:
    """Thresholds [GeV, deg]."""

    sp1_e: float = 2.0
    sp1_theta: tuple[float, float] = (22.0, 139.0)
    sp2_e: float = 1.0
    sp2_theta: tuple[float, float] = (32.2, 128.7)
    sp3_e: float = 0.5
    sp3_theta: tuple[float, float] = (44.0, 98.0)
    veto_e: float = 0.2
    ffo_pt: float = 0.3
    hie_sum: float = 1.0
    lowe_sum: float = 0.5
    c4_e: float = 0.1
    bhabha_e: float = 3.0
    bhabha_sum: float = 6.0
    bhabha_window: float = 10.0


def trigger_bits(
    cl_event: IntArray,
    cl_e: FloatArray,
    cl_theta: FloatArray,
    cl_phi: FloatArray,
    tr_event: IntArray,
    tr_pt: FloatArray,
    tr_phi: FloatArray,
    n_events: int,
    config: TriggerConfig | None = None,
) -> dict[str, BoolArray]:
    """Per-event trigger bits from all ECL clusters (lab E [GeV], theta, phi [rad]) and the
    found tracks (pT [GeV], phi [rad])."""
    cfg = config or TriggerConfig()
    em, ep = beam_four_momenta()
    counts, e_sum, bhabha = ecl_trigger_sums(
        np.asarray(cl_event, np.int64),
        np.asarray(cl_e, np.float64),
        np.asarray(cl_theta, np.float64),
        np.asarray(cl_phi, np.float64),
        cms_boost_vector(em + ep),
        np.int64(n_events),
        np.array([cfg.veto_e, cfg.sp1_e, cfg.sp2_e, cfg.sp3_e, cfg.c4_e]),
        np.array([cfg.sp1_theta, cfg.sp2_theta, cfg.sp3_theta], dtype=np.float64),
        np.array([cfg.bhabha_e, cfg.bhabha_sum, cfg.bhabha_window]),
    )
    n_veto, n1, n2, n3, n_c4 = counts.T
    ffo = _two_tracks(tr_event, tr_pt, tr_phi, n_events, cfg.ffo_pt)
    return {
        "trg_sp1": n1 > 0,
        "trg_sp2": (n2 == 1) & (n_veto == 1),
        "trg_sp3": (n3 == 1) & (n_veto == 1),
        "trg_ffo": ffo,
        "trg_hie": (e_sum > cfg.hie_sum) & ~bhabha,
        "trg_lowe": (e_sum > cfg.lowe_sum) & ~bhabha,
        "trg_c4": (n_c4 >= 4) & ~bhabha,
        "trg_bhabha": bhabha,
    }


def _two_leading(event: IntArray, key: FloatArray, n_events: int) -> tuple[IntArray, IntArray]:
    """Row indices of the highest and second-highest ``key`` per event (-1 if absent; of equal
    keys the earlier row leads)."""
    return two_leading(np.asarray(event, np.int64), np.asarray(key, np.float64), np.int64(n_events))


def _two_tracks(
    event: IntArray, pt: FloatArray, phi: FloatArray, n_events: int, pt_min: float
) -> BoolArray:
    """Two tracks above pt_min more than 90 deg apart in phi (the two leading in pT)."""
    keep = pt > pt_min
    idx = np.flatnonzero(keep)
    lead, sub = _two_leading(event[keep], pt[keep], n_events)
    ok = (lead >= 0) & (sub >= 0)
    pa = phi[idx[np.where(ok, lead, 0)]] if len(idx) else np.zeros(n_events)
    pb = phi[idx[np.where(ok, sub, 0)]] if len(idx) else np.zeros(n_events)
    dphi = np.abs(np.mod(pa - pb + np.pi, 2 * np.pi) - np.pi)
    return np.asarray(ok & (dphi > np.pi / 2))
