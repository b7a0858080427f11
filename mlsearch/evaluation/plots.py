"""Evaluation plots: pure matplotlib on arrays, each returns a Figure."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["auc_vs_mass", "score_distributions"]


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
