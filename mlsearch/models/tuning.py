"""Optuna hyperparameter search (``mlsearch train --optuna N``).

Each trial trains the model on the events outside fold 0 and scores fold 0 (events it never
saw); the objective is the mean over the mass grid of the weighted ROC AUC of the signal at
that mass against the background at its assigned hypotheses. The TPE sampler is seeded from
the config's seed, so the same config runs the same trials. The best parameters then train
the k folds as usual.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from mlsearch.errors import ConfigError
from mlsearch.models import make_model

__all__ = ["suggest", "tune"]


def suggest(kind: str, trial: Any) -> dict[str, Any]:
    """The search space of each model (updates of its config section)."""
    if kind == "pbdt":
        return {
            "max_depth": trial.suggest_int("max_depth", 3, 8),
            "learning_rate": trial.suggest_float("learning_rate", 0.03, 0.3, log=True),
            "n_estimators": trial.suggest_int("n_estimators", 100, 400, step=50),
        }
    if kind == "pnn":
        width = trial.suggest_categorical("width", [32, 64, 128])
        depth = trial.suggest_int("depth", 2, 4)
        return {
            "hidden": [width] * depth,
            "learning_rate": trial.suggest_float("learning_rate", 5e-4, 5e-3, log=True),
            "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-3, log=True),
        }
    raise ConfigError(f"no search space for model {kind!r}")


def _objective_auc(
    table: pd.DataFrame, features: list[str], weights: np.ndarray, score: np.ndarray
) -> float:
    label = table["label"].to_numpy()
    mass = table["mass_hypothesis"].to_numpy()
    aucs = []
    for m in np.unique(mass[label == 1]):
        sel = mass == m
        if len(np.unique(label[sel])) == 2:
            aucs.append(roc_auc_score(label[sel], score[sel], sample_weight=weights[sel]))
    return float(np.mean(aucs)) if aucs else 0.5


def tune(
    kind: str,
    params: Any,
    table: pd.DataFrame,
    features: list[str],
    weights: np.ndarray,
    n_trials: int,
    seed: int,
) -> tuple[Any, list[float], dict[str, Any]]:
    """(best params section, objective per trial, best trial's raw parameters)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    fold = table["fold"].to_numpy()
    train, test = fold != 0, fold == 0
    x = table[features].to_numpy()
    mass = table["mass_hypothesis"].to_numpy()
    label = table["label"].to_numpy()

    def objective(trial: optuna.Trial) -> float:
        candidate = params.model_copy(update=suggest(kind, trial))
        model = make_model(kind, candidate, seed)
        model.fit(x[train], mass[train], label[train], weights[train])
        score = model.score(x[test], mass[test])
        return _objective_auc(table[test], features, weights[test], score)

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=n_trials)
    best = params.model_copy(update=suggest(kind, optuna.trial.FixedTrial(study.best_params)))
    values = [float(t.value) if t.value is not None else float("nan") for t in study.trials]
    return best, values, dict(study.best_params)
