"""L1 trigger bits from the simulated ECL clusters and CDC tracks (shared/belle2-facts.md).

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

from mlsearch.physics.kinematics import beam_four_momenta, boost, cms_boost_vector

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


def _per_event_count(event: IntArray, mask: BoolArray, n: int) -> IntArray:
    return np.bincount(event[mask], minlength=n).astype(np.int64)


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
    direction = np.stack(
        [np.sin(cl_theta) * np.cos(cl_phi), np.sin(cl_theta) * np.sin(cl_phi), np.cos(cl_theta)],
        axis=1,
    )
    p4 = np.concatenate([cl_e[:, None], cl_e[:, None] * direction], axis=1)
    cms = boost(p4, cms_boost_vector(em + ep))
    e_star = cms[:, 0]
    deg = np.degrees(cl_theta)

    def inside(window: tuple[float, float]) -> BoolArray:
        return (deg > window[0]) & (deg < window[1])

    n_veto = _per_event_count(cl_event, e_star > cfg.veto_e, n_events)
    sp1 = _per_event_count(cl_event, (e_star > cfg.sp1_e) & inside(cfg.sp1_theta), n_events) > 0
    n2 = _per_event_count(cl_event, (e_star > cfg.sp2_e) & inside(cfg.sp2_theta), n_events)
    n3 = _per_event_count(cl_event, (e_star > cfg.sp3_e) & inside(cfg.sp3_theta), n_events)
    sp2 = (n2 == 1) & (n_veto == 1)
    sp3 = (n3 == 1) & (n_veto == 1)

    e_sum = np.bincount(cl_event, weights=cl_e, minlength=n_events)
    c4 = _per_event_count(cl_event, cl_e > cfg.c4_e, n_events) >= 4
    bhabha = _bhabha_veto(cl_event, cms, e_star, n_events, cfg)
    ffo = _two_tracks(tr_event, tr_pt, tr_phi, n_events, cfg.ffo_pt)
    return {
        "trg_sp1": sp1,
        "trg_sp2": sp2,
        "trg_sp3": sp3,
        "trg_ffo": ffo,
        "trg_hie": (e_sum > cfg.hie_sum) & ~bhabha,
        "trg_lowe": (e_sum > cfg.lowe_sum) & ~bhabha,
        "trg_c4": c4 & ~bhabha,
        "trg_bhabha": bhabha,
    }


def _two_leading(event: IntArray, key: FloatArray, n_events: int) -> tuple[IntArray, IntArray]:
    """Row indices of the highest and second-highest ``key`` per event (-1 if absent; of equal
    keys the earlier row leads)."""
    from mlsearch.detector.event_kernels import two_leading

    return two_leading(np.asarray(event, np.int64), np.asarray(key, np.float64), np.int64(n_events))


def _bhabha_veto(
    event: IntArray, cms: FloatArray, e_star: FloatArray, n_events: int, cfg: TriggerConfig
) -> BoolArray:
    lead, sub = _two_leading(event, e_star, n_events)
    ok = (lead >= 0) & (sub >= 0)
    a, b = cms[np.where(ok, lead, 0)], cms[np.where(ok, sub, 0)]
    th_a = np.degrees(np.arccos(np.clip(a[:, 3] / np.linalg.norm(a[:, 1:], axis=1), -1, 1)))
    th_b = np.degrees(np.arccos(np.clip(b[:, 3] / np.linalg.norm(b[:, 1:], axis=1), -1, 1)))
    dphi = np.degrees(np.abs(np.arctan2(a[:, 2], a[:, 1]) - np.arctan2(b[:, 2], b[:, 1])))
    dphi = np.where(dphi > 180, 360 - dphi, dphi)
    back_to_back = (np.abs(th_a + th_b - 180) < cfg.bhabha_window) & (
        np.abs(dphi - 180) < cfg.bhabha_window
    )
    ea, eb = e_star[np.where(ok, lead, 0)], e_star[np.where(ok, sub, 0)]
    energetic = (ea > cfg.bhabha_e) & (eb > cfg.bhabha_e) & (ea + eb > cfg.bhabha_sum)
    return np.asarray(ok & back_to_back & energetic)


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
