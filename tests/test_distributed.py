"""The partitioned stages on a real dask.distributed LocalCluster with 2 workers give the same
output as one process, bit for bit."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask
import numpy as np
import pyarrow.parquet as pq
import pytest

from mlsearch import compute
from mlsearch.errors import ResourceError
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
    ids = events["event"].to_pylist()
    # unique across partitions (the charged_filter leaves gaps where it dropped events): the
    # third partition's numbers continue the first two's
    assert ids == sorted(set(ids)) and len(ids) == meta["charged_filter"]["kept"]
    assert 0 <= ids[0] and 40_000 <= ids[-1] < 60_000
    # compute.train_on_cluster false: the cluster serves the partitioned stages, the pBDT
    # trains in this process - the single-process model, byte for byte
    for workdir, extra in (
        (serial, ()),
        (
            cluster,
            (
                "--scheduler",
                "local",
                "--set",
                "compute.workers=2",
                "--set",
                "compute.train_on_cluster=false",
            ),
        ),
    ):
        res = run_cli("train", str(SMALL_PROFILE), "--set", f"workdir={workdir}", *OVERRIDES,
                      "--set", "models.pnn.enabled=false", *extra)  # fmt: skip
        assert res.returncode == 0, res.stderr[-3000:]
    model = data / "train" / "pbdt_fold0.json"
    assert (serial / model).read_bytes() == (cluster / model).read_bytes()


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    res = run_cli(
        "generate", str(SMALL_PROFILE), "--set", f"workdir={tmp_path}",
        "--scheduler", "tcp://127.0.0.1:1",
    )  # fmt: skip
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert "tcp://127.0.0.1:1: no Dask scheduler answers" in res.stderr


@contextlib.contextmanager
def _client(workers: int) -> Iterator[Any]:
    """A Client of a fresh LocalCluster of ``workers`` single-thread processes."""
    from distributed import Client

    with compute.local_cluster(workers) as cluster, Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def one_worker() -> Iterator[Any]:
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), _client(1) as client:
        yield compute._Dask(client, "test cluster")


def test_a_killed_worker_is_replaced_and_the_task_rerun(one_worker: Any, tmp_path: Path) -> None:
    marker = str(tmp_path / "killed-once")

    # (defined here: the workers cannot import the tests package, a local function travels
    # by value)
    def _die_once(marker: str) -> int:
        """Kills its worker process the first time (as the OOM killer does), 7 after."""
        if not os.path.exists(marker):
            Path(marker).touch()
            os._exit(137)
        return 7

    assert list(one_worker.imap(_die_once, [marker, marker])) == [7, 7]
    assert os.path.exists(marker)


def test_a_task_that_kills_every_worker_is_a_clear_error(one_worker: Any) -> None:
    with pytest.raises(ResourceError, match=r"killed every Dask worker.*partition_events"):
        list(one_worker.imap(lambda _: os._exit(137), [0]))


def test_a_slow_task_does_not_hold_up_the_other_worker(tmp_path: Path) -> None:
    """A long task first, then eight short ones, on 2 workers: the short ones all run on the
    free worker while the long one runs (each task records when it ended), and the results
    still come in item order. (The old window submitted a task only when the oldest one in
    flight had finished: the last five short tasks ended after the long one.)"""

    def task(item: tuple[str, int, float]) -> int:
        import time

        folder, index, seconds = item
        time.sleep(seconds)
        Path(folder, f"{index}").write_text(repr(time.time()))
        return index

    items = [(str(tmp_path), 0, 6.0)] + [(str(tmp_path), i, 0.2) for i in range(1, 9)]
    with _client(2) as client:
        assert list(compute._Dask(client, "test").imap(task, items)) == list(range(9))
    ended = {int(p.name): float(p.read_text()) for p in tmp_path.iterdir()}
    assert max(ended[i] for i in range(1, 9)) < ended[0]


def _toy(n: int = 60_000, seed: int = 3) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    mass = rng.choice([1.0, 2.0, 4.0], n)
    y = (x[:, 0] + 0.4 * mass * x[:, 1] + rng.normal(size=n) > 0.7).astype(int)
    return x, mass, y, rng.uniform(0.5, 2.0, n)


def test_pbdt_on_one_dask_worker_is_the_single_process_model(one_worker: Any) -> None:
    from mlsearch.config import PBDTConfig
    from mlsearch.models import make_model

    x, mass, y, w = _toy()
    local, dask_ = (make_model("pbdt", PBDTConfig(), 5, c) for c in (None, one_worker.client))
    local.fit(x, mass, y, w)
    dask_.fit(x, mass, y, w)
    np.testing.assert_array_equal(local.score(x, mass), dask_.score(x, mass))
    assert local.history == dask_.history


def test_pbdt_on_two_dask_workers_trains_a_model_of_the_same_quality() -> None:
    """Two workers merge their quantile sketches: the trees differ slightly, the
    separation does not."""
    from sklearn.metrics import roc_auc_score

    from mlsearch.config import PBDTConfig
    from mlsearch.models import make_model

    x, mass, y, w = _toy()
    local = make_model("pbdt", PBDTConfig(), 5)
    local.fit(x, mass, y, w)
    with _client(2) as client:
        two = make_model("pbdt", PBDTConfig(), 5, client)
        two.fit(x, mass, y, w)
    test_x, test_m, test_y, _ = _toy(20_000, seed=4)  # held out
    aucs = [roc_auc_score(test_y, m.score(test_x, test_m)) for m in (local, two)]
    assert aucs[0] > 0.8 and abs(aucs[0] - aucs[1]) < 0.003, aucs
    assert not np.array_equal(local.score(x, mass), two.score(x, mass))
