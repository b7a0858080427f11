"""MLflow lineage, the registry, FAILED runs and unusable stores."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from mlsearch.config import load_config
from mlsearch.errors import MlsearchError
from mlsearch.tracking import (
    check_store,
    list_models,
    mlflow_run,
    promote,
    resolve_model_uri,
)

from .conftest import SMALL_PROFILE, run_cli


def _client(workdir: Path):
    import mlflow

    uri = f"sqlite:///{workdir / 'mlruns/mlflow.db'}"
    return uri, mlflow.MlflowClient(uri)


@pytest.mark.slow  # the shared small-profile run (tests/conftest.py: small_run)
def test_every_producing_stage_has_a_finished_run_with_lineage(small_run: Path) -> None:
    _, client = _client(small_run)
    exp = client.get_experiment_by_name("zprime_invisible")
    everything = client.search_runs([exp.experiment_id], max_results=500)
    for r in everything:
        assert r.info.status == "FINISHED"
        assert r.data.tags["mlsearch.version"] and r.data.tags["mlsearch.git_commit"]
    # the runs that did work (not the parent runs, the folds or the cached stages of a rerun)
    runs = [
        r for r in everything
        if r.data.tags["mlsearch.stage"] not in ("pipeline", "fold")
        and "mlsearch.cached" not in r.data.tags
    ]  # fmt: skip
    stages = sorted(r.data.tags.get("mlsearch.stage") for r in runs)
    assert stages == ["features", "generate", "limits", "simulate", "train", "train"]
    for r in runs:
        assert r.info.status == "FINISHED"
        assert r.data.tags["mlsearch.version"] and r.data.tags["mlsearch.git_commit"]
    train = next(r for r in runs if r.data.tags.get("mlsearch.model") == "pbdt")
    inputs = {d.dataset.name: d for d in train.inputs.dataset_inputs}
    assert "features" in inputs and inputs["features"].dataset.digest
    assert json.loads(inputs["features"].dataset.source)["uri"].endswith("features.parquet")
    assert "params" not in train.data.params  # flattened config, not a blob
    assert train.data.params["models.pbdt.n_estimators"] == "30"
    gen = next(r for r in runs if r.data.tags.get("mlsearch.stage") == "generate")
    assert {d.dataset.name for d in gen.inputs.dataset_inputs} >= {"mumu", "zprime_m1"}
    assert gen.data.metrics["xsec_fb_zprime_m1"] > 0


@pytest.mark.slow  # the shared small-profile run (tests/conftest.py: small_run)
def test_models_are_registered_with_aliases_and_links(small_run: Path) -> None:
    uri, client = _client(small_run)
    versions = {v.name: v for v in list_models(uri)}
    assert set(versions) == {"zprime_invisible_pbdt", "zprime_invisible_pnn"}
    for name, v in versions.items():
        assert set(v.aliases) == {"champion", "candidate"}
        for tag in (
            "mlsearch.parity_report",
            "mlsearch.mass_grid",
            "mlsearch.mass_assignment",
            "mlsearch.features",
            "mlsearch.dataset_digest",
        ):
            assert v.tags[tag], tag
        assert float(v.tags["mlsearch.parity_max_abs_diff"]) < 1e-5
        mv = client.get_model_version(name, str(v.version))
        assert mv.run_id == v.run_id
    resolved = resolve_model_uri(uri, "models:/zprime_invisible_pnn@champion")
    assert resolved.name == "zprime_invisible_pnn" and resolved.version == 1
    with pytest.raises(MlsearchError, match="expected models:/NAME@ALIAS"):
        resolve_model_uri(uri, "runs:/abc/model")


@pytest.mark.slow  # the shared small-profile run (tests/conftest.py: small_run)
def test_limits_from_a_registry_uri_and_promote(small_run: Path, tmp_path: Path) -> None:
    work = tmp_path / "copy"
    shutil.copytree(small_run, work)
    uri = f"sqlite:///{work / 'mlruns/mlflow.db'}"
    promote(uri, "zprime_invisible_pnn", 1, alias="champion")
    with pytest.raises(MlsearchError, match="has no version 7"):
        promote(uri, "zprime_invisible_pnn", 7)
    res = run_cli(
        "limits",
        str(SMALL_PROFILE),
        "--set",
        f"workdir={work}",
        "--model",
        "models:/zprime_invisible_pnn@champion",
    )
    assert res.returncode == 0, res.stderr[-2000:]

    meta = json.loads((work / "results/zprime_invisible/limits.json").read_text())
    assert meta["model"] == "pnn" and meta["mlsearch.model_version"] == "1"
    assert "registry" in meta["onnx"][0]
    import mlflow

    client = mlflow.MlflowClient(uri)
    exp = client.get_experiment_by_name("zprime_invisible")
    runs = client.search_runs(
        [exp.experiment_id],
        "tags.`mlsearch.stage` = 'limits'",
        order_by=["attributes.start_time DESC"],
    )
    latest = runs[0]
    assert latest.data.tags["mlsearch.model_uri"] == "models:/zprime_invisible_pnn@champion"
    median = client.get_metric_history(latest.info.run_id, "expected_coupling_median")
    assert {h.step for h in median} == {1000, 3000, 6000} and min(h.value for h in median) > 0
    artifacts = {a.path for a in client.list_artifacts(latest.info.run_id)}
    assert {"limits.csv", "limits.json", "workspaces"} <= artifacts
    res = run_cli("models", "list", "--config", str(SMALL_PROFILE), cwd=work)
    assert res.returncode == 0 and "zprime_invisible_pnn" in res.stdout


def test_a_failing_stage_leaves_its_run_failed(tmp_path: Path) -> None:
    config = load_config(SMALL_PROFILE, [f"workdir={tmp_path}"])
    with pytest.raises(RuntimeError), mlflow_run(config, "doomed") as run:
        raise RuntimeError("disk on fire")
    import mlflow

    got = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlruns/mlflow.db'}").get_run(run.info.run_id)
    assert got.info.status == "FAILED"
    assert got.data.tags["mlsearch.error"] == "RuntimeError: disk on fire"


def test_unreachable_server_fails_before_training(tmp_path: Path) -> None:
    t = time.monotonic()
    res = run_cli(
        "train",
        str(SMALL_PROFILE),
        "--set",
        f"workdir={tmp_path}",
        "--set",
        "mlflow.tracking_uri=http://127.0.0.1:9",
    )
    assert res.returncode == 2
    assert "MLflow tracking store http://127.0.0.1:9 is not usable" in res.stderr
    assert "Traceback" not in res.stderr
    assert time.monotonic() - t < 60
    assert not (tmp_path / "data").exists()  # nothing started


def test_read_only_store_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "mlruns"
    store.mkdir()
    if subprocess.run(["chattr", "+i", str(store)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a directory immutable here (chattr)")
    try:
        config = load_config(SMALL_PROFILE, [f"workdir={tmp_path}"])
        with pytest.raises(MlsearchError, match="read-only"):
            check_store(config)
    finally:
        subprocess.run(["chattr", "-i", str(store)], check=True)


def test_store_selection_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlsearch.tracking import tracking_uri

    config = load_config(SMALL_PROFILE, [f"workdir={tmp_path}"])
    assert tracking_uri(config) == f"sqlite:///{tmp_path.resolve() / 'mlruns/mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "postgresql+psycopg2://u@127.0.0.1/x")
    assert tracking_uri(config) == "postgresql+psycopg2://u@127.0.0.1/x"
    config = load_config(SMALL_PROFILE, ["mlflow.tracking_uri=http://127.0.0.1:5001"])
    assert tracking_uri(config) == "http://127.0.0.1:5001"  # the config wins over the env


def test_pointing_mlflow_at_a_store_leaves_the_environment_alone(tmp_path, monkeypatch):
    """mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI; the next config in the same
    process must still get its own store, not the previous one's."""
    import os

    from mlsearch.config import load_config
    from mlsearch.tracking import tracking_uri
    from mlsearch.tracking.store import import_mlflow

    from .conftest import SMALL_PROFILE

    a = load_config(SMALL_PROFILE, [f"workdir={tmp_path / 'a'}"])
    b = load_config(SMALL_PROFILE, [f"workdir={tmp_path / 'b'}"])
    mlflow = import_mlflow(tracking_uri(a))
    assert "MLFLOW_TRACKING_URI" not in os.environ
    assert mlflow.get_tracking_uri() == tracking_uri(a)
    assert tracking_uri(b).endswith("b/mlruns/mlflow.db") and tracking_uri(b) != tracking_uri(a)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////elsewhere/mlflow.db")
    import_mlflow(tracking_uri(a))
    assert os.environ["MLFLOW_TRACKING_URI"] == "sqlite:////elsewhere/mlflow.db"  # the user's
