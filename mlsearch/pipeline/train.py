"""train stage: k-fold training of each enabled model, out-of-fold scores, MLflow runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlsearch.config import Config
from mlsearch.evaluation.metrics import per_mass_auc
from mlsearch.io.atomic import atomic_path
from mlsearch.models import make_model
from mlsearch.models.punzi_loss import punzi_target
from mlsearch.models.weights import training_weights
from mlsearch.pipeline.cache import file_key, manifest_key, stage_key, write_manifest
from mlsearch.pipeline.features import read_feature_table
from mlsearch.pipeline.paths import Paths
from mlsearch.pipeline.progress import NullReporter, Reporter
from mlsearch.pipeline.result import StageResult
from mlsearch.tracking import flatten, log_dataset, mlflow_run

__all__ = ["enabled_models", "native_model_path", "run_train"]


def enabled_models(config: Config) -> list[str]:
    """Model types switched on in the config, in a fixed order."""
    return [k for k in ("pbdt", "pnn") if getattr(config.models, k).enabled]


def native_model_path(train_dir: Path, kind: str, fold: int) -> Path:
    """Where fold ``fold`` of model ``kind`` is saved (native format, trusted local use)."""
    return train_dir / f"{kind}_fold{fold}.{'json' if kind == 'pbdt' else 'pt'}"


def _oof_scores(
    models: list[Any], table: pd.DataFrame, features: list[str], grid: list[float]
) -> tuple[np.ndarray, dict[float, np.ndarray]]:
    """Signal scored at its own mass and background at every grid mass, each event by the
    model of its fold (which never saw it)."""
    x = table[features].to_numpy()
    fold = table["fold"].to_numpy()
    sig = table["label"].to_numpy() == 1
    own = np.zeros(len(table), dtype=np.float32)
    per_mass = {m: np.zeros(int((~sig).sum()), dtype=np.float32) for m in grid}
    for i, model in enumerate(models):
        rows = fold == i
        s = rows & sig
        own[s] = model.score(x[s], table["mass_hypothesis"].to_numpy()[s])
        b = rows & ~sig
        for m in grid:
            per_mass[m][b[~sig]] = model.score(x[b], np.full(int(b.sum()), m))
    return own, per_mass


def _train_test_ks(
    model: Any, table: pd.DataFrame, features: list[str], fold: np.ndarray, i: int
) -> tuple[dict[str, float], pd.DataFrame]:
    """Kolmogorov-Smirnov distance (and p-value) between the scores of the events fold ``i``'s
    model trained on and those it did not see, for signal and background separately, at each
    event's own mass hypothesis (up to 20k events per sample, chosen by event number, so the
    test does not depend on the run). Large distances with tiny p-values mean overtraining.
    Also returns the scores (fold, sample, set, score) for the evaluation's plots."""
    from scipy.stats import ks_2samp

    out: dict[str, float] = {"fold": float(i)}
    frames = []
    label = table["label"].to_numpy()
    for name, cls in (("signal", 1), ("background", 0)):
        scores = []
        for part, rows in (
            ("train", (fold != i) & (label == cls)),
            ("test", (fold == i) & (label == cls)),
        ):
            idx = np.flatnonzero(rows)
            if len(idx) > 20_000:
                idx = idx[np.argsort(table["event"].to_numpy()[idx] * 2654435761 % 2**32)][:20_000]
            sub = table.iloc[idx]
            score = (
                model.score(sub[features].to_numpy(), sub["mass_hypothesis"].to_numpy())
                if len(idx)
                else np.zeros(0, dtype=np.float32)
            )
            scores.append(score)
            frames.append(pd.DataFrame({"fold": i, "sample": name, "set": part, "score": score}))
        if len(scores[0]) and len(scores[1]):
            res = ks_2samp(scores[0], scores[1])
            out[f"ks_{name}"] = float(res.statistic)
            out[f"ks_{name}_pvalue"] = float(res.pvalue)
    return out, pd.concat(frames, ignore_index=True)


def _cluster_client(config: Config) -> Any:
    """The dask.distributed Client of ``compute.scheduler`` (the pBDT trains on its
    workers with xgboost.dask), or None to train in this process."""
    from mlsearch.compute import executor

    return getattr(executor(config.compute.scheduler, config.compute.workers), "client", None)


def run_train(config: Config, reporter: Reporter | None = None) -> StageResult:
    """Train every enabled model on k folds; log params, losses and per-mass AUC to MLflow."""
    reporter = reporter or NullReporter()
    paths = Paths.of(config)
    kinds = enabled_models(config)
    features_key = file_key(paths.features) or ""
    punzi = (
        (config.luminosity_fb, config.limits.window_sigma)
        if config.models.pnn.punzi_epochs
        else None
    )
    client = _cluster_client(config) if "pbdt" in kinds else None
    # the pBDT of n > 1 workers differs slightly from the single-process one: its own key
    cluster = [("xgboost.dask", len(client.nthreads()))] if client is not None else []
    key = stage_key("train", features_key, config.train, config.models, punzi, *cluster)
    outputs = tuple(
        native_model_path(paths.train, k, i) for k in kinds for i in range(config.train.n_folds)
    )
    if manifest_key(paths.train, "train") == key and all(p.exists() for p in outputs):
        reporter.finish("train", "cached")
        return StageResult("train", key, outputs, True)
    table, meta = read_feature_table(paths.features)
    features: list[str] = meta["features"]
    grid: list[float] = meta["mass_grid"]
    n_folds = config.train.n_folds
    weights = training_weights(table)
    fold = table["fold"].to_numpy()
    sig = table["label"].to_numpy() == 1
    reporter.start("train", len(kinds) * (n_folds + (1 if config.train.optuna_trials else 0)))
    runs: dict[str, str] = {}
    aucs: dict[str, list[dict[str, float]]] = {}
    ks: dict[str, list[dict[str, float]]] = {}
    paths.train.mkdir(parents=True, exist_ok=True)
    tuned: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        params = getattr(config.models, kind)
        with mlflow_run(
            config, f"train-{kind}", {"mlsearch.stage": "train", "mlsearch.model": kind}
        ) as run:
            import mlflow

            mlflow.log_params(flatten(config.model_dump(mode="json")))
            if config.train.optuna_trials:
                from mlsearch.models.tuning import tune

                reporter.advance("train", note=f"{kind}: {config.train.optuna_trials} trials")
                params, values, best = tune(
                    kind, params, table, features, weights, config.train.optuna_trials, config.seed
                )
                for step, v in enumerate(values):
                    mlflow.log_metric("optuna_trial_auc", v, step=step)
                mlflow.log_metric("optuna_best_auc", max(values))
                mlflow.log_params({f"optuna.best.{k}": v for k, v in best.items()})
                tuned[kind] = {"best": best, "trial_auc": values}
            mlflow.log_params({"features": ",".join(features), "n_features": len(features)})
            log_dataset(paths.features, features_key, "features", "training", len(table))
            mlflow.log_dict(
                {
                    "features": [{"name": f, "unit": meta["units"][f]} for f in features],
                    "mass_column": "mass_hypothesis [GeV], last input",
                    "mass_grid": grid,
                    "search_variable": meta["search_variable"],
                },
                "features.json",
            )
            models = []
            train_test: list[pd.DataFrame] = []
            for i in range(n_folds):
                rows = fold != i
                model = make_model(kind, params, config.seed + i, client)
                target = (
                    punzi_target(
                        table.loc[rows], meta, config.luminosity_fb, config.limits.window_sigma
                    )
                    if kind == "pnn" and config.models.pnn.punzi_epochs
                    else None
                )
                model.fit(
                    table.loc[rows, features].to_numpy(),
                    table.loc[rows, "mass_hypothesis"].to_numpy(),
                    table.loc[rows, "label"].to_numpy(),
                    weights[rows],
                    punzi=target,
                )
                with atomic_path(native_model_path(paths.train, kind, i)) as tmp:
                    model.save(tmp)
                ks_row, ks_scores = _train_test_ks(model, table, features, fold, i)
                ks.setdefault(kind, []).append(ks_row)
                train_test.append(ks_scores)
                mlflow.log_metrics(
                    {f"fold{i}_{k}": v for k, v in ks[kind][-1].items() if k != "fold"}
                )
                for name, values in model.history.items():
                    for step, v in enumerate(values):
                        mlflow.log_metric(f"fold{i}_{name}", v, step=step)
                models.append(model)
                reporter.advance("train", note=f"{kind} fold {i}")
            own, per_mass = _oof_scores(models, table, features, grid)
            auc = per_mass_auc(
                table["mass_hypothesis"].to_numpy()[sig],
                own[sig],
                table["weight"].to_numpy()[sig],
                per_mass,
                table["weight"].to_numpy()[~sig],
            )
            mlflow.log_metrics(
                {f"auc_m{m:g}": float(a) for m, a in zip(auc["mass"], auc["auc"], strict=True)}
            )
            mlflow.log_metric("auc_mean", float(auc["auc"].mean()))
            scores = pd.DataFrame({f"score_m{m:g}": s for m, s in per_mass.items()})
            with atomic_path(paths.train / f"{kind}_oof_background.parquet") as tmp:
                scores.to_parquet(tmp)
            with atomic_path(paths.train / f"{kind}_train_test_scores.parquet") as tmp:
                pd.concat(train_test, ignore_index=True).to_parquet(tmp)
            with atomic_path(paths.train / f"{kind}_oof_signal.parquet") as tmp:
                pd.DataFrame({"score": own[sig]}).to_parquet(tmp)
            runs[kind] = run.info.run_id
            aucs[kind] = [
                {"mass": float(m), "auc": float(a)}
                for m, a in zip(auc["mass"], auc["auc"], strict=True)
            ]
    write_manifest(
        paths.train,
        "train",
        key,
        runs=runs,
        features_key=features_key,
        auc=aucs,
        ks=ks,
        tuned=tuned,
        features=features,
        mass_grid=grid,
        n_folds=n_folds,
    )
    reporter.finish(
        "train",
        ", ".join(f"{k} mean AUC {np.mean([r['auc'] for r in v]):.3f}" for k, v in aucs.items()),
    )
    return StageResult("train", key, outputs, False, {"runs": runs, "auc": aucs})
