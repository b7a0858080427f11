"""Limit-versus-mass plots ("Brazil bands") in a HEP style (mplhep's ROOT style, the
experiment label on top): pure matplotlib on arrays, returns a Figure."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["brazil_plot", "projection_plot"]

FloatArray = NDArray[np.float64]


@contextmanager
def _style() -> Iterator[Any]:
    """mplhep's ROOT style for this figure only (the caller's rcParams stay untouched)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    # (the style's mathtext asks for a cursive font most machines lack)
    with plt.style.context([mplhep.style.ROOT, {"mathtext.fontset": "dejavusans"}]):
        yield plt


def _label(ax: Any, corner: str, title: str, what: str) -> None:
    """The labels as HEP plots carry them: tool and sample above the axes on the left, the
    integrated luminosity on the right; inside, top left, the search and what is shown."""
    ax.text(
        0.0, 1.015, r"$\mathbf{mlsearch}$  $\mathit{Belle\ II\ fast\ simulation}$",
        transform=ax.transAxes, ha="left", va="bottom", fontsize=13,
    )  # fmt: skip
    ax.text(1.0, 1.015, corner, transform=ax.transAxes, ha="right", va="bottom", fontsize=12)
    ax.text(
        0.04, 0.95, f"{title}\n{what}", transform=ax.transAxes, va="top", fontsize=12,
        linespacing=1.5,
    )  # fmt: skip


def _frame(ax: Any, mass: FloatArray, ylabel: str, corner: str, title: str, what: str) -> None:
    """Log y, the mass range, axis titles, labels and the legend: what both plots share."""
    ax.set_yscale("log")
    ax.set_xlim(float(np.min(mass)), float(np.max(mass)))
    ax.set_xlabel("mass [GeV]", fontsize=16)
    ax.set_ylabel(ylabel, fontsize=16)
    _label(ax, corner, title, what)
    ax.legend(loc="lower right", fontsize=11, frameon=False)


def brazil_plot(
    mass: FloatArray,
    expected: FloatArray,
    observed: FloatArray | None,
    ylabel: str,
    title: str,
    cl: float,
    references: Sequence[tuple[str, FloatArray, FloatArray]] = (),
    observed_label: str = "observed (pseudo-data)",
    corner: str = "",
    mc_limited: NDArray[np.bool_] | None = None,
) -> Any:
    """Expected median with +-1/+-2 sigma bands and the observed limit, log y.

    ``expected`` has shape (n_mass, 5): -2, -1, median, +1, +2 sigma. ``references``:
    (label, mass, value) curves drawn on top (published limits, theory targets).
    ``mc_limited``: masses whose background MC stands for less luminosity than the data,
    marked on the median."""
    with _style() as plt:
        fig, ax = plt.subplots(figsize=(7, 5.5), layout="constrained")
        ax.fill_between(
            mass, expected[:, 0], expected[:, 4], color="#ffdf00", lw=0,
            label=r"expected $\pm 2\sigma$",
        )  # fmt: skip
        ax.fill_between(
            mass, expected[:, 1], expected[:, 3], color="#00cc00", lw=0,
            label=r"expected $\pm 1\sigma$",
        )  # fmt: skip
        ax.plot(mass, expected[:, 2], "k--", lw=1.5, label="expected median")
        if mc_limited is not None and mc_limited.any():
            ax.plot(
                mass[mc_limited], expected[mc_limited, 2], ls="none", marker="s", ms=7,
                mfc="none", mec="#c0392b", mew=1.5, label="background MC < data luminosity",
            )  # fmt: skip
        if observed is not None:
            ax.plot(mass, observed, "k-", marker="o", ms=3, lw=1.5, label=observed_label)
        styles = ["-.", ":", (0, (5, 2, 1, 2)), (0, (8, 3))]
        colors = ["#1f4e9c", "#c0392b", "#7d3c98", "#117a65"]
        for i, (label, m, values) in enumerate(references):
            ax.plot(m, values, ls=styles[i % 4], color=colors[i % 4], lw=2, label=label)
        _frame(ax, mass, ylabel, corner, title, f"{round(cl * 100)}% CL upper limits, CLs")
    return fig


def projection_plot(
    mass: FloatArray,
    medians: dict[float, FloatArray],
    ylabel: str,
    title: str,
    cl: float,
    corner: str = "",
) -> Any:
    """Expected median limits versus mass, one line per integrated luminosity [fb^-1]."""
    with _style() as plt:
        fig, ax = plt.subplots(figsize=(7, 5.5), layout="constrained")
        for lumi, values in sorted(medians.items()):
            ax.plot(mass, values, marker="o", ms=3, lw=1.5, label=f"{lumi:g} fb$^{{-1}}$")
        _frame(ax, mass, ylabel, corner, title, f"expected median, {round(cl * 100)}% CL, CLs")
    return fig
