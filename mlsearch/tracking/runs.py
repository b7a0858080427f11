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
    "flatten",
    "git_commit",
    "log_dataset",
    "log_per_mass",
    "mark_orphaned_runs",
    "mlflow_run",
]

#: tags that say which process runs a run: a RUNNING run whose process is gone was killed
PID_TAG, HOST_TAG, START_TAG = "mlsearch.pid", "mlsearch.host", "mlsearch.pid_start"
KILLED_TAG = "mlsearch.killed"


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


def _experiment_id(mlflow: Any, config: Config, uri: str) -> str:
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


def _process_tags() -> dict[str, str]:
    pid = os.getpid()
    return {PID_TAG: str(pid), HOST_TAG: socket.gethostname(), START_TAG: _process_start(pid)}


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
    exp_id = _experiment_id(mlflow, config, uri)
    mark_orphaned_runs(mlflow.MlflowClient(uri), exp_id)
    all_tags = {
        "mlsearch.version": __version__,
        "mlsearch.git_commit": git_commit(),
        "mlsearch.search": config.search,
        **_process_tags(),
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
        mlflow.set_tags(_process_tags())
    try:
        yield run
    except BaseException as exc:
        mlflow.set_tag("mlsearch.error", f"{type(exc).__name__}: {exc}"[:5000])
        mlflow.end_run(status="FAILED")
        raise
    mlflow.end_run(status="FINISHED")


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


def log_per_mass(
    rows: Sequence[Mapping[Any, Any]], names: Sequence[str], masses: Sequence[float], table: str
) -> None:
    """Per-mass results of the active run as curves versus mass: each of ``names`` one
    metric, logged once per mass with step = the mass's index in ``masses`` (so the UI's
    chart view overlays two runs versus mass), the grid as the param ``mass_grid`` (it says
    which mass each step is), and the rows as the table ``per_mass/<table>.json``
    (mlflow.log_table; the UI's artifact view shows it). ``rows``: dicts with ``mass`` [GeV]
    and the named values; non-finite values are left out of the metrics."""
    import mlflow
    import pandas as pd

    index = {round(float(m), 9): i for i, m in enumerate(masses)}
    for row in rows:
        step = index.get(round(float(row["mass"]), 9))
        if step is None:
            continue
        values = {n: float(row[n]) for n in names if _finite(row.get(n))}
        if values:
            mlflow.log_metrics(values, step=step)
    mlflow.log_param("mass_grid", ",".join(f"{float(m):g}" for m in masses))
    frame = pd.DataFrame([{k: row.get(k) for k in ("mass", *names)} for row in rows])
    mlflow.log_table(frame, artifact_file=f"per_mass/{table}.json")


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
