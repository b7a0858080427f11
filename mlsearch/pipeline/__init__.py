"""The pipeline: one function per stage, and :func:`run_all` chaining them.

generate -> simulate -> features -> train -> evaluate -> export -> limits. Each stage reads
only what the one before it wrote, skips itself when its cache key is unchanged, and writes
atomically (see docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable

from mlsearch.config import Config
from mlsearch.pipeline.evaluate import run_evaluate
from mlsearch.pipeline.export import run_export
from mlsearch.pipeline.features import run_features
from mlsearch.pipeline.generate import run_generate
from mlsearch.pipeline.limits import run_limits
from mlsearch.pipeline.progress import NullReporter, Reporter
from mlsearch.pipeline.result import StageResult
from mlsearch.pipeline.simulate import run_simulate
from mlsearch.pipeline.train import run_train

__all__ = ["STAGES", "StageResult", "run_all"]

STAGES: dict[str, Callable[[Config, Reporter | None], StageResult]] = {
    "generate": run_generate,
    "simulate": run_simulate,
    "features": run_features,
    "train": run_train,
    "evaluate": run_evaluate,
    "export": run_export,
    "limits": run_limits,
}


def run_all(config: Config, reporter: Reporter | None = None) -> list[StageResult]:
    """Run every stage in order; stages whose inputs and config are unchanged are skipped."""
    reporter = reporter or NullReporter()
    return [stage(config, reporter) for stage in STAGES.values()]
