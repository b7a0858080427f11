"""simulate stage: truth files -> reconstructed files (one per sample)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from mlsearch.compute import Executor, executor, map_tasks
from mlsearch.config import Config, SimulateConfig
from mlsearch.detector import simulate_events
from mlsearch.errors import InputError
from mlsearch.io.events import (
    EventDataset,
    part_metadata,
    part_sizes,
    read_event_part,
    read_metadata,
    write_event_part,
    write_events,
)
from mlsearch.physics.seeds import chunk_rng
from mlsearch.pipeline.cache import file_key, stage_key
from mlsearch.pipeline.paths import Paths
from mlsearch.pipeline.progress import NullReporter, Reporter
from mlsearch.pipeline.result import StageResult
from mlsearch.pipeline.samples import SampleJob, sample_jobs, simulate_key
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
    forced_misid: str | None = None
    track_loss: float | None = None


def _simulate_task(task: _SimTask) -> ak.Array:
    """Simulate in chunks of SIM_CHUNK events, each with its own stream derived from
    (seed, name, chunk index in the sample), so the result does not depend on how the work
    is split (a top-level function: Dask workers run it)."""
    parts = [
        simulate_events(
            task.truth[start : start + SIM_CHUNK],
            task.config,
            chunk_rng(task.seed, f"sim/{task.name}", task.first_chunk + index),
            task.forced_misid,
            task.track_loss,
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


@dataclass(frozen=True)
class _PartTask:
    """One part (generation partition) of a truth sample, read by whoever simulates it and
    written by it as part ``out`` of the reconstructed sample."""

    path: Path
    row_group: int
    config: SimulateConfig
    seed: int
    name: str
    first_chunk: int
    out: Path
    forced_misid: str | None = None
    track_loss: float | None = None


def _simulate_part(task: _PartTask) -> int:
    """Read one part of a truth sample, simulate it and write the result (a top-level
    function: a Dask worker reads its own input and writes its own output, so only the event
    count travels); a part left by a killed run with the same key is reused."""
    done = part_metadata(task.out)
    if done is not None:
        return int(done["n"])
    truth = read_event_part(task.path, task.row_group)
    reco = _simulate_task(
        _SimTask(truth, task.config, task.seed, task.name, task.first_chunk, task.forced_misid,
                 task.track_loss)
    )  # fmt: skip
    return write_event_part(reco, task.out, {"n": len(reco)})


def _part_tasks(job: SampleJob, config: Config, out: EventDataset) -> list[_PartTask]:
    """The parts of a sample's truth as tasks; the chunk index counts from the start of
    the sample (partitions are multiples of SIM_CHUNK, so the result equals the simulation
    of the whole sample at once)."""
    if read_metadata(job.path).get("cache_key") != job.key:
        if not job.path.exists():
            raise InputError(f"{job.path}: event file not found (run the generate stage)")
        raise InputError(f"{job.path}: stale or unreadable truth file; run the generate stage")
    tasks, offset = [], 0
    for index, size in enumerate(part_sizes(job.path)):
        tasks.append(
            _PartTask(job.path, index, config.simulate, config.seed, job.name,
                      offset // SIM_CHUNK, out.part_path(index), job.forced_misid,
                      job.track_loss)
        )  # fmt: skip
        offset += size
    return tasks


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
    reporter.start("simulate", len(jobs))
    outputs = [reco_dir / job.path.name for job in jobs]
    keys = [simulate_key(job, config) for job in jobs]
    todo = [
        (job, out, key)
        for job, out, key in zip(jobs, outputs, keys, strict=True)
        if file_key(out) != key
    ]
    for job, out, key in (t for t in todo if t[0].ntuple is not None):
        meta = {
            "sample": job.name,
            "process": job.process,
            "is_signal": False,
            "n_events": job.n_generated,
            "cross_section_fb": job.cross_section_fb,
            "cross_section_err_fb": 0.0,
            "source_ntuple": str(job.ntuple),
        }
        write_events(_ntuple_sample(job), out, {**meta, "cache_key": key, "generator_key": job.key})
        reporter.advance("simulate", note=job.name)
    simulated = [t for t in todo if t[0].ntuple is None]
    datasets = [EventDataset(out, key).prepare() for _, out, key in simulated]
    parts = [
        _part_tasks(job, config, ds) for (job, _, _), ds in zip(simulated, datasets, strict=True)
    ]
    # every part of every sample on the pool at once, each written by its worker; a sample
    # is committed when its last part is done
    flat = [task for tasks in parts for task in tasks]
    results = map_tasks(config.compute.scheduler, config.compute.workers, _simulate_part, flat)
    for (job, _, key), tasks, ds in zip(simulated, parts, datasets, strict=True):
        for _ in tasks:
            next(results)
        forced: dict[str, object] = {"forced_misid": job.forced_misid} if job.forced_misid else {}
        if job.track_loss is not None:
            forced["track_loss"] = job.track_loss
        meta = {**read_metadata(job.path), "cache_key": key, "generator_key": job.key, **forced}
        ds.commit(len(tasks), meta)
        reporter.advance("simulate", note=job.name)
    reporter.advance("simulate", len(jobs) - len(todo))
    made = len(todo)
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
