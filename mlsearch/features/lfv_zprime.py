"""Features of the LFV Z' search: one electron, one muon of opposite charge and nothing else.

Selection: the two-track trigger (by default), exactly two tracks of opposite charge, one
identified as an electron (electronID above the cut, muonID below it) and the other as a
muon (muonID above, electronID below). In signal the invisible Z' recoils against the e mu
pair from one lepton line; in tau pairs (tau -> e nu nu, tau -> mu nu nu) four neutrinos
share the missing momentum between both sides.
"""

from __future__ import annotations

import awkward as ak
import numpy as np
import pandas as pd

from mlsearch.config import FeaturesConfig
from mlsearch.features.common import (
    cms_frame,
    neutral_ecl_energy,
    track_four_vectors,
    triggered,
    two_track_features,
    two_track_specs,
)
from mlsearch.features.spec import FeatureBuilder, FeatureSpec
from mlsearch.physics.constants import M_E, M_MU

__all__ = ["BUILDER"]

FEATURES = (
    *two_track_specs(("e", "mu"), ("electron", "muon"), "emu", 0.0),
    FeatureSpec("e_eop", "", 0, 1.5, "electron ECL energy over track momentum (lab)"),
    FeatureSpec("mu_clusterE", "GeV", 0, 1, "ECL energy of the muon track"),
    FeatureSpec("e_charge", "", -1, 1, "electron charge (e+ mu- vs e- mu+)"),
    FeatureSpec("extra_ecl_energy", "GeV", 0, 11, "ECL energy not matched to the tracks"),
)


def build(events: ak.Array, config: FeaturesConfig) -> pd.DataFrame:
    """Feature rows for the selected e mu events (GeV, rad; CM frame from nominal beams)."""
    events = triggered(events, config.triggers, "lfv_zprime")
    ev = events[ak.num(events.tracks) == 2]
    tr = ev.tracks
    is_e = (tr.electronID > config.electron_id_min) & (tr.muonID <= config.muon_id_min)
    is_mu = (tr.muonID > config.muon_id_min) & (tr.electronID <= config.electron_id_min)
    keep = (
        (ak.sum(tr.charge, axis=1) == 0)
        & (ak.sum(is_e, axis=1) == 1)
        & (ak.sum(is_mu, axis=1) == 1)
    )
    ev, is_e = ev[keep], is_e[keep]
    tr = ev.tracks[ak.argsort(~is_e, axis=1, stable=True)]  # electron first
    reg = ak.to_regular(tr, axis=1)
    lab = track_four_vectors(reg, (M_E, M_MU))
    kin = two_track_features(lab, ("e", "mu"), "emu", cms_frame())
    track_e = ak.to_numpy(reg.clusterE).reshape(-1, 2)
    p_lab = np.linalg.norm(lab[..., 1:], axis=-1)
    extra = neutral_ecl_energy(ev)
    columns = {
        **kin,
        "e_eop": track_e[:, 0] / np.where(p_lab[:, 0] > 0, p_lab[:, 0], 1.0),
        "mu_clusterE": track_e[:, 1],
        "e_charge": ak.to_numpy(reg.charge).reshape(-1, 2)[:, 0].astype(np.float64),
        "extra_ecl_energy": extra,
        "event": ak.to_numpy(ev.event),
        "weight": ak.to_numpy(ev.weight),
    }
    return pd.DataFrame(
        {k: columns[k] for k in [*(f.name for f in FEATURES), "recoil_mass2", "event", "weight"]}
    )


BUILDER = FeatureBuilder(
    search="lfv_zprime",
    features=FEATURES,
    search_variable="recoil_mass2",
    search_unit="GeV^2",
    spectators=("recoil_mass2",),
    build=build,
)
