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
from mlsearch.export.contract import check_contract
from mlsearch.export.graph import average_models, set_metadata
from mlsearch.export.parity import ParityError, max_abs_difference, onnx_session, parity_masses
from mlsearch.export.variants import basf2_model, fold_aware_model
from mlsearch.io.atomic import atomic_path, write_json_atomic
from mlsearch.models import make_model
from mlsearch.models.base import stack_inputs
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


def onnx_model_path(config: Config, kind: str, fold: int | None = None, variant: str = "") -> Path:
    """models/<search>/<kind>.onnx (fold average), <kind>_fold<i>.onnx, <kind>_basf2.onnx or
    <kind>_foldaware.onnx."""
    name = kind if fold is None else f"{kind}_fold{fold}"
    if variant:
        name = f"{kind}_{variant}"
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


def _export_kind(
    config: Config,
    kind: str,
    natives: list[Any],
    sample: Any,
    masses: list[float],
    meta: dict[str, Any],
    run_id: str,
) -> dict[str, float]:
    """Write the fold, fold-average, fold-aware and basf2 ONNX files of one model type after
    checking each against the native model; returns max |ONNX - native| per file."""
    features: list[str] = meta["features"]
    grid: list[float] = meta["mass_grid"]
    x = sample[features].to_numpy()
    event = sample["event"].to_numpy().astype(np.int64)
    k = len(natives)
    folds = [m.to_onnx(len(features)) for m in natives]

    def copies() -> list[onnx.ModelProto]:
        return [onnx.ModelProto.FromString(p.SerializeToString()) for p in folds]

    ensemble = average_models(copies())
    aware = fold_aware_model(copies())
    basf2 = basf2_model(ensemble)
    diffs = {}
    for i, (proto, model) in enumerate(zip(folds, natives, strict=True)):
        diffs[f"fold{i}"] = max(
            max_abs_difference(model.score, onnx_session(proto), x, masses).values()
        )
    diffs["average"] = max(
        max_abs_difference(_fold_mean(natives), onnx_session(ensemble), x, masses).values()
    )
    aware_session, basf2_session = onnx_session(aware), onnx_session(basf2)
    for m in masses:
        mass = np.full(len(x), m)
        own = np.choose(event % k, [n.score(x, mass) for n in natives])
        got = aware_session.run(["score"], {"input": stack_inputs(x, mass), "event": event})[0]  # type: ignore[attr-defined]
        diffs["fold_aware"] = max(
            diffs.get("fold_aware", 0.0), float(np.max(np.abs(got.reshape(-1) - own)))
        )
        prob = basf2_session.run(["probabilities"], {"input": stack_inputs(x, mass)})[0]  # type: ignore[attr-defined]
        mean = _fold_mean(natives)(x, mass)
        diffs["basf2"] = max(diffs.get("basf2", 0.0), float(np.max(np.abs(prob[:, 1] - mean))))
    worst = max(diffs.values())
    if worst > PARITY_TOLERANCE:
        raise ParityError(
            f"{kind}: ONNX differs from native by {worst:.2e} "
            f"(> {PARITY_TOLERANCE:g}) at masses {masses}"
        )
    base = {
        "mlsearch.search": config.search,
        "mlsearch.model": kind,
        "mlsearch.features": features,
        "mlsearch.units": [meta["units"][f] for f in features],
        "mlsearch.mass_column": "mass_hypothesis (last input column, GeV)",
        "mlsearch.mass_grid": grid,
        "mlsearch.mass_range": [min(grid), max(grid)],
        "mlsearch.mass_assignment": meta["mass_assignment"],
        "mlsearch.n_folds": k,
        "mlsearch.config_hash": config_hash(config),
        "mlsearch.mlflow_run_id": run_id,
        "mlsearch.git_commit": git_commit(),
        "mlsearch.version": __version__,
        "mlsearch.parity_max_abs_diff": worst,
        "mlsearch.parity_masses": masses,
    }
    rule = f"event % {k} == fold"
    files: list[tuple[onnx.ModelProto, Path, dict[str, Any]]] = [
        (
            proto,
            onnx_model_path(config, kind, i),
            {"mlsearch.fold": i, "mlsearch.fold_rule": f"scores events with event % {k} == {i}"},
        )
        for i, proto in enumerate(folds)
    ]
    files += [
        (ensemble, onnx_model_path(config, kind), {"mlsearch.fold": "average"}),
        (
            basf2,
            onnx_model_path(config, kind, variant="basf2"),
            {"mlsearch.fold": "average", "mlsearch.output": "probabilities (N, 2): [bkg, signal]"},
        ),
        (
            aware,
            onnx_model_path(config, kind, variant="foldaware"),
            {
                "mlsearch.fold": "aware",
                "mlsearch.fold_rule": rule,
                "mlsearch.inputs": "input (N, n_features + 1) float32, event (N,) int64",
            },
        ),
    ]
    for proto, _, extra in files:
        opset = {o.domain or "ai.onnx": o.version for o in proto.opset_import}
        set_metadata(proto, {**base, **extra, "mlsearch.opset": opset})
    for proto, basf2_mode in ((ensemble, False), (basf2, True)):
        problems = check_contract(proto, basf2=basf2_mode)
        if problems:
            raise ParityError(f"{kind}: exported model breaks the contract: {'; '.join(problems)}")
    for proto, path, _ in files:
        with atomic_path(path) as tmp:
            onnx.save(proto, tmp)
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
    masses = parity_masses(meta["mass_grid"])
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
