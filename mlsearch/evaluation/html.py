"""The evaluation report as one HTML page (tables and the PNG plots next to it)."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from mlsearch.io.atomic import write_text_atomic

__all__ = ["write_report_html"]


def write_report_html(
    path: Path,
    search: str,
    luminosity_fb: float,
    window_sigma: float,
    report: pd.DataFrame,
    ks: pd.DataFrame,
    lomo: pd.DataFrame,
    common: list[Path],
    figures: dict[str, list[Path]],
    baseline_html: str = "",
) -> None:
    """One self-contained page (images referenced next to it) an analyst opens in a browser."""
    cols = [
        "model", "mass", "auc_window", "signal_eff_at_bkg_1pct", "punzi_xsec_fb",
        "baseline_punzi_xsec_fb", "gain_vs_baseline", "baseline_cuts", "punzi_cut",
        "signal_events", "background_events", "sculpt_ratio", "background_mc_lumi_fb",
    ]  # fmt: skip
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>mlsearch evaluation: {html.escape(search)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}img{max-width:48%}"
        "</style></head><body>",
        f"<h1>{html.escape(search)}: per-mass evaluation</h1>",
        f"<p>Luminosity {luminosity_fb:g} fb<sup>-1</sup>; out-of-fold scores; signal "
        f"window &plusmn;{window_sigma:g} sigma of the signal's search variable. "
        "Punzi: the smallest cross section excluded at 90 % CL / discovered at 3 sigma "
        "(lower is better); gain = baseline / classifier. background_mc_lumi_fb: the "
        "luminosity the background MC stands for in the window (sum w / sum w^2 per process, "
        "the smallest of those with at least 1 % of the background) [fb<sup>-1</sup>]; "
        f"below {luminosity_fb:g} the MC, not the data, sets the precision.</p>",
        "<h2>Per mass</h2>",
        report[cols].to_html(index=False, float_format=lambda v: f"{v:.4g}"),
        baseline_html,
        "<h2>Train versus test score distributions (KS per fold)</h2>",
        ks.to_html(index=False, float_format=lambda v: f"{v:.3g}") if len(ks) else "<p>-</p>",
        "<h2>Leave one mass out</h2>",
        "<p>The model trained without the mass (interpolating) against one trained only at "
        "it, Punzi sensitivity on fold 0; gap = interpolated / dedicated - 1.</p>",
        lomo.to_html(index=False, float_format=lambda v: f"{v:.4g}") if len(lomo) else "<p>-</p>",
        *(f"<img src='{p.name}'>" for p in common),
    ]
    for kind, paths in figures.items():
        parts.append(f"<h2>{html.escape(kind)}</h2>")
        parts += [f"<img src='{p.name}'>" for p in paths]
    parts.append("</body></html>")
    write_text_atomic(path, "\n".join(parts))
