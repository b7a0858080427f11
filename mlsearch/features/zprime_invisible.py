"""Features of the Z' -> invisible search: two muons and nothing else (CM frame).

Selection: exactly two tracks of opposite charge, both with muonID above the cut.
In signal the missing momentum comes from one place (the Z' radiated off one muon); in
mu mu (gamma) background it comes from ISR photons along the beams, so the recoil points
along the beam axis.
"""

from __future__ import annotations

import awkward as ak
import numpy as np
import pandas as pd

from mlsearch.config import FeaturesConfig
from mlsearch.features.spec import FeatureBuilder, FeatureSpec
from mlsearch.physics.constants import M_MU
from mlsearch.physics.kinematics import (
    beam_four_momenta,
    boost,
    cms_boost_vector,
    cos_theta,
    invariant_mass2,
    momentum,
)

__all__ = ["BUILDER"]

FEATURES = (
    FeatureSpec("mu_plus_p_cms", "GeV", 0, 5.3, "mu+ momentum, CM frame"),
    FeatureSpec("mu_minus_p_cms", "GeV", 0, 5.3, "mu- momentum, CM frame"),
    FeatureSpec("mu_plus_cos_theta_cms", "", -1, 1, "mu+ cos(polar angle), CM frame"),
    FeatureSpec("mu_minus_cos_theta_cms", "", -1, 1, "mu- cos(polar angle), CM frame"),
    FeatureSpec("dimuon_pt_cms", "GeV", 0, 5.3, "transverse momentum of the pair, CM frame"),
    FeatureSpec("dimuon_mass", "GeV", 0.2, 10.6, "invariant mass of the pair"),
    FeatureSpec("recoil_p_cms", "GeV", 0, 5.3, "recoil momentum, CM frame"),
    FeatureSpec("recoil_cos_theta_cms", "", -1, 1, "recoil cos(polar angle), CM frame"),
    FeatureSpec("recoil_theta_lab", "rad", 0, 3.1416, "recoil polar angle, lab (ECL pointing)"),
    FeatureSpec("acoplanarity", "rad", 0, 3.1416, "pi - |phi(mu+) - phi(mu-)|, CM frame"),
    FeatureSpec("recoil_pt_mu_plus", "GeV", 0, 5.3, "recoil momentum transverse to the mu+"),
    FeatureSpec("recoil_pt_mu_minus", "GeV", 0, 5.3, "recoil momentum transverse to the mu-"),
    FeatureSpec("mu_plus_clusterE", "GeV", 0, 1, "ECL energy of the mu+ track"),
    FeatureSpec("mu_minus_clusterE", "GeV", 0, 1, "ECL energy of the mu- track"),
    FeatureSpec("extra_ecl_energy", "GeV", 0, 11, "ECL energy not matched to the tracks"),
)


def _four_vectors(tracks: ak.Array) -> np.ndarray:
    p3 = np.stack([ak.to_numpy(tracks[c]) for c in ("px", "py", "pz")], axis=-1)
    e = np.sqrt(np.sum(p3**2, axis=-1) + M_MU**2)
    return np.concatenate([e[..., None], p3], axis=-1)


def _transverse_to(vec: np.ndarray, axis: np.ndarray) -> np.ndarray:
    unit = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
    return np.linalg.norm(np.cross(vec, unit), axis=-1)


def build(events: ak.Array, config: FeaturesConfig) -> pd.DataFrame:
    """Feature rows for the selected events (GeV, rad; CM frame from nominal beams)."""
    tracks = events.tracks
    two = ak.num(tracks) == 2
    ev = events[two]
    tr = ev.tracks
    opposite = ak.sum(tr.charge, axis=1) == 0
    muons = ak.all(tr.muonID > config.muon_id_min, axis=1)
    ev = ev[opposite & muons]
    tr = ev.tracks[ak.argsort(-ev.tracks.charge, axis=1)]  # mu+ first
    lab = _four_vectors(ak.to_regular(tr, axis=1))  # (n, 2, 4)
    electron, positron = beam_four_momenta()
    initial = electron + positron
    beta = cms_boost_vector(initial)
    cms = boost(lab, beta)
    initial_cms = boost(initial, beta)
    mu_plus, mu_minus = cms[:, 0], cms[:, 1]
    pair = mu_plus + mu_minus
    recoil = initial_cms - pair
    recoil_lab = initial - lab[:, 0] - lab[:, 1]
    dphi = np.abs(
        np.arctan2(mu_plus[:, 2], mu_plus[:, 1]) - np.arctan2(mu_minus[:, 2], mu_minus[:, 1])
    )
    dphi = np.where(dphi > np.pi, 2 * np.pi - dphi, dphi)
    cl = ev.clusters
    has_clusters = len(ev) > 0 and "clusterE" in ak.fields(cl)  # untyped when all are empty
    extra = ak.to_numpy(ak.sum(cl.clusterE, axis=1)) if has_clusters else np.zeros(len(ev))
    track_e = ak.to_numpy(ak.to_regular(tr.clusterE, axis=1)) if len(ev) else np.zeros((0, 2))
    return pd.DataFrame(
        {
            "mu_plus_p_cms": momentum(mu_plus),
            "mu_minus_p_cms": momentum(mu_minus),
            "mu_plus_cos_theta_cms": cos_theta(mu_plus),
            "mu_minus_cos_theta_cms": cos_theta(mu_minus),
            "dimuon_pt_cms": np.hypot(pair[:, 1], pair[:, 2]),
            "dimuon_mass": np.sqrt(np.clip(invariant_mass2(pair), 0, None)),
            "recoil_p_cms": momentum(recoil),
            "recoil_cos_theta_cms": cos_theta(recoil),
            "recoil_theta_lab": np.arccos(cos_theta(recoil_lab)),
            "acoplanarity": np.pi - dphi,
            "recoil_pt_mu_plus": _transverse_to(recoil[:, 1:], mu_plus[:, 1:]),
            "recoil_pt_mu_minus": _transverse_to(recoil[:, 1:], mu_minus[:, 1:]),
            "mu_plus_clusterE": track_e[:, 0],
            "mu_minus_clusterE": track_e[:, 1],
            "extra_ecl_energy": extra,
            "recoil_mass2": invariant_mass2(recoil),
            "event": ak.to_numpy(ev.event),
            "weight": ak.to_numpy(ev.weight),
        }
    )


BUILDER = FeatureBuilder(
    search="zprime_invisible",
    features=FEATURES,
    search_variable="recoil_mass2",
    spectators=("recoil_mass2",),
    build=build,
)
