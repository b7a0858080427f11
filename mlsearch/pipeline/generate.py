"""generate stage: one truth-event file per process (and per signal mass)."""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from mlsearch.compute import map_tasks
from mlsearch.config import Config
from mlsearch.generate import generate_process
from mlsearch.generate.filters import TruthFilter
from mlsearch.io.events import (
    EventDataset,
    part_metadata,
    read_metadata,
    truth_to_awkward,
    write_event_part,
    write_events,
)
from mlsearch.physics.acceptance import TrackAcceptance
from mlsearch.pipeline.cache import file_key, stage_key
from mlsearch.pipeline.progress import NullReporter, Reporter
from mlsearch.pipeline.result import StageResult
from mlsearch.pipeline.samples import SampleJob, sample_jobs
from mlsearch.tracking import flatten, log_dataset, mlflow_run

__all__ = ["run_generate"]


@dataclass(frozen=True)
class _Partition:
    """One partition of a built-in sample: ``n`` events from event number ``offset`` on,
    written to ``out`` (a part of the sample's dataset) with weights times ``share`` (its
    share of the sample's events)."""

    process: str
    n: int
    seed: int
    offset: int
    mass: float | None
    coupling: float | None
    invisible_br: str
    energy_spread: bool
    acceptance: TrackAcceptance | None
    out: Path
    share: float
    tau_modes: tuple[tuple[str, float], ...] = ()
    radiation: bool = True
    truth_filter: TruthFilter | None = None
    topology_share: float = 0.0
    single_share: float = 0.0
    hard_photon_share: float = 0.0


def _partition_seed(seed: int, name: str, index: int) -> int:
    """Partition 0 uses the global seed itself (a sample within one partition is what it
    always was); partition k > 0 an independent seed derived from (seed, sample, k)."""
    if index == 0:
        return seed
    tag = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")
    return int(np.random.SeedSequence([seed, tag, index]).generate_state(1)[0])


def _partitions(config: Config, job: SampleJob, dataset: EventDataset) -> list[_Partition]:
    size = config.compute.partition_events
    sizes = [min(size, job.n_events - start) for start in range(0, job.n_events, size)]
    gen = config.generate
    return [
        _Partition(
            job.process,
            n,
            _partition_seed(config.seed, job.name, k),
            k * size,
            job.mass,
            job.coupling,
            gen.signal.invisible_br,
            gen.energy_spread,
            job.acceptance,
            dataset.part_path(k),
            n / job.n_events,
            job.tau_modes,
            gen.signal.radiation,
            job.truth_filter,
            job.topology_share,
            job.single_share,
            job.hard_photon_share,
        )
        for k, n in enumerate(sizes)
    ]


def _generate_partition(part: _Partition) -> dict[str, Any]:
    """Generate one partition and write it as a part of its sample (a top-level function:
    Dask workers run it and write their own output); returns the part's summary: events,
    its own cross-section estimate [fb] and error, the generator's metadata. A part left by
    a killed run with the same key is reused."""
    done = part_metadata(part.out)
    if done is not None:
        return done
    sample = generate_process(
        part.process, part.n, part.seed, mass=part.mass, coupling=part.coupling,
        invisible_br=part.invisible_br, energy_spread=part.energy_spread,
        acceptance=part.acceptance, tau_modes=dict(part.tau_modes) or None,
        radiation=part.radiation, topology_share=part.topology_share,
        single_share=part.single_share, hard_photon_share=part.hard_photon_share,
    )  # fmt: skip
    events = truth_to_awkward(sample)
    kept = len(sample)
    if part.truth_filter is not None:
        mask = part.truth_filter.keep(sample.pdg, sample.p4)
        events, kept = events[mask], int(mask.sum())
    if part.offset:
        events = ak.with_field(events, events["event"] + part.offset, "event")
    if part.share != 1:
        # each partition's weights sum to its own cross-section estimate
        events = ak.with_field(events, events["weight"] * part.share, "weight")
    summary = {
        "n": len(sample), "cross_section_fb": sample.cross_section_fb,
        "cross_section_err_fb": sample.cross_section_err_fb, "share": part.share,
        "metadata": sample.metadata, "n_kept": kept,
    }  # fmt: skip
    write_event_part(events, part.out, summary)
    return summary


def _sample_summary(
    job: SampleJob, parts: list[dict[str, Any]], common: dict[str, Any]
) -> dict[str, Any]:
    """The sample's metadata from its parts': the cross section is the event-weighted mean
    of the partitions' estimates."""
    total = sum(p["n"] for p in parts)
    if total != job.n_events:
        raise RuntimeError(f"{job.name}: {total} events generated, {job.n_events} asked")
    xsec = sum(p["cross_section_fb"] * p["share"] for p in parts)
    var = sum((p["cross_section_err_fb"] * p["share"]) ** 2 for p in parts)
    return {
        **common,
        "n_events": total,
        "cross_section_fb": xsec,
        "cross_section_err_fb": math.sqrt(var)
        if len(parts) > 1
        else parts[0]["cross_section_err_fb"],
        **({"partitions": len(parts)} if len(parts) > 1 else {}),
        **parts[0]["metadata"],
        **(
            {
                job.truth_filter.NAME: {
                    **{k: v for k, v in asdict(job.truth_filter).items() if v is not None},
                    "kept": sum(p["n_kept"] for p in parts),
                }
            }
            if job.truth_filter
            else {}
        ),
    }


def _track(config: Config, jobs: list[SampleJob]) -> None:
    """One MLflow run for the generated samples: settings, cross sections, the files."""
    with mlflow_run(config, "generate", {"mlsearch.stage": "generate"}):
        import mlflow

        gen = config.generate
        mlflow.log_params(
            {
                "seed": config.seed,
                "energy_spread": gen.energy_spread,
                **flatten(gen.signal.model_dump(mode="json"), "signal."),
                "backgrounds": ",".join(f"{b.process}:{b.n_events}" for b in gen.backgrounds),
            }
        )
        for job in (j for j in jobs if j.ntuple is None):
            meta = read_metadata(job.path)
            mlflow.log_metric(f"xsec_fb_{job.name}", float(meta["cross_section_fb"]))
            log_dataset(job.path, job.key, job.name, "generated", int(meta["n_events"]))


def run_generate(config: Config, reporter: Reporter | None = None) -> StageResult:
    """Generate every sample whose file is missing or was made with other settings: built-in
    samples as partitions of ``compute.partition_events`` on the configured executor."""
    reporter = reporter or NullReporter()
    all_jobs = sample_jobs(config)
    jobs = [j for j in all_jobs if j.ntuple is None and file_key(j.path) != j.key]
    reporter.start("generate", len(all_jobs))
    builtin = {j.name: EventDataset(j.path, j.key).prepare() for j in jobs if j.source is None}
    tasks = [(j, part) for j in jobs if j.name in builtin
             for part in _partitions(config, j, builtin[j.name])]  # fmt: skip
    results = map_tasks(
        config.compute.scheduler, config.compute.workers, _generate_partition,
        [part for _, part in tasks],
    )  # fmt: skip
    for job in jobs:
        common = {
            "cache_key": job.key,
            "sample": job.name,
            "process": job.process,
            "is_signal": job.is_signal,
            "seed": config.seed,
            # an imported signal file must be made at the config's mass and coupling
            **({"mass": job.mass, "coupling": job.coupling} if job.is_signal else {}),
        }
        if job.source is not None:
            from mlsearch.io.generator_files import read_generator_file

            sample = read_generator_file(job.source)
            write_events(
                truth_to_awkward(sample), job.path,
                {
                    **common, "n_events": len(sample),
                    "cross_section_fb": sample.cross_section_fb,
                    "cross_section_err_fb": sample.cross_section_err_fb, **sample.metadata,
                },
            )  # fmt: skip
        else:
            # the partitions come in task order: this job's are the next ones
            parts = [next(results) for j, _ in tasks if j is job]
            builtin[job.name].commit(len(parts), _sample_summary(job, parts, common))
        reporter.advance("generate", note=job.name)
    reporter.advance("generate", len(all_jobs) - len(jobs))
    if jobs:
        _track(config, all_jobs)
    key = stage_key("generate-all", [j.key for j in all_jobs])
    reporter.finish("generate", f"{len(jobs)} made, {len(all_jobs) - len(jobs)} cached")
    return StageResult(
        "generate", key, tuple(j.path for j in all_jobs), not jobs, {"generated": len(jobs)}
    )
