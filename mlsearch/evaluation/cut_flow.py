"""The cut flow of a published selection at each mass: expected events and efficiencies of the
signal and of every background process after each step, from the generated sample through
the preselection, the fixed steps and the tuned step (at the threshold chosen for that mass)
to the signal window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlsearch.io.feature_table import FeatureTableMeta, background_rows
from mlsearch.selection.published import PublishedSelection
from mlsearch.selection.windows import MassWindow, search_values

__all__ = ["CUT_FLOW_COLUMNS", "cut_flow"]

CUT_FLOW_COLUMNS = (
    "mass", "step", "cut", "sample", "events", "mc_events", "efficiency", "step_efficiency",
)  # fmt: skip


def _generated(meta: FeatureTableMeta, luminosity_fb: float) -> dict[str, float]:
    """Expected events of each background process before any selection."""
    out: dict[str, float] = {}
    for info in meta.samples.values():
        if not info.is_signal:
            out[info.process] = out.get(info.process, 0.0) + info.cross_section_fb * luminosity_fb
    return out


def _fixed_stages(
    df: pd.DataFrame, selection: PublishedSelection
) -> list[tuple[str, str, np.ndarray | None]]:
    """The stages of ``df`` up to the last fixed step: (name, cut, rows kept; None for the
    generated sample), the last one's mask always an array."""
    keep = np.ones(len(df), dtype=bool)
    stages: list[tuple[str, str, np.ndarray | None]] = [
        ("generated", "", None),
        ("preselection", selection.preselection, keep.copy()),
    ]
    for step in selection.steps:
        keep &= step.select(df)
        stages.append((step.name, step.cut, keep.copy()))
    return stages


def cut_flow(
    table: pd.DataFrame,
    meta: FeatureTableMeta,
    selection: PublishedSelection,
    points: dict[float, tuple[MassWindow, float]],
    luminosity_fb: float,
) -> pd.DataFrame:
    """One row per (mass, step, sample): ``events`` expected at the luminosity, ``mc_events``
    the MC rows behind them, ``efficiency`` relative to the generated sample and
    ``step_efficiency`` relative to the step before. ``points``: per mass, its signal window
    and the tuned step's threshold there (other masses are left out)."""
    bkg = background_rows(table, meta)
    process = meta.physics_process(bkg["process"])
    generated = _generated(meta, luminosity_fb)
    # the fixed steps do not depend on the mass: each background's masks once, not per mass
    per_process = {name: bkg[process == name] for name in sorted(generated)}
    fixed = {name: _fixed_stages(df, selection) for name, df in per_process.items()}
    rows: list[dict[str, object]] = []
    for mass, (window, t) in sorted(points.items()):
        found = meta.signal_sample(mass)
        if found is None:
            continue
        sig = table[(table["label"] == 1) & (table["mass_hypothesis"] == mass)]
        n_signal = found[1].cross_section_fb * luminosity_fb
        samples = {"signal": (sig, _fixed_stages(sig, selection), n_signal)}
        for name, df in per_process.items():
            samples[name] = (df, fixed[name], generated[name])
        tuned = selection.tuned
        for name, (df, stages_fixed, n_gen) in samples.items():
            w = df["weight"].to_numpy() * luminosity_fb
            stages = list(stages_fixed)
            last = stages[-1][2]
            keep = (np.ones(len(df), dtype=bool) if last is None else last) & tuned.passes(df, t)
            stages.append((f"{tuned.name} ({t:g})", tuned.cut.format(t=f"{t:g}"), keep.copy()))
            keep &= window.contains(search_values(df, meta.search_rule, mass))
            stages.append(("signal window", f"{window.low:.4g} to {window.high:.4g}", keep))
            before = n_gen
            for step_name, cut, mask in stages:
                events = n_gen if mask is None else float(w[mask].sum())
                rows.append({
                    "mass": mass, "step": step_name, "cut": cut, "sample": name,
                    "events": events,
                    "mc_events": np.nan if mask is None else int(mask.sum()),
                    "efficiency": events / n_gen if n_gen > 0 else np.nan,
                    "step_efficiency": events / before if before > 0 else np.nan,
                })  # fmt: skip
                before = events
    return pd.DataFrame(rows, columns=list(CUT_FLOW_COLUMNS))


def cut_flow_html(selection: PublishedSelection, flow: pd.DataFrame) -> str:
    """The selection's steps with their sources, then per mass a table of expected events
    (efficiency) after each step for the signal and each background."""
    import html

    steps = [("preselection", selection.preselection, "feature builder", "paper")]
    steps += [(s.name, s.cut, s.source, s.provenance) for s in selection.steps]
    t = selection.tuned
    steps.append((t.name, t.cut.format(t="t"), t.source, t.provenance))
    items = "".join(
        f"<tr><td style='text-align:left'>{html.escape(a)}</td>"
        f"<td style='text-align:left'>{html.escape(b)}</td>"
        f"<td style='text-align:left'>{html.escape(d)}</td>"
        f"<td style='text-align:left'>{html.escape(c)}</td></tr>"
        for a, b, c, d in steps
    )
    parts = [
        f"<h2>Baseline: the published selection ({html.escape(selection.reference)})</h2>",
        "<table><tr><th>step</th><th>cut</th><th>whose value</th><th>source</th></tr>",
        items,
        "</table><p>Cut flow: expected events at the luminosity (efficiency relative to the "
        "generated sample); the tuned step at the threshold chosen for the mass.</p>",
    ]
    for _, g in flow.groupby("mass", sort=True):
        cells = g.assign(
            value=[f"{e:.4g} ({f:.3g})" for e, f in zip(g["events"], g["efficiency"], strict=True)]
        )
        pivot = cells.pivot(index="step", columns="sample", values="value")
        others = sorted(c for c in pivot.columns if c != "signal")
        pivot = pivot.reindex(index=list(dict.fromkeys(g["step"])), columns=["signal", *others])
        pivot = pivot.rename_axis(index=None, columns=None)  # one header row
        parts.append(f"<h3>m = {float(g['mass'].iloc[0]):g} GeV</h3>")
        parts.append(pivot.to_html())
    return "\n".join(parts)
