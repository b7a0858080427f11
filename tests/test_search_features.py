"""The LFV Z', ALP and dark-photon feature builders on hand-built reconstructed events with
known answers, their selections, and the search-variable rules."""

import awkward as ak
import numpy as np
import pandas as pd
import pytest

from mlsearch.config import FeaturesConfig
from mlsearch.errors import InputError
from mlsearch.features import get_builder
from mlsearch.physics.constants import M_E, M_MU
from mlsearch.physics.kinematics import beam_four_momenta, boost, cms_boost_vector
from mlsearch.selection.windows import search_values

EM, EP = beam_four_momenta()
BETA = cms_boost_vector(EM + EP)
SQRT_S = float(boost(EM + EP, BETA)[0])


def _lab(p4_cms):
    return boost(np.asarray(p4_cms, dtype=float), -BETA)


def _four(p, direction, mass=0.0):
    d = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    return np.array([np.sqrt(p**2 + mass**2), *(p * d)])


def _track(p4_cms, charge, muon_id, electron_id, cluster_e=0.2):
    p = _lab(p4_cms)
    return {
        "px": p[1],
        "py": p[2],
        "pz": p[3],
        "charge": charge,
        "muonID": muon_id,
        "electronID": electron_id,
        "clusterE": cluster_e,
        "mcPDG": 0,
    }


def _cluster(p4_cms, timing=0.0, error=5.0, e1e9=0.8, lat=0.2):
    p = _lab(p4_cms)
    theta = float(np.arctan2(np.hypot(p[1], p[2]), p[3]))
    region = 1 if theta < np.radians(31.4) else (3 if theta > np.radians(130.7) else 2)
    return {
        "clusterE": float(p[0]),
        "clusterTheta": theta,
        "clusterPhi": float(np.arctan2(p[2], p[1])),
        "clusterReg": region,
        "clusterTiming": timing,
        "clusterErrorTiming": error,
        "clusterE1E9": e1e9,
        "clusterE9E21": 0.95,
        "clusterSecondMoment": 1.0,
        "clusterLAT": lat,
        "clusterAbsZernikeMoment40": 0.9,
        "clusterAbsZernikeMoment51": 0.05,
        "clusterNHits": 12.0,
        "clusterPulseShapeDiscriminationMVA": 0.95,
        "minC2TDist": 1000.0,
        "mcPDG": 22,
    }


_BITS = ("trg_sp1", "trg_sp2", "trg_sp3", "trg_ffo", "trg_hie", "trg_lowe", "trg_c4")


def _event(tracks=(), clusters=(), fired=_BITS, event=0):
    return {
        "event": event,
        "weight": 1.0,
        "tracks": list(tracks),
        "clusters": list(clusters),
        **{b: b in fired for b in _BITS},
    }


def _typed(events):
    """Give empty track/cluster lists their record type (as a simulated file has)."""
    dummy_t = _track(_four(1.0, [1, 0, 0], M_MU), 1, 0.0, 0.0)
    dummy_c = _cluster(_four(1.0, [1, 0, 1]))
    arr = ak.Array([*events, _event([dummy_t], [dummy_c], event=-1)])
    return arr[:-1]


# --- LFV Z' -------------------------------------------------------------------------------


def test_lfv_recoil_and_electron_e_over_p_of_a_known_event():
    e = _four(3.0, [1, 0, 0], M_E)
    mu = _four(2.0, [0, 1, 0], M_MU)
    ev = _event([_track(e, -1, 0.01, 0.95, cluster_e=2.9), _track(mu, 1, 0.95, 0.01)])
    df = get_builder("lfv_zprime").build(_typed([ev]), FeaturesConfig())
    assert len(df) == 1
    row = df.iloc[0]
    expected = (SQRT_S - e[0] - mu[0]) ** 2 - 13.0
    assert row.recoil_mass2 == pytest.approx(expected, abs=1e-6)
    assert row.e_p_cms == pytest.approx(3.0, abs=1e-9)
    assert row.mu_p_cms == pytest.approx(2.0, abs=1e-9)
    assert row.recoil_pt_e == pytest.approx(2.0, abs=1e-9)  # recoil (-3, -2, 0)
    assert row.recoil_pt_mu == pytest.approx(3.0, abs=1e-9)
    p_lab = np.linalg.norm(_lab(e)[1:])
    assert row.e_eop == pytest.approx(2.9 / p_lab)
    assert row.e_charge == -1.0


def test_lfv_selection_needs_exactly_one_electron_and_one_muon():
    e = _four(3.0, [1, 0, 0], M_E)
    mu = _four(2.0, [0, 1, 0], M_MU)
    good = _event([_track(mu, 1, 0.95, 0.01), _track(e, -1, 0.01, 0.95)])  # muon listed first
    two_mu = _event([_track(mu, 1, 0.95, 0.01), _track(e, -1, 0.95, 0.01)])
    ambiguous = _event([_track(mu, 1, 0.95, 0.9), _track(e, -1, 0.01, 0.95)])
    same_sign = _event([_track(mu, 1, 0.95, 0.01), _track(e, 1, 0.01, 0.95)])
    untriggered = _event([_track(mu, 1, 0.95, 0.01), _track(e, -1, 0.01, 0.95)], fired=())
    df = get_builder("lfv_zprime").build(
        _typed([good, two_mu, ambiguous, same_sign, untriggered]), FeaturesConfig()
    )
    assert len(df) == 1 and df.iloc[0].e_p_cms == pytest.approx(3.0, abs=1e-9)


# --- ALP ------------------------------------------------------------------------------------


def _alp_event(mass, cos_decay=0.3, fired=_BITS, extra=()):
    """e+e- -> gamma a at sqrt(s), a -> gamma gamma with the decay at cos_decay in the a frame
    (CM frame; a along +x)."""
    e_gamma = (SQRT_S**2 - mass**2) / (2 * SQRT_S)
    recoil = np.array([e_gamma, -e_gamma, 0.0, 0.0])
    e_a = SQRT_S - e_gamma
    sin_d = np.sqrt(1 - cos_decay**2)
    half = mass / 2
    photons = []
    for sign in (1, -1):
        rest = np.array([half, sign * half * cos_decay, sign * half * sin_d, 0.0])
        photons.append(boost(rest, np.array([-e_gamma / e_a, 0.0, 0.0])))  # a moves along +x
    clusters = [_cluster(p) for p in (recoil, *photons, *extra)]
    return _event([], clusters, fired=fired), photons, recoil


def test_alp_pair_masses_and_the_best_pair_at_the_hypothesis():
    ev, _, recoil = _alp_event(2.0)
    df = get_builder("alp").build(_typed([ev]), FeaturesConfig())
    assert len(df) == 1
    row = df.iloc[0]
    # the ALP photons are the two softest for a 2 GeV ALP
    assert row.m23 == pytest.approx(2.0, abs=1e-6)
    assert row.photon1_e_cms == pytest.approx(recoil[0], abs=1e-9)
    assert row.m3gamma == pytest.approx(SQRT_S, abs=1e-6)
    assert row.p3gamma_cms == pytest.approx(0.0, abs=1e-6)
    assert row.n_extra_photons == 0 and row.extra_ecl_energy == pytest.approx(0.0, abs=1e-9)
    rule = get_builder("alp").rule
    assert search_values(df, rule, 2.0)[0] == pytest.approx(2.0, abs=1e-6)
    # a heavy ALP: the recoil photon is the softest, the ALP the hardest pair
    ev8, *_ = _alp_event(8.0)
    df8 = get_builder("alp").build(_typed([ev8]), FeaturesConfig())
    assert df8.iloc[0].m12 == pytest.approx(8.0, abs=1e-6)
    assert search_values(df8, rule, 8.0)[0] == pytest.approx(8.0, abs=1e-6)


def test_alp_selection_vetoes_tracks_and_needs_three_in_time_photons():
    good, *_ = _alp_event(3.0)
    with_track, *_ = _alp_event(3.0)
    with_track["tracks"] = [_track(_four(1.0, [0, 1, 1], M_MU), 1, 0.9, 0.0)]
    late, *_ = _alp_event(3.0)
    late["clusters"][1]["clusterTiming"] = 50.0  # one photon out of time: two left
    untriggered, *_ = _alp_event(3.0, fired=())
    soft_extra, *_ = _alp_event(3.0, extra=(_four(0.1, [0, 1, 0.2]),))  # below photon_e_min
    df = get_builder("alp").build(
        _typed([good, with_track, late, untriggered, soft_extra]), FeaturesConfig()
    )
    assert len(df) == 2
    assert df["n_extra_photons"].tolist() == [0.0, 0.0]
    assert df["extra_ecl_energy"].iloc[1] > 0.09  # the soft cluster counts as ECL energy


# --- dark photon ----------------------------------------------------------------------------


def test_dark_photon_missing_mass_and_vetoes():
    mass = 3.0
    e_star = (SQRT_S**2 - mass**2) / (2 * SQRT_S)
    photon = _four(e_star, [1, 0, 0.2])
    bkg = _four(0.05, [0, 1, -0.5])
    good = _event([], [_cluster(photon), _cluster(bkg, timing=90.0)], fired=("trg_sp1",))
    second = _event([], [_cluster(photon), _cluster(_four(2.0, [-1, 0, 0]))])
    late = _event([], [_cluster(photon, timing=40.0)])
    charged = _event([_track(_four(1.0, [0, 1, 1], M_MU), 1, 0.9, 0.0)], [_cluster(photon)])
    untriggered = _event([], [_cluster(photon)], fired=("trg_ffo",))
    df = get_builder("dark_photon").build(
        _typed([good, second, late, charged, untriggered]), FeaturesConfig()
    )
    assert len(df) == 1
    row = df.iloc[0]
    assert row.photon_e_cms == pytest.approx(e_star, abs=1e-9)
    assert row.missing_mass2 == pytest.approx(mass**2, abs=1e-6)
    assert row.second_e_cms == pytest.approx(0.05, abs=1e-9)
    assert row.n_extra_clusters == 0.0  # 50 MeV is below extra_photon_e_min
    assert row.photon_region == 2.0
    builder = get_builder("dark_photon")
    assert set(builder.feature_names) | {"missing_mass2", "event", "weight"} == set(df)


def test_empty_selections_and_missing_trigger_bits():
    for search in ("lfv_zprime", "alp", "dark_photon"):
        builder = get_builder(search)
        df = builder.build(_typed([_event()]), FeaturesConfig())
        assert len(df) == 0 and set(builder.feature_names) <= set(df)
    no_bits = ak.Array([{"event": 0, "weight": 1.0, "tracks": [], "clusters": []}])
    with pytest.raises(InputError, match="trigger bit"):
        get_builder("dark_photon").build(no_bits, FeaturesConfig())


def test_search_value_rules():
    table = pd.DataFrame({"a": [1.0, 5.0], "b": [3.0, 2.0], "x": [7.0, 8.0]})
    assert search_values(table, {"column": "x"}, 1.0).tolist() == [7.0, 8.0]
    assert search_values(table, {"closest_to_mass": ["a", "b"]}, 2.5).tolist() == [3.0, 2.0]
    with pytest.raises(InputError, match="unknown search-variable rule"):
        search_values(table, {"median_of": ["a"]}, 1.0)


def test_non_finite_features_are_a_named_error():
    from mlsearch.io.feature_table import check_finite

    df = pd.DataFrame({"a": [1.0, np.nan, 2.0], "b": [np.inf, 1.0, -np.inf], "c": [1.0, 2, 3]})
    with pytest.raises(
        InputError, match=r"x.parquet: non-finite feature values: a \(1 rows\), b \(2 rows\)"
    ):
        check_finite(df, ["a", "b", "c"], "x.parquet")
    check_finite(df, ["c"], "x.parquet")  # finite columns pass


@pytest.mark.slow  # the shared small-profile run (tests/conftest.py: small_run)
def test_no_selected_signal_at_any_mass_stops_the_features_stage(small_run, tmp_path):
    """One mass the selection cannot see is kept (its limit row says why:
    test_limits.py::test_a_mass_without_selected_signal_gives_no_limit_with_the_reason); no
    signal at all is an error before training."""
    import shutil

    from .conftest import SMALL_PROFILE, run_cli

    work = tmp_path / "w"
    shutil.copytree(small_run, work)
    res = run_cli(
        "features",
        str(SMALL_PROFILE),
        "--set",
        f"workdir={work}",
        "--set",
        "features.muon_id_min=1.0",
    )
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "no signal event at any mass passes the zprime_invisible selection" in res.stderr
    assert "masses 1, 3, 6 GeV" in res.stderr
