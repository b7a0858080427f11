"""The grid of touching windows (selection/grid.py), on windows of known width."""

from __future__ import annotations

import numpy as np
import pytest

from mlsearch.selection.grid import touching_grid


@pytest.mark.parametrize("squared", [True, False])
def test_consecutive_windows_overlap_and_the_grid_spans_the_range(squared: bool) -> None:
    measured = np.array([0.5, 2.0, 5.0, 8.0])
    centre = measured**2 if squared else measured
    half = 0.2 + 0.05 * measured  # the resolution grows with the mass
    grid = touching_grid(measured, centre - half, centre + half, 0.5, 8.0, overlap=0.1)
    assert grid[0] == 0.5 and grid[-1] == 8.0 and np.all(np.diff(grid) > 0)
    m = np.array(grid)
    c = m**2 if squared else m
    h = np.interp(m, measured, half)
    overlap = (c[:-1] + h[:-1]) - (c[1:] - h[1:])
    assert np.all(overlap >= 0.1 * 2 * np.minimum(h[:-1], h[1:]) - 1e-6)  # every pair touches
    # and not wastefully: each step but the last is as long as the overlap allows, +- a step
    assert np.all(overlap[:-1] < 0.1 * 2 * np.minimum(h[:-2], h[1:-1]) + 0.05)
