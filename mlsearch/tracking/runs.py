"""MLflow runs: one experiment per search, tags for lineage, datasets, FAILED on error, and
runs left RUNNING by a killed process marked KILLED by the next one."""

from __future__ import annotations

import contextlib
import math
import os
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from mlsearch import __version__
from mlsearch.config import Config
from mlsearch.errors import InputError, MlsearchError
from mlsearch.tracking.store import artifact_root, import_mlflow, tracking_uri

__all__ = [
    "ensure_experiment",
    "flatten",
    "git_commit",
    "log_dataset",
    "log_per_mass",
    "mark_orphaned_runs",
    "mass_step",
    "mlflow_run",
    "nested_run",
    "process_tags",
    "run_tags",
    "set_parent_run",
]

#: tags that say which process runs a run: a RUNNING run whose process is gone was killed
PID_TAG, HOST_TAG, START_TAG = "mlsearch.pid", "mlsearch.host", "mlsearch.pid_start"
KILLED_TAG = "mlsearch.killed"
_INHERITED = ("mlsearch.version", "mlsearch.git_commit", "mlsearch.search")
#: MLflow's own tag for nesting: the UI shows a run under the run this tag names
PARENT_TAG = "mlflow.parentRunId"

#: the pipeline run (of `mlsearch run`) that new stage runs of this process nest under; a
#: process-wide value, not a context variable: stages may open runs from worker threads
_parent: dict[str, str] = {}


def set_parent_run(run_id: str | None) -> str | None:
    """Nest the stage runs opened from now on under ``run_id`` (None: top level); returns the
    previous parent."""
    previous = _parent.pop("run_id", None)
    if run_id is not None:
        _parent["run_id"] = run_id
    return previous


def flatten(obj: Any, prefix: str = "") -> dict[str, str]:
    """Flatten nested dicts/lists into dotted keys, values as strings (MLflow params).

    >>> flatten({"a": {"b": 1}, "c": [{"d": 2}], "e": [1, 2]})
    {'a.b': '1', 'c.0.d': '2', 'e': '[1, 2]'}
    """
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


def ensure_experiment(mlflow: Any, config: Config, uri: str) -> str:
    """The id of the config's experiment, created (model-training kind) if missing."""
    name = config.mlflow.experiment or config.search
    try:
        experiment = mlflow.get_experiment_by_name(name)
        if experiment is not None:
            return str(experiment.experiment_id)
        try:
            # the MLflow UI shows "custom model development" experiments as training runs
            # (the default layout is the GenAI one)
            return str(
                mlflow.create_experiment(
                    name,
                    artifact_location=artifact_root(config),
                    tags={"mlflow.experimentKind": "custom_model_development"},
                )
            )
        except Exception:
            # another process created it in the meantime
            experiment = mlflow.get_experiment_by_name(name)
            if experiment is None:
                raise
            return str(experiment.experiment_id)
    except Exception as exc:  # unreachable server, read-only store: fail before any work
        raise MlsearchError(f"MLflow tracking store {uri}: {exc}".splitlines()[0]) from exc


def _process_start(pid: int) -> str:
    """The start time of process ``pid`` in clock ticks since boot (Linux /proc), "" where
    unknown: with the pid it names one process, not a later one that reused the number."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _process_alive(pid: int, start: str) -> bool:
    """Whether the process that had ``pid`` (and start time ``start``, if known) still runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process with that pid: alive, unless the start time differs
    now = _process_start(pid)
    return not (start and now and now != start)


def process_tags() -> dict[str, str]:
    """The tags naming this process (pid, host, start time)."""
    pid = os.getpid()
    return {PID_TAG: str(pid), HOST_TAG: socket.gethostname(), START_TAG: _process_start(pid)}


def run_tags(config: Config) -> dict[str, str]:
    """The tags of every run: package version, git commit, search, and its process."""
    return {
        "mlsearch.version": __version__,
        "mlsearch.git_commit": git_commit(),
        "mlsearch.search": config.search,
        **process_tags(),
    }


def mark_orphaned_runs(client: Any, experiment_id: str) -> list[str]:
    """Mark KILLED the runs of the experiment left RUNNING by a process of this host that no
    longer exists (``kill -9``, a lost machine), with the tag ``mlsearch.killed`` saying why;
    returns their ids. Runs of other hosts, and runs without the process tags, are left alone:
    there is no way to tell here whether they still run."""
    host = socket.gethostname()
    marked = []
    for run in client.search_runs(
        [experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=1000
    ):
        tags = run.data.tags
        if tags.get(HOST_TAG) != host or not tags.get(PID_TAG, "").isdigit():
            continue
        pid = int(tags[PID_TAG])
        if pid == os.getpid() or _process_alive(pid, tags.get(START_TAG, "")):
            continue
        why = (
            f"its process (pid {pid} on {host}) ended without closing the run (killed); "
            f"marked by pid {os.getpid()} at {time.strftime('%Y-%m-%d %H:%M:%S %Z')}"
        )
        client.set_tag(run.info.run_id, KILLED_TAG, why)
        client.set_terminated(run.info.run_id, status="KILLED")
        marked.append(run.info.run_id)
    return marked


def _ended_with_the_block(mlflow: Any, run: Any) -> Iterator[Any]:
    """Yield the active ``run``; end it FINISHED after the block, or FAILED with the error as
    the tag ``mlsearch.error`` if the block raised (delegated to by the run context managers)."""
    try:
        yield run
    except BaseException as exc:
        mlflow.set_tag("mlsearch.error", f"{type(exc).__name__}: {exc}"[:5000])
        mlflow.end_run(status="FAILED")
        raise
    mlflow.end_run(status="FINISHED")


@contextlib.contextmanager
def mlflow_run(
    config: Config, run_name: str, tags: dict[str, str] | None = None, run_id: str | None = None
) -> Iterator[Any]:
    """Start (or resume by ``run_id``) a run in the search's experiment.

    Runs carry the package version, git commit and search as tags, and the process that
    runs them (pid, host, start time). An exception inside the block ends the run as FAILED
    with the error as the tag ``mlsearch.error``; a process killed outright leaves its run
    RUNNING, and the next run on the store marks it KILLED (:func:`mark_orphaned_runs`).
    """
    uri = tracking_uri(config)
    mlflow = import_mlflow(uri)
    exp_id = ensure_experiment(mlflow, config, uri)
    mark_orphaned_runs(mlflow.MlflowClient(uri), exp_id)
    all_tags = {
        **run_tags(config),
        **({PARENT_TAG: _parent["run_id"]} if "run_id" in _parent else {}),
        **(tags or {}),
    }
    if run_id is not None:
        from mlflow.exceptions import MlflowException

        try:
            mlflow.MlflowClient(uri).get_run(run_id)
        except MlflowException:
            raise InputError(
                f"MLflow run {run_id} (written by an earlier stage) is not in the store {uri}; "
                "the store changed since: rerun from the stage that made it"
            ) from None
    run = mlflow.start_run(
        run_id=run_id,
        experiment_id=None if run_id else exp_id,
        run_name=None if run_id else run_name,
        tags=None if run_id else all_tags,
    )
    if run_id is not None:  # a resumed run is run by this process now
        mlflow.set_tags(process_tags())
    yield from _ended_with_the_block(mlflow, run)


@contextlib.contextmanager
def nested_run(run_name: str, tags: dict[str, str] | None = None) -> Iterator[Any]:
    """A run nested under the *active* run (a training run's folds): FAILED on an exception,
    and carrying its process like every run, so a killed one is marked KILLED later."""
    import mlflow

    parent = mlflow.active_run()
    inherited = {}
    if parent is not None:  # the version, commit and search of the run it belongs to
        known = mlflow.get_run(parent.info.run_id).data.tags
        inherited = {k: known[k] for k in _INHERITED if k in known}
    run = mlflow.start_run(
        experiment_id=parent.info.experiment_id if parent else None,  # else: "Default"
        run_name=run_name,
        nested=True,
        tags={**inherited, **process_tags(), **(tags or {})},
    )
    yield from _ended_with_the_block(mlflow, run)


def log_dataset(
    path: Path, digest: str, name: str, context: str, n_rows: int | None = None
) -> None:
    """Record a file as a dataset input of the active run (name, digest = our content key,
    source = the file), so the run shows which event files or tables made it."""
    import warnings

    import mlflow
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "source can be interpreted in multiple ways"
        source = resolve_dataset_source(str(Path(path).resolve()))
    dataset = MetaDataset(source=source, name=name, digest=digest[:36])  # type: ignore[abstract]
    tags = {"n_rows": str(n_rows)} if n_rows is not None else None
    mlflow.log_input(dataset, context=context, tags=tags)


def mass_step(mass: float) -> int:
    """The step a per-mass metric is logged at: the mass in MeV (an integer, as MLflow's
    steps are), so the chart view's x axis reads mass and two runs whose grids differ still
    line up at the masses they share.

    >>> mass_step(0.2), mass_step(3.0), mass_step(10.0)
    (200, 3000, 10000)
    """
    return round(1000.0 * float(mass))


def log_per_mass(
    rows: Sequence[Mapping[Any, Any]], names: Sequence[str], masses: Sequence[float], table: str
) -> None:
    """Per-mass results of the active run as curves versus mass: each of ``names`` one
    metric, logged once per mass of the grid ``masses`` [GeV] with step = the mass in MeV
    (:func:`mass_step`; the UI's chart view overlays two runs versus mass), the grid as the
    param ``mass_grid`` [GeV], and the rows as the table ``per_mass/<table>.json``
    (mlflow.log_table; the UI's artifact view shows it). ``rows``: dicts with ``mass``
    [GeV] and the named values; non-finite values are left out of the metrics."""
    import mlflow
    import pandas as pd

    grid = {round(float(m), 9) for m in masses}
    for row in rows:
        if round(float(row["mass"]), 9) not in grid:
            continue
        values = {n: float(row[n]) for n in names if _finite(row.get(n))}
        if values:
            mlflow.log_metrics(values, step=mass_step(row["mass"]))
    mlflow.log_param("mass_grid", ",".join(f"{float(m):g}" for m in masses))
    frame = pd.DataFrame([{k: row.get(k) for k in ("mass", *names)} for row in rows])
    mlflow.log_table(frame, artifact_file=f"per_mass/{table}.json")


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
