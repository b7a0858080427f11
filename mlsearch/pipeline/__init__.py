"""The pipeline: one function per stage, and :func:`run_all` chaining them.

generate -> simulate -> features -> train -> evaluate -> export -> limits. Each stage reads
files that earlier stages wrote, skips itself when its cache key is unchanged, and writes
atomically (see docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable

from mlsearch.config import Config
from mlsearch.pipeline.code_digest import code_digest
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

# The code digests are taken now, when this process has loaded the stages, not when a stage
# computes its key minutes later: a file edited during a run would otherwise give the old
# code's outputs the new code's key (seen: a limits stage that ran the old code after an edit
# was then "cached" for the new one).
code_digest("generate")


def run_all(config: Config, reporter: Reporter | None = None) -> list[StageResult]:
    """Run every stage in order; stages whose inputs and config are unchanged are skipped."""
    reporter = reporter or NullReporter()
    return [stage(config, reporter) for stage in STAGES.values()]
