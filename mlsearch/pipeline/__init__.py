"""The pipeline: one function per stage, and :func:`run_all` chaining them.

generate -> simulate -> features -> train -> evaluate -> export -> limits. Each stage reads
files that earlier stages wrote, skips itself when its cache key is unchanged, and writes
atomically (see docs/architecture.md).

Stages are imported when asked for (:func:`load_stages`): ``mlsearch generate``, and a Dask
worker unpickling a generate task, do not import torch, sklearn or the limits (about 3 s of
a short command, and of every worker's start).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable

from mlsearch.config import Config
from mlsearch.pipeline.code_digest import STAGE_NAMES, code_digest
from mlsearch.pipeline.progress import NullReporter, Reporter
from mlsearch.pipeline.result import StageResult

__all__ = ["STAGE_NAMES", "StageFn", "StageResult", "load_stages", "run_all", "run_stages"]

StageFn = Callable[[Config, Reporter | None], StageResult]


def load_stages(names: Iterable[str] = STAGE_NAMES) -> dict[str, StageFn]:
    """The run functions of the named stages, in pipeline order, their modules imported.

    The code digests are taken right after: from then on this process's stage keys are
    those of the code it loaded, not of a file edited later during the run (seen: a limits
    stage that ran the old code after an edit was then "cached" for the new one)."""
    wanted = set(names)
    unknown = wanted - set(STAGE_NAMES)
    if unknown:
        raise KeyError(f"unknown stages {sorted(unknown)}; known: {', '.join(STAGE_NAMES)}")
    stages = {
        name: getattr(importlib.import_module(f"mlsearch.pipeline.{name}"), f"run_{name}")
        for name in STAGE_NAMES
        if name in wanted
    }
    code_digest("generate")
    return stages


def run_all(config: Config, reporter: Reporter | None = None) -> list[StageResult]:
    """Run every stage in order; stages whose inputs and config are unchanged are skipped."""
    reporter = reporter or NullReporter()
    return [stage(config, reporter) for stage in load_stages().values()]


def run_stages(
    config: Config,
    stages: dict[str, StageFn],
    reporter: Reporter,
    parent: str | None = None,
    overrides: tuple[str, ...] = (),
) -> list[StageResult]:
    """Run ``stages`` (from :func:`load_stages`) in order. With ``parent`` (a run name), as
    one MLflow parent run that the stage runs nest under, cached stages marked as such."""
    if parent is None:
        return [stage(config, reporter) for stage in stages.values()]
    from mlsearch.tracking.pipeline_runs import pipeline_run

    results = []
    with pipeline_run(config, parent, overrides) as run:
        for stage in stages.values():
            result = stage(config, reporter)
            run.record(result.stage, result.key, result.skipped)
            results.append(result)
    return results
