"""L1 trigger lines on hand-built cluster and track lists, and the single-photon efficiency
of the full simulation."""

import awkward as ak
import numpy as np

from mlsearch.config import SimulateConfig
from mlsearch.detector import simulate_events
from mlsearch.detector.trigger import trigger_bits
from mlsearch.physics.kinematics import beam_four_momenta, boost, cms_boost_vector

EM, EP = beam_four_momenta()
BETA = cms_boost_vector(EM + EP)


def _lab(e_star, theta_star_deg, phi):
    """A photon given in the CM frame -> lab (E, theta, phi)."""
    th = np.radians(theta_star_deg)
    p = e_star * np.array([1, np.sin(th) * np.cos(phi), np.sin(th) * np.sin(phi), np.cos(th)])
    lab = boost(p, -BETA)
    return lab[0], np.arccos(lab[3] / lab[0]), np.arctan2(lab[2], lab[1])


def _bits(clusters, tracks=()):
    ev = np.array([c[0] for c in clusters], dtype=np.int64)
    e, th, ph = (np.array([c[i] for c in clusters], dtype=float) for i in (1, 2, 3))
    t_ev = np.array([t[0] for t in tracks], dtype=np.int64)
    t_pt, t_phi = (np.array([t[i] for t in tracks], dtype=float) for i in (1, 2))
    n = 1 + max([c[0] for c in clusters] + [t[0] for t in tracks])
    return trigger_bits(ev, e, th, ph, t_ev, t_pt, t_phi, n)


def test_single_photon_lines_on_hand_built_events():
    one = _lab(1.5, 90, 0.3)  # E* = 1.5 GeV in the barrel
    low = _lab(0.7, 70, 1.0)  # E* = 0.7 GeV in the central barrel
    soft = _lab(0.3, 100, 2.0)  # a second photon above the 0.2 GeV veto
    hard = _lab(2.5, 60, -1.0)
    b = _bits([(0, *one), (1, *one), (1, *soft), (2, *low), (3, *hard), (4, *_lab(0.15, 90, 0))])
    assert b["trg_sp2"].tolist() == [True, False, False, True, False]
    # 0.7 GeV: only the central-barrel line; the extra 0.3 GeV photon kills both lines
    assert b["trg_sp3"].tolist() == [True, False, True, True, False]
    assert b["trg_sp1"].tolist() == [False, False, False, True, False]


def test_bhabha_veto_and_two_track_line():
    e1 = _lab(5.29, 60, 0.5)
    e2 = _lab(5.29, 120, 0.5 + np.pi)
    g = _lab(5.29, 60, 0.5 + np.pi / 2)  # not back to back
    b = _bits(
        [(0, *e1), (0, *e2), (1, *e1), (1, *g)],
        [(0, 2.0, 0.5), (0, 2.0, 0.5 + np.pi), (1, 2.0, 0.1), (1, 2.0, 0.3), (1, 0.2, 3.0)],
    )
    assert b["trg_bhabha"].tolist() == [True, False]
    assert b["trg_hie"].tolist() == [False, True]  # vetoed Bhabha, accepted gamma gamma
    assert b["trg_ffo"].tolist() == [True, False]  # the third track is below 0.3 GeV


def test_single_photon_trigger_efficiency_versus_energy():
    """About 100 % above 1 GeV for photons in the barrel (belle2-facts), falling below."""
    rng = np.random.default_rng(5)
    n = 4000
    e_star = rng.uniform(0.2, 3.0, n)
    th_star = rng.uniform(50, 110, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    lab = np.array([_lab(e, t, p) for e, t, p in zip(e_star, th_star, phi, strict=True)])
    p4 = np.stack(
        [
            lab[:, 0],
            lab[:, 0] * np.sin(lab[:, 1]) * np.cos(lab[:, 2]),
            lab[:, 0] * np.sin(lab[:, 1]) * np.sin(lab[:, 2]),
            lab[:, 0] * np.cos(lab[:, 1]),
        ],
        axis=1,
    )
    truth = ak.zip(
        {
            "event": np.arange(n),
            "weight": np.ones(n),
            "particles": ak.unflatten(
                ak.zip(
                    {
                        "pdg": np.full(n, 22),
                        "E": p4[:, 0],
                        "px": p4[:, 1],
                        "py": p4[:, 2],
                        "pz": p4[:, 3],
                    }
                ),
                np.ones(n, dtype=int),
            ),
        },
        depth_limit=1,
    )
    reco = simulate_events(truth, SimulateConfig(beam_background_rate=0.0), rng)
    fired = ak.to_numpy(reco.trg_sp1 | reco.trg_sp2 | reco.trg_sp3)
    assert fired[e_star > 1.1].mean() > 0.99
    assert fired[e_star < 0.4].mean() < 0.05


def test_simulate_cli_on_one_truth_file(tmp_path):
    from mlsearch.generate import generate_process
    from mlsearch.io.events import read_events, truth_to_awkward, write_events

    from .conftest import run_cli

    truth = tmp_path / "ap.parquet"
    sample = generate_process("dark_photon", 500, 3, mass=1.0)
    write_events(truth_to_awkward(sample), truth, {})
    # sp1's truth acceptance: a photon (the A''s or an ISR one) with E* > 2 GeV at 22-139 deg
    photons = sample.p4[:, [0, 2, 3]]
    e = np.where(photons[..., 0] > 0, photons[..., 0], 1.0)
    theta = np.degrees(np.arccos(np.clip(photons[..., 3] / e, -1, 1)))
    em, ep = beam_four_momenta()
    e_cms = boost(photons, cms_boost_vector(em + ep))[..., 0]
    seen = ((theta > 22) & (theta < 139) & (e_cms > 2.0)).any(axis=1)
    accepted = seen.mean()  # most A' photons go down the beam pipe
    out = tmp_path / "ap_reco.parquet"
    res = run_cli("simulate", str(truth), "-o", str(out))
    assert res.returncode == 0, res.stderr
    reco, meta = read_events(out)
    assert len(reco) == 500 and meta["simulated_from"] == str(truth)
    fired = float(ak.mean(reco.trg_sp1))
    assert 0.02 < accepted and abs(fired - accepted) < 0.03
    res = run_cli("simulate", str(out), "-o", str(tmp_path / "x.parquet"))
    assert res.returncode == 2 and "not a truth file" in res.stderr
    res = run_cli("simulate", str(truth))
    assert res.returncode == 2 and "needs -o" in res.stderr
