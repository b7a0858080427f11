"""generate stage: one truth-event file per process (and per signal mass)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlsearch.config import Config
from mlsearch.generate import generate_process
from mlsearch.generate.sample import TruthSample
from mlsearch.io.events import read_metadata, truth_to_awkward, write_events
from mlsearch.pipeline.cache import file_key, stage_key
from mlsearch.pipeline.paths import Paths
from mlsearch.pipeline.progress import NullReporter, Reporter
from mlsearch.pipeline.result import StageResult
from mlsearch.tracking import flatten, log_dataset, mlflow_run

__all__ = ["SampleJob", "run_generate", "sample_jobs"]


@dataclass(frozen=True)
class SampleJob:
    """One sample to generate: its file, its cache key and the generator arguments."""

    name: str
    process: str
    n_events: int
    mass: float | None
    coupling: float | None
    path: Path
    key: str
    is_signal: bool
    source: Path | None = None  # an LHE/HepMC3 file read instead of generating
    in_acceptance: bool = False
    ntuple: Path | None = None  # a basf2 ntuple read as the reconstructed sample
    cross_section_fb: float | None = None  # of the ntuple's sample
    n_generated: int | None = None


def sample_jobs(config: Config) -> list[SampleJob]:
    """The samples the config asks for, each keyed by its own settings (so a new mass on the
    grid generates only that mass)."""
    gen = config.generate
    out = []
    events = Paths.of(config).events
    sig = gen.signal
    for mass in sig.masses:
        name = f"{sig.process}_m{mass:g}"
        source = sig.files.get(mass)
        key = stage_key(
            "generate",
            name,
            sig.n_events,
            sig.coupling,
            sig.invisible_br,
            gen.energy_spread,
            config.seed,
            _source_digest(source),
        )
        out.append(
            SampleJob(
                name,
                sig.process,
                sig.n_events,
                mass,
                sig.coupling,
                events / f"{name}.parquet",
                key,
                True,
                source,
            )
        )
    for bkg in gen.backgrounds:
        key = stage_key(
            "generate",
            bkg.process,
            bkg.n_events,
            gen.energy_spread,
            config.seed,
            _source_digest(bkg.file),
            bkg.in_acceptance,
            _source_digest(bkg.ntuple),
            bkg.cross_section_fb,
            bkg.n_generated,
        )
        out.append(
            SampleJob(
                bkg.process,
                bkg.process,
                bkg.n_events,
                None,
                None,
                events / f"{bkg.process}.parquet",
                key,
                False,
                bkg.file,
                bkg.in_acceptance,
                bkg.ntuple,
                bkg.cross_section_fb,
                bkg.n_generated,
            )
        )
    return out


def _source_digest(path: Path | None) -> str | None:
    """Content hash of an external generator file (None for built-in generation)."""
    if path is None:
        return None
    import hashlib

    from mlsearch.errors import InputError

    if not path.is_file():
        raise InputError(f"{path}: generator file not found (from the config)")
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _make_sample(config: Config, job: SampleJob) -> TruthSample:
    if job.source is not None:
        from mlsearch.io.generator_files import read_generator_file

        return read_generator_file(job.source)
    return generate_process(
        job.process,
        job.n_events,
        config.seed,
        mass=job.mass,
        coupling=job.coupling,
        invisible_br=config.generate.signal.invisible_br,
        energy_spread=config.generate.energy_spread,
        in_acceptance=job.in_acceptance,
    )


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
    """Generate every sample whose file is missing or was made with other settings."""
    reporter = reporter or NullReporter()
    jobs = sample_jobs(config)
    reporter.start("generate", len(jobs))
    made = 0
    for job in jobs:
        if job.ntuple is None and file_key(job.path) != job.key:
            sample = _make_sample(config, job)
            metadata = {
                "cache_key": job.key,
                "sample": job.name,
                "process": job.process,
                "is_signal": job.is_signal,
                "n_events": len(sample),
                "cross_section_fb": sample.cross_section_fb,
                "cross_section_err_fb": sample.cross_section_err_fb,
                "seed": config.seed,
                # an imported signal file must be made at the config's mass and coupling
                **({"mass": job.mass, "coupling": job.coupling} if job.is_signal else {}),
                **sample.metadata,
            }
            write_events(truth_to_awkward(sample), job.path, metadata)
            made += 1
        reporter.advance("generate", note=job.name)
    if made:
        _track(config, jobs)
    key = stage_key("generate-all", [j.key for j in jobs])
    reporter.finish("generate", f"{made} made, {len(jobs) - made} cached")
    return StageResult("generate", key, tuple(j.path for j in jobs), made == 0, {"generated": made})
