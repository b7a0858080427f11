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
from mlsearch.features.spec import search_values
from mlsearch.folds import fold_of
from mlsearch.io.atomic import atomic_path
from mlsearch.io.events import part_sizes, read_event_part, read_metadata
from mlsearch.models.mass_assignment import assign_background_masses, expand_all_masses
from mlsearch.physics.seeds import chunk_rng
from mlsearch.pipeline.cache import file_key, stage_key
from mlsearch.pipeline.generate import sample_jobs
from mlsearch.pipeline.paths import Paths
from mlsearch.pipeline.progress import NullReporter, Reporter
from mlsearch.pipeline.result import StageResult
from mlsearch.selection.windows import signal_window
from mlsearch.tracking import flatten, log_dataset, mlflow_run

__all__ = ["ALL_MAX_ROWS", "check_finite", "read_feature_table", "run_features"]

#: the 'all' mass assignment copies each background event once per mass; beyond this many
#: rows (10^6 events at two masses) the Z' default config (10^6 x 10) ran out of 24 GB
ALL_MAX_ROWS = 2_000_000


def read_feature_table(path: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The feature table and its metadata (features, samples with cross sections, ...)."""
    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise InputError(f"{path}: feature table not found (run the features stage)") from None
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"{path}: not a readable feature table ({exc})") from exc
    # (the metadata is the file's key-value metadata: written last, with the sample counts)
    raw = (pq.read_metadata(path).metadata or {}).get(b"mlsearch", b"{}")
    return table.to_pandas(), json.loads(raw)


def check_finite(df: pd.DataFrame, features: list[str], path: Any) -> None:
    """A NaN or infinite feature is an error naming the file, the columns and the count: the
    classifiers have no rule for it, and a silent fill would bias the scores."""
    values = df[features].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        cols = [f"{f} ({int(n)} rows)" for f, n in zip(features, bad.sum(axis=0), strict=True) if n]
        raise InputError(f"{path}: non-finite feature values: {', '.join(cols)}")


MIN_WINDOW_EVENTS = 10  # selected signal events that measure a window


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
    if strategy == "all":
        n = n_before + len(df)
        if n * len(grid) > ALL_MAX_ROWS:
            raise InputError(
                f"{name}: the 'all' mass assignment would put {n} x {len(grid)} = "
                f"{n * len(grid):,} background rows in the table (limit {ALL_MAX_ROWS:,}: "
                "training and the evaluation run out of memory beyond it); use 'window' or "
                "'random_grid', or fewer background events"
            )
        return expand_all_masses(df, grid)
    rng = chunk_rng(config.seed, f"mass/{name}", part)
    inside = None
    if strategy == "window":
        inside = np.zeros((len(df), len(grid)), dtype=bool)
        for j, m in enumerate(grid):
            sig = signal_frames[float(m)]
            if len(sig) < MIN_WINDOW_EVENTS:  # no window to measure: no background assigned
                continue
            window = signal_window(search_values(sig, rule, m), config.limits.window_sigma)
            inside[:, j] = window.contains(search_values(df, rule, m))
    df["mass_hypothesis"] = assign_background_masses(
        len(df), grid, strategy, rng, config.train.mass_probabilities, inside
    )
    return df


def run_features(config: Config, reporter: Reporter | None = None) -> StageResult:
    """Build the feature table: features, spectators, mass_hypothesis, label, weight
    (events per fb^-1), fold, event, process."""
    reporter = reporter or NullReporter()
    paths = Paths.of(config)
    builder = get_builder(config.search)
    jobs = sample_jobs(config)
    reco_keys = [stage_key("simulate", j.key, config.simulate) for j in jobs]
    key = stage_key(
        "features",
        reco_keys,
        config.features,
        config.train.n_folds,
        config.train.mass_assignment,
        config.train.mass_probabilities,
        config.limits.window_sigma if config.train.mass_assignment == "window" else None,
        config.generate.signal.masses,
    )
    if file_key(paths.features) == key:
        reporter.finish("features", "cached")
        return StageResult("features", key, (paths.features,), True)
    reporter.start("features", len(jobs))
    grid = config.generate.signal.masses
    copies = config.train.mass_assignment == "all"
    paths_in = [paths.reco / job.path.name for job in jobs]
    metas = [read_metadata(path) for path in paths_in]
    for path, meta, reco_key in zip(paths_in, metas, reco_keys, strict=True):
        if meta.get("cache_key") != reco_key:
            raise InputError(f"{path}: made with other settings; run the simulate stage first")
    selected = [0] * len(jobs)
    signal_frames: dict[float, pd.DataFrame] = {}  # signals come first in the job list
    with atomic_path(paths.features) as tmp:
        writer = _TableWriter(tmp)
        try:
            for i, part, last, df in _built_parts(config, paths_in):
                job = jobs[i]
                check_finite(df, builder.feature_names, paths_in[i])
                df["process"] = job.name
                df["label"] = np.int8(job.is_signal)
                if job.is_signal:
                    mass = float(job.mass or 0.0)
                    df["mass_hypothesis"] = mass
                    previous = signal_frames.get(mass)
                    signal_frames[mass] = df if previous is None else pd.concat([previous, df])
                else:
                    if not any(len(f) for f in signal_frames.values()):
                        raise InputError(
                            f"{paths.reco}: no signal event at any mass passes the "
                            f"{config.search} selection (masses "
                            f"{', '.join(f'{m:g}' for m in grid)} GeV); nothing to train on"
                        )
                    df = _background_masses(
                        config, builder.rule, df, job.name, signal_frames, part, selected[i]
                    )  # fmt: skip
                # a mass point the selection cannot see (e.g. a Z' too heavy for its muons
                # to reach the CDC) is kept: training skips it, the limits say why
                df["fold"] = fold_of(df["event"].to_numpy(), config.train.n_folds)
                writer.write(df)
                selected[i] += len(df) // (len(grid) if not job.is_signal and copies else 1)
                if last:
                    reporter.advance("features", note=job.name)
            samples = {
                job.name: {
                    "process": job.process,
                    "is_signal": job.is_signal,
                    "mass": job.mass,
                    "coupling": job.coupling,
                    "n_generated": meta["n_events"],
                    "n_selected": n,
                    "cross_section_fb": meta["cross_section_fb"],
                    "cross_section_err_fb": meta["cross_section_err_fb"],
                }
                for job, meta, n in zip(jobs, metas, selected, strict=True)
            }
            metadata = {
                "cache_key": key,
                "search": config.search,
                "features": builder.feature_names,
                "units": {f.name: f.unit for f in builder.features},
                "search_variable": builder.search_variable,
                "search_rule": builder.rule,
                "search_unit": builder.search_unit,
                "spectators": list(builder.spectators),
                "mass_grid": grid,
                "samples": samples,
                "n_folds": config.train.n_folds,
                "mass_assignment": config.train.mass_assignment,
                # every background event is in the table this many times (weights divided)
                "background_copies": len(grid) if copies else 1,
            }
            writer.close(metadata)
        except BaseException:
            writer.abort()
            raise
    n_rows = writer.rows
    with mlflow_run(config, "features", {"mlsearch.stage": "features"}):
        import mlflow

        mlflow.log_params(flatten(config.features.model_dump(mode="json"), "features."))
        mlflow.log_params(
            {
                "features": ",".join(builder.feature_names),
                "mass_assignment": config.train.mass_assignment,
            }
        )
        for job, reco_key in zip(jobs, reco_keys, strict=True):
            log_dataset(paths.reco / job.path.name, reco_key, f"{job.name}-reco", "input")
            info = samples[job.name]
            mlflow.log_metric(f"selection_eff_{job.name}", info["n_selected"] / info["n_generated"])
        log_dataset(paths.features, key, "features", "output", n_rows)
        mlflow.log_dict(
            {k: v for k, v in metadata.items() if k != "samples"}, "features_schema.json"
        )
    reporter.finish("features", f"{n_rows} rows")
    return StageResult("features", key, (paths.features,), False, {"rows": n_rows})
