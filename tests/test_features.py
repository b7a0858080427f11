import awkward as ak
import numpy as np
import pytest

from mlsearch.config import FeaturesConfig
from mlsearch.features import get_builder
from mlsearch.physics.constants import M_MU
from mlsearch.physics.kinematics import beam_four_momenta, boost, cms_boost_vector


def _event_from_cms(mu_plus_cms, mu_minus_cms, muon_id=(0.9, 0.9), extra=()):
    """Reconstructed record with two muons given in the CM frame (boosted to the lab)."""
    em, ep = beam_four_momenta()
    beta = cms_boost_vector(em + ep)
    lab = [boost(np.array(p, dtype=float), -beta) for p in (mu_plus_cms, mu_minus_cms)]
    tracks = [
        {
            "px": p[1],
            "py": p[2],
            "pz": p[3],
            "charge": q,
            "muonID": mid,
            "clusterE": 0.2,
            "mcPDG": -13 * q,
        }
        for p, q, mid in zip(lab, (1, -1), muon_id, strict=True)
    ]
    clusters = [
        {"clusterE": e, "clusterTheta": 1.0, "clusterPhi": 0.0, "clusterReg": 2} for e in extra
    ]
    return {"event": 0, "weight": 1.0, "tracks": tracks, "clusters": clusters, "trg_ffo": True}


def _muon(p, direction):
    d = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    return [np.sqrt(p**2 + M_MU**2), *(p * d)]


def test_recoil_mass_and_projections_of_a_known_event():
    sqrt_s = float(np.sqrt((lambda a: a[0] ** 2 - (a[1:] ** 2).sum())(sum(beam_four_momenta()))))
    # mu+ along +x with 3 GeV, mu- along +y with 2 GeV (CM frame)
    ev = _event_from_cms(_muon(3.0, [1, 0, 0]), _muon(2.0, [0, 1, 0]), extra=(0.3,))
    df = get_builder("zprime_invisible").build(ak.Array([ev]), FeaturesConfig())
    assert len(df) == 1
    row = df.iloc[0]
    e_pair = np.sqrt(9 + M_MU**2) + np.sqrt(4 + M_MU**2)
    expected_rm2 = (sqrt_s - e_pair) ** 2 - (9 + 4)
    assert row.recoil_mass2 == pytest.approx(expected_rm2, abs=1e-6)
    assert row.mu_plus_p_cms == pytest.approx(3.0, abs=1e-9)
    assert row.recoil_p_cms == pytest.approx(np.sqrt(13), abs=1e-9)
    # recoil (-3, -2, 0): component transverse to the mu+ (x axis) is 2, to the mu- is 3
    assert row.recoil_pt_mu_plus == pytest.approx(2.0, abs=1e-9)
    assert row.recoil_pt_mu_minus == pytest.approx(3.0, abs=1e-9)
    assert row.acoplanarity == pytest.approx(np.pi / 2, abs=1e-9)
    assert row.extra_ecl_energy == pytest.approx(0.3)


def test_selection_requires_two_identified_opposite_muons():
    good = _event_from_cms(_muon(3.0, [1, 0, 0]), _muon(2.0, [0, 1, 0]))
    bad_id = _event_from_cms(_muon(3.0, [1, 0, 0]), _muon(2.0, [0, 1, 0]), muon_id=(0.9, 0.1))
    same_sign = _event_from_cms(_muon(3.0, [1, 0, 0]), _muon(2.0, [0, 1, 0]))
    same_sign["tracks"][1]["charge"] = 1
    one_track = _event_from_cms(_muon(3.0, [1, 0, 0]), _muon(2.0, [0, 1, 0]))
    one_track["tracks"] = one_track["tracks"][:1]
    untriggered = _event_from_cms(_muon(3.0, [1, 0, 0]), _muon(2.0, [0, 1, 0]))
    untriggered["trg_ffo"] = False
    events = ak.Array([good, bad_id, same_sign, one_track, untriggered])
    df = get_builder("zprime_invisible").build(events, FeaturesConfig())
    assert len(df) == 1
    # without the trigger requirement the untriggered event is selected too
    assert len(get_builder("zprime_invisible").build(events, FeaturesConfig(triggers=[]))) == 2


def test_builder_declares_every_feature_it_builds():
    builder = get_builder("zprime_invisible")
    ev = _event_from_cms(_muon(3.0, [1, 0, 0]), _muon(2.0, [0, 1, 0]))
    df = builder.build(ak.Array([ev]), FeaturesConfig())
    assert set(builder.feature_names) | set(builder.spectators) | {"event", "weight"} == set(df)
    for spec in builder.features:
        assert spec.low <= df[spec.name].iloc[0] <= spec.high, spec.name
