"""simulate stage: truth files -> reconstructed files (one per sample)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from mlsearch.compute import Executor, executor
from mlsearch.config import Config, SimulateConfig
from mlsearch.detector import simulate_events
from mlsearch.errors import InputError
from mlsearch.generate.sample import chunk_rng
from mlsearch.io.events import (
    event_writer,
    iter_event_parts,
    part_sizes,
    read_metadata,
    write_events,
)
from mlsearch.pipeline.cache import file_key, stage_key
from mlsearch.pipeline.generate import SampleJob, sample_jobs
from mlsearch.pipeline.paths import Paths
from mlsearch.pipeline.progress import NullReporter, Reporter
from mlsearch.pipeline.result import StageResult
from mlsearch.tracking import flatten, log_dataset, mlflow_run

__all__ = ["SIM_CHUNK", "run_simulate", "simulate_file_events"]

# events per chunk: memory stays flat in the sample size, and 20k-event arrays stay
# cache-friendly (2x faster than 100k)
SIM_CHUNK = 20_000


TASK_CHUNKS = 5  # simulation chunks per executor task (100k events)


@dataclass(frozen=True)
class _SimTask:
    """Events [first_chunk x SIM_CHUNK, ...) of one sample's truth, to simulate."""

    truth: ak.Array
    config: SimulateConfig
    seed: int
    name: str
    first_chunk: int


def _simulate_task(task: _SimTask) -> ak.Array:
    """Simulate in chunks of SIM_CHUNK events, each with its own stream derived from
    (seed, name, chunk index in the sample), so the result does not depend on how the work
    is split (a top-level function: Dask workers run it)."""
    parts = [
        simulate_events(
            task.truth[start : start + SIM_CHUNK],
            task.config,
            chunk_rng(task.seed, f"sim/{task.name}", task.first_chunk + index),
        )
        for index, start in enumerate(range(0, max(len(task.truth), 1), SIM_CHUNK))
    ]
    return parts[0] if len(parts) == 1 else ak.concatenate(parts)


def _tasks(
    parts: Iterator[ak.Array], config: SimulateConfig, seed: int, name: str
) -> Iterator[_SimTask]:
    """Tasks of TASK_CHUNKS x SIM_CHUNK events over the parts of a sample, read lazily; the
    chunk index counts from the start of the sample."""
    step = SIM_CHUNK * TASK_CHUNKS
    offset = 0
    for part in parts:
        for start in range(0, max(len(part), 1), step):
            chunk = (offset + start) // SIM_CHUNK
            yield _SimTask(part[start : start + step], config, seed, name, chunk)
        offset += len(part)


def simulate_file_events(
    truth: ak.Array, config: SimulateConfig, seed: int, name: str, pool: Executor | None = None
) -> ak.Array:
    """The reconstructed events of a sample's truth (in memory), in tasks on ``pool``."""
    tasks = _tasks(iter([truth]), config, seed, name)
    parts = list((pool or executor(None)).imap(_simulate_task, tasks))
    return parts[0] if len(parts) == 1 else ak.concatenate(parts)


def _simulate_file(job: SampleJob, out: Path, key: str, config: Config, pool: Executor) -> None:
    """Simulate a truth file into ``out`` part by part (bounded memory). Chunks are aligned
    with the parts: partitions are multiples of SIM_CHUNK events, so the result equals the
    simulation of the whole sample at once."""
    if not job.path.is_file():
        raise InputError(f"{job.path}: event file not found (run the generate stage)")
    meta = read_metadata(job.path)
    if meta.get("cache_key") != job.key:
        raise InputError(f"{job.path}: stale or unreadable truth file; run the generate stage")
    sizes = part_sizes(job.path)
    tasks = _tasks(iter_event_parts(job.path), config.simulate, config.seed, job.name)
    results = pool.imap(_simulate_task, tasks)
    step = SIM_CHUNK * TASK_CHUNKS
    with event_writer(out) as writer:
        # one row group per truth part (generation partition): the features stage, which
        # works part by part, then sees the same parts whatever the simulation's task size
        for size in sizes:
            pieces = [next(results) for _ in range(max(-(-size // step), 1))]
            writer.write(pieces[0] if len(pieces) == 1 else ak.concatenate(pieces))
        writer.metadata = {**meta, "cache_key": key, "generator_key": job.key}


def _ntuple_sample(job: SampleJob) -> ak.Array:
    """A basf2 ntuple as a reconstructed sample: every event weighs sigma / n_generated
    (basf2's __weight__ is not applied: the ntuple is taken as unweighted MC)."""
    from mlsearch.io.basf2_ntuple import read_basf2_ntuple

    assert job.ntuple is not None and job.cross_section_fb and job.n_generated
    reco = read_basf2_ntuple(job.ntuple)
    weight = np.full(len(reco), job.cross_section_fb / job.n_generated)
    return ak.with_field(reco, weight, "weight")


def run_simulate(config: Config, reporter: Reporter | None = None) -> StageResult:
    """Simulate every generated sample whose reconstructed file is missing or stale."""
    reporter = reporter or NullReporter()
    jobs = sample_jobs(config)
    reco_dir = Paths.of(config).reco
    pool = executor(config.compute.scheduler, config.compute.workers)
    reporter.start("simulate", len(jobs))
    outputs = []
    made = 0
    keys = []
    for job in jobs:
        out = reco_dir / job.path.name
        key = stage_key("simulate", job.key, config.simulate)
        keys.append(key)
        outputs.append(out)
        if job.ntuple is not None and file_key(out) != key:
            reco = _ntuple_sample(job)
            meta = {
                "sample": job.name,
                "process": job.process,
                "is_signal": False,
                "n_events": job.n_generated,
                "cross_section_fb": job.cross_section_fb,
                "cross_section_err_fb": 0.0,
                "source_ntuple": str(job.ntuple),
            }
            write_events(reco, out, {**meta, "cache_key": key, "generator_key": job.key})
            made += 1
        elif file_key(out) != key:
            _simulate_file(job, out, key, config, pool)
            made += 1
        reporter.advance("simulate", note=job.name)
    if made:
        with mlflow_run(config, "simulate", {"mlsearch.stage": "simulate"}):
            import mlflow

            mlflow.log_params(flatten(config.simulate.model_dump(mode="json"), "simulate."))
            for job, out, key in zip(jobs, outputs, keys, strict=True):
                if job.ntuple is None:
                    log_dataset(job.path, job.key, job.name, "input")
                log_dataset(out, key, f"{job.name}-reco", "output")
    reporter.finish("simulate", f"{made} made, {len(jobs) - made} cached")
    return StageResult(
        "simulate", stage_key("simulate-all", keys), tuple(outputs), made == 0, {"simulated": made}
    )
