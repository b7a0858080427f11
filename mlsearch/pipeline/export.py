"""export stage: ONNX per fold and fold-averaged, with metadata and a parity check."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from mlsearch import __version__
from mlsearch.config import Config, config_hash
from mlsearch.export.graph import average_models, set_metadata
from mlsearch.export.parity import ParityError, max_abs_difference, onnx_session, parity_masses
from mlsearch.io.atomic import atomic_path, write_json_atomic
from mlsearch.models import make_model
from mlsearch.pipeline.cache import manifest_key, read_manifest, stage_key, write_manifest
from mlsearch.pipeline.features import read_feature_table
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

PARITY_TOLERANCE = 1e-5
PARITY_ROWS = 2000


def onnx_model_path(config: Config, kind: str, fold: int | None = None) -> Path:
    """models/<search>/<kind>.onnx (fold average) or <kind>_fold<i>.onnx."""
    name = kind if fold is None else f"{kind}_fold{fold}"
    return Paths.of(config).models / f"{name}.onnx"


def _fold_mean(models: list[Any]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Native counterpart of the fold-averaged ONNX graph."""

    def score(features: np.ndarray, mass: np.ndarray) -> np.ndarray:
        return np.mean([m.score(features, mass) for m in models], axis=0)

    return score


def _register(
    config: Config,
    train: dict[str, Any],
    parity: dict[str, dict[str, float]],
    masses: list[float],
    meta: dict[str, Any],
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
                "mlsearch.mass_grid": json.dumps(meta["mass_grid"]),
                "mlsearch.mass_assignment": meta["mass_assignment"],
                "mlsearch.features": json.dumps(meta["features"]),
                "mlsearch.n_folds": str(config.train.n_folds),
                "mlsearch.dataset_digest": str(train.get("features_key", "")),
                "mlsearch.fold_models": f"runs:/{run_id}/onnx",
            }
            n_inputs = len(meta["features"]) + 1
            version = register_onnx(uri, name, onnx_model_path(config, kind), n_inputs, tags)
        out[kind] = {"name": name, "version": version, "run_id": run_id}
    return out


def run_export(config: Config, reporter: Reporter | None = None) -> StageResult:
    """Export every trained model to ONNX; fail if ONNX and native differ by > 1e-5."""
    reporter = reporter or NullReporter()
    paths = Paths.of(config)
    train = read_manifest(paths.train, "train")
    train_key = manifest_key(paths.train, "train")
    key = stage_key("export", train_key)
    kinds = enabled_models(config)
    n_folds = config.train.n_folds
    outputs = tuple(onnx_model_path(config, k, f) for k in kinds for f in [None, *range(n_folds)])
    if manifest_key(paths.models, "export") == key and all(p.exists() for p in outputs):
        reporter.finish("export", "cached")
        return StageResult("export", key, outputs, True)
    if not train_key:
        from mlsearch.errors import InputError

        raise InputError(f"{paths.train}: no trained models (run the train stage)")
    table, meta = read_feature_table(paths.features)
    features: list[str] = meta["features"]
    grid: list[float] = meta["mass_grid"]
    rng = np.random.default_rng(config.seed)
    sample = table.iloc[rng.choice(len(table), min(PARITY_ROWS, len(table)), replace=False)]
    x = sample[features].to_numpy()
    masses = parity_masses(grid)
    reporter.start("export", len(kinds) * (n_folds + 1))
    parity: dict[str, dict[str, float]] = {}
    for kind in kinds:
        fold_protos = []
        natives = []
        for i in range(n_folds):
            model = make_model(kind, getattr(config.models, kind), config.seed)
            model.load(native_model_path(paths.train, kind, i))
            natives.append(model)
            fold_protos.append(model.to_onnx(len(features)))
            reporter.advance("export", note=f"{kind} fold {i}")
        ensemble = average_models(
            [onnx.ModelProto.FromString(p.SerializeToString()) for p in fold_protos]
        )
        diffs = {}
        for i, (proto, model) in enumerate(zip(fold_protos, natives, strict=True)):
            d = max_abs_difference(model.score, onnx_session(proto), x, masses)
            diffs[f"fold{i}"] = max(d.values())

        diffs["average"] = max(
            max_abs_difference(_fold_mean(natives), onnx_session(ensemble), x, masses).values()
        )
        worst = max(diffs.values())
        if worst > PARITY_TOLERANCE:
            raise ParityError(
                f"{kind}: ONNX differs from native by {worst:.2e} "
                f"(> {PARITY_TOLERANCE:g}) at masses {masses}"
            )
        parity[kind] = diffs
        base = {
            "mlsearch.search": config.search,
            "mlsearch.model": kind,
            "mlsearch.features": features,
            "mlsearch.units": [meta["units"][f] for f in features],
            "mlsearch.mass_column": "mass_hypothesis (last input column, GeV)",
            "mlsearch.mass_grid": grid,
            "mlsearch.mass_range": [min(grid), max(grid)],
            "mlsearch.mass_assignment": meta["mass_assignment"],
            "mlsearch.n_folds": n_folds,
            "mlsearch.config_hash": config_hash(config),
            "mlsearch.mlflow_run_id": train.get("runs", {}).get(kind, ""),
            "mlsearch.git_commit": git_commit(),
            "mlsearch.version": __version__,
            "mlsearch.parity_max_abs_diff": worst,
            "mlsearch.parity_masses": masses,
        }
        for i, proto in enumerate(fold_protos):
            set_metadata(
                proto,
                {
                    **base,
                    "mlsearch.fold": i,
                    "mlsearch.fold_rule": f"scores events with event % {n_folds} == {i}",
                },
            )
            with atomic_path(onnx_model_path(config, kind, i)) as tmp:
                onnx.save(proto, tmp)
        set_metadata(ensemble, {**base, "mlsearch.fold": "average"})
        with atomic_path(onnx_model_path(config, kind)) as tmp:
            onnx.save(ensemble, tmp)
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
