"""MLflow: where runs go, and the few calls the stages make.

Default store: ``sqlite:///<workdir>/mlruns/mlflow.db`` with artifacts in
``<workdir>/mlruns/artifacts``. ``mlflow.tracking_uri`` in the config, else
``MLFLOW_TRACKING_URI``, selects any other store. mlflow is imported lazily (it costs ~2 s).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlsearch import __version__
from mlsearch._quiet import quiet_loggers
from mlsearch.config import Config
from mlsearch.errors import MlsearchError

__all__ = ["flatten", "git_commit", "mlflow_run", "tracking_uri"]


def tracking_uri(config: Config) -> str:
    """The tracking URI this config writes to."""
    if config.mlflow.tracking_uri:
        return config.mlflow.tracking_uri
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    db = (config.root / "mlruns" / "mlflow.db").resolve()
    return f"sqlite:///{db}"


def _artifact_root(config: Config) -> str | None:
    if config.mlflow.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI"):
        return None  # the server decides
    return (config.root / "mlruns" / "artifacts").resolve().as_uri()


def flatten(obj: Any, prefix: str = "") -> dict[str, str]:
    """Flatten nested dicts/lists into dotted keys, values as strings (MLflow params)."""
    out: dict[str, str] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(obj, list) and obj and isinstance(obj[0], dict):
        for i, v in enumerate(obj):
            out.update(flatten(v, f"{prefix}{i}."))
    else:
        out[prefix.rstrip(".")] = str(obj)
    return out


def git_commit() -> str:
    """The checkout's commit hash, or 'unknown' outside a git checkout."""
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@contextlib.contextmanager
def mlflow_run(
    config: Config, run_name: str, tags: dict[str, str] | None = None, run_id: str | None = None
) -> Iterator[Any]:
    """Start (or resume by ``run_id``) a run in the search's experiment.

    An exception inside the block ends the run as FAILED with the error as a tag, so nothing is
    left RUNNING.
    """
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    import mlflow

    quiet_loggers()
    uri = tracking_uri(config)
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    name = config.mlflow.experiment or config.search
    try:
        experiment = mlflow.get_experiment_by_name(name)
        if experiment is None:
            exp_id = mlflow.create_experiment(name, artifact_location=_artifact_root(config))
        else:
            exp_id = experiment.experiment_id
    except Exception as exc:  # unreachable server, read-only store: fail before any work
        raise MlsearchError(f"MLflow tracking store {uri}: {exc}".splitlines()[0]) from exc
    all_tags = {
        "mlsearch.version": __version__,
        "mlsearch.git_commit": git_commit(),
        "mlsearch.search": config.search,
        **(tags or {}),
    }
    run = mlflow.start_run(
        run_id=run_id,
        experiment_id=None if run_id else exp_id,
        run_name=None if run_id else run_name,
        tags=all_tags,
    )
    try:
        yield run
    except BaseException as exc:
        mlflow.set_tag("mlsearch.error", f"{type(exc).__name__}: {exc}"[:5000])
        mlflow.end_run(status="FAILED")
        raise
    mlflow.end_run(status="FINISHED")
