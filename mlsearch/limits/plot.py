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
    low, high = float(np.nanmin(mass)), float(np.nanmax(mass))
    # (separate points need room at the edges; a continuous curve fills the axis)
    pad = 0.03 * (high - low) if np.isnan(mass).any() else 0.0
    ax.set_xlim(low - pad, high + pad)
    ax.set_xlabel("mass [GeV]", fontsize=16)
    ax.set_ylabel(ylabel, fontsize=16)
    _label(ax, corner, title, what)
    ax.legend(loc="lower right", fontsize=11, frameon=False)


def _break_at(gap_after: NDArray[np.bool_] | None, *arrays: Any) -> tuple[Any, ...]:
    """The arrays (rows per mass) with a NaN row inserted after every index where
    ``gap_after`` is true; None arrays stay None."""
    if gap_after is None or not gap_after[:-1].any():
        return arrays
    at = np.flatnonzero(gap_after[:-1]) + 1
    return tuple(
        None if a is None else np.insert(np.asarray(a, dtype=float), at, np.nan, axis=0)
        for a in arrays
    )


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
    gap_after: NDArray[np.bool_] | None = None,
) -> Any:
    """Expected median with +-1/+-2 sigma bands and the observed limit, log y.

    ``expected`` has shape (n_mass, 5): -2, -1, median, +1, +2 sigma. ``references``:
    (label, mass, value) curves drawn on top (published limits, theory targets).
    ``mc_limited``: masses whose background MC stands for less luminosity than the data,
    marked on the median. ``gap_after``: masses whose window does not reach the next one's:
    the bands and lines break there (no mass between them was searched), and every point
    gets a marker so that a lone one stays visible."""
    with _style() as plt:
        fig, ax = plt.subplots(figsize=(7, 5.5), layout="constrained")
        # (NaN rows break fill_between and plot: one gap row after each uncovered mass)
        mass, expected, observed = _break_at(gap_after, mass, expected, observed)
        ax.fill_between(
            mass, expected[:, 0], expected[:, 4], color="#ffdf00", lw=0,
            label=r"expected $\pm 2\sigma$",
        )  # fmt: skip
        ax.fill_between(
            mass, expected[:, 1], expected[:, 3], color="#00cc00", lw=0,
            label=r"expected $\pm 1\sigma$",
        )  # fmt: skip
        # a mass whose window touches neither neighbour's: its bands as bars
        lone = np.isnan(np.r_[np.nan, mass[:-1]]) & np.isnan(np.r_[mass[1:], np.nan])
        ax.vlines(mass[lone], expected[lone, 0], expected[lone, 4], color="#ffdf00", lw=9)
        ax.vlines(mass[lone], expected[lone, 1], expected[lone, 3], color="#00cc00", lw=9)
        marker = "o" if gap_after is not None and gap_after.any() else None
        ax.plot(mass, expected[:, 2], "k--", lw=1.5, marker=marker, ms=3,
                label="expected median")  # fmt: skip
        if mc_limited is not None and mc_limited.any():
            flagged = _break_at(gap_after, np.asarray(mc_limited, dtype=float))[0] == 1
            ax.plot(
                # (smaller where many points are flagged: the curve must stay readable)
                mass[flagged], expected[flagged, 2], ls="none", marker="s",
                ms=7 if flagged.sum() <= 20 else 4,
                mfc="none", mec="#c0392b", mew=1.5, label="background MC < data luminosity",
            )  # fmt: skip
        if observed is not None:
            ax.plot(mass, observed, "k-", marker="o", ms=3, lw=1.5, label=observed_label)
        styles = ["-.", ":", (0, (5, 2, 1, 2)), (0, (8, 3))]
        colors = ["#1f4e9c", "#c0392b", "#7d3c98", "#117a65"]
        for i, (label, m, values) in enumerate(references):
            ax.plot(m, values, ls=styles[i % 4], color=colors[i % 4], lw=2, label=label)
        what = f"{round(cl * 100)}% CL upper limits, CLs"
        if marker:
            what += "\nnot searched between separate points"
        _frame(ax, mass, ylabel, corner, title, what)
    return fig


def projection_plot(
    mass: FloatArray,
    medians: dict[float, FloatArray],
    ylabel: str,
    title: str,
    cl: float,
    corner: str = "",
    gap_after: NDArray[np.bool_] | None = None,
) -> Any:
    """Expected median limits versus mass, one line per integrated luminosity [fb^-1]; the
    lines break after the masses of ``gap_after`` (see :func:`brazil_plot`)."""
    with _style() as plt:
        fig, ax = plt.subplots(figsize=(7, 5.5), layout="constrained")
        for lumi, values in sorted(medians.items()):
            x, y = _break_at(gap_after, mass, values)
            ax.plot(x, y, marker="o", ms=3, lw=1.5, label=f"{lumi:g} fb$^{{-1}}$")
        mass = x if medians else mass
        _frame(ax, mass, ylabel, corner, title, f"expected median, {round(cl * 100)}% CL, CLs")
    return fig
