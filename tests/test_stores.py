"""Two trainings writing concurrently to one store, on PostgreSQL and on sqlite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SMALL_PROFILE, run_cli
from .services import Postgres

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def features_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("features")
    for stage in ("generate", "simulate", "features"):
        res = run_cli(stage, str(SMALL_PROFILE), "--set", f"workdir={path}")
        assert res.returncode == 0, res.stderr[-2000:]
    return path


@pytest.fixture(scope="module")
def postgres_uri():
    server = Postgres()
    try:
        yield server.start()
    finally:
        server.stop()


def _concurrent_trainings(features_workdir: Path, tmp_path: Path, uri: str) -> None:
    procs = []
    for name in ("a", "b"):
        work = tmp_path / name
        shutil.copytree(features_workdir, work)
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "mlsearch",
                    "train",
                    str(SMALL_PROFILE),
                    "--set",
                    f"workdir={work}",
                    "--set",
                    f"mlflow.tracking_uri={uri}",
                    "--set",
                    "mlflow.experiment=concurrent",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=tmp_path,
                env={**os.environ},
            )
        )
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-3000:]
    import mlflow

    client = mlflow.MlflowClient(uri)
    exp = client.get_experiment_by_name("concurrent")
    runs = client.search_runs([exp.experiment_id], "tags.`mlsearch.stage` = 'train'")
    assert len(runs) == 4  # 2 processes x (pbdt, pnn): nothing lost
    for r in runs:
        assert r.info.status == "FINISHED"
        auc = client.get_metric_history(r.info.run_id, "auc")
        assert sorted(h.step for h in auc) == [1000, 3000, 6000]  # one point per mass [MeV]
        (fold0,) = client.search_runs(
            [exp.experiment_id],
            f"tags.`mlflow.parentRunId` = '{r.info.run_id}' and tags.`mlsearch.fold` = '0'",
        )
        history = client.get_metric_history(
            fold0.info.run_id,
            "train_loss" if r.data.tags["mlsearch.model"] == "pnn" else "val_logloss",
        )
        assert len(history) >= 3 and len({h.step for h in history}) == len(history)
        assert r.data.params["models.pbdt.n_estimators"] == "30"


def test_concurrent_trainings_on_postgresql(features_workdir, postgres_uri, tmp_path) -> None:
    _concurrent_trainings(features_workdir, tmp_path, postgres_uri)


def test_concurrent_trainings_on_sqlite(features_workdir, tmp_path) -> None:
    uri = f"sqlite:///{tmp_path / 'shared' / 'mlflow.db'}"
    _concurrent_trainings(features_workdir, tmp_path, uri)
