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

import pandas as pd

from mlsearch.config import Config
from mlsearch.errors import InputError
from mlsearch.export.parity import onnx_session
from mlsearch.io.atomic import write_json_atomic, write_text_atomic
from mlsearch.limits.asymptotic import cls_limits
from mlsearch.limits.model import BinnedModel, model_workspace
from mlsearch.limits.outputs import (
    BANDS,
    projections,
    write_limit_plots,
    write_projection_plot,
)
from mlsearch.limits.scan import LimitBands, upper_limit
from mlsearch.limits.toys import toy_cls_limits
from mlsearch.pipeline.cache import (
    file_key,
    manifest_key,
    read_manifest,
    stage_key,
    write_manifest,
)
from mlsearch.pipeline.export import onnx_model_path
from mlsearch.pipeline.features import read_feature_table
from mlsearch.pipeline.limits_inputs import Scorer, data_events, mass_model, signal_points
from mlsearch.pipeline.paths import Paths
from mlsearch.pipeline.progress import NullReporter, Reporter
from mlsearch.pipeline.result import StageResult
from mlsearch.tracking import flatten, mlflow_run, resolve_model_uri, tracking_uri
from mlsearch.tracking.registry import download_run_artifacts

__all__ = ["run_limits"]


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


@dataclass(frozen=True)
class _Job:
    """One mass point's limit computation (picklable, for worker processes)."""

    spec: dict[str, Any]
    cl: float
    points: int
    calculator: str  # "direct", "pyhf-scan" or "toys"
    toys: int
    seed: int


def _scan(job: _Job) -> LimitBands:
    """One mass point's limits (a top-level function, so that worker processes can run it):
    the direct asymptotic solve (default), pyhf's hypothesis-test scan, or toys."""
    if job.calculator == "pyhf-scan":
        return upper_limit(job.spec, job.cl, mu_max=2.0, points=job.points)
    model = BinnedModel.from_workspace(job.spec)
    observed, expected = cls_limits(model, job.cl, mu_max=2.0)
    if job.calculator == "toys":
        observed, expected = toy_cls_limits(model, job.cl, job.toys, job.seed, expected[2])
    return LimitBands(observed, expected)


def _scan_all(jobs: list[_Job], reporter: Reporter, notes: list[str]) -> list[LimitBands]:
    """The CLs scans of all masses, on up to two worker processes (the scans are independent
    and dominate the stage); results in input order, so the output does not depend on it."""
    workers = min(2, os.cpu_count() or 1, len(jobs))
    # the direct solve takes ~0.1 s: starting worker processes would cost more than it saves
    if workers < 2 or len(jobs) < 3 or all(job.calculator == "direct" for job in jobs):
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
    if config.limits.mass_points_between and source.kind != "pnn":
        raise InputError(
            f"limits.mass_points_between = {config.limits.mass_points_between} needs the pNN "
            f"(limits.model: pnn): the {source.kind} is piecewise constant between its "
            "training masses, and its limits there would be too strong (docs/validation.md)"
        )
    missing = [str(p) for p in source.fold_paths if not p.is_file()]
    if missing:
        raise InputError(f"ONNX model not found: {', '.join(missing)} (run the export stage)")
    cfg = config.limits
    extra_files = [cfg.data, *(c.file for c in cfg.reference_curves)]
    for path in extra_files:
        if path is not None and not Path(path).is_file():
            raise InputError(f"{path}: file not found (limits.data or limits.reference_curves)")
    key = stage_key(
        "limits",
        file_key(paths.features),
        manifest_key(paths.models, "export"),
        source.link,
        cfg,
        [file_key(Path(p)) for p in extra_files if p is not None],
        config.luminosity_fb,
        config.seed,
    )
    out_csv = paths.results / "limits.csv"
    if manifest_key(paths.results, "limits") == key and out_csv.exists():
        reporter.finish("limits", "cached")
        return StageResult("limits", key, (out_csv,), True)
    table, meta = read_feature_table(paths.features)
    scorer = Scorer([onnx_session(str(p), threads=2) for p in source.fold_paths], meta["features"])
    data = data_events(config, cfg.data, meta["features"]) if cfg.data else None
    points, no_limit = signal_points(config, table, meta, scorer)
    reporter.start("limits", len(points))
    rows, jobs, scales, notes = [], [], [], []
    for point in points:
        built = mass_model(config, table, meta, point, scorer, data)
        spec = model_workspace(built.model)
        write_json_atomic(paths.results / "workspaces" / f"m{point.mass:.6g}.json", spec)
        toys = built.row["low_background"] and cfg.low_background == "toys"
        calculator = "toys" if toys else str(cfg.calculator)
        built.row["calculator"] = (
            f"toys (hybrid CLs, {cfg.toys})" if toys else f"asymptotic ({cfg.calculator})"
        )
        rows.append(built.row)
        scales.append(built.scale)
        jobs.append(_Job(spec, cfg.cl, cfg.scan_points, calculator, cfg.toys, config.seed))
        notes.append(f"m = {point.mass:g} GeV")
    for row, bands, scale in zip(rows, _scan_all(jobs, reporter, notes), scales, strict=True):
        _add_limits(row, bands, scale, config.luminosity_fb)
    df = pd.DataFrame(rows + no_limit).sort_values("mass", kind="stable")
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
            "cl": cfg.cl,
            "method": "asymptotic CLs, qtilde"
            + (" (pyhf scan)" if cfg.calculator == "pyhf-scan" else " (direct solve)")
            + (
                f"; hybrid-CLs toys below {cfg.low_background_events:g} background events"
                if cfg.low_background == "toys"
                else ""
            ),
            "observed": f"data: {cfg.data}"
            if cfg.data
            else "Poisson pseudo-data from the background expectation (seeded)",
            "rows": df.to_dict("records"),
        },
    )
    valid = df[df["status"] == "ok"]
    if not len(valid):
        raise InputError(f"no mass point gives a limit: {no_limit[0]['status']}")
    write_limit_plots(config, valid, paths.results, source.kind)
    if cfg.projections_fb:
        projected = projections(config, rows, [job.spec for job in jobs], scales)
        buf = io.StringIO()
        projected.to_csv(buf, index=False, float_format="%.6g")
        write_text_atomic(paths.results / "projections.csv", buf.getvalue())
        write_projection_plot(config, valid, projected, paths.results)
    run_id = _track(config, valid, source, paths.results)
    write_manifest(paths.results, "limits", key, model=source.kind, mlflow_run_id=run_id)
    without = f", {len(no_limit)} without a limit" if no_limit else ""
    reporter.finish("limits", f"{len(rows)} masses{without}")
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
