"""basf2 ntuple writing and reading: round trip, aliases, named errors, CLI."""

from pathlib import Path

import awkward as ak
import numpy as np
import pytest

from mlsearch.config import SimulateConfig
from mlsearch.detector import simulate_events
from mlsearch.errors import InputError
from mlsearch.generate import generate_process
from mlsearch.io.basf2_ntuple import read_basf2_ntuple, write_basf2_ntuple
from mlsearch.io.events import truth_to_awkward

from .conftest import run_cli


@pytest.fixture(scope="module")
def reco():
    truth = truth_to_awkward(generate_process("tautau", 3000, 2))
    return simulate_events(truth, SimulateConfig(), np.random.default_rng(3))


def test_round_trip_keeps_every_track_cluster_and_trigger_bit(reco, tmp_path):
    path = tmp_path / "nt.root"
    write_basf2_ntuple(reco, path)
    back = read_basf2_ntuple(path)
    assert len(back) == len(reco)
    np.testing.assert_array_equal(ak.to_numpy(back.event), ak.to_numpy(reco.event))
    np.testing.assert_allclose(ak.to_numpy(back.weight), ak.to_numpy(reco.weight))
    for part in ("tracks", "clusters"):
        np.testing.assert_array_equal(ak.num(back[part]), ak.num(reco[part]))
        for field in ak.fields(reco[part]):
            a = ak.to_numpy(ak.flatten(back[part][field]))
            b = ak.to_numpy(ak.flatten(reco[part][field]))
            np.testing.assert_allclose(a, b, err_msg=field)
    for bit in (f for f in reco.fields if f.startswith("trg_")):
        np.testing.assert_array_equal(ak.to_numpy(back[bit]), ak.to_numpy(reco[bit]))


def test_analyst_aliases_and_named_errors(reco, tmp_path):
    import uproot

    path = tmp_path / "alias.root"
    flat = ak.flatten(reco.tracks)
    counts = ak.to_numpy(ak.num(reco.tracks))
    ev = np.repeat(ak.to_numpy(reco.event), counts).astype(np.int32)
    book = {
        "__experiment__": np.zeros(len(ev), np.int32),
        "__run__": np.zeros(len(ev), np.int32),
        "__event__": ev,
    }
    with uproot.recreate(path) as out:
        out["ntuple"] = {
            **book,
            "mu_px": ak.to_numpy(flat.px),
            "mu_py": ak.to_numpy(flat.py),
            "mu_pz": ak.to_numpy(flat.pz),
            "charge": ak.to_numpy(flat.charge) * 1.0,
        }
        out["gammas"] = {
            "__experiment__": np.zeros(0, np.int32),
            "__run__": np.zeros(0, np.int32),
            "__event__": np.zeros(0, np.int32),
            "clusterE": np.zeros(0),
            "clusterTheta": np.zeros(0),
            "clusterPhi": np.zeros(0),
        }
    aliases = {"px": "mu_px", "py": "mu_py", "pz": "mu_pz"}
    back = read_basf2_ntuple(path, aliases, "ntuple", "gammas", event_tree="none")
    assert int(ak.sum(ak.num(back.tracks))) == len(ev)
    with pytest.raises(InputError, match=r"no tree 'tracks' \(trees: gammas, ntuple\)"):
        read_basf2_ntuple(path)
    with pytest.raises(InputError, match=r"tree 'ntuple' lacks px \(branch 'px'\)"):
        read_basf2_ntuple(path, {}, "ntuple", "gammas")
    bad = tmp_path / "bad.root"
    bad.write_bytes(b"not a root file at all" * 10)
    with pytest.raises(InputError, match=r"bad\.root: not a readable ROOT file"):
        read_basf2_ntuple(bad)


def test_ntuple_cli_round_trip(reco, tmp_path: Path):
    from mlsearch.io.events import write_events

    src = tmp_path / "reco.parquet"
    write_events(reco, src, {})
    root = tmp_path / "out.root"
    res = run_cli("ntuple", "export", str(src), "-o", str(root))
    assert res.returncode == 0, res.stderr
    back = tmp_path / "back.parquet"
    res = run_cli("ntuple", "import", str(root), "-o", str(back))
    assert res.returncode == 0, res.stderr
    res = run_cli("ntuple", "import", str(root), "-o", str(back), "--track-tree", "muons")
    assert res.returncode == 2 and "no tree 'muons'" in res.stderr and "Traceback" not in res.stderr


def test_a_config_background_from_a_basf2_ntuple_enters_at_the_reco_stage(reco, tmp_path):
    import yaml

    from mlsearch.config import load_config
    from mlsearch.io.events import read_events
    from mlsearch.pipeline.features import run_features
    from mlsearch.pipeline.generate import run_generate
    from mlsearch.pipeline.simulate import run_simulate

    ntuple = tmp_path / "belle2_tautau.root"
    write_basf2_ntuple(reco, ntuple)
    raw = {
        "search": "zprime_invisible",
        "luminosity_fb": 1.0,
        "workdir": str(tmp_path / "work"),
        "mlflow": {"tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}"},
        "generate": {
            "signal": {"masses": [2.0], "n_events": 300, "coupling": 0.01},
            "backgrounds": [
                {
                    "process": "tautau",
                    "ntuple": str(ntuple),
                    "cross_section_fb": 9.1e5,
                    "n_generated": 3000,
                },
            ],
        },
    }
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(raw))
    config = load_config(cfg)
    run_generate(config)
    assert not (tmp_path / "work/data/zprime_invisible/events/tautau.parquet").exists()
    run_simulate(config)
    events, meta = read_events(tmp_path / "work/data/zprime_invisible/reco/tautau.parquet")
    assert len(events) == 3000 and meta["n_events"] == 3000
    np.testing.assert_allclose(ak.to_numpy(events.weight), 9.1e5 / 3000)
    run_features(config)
    raw["generate"]["backgrounds"][0].pop("n_generated")
    cfg.write_text(yaml.safe_dump(raw))
    from mlsearch.errors import ConfigError

    with pytest.raises(ConfigError, match="an ntuple needs cross_section_fb and n_generated"):
        load_config(cfg)
