"""One parent run per `mlsearch run`: the stage runs nest under it, cached stages show as such.

Two invocations of `mlsearch run` then read as two rows in the UI's run list, each opening
onto its stages (generate, simulate, features, train-pbdt with its folds, ..., limits). A
stage whose inputs and settings were unchanged does no work and opens no run of its own; it
gets a short child run ``<stage> (cached)`` tagged ``mlsearch.cached``, with the cache key
and, where the store has it, the run that made the outputs it reused.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlsearch.config import Config
from mlsearch.tracking.runs import (
    PARENT_TAG,
    ensure_experiment,
    flatten,
    mark_orphaned_runs,
    run_tags,
    set_parent_run,
)
from mlsearch.tracking.store import import_mlflow, tracking_uri

__all__ = ["CACHED_TAG", "KEY_TAG", "PipelineRun", "pipeline_run", "pipeline_run_name"]

CACHED_TAG, KEY_TAG, FROM_TAG = "mlsearch.cached", "mlsearch.cache_key", "mlsearch.cached_from"
_NAME_MAX = 250  # MLflow's limit on run names


def pipeline_run_name(config_path: Path, overrides: Sequence[str]) -> str:
    """The config's name and the settings the command line changed.

    >>> pipeline_run_name(Path("configs/zprime_invisible.yaml"), ["seed=3", "workdir=/tmp/w"])
    'zprime_invisible seed=3 workdir=/tmp/w'
    """
    name = " ".join([config_path.stem, *overrides])
    return name if len(name) <= _NAME_MAX else name[: _NAME_MAX - 3] + "..."


@dataclass
class PipelineRun:
    """The parent run of one `mlsearch run`; :meth:`record` after each stage."""

    client: Any
    experiment_id: str
    run_id: str
    tags: dict[str, str]  # version, commit, search, process: every child carries them

    def record(self, stage: str, key: str, skipped: bool) -> None:
        """After ``stage`` (cache key ``key``): tag the stage runs it opened under this parent
        with the key, or, if it was cached, add a ``<stage> (cached)`` child run."""
        if skipped:
            self._cached(stage, key)
            return
        for run in self._children(stage):
            if KEY_TAG not in run.data.tags:
                self.client.set_tag(run.info.run_id, KEY_TAG, key)

    def _children(self, stage: str) -> list[Any]:
        query = f"tags.`{PARENT_TAG}` = '{self.run_id}' and tags.`mlsearch.stage` = '{stage}'"
        return list(self.client.search_runs([self.experiment_id], query, max_results=100))

    def _cached(self, stage: str, key: str) -> None:
        made = self.client.search_runs(
            [self.experiment_id],
            f"tags.`{KEY_TAG}` = '{key}' and tags.`mlsearch.stage` = '{stage}' "
            f"and attributes.status = 'FINISHED'",
            max_results=20,
        )
        source = [r.info.run_id for r in made if r.data.tags.get(CACHED_TAG) != "true"]
        tags = {
            **self.tags,
            PARENT_TAG: self.run_id,
            "mlsearch.stage": stage,
            CACHED_TAG: "true",
            KEY_TAG: key,
            "mlflow.runName": f"{stage} (cached)",
            **({FROM_TAG: ",".join(source)} if source else {}),
        }
        run = self.client.create_run(self.experiment_id, run_name=tags["mlflow.runName"], tags=tags)
        self.client.set_terminated(run.info.run_id, status="FINISHED")


@contextlib.contextmanager
def pipeline_run(config: Config, name: str, overrides: Sequence[str] = ()) -> Iterator[PipelineRun]:
    """The parent run of a whole pipeline: the stage runs opened inside the block nest under
    it. It holds the config as params and the command-line overrides as the tag
    ``mlsearch.overrides``; an exception ends it FAILED (tag ``mlsearch.error``)."""
    from mlflow.entities import Param

    uri = tracking_uri(config)
    mlflow = import_mlflow(uri)
    client = mlflow.MlflowClient(uri)
    exp_id = ensure_experiment(mlflow, config, uri)
    mark_orphaned_runs(client, exp_id)
    common = run_tags(config)
    tags = {**common, "mlsearch.stage": "pipeline", "mlsearch.overrides": " ".join(overrides)}
    run = client.create_run(exp_id, run_name=name, tags=tags)
    run_id = run.info.run_id
    params = [Param(k, v[:6000]) for k, v in flatten(config.model_dump(mode="json")).items()]
    for i in range(0, len(params), 100):  # the store takes at most 100 params per batch
        client.log_batch(run_id, params=params[i : i + 100])
    previous = set_parent_run(run_id)
    start = time.monotonic()
    try:
        yield PipelineRun(client, exp_id, run_id, common)
    except BaseException as exc:
        client.set_tag(run_id, "mlsearch.error", f"{type(exc).__name__}: {exc}"[:5000])
        client.set_terminated(run_id, status="FAILED")
        raise
    finally:
        set_parent_run(previous)
    client.log_metric(run_id, "wall_time_s", time.monotonic() - start)
    client.set_terminated(run_id, status="FINISHED")
