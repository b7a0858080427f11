import awkward as ak
import numpy as np
import pytest

from mlsearch.config import SimulateConfig
from mlsearch.detector import simulate_events
from mlsearch.detector.tracking import pt_resolution, reconstruct_tracks


def _truth(pdg, p4):
    n = len(p4)
    parts = ak.zip(
        {
            "pdg": np.asarray(pdg, dtype=np.int32),
            "E": p4[:, 0],
            "px": p4[:, 1],
            "py": p4[:, 2],
            "pz": p4[:, 3],
        }
    )
    return ak.zip(
        {
            "event": np.arange(n),
            "weight": np.ones(n),
            "particles": ak.unflatten(parts, np.ones(n, dtype=int)),
        },
        depth_limit=1,
    )


def _muons_at(theta_deg, p=3.0, n=1000):
    th = np.radians(theta_deg)
    p3 = np.column_stack([p * np.sin(th) * np.ones(n), np.zeros(n), p * np.cos(th) * np.ones(n)])
    e = np.sqrt((p3**2).sum(1) + 0.10566**2)
    return _truth(np.full(n, 13), np.column_stack([e, p3]))


@pytest.mark.parametrize(
    ("theta", "inside"), [(10, False), (20, True), (90, True), (149, True), (155, False)]
)
def test_track_acceptance_follows_the_cdc(theta, inside):
    reco = simulate_events(
        _muons_at(theta),
        SimulateConfig(track_efficiency=1.0, beam_background_tracks=0.0),
        np.random.default_rng(0),
    )
    found = ak.sum(ak.num(reco.tracks))
    assert (found == 1000) if inside else (found == 0)


def test_momentum_resolution_matches_the_design_formula():
    rng = np.random.default_rng(1)
    n = 100_000
    p3 = np.tile([4.0, 0.0, 0.5], (n, 1))
    found, meas = reconstruct_tracks(p3, np.full(n, 0.10566), 1.0, rng)
    pt = np.hypot(meas[:, 0], meas[:, 1])
    assert pt.std() / 4.0 == pytest.approx(float(pt_resolution(np.array(4.0), 0.10566)), rel=0.02)
    assert found.all()


def test_muon_id_efficiency_plateau_and_ecl_deposit():
    reco = simulate_events(
        _muons_at(90, p=3.0, n=20_000),
        SimulateConfig(track_efficiency=1.0, beam_background_tracks=0.0),
        np.random.default_rng(2),
    )
    tracks = ak.flatten(reco.tracks)
    eff = float(np.mean(ak.to_numpy(tracks.muonID) > 0.5))
    assert eff == pytest.approx(0.89, abs=0.01)
    deposit = ak.to_numpy(tracks.clusterE)
    assert 0.17 < np.median(deposit) < 0.22  # minimum-ionising peak in 30 cm of CsI
    low = simulate_events(
        _muons_at(90, p=0.5, n=5000),
        SimulateConfig(track_efficiency=1.0, beam_background_tracks=0.0),
        np.random.default_rng(3),
    )
    assert float(np.mean(ak.to_numpy(ak.flatten(low.tracks).muonID) > 0.5)) == 0.0


def test_photons_in_the_gap_are_lost():
    n = 1000
    th = np.radians(np.r_[np.full(n, 31.8), np.full(n, 90.0)])
    e = np.full(2 * n, 2.0)
    p4 = np.column_stack([e, e * np.sin(th), np.zeros(2 * n), e * np.cos(th)])
    reco = simulate_events(
        _truth(np.full(2 * n, 22), p4),
        SimulateConfig(beam_background_rate=0.0, beam_background_tracks=0.0),
        np.random.default_rng(4),
    )
    n_cl = ak.to_numpy(ak.num(reco.clusters))
    assert n_cl[:n].sum() == 0 and n_cl[n:].sum() == n
    e_meas = ak.to_numpy(ak.flatten(reco.clusters.clusterE))
    med, hi = np.percentile(e_meas, [50, 84.13])
    # the Gaussian core from the upper half (the low side has the leakage tail)
    assert (hi - med) / 2.0 == pytest.approx(0.0149, rel=0.1)  # design resolution at 2 GeV
    assert med - np.percentile(e_meas, 1) > np.percentile(e_meas, 99) - med  # low-side tail


def test_resolution_and_timing_parameters_come_from_the_config():
    muons = _muons_at(90, p=4.0, n=4000)
    base = SimulateConfig(track_efficiency=1.0, beam_background_tracks=0.0)
    wide = SimulateConfig(
        track_efficiency=1.0, beam_background_tracks=0.0, pt_resolution=(0.011, 0.0025)
    )

    def spread(cfg):
        tr = ak.flatten(simulate_events(muons, cfg, np.random.default_rng(1)).tracks)
        return float(np.std(np.hypot(ak.to_numpy(tr.px), ak.to_numpy(tr.py))) / 4.0)

    assert spread(wide) > 5 * spread(base)
    th = np.radians(np.full(500, 90.0))
    e = np.full(500, 1.0)
    p4 = np.column_stack([e, e * np.sin(th), np.zeros(500), e * np.cos(th)])
    photons = _truth(np.full(500, 22), p4)
    cfg = SimulateConfig(beam_background_rate=0.0, timing_resolution=(0.0, 3.0))
    dt99 = ak.to_numpy(
        ak.flatten(
            simulate_events(photons, cfg, np.random.default_rng(2)).clusters.clusterErrorTiming
        )
    )
    np.testing.assert_allclose(dt99, 2.576 * 3.0, rtol=1e-6)


def test_trackable_is_the_condition_the_track_finder_applies():
    """track_loss weights each particle by whether the CDC could find it (trackable), a twin
    of the condition inside reconstruct_tracks' kernel: at efficiency 1 the kernel finds
    exactly the trackable particles, also within 1e-9 rad of the CDC edges and 1e-12 GeV of
    the pT threshold."""
    from mlsearch.detector.tracking import trackable

    rng = np.random.default_rng(1)
    n = 400_000
    theta = np.radians(rng.choice([17.0, 150.0, 90.0], n) + rng.normal(0, 1e-9, n))
    pt = rng.choice([0.1, 0.5], n) + rng.normal(0, 1e-12, n)
    phi = rng.uniform(0, 2 * np.pi, n)
    p3 = np.stack([pt * np.cos(phi), pt * np.sin(phi), pt / np.tan(theta)], axis=1)
    found, _ = reconstruct_tracks(p3, np.full(n, 0.000511), 1.0, rng)
    assert 0.2 < found.mean() < 0.8
    np.testing.assert_array_equal(found, trackable(p3))
