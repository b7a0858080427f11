"""What the limits stage writes besides the table: the limit and projection plots (PNG and
PDF) and the luminosity projections of the expected limits."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlsearch.config import Config
from mlsearch.config_limits import LimitsConfig
from mlsearch.errors import InputError
from mlsearch.io.atomic import atomic_path
from mlsearch.limits.asymptotic import BinnedModel, cls_limits
from mlsearch.limits.conversion import signal_limit
from mlsearch.limits.plot import brazil_plot, projection_plot
from mlsearch.searches import search_info

__all__ = ["BANDS", "projections", "write_limit_plots", "write_projection_plot"]

BANDS = ("minus2", "minus1", "median", "plus1", "plus2")


@dataclass(frozen=True)
class ProjectionTask:
    """One mass point's projections (picklable, for worker processes): its limits-table row,
    its pyhf workspace and its signal scale."""

    limits: LimitsConfig
    luminosity_fb: float
    row: dict[str, Any]
    spec: dict[str, Any]
    scale: float


def project_mass(task: ProjectionTask) -> list[dict[str, Any]]:
    """The expected limits of one mass at each luminosity of ``limits.projections_fb``: signal
    and background scaled by k = L'/L, the data set to the background expectation, the
    direct solve (a top-level function, so that worker processes can run it)."""
    cfg, lumi, row = task.limits, task.luminosity_fb, task.row
    base = BinnedModel.from_workspace(task.spec)
    out = []
    for target in cfg.projections_fb:
        k = target / lumi
        shrink = 1 / math.sqrt(k) if k > 1 else 1.0
        model = base.scaled(
            k,
            mc_shrink=shrink if cfg.projection_mc == "scaled_with_data" else 1.0,
            norm_shrink=shrink if cfg.projection_normalisation == "scaled" else 1.0,
        )
        _, expected = cls_limits(model, cfg.cl, mu_max=2.0)
        record: dict[str, Any] = {"mass": row["mass"], "luminosity_fb": target}
        for name, mu in zip(BANDS, expected, strict=True):
            lim = signal_limit(
                mu, task.scale, row["n_signal_ref"], row["signal_efficiency"], target,
                row["coupling_ref"], luminosity_factor=k,
            )  # fmt: skip
            record[f"expected_events_{name}"] = lim.events
            record[f"expected_xsec_fb_{name}"] = lim.xsec_fb
            record[f"expected_coupling_{name}"] = lim.coupling
        out.append(record)
    return out


def projections(
    config: Config,
    rows: list[dict[str, Any]],
    specs: list[dict[str, Any]],
    scales: list[float],
    mapper: Callable[..., Iterable[list[dict[str, Any]]]] = map,
) -> pd.DataFrame:
    """Expected limits at the other luminosities of ``limits.projections_fb``: signal and
    background scaled by k = L'/L, the data set to the background expectation, the direct
    solve at each mass. The background MC is the same sample (``projection_mc:
    same_sample``, default): its weights, and so its absolute uncertainty, scale with k and
    its relative uncertainty stays, so the limit saturates where it dominates; with
    ``scaled_with_data`` the relative uncertainty shrinks like 1/sqrt(k). The normalisation
    uncertainties stay (``projection_normalisation: fixed``, default) or shrink like
    1/sqrt(k) (``scaled``). Projecting to less data (k < 1) keeps every relative
    uncertainty. ``mapper`` runs :func:`project_mass` over the masses (``map``, or a
    process pool's, in input order)."""
    tasks = [
        ProjectionTask(config.limits, config.luminosity_fb, row, spec, scale)
        for row, spec, scale in zip(rows, specs, scales, strict=True)
    ]
    return pd.DataFrame([record for records in mapper(project_mass, tasks) for record in records])


def reference_curves(config: Config) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The ``limits.reference_curves`` CSV files as (label, mass [GeV], coupling)."""
    out = []
    for curve in config.limits.reference_curves:
        try:
            table = pd.read_csv(curve.file)
        except (OSError, ValueError) as exc:
            raise InputError(f"{curve.file}: not a readable CSV ({exc})") from None
        missing = [c for c in ("mass", "coupling") if c not in table.columns]
        if missing:
            raise InputError(
                f"{curve.file}: reference curve {curve.label!r} lacks the column(s) "
                f"{', '.join(missing)} (expected: mass [GeV], coupling; found: "
                f"{', '.join(map(str, table.columns))})"
            )
        table = table.sort_values("mass")
        out.append((curve.label, table["mass"].to_numpy(float), table["coupling"].to_numpy(float)))
    return out


def write_limit_plots(config: Config, df: pd.DataFrame, out: Path, kind: str) -> None:
    import matplotlib.pyplot as plt

    mass = df["mass"].to_numpy()
    info = search_info(config.search)
    title = f"{info.title} ({kind})"
    corner = f"{config.luminosity_fb:g} fb$^{{-1}}$"
    observed_label = "observed" if config.limits.data else "observed (pseudo-data)"
    references = reference_curves(config)
    coupling = (
        f"{info.coupling_label} [{info.coupling_unit}]"
        if info.coupling_unit
        else (info.coupling_label)
    )
    for quantity, label, name in (
        ("coupling", coupling, "limits_coupling.png"),
        ("xsec_fb", info.xsec_label, "limits_xsec.png"),
    ):
        expected = np.stack([df[f"expected_{quantity}_{b}"].to_numpy() for b in BANDS], axis=1)
        fig = brazil_plot(
            mass, expected, df[f"observed_{quantity}"].to_numpy(), label, title,
            config.limits.cl, references if quantity == "coupling" else (), observed_label,
            corner, df["mc_limited"].to_numpy(dtype=bool) if "mc_limited" in df else None,
            (df["window_gap_to_next"] > 0).to_numpy() if "window_gap_to_next" in df else None,
        )  # fmt: skip
        _save_png_pdf(fig, out / name)
        plt.close(fig)


def write_projection_plot(
    config: Config, df: pd.DataFrame, projections: pd.DataFrame, out: Path
) -> None:
    import matplotlib.pyplot as plt

    info = search_info(config.search)
    label = (
        f"{info.coupling_label} [{info.coupling_unit}]"
        if info.coupling_unit
        else (info.coupling_label)
    )
    medians = {config.luminosity_fb: df["expected_coupling_median"].to_numpy()}
    for lumi in config.limits.projections_fb:
        group = projections[projections["luminosity_fb"] == lumi].sort_values("mass")
        medians[lumi] = group["expected_coupling_median"].to_numpy()
    fig = projection_plot(
        df["mass"].to_numpy(), medians, label, f"{info.title}: luminosity projections",
        config.limits.cl,
        gap_after=(df["window_gap_to_next"] > 0).to_numpy() if "window_gap_to_next" in df else None,
    )  # fmt: skip
    _save_png_pdf(fig, out / "projections_coupling.png")
    plt.close(fig)


def _save_png_pdf(fig: Any, png: Path) -> None:
    """The figure as PNG (for a look) and as PDF next to it (for a paper), each atomically."""
    with atomic_path(png) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    with atomic_path(png.with_suffix(".pdf")) as tmp:
        fig.savefig(tmp, format="pdf")
