"""Pieces the feature builders share: the CM frame of the nominal beams, the trigger
selection, two-track kinematics with the recoil, and photon candidates from clusters.

Every quantity is computed from reconstructed objects only (tracks: px, py, pz, charge,
clusterE; clusters: the basf2 cluster variables), so a basf2 ntuple and our simulation give
the same features. Energies and momenta in GeV, angles in rad.
"""

from __future__ import annotations

from dataclasses import dataclass

import awkward as ak
import numpy as np
from numpy.typing import NDArray

from mlsearch.errors import InputError
from mlsearch.features.spec import FeatureSpec
from mlsearch.physics.kinematics import (
    beam_four_momenta,
    boost,
    cms_boost_vector,
    cos_theta,
    invariant_mass2,
    momentum,
)
from mlsearch.searches import SEARCHES

__all__ = [
    "TRACK_VETO_PT",
    "CmsFrame",
    "cluster_four_vectors",
    "cms_frame",
    "neutral_ecl_energy",
    "no_track_above",
    "track_four_vectors",
    "trigger_mask",
    "triggered",
    "two_track_features",
    "two_track_specs",
]

#: photon searches veto tracks above this pT [GeV]; beam-background tracks (0.1-0.4 GeV)
#: below it do not veto
TRACK_VETO_PT = 0.2

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class CmsFrame:
    """The nominal e+e- system: boost velocity, initial four-momentum in the lab and in the
    CM frame, and sqrt(s) [GeV]."""

    beta: FloatArray
    initial_lab: FloatArray
    initial_cms: FloatArray
    sqrt_s: float

    def to_cms(self, p4_lab: FloatArray) -> FloatArray:
        return boost(p4_lab, self.beta)


def cms_frame() -> CmsFrame:
    electron, positron = beam_four_momenta()
    initial = electron + positron
    beta = cms_boost_vector(initial)
    initial_cms = boost(initial, beta)
    return CmsFrame(beta, initial, initial_cms, float(initial_cms[0]))


def trigger_mask(events: ak.Array, lines: tuple[str, ...] | list[str]) -> NDArray[np.bool_]:
    """Events that fired any of the L1 ``lines`` (all events when ``lines`` is empty)."""
    if not lines:
        return np.ones(len(events), dtype=bool)
    missing = [line for line in lines if line not in ak.fields(events)]
    if missing:
        raise InputError(
            f"trigger bit(s) {', '.join(missing)} not in the reconstructed events; "
            "set features.triggers: [] to select without a trigger"
        )
    fired = np.zeros(len(events), dtype=bool)
    for line in lines:
        fired |= ak.to_numpy(events[line]).astype(bool)
    return fired


def triggered(events: ak.Array, triggers: list[str] | None, search: str) -> ak.Array:
    """The events that fired one of ``triggers`` (features.triggers; None: the search's
    default lines of :mod:`mlsearch.searches`; []: all events)."""
    lines = SEARCHES[search].triggers if triggers is None else triggers
    return events[trigger_mask(events, lines)]


def cluster_four_vectors(clusters: ak.Array) -> ak.Array:
    """Massless lab four-vectors (E, px, py, pz) of clusters from clusterE/Theta/Phi, as
    jagged fields E, px, py, pz."""
    e, th, ph = clusters.clusterE, clusters.clusterTheta, clusters.clusterPhi
    st = np.sin(th)
    return ak.zip(
        {"E": e, "px": e * st * np.cos(ph), "py": e * st * np.sin(ph), "pz": e * np.cos(th)}
    )


def track_four_vectors(tracks: ak.Array, masses: tuple[float, float]) -> FloatArray:
    """Lab four-vectors (n, 2, 4) of two tracks per event with the given mass hypotheses
    [GeV]; (0, 2, 4) for no events."""
    p3 = np.stack([ak.to_numpy(tracks[c]) for c in ("px", "py", "pz")], axis=-1).reshape(-1, 2, 3)
    e = np.sqrt(np.sum(p3**2, axis=-1) + np.asarray(masses) ** 2)
    return np.concatenate([e[..., None], p3], axis=-1)


def neutral_ecl_energy(events: ak.Array) -> FloatArray:
    """Sum of the neutral (not track-matched) cluster energies per event [GeV]."""
    clusters = events.clusters
    if len(events) and "clusterE" in ak.fields(clusters):  # untyped when all are empty
        return np.asarray(ak.to_numpy(ak.sum(clusters.clusterE, axis=1)), dtype=np.float64)
    return np.zeros(len(events))


def no_track_above(events: ak.Array, pt_max: float = TRACK_VETO_PT) -> NDArray[np.bool_]:
    """Events without a track of transverse momentum above ``pt_max`` [GeV]."""
    if not len(events):
        return np.zeros(0, dtype=bool)
    tracks = events.tracks
    return np.asarray(ak.to_numpy(ak.sum(np.hypot(tracks.px, tracks.py) > pt_max, axis=1) == 0))


def two_track_specs(
    names: tuple[str, str], labels: tuple[str, str], pair: str, mass_low: float
) -> tuple[FeatureSpec, ...]:
    """The declared features of :func:`two_track_features` (all but recoil_mass2, the search
    variable), in the order the builders list them."""
    (a, b), (la, lb) = names, labels
    return (
        FeatureSpec(f"{a}_p_cms", "GeV", 0, 5.3, f"{la} momentum, CM frame"),
        FeatureSpec(f"{b}_p_cms", "GeV", 0, 5.3, f"{lb} momentum, CM frame"),
        FeatureSpec(f"{a}_cos_theta_cms", "", -1, 1, f"{la} cos(polar angle), CM frame"),
        FeatureSpec(f"{b}_cos_theta_cms", "", -1, 1, f"{lb} cos(polar angle), CM frame"),
        FeatureSpec(f"{pair}_pt_cms", "GeV", 0, 5.3, "transverse momentum of the pair, CM frame"),
        FeatureSpec(f"{pair}_mass", "GeV", mass_low, 10.6, "invariant mass of the pair"),
        FeatureSpec("recoil_p_cms", "GeV", 0, 5.3, "recoil momentum, CM frame"),
        FeatureSpec("recoil_cos_theta_cms", "", -1, 1, "recoil cos(polar angle), CM frame"),
        FeatureSpec("recoil_theta_lab", "rad", 0, 3.1416, "recoil polar angle, lab (ECL pointing)"),
        FeatureSpec("acoplanarity", "rad", 0, 3.1416, f"pi - |phi({la}) - phi({lb})|, CM frame"),
        FeatureSpec(f"recoil_pt_{a}", "GeV", 0, 5.3, f"recoil momentum transverse to the {la}"),
        FeatureSpec(f"recoil_pt_{b}", "GeV", 0, 5.3, f"recoil momentum transverse to the {lb}"),
    )


def _transverse_to(vec: FloatArray, axis: FloatArray) -> FloatArray:
    unit = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
    return np.asarray(np.linalg.norm(np.cross(vec, unit), axis=-1))


def two_track_features(
    lab: FloatArray, names: tuple[str, str], pair: str, frame: CmsFrame
) -> dict[str, FloatArray]:
    """Kinematics of two tracks (lab four-vectors (n, 2, 4)) and their recoil: momenta and
    cos(theta) in the CM frame, the pair's pT and mass, the recoil momentum and angles,
    acoplanarity, the recoil momentum transverse to each track, and recoil_mass2 [GeV^2]."""
    cms = frame.to_cms(lab)
    a, b = cms[:, 0], cms[:, 1]
    both = a + b
    recoil = frame.initial_cms - both
    recoil_lab = frame.initial_lab - lab[:, 0] - lab[:, 1]
    dphi = np.abs(np.arctan2(a[:, 2], a[:, 1]) - np.arctan2(b[:, 2], b[:, 1]))
    dphi = np.where(dphi > np.pi, 2 * np.pi - dphi, dphi)
    na, nb = names
    return {
        f"{na}_p_cms": momentum(a),
        f"{nb}_p_cms": momentum(b),
        f"{na}_cos_theta_cms": cos_theta(a),
        f"{nb}_cos_theta_cms": cos_theta(b),
        f"{pair}_pt_cms": np.hypot(both[:, 1], both[:, 2]),
        f"{pair}_mass": np.sqrt(np.clip(invariant_mass2(both), 0, None)),
        "recoil_p_cms": momentum(recoil),
        "recoil_cos_theta_cms": cos_theta(recoil),
        "recoil_theta_lab": np.arccos(cos_theta(recoil_lab)),
        "acoplanarity": np.pi - dphi,
        f"recoil_pt_{na}": _transverse_to(recoil[:, 1:], a[:, 1:]),
        f"recoil_pt_{nb}": _transverse_to(recoil[:, 1:], b[:, 1:]),
        "recoil_mass2": invariant_mass2(recoil),
    }
