"""Features of the Z' -> invisible search: two muons and nothing else (CM frame).

Selection: the two-track trigger (by default), exactly two tracks of opposite charge, both
with muonID above the cut, the pair's transverse momentum (CM) above ``dimuon_pt_min`` and
the ECL energy not matched to the tracks below ``extra_ecl_max``.
In signal the missing momentum comes from one place (the Z' radiated off one muon); in
mu mu (gamma) background it comes from ISR photons, mostly close to the beams (the recoil
then points along the beam axis), some at wide angles (a photon lost in an ECL gap).
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
from mlsearch.physics.constants import M_MU

__all__ = ["BUILDER"]

FEATURES = (
    *two_track_specs(("mu_plus", "mu_minus"), ("mu+", "mu-"), "dimuon", 0.2),
    FeatureSpec("mu_plus_clusterE", "GeV", 0, 1, "ECL energy of the mu+ track"),
    FeatureSpec("mu_minus_clusterE", "GeV", 0, 1, "ECL energy of the mu- track"),
    FeatureSpec("extra_ecl_energy", "GeV", 0, 11, "ECL energy not matched to the tracks"),
)


def build(events: ak.Array, config: FeaturesConfig) -> pd.DataFrame:
    """Feature rows for the selected events (GeV, rad; CM frame from nominal beams)."""
    events = triggered(events, config.triggers, "zprime_invisible")
    two = ak.num(events.tracks) == 2
    ev = events[two]
    tr = ev.tracks
    opposite = ak.sum(tr.charge, axis=1) == 0
    muons = ak.all(tr.muonID > config.muon_id_min, axis=1)
    ev = ev[opposite & muons]
    tr = ev.tracks[ak.argsort(-ev.tracks.charge, axis=1)]  # mu+ first
    lab = track_four_vectors(ak.to_regular(tr, axis=1), (M_MU, M_MU))  # (n, 2, 4)
    kin = two_track_features(lab, ("mu_plus", "mu_minus"), "dimuon", cms_frame())
    track_e = ak.to_numpy(ak.to_regular(tr.clusterE, axis=1)) if len(ev) else np.zeros((0, 2))
    table = pd.DataFrame(
        {
            **{f.name: kin[f.name] for f in FEATURES if f.name in kin},
            "mu_plus_clusterE": track_e[:, 0],
            "mu_minus_clusterE": track_e[:, 1],
            "extra_ecl_energy": neutral_ecl_energy(ev),
            "recoil_mass2": kin["recoil_mass2"],
            "event": ak.to_numpy(ev.event),
            "weight": ak.to_numpy(ev.weight),
        }
    )[[*(f.name for f in FEATURES), "recoil_mass2", "event", "weight"]]
    # pairs without hard radiation (pT* ~ resolution), most two-photon pairs, and mu mu gamma
    # with its photon seen: 1-9 % of the signal, 3.9x of e e mu mu at 8 GeV, 60x of the mu mu
    # at 0.5 GeV (docs/validation.md, "The Z' preselection, the pair filter and e e mu mu's
    # soft pairs")
    keep = (table["dimuon_pt_cms"] > config.dimuon_pt_min) & (
        table["extra_ecl_energy"] < config.extra_ecl_max
    )
    return table[keep.to_numpy()].reset_index(drop=True)


BUILDER = FeatureBuilder(
    search="zprime_invisible",
    features=FEATURES,
    search_variable="recoil_mass2",
    search_unit="GeV^2",
    spectators=("recoil_mass2",),
    build=build,
)
