"""Features of the ALP search, e+e- -> gamma a, a -> gamma gamma: three photons.

Selection: an ECL trigger (energy sum or cluster count with the Bhabha veto, by default), no
track above 0.2 GeV (TRACK_VETO_PT of features/common.py), and at least three photon
candidates: clusters in the ECL (not in the gaps) above ``photon_e_min`` (lab) and in time
(|clusterTiming| < clusterErrorTiming).
The three most energetic in the CM frame form the candidate; the others count as extra.

The search variable is the diphoton mass of the pair that comes closest to the mass
hypothesis (``mgg_best``, evaluated per hypothesis from m12, m13, m23): the recoil photon is
the hardest of the three for light ALPs and the softest for M^2 > s/3 (M > 6.1 GeV), and near
there any pair can be the ALP; the best-of-three choice also picks up background, which the
limits see as it is.
"""

from __future__ import annotations

import awkward as ak
import numpy as np
import pandas as pd

from mlsearch.config import FeaturesConfig
from mlsearch.features.common import (
    cluster_four_vectors,
    cms_frame,
    neutral_ecl_energy,
    no_track_above,
    triggered,
)
from mlsearch.features.spec import FeatureBuilder, FeatureSpec
from mlsearch.physics.kinematics import cos_theta, invariant_mass2, momentum

__all__ = ["BUILDER"]

FEATURES = (
    *(
        spec
        for i in (1, 2, 3)
        for spec in (
            FeatureSpec(f"photon{i}_e_cms", "GeV", 0, 5.3, f"photon {i} energy, CM (1 hardest)"),
            FeatureSpec(f"photon{i}_cos_theta_cms", "", -1, 1, f"photon {i} cos(polar), CM"),
            FeatureSpec(f"photon{i}_e1e9", "", 0, 1, f"photon {i} clusterE1E9"),
            FeatureSpec(f"photon{i}_lat", "", 0, 1, f"photon {i} clusterLAT"),
        )
    ),
    FeatureSpec("m12", "GeV", 0, 10.6, "mass of photons 1 and 2"),
    FeatureSpec("m13", "GeV", 0, 10.6, "mass of photons 1 and 3"),
    FeatureSpec("m23", "GeV", 0, 10.6, "mass of photons 2 and 3"),
    FeatureSpec("m3gamma", "GeV", 0, 11, "mass of the three photons"),
    FeatureSpec("p3gamma_cms", "GeV", 0, 5.3, "|sum of the three momenta|, CM (balance)"),
    FeatureSpec("max_time_over_error", "", 0, 1, "max |clusterTiming| / clusterErrorTiming"),
    FeatureSpec("n_extra_photons", "", 0, 20, "photon candidates besides the three"),
    FeatureSpec("extra_ecl_energy", "GeV", 0, 11, "ECL energy outside the three photons (lab)"),
)


def _pair_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(np.clip(invariant_mass2(a + b), 0, None))


def build(events: ak.Array, config: FeaturesConfig) -> pd.DataFrame:
    """Feature rows for the selected three-photon events (GeV, rad; CM frame, nominal beams)."""
    events = triggered(events, config.triggers, "alp")
    events = events[no_track_above(events)]
    frame = cms_frame()
    cl = events.clusters
    if not len(events) or "clusterE" not in ak.fields(cl):
        return _frame_of({}, 0)
    photon = (
        (cl.clusterE > config.photon_e_min)
        & (abs(cl.clusterTiming) < cl.clusterErrorTiming)
        & ((cl.clusterReg == 1) | (cl.clusterReg == 2) | (cl.clusterReg == 3))
    )
    lab = cluster_four_vectors(cl)
    counts = ak.num(cl.clusterE)
    flat = np.stack([ak.to_numpy(ak.flatten(lab[c])) for c in ("E", "px", "py", "pz")], axis=1)
    e_star = ak.unflatten(frame.to_cms(flat)[:, 0], counts)
    # candidates first, by CM energy; non-candidates after them
    order = ak.argsort(ak.where(photon, e_star, -1.0 - e_star), axis=1, ascending=False)
    keep = ak.to_numpy(ak.sum(photon, axis=1) >= 3)
    ev, cl, order, photon = events[keep], cl[keep], order[keep], photon[keep]
    if not len(ev):
        return _frame_of({}, 0)
    best = cl[order[:, :3]]
    reg = ak.to_regular(best, axis=1)
    lab3 = np.stack(
        [
            ak.to_numpy(reg.clusterE),
            ak.to_numpy(reg.clusterE * np.sin(reg.clusterTheta) * np.cos(reg.clusterPhi)),
            ak.to_numpy(reg.clusterE * np.sin(reg.clusterTheta) * np.sin(reg.clusterPhi)),
            ak.to_numpy(reg.clusterE * np.cos(reg.clusterTheta)),
        ],
        axis=-1,
    ).reshape(-1, 3, 4)
    cms = frame.to_cms(lab3)
    total = cms.sum(axis=1)
    cols: dict[str, np.ndarray] = {}
    for i in range(3):
        cols[f"photon{i + 1}_e_cms"] = cms[:, i, 0]
        cols[f"photon{i + 1}_cos_theta_cms"] = cos_theta(cms[:, i])
        cols[f"photon{i + 1}_e1e9"] = ak.to_numpy(reg.clusterE1E9)[:, i].astype(np.float64)
        cols[f"photon{i + 1}_lat"] = ak.to_numpy(reg.clusterLAT)[:, i].astype(np.float64)
    cols["m12"] = _pair_mass(lab3[:, 0], lab3[:, 1])
    cols["m13"] = _pair_mass(lab3[:, 0], lab3[:, 2])
    cols["m23"] = _pair_mass(lab3[:, 1], lab3[:, 2])
    cols["m3gamma"] = np.sqrt(np.clip(invariant_mass2(total), 0, None))
    cols["p3gamma_cms"] = momentum(total)
    ratio = np.abs(ak.to_numpy(reg.clusterTiming)) / ak.to_numpy(reg.clusterErrorTiming)
    cols["max_time_over_error"] = ratio.max(axis=1).astype(np.float64)
    cols["n_extra_photons"] = ak.to_numpy(ak.sum(photon, axis=1) - 3).astype(np.float64)
    cols["extra_ecl_energy"] = neutral_ecl_energy(ev) - lab3[:, :, 0].sum(1)
    cols["event"] = ak.to_numpy(ev.event)
    cols["weight"] = ak.to_numpy(ev.weight)
    return _frame_of(cols, len(ev))


def _frame_of(cols: dict[str, np.ndarray], n: int) -> pd.DataFrame:
    names = [f.name for f in FEATURES]
    empty = {k: np.zeros(0) for k in [*names, "event", "weight"]}
    df = pd.DataFrame(cols if n else empty)
    df["event"] = df["event"].astype(np.int64)
    return df[[*names, "event", "weight"]]


BUILDER = FeatureBuilder(
    search="alp",
    features=FEATURES,
    search_variable="mgg_best",
    spectators=(),
    build=build,
    search_rule={"closest_to_mass": ["m12", "m13", "m23"]},
)
