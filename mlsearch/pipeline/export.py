"""export stage: ONNX per fold and fold-averaged, with metadata and a parity check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from mlsearch import __version__
from mlsearch.config import Config, config_hash
from mlsearch.export.bundle import (
    PARITY_TOLERANCE,
    OnnxBundle,
    bundle_parity,
    onnx_file_name,
    write_bundle,
)
from mlsearch.export.parity import parity_masses
from mlsearch.io.atomic import write_json_atomic
from mlsearch.io.feature_table import FeatureTableMeta, read_feature_table
from mlsearch.models import make_model
from mlsearch.pipeline.cache import manifest_key, read_manifest, stage_key, write_manifest
from mlsearch.pipeline.paths import Paths
from mlsearch.pipeline.progress import NullReporter, Reporter
from mlsearch.pipeline.result import StageResult
from mlsearch.pipeline.train import enabled_models, native_model_path
from mlsearch.tracking import (
    git_commit,
    mlflow_run,
    register_onnx,
    registered_model_name,
    tracking_uri,
)

__all__ = ["PARITY_TOLERANCE", "onnx_model_path", "run_export"]

PARITY_ROWS = 2000


def onnx_model_path(config: Config, kind: str, fold: int | None = None, variant: str = "") -> Path:
    """models/<search>/ + export.bundle.onnx_file_name."""
    return Paths.of(config).models / onnx_file_name(kind, fold, variant)


def _register(
    config: Config,
    train: dict[str, Any],
    parity: dict[str, dict[str, float]],
    masses: list[float],
    meta: FeatureTableMeta,
) -> dict[str, dict[str, Any]]:
    """Attach the ONNX files and the parity report to each training run and register the
    fold-averaged model as a new version (ONNX flavour), linked to what made it."""
    uri = tracking_uri(config)
    paths = Paths.of(config)
    out = {}
    for kind, diffs in parity.items():
        run_id = train.get("runs", {}).get(kind)
        if not run_id:
            continue
        name = registered_model_name(config.search, kind)
        with mlflow_run(config, "", run_id=run_id):
            import mlflow

            mlflow.log_metric("onnx_parity_max_abs_diff", max(diffs.values()))
            for i in range(config.train.n_folds):
                mlflow.log_artifact(str(onnx_model_path(config, kind, i)), "onnx")
            mlflow.log_artifact(str(onnx_model_path(config, kind)), "onnx")
            mlflow.log_artifact(str(paths.models / "parity.json"), "onnx")
            tags = {
                "mlsearch.model": kind,
                "mlsearch.search": config.search,
                "mlsearch.parity_max_abs_diff": f"{max(diffs.values()):.3e}",
                "mlsearch.parity_report": f"runs:/{run_id}/onnx/parity.json",
                "mlsearch.parity_masses": json.dumps(masses),
                "mlsearch.mass_grid": json.dumps(meta.mass_grid),
                "mlsearch.mass_assignment": meta.mass_assignment,
                "mlsearch.features": json.dumps(meta.features),
                "mlsearch.n_folds": str(config.train.n_folds),
                "mlsearch.dataset_digest": str(train.get("features_key", "")),
                "mlsearch.fold_models": f"runs:/{run_id}/onnx",
            }
            n_inputs = len(meta.features) + 1
            version = register_onnx(uri, name, onnx_model_path(config, kind), n_inputs, tags)
        out[kind] = {"name": name, "version": version, "run_id": run_id}
    return out


def _export_kind(
    config: Config, kind: str, natives: list[Any], sample: Any, masses: list[float],
    meta: FeatureTableMeta, run_id: str,
) -> dict[str, float]:  # fmt: skip
    """Write the ONNX files of one model type after checking each against the native model
    (export.bundle); returns max |ONNX - native| per file."""
    features: list[str] = meta.features
    grid: list[float] = meta.mass_grid
    bundle = OnnxBundle.of([m.to_onnx(len(features)) for m in natives])
    x = sample[features].to_numpy()
    event = sample["event"].to_numpy().astype(np.int64)
    diffs = bundle_parity(bundle, [m.score for m in natives], x, event, masses)
    metadata = {
        "mlsearch.search": config.search,
        "mlsearch.model": kind,
        "mlsearch.features": features,
        "mlsearch.units": [meta.units[f] for f in features],
        "mlsearch.mass_column": "mass_hypothesis (last input column, GeV)",
        "mlsearch.mass_grid": grid,
        "mlsearch.mass_range": [min(grid), max(grid)],
        "mlsearch.mass_assignment": meta.mass_assignment,
        "mlsearch.n_folds": len(natives),
        "mlsearch.config_hash": config_hash(config),
        "mlsearch.mlflow_run_id": run_id,
        "mlsearch.git_commit": git_commit(),
        "mlsearch.version": __version__,
    }
    write_bundle(bundle, kind, Paths.of(config).models, diffs, masses, metadata)
    return diffs


def run_export(config: Config, reporter: Reporter | None = None) -> StageResult:
    """Export every trained model to ONNX; fail if ONNX and native differ by > 1e-5."""
    reporter = reporter or NullReporter()
    paths = Paths.of(config)
    train = read_manifest(paths.train, "train")
    train_key = manifest_key(paths.train, "train")
    key = stage_key("export", train_key)
    kinds = enabled_models(config)
    n_folds = config.train.n_folds
    outputs = tuple(
        path
        for k in kinds
        for path in (
            onnx_model_path(config, k),
            *(onnx_model_path(config, k, f) for f in range(n_folds)),
            onnx_model_path(config, k, variant="basf2"),
            onnx_model_path(config, k, variant="foldaware"),
        )
    )
    if manifest_key(paths.models, "export") == key and all(p.exists() for p in outputs):
        reporter.finish("export", "cached")
        return StageResult("export", key, outputs, True)
    if not train_key:
        from mlsearch.errors import InputError

        raise InputError(f"{paths.train}: no trained models (run the train stage)")
    table, meta = read_feature_table(paths.features)
    rng = np.random.default_rng(config.seed)
    sample = table.iloc[rng.choice(len(table), min(PARITY_ROWS, len(table)), replace=False)]
    masses = parity_masses(meta.mass_grid)
    reporter.start("export", len(kinds) * (n_folds + 1))
    parity: dict[str, dict[str, float]] = {}
    for kind in kinds:
        natives = []
        for i in range(n_folds):
            model = make_model(kind, getattr(config.models, kind), config.seed)
            model.load(native_model_path(paths.train, kind, i))
            natives.append(model)
            reporter.advance("export", note=f"{kind} fold {i}")
        run_id = train.get("runs", {}).get(kind, "")
        parity[kind] = _export_kind(config, kind, natives, sample, masses, meta, run_id)
        reporter.advance("export", note=f"{kind} average")
    write_json_atomic(
        paths.models / "parity.json",
        {"tolerance": PARITY_TOLERANCE, "masses": masses, "max_abs_diff": parity},
    )
    versions = _register(config, train, parity, masses, meta)
    write_manifest(paths.models, "export", key, parity=parity, registered=versions)
    reporter.finish(
        "export", ", ".join(f"{k} parity {max(v.values()):.1e}" for k, v in parity.items())
    )
    return StageResult("export", key, outputs, False, {"parity": parity})
