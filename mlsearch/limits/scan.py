"""Asymptotic CLs upper limits on the signal strength with expected bands (pyhf)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["LimitBands", "upper_limit"]


@dataclass(frozen=True)
class LimitBands:
    """Upper limits on mu: observed and expected (-2, -1, median, +1, +2 sigma)."""

    observed: float
    expected: tuple[float, float, float, float, float]


def upper_limit(spec: dict[str, Any], cl: float, mu_max: float, points: int) -> LimitBands:
    """CLs upper limits at confidence level ``cl`` by a linear scan of mu in [0, mu_max],
    interpolated (pyhf.infer.intervals.upper_limits.upper_limit, qtilde, asymptotics).

    The scan range is doubled until the +2 sigma expected limit lies inside it.
    """
    import pyhf

    pyhf.set_backend("numpy")
    workspace = pyhf.Workspace(spec)
    model = workspace.model(modifier_settings={"normsys": {"interpcode": "code4"},
                                               "histosys": {"interpcode": "code4p"}})
    data = workspace.data(model)
    bounds = model.config.suggested_bounds()
    for _ in range(8):
        bounds[model.config.poi_index] = (0.0, 1.5 * mu_max)
        scan = np.linspace(0.0, mu_max, points)
        obs, exp = pyhf.infer.intervals.upper_limits.upper_limit(
            data, model, scan=scan, level=1 - cl, par_bounds=bounds, test_stat="qtilde")
        expected = tuple(float(e) for e in exp)
        if expected[-1] < 0.95 * mu_max and float(obs) < 0.95 * mu_max:
            return LimitBands(float(obs), expected)  # type: ignore[arg-type]
        mu_max *= 2
    raise RuntimeError(f"limit above mu = {mu_max} after widening the scan")
