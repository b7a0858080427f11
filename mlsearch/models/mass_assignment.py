"""Mass hypotheses for background events (a pNN needs one for every training row).

Three named strategies, chosen with ``train.mass_assignment``:

- ``random_grid``: a draw from the signal mass grid per event, uniform or with
  ``train.mass_probabilities``; background then appears at every hypothesis as often as
  signal does per mass point (Baldi et al., EPJC 76 (2016) 235).
- ``window``: the hypothesis whose signal window (+-window_sigma of the signal's search
  variable) contains the event's search variable, a random one of them where windows
  overlap; events in no window get a random_grid draw. The network then learns to separate
  signal from the background it really competes with at each mass.
- ``all``: every background event appears once per hypothesis, its weight divided by the
  number of hypotheses (the physics totals stay; the table grows by that factor).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlsearch.errors import ConfigError
from mlsearch.selection.windows import MIN_SIGNAL_EVENTS, search_values, signal_window

__all__ = [
    "STRATEGIES",
    "assign_background_masses",
    "background_mass_hypotheses",
    "expand_all_masses",
    "windows_containing",
]

STRATEGIES = ("random_grid", "window", "all")


def assign_background_masses(
    n: int,
    grid: list[float],
    strategy: str,
    rng: np.random.Generator,
    probabilities: list[float] | None = None,
    in_window: NDArray[np.bool_] | None = None,
) -> NDArray[np.float64]:
    """Mass hypothesis [GeV] per background event for ``random_grid`` and ``window``
    (``in_window``: (n, len(grid)), whether each event lies in each mass's signal window).
    ``all`` is :func:`expand_all_masses`.

    >>> rng = np.random.default_rng(0)
    >>> inside = np.array([[True, False], [False, False], [True, True]])
    >>> m = assign_background_masses(3, [1.0, 2.0], "window", rng, in_window=inside)
    >>> float(m[0])
    1.0
    """
    masses = np.asarray(grid, dtype=np.float64)
    p = None
    if probabilities is not None:
        p = np.asarray(probabilities, dtype=np.float64)
        p = p / p.sum()
    draw = rng.choice(masses, size=n, p=p)
    if strategy == "random_grid":
        return draw
    if strategy == "window":
        if in_window is None or in_window.shape != (n, len(masses)):
            raise ValueError("the window strategy needs in_window of shape (n, len(grid))")
        # a uniform pick among the windows that contain the event: the largest random key
        key = np.where(in_window, rng.uniform(size=in_window.shape), -1.0)
        best = np.argmax(key, axis=1)
        return np.where(in_window.any(axis=1), masses[best], draw)
    raise ConfigError(f"unknown mass-assignment strategy {strategy!r}; known: {STRATEGIES}")


def expand_all_masses(df: pd.DataFrame, grid: list[float]) -> pd.DataFrame:
    """One copy of every row per hypothesis, weights divided by the number of hypotheses."""
    copies = []
    for m in grid:
        part = df.copy()
        part["mass_hypothesis"] = float(m)
        part["weight"] = part["weight"] / len(grid)
        copies.append(part)
    return pd.concat(copies, ignore_index=True)


def windows_containing(
    df: pd.DataFrame,
    grid: list[float],
    signal_frames: dict[float, pd.DataFrame],
    rule: dict[str, Any],
    n_sigma: float,
) -> NDArray[np.bool_]:
    """(len(df), len(grid)): whether each row's search variable lies in each mass's signal
    window (measured on ``signal_frames[mass]``; a mass with too few selected signal events
    has no window and contains nothing)."""
    inside = np.zeros((len(df), len(grid)), dtype=bool)
    for j, m in enumerate(grid):
        sig = signal_frames[float(m)]
        if len(sig) < MIN_SIGNAL_EVENTS:
            continue
        window = signal_window(search_values(sig, rule, m), n_sigma)
        inside[:, j] = window.contains(search_values(df, rule, m))
    return inside


def background_mass_hypotheses(
    df: pd.DataFrame,
    grid: list[float],
    strategy: str,
    rng: np.random.Generator,
    probabilities: list[float] | None,
    signal_frames: dict[float, pd.DataFrame],
    rule: dict[str, Any],
    n_sigma: float,
) -> pd.DataFrame:
    """Background rows with their ``mass_hypothesis`` column by ``strategy``: one copy per
    mass for ``all`` (weights divided), else one draw per row (``window``: among the masses
    whose window holds it, windows from ``signal_frames``)."""
    if strategy == "all":
        return expand_all_masses(df, grid)
    inside = (
        windows_containing(df, grid, signal_frames, rule, n_sigma) if strategy == "window" else None
    )
    df["mass_hypothesis"] = assign_background_masses(
        len(df), grid, strategy, rng, probabilities, inside
    )
    return df
