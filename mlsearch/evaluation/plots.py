"""Evaluation plots: pure matplotlib on arrays, each returns a Figure."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "auc_vs_mass",
    "punzi_vs_mass",
    "roc_curves",
    "score_distributions",
    "sculpting",
    "train_test_scores",
]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def auc_vs_mass(
    curves: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]], title: str
) -> Any:
    """ROC AUC against the mass hypothesis, one line per model."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    for name, (mass, auc) in curves.items():
        ax.plot(mass, auc, marker="o", label=name)
    ax.set_xlabel("mass hypothesis [GeV]")
    ax.set_ylabel("ROC AUC (out-of-fold)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def score_distributions(
    signal: NDArray[np.float64],
    signal_w: NDArray[np.float64],
    background: NDArray[np.float64],
    background_w: NDArray[np.float64],
    title: str,
) -> Any:
    """Normalised classifier-score distributions of signal and background at one mass."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    bins = np.linspace(0, 1, 41)
    ax.hist(
        background,
        bins,
        weights=background_w,
        density=True,
        histtype="stepfilled",
        alpha=0.4,
        label="background",
    )
    ax.hist(signal, bins, weights=signal_w, density=True, histtype="step", lw=2, label="signal")
    ax.set_yscale("log")
    ax.set_xlabel("classifier score")
    ax.set_ylabel("normalised")
    ax.set_title(title, fontsize=10)
    ax.legend()
    return fig


def punzi_vs_mass(
    curves: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]], title: str
) -> Any:
    """Punzi sensitivity sigma_min [fb] against the mass, one line per model and the
    cut-based baseline (dashed)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    for name, (mass, sigma) in curves.items():
        style = "--" if name.startswith("baseline") else "-"
        ax.plot(mass, sigma, style, marker="o", label=name)
    ax.set_yscale("log")
    ax.set_xlabel("mass hypothesis [GeV]")
    ax.set_ylabel(r"Punzi $\sigma_{min}$ [fb] (lower is better)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return fig


def roc_curves(
    curves: dict[float, tuple[NDArray[np.float64], NDArray[np.float64]]], title: str
) -> Any:
    """ROC curves in the signal window, one per mass: signal against background efficiency
    (log scale)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    for mass, (eff_b, eff_s) in sorted(curves.items()):
        keep = eff_b > 0
        ax.plot(eff_b[keep], eff_s[keep], label=f"{mass:g} GeV")
    ax.set_xscale("log")
    ax.set_xlim(1e-4, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("background efficiency (in the window)")
    ax.set_ylabel("signal efficiency (in the window)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2)
    return fig


def sculpting(panels: dict[float, Any], variable: str, title: str) -> Any:
    """Background distribution of the search variable before and after the Punzi-optimal
    score cut at each mass (normalised, log scale; the signal window shaded): a peak appearing
    at the hypothesis after the cut is sculpting. ``panels``: per mass, histograms with
    ``edges``, ``all``, ``passing`` and ``window`` (evaluation.report.Sculpt)."""
    plt = _plt()
    masses = sorted(panels)
    cols = min(len(masses), 3)
    rows = (len(masses) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), layout="constrained")
    axes = np.atleast_1d(axes).ravel()
    for ax, mass in zip(axes, masses, strict=False):
        panel = panels[mass]
        ax.axvspan(*panel.window, color="0.85", label="signal window")
        ax.stairs(panel.all, panel.edges, lw=1.5, label="all background")
        if panel.passing.any():
            ax.stairs(panel.passing, panel.edges, lw=2, label="after the score cut")
        ax.set_yscale("log")
        ax.set_title(f"m = {mass:g} GeV", fontsize=9)
        ax.set_xlabel(variable, fontsize=8)
        ax.legend(fontsize=7)
    for ax in axes[len(masses) :]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=10)
    return fig


def train_test_scores(scores: Any, ks: Any, title: str) -> Any:
    """Score distributions of the events each fold's model trained on (filled) and of those
    it did not see (points), signal and background, with the KS p-value per panel."""
    plt = _plt()
    folds = sorted(scores["fold"].unique())
    fig, axes = plt.subplots(
        len(folds), 2, figsize=(8, 2.6 * len(folds)), layout="constrained", squeeze=False
    )
    bins = np.linspace(0, 1, 26)
    centres = (bins[1:] + bins[:-1]) / 2
    for row, fold in zip(axes, folds, strict=True):
        for ax, sample in zip(row, ("signal", "background"), strict=True):
            sel = (scores["fold"] == fold) & (scores["sample"] == sample)
            train = scores.loc[sel & (scores["set"] == "train"), "score"].to_numpy()
            test = scores.loc[sel & (scores["set"] == "test"), "score"].to_numpy()
            ax.hist(train, bins, density=True, alpha=0.35, label="trained on")
            h, _ = np.histogram(test, bins, density=True)
            ax.plot(centres, h, "o", ms=3, color="k", label="not seen")
            ax.set_yscale("log")
            match = ks[ks["fold"] == fold]
            p = float(match[f"ks_{sample}_pvalue"].iloc[0]) if len(match) else float("nan")
            ax.set_title(f"fold {fold}, {sample}: KS p = {p:.2g}", fontsize=9)
            ax.set_xlabel("score", fontsize=8)
            ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return fig
