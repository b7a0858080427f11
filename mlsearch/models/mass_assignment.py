"""Mass hypotheses for background events (a pNN needs one for every training row)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["assign_background_masses"]


def assign_background_masses(
    n: int, grid: list[float], strategy: str, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Mass hypothesis [GeV] per background event.

    ``random_grid``: uniform draws from the signal mass grid, so that background appears at
    every hypothesis as often as signal does per mass point.
    """
    if strategy != "random_grid":
        raise ValueError(f"unknown mass-assignment strategy {strategy!r}")
    return rng.choice(np.asarray(grid, dtype=np.float64), size=n)
