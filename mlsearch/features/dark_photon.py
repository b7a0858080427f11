"""Features of the dark-photon search, e+e- -> gamma A', A' -> invisible: one photon.

Selection: a single-photon trigger line (by default), no track above 0.2 GeV (TRACK_VETO_PT
of features/common.py), and a photon candidate: the cluster with the highest CM energy, in
time (|clusterTiming| < clusterErrorTiming) and above ``single_photon_e_min`` in the CM
frame, with no second cluster above ``second_photon_e_max`` (CM). The missing mass squared
M_miss^2 = s - 2 sqrt(s) E* (nominal beams) peaks at M(A')^2.

Backgrounds are gamma gamma (gamma) with photons lost in the gaps or outside the ECL,
radiative Bhabhas with both leptons below the acceptance, and beam background; the veto
variables describe what else the event has: the second-highest cluster, the number of extra
clusters and the extra ECL energy.
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
from mlsearch.physics.kinematics import cos_theta

__all__ = ["BUILDER"]

_SHAPES = (
    ("e1e9", "clusterE1E9", "", 0, 1),
    ("e9e21", "clusterE9E21", "", 0, 1),
    ("second_moment", "clusterSecondMoment", "cm^2", 0, 100),
    ("lat", "clusterLAT", "", 0, 1),
    ("zernike40", "clusterAbsZernikeMoment40", "", 0, 2),
    ("zernike51", "clusterAbsZernikeMoment51", "", 0, 2),
    ("nhits", "clusterNHits", "", 0, 21),
    ("psd", "clusterPulseShapeDiscriminationMVA", "", 0, 1),
)

FEATURES = (
    FeatureSpec("photon_e_cms", "GeV", 0.5, 5.3, "photon energy, CM frame"),
    FeatureSpec("photon_cos_theta_cms", "", -1, 1, "photon cos(polar angle), CM frame"),
    FeatureSpec("photon_theta_lab", "rad", 0.2, 2.8, "photon polar angle, lab"),
    FeatureSpec("photon_region", "", 1, 3, "clusterReg: 1 forward, 2 barrel, 3 backward"),
    *(
        FeatureSpec(f"photon_{name}", unit, lo, hi, f"photon {branch}")
        for name, branch, unit, lo, hi in _SHAPES
    ),
    FeatureSpec("photon_time_over_error", "", 0, 1, "|clusterTiming| / clusterErrorTiming"),
    FeatureSpec("second_e_cms", "GeV", 0, 5.3, "CM energy of the next cluster (0: none)"),
    FeatureSpec("second_cos_theta_cms", "", -1, 1, "its cos(polar angle), CM (0: none)"),
    FeatureSpec("n_extra_clusters", "", 0, 30, "other clusters above extra_photon_e_min"),
    FeatureSpec("extra_ecl_energy", "GeV", 0, 11, "ECL energy besides the photon (lab)"),
)


def build(events: ak.Array, config: FeaturesConfig) -> pd.DataFrame:
    """Feature rows for the selected single-photon events (GeV, rad; CM frame)."""
    events = triggered(events, config.triggers, "dark_photon")
    names = [f.name for f in FEATURES]
    if not len(events) or "clusterE" not in ak.fields(events.clusters):
        return pd.DataFrame({k: np.zeros(0) for k in [*names, "missing_mass2", "event", "weight"]})
    events = events[no_track_above(events)]
    frame = cms_frame()
    cl = events.clusters
    counts = ak.to_numpy(ak.num(cl.clusterE))
    lab = cluster_four_vectors(cl)
    flat = np.stack([ak.to_numpy(ak.flatten(lab[c])) for c in ("E", "px", "py", "pz")], axis=1)
    cms = frame.to_cms(flat)
    cms_jag = ak.unflatten(ak.zip({"E": cms[:, 0], "cos": cos_theta(cms)}), counts)
    order = ak.argsort(cms_jag.E, axis=1, ascending=False)
    cl, cms_jag = cl[order], cms_jag[order]
    first = ak.firsts(cl)
    has = ak.to_numpy(counts > 0)
    e_star = ak.to_numpy(ak.fill_none(ak.firsts(cms_jag.E), 0.0))
    in_time = has & ak.to_numpy(
        ak.fill_none(abs(first.clusterTiming) < first.clusterErrorTiming, False)
    )
    second = ak.pad_none(cms_jag, 2, axis=1)[:, 1]
    second_e = ak.to_numpy(ak.fill_none(second.E, 0.0))
    keep = in_time & (e_star > config.single_photon_e_min) & (second_e < config.second_photon_e_max)
    ev, cl, cms_jag, first, second = (
        events[keep],
        cl[keep],
        cms_jag[keep],
        first[keep],
        second[keep],
    )
    e_star = e_star[keep]
    photon_e = ak.to_numpy(first.clusterE)
    cols: dict[str, np.ndarray] = {
        "photon_e_cms": e_star,
        "photon_cos_theta_cms": ak.to_numpy(ak.firsts(cms_jag.cos)),
        "photon_theta_lab": ak.to_numpy(first.clusterTheta),
        "photon_region": ak.to_numpy(first.clusterReg).astype(np.float64),
        **{
            f"photon_{name}": ak.to_numpy(first[branch]).astype(np.float64)
            for name, branch, *_ in _SHAPES
        },
        "photon_time_over_error": np.abs(ak.to_numpy(first.clusterTiming))
        / ak.to_numpy(first.clusterErrorTiming),
        "second_e_cms": ak.to_numpy(ak.fill_none(second.E, 0.0)),
        "second_cos_theta_cms": ak.to_numpy(ak.fill_none(second.cos, 0.0)),
        "n_extra_clusters": ak.to_numpy(
            ak.sum(cl.clusterE[:, 1:] > config.extra_photon_e_min, axis=1)
        ).astype(np.float64),
        "extra_ecl_energy": neutral_ecl_energy(ev) - photon_e,
        "missing_mass2": frame.sqrt_s**2 - 2 * frame.sqrt_s * e_star,
        "event": ak.to_numpy(ev.event),
        "weight": ak.to_numpy(ev.weight),
    }
    return pd.DataFrame(cols)[[*names, "missing_mass2", "event", "weight"]]


BUILDER = FeatureBuilder(
    search="dark_photon",
    features=FEATURES,
    search_variable="missing_mass2",
    search_unit="GeV^2",
    spectators=("missing_mass2",),
    build=build,
)
