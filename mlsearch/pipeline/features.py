"""features stage: reconstructed files -> one flat feature table per search."""

from __future__ import annotations

import json
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
from mlsearch.generate.sample import chunk_rng
from mlsearch.io.atomic import atomic_path
from mlsearch.io.events import read_events, read_metadata
from mlsearch.limits.windows import signal_window
from mlsearch.models.folds import fold_of
from mlsearch.models.mass_assignment import assign_background_masses, expand_all_masses
from mlsearch.pipeline.cache import file_key, stage_key
from mlsearch.pipeline.generate import sample_jobs
from mlsearch.pipeline.paths import Paths
from mlsearch.pipeline.progress import NullReporter, Reporter
from mlsearch.pipeline.result import StageResult
from mlsearch.tracking import flatten, log_dataset, mlflow_run

__all__ = ["ALL_MAX_ROWS", "read_feature_table", "run_features"]

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
    meta = json.loads((table.schema.metadata or {}).get(b"mlsearch", b"{}"))
    return table.to_pandas(), meta


def _check_finite(df: pd.DataFrame, features: list[str], path: Any) -> None:
    """A NaN or infinite feature is an error naming the file, the columns and the count: the
    classifiers have no rule for it, and a silent fill would bias the scores."""
    values = df[features].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        cols = [f"{f} ({int(n)} rows)" for f, n in zip(features, bad.sum(axis=0), strict=True) if n]
        raise InputError(f"{path}: non-finite feature values: {', '.join(cols)}")


MIN_WINDOW_EVENTS = 10  # selected signal events that measure a window


def _build(task: tuple[str, Path, FeaturesConfig]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One sample's feature rows and its file metadata (a top-level function: Dask workers
    run it, reading the file themselves)."""
    search, path, features = task
    events, meta = read_events(path)
    return get_builder(search).build(events, features), meta


def _background_masses(
    config: Config,
    rule: dict[str, Any],
    df: pd.DataFrame,
    name: str,
    signal_frames: dict[float, pd.DataFrame],
) -> pd.DataFrame:
    """The background sample with its mass hypotheses (strategy of train.mass_assignment)."""
    grid = config.generate.signal.masses
    strategy = config.train.mass_assignment
    if strategy == "all":
        if len(df) * len(grid) > ALL_MAX_ROWS:
            raise InputError(
                f"{name}: the 'all' mass assignment would put {len(df)} x {len(grid)} = "
                f"{len(df) * len(grid):,} background rows in the table (limit {ALL_MAX_ROWS:,}: "
                "training and the evaluation run out of memory beyond it); use 'window' or "
                "'random_grid', or fewer background events"
            )
        return expand_all_masses(df, grid)
    rng = chunk_rng(config.seed, f"mass/{name}", 0)
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
    frames = []
    samples: dict[str, Any] = {}
    grid = config.generate.signal.masses
    signal_frames: dict[float, pd.DataFrame] = {}  # signals come first in the job list
    copies = config.train.mass_assignment == "all"
    paths_in = [paths.reco / job.path.name for job in jobs]
    for path, reco_key in zip(paths_in, reco_keys, strict=True):
        if read_metadata(path).get("cache_key") != reco_key:
            raise InputError(f"{path}: made with other settings; run the simulate stage first")
    pool = executor(config.compute.scheduler, config.compute.workers)
    built = pool.imap(_build, [(config.search, p, config.features) for p in paths_in])
    for job, path, (df, meta) in zip(jobs, paths_in, built, strict=True):
        _check_finite(df, builder.feature_names, path)
        # a mass point the selection cannot see (e.g. a Z' too heavy for its muons to reach
        # the CDC) is kept: training skips it and the limits report "no limit" with the reason
        df["process"] = job.name
        df["label"] = np.int8(job.is_signal)
        if job.is_signal:
            df["mass_hypothesis"] = float(job.mass or 0.0)
            signal_frames[float(job.mass or 0.0)] = df
        else:
            df = _background_masses(config, builder.rule, df, job.name, signal_frames)
        df["fold"] = fold_of(df["event"].to_numpy(), config.train.n_folds)
        frames.append(df)
        samples[job.name] = {
            "process": job.process,
            "is_signal": job.is_signal,
            "mass": job.mass,
            "coupling": job.coupling,
            "n_generated": meta["n_events"],
            "n_selected": int(len(df) / (len(grid) if not job.is_signal and copies else 1)),
            "cross_section_fb": meta["cross_section_fb"],
            "cross_section_err_fb": meta["cross_section_err_fb"],
        }
        reporter.advance("features", note=job.name)
    if all(len(df) == 0 for df in signal_frames.values()):
        raise InputError(
            f"{paths.reco}: no signal event at any mass passes the {config.search} selection "
            f"(masses {', '.join(f'{m:g}' for m in grid)} GeV); nothing to train on"
        )
    table = pd.concat(frames, ignore_index=True)
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
        # every background event is in the table this many times (weights divided by it)
        "background_copies": len(grid) if copies else 1,
    }
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    arrow = arrow.replace_schema_metadata(
        {**(arrow.schema.metadata or {}), b"mlsearch": json.dumps(metadata).encode()}
    )
    with atomic_path(paths.features) as tmp:
        pq.write_table(arrow, tmp, compression="zstd")
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
        log_dataset(paths.features, key, "features", "output", len(table))
        mlflow.log_dict(
            {k: v for k, v in metadata.items() if k != "samples"}, "features_schema.json"
        )
    reporter.finish("features", f"{len(table)} rows")
    return StageResult("features", key, (paths.features,), False, {"rows": len(table)})
