"""The partitioned stages on a real dask.distributed LocalCluster with 2 workers give the same
output as one process, bit for bit."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from mlsearch.io.events import read_metadata

from .conftest import SMALL_PROFILE, run_cli

pytestmark = pytest.mark.slow

# 20k-event partitions: the 40k and 60k background samples are generated in 2 and 3
# partitions and simulated in tasks of 100k events
OVERRIDES = ["--set", "compute.partition_events=20000", "--set", "generate.signal.masses=[1,6]"]


def _run(workdir: Path, *extra: str) -> None:
    for stage in ("generate", "simulate", "features"):
        res = run_cli(stage, str(SMALL_PROFILE), "--set", f"workdir={workdir}", *OVERRIDES, *extra)
        assert res.returncode == 0, res.stderr[-3000:]


def test_local_cluster_gives_the_single_process_output(tmp_path: Path) -> None:
    serial, cluster = tmp_path / "serial", tmp_path / "cluster"
    _run(serial)
    _run(cluster, "--scheduler", "local", "--set", "compute.workers=2")
    data = Path("data/zprime_invisible")
    files = [*sorted((serial / data).glob("*/*.parquet")), serial / data / "features.parquet"]
    assert len(files) == 11  # 5 samples x (truth, reco) + the feature table
    for path in files:
        other = cluster / path.relative_to(serial)
        assert pq.read_table(path).equals(pq.read_table(other)), path.name
        assert read_metadata(path) == read_metadata(other), path.name
    meta = read_metadata(serial / data / "events/tautau.parquet")
    assert meta["partitions"] == 3 and meta["n_events"] == 60_000
    events = pq.read_table(serial / data / "events/tautau.parquet", columns=["event"])
    assert events["event"].to_pylist() == list(range(60_000))  # unique across partitions


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    res = run_cli(
        "generate", str(SMALL_PROFILE), "--set", f"workdir={tmp_path}",
        "--scheduler", "tcp://127.0.0.1:1",
    )  # fmt: skip
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert "tcp://127.0.0.1:1: no Dask scheduler answers" in res.stderr
