"""limits stage: ONNX scores in each signal window -> pyhf CLs limits -> coupling limits.

Reads only the feature table and the exported ONNX files (per fold: every event is scored by
the fold model that did not train on it), never the Python model objects.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mlsearch.config import Config
from mlsearch.errors import InputError
from mlsearch.export.bundle import onnx_file_name
from mlsearch.export.parity import onnx_session
from mlsearch.io.atomic import write_json_atomic, write_text_atomic
from mlsearch.io.feature_table import FeatureTableMeta, check_finite, read_feature_table
from mlsearch.limits.binned import MassModel, binned_mass_model
from mlsearch.limits.calculate import LimitJob, limit_bands
from mlsearch.limits.conversion import signal_limit
from mlsearch.limits.model import model_workspace
from mlsearch.limits.outputs import (
    BANDS,
    projections,
    write_limit_plots,
    write_projection_plot,
)
from mlsearch.limits.points import (
    BackgroundSample,
    CutScorer,
    OnnxFoldScorer,
    Scorer,
    signal_points,
)
from mlsearch.limits.scan import LimitBands
from mlsearch.limits.signal_points import SignalPoint, window_gaps
from mlsearch.physics.seeds import chunk_rng
from mlsearch.pipeline.cache import (
    file_key,
    manifest_key,
    read_manifest,
    stage_key,
    write_manifest,
)
from mlsearch.pipeline.paths import Paths
from mlsearch.pipeline.progress import NullReporter, Reporter
from mlsearch.pipeline.result import StageResult
from mlsearch.scoring import fold_of
from mlsearch.searches import branching_fraction
from mlsearch.selection.windows import search_values
from mlsearch.tracking import (
    flatten,
    log_per_mass,
    mlflow_run,
    resolve_model_uri,
    tracking_uri,
)
from mlsearch.tracking.registry import download_run_artifacts

__all__ = ["run_limits"]


def _add_limits(row: dict[str, Any], bands: LimitBands, scale: float, lumi: float) -> None:
    """The expected bands and the observed limit of one row in events, sigma x B and
    coupling (limits.conversion), in the table's column order."""
    args = (scale, row["n_signal_ref"], row["signal_efficiency"], lumi, row["coupling_ref"])
    expected = [signal_limit(mu, *args) for mu in bands.expected]
    observed = signal_limit(bands.observed, *args)
    for quantity in ("events", "xsec_fb", "coupling"):
        for name, lim in zip(BANDS, expected, strict=True):
            row[f"expected_{quantity}_{name}"] = getattr(lim, quantity)
        row[f"observed_{quantity}"] = getattr(observed, quantity)


# below this many CLs solves (~0.3-0.8 s each for the direct solve of a 5-bin window with
# its staterrors and eight normalisation uncertainties), starting two spawned worker
# processes (~2-3 s, importing numpy and scipy) costs more than it saves
_POOL_MIN_SOLVES = 16
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextmanager
def _mapper(n_solves: int) -> Iterator[Callable[..., Iterator[Any]]]:
    """``map`` over up to two worker processes when there are enough independent solves,
    else the builtin: results in input order either way, so the output does not depend on
    it."""
    workers = min(2, os.cpu_count() or 1)
    if workers < 2 or n_solves < _POOL_MIN_SOLVES:
        yield map
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # one BLAS/OpenMP thread per worker: with their default two, two workers' small matrix
    # products spin against each other on two cores (24 solves: 6.5 s serial, 20.8 s in two
    # workers, 4.1 s with one thread each). The workers are spawned, not forked (the parent
    # holds onnxruntime thread pools), so they read the environment at their start
    saved = {name: os.environ.get(name) for name in _THREAD_VARIABLES}
    os.environ.update(dict.fromkeys(_THREAD_VARIABLES, "1"))
    try:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            yield pool.map
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _scan_all(jobs: list[LimitJob], reporter: Reporter, notes: list[str]) -> list[LimitBands]:
    """The CLs scans of all masses (independent, the bulk of the stage), on up to two worker
    processes; a pyhf scan or toys take seconds per mass: from three masses on."""
    direct = all(job.calculator == "direct" for job in jobs)
    n_solves = len(jobs) if direct or len(jobs) < 3 else _POOL_MIN_SOLVES
    out = []
    with _mapper(n_solves) as mapper:
        for bands, note in zip(mapper(limit_bands, jobs), notes, strict=True):
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
    if config.limits.model == "cuts" and not config.limits.model_uri:
        from mlsearch.selection.published import published_selection

        reference = published_selection(config.search).reference
        return _ModelSource("cuts", [], {"mlsearch.model_source": f"published: {reference}"})
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
    fold_paths = [paths.models / onnx_file_name(kind, i) for i in range(config.train.n_folds)]
    registered = read_manifest(paths.models, "export").get("registered", {}).get(kind, {})
    link = {"mlsearch.model_source": str(paths.models)}
    if registered:
        link |= {
            "mlsearch.model_name": registered["name"],
            "mlsearch.model_version": str(registered["version"]),
            "mlsearch.model_run_id": registered["run_id"],
        }
    return _ModelSource(kind, fold_paths, link)


def _check_inputs(config: Config, source: _ModelSource) -> list[Path]:
    """User errors before any work: the model files, a fine grid without the pNN, the data
    and reference-curve files. Returns the extra input files (their content is keyed)."""
    if config.limits.mass_points_between and source.kind == "pbdt":
        raise InputError(
            f"limits.mass_points_between = {config.limits.mass_points_between} needs the pNN "
            "or the cuts (limits.model: pnn or cuts): the pbdt is piecewise constant between "
            "its training masses, and its limits there would be too strong "
            "(docs/validation.md)"
        )
    missing = [str(p) for p in source.fold_paths if not p.is_file()]
    if missing:
        raise InputError(f"ONNX model not found: {', '.join(missing)} (run the export stage)")
    cfg = config.limits
    extra = [Path(p) for p in (cfg.data, *(c.file for c in cfg.reference_curves)) if p]
    for path in extra:
        if not path.is_file():
            raise InputError(f"{path}: file not found (limits.data or limits.reference_curves)")
    return extra


def data_events(config: Config, path: Path, features: list[str]) -> pd.DataFrame:
    """The selected events of a data ntuple, with their features and a fold by event number."""
    from mlsearch.features import get_builder
    from mlsearch.io.basf2_ntuple import read_basf2_ntuple

    df = get_builder(config.search).build(read_basf2_ntuple(path), config.features)
    check_finite(df, features, path)
    df["fold"] = fold_of(df["event"].to_numpy(), config.train.n_folds)
    return df


def _observed_scores(
    data: pd.DataFrame | None, meta: FeatureTableMeta, point: SignalPoint, scorer: Scorer
) -> Any:
    """The data's scores in the point's window at its mass (None without data)."""
    if data is None:
        return None
    d = data[point.window.contains(search_values(data, meta.search_rule, point.mass))]
    return scorer(d, point.mass)


def _pseudo_data_stream(config: Config, meta: FeatureTableMeta, mass: float) -> Any:
    """The seeded stream of a mass's pseudo-data (a generated mass keeps the stream named
    after its sample)."""
    found = meta.signal_sample(mass)
    return chunk_rng(config.seed, f"pseudo-data/{found[0] if found else mass}", 0)


def _mass_models(
    config: Config, table: pd.DataFrame, meta: FeatureTableMeta, points: list[SignalPoint],
    scorer: Scorer, data: pd.DataFrame | None,
) -> list[MassModel]:  # fmt: skip
    lumi, cfg = config.luminosity_fb, config.limits
    min_cut = -float("inf")
    if isinstance(scorer, CutScorer):
        # counting: one bin, the selection at the tuned threshold chosen per mass on half of
        # the MC (the Punzi cut of the 'punzi_cut' binning), the other half counted
        cfg = cfg.model_copy(update={"score_binning": "punzi_cut"})
        min_cut = scorer.min_cut
    sample = BackgroundSample(table, meta, lumi)  # (selected and mapped once, not per mass)
    out = []
    for point in points:
        backgrounds = sample.in_window(point, scorer)
        observed = _observed_scores(data, meta, point, scorer)
        rng = _pseudo_data_stream(config, meta, point.mass)
        out.append(binned_mass_model(point, backgrounds, cfg, lumi, observed, rng, min_cut))
    return out


def _jobs(config: Config, built: list[MassModel], out: Path) -> list[LimitJob]:
    """One CLs job per mass (its workspace written to ``out``/workspaces), the calculator
    recorded in the row."""
    cfg = config.limits
    jobs = []
    for mass_model in built:
        row = mass_model.row
        spec = model_workspace(mass_model.model)
        write_json_atomic(out / "workspaces" / f"m{row['mass']:.6g}.json", spec)
        toys = row["low_background"] and cfg.low_background == "toys"
        row["calculator"] = (
            f"toys (hybrid CLs, {cfg.toys})" if toys else f"asymptotic ({cfg.calculator})"
        )
        calculator = "toys" if toys else str(cfg.calculator)
        jobs.append(LimitJob(spec, cfg.cl, cfg.scan_points, calculator, cfg.toys, config.seed))
    return jobs


def _write_csv(path: Path, df: pd.DataFrame) -> None:
    buf = io.StringIO()
    df.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL, float_format="%.6g")
    write_text_atomic(path, buf.getvalue())


def _method(config: Config) -> dict[str, Any]:
    """How the limits were computed, in words, for limits.json."""
    cfg = config.limits
    method = "asymptotic CLs, qtilde" + (
        " (pyhf scan)" if cfg.calculator == "pyhf-scan" else " (direct solve)"
    )
    if cfg.low_background == "toys":
        method += f"; hybrid-CLs toys below {cfg.low_background_events:g} background events"
    observed = (
        f"data: {cfg.data}"
        if cfg.data
        else "Poisson pseudo-data from the background expectation (seeded)"
    )
    return {"luminosity_fb": config.luminosity_fb, "cl": cfg.cl, "method": method,
            "observed": observed}  # fmt: skip


def run_limits(config: Config, reporter: Reporter | None = None) -> StageResult:
    """Expected (+-1, +-2 sigma) and pseudo-observed CLs limits per signal mass, in signal
    events, cross section x B(invisible) [fb] and coupling; writes results/<search>/ and logs
    a ``limits`` run linked to the model version it used."""
    reporter = reporter or NullReporter()
    paths, cfg, lumi = Paths.of(config), config.limits, config.luminosity_fb
    source = _model_source(config)
    extra = _check_inputs(config, source)
    cuts = source.kind == "cuts"
    models_key = "cuts" if cuts else manifest_key(paths.models, "export")
    key = stage_key(
        "limits", file_key(paths.features), models_key, source.link,
        cfg, [file_key(p) for p in extra], lumi, config.seed,
    )  # fmt: skip
    # the cut-based limits go next to the classifier's, not over them
    results = paths.results / "cuts" if cuts else paths.results
    out_csv = results / "limits.csv"
    if manifest_key(results, "limits") == key and out_csv.exists():
        reporter.finish("limits", "cached")
        return StageResult("limits", key, (out_csv,), True)
    table, meta = read_feature_table(paths.features)
    scorer: Scorer
    if cuts:
        from mlsearch.selection.published import published_selection

        scorer = CutScorer(published_selection(config.search))
    else:
        sessions = [onnx_session(str(p), threads=2) for p in source.fold_paths]
        scorer = OnnxFoldScorer(sessions, meta.features)
    data = data_events(config, cfg.data, meta.features) if cfg.data else None
    signal = config.generate.signal
    branching = branching_fraction(signal.process, signal.invisible_br)
    points, no_limit = signal_points(
        table, meta, scorer, cfg.window_sigma, lumi, cfg.mass_points_between, branching
    )
    reporter.start("limits", len(points))
    built = _mass_models(config, table, meta, points, scorer, data)
    for mass_model, gap in zip(built, window_gaps(points), strict=True):
        # a gap: masses between these windows are not searched (the plot breaks there)
        mass_model.row["window_gap_to_next"] = gap
    jobs = _jobs(config, built, results)
    notes = [f"m = {p.mass:g} GeV" for p in points]
    rows, scales = [m.row for m in built], [m.scale for m in built]
    for row, bands, scale in zip(rows, _scan_all(jobs, reporter, notes), scales, strict=True):
        _add_limits(row, bands, scale, lumi)
    df = pd.DataFrame(rows + no_limit).sort_values("mass", kind="stable")
    _write_csv(out_csv, df)
    write_json_atomic(
        results / "limits.json",
        {"search": config.search, "model": source.kind,
         "onnx": [str(p) for p in source.fold_paths], **source.link, **_method(config),
         "rows": df.to_dict("records")},
    )  # fmt: skip
    valid = df[df["status"] == "ok"]
    if not len(valid):
        raise InputError(f"no mass point gives a limit: {no_limit[0]['status']}")
    _write_plots(config, valid, rows, jobs, scales, source.kind, results)
    run_id = _track(config, valid, source, results)
    write_manifest(results, "limits", key, model=source.kind, mlflow_run_id=run_id)
    without = f", {len(no_limit)} without a limit" if no_limit else ""
    holes = sum(r["window_gap_to_next"] > 0 for r in rows)
    gaps = f", {holes} gaps between windows" if holes else ""
    reporter.finish("limits", f"{len(rows)} masses{without}{gaps}")
    return StageResult("limits", key, (out_csv, results / "limits.json"), False, {"rows": rows})


def _write_plots(
    config: Config, valid: pd.DataFrame, rows: list[dict[str, Any]], jobs: list[LimitJob],
    scales: list[float], kind: str, out: Path,
) -> None:  # fmt: skip
    """The limit plots and, if asked for, the luminosity projections (table and plot)."""
    write_limit_plots(config, valid, out, kind)
    if config.limits.projections_fb:
        n_solves = len(rows) * len(config.limits.projections_fb)
        with _mapper(n_solves) as mapper:
            projected = projections(config, rows, [job.spec for job in jobs], scales, mapper)
        buf = io.StringIO()
        projected.to_csv(buf, index=False, float_format="%.6g")
        write_text_atomic(out / "projections.csv", buf.getvalue())
        write_projection_plot(config, valid, projected, out)


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
        bands = [f"expected_{u}_{b}" for u in ("xsec_fb", "coupling") for b in BANDS]
        per_mass = [
            *bands, "observed_xsec_fb", "observed_coupling", "punzi_xsec_fb",
            "signal_efficiency", "background_mc_lumi_fb",
            *(c for c in df.columns if c.startswith("mc_lumi_fb_")),  # per process
        ]  # fmt: skip
        records = df.to_dict("records")
        grid = sorted(float(r["mass"]) for r in records)
        log_per_mass(records, [c for c in per_mass if c in df.columns], grid, "limits")
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
