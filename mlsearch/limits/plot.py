"""Limit-versus-mass plots ("Brazil bands"): pure matplotlib on arrays, returns a Figure."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["brazil_plot", "projection_plot"]


def brazil_plot(
    mass: NDArray[np.float64],
    expected: NDArray[np.float64],
    observed: NDArray[np.float64] | None,
    ylabel: str,
    title: str,
    cl: float,
) -> Any:
    """Expected median with +-1/+-2 sigma bands and the observed limit, log y.

    ``expected`` has shape (n_mass, 5): -2, -1, median, +1, +2 sigma.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
    ax.fill_between(
        mass, expected[:, 0], expected[:, 4], color="#ffdf00", label=r"expected $\pm 2\sigma$"
    )
    ax.fill_between(
        mass, expected[:, 1], expected[:, 3], color="#00cc00", label=r"expected $\pm 1\sigma$"
    )
    ax.plot(mass, expected[:, 2], "k--", label="expected median")
    if observed is not None:
        ax.plot(mass, observed, "k-", marker="o", ms=3, label="observed (pseudo-data)")
    ax.set_yscale("log")
    ax.set_xlabel("mass [GeV]")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.text(
        0.02,
        0.97,
        f"{round(cl * 100)}% CL upper limits, CLs",
        transform=ax.transAxes,
        va="top",
        fontsize=9,
    )
    ax.legend(loc="lower right", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    return fig


def projection_plot(
    mass: NDArray[np.float64],
    medians: dict[float, NDArray[np.float64]],
    ylabel: str,
    title: str,
    cl: float,
) -> Any:
    """Expected median limits versus mass, one line per integrated luminosity [fb^-1]."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
    for lumi, values in sorted(medians.items()):
        ax.plot(mass, values, marker="o", ms=3, label=f"{lumi:g} fb$^{{-1}}$")
    ax.set_yscale("log")
    ax.set_xlabel("mass [GeV]")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.text(
        0.02, 0.97, f"expected median, {round(cl * 100)}% CL, CLs", transform=ax.transAxes,
        va="top", fontsize=9,
    )  # fmt: skip
    ax.legend(loc="lower right", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    return fig
