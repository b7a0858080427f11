"""A signal mass grid whose search windows overlap, from the windows a run measured.

    ./dev python scripts/touching_grid.py DIR/results/<search>/limits.csv --low 0.5 --high 8

reads each generated mass's window (window_low, window_high in the search variable: the
mass or the mass squared) from a limits.csv, interpolates the window's half-width linearly
in the mass (flat beyond the measured masses), and steps from ``--low`` to ``--high``: each
next mass is the largest one whose window still overlaps the previous one's by
``--overlap`` (a fraction of the narrower width; default 0.1, so the windows still touch
when a new run measures them a little narrower). Prints the grid as a YAML list.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("limits", type=Path, help="a limits.csv with window_low/window_high")
    parser.add_argument("--low", type=float, required=True, help="first mass [GeV]")
    parser.add_argument("--high", type=float, required=True, help="last mass [GeV]")
    parser.add_argument("--overlap", type=float, default=0.1)
    args = parser.parse_args()
    df = pd.read_csv(args.limits).sort_values("mass")
    df = df[df["window_high"] > df["window_low"]]
    grid = touching_grid(
        df["mass"].to_numpy(float), df["window_low"].to_numpy(float),
        df["window_high"].to_numpy(float), args.low, args.high, args.overlap,
    )  # fmt: skip
    print(f"# {len(grid)} masses, windows overlapping by {args.overlap:.0%} ({args.limits})")
    print("[" + ", ".join(f"{m:g}" for m in grid) + "]")


if __name__ == "__main__":
    main()
