"""Every user error is one line on stderr naming the file or key and what is allowed, exit
code 2, no traceback: a config mass outside the process's range, truncated or damaged ROOT,
parquet, LHE and HepMC3 files, a feature table of another schema version."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlsearch.config import load_config
from mlsearch.errors import ConfigError, InputError, MlsearchError
from mlsearch.export.parity import ParityError
from mlsearch.io.feature_table import read_feature_table

from .conftest import SMALL_PROFILE, run_cli
from .test_generator_files import MUONS, _write_lhe


def _one_line_error(res, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_config_checks_the_signal_mass_range() -> None:
    with pytest.raises(ConfigError, match=r"generate\.signal.*Z' mass 11 GeV outside the kin"):
        load_config(SMALL_PROFILE, ["generate.signal.masses=[1,11]"])
    lfv = SMALL_PROFILE.parent / "lfv_zprime_small.yaml"
    load_config(lfv, ["generate.signal.masses=[0.2, 1]"])  # in range: accepted
    with pytest.raises(ConfigError, match=r"LFV Z' mass 0\.05 GeV .*mu -> e Z' decay"):
        load_config(lfv, ["generate.signal.masses=[0.05, 1]"])


def test_cli_refuses_a_mass_outside_the_range_before_any_work(tmp_path: Path) -> None:
    res = run_cli(
        "run", str(SMALL_PROFILE), "--set", f"workdir={tmp_path}",
        "--set", "generate.signal.masses=[1,11]",
    )  # fmt: skip
    _one_line_error(res, "zprime_invisible_small.yaml", "generate.signal", "Z' mass 11 GeV")
    assert not (tmp_path / "data").exists()


def test_truncated_root_ntuple(tmp_path: Path) -> None:
    import awkward as ak
    import numpy as np

    from mlsearch.io.basf2_ntuple import write_basf2_ntuple

    n = 2000
    rng = np.random.default_rng(0)
    track = {"px": rng.normal(size=n), "py": rng.normal(size=n), "pz": rng.normal(size=n),
             "charge": np.ones(n, np.int32)}  # fmt: skip
    cluster = {"clusterE": rng.uniform(0.1, 1, n), "clusterTheta": np.full(n, 1.0),
               "clusterPhi": np.zeros(n)}  # fmt: skip
    events = ak.zip(
        {
            "event": np.arange(n),
            "weight": np.ones(n),
            "tracks": ak.unflatten(ak.zip(track), np.ones(n, int)),
            "clusters": ak.unflatten(ak.zip(cluster), np.ones(n, int)),
        },
        depth_limit=1,
    )
    good = tmp_path / "good.root"
    write_basf2_ntuple(events, good)
    cut = tmp_path / "cut.root"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    res = run_cli("ntuple", "import", str(cut), "-o", str(tmp_path / "x.parquet"))
    _one_line_error(res, str(cut))
    assert not (tmp_path / "x.parquet").exists()


def test_truncated_parquet_inputs(tmp_path: Path) -> None:
    table = pa.table({"a": list(range(5000))})
    good = tmp_path / "good.parquet"
    pq.write_table(table, good)
    cut = tmp_path / "features.parquet"
    cut.write_bytes(good.read_bytes()[:500])
    with pytest.raises(InputError, match=r"features\.parquet: not a readable feature table"):
        read_feature_table(cut)
    res = run_cli("ntuple", "export", str(cut), "-o", str(tmp_path / "x.root"))
    _one_line_error(res, str(cut), "not a readable")


def test_feature_table_of_another_schema_version_names_the_fix(tmp_path: Path) -> None:
    old = tmp_path / "features.parquet"
    meta = {"features": ["a"], "search": "zprime_invisible"}  # as tables were before versions
    table = pa.table({"a": [1.0]}).replace_schema_metadata({"mlsearch": json.dumps(meta)})
    pq.write_table(table, old)
    with pytest.raises(InputError, match=r"schema version none .*mlsearch features CONFIG"):
        read_feature_table(old)


def test_truncated_lhe_and_hepmc_files(tmp_path: Path) -> None:
    cut = tmp_path / "cut.lhe"
    _write_lhe(cut, cut=True)
    res = run_cli("import", str(cut), "-o", str(tmp_path / "a.parquet"))
    _one_line_error(res, str(cut), "never closed")
    import pyhepmc

    good = tmp_path / "good.hepmc3"
    with pyhepmc.open(good, "w") as out:
        for i, ev in enumerate(MUONS * 50):
            event = pyhepmc.GenEvent(pyhepmc.Units.GEV, pyhepmc.Units.MM)
            event.event_number = i
            v = pyhepmc.GenVertex()
            v.add_particle_in(pyhepmc.GenParticle((0, 0, 5.29, 5.29), 11, 4))
            v.add_particle_in(pyhepmc.GenParticle((0, 0, -5.29, 5.29), -11, 4))
            for pdg, p in zip((13, -13), ev, strict=True):
                v.add_particle_out(pyhepmc.GenParticle((p[1], p[2], p[3], p[0]), pdg, 1))
            event.add_vertex(v)
            out.write(event)
    text = good.read_text()
    cut_hepmc = tmp_path / "cut.hepmc3"
    cut_hepmc.write_text(text[: len(text) // 2].rsplit("\n", 1)[0][:-7])  # mid-line
    res = run_cli("import", str(cut_hepmc), "-o", str(tmp_path / "b.parquet"))
    _one_line_error(res, str(cut_hepmc))


def test_domain_errors_are_user_errors() -> None:
    """What the CLI catches (MlsearchError) covers the domain's errors."""
    assert issubclass(ParityError, MlsearchError) and ParityError("x").exit_code == 2
    from mlsearch.generate import generate_process

    with pytest.raises(ConfigError, match="unknown process 'bhabha'"):
        generate_process("bhabha", 10, 1)
