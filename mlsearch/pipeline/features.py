"""features stage: reconstructed files -> one flat feature table per search."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mlsearch.compute import executor
from mlsearch.config import Config, FeaturesConfig
from mlsearch.errors import InputError
from mlsearch.features import get_builder
from mlsearch.io.atomic import atomic_path
from mlsearch.io.events import part_sizes, read_event_part, read_metadata
from mlsearch.io.feature_table import FeatureTableMeta, SampleInfo, check_finite
from mlsearch.models.mass_assignment import background_mass_hypotheses
from mlsearch.physics.seeds import chunk_rng
from mlsearch.pipeline.cache import file_key, stage_key
from mlsearch.pipeline.paths import Paths
from mlsearch.pipeline.progress import NullReporter, Reporter
from mlsearch.pipeline.result import StageResult
from mlsearch.pipeline.samples import SampleJob, sample_jobs, simulate_key
from mlsearch.scoring import fold_of
from mlsearch.tracking import flatten, log_dataset, mlflow_run

__all__ = ["ALL_MAX_ROWS", "run_features"]

#: the 'all' mass assignment copies each background event once per mass; beyond this many
#: rows (10^6 events at two masses) the Z' default config (10^6 x 10) ran out of 24 GB
ALL_MAX_ROWS = 2_000_000


def _build(task: tuple[str, Path, int, FeaturesConfig]) -> pd.DataFrame:
    """The feature rows of one part of a sample's file (a top-level function: Dask workers
    run it, reading the part themselves)."""
    search, path, part, features = task
    return get_builder(search).build(read_event_part(path, part), features)


def _built_parts(
    config: Config, paths_in: list[Path]
) -> Iterator[tuple[int, int, bool, pd.DataFrame]]:
    """(sample index, part index, whether it is the sample's last part, feature rows) of
    every part of every sample, in order, built on the executor."""
    pool = executor(config.compute.scheduler, config.compute.workers)
    counts = [len(part_sizes(p)) for p in paths_in]
    index = [(i, k) for i, n in enumerate(counts) for k in range(n)]
    tasks = [(config.search, paths_in[i], k, config.features) for i, k in index]
    for (i, k), df in zip(index, pool.imap(_build, tasks), strict=True):
        yield i, k, k == counts[i] - 1, df


class _TableWriter:
    """Appends feature rows to the table file as they come (bounded memory); the schema of
    the first non-empty part holds for all."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None

    def write(self, df: pd.DataFrame) -> None:
        if not len(df):
            return
        if self._writer is None:
            table = pa.Table.from_pandas(df, preserve_index=False)
            self._writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        else:
            table = pa.Table.from_pandas(df, schema=self._writer.schema, preserve_index=False)
        self._writer.write_table(table)
        self.rows += len(df)

    def close(self, metadata: dict[str, Any]) -> None:
        if self._writer is None:
            raise InputError(f"{self.path}: no event passes the selection")
        self._writer.add_key_value_metadata({"mlsearch": json.dumps(metadata)})
        self._writer.close()

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()


def _background_masses(
    config: Config,
    rule: dict[str, Any],
    df: pd.DataFrame,
    name: str,
    signal_frames: dict[float, pd.DataFrame],
    part: int = 0,
    n_before: int = 0,
) -> pd.DataFrame:
    """Part ``part`` of a background sample (``n_before`` selected events before it) with
    its mass hypotheses (strategy of train.mass_assignment; each part its own stream)."""
    grid = config.generate.signal.masses
    strategy = config.train.mass_assignment
    n = n_before + len(df)
    if strategy == "all" and n * len(grid) > ALL_MAX_ROWS:
        raise InputError(
            f"{name}: the 'all' mass assignment would put {n} x {len(grid)} = "
            f"{n * len(grid):,} background rows in the table (limit {ALL_MAX_ROWS:,}: "
            "training and the evaluation run out of memory beyond it); use 'window' or "
            "'random_grid', or fewer background events"
        )
    rng = chunk_rng(config.seed, f"mass/{name}", part)
    return background_mass_hypotheses(
        df, grid, strategy, rng, config.train.mass_probabilities, signal_frames, rule,
        config.limits.window_sigma,
    )  # fmt: skip


def _features_key(config: Config, reco_keys: list[str]) -> str:
    train = config.train
    return stage_key(
        "features", reco_keys, config.features, train.n_folds, train.mass_assignment,
        train.mass_probabilities,
        config.limits.window_sigma if train.mass_assignment == "window" else None,
        config.generate.signal.masses,
    )  # fmt: skip


class _Labeller:
    """Adds process, label, mass hypothesis and fold to each part's rows, in job order
    (signals first: the background's window assignment needs their frames)."""

    def __init__(self, config: Config, jobs: list[SampleJob], rule: dict[str, Any]) -> None:
        self.config, self.jobs, self.rule = config, jobs, rule
        self.selected = [0] * len(jobs)
        self.signal_frames: dict[float, pd.DataFrame] = {}

    def __call__(self, i: int, part: int, df: pd.DataFrame) -> pd.DataFrame:
        config, job = self.config, self.jobs[i]
        grid = config.generate.signal.masses
        df["process"] = job.name
        df["label"] = np.int8(job.is_signal)
        if job.is_signal:
            mass = float(job.mass or 0.0)
            df["mass_hypothesis"] = mass
            previous = self.signal_frames.get(mass)
            self.signal_frames[mass] = df if previous is None else pd.concat([previous, df])
        else:
            if not any(len(f) for f in self.signal_frames.values()):
                raise InputError(
                    f"{Paths.of(config).reco}: no signal event at any mass passes the "
                    f"{config.search} selection (masses {', '.join(f'{m:g}' for m in grid)} "
                    "GeV); nothing to train on"
                )
            df = _background_masses(
                config, self.rule, df, job.name, self.signal_frames, part, self.selected[i]
            )
        # a mass point the selection cannot see (e.g. a Z' too heavy for its muons to reach
        # the CDC) is kept: training skips it, the limits say why
        df["fold"] = fold_of(df["event"].to_numpy(), config.train.n_folds)
        copies = not job.is_signal and config.train.mass_assignment == "all"
        self.selected[i] += len(df) // (len(grid) if copies else 1)
        return df


def _table_metadata(
    config: Config, key: str, jobs: list[SampleJob], metas: list[dict[str, Any]],
    selected: list[int],
) -> FeatureTableMeta:  # fmt: skip
    """What the table's readers need besides its columns (stored in its parquet metadata)."""
    builder = get_builder(config.search)
    grid = config.generate.signal.masses
    samples = {
        job.name: SampleInfo(
            process=job.process, is_signal=job.is_signal, mass=job.mass,
            coupling=job.coupling, n_generated=meta["n_events"], n_selected=n,
            cross_section_fb=meta["cross_section_fb"],
            cross_section_err_fb=meta["cross_section_err_fb"],
        )
        for job, meta, n in zip(jobs, metas, selected, strict=True)
    }  # fmt: skip
    return FeatureTableMeta(
        cache_key=key,
        search=config.search,
        features=builder.feature_names,
        units={f.name: f.unit for f in builder.features},
        search_variable=builder.search_variable,
        search_rule=builder.rule,
        search_unit=builder.search_unit,
        spectators=list(builder.spectators),
        mass_grid=grid,
        samples=samples,
        n_folds=config.train.n_folds,
        mass_assignment=config.train.mass_assignment,
        background_copies=len(grid) if config.train.mass_assignment == "all" else 1,
    )


def _track_features(
    config: Config, key: str, jobs: list[SampleJob], reco_keys: list[str],
    metadata: FeatureTableMeta, n_rows: int,
) -> None:  # fmt: skip
    """The features run: settings, selection efficiency per sample, datasets and schema."""
    paths = Paths.of(config)
    with mlflow_run(config, "features", {"mlsearch.stage": "features"}):
        import mlflow

        mlflow.log_params(flatten(config.features.model_dump(mode="json"), "features."))
        mlflow.log_params(
            {"features": ",".join(metadata.features),
             "mass_assignment": config.train.mass_assignment}
        )  # fmt: skip
        for job, reco_key in zip(jobs, reco_keys, strict=True):
            log_dataset(paths.reco / job.path.name, reco_key, f"{job.name}-reco", "input")
            info = metadata.samples[job.name]
            mlflow.log_metric(f"selection_eff_{job.name}", info.n_selected / info.n_generated)
        log_dataset(paths.features, key, "features", "output", n_rows)
        mlflow.log_dict(
            metadata.model_dump(mode="json", exclude={"samples"}), "features_schema.json"
        )


def run_features(config: Config, reporter: Reporter | None = None) -> StageResult:
    """Build the feature table: features, spectators, mass_hypothesis, label, weight
    (events per fb^-1), fold, event, process."""
    reporter = reporter or NullReporter()
    paths = Paths.of(config)
    builder = get_builder(config.search)
    jobs = sample_jobs(config)
    reco_keys = [simulate_key(j, config) for j in jobs]
    key = _features_key(config, reco_keys)
    if file_key(paths.features) == key:
        reporter.finish("features", "cached")
        return StageResult("features", key, (paths.features,), True)
    reporter.start("features", len(jobs))
    paths_in = [paths.reco / job.path.name for job in jobs]
    metas = [read_metadata(path) for path in paths_in]
    for path, meta, reco_key in zip(paths_in, metas, reco_keys, strict=True):
        if meta.get("cache_key") != reco_key:
            raise InputError(f"{path}: made with other settings; run the simulate stage first")
    label = _Labeller(config, jobs, builder.rule)
    with atomic_path(paths.features) as tmp:
        writer = _TableWriter(tmp)
        try:
            for i, part, last, df in _built_parts(config, paths_in):
                check_finite(df, builder.feature_names, paths_in[i])
                writer.write(label(i, part, df))
                if last:
                    reporter.advance("features", note=jobs[i].name)
            metadata = _table_metadata(config, key, jobs, metas, label.selected)
            writer.close(metadata.model_dump(mode="json"))
        except BaseException:
            writer.abort()
            raise
    _track_features(config, key, jobs, reco_keys, metadata, writer.rows)
    reporter.finish("features", f"{writer.rows} rows")
    return StageResult("features", key, (paths.features,), False, {"rows": writer.rows})
