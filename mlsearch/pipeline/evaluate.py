"""evaluate stage: per-mass AUC table and plots from the out-of-fold scores, into MLflow."""

from __future__ import annotations

import pandas as pd

from mlsearch.config import Config
from mlsearch.errors import InputError
from mlsearch.io.atomic import atomic_path, write_text_atomic
from mlsearch.pipeline.cache import manifest_key, read_manifest, stage_key, write_manifest
from mlsearch.pipeline.features import read_feature_table
from mlsearch.pipeline.paths import Paths
from mlsearch.pipeline.progress import NullReporter, Reporter
from mlsearch.pipeline.result import StageResult
from mlsearch.tracking import mlflow_run

__all__ = ["run_evaluate"]


def run_evaluate(config: Config, reporter: Reporter | None = None) -> StageResult:
    """Write results/<search>/evaluation/{auc_per_mass.csv, auc_vs_mass.png,
    scores_<model>_m<mass>.png} and attach them to the training runs."""
    import matplotlib.pyplot as plt

    from mlsearch.evaluation.plots import auc_vs_mass, score_distributions

    reporter = reporter or NullReporter()
    paths = Paths.of(config)
    out = paths.results / "evaluation"
    train_key = manifest_key(paths.train, "train")
    if not train_key:
        raise InputError(f"{paths.train}: no trained models (run the train stage)")
    key = stage_key("evaluate", train_key)
    if manifest_key(out, "evaluate") == key:
        reporter.finish("evaluate", "cached")
        return StageResult("evaluate", key, (out / "auc_per_mass.csv",), True)
    train = read_manifest(paths.train, "train")
    table, meta = read_feature_table(paths.features)
    sig = table["label"].to_numpy() == 1
    rows = [{"model": kind, **r} for kind, recs in train["auc"].items() for r in recs]
    auc = pd.DataFrame(rows)
    write_text_atomic(out / "auc_per_mass.csv", auc.to_csv(index=False, float_format="%.6f"))
    reporter.start("evaluate", len(train["runs"]) + 1)
    fig = auc_vs_mass(
        {str(k): (g["mass"].to_numpy(), g["auc"].to_numpy()) for k, g in auc.groupby("model")},
        f"{config.search}: per-mass AUC",
    )
    with atomic_path(out / "auc_vs_mass.png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    reporter.advance("evaluate")
    for kind, run_id in train["runs"].items():
        bkg = pd.read_parquet(paths.train / f"{kind}_oof_background.parquet")
        own = pd.read_parquet(paths.train / f"{kind}_oof_signal.parquet")["score"].to_numpy()
        figures = []
        sig_mass = table["mass_hypothesis"].to_numpy()[sig]
        for m in meta["mass_grid"]:
            sel = sig_mass == m
            fig = score_distributions(
                own[sel],
                table["weight"].to_numpy()[sig][sel],
                bkg[f"score_m{m:g}"].to_numpy(),
                table["weight"].to_numpy()[~sig],
                f"{kind}, m = {m:g} GeV (out-of-fold)",
            )
            path = out / f"scores_{kind}_m{m:g}.png"
            with atomic_path(path) as tmp:
                fig.savefig(tmp, dpi=90, format="png")
            plt.close(fig)
            figures.append(path)
        with mlflow_run(config, "", run_id=run_id):
            import mlflow

            mlflow.log_artifact(str(out / "auc_per_mass.csv"), "evaluation")
            mlflow.log_artifact(str(out / "auc_vs_mass.png"), "evaluation")
            for path in figures:
                mlflow.log_artifact(str(path), "evaluation")
        reporter.advance("evaluate", note=kind)
    write_manifest(out, "evaluate", key)
    reporter.finish(
        "evaluate",
        f"mean AUC {', '.join(f'{k} {g.auc.mean():.3f}' for k, g in auc.groupby('model'))}",
    )
    return StageResult("evaluate", key, (out / "auc_per_mass.csv",), False)
