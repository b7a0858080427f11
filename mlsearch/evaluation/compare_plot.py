"""The overlay of two models' per-mass results (`mlsearch models compare`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["PANELS", "compare_plot"]

#: the panels, when both models have the quantity: (column, axis label, log scale)
PANELS = (
    ("auc", "ROC AUC (out-of-fold)", False),
    ("signal_eff_at_bkg_1pct", "signal efficiency at 1 % background", False),
    ("punzi_xsec_fb", r"Punzi $\sigma_{min}$ [fb] (lower is better)", True),
    ("expected_coupling_median", "expected 95 % CL limit on the coupling", True),
)


def compare_plot(table: pd.DataFrame, label_a: str, label_b: str, title: str) -> Any:
    """One panel per quantity of :data:`PANELS` that either model has, against the mass
    [GeV]; ``table``: the columns ``mass``, ``<quantity>_a`` and ``<quantity>_b`` (the
    limit's +-1 sigma band is drawn where ``expected_coupling_minus1/plus1`` exist)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import ScalarFormatter

    panels = [p for p in PANELS if f"{p[0]}_a" in table or f"{p[0]}_b" in table]
    if not panels:
        raise ValueError("the two models have none of: " + ", ".join(p[0] for p in PANELS))
    ncols = min(2, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(5.5 * ncols, 3.6 * nrows), layout="constrained", squeeze=False
    )
    mass = table["mass"].to_numpy(dtype=float)
    for ax, (column, ylabel, log) in zip(axes.flat, panels, strict=False):
        for side, label, colour in (("a", label_a, "C0"), ("b", label_b, "C1")):
            if f"{column}_{side}" not in table:
                continue
            y = table[f"{column}_{side}"].to_numpy(dtype=float)
            ok = np.isfinite(y)
            ax.plot(mass[ok], y[ok], "-o", color=colour, ms=4, label=label)
            lo, hi = f"expected_coupling_minus1_{side}", f"expected_coupling_plus1_{side}"
            if column == "expected_coupling_median" and lo in table and hi in table:
                band = table[[lo, hi]].to_numpy(dtype=float)
                keep = np.isfinite(band).all(axis=1)
                ax.fill_between(mass[keep], band[keep, 0], band[keep, 1], color=colour,
                                alpha=0.2, lw=0)  # fmt: skip
        if log:
            ax.set_yscale("log")
            low, high = ax.get_ylim()
            if high < 10 * low:  # less than a decade: plain numbers, not 2.2x10^1
                for axis in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
                    axis(ScalarFormatter())
        ax.set_xlabel("mass [GeV]")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=10)
    return fig
