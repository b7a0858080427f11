"""train stage: k-fold training of each enabled model, out-of-fold scores, MLflow runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlsearch.config import Config
from mlsearch.evaluation.metrics import per_mass_auc
from mlsearch.evaluation.overtraining import train_test_ks
from mlsearch.io.atomic import atomic_path
from mlsearch.io.feature_table import FeatureTableMeta, read_feature_table
from mlsearch.models import make_model
from mlsearch.models.punzi_loss import punzi_target
from mlsearch.models.weights import training_weights
from mlsearch.pipeline.cache import file_key, manifest_key, stage_key, write_manifest
from mlsearch.pipeline.oof import BackgroundScores, scoring_rows
from mlsearch.pipeline.paths import Paths
from mlsearch.pipeline.progress import NullReporter, Reporter
from mlsearch.pipeline.result import StageResult
from mlsearch.scoring import score_by_fold
from mlsearch.selection.windows import search_values
from mlsearch.tracking import flatten, log_dataset, log_per_mass, mlflow_run, nested_run

__all__ = ["enabled_models", "native_model_path", "run_train"]


def enabled_models(config: Config) -> list[str]:
    """Model types switched on in the config, in a fixed order."""
    return [k for k in ("pbdt", "pnn") if getattr(config.models, k).enabled]


def native_model_path(train_dir: Path, kind: str, fold: int) -> Path:
    """Where fold ``fold`` of model ``kind`` is saved (native format, trusted local use)."""
    return train_dir / f"{kind}_fold{fold}.{'json' if kind == 'pbdt' else 'pt'}"


def _oof_scores(
    models: list[Any], table: pd.DataFrame, meta: FeatureTableMeta, window_sigma: float
) -> tuple[np.ndarray, BackgroundScores, pd.DataFrame]:
    """Signal scored at its own mass and background at each grid mass where it lies in the
    window's neighbourhood (pipeline/oof.py), each event by the model of its fold (which
    never saw it); and the per-mass AUC in the window."""
    features = list(meta.features)
    x = table[features].to_numpy()
    fold = table["fold"].to_numpy()
    sig = table["label"].to_numpy() == 1
    scorers = [model.score for model in models]
    own = np.zeros(len(table), dtype=np.float32)
    signal_mass = table["mass_hypothesis"].to_numpy()
    own[sig] = score_by_fold(scorers, x[sig], signal_mass[sig], fold[sig], np.float32)
    xb, fold_b, wb = x[~sig], fold[~sig], table["weight"].to_numpy()[~sig]
    w = table["weight"].to_numpy()
    background = table[~sig]  # split once: a copy per mass cost more than the scoring
    rule = meta.search_rule
    per_mass, auc_inputs = {}, {}
    for m in meta.mass_grid:
        at_mass = np.flatnonzero(sig & (signal_mass == m))
        s_values = search_values(table.iloc[at_mass], rule, m)
        b_values = search_values(background, rule, m)
        rows, window = scoring_rows(s_values, b_values, window_sigma)
        idx = np.flatnonzero(rows)
        scores = score_by_fold(scorers, xb[idx], np.full(len(idx), m), fold_b[idx], np.float32)
        per_mass[m] = (idx, scores)
        if window is not None:
            s_in = at_mass[window.contains(s_values)]
            b_in = window.contains(b_values[idx])
            auc_inputs[m] = (own[s_in], w[s_in], scores[b_in], wb[idx][b_in])
    return own, BackgroundScores.of(per_mass), per_mass_auc(auc_inputs)


def _cluster_client(config: Config) -> Any:
    """The dask.distributed Client of ``compute.scheduler`` (the pBDT trains on its
    workers with xgboost.dask), or None to train in this process (no scheduler, or
    ``compute.train_on_cluster`` false)."""
    from mlsearch.compute import executor

    if not config.compute.train_on_cluster:
        return None
    return getattr(executor(config.compute.scheduler, config.compute.workers), "client", None)


@dataclass
class _Training:
    """What every model type's training shares: the table, its metadata and the weights."""

    config: Config
    table: pd.DataFrame
    meta: FeatureTableMeta
    weights: np.ndarray
    client: Any
    reporter: Reporter

    @property
    def features(self) -> list[str]:
        return list(self.meta.features)


def _tune(job: _Training, kind: str, params: Any) -> tuple[Any, dict[str, Any]]:
    """Optuna's best parameters for ``kind`` (logged to the open run) and what it found."""
    import mlflow

    from mlsearch.models.tuning import tune

    trials = job.config.train.optuna_trials
    job.reporter.advance("train", note=f"{kind}: {trials} trials")
    params, values, best = tune(
        kind, params, job.table, job.features, job.weights, trials, job.config.seed
    )
    for step, v in enumerate(values):
        mlflow.log_metric("optuna_trial_auc", v, step=step)
    mlflow.log_metric("optuna_best_auc", max(values))
    mlflow.log_params({f"optuna.best.{k}": v for k, v in best.items()})
    return params, {"best": best, "trial_auc": values}


def _fit_fold(job: _Training, kind: str, params: Any, i: int) -> Any:
    """Fold ``i``'s model, trained on the other folds and saved (native format)."""
    config, table, features = job.config, job.table, job.features
    rows = table["fold"].to_numpy() != i
    model = make_model(kind, params, config.seed + i, job.client)
    target = (
        punzi_target(table.loc[rows], job.meta, config.luminosity_fb, config.limits.window_sigma)
        if kind == "pnn" and config.models.pnn.punzi_epochs
        else None
    )
    model.fit(
        table.loc[rows, features].to_numpy(),
        table.loc[rows, "mass_hypothesis"].to_numpy(),
        table.loc[rows, "label"].to_numpy(),
        job.weights[rows],
        punzi=target,
    )
    with atomic_path(native_model_path(Paths.of(config).train, kind, i)) as tmp:
        model.save(tmp)
    return model


def _log_features(job: _Training, features_key: str) -> None:
    import mlflow

    features, meta = job.features, job.meta
    mlflow.log_params({"features": ",".join(features), "n_features": len(features)})
    log_dataset(Paths.of(job.config).features, features_key, "features", "training", len(job.table))
    mlflow.log_dict(
        {
            "features": [{"name": f, "unit": meta.units[f]} for f in features],
            "mass_column": "mass_hypothesis [GeV], last input",
            "mass_grid": meta.mass_grid,
            "search_variable": meta.search_variable,
        },
        "features.json",
    )


def _write_scores(
    train_dir: Path, kind: str, own: np.ndarray, per_mass: BackgroundScores,
    train_test: list[pd.DataFrame],
) -> None:  # fmt: skip
    """The out-of-fold scores (signal at its mass, background by mass: pipeline/oof.py) and
    the train/test scores of the overtraining check, for the evaluate stage."""
    per_mass.write(train_dir / f"{kind}_oof_background.parquet")
    with atomic_path(train_dir / f"{kind}_train_test_scores.parquet") as tmp:
        pd.concat(train_test, ignore_index=True).to_parquet(tmp)
    with atomic_path(train_dir / f"{kind}_oof_signal.parquet") as tmp:
        pd.DataFrame({"score": own}).to_parquet(tmp)


def _train_kind(job: _Training, kind: str, features_key: str) -> dict[str, Any]:
    """k-fold training of one model type in its MLflow run; returns the run id, the per-mass
    AUC, the overtraining KS rows and Optuna's result."""
    config, table = job.config, job.table
    params = getattr(config.models, kind)
    out: dict[str, Any] = {"ks": [], "tuned": None}
    tags = {"mlsearch.stage": "train", "mlsearch.model": kind}
    with mlflow_run(config, f"train-{kind}", tags) as run:
        import mlflow

        mlflow.log_params(flatten(config.model_dump(mode="json")))
        if config.train.optuna_trials:
            params, out["tuned"] = _tune(job, kind, params)
        _log_features(job, features_key)
        models, train_test = [], []
        fold = table["fold"].to_numpy()
        for i in range(config.train.n_folds):
            # each fold its own run under the training run: its losses and overtraining test
            fold_tags = {"mlsearch.stage": "fold", "mlsearch.model": kind, "mlsearch.fold": str(i)}
            with nested_run(f"fold{i}", fold_tags):
                model = _fit_fold(job, kind, params, i)
                ks_row, ks_scores = train_test_ks(model, table, job.features, fold, i)
                mlflow.log_metrics({k: v for k, v in ks_row.items() if k != "fold"})
                for name, values in model.history.items():
                    for step, v in enumerate(values):
                        mlflow.log_metric(name, v, step=step)
            out["ks"].append(ks_row)
            train_test.append(ks_scores)
            models.append(model)
            job.reporter.advance("train", note=f"{kind} fold {i}")
        grid = job.meta.mass_grid
        own, per_mass, auc = _oof_scores(models, table, job.meta, config.limits.window_sigma)
        sig = table["label"].to_numpy() == 1
        auc = auc.dropna()
        pairs = list(zip(auc["mass"], auc["auc"], strict=True))
        mlflow.log_metric("auc_mean", float(auc["auc"].mean()))
        # one curve versus mass (step = mass in MeV): the chart view overlays two runs
        log_per_mass([{"mass": float(m), "auc": float(a)} for m, a in pairs], ["auc"], grid, "auc")
        _write_scores(Paths.of(config).train, kind, own[sig], per_mass, train_test)
        out["run_id"] = run.info.run_id
        out["auc"] = [{"mass": float(m), "auc": float(a)} for m, a in pairs]
    return out


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
    # the window width decides which background rows are scored at each mass (pipeline/oof.py)
    key = stage_key(
        "train", features_key, config.train, config.models, punzi, config.limits.window_sigma,
        *cluster,
    )  # fmt: skip
    n_folds = config.train.n_folds
    outputs = tuple(native_model_path(paths.train, k, i) for k in kinds for i in range(n_folds))
    if manifest_key(paths.train, "train") == key and all(p.exists() for p in outputs):
        reporter.finish("train", "cached")
        return StageResult("train", key, outputs, True)
    table, meta = read_feature_table(paths.features)
    reporter.start("train", len(kinds) * (n_folds + (1 if config.train.optuna_trials else 0)))
    paths.train.mkdir(parents=True, exist_ok=True)
    job = _Training(config, table, meta, training_weights(table), client, reporter)
    done = {kind: _train_kind(job, kind, features_key) for kind in kinds}
    runs = {k: v["run_id"] for k, v in done.items()}
    aucs = {k: v["auc"] for k, v in done.items()}
    write_manifest(
        paths.train, "train", key, runs=runs, features_key=features_key, auc=aucs,
        ks={k: v["ks"] for k, v in done.items()},
        tuned={k: v["tuned"] for k, v in done.items() if v["tuned"]},
        features=meta.features, mass_grid=meta.mass_grid, n_folds=n_folds,
    )  # fmt: skip
    reporter.finish(
        "train",
        ", ".join(f"{k} mean AUC {np.mean([r['auc'] for r in v]):.3f}" for k, v in aucs.items()),
    )
    return StageResult("train", key, outputs, False, {"runs": runs, "auc": aucs})
