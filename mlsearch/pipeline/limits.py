"""limits stage: ONNX scores in each signal window -> pyhf CLs limits -> coupling limits.

Reads only the feature table and the exported ONNX files (per fold: every event is scored by
the fold model that did not train on it), never the Python model objects.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlsearch.config import Config
from mlsearch.errors import InputError
from mlsearch.export.parity import onnx_session
from mlsearch.features.spec import search_values
from mlsearch.generate.sample import chunk_rng
from mlsearch.io.atomic import write_json_atomic, write_text_atomic
from mlsearch.limits.asymptotic import BinnedModel, cls_limits
from mlsearch.limits.outputs import (
    BANDS,
    projections,
    write_limit_plots,
    write_projection_plot,
)
from mlsearch.limits.punzi import best_punzi_cut, one_event_floor
from mlsearch.limits.scan import LimitBands, upper_limit
from mlsearch.limits.windows import signal_window
from mlsearch.limits.workspace import build_workspace
from mlsearch.models.base import stack_inputs
from mlsearch.pipeline.cache import (
    file_key,
    manifest_key,
    read_manifest,
    stage_key,
    write_manifest,
)
from mlsearch.pipeline.export import onnx_model_path
from mlsearch.pipeline.features import read_feature_table
from mlsearch.pipeline.paths import Paths
from mlsearch.pipeline.progress import NullReporter, Reporter
from mlsearch.pipeline.result import StageResult
from mlsearch.tracking import flatten, mlflow_run, resolve_model_uri, tracking_uri
from mlsearch.tracking.registry import download_run_artifacts

__all__ = ["run_limits"]

LOW_BACKGROUND_EVENTS = 5.0  # expected background in the window below which a row is flagged


def _fold_scores(sessions: list[Any], x: np.ndarray, fold: np.ndarray, mass: float) -> np.ndarray:
    out = np.empty(len(x), dtype=np.float64)
    for i, session in enumerate(sessions):
        rows = fold == i
        if rows.any():
            inp = stack_inputs(x[rows], np.full(int(rows.sum()), mass))
            out[rows] = session.run(["score"], {"input": inp})[0].reshape(-1)
    return out


def _bin_counts(
    score: np.ndarray, weight: np.ndarray, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    idx = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, len(edges) - 2)
    n = len(edges) - 1
    return (
        np.bincount(idx, weights=weight, minlength=n),
        np.sqrt(np.bincount(idx, weights=weight**2, minlength=n)),
    )


def _mass_limit(
    config: Config,
    table: pd.DataFrame,
    meta: dict[str, Any],
    sessions: list[Any],
    sample: str,
    info: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], float]:
    cfg = config.limits
    lumi = config.luminosity_fb
    features = meta["features"]
    mass = float(info["mass"])
    rule = meta.get("search_rule") or {"column": meta["search_variable"]}
    sig = table[table["process"] == sample]
    bkg = table[table["label"] == 0]
    if len(sig) < 10:
        raise InputError(
            f"{sample}: {len(sig)} selected signal events, too few for a window; raise n_events"
        )
    window = signal_window(search_values(sig, rule, mass), cfg.window_sigma)
    sig = sig[window.contains(search_values(sig, rule, mass))]
    bkg = bkg[window.contains(search_values(bkg, rule, mass))]
    s_score = _fold_scores(sessions, sig[features].to_numpy(), sig["fold"].to_numpy(), mass)
    b_score = _fold_scores(sessions, bkg[features].to_numpy(), bkg["fold"].to_numpy(), mass)
    # bins with equal expected signal: every bin carries signal information
    inner = (
        np.quantile(s_score, np.linspace(0, 1, cfg.n_score_bins + 1)[1:-1]) if len(s_score) else []
    )
    edges = np.unique(np.concatenate([[0.0], inner, [1.0 + 1e-9]]))
    s_counts, _ = _bin_counts(s_score, sig["weight"].to_numpy() * lumi, edges)
    b_counts, b_stat = _bin_counts(b_score, bkg["weight"].to_numpy() * lumi, edges)
    # An empty background bin is not a background-free bin: floor it at the mean weight of
    # one background MC event in the window (or anywhere), with 100 % uncertainty.
    w_bkg = bkg["weight"].to_numpy()
    if not (w_bkg > 0).any():
        w_bkg = table.loc[table["label"] == 0, "weight"].to_numpy()
    # (with the "all" mass assignment every event is in the table once per hypothesis, its
    # weight divided by their number: one MC event weighs that many rows)
    floor = one_event_floor(w_bkg * lumi, meta.get("background_copies", 1))
    empty = b_counts <= 0
    b_counts = np.where(empty, floor, b_counts)
    b_stat = np.where(empty, floor, b_stat)
    # relative MC uncertainties below 1e-3 put huge constraint terms into the likelihood and
    # stall the minimiser; 1e-3 is negligible next to the normalisation uncertainty
    b_stat = np.maximum(b_stat, 1e-3 * b_counts)
    s_total = float(s_counts.sum())
    if s_total <= 0:
        raise InputError(f"{sample}: no signal events in the window; raise n_events")
    rng = chunk_rng(config.seed, f"pseudo-data/{sample}", 0)
    pseudo = rng.poisson(b_counts).astype(float)
    # Scale the signal so that mu ~ 1 near the limit (keeps the fit well conditioned): the
    # best single-bin estimate bounds the combined limit from above.
    s_frac = s_counts / s_total
    # per-bin background spread: Poisson, MC statistics and the normalisation uncertainty
    spread = np.sqrt(b_counts + b_stat**2 + (cfg.background_norm_uncertainty * b_counts) ** 2)
    with np.errstate(divide="ignore"):
        rough = float(np.min((1.64 * spread + 2.3) / np.where(s_frac > 0, s_frac, 0)))
    rough /= s_total
    spec = build_workspace(
        s_counts * rough, b_counts, b_stat, cfg.background_norm_uncertainty, pseudo
    )
    n_sig_ref = s_total  # selected signal events at the reference coupling
    sigma_ref = float(info["cross_section_fb"])  # sigma x B(invisible) at g_ref [fb]
    eff = n_sig_ref / (sigma_ref * lumi)
    g_ref = float(info["coupling"])
    punzi, *_ = best_punzi_cut(
        s_score,
        sig["weight"].to_numpy() * lumi,
        b_score,
        bkg["weight"].to_numpy() * lumi,
        eff,
        lumi,
        floor,
    )
    row: dict[str, Any] = {
        "mass": mass,
        "window_low": window.low,
        "window_high": window.high,
        "window_sigma": window.sigma,
        "signal_efficiency": eff,
        "n_signal_ref": n_sig_ref,
        "n_background": float(b_counts.sum()),
        "coupling_ref": g_ref,
        "punzi_xsec_fb": punzi,
        "cross_section_ref_fb": sigma_ref,
        "calculator": f"asymptotic ({cfg.calculator})",
        # asymptotic formulae assume enough events; below a few expected background events
        # in the window they are unreliable (toys would be needed): flagged, not hidden
        "low_background": bool(b_counts.sum() < LOW_BACKGROUND_EVENTS),
    }
    return row, spec, rough


def _add_limits(row: dict[str, Any], bands: LimitBands, scale: float, lumi: float) -> None:
    """mu (in units of ``scale`` x the reference signal) -> signal events, sigma x B [fb] and
    the coupling: every signal here has sigma ~ coupling^2 at fixed mass (g', g_emu,
    g_a_gamma_gamma, epsilon), and the branching fractions do not depend on it (for the ALP
    the selection efficiency is the one at the reference coupling: prompt decays)."""
    n_ref, eff, g_ref = row["n_signal_ref"], row["signal_efficiency"], row["coupling_ref"]

    def convert(mu: float) -> tuple[float, float, float]:
        events = mu * scale * n_ref
        return events, events / (eff * lumi), g_ref * math.sqrt(events / n_ref)

    for quantity, idx in (("events", 0), ("xsec_fb", 1), ("coupling", 2)):
        for name, mu in zip(BANDS, bands.expected, strict=True):
            row[f"expected_{quantity}_{name}"] = convert(mu)[idx]
        row[f"observed_{quantity}"] = convert(bands.observed)[idx]


def _scan(job: tuple[dict[str, Any], float, int, str]) -> LimitBands:
    """One mass point's limits (a top-level function, so that worker processes can run it):
    the direct asymptotic solve (default) or pyhf's hypothesis-test scan."""
    spec, cl, points, calculator = job
    if calculator == "pyhf-scan":
        return upper_limit(spec, cl, mu_max=2.0, points=points)
    observed, expected = cls_limits(BinnedModel.from_workspace(spec), cl, mu_max=2.0)
    return LimitBands(observed, expected)


def _scan_all(
    jobs: list[tuple[dict[str, Any], float, int, str]], reporter: Reporter, notes: list[str]
) -> list[LimitBands]:
    """The CLs scans of all masses, on up to two worker processes (the scans are independent
    and dominate the stage); results in input order, so the output does not depend on it."""
    workers = min(2, os.cpu_count() or 1, len(jobs))
    # the direct solve takes ~0.1 s: starting worker processes would cost more than it saves
    if workers < 2 or len(jobs) < 3 or all(job[3] != "pyhf-scan" for job in jobs):
        out = []
        for job, note in zip(jobs, notes, strict=True):
            out.append(_scan(job))
            reporter.advance("limits", note=note)
        return out
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: the parent holds onnxruntime thread pools
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        out = []
        for bands, note in zip(pool.map(_scan, jobs), notes, strict=True):
            out.append(bands)
            reporter.advance("limits", note=note)
        return out


@dataclass(frozen=True)
class _ModelSource:
    """The fold ONNX files the limits use, and the registry link recorded with the run."""

    kind: str
    fold_paths: list[Path]
    link: dict[str, str]


def _model_source(config: Config) -> _ModelSource:
    paths = Paths.of(config)
    if config.limits.model_uri:
        uri = tracking_uri(config)  # checked by the CLI before any stage
        version = resolve_model_uri(uri, config.limits.model_uri)
        kind = version.tags.get("mlsearch.model", config.limits.model)
        n_folds = int(version.tags.get("mlsearch.n_folds", config.train.n_folds))
        local = paths.data / "registry" / version.name / f"v{version.version}"
        names = [f"{kind}_fold{i}.onnx" for i in range(n_folds)]
        if not all((local / "onnx" / n).is_file() for n in names):
            download_run_artifacts(uri, version.run_id, "onnx", local)
        fold_paths = [local / "onnx" / n for n in names]
        link = {
            "mlsearch.model_uri": config.limits.model_uri,
            "mlsearch.model_name": version.name,
            "mlsearch.model_version": str(version.version),
            "mlsearch.model_run_id": version.run_id,
        }
        return _ModelSource(kind, fold_paths, link)
    kind = config.limits.model
    fold_paths = [onnx_model_path(config, kind, i) for i in range(config.train.n_folds)]
    registered = read_manifest(paths.models, "export").get("registered", {}).get(kind, {})
    link = {"mlsearch.model_source": str(paths.models)}
    if registered:
        link |= {
            "mlsearch.model_name": registered["name"],
            "mlsearch.model_version": str(registered["version"]),
            "mlsearch.model_run_id": registered["run_id"],
        }
    return _ModelSource(kind, fold_paths, link)


def run_limits(config: Config, reporter: Reporter | None = None) -> StageResult:
    """Expected (+-1, +-2 sigma) and pseudo-observed CLs limits per signal mass, in signal
    events, cross section x B(invisible) [fb] and coupling; writes results/<search>/ and logs
    a ``limits`` run linked to the model version it used."""
    reporter = reporter or NullReporter()
    paths = Paths.of(config)
    source = _model_source(config)
    missing = [str(p) for p in source.fold_paths if not p.is_file()]
    if missing:
        raise InputError(f"ONNX model not found: {', '.join(missing)} (run the export stage)")
    key = stage_key(
        "limits",
        file_key(paths.features),
        manifest_key(paths.models, "export"),
        source.link,
        config.limits,
        config.luminosity_fb,
        config.seed,
    )
    out_csv = paths.results / "limits.csv"
    if manifest_key(paths.results, "limits") == key and out_csv.exists():
        reporter.finish("limits", "cached")
        return StageResult("limits", key, (out_csv,), True)
    table, meta = read_feature_table(paths.features)
    sessions = [onnx_session(str(p), threads=2) for p in source.fold_paths]
    signal_samples = {k: v for k, v in meta["samples"].items() if v["is_signal"]}
    reporter.start("limits", len(signal_samples))
    rows, jobs, scales, notes = [], [], [], []
    for sample, info in sorted(signal_samples.items(), key=lambda kv: kv[1]["mass"]):
        row, spec, scale = _mass_limit(config, table, meta, sessions, sample, info)
        write_json_atomic(paths.results / "workspaces" / f"{sample}.json", spec)
        rows.append(row)
        scales.append(scale)
        jobs.append(
            (spec, config.limits.cl, config.limits.scan_points, str(config.limits.calculator))
        )
        notes.append(f"m = {info['mass']:g} GeV")
    for row, bands, scale in zip(rows, _scan_all(jobs, reporter, notes), scales, strict=True):
        _add_limits(row, bands, scale, config.luminosity_fb)
    df = pd.DataFrame(rows)
    buf = io.StringIO()
    df.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL, float_format="%.6g")
    write_text_atomic(out_csv, buf.getvalue())
    write_json_atomic(
        paths.results / "limits.json",
        {
            "search": config.search,
            "model": source.kind,
            "onnx": [str(p) for p in source.fold_paths],
            **source.link,
            "luminosity_fb": config.luminosity_fb,
            "cl": config.limits.cl,
            "method": "asymptotic CLs, qtilde"
            + (" (pyhf scan)" if config.limits.calculator == "pyhf-scan" else " (direct solve)"),
            "observed": "Poisson pseudo-data from the "
            "background expectation (no real data in the embedded default)",
            "rows": rows,
        },
    )
    write_limit_plots(config, df, paths.results, source.kind)
    if config.limits.projections_fb:
        projected = projections(config, rows, [job[0] for job in jobs], scales)
        buf = io.StringIO()
        projected.to_csv(buf, index=False, float_format="%.6g")
        write_text_atomic(paths.results / "projections.csv", buf.getvalue())
        write_projection_plot(config, df, projected, paths.results)
    run_id = _track(config, df, source, paths.results)
    write_manifest(paths.results, "limits", key, model=source.kind, mlflow_run_id=run_id)
    reporter.finish("limits", f"{len(rows)} masses")
    return StageResult(
        "limits", key, (out_csv, paths.results / "limits.json"), False, {"rows": rows}
    )


def _track(config: Config, df: pd.DataFrame, source: _ModelSource, out: Path) -> str:
    """One MLflow run per limits computation, tagged with the model version it used."""
    with mlflow_run(config, "limits", {"mlsearch.stage": "limits", **source.link}) as run:
        import mlflow

        mlflow.log_params(
            flatten(
                {
                    "limits": config.limits.model_dump(mode="json"),
                    "luminosity_fb": config.luminosity_fb,
                    "seed": config.seed,
                }
            )
        )
        metrics = {}
        names = (
            "expected_coupling_median",
            "expected_xsec_fb_median",
            "punzi_xsec_fb",
            "signal_efficiency",
        )
        for record in df.to_dict("records"):
            for name in names:
                metrics[f"{name}_m{record['mass']:g}"] = float(record[name])
        mlflow.log_metrics(metrics)
        for name in (
            "limits.csv",
            "limits.json",
            "limits_coupling.png",
            "limits_xsec.png",
            "projections.csv",
            "projections_coupling.png",
            "limits_coupling.pdf",
            "limits_xsec.pdf",
            "projections_coupling.pdf",
        ):
            if (out / name).exists():
                mlflow.log_artifact(str(out / name))
        mlflow.log_artifacts(str(out / "workspaces"), "workspaces")
        return str(run.info.run_id)
