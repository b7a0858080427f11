"""A signal mass grid whose search windows overlap, from the windows a run measured: how the
default configs' grids were made (scripts/touching_grid.py prints one)."""

from __future__ import annotations

import numpy as np

__all__ = ["touching_grid"]


def touching_grid(
    masses: np.ndarray, low: np.ndarray, high: np.ndarray, start: float, stop: float,
    overlap: float = 0.1, step: float = 0.001,
) -> list[float]:  # fmt: skip
    """Masses [GeV] from ``start`` to ``stop`` whose windows overlap by ``overlap`` of the
    narrower width, given measured windows ``(low, high)`` at ``masses``.

    >>> m = np.array([1.0, 2.0]); touching_grid(m, m**2 - 0.5, m**2 + 0.5, 1.0, 1.5)
    [1.0, 1.378, 1.5]
    >>> mid = np.array([0.5, 1.0]); touching_grid(mid, 0.9 * mid, 1.1 * mid, 0.5, 1.0)
    [0.5, 0.6, 0.72, 0.864, 1.0]
    """
    mid = (low + high) / 2
    squared = np.median(np.abs(mid - masses**2)) < np.median(np.abs(mid - masses))

    def centre(m: float) -> float:
        return m * m if squared else m

    def half(m: float) -> float:  # linear in the mass, flat beyond the measured ones
        return float(np.interp(m, masses, (high - low) / 2))

    grid = [start]
    while grid[-1] < stop - 1e-9:
        m0, m = grid[-1], grid[-1]
        while m + step <= stop:
            nxt = m + step
            need = overlap * 2 * min(half(m0), half(nxt))
            if centre(nxt) - half(nxt) > centre(m0) + half(m0) - need:
                break
            m = nxt
        # the last window reaches the end: close the grid there, not a step before it
        grid.append(stop if m + step > stop else round(max(m, m0 + step), 3))
    return grid
