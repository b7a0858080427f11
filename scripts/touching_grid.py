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

import pandas as pd

from mlsearch.selection.grid import touching_grid


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
