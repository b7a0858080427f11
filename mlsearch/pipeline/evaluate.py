"""evaluate stage: the per-mass evaluation report from the out-of-fold scores, into MLflow.

Writes results/<search>/evaluation/: report.csv (per model and mass: window, AUC, signal
efficiency at 1 % background, Punzi sensitivity and optimal cut, expected signal and
background, the cut-based baseline, sculpting), auc_per_mass.csv, ks_per_fold.csv (train
versus test score distributions), report.html and the PNG plots it shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlsearch.config import Config
from mlsearch.errors import InputError
from mlsearch.io.atomic import atomic_path, write_text_atomic
from mlsearch.io.feature_table import FeatureTableMeta, read_feature_table
from mlsearch.pipeline.cache import manifest_key, read_manifest, stage_key, write_manifest
from mlsearch.pipeline.oof import BackgroundScores
from mlsearch.pipeline.paths import Paths
from mlsearch.pipeline.progress import NullReporter, Reporter
from mlsearch.pipeline.result import StageResult
from mlsearch.selection.windows import MIN_SIGNAL_EVENTS
from mlsearch.tracking import log_per_mass, mlflow_run

__all__ = ["run_evaluate"]


def _save(fig: Any, path: Path, dpi: int = 100) -> Path:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    plt.close(fig)
    return path


def _oof_scores(config: Config, kind: str) -> tuple[BackgroundScores, np.ndarray]:
    """The train stage's out-of-fold scores of model ``kind``: background by mass, signal at
    its own mass (read once for the report and the figures)."""
    train = Paths.of(config).train
    own = pd.read_parquet(train / f"{kind}_oof_signal.parquet")["score"].to_numpy()
    return BackgroundScores.read(train / f"{kind}_oof_background.parquet"), own


def _model_reports(
    config: Config,
    table: pd.DataFrame,
    meta: FeatureTableMeta,
    kind: str,
    baseline: list[tuple[dict[str, float], np.ndarray]],
    scores: tuple[BackgroundScores, np.ndarray],
    prepared: Any,
) -> tuple[list[dict[str, Any]], dict[float, Any], dict[float, Any], dict[float, Any]]:
    """Per mass: the report rows, ROC and sculpting arrays, and (the window, the baseline
    setting chosen there). ``scores``: the model's out-of-fold scores (:func:`_oof_scores`);
    ``prepared``: the table's evaluation.report.ReportTable, made once for every model."""
    from mlsearch.evaluation.report import mass_report

    bkg, own = scores
    n_bkg = int((table["label"] == 0).sum())
    rows, rocs, sculpts, chosen = [], {}, {}, {}
    selected = table.loc[table["label"] == 1, "mass_hypothesis"].value_counts()
    for m in meta.mass_grid:
        if selected.get(float(m), 0) < MIN_SIGNAL_EVENTS:  # no window (the limits say why)
            continue
        rep = mass_report(
            table,
            meta,
            kind,
            float(m),
            own,
            bkg.at(float(m), n_bkg),
            baseline,
            config.luminosity_fb,
            config.limits.window_sigma,
            prepared,
        )
        rows.append(rep.row)
        rocs[float(m)] = rep.roc
        sculpts[float(m)] = rep.sculpt
        chosen[float(m)] = (rep.window, rep.baseline_setting)
    return rows, rocs, sculpts, chosen


def _leave_one_out(
    config: Config, table: pd.DataFrame, meta: FeatureTableMeta, reporter: Reporter
) -> pd.DataFrame:
    """The leave-one-mass-out comparison at the configured masses, per configured model."""
    from mlsearch.evaluation.lomo import leave_one_mass_out

    rows = []
    for kind in config.evaluate.leave_one_out_models:
        params = getattr(config.models, kind)
        for m in config.leave_one_out_masses:
            res = leave_one_mass_out(
                table,
                meta,
                kind,
                params,
                float(m),
                config.seed,
                config.luminosity_fb,
                config.limits.window_sigma,
            )
            rows.append(
                {
                    "model": kind,
                    "mass": m,
                    "interpolated_punzi_fb": res.interpolated_fb,
                    "dedicated_punzi_fb": res.dedicated_fb,
                    "gap": res.gap,
                }
            )
            reporter.advance("evaluate", note=f"leave-one-out {kind} m = {m:g}")
    return pd.DataFrame(
        rows, columns=["model", "mass", "interpolated_punzi_fb", "dedicated_punzi_fb", "gap"]
    )


#: most masses drawn in one model's ROC, sculpting and score plots (the table has them all)
FIGURE_MASSES = 9


def figure_masses(grid: list[float], n: int = FIGURE_MASSES) -> list[float]:
    """At most ``n`` masses spread evenly over the grid (its ends included).

    >>> figure_masses([1.0, 2.0, 3.0]), figure_masses([float(m) for m in range(1, 61)], 4)
    ([1.0, 2.0, 3.0], [1.0, 21.0, 40.0, 60.0])
    """
    if len(grid) <= n:
        return list(grid)
    return [grid[round(i * (len(grid) - 1) / (n - 1))] for i in range(n)]


def _model_figures(
    config: Config, table: pd.DataFrame, meta: FeatureTableMeta, kind: str,
    rocs: dict[float, Any], sculpts: dict[float, Any], ks: pd.DataFrame, out: Path,
    scores: tuple[BackgroundScores, np.ndarray],
) -> list[Path]:  # fmt: skip
    """One model's plots: ROC and sculpting per mass, train versus test scores, and the
    out-of-fold score distributions at each mass (at most FIGURE_MASSES of the grid's)."""
    from mlsearch.evaluation.plots import (
        roc_curves,
        score_distributions,
        sculpting,
        train_test_scores,
    )

    paths = Paths.of(config)
    shown = [m for m in figure_masses(meta.mass_grid) if m in rocs]
    rocs, sculpts = {m: rocs[m] for m in shown}, {m: sculpts[m] for m in shown}
    sig = table["label"].to_numpy() == 1
    w = table["weight"].to_numpy()
    bkg, own = scores
    sig_mass = table["mass_hypothesis"].to_numpy()[sig]
    mine = [
        _save(roc_curves(rocs, f"{config.search}, {kind}: ROC in the window"),
              out / f"roc_{kind}.png"),
        _save(sculpting(sculpts, meta.search_variable, f"{kind}: background sculpting"),
              out / f"sculpting_{kind}.png", dpi=80),
    ]  # fmt: skip
    tt = paths.train / f"{kind}_train_test_scores.parquet"
    if tt.exists():
        fig = train_test_scores(
            pd.read_parquet(tt), ks[ks["model"] == kind] if len(ks) else ks,
            f"{kind}: trained-on versus unseen events",
        )  # fmt: skip
        mine.append(_save(fig, out / f"train_test_{kind}.png", dpi=80))
    for m in shown:
        sel = sig_mass == m
        b = bkg.at(m, int((~sig).sum()))
        near = np.isfinite(b)  # the background scored near this mass's window
        fig = score_distributions(
            own[sel], w[sig][sel], b[near], w[~sig][near],
            f"{kind}, m = {m:g} GeV (out-of-fold; background near the window)",
        )  # fmt: skip
        mine.append(_save(fig, out / f"scores_{kind}_m{m:g}.png", dpi=80))
    return mine


#: the evaluation report's columns logged versus mass into each model's training run
PER_MASS = (
    "auc_window", "signal_eff_at_bkg_1pct", "punzi_xsec_fb", "gain_vs_baseline",
    "background_mc_lumi_fb",
)  # fmt: skip


def _log_to_runs(
    config: Config, runs: dict[str, str], report: pd.DataFrame, common: list[Path],
    figures: dict[str, list[Path]], out: Path, grid: list[float],
) -> None:  # fmt: skip
    """The report, its tables and plots as artifacts of each model's training run, and its
    per-mass columns (Punzi sensitivity, gain, ...) as curves versus the mass ``grid``
    (:func:`~mlsearch.tracking.runs.log_per_mass`)."""
    names = ("report.csv", "report.html", "auc_per_mass.csv", "ks_per_fold.csv",
             "leave_one_out.csv", "cut_flow.csv")  # fmt: skip
    for kind, run_id in runs.items():
        with mlflow_run(config, "", run_id=run_id):
            import mlflow

            for name in [n for n in names if (out / n).exists()]:
                mlflow.log_artifact(str(out / name), "evaluation")
            for path in [*common, *figures[kind]]:
                mlflow.log_artifact(str(path), "evaluation")
            rows = report[report["model"] == kind].to_dict("records")
            log_per_mass(rows, PER_MASS, grid, "evaluation")


def _punzi_plot(config: Config, report: pd.DataFrame, out: Path) -> Path:
    from mlsearch.evaluation.plots import punzi_vs_mass

    curves = {
        str(k): (g["mass"].to_numpy(), g["punzi_xsec_fb"].to_numpy())
        for k, g in report.groupby("model")
    }
    first = report[report["model"] == report["model"].iloc[0]]
    curves[f"baseline ({config.evaluate.baseline})"] = (
        first["mass"].to_numpy(), first["baseline_punzi_xsec_fb"].to_numpy(),
    )  # fmt: skip
    title = f"{config.search}, {config.luminosity_fb:g} fb$^{{-1}}$"
    return _save(punzi_vs_mass(curves, title), out / "punzi_vs_mass.png")


def _cut_flow(
    config: Config, table: pd.DataFrame, meta: FeatureTableMeta, chosen: dict[float, Any],
    out: Path,
) -> str:  # fmt: skip
    """With the published baseline: its cut flow at each mass (``chosen``: the report's window
    and baseline setting there) into cut_flow.csv; returns the report's HTML section."""
    from mlsearch.evaluation.cut_flow import cut_flow, cut_flow_html
    from mlsearch.selection.published import published_selection

    (out / "cut_flow.csv").unlink(missing_ok=True)
    if config.evaluate.baseline != "published" or not chosen:
        return ""
    selection = published_selection(config.search)
    points = {m: (window, s[selection.tuned.name]) for m, (window, s) in chosen.items()}
    flow = cut_flow(table, meta, selection, points, config.luminosity_fb)
    write_text_atomic(out / "cut_flow.csv", flow.to_csv(index=False, float_format="%.6g"))
    return cut_flow_html(selection, flow)


def _summary_tables(train: dict[str, Any], out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """AUC per model and mass, KS per model and fold (written to ``out``)."""
    auc = pd.DataFrame([{"model": k, **r} for k, recs in train["auc"].items() for r in recs])
    write_text_atomic(out / "auc_per_mass.csv", auc.to_csv(index=False, float_format="%.6f"))
    ks = pd.DataFrame([{"model": k, **r} for k, recs in train.get("ks", {}).items() for r in recs])
    write_text_atomic(out / "ks_per_fold.csv", ks.to_csv(index=False, float_format="%.6g"))
    return auc, ks


def run_evaluate(config: Config, reporter: Reporter | None = None) -> StageResult:
    """Write the evaluation report and attach it to the training runs."""
    from mlsearch.evaluation.baselines import baseline_masks
    from mlsearch.evaluation.html import write_report_html
    from mlsearch.evaluation.plots import auc_vs_mass

    reporter = reporter or NullReporter()
    paths = Paths.of(config)
    out = paths.results / "evaluation"
    train_key = manifest_key(paths.train, "train")
    if not train_key:
        raise InputError(f"{paths.train}: no trained models (run the train stage)")
    key = stage_key(
        "evaluate", train_key, config.luminosity_fb, config.limits.window_sigma,
        config.evaluate, config.models, config.seed,
    )  # fmt: skip
    if manifest_key(out, "evaluate") == key:
        reporter.finish("evaluate", "cached")
        return StageResult("evaluate", key, (out / "report.csv",), True)
    train = read_manifest(paths.train, "train")
    table, meta = read_feature_table(paths.features)
    n_lomo = len(config.evaluate.leave_one_out_models) * len(config.leave_one_out_masses)
    reporter.start("evaluate", len(train["runs"]) + 1 + n_lomo)
    auc, ks = _summary_tables(train, out)
    baseline = baseline_masks(config.search, table, config.evaluate.baseline)
    curves = {str(k): (g["mass"].to_numpy(), g["auc"].to_numpy()) for k, g in auc.groupby("model")}
    common = [
        _save(auc_vs_mass(curves, f"{config.search}: per-mass AUC (in the window)"),
              out / "auc_vs_mass.png")
    ]  # fmt: skip
    reporter.advance("evaluate")
    figures: dict[str, list[Path]] = {}
    report_rows: list[dict[str, Any]] = []
    chosen: dict[float, Any] = {}  # the baseline's, the same for every model
    from mlsearch.evaluation.report import ReportTable

    prepared = ReportTable.of(table, meta)
    for kind in train["runs"]:
        scores = _oof_scores(config, kind)
        rows, rocs, sculpts, chosen = _model_reports(
            config, table, meta, kind, baseline, scores, prepared
        )
        report_rows += rows
        figures[kind] = _model_figures(config, table, meta, kind, rocs, sculpts, ks, out, scores)
        reporter.advance("evaluate", note=kind)
    report = pd.DataFrame(report_rows)
    write_text_atomic(out / "report.csv", report.to_csv(index=False, float_format="%.6g"))
    common.append(_punzi_plot(config, report, out))
    lomo = _leave_one_out(config, table, meta, reporter)
    write_text_atomic(out / "leave_one_out.csv", lomo.to_csv(index=False, float_format="%.6g"))
    baseline_html = _cut_flow(config, table, meta, chosen, out)
    write_report_html(
        out / "report.html", config.search, config.luminosity_fb, config.limits.window_sigma,
        report, ks, lomo, common, figures, baseline_html,
    )  # fmt: skip
    _log_to_runs(config, train["runs"], report, common, figures, out, meta.mass_grid)
    write_manifest(out, "evaluate", key)
    beats = {str(k): int((g["gain_vs_baseline"] > 1).sum()) for k, g in report.groupby("model")}
    n = len(meta.mass_grid)
    reporter.finish(
        "evaluate",
        ", ".join(f"{k} beats the baseline at {v}/{n} masses" for k, v in beats.items()),
    )
    return StageResult("evaluate", key, (out / "report.csv", out / "report.html"), False)
