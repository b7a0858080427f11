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

    The scan range is doubled until the +2 sigma expected limit lies inside it, and shrunk
    when the -2 sigma limit falls below the second scan point.
    """
    import pyhf

    pyhf.set_backend("numpy")
    workspace = pyhf.Workspace(spec)
    model = workspace.model(
        modifier_settings={"normsys": {"interpcode": "code4"}, "histosys": {"interpcode": "code4p"}}
    )
    data = workspace.data(model)
    bounds = model.config.suggested_bounds()
    for _ in range(8):
        # the POI bound must hold the scan and pyhf's initial value mu = 1
        bounds[model.config.poi_index] = (0.0, max(1.5 * mu_max, 1.5))
        # mu = 0 has qmu_A = 0 (0/0 in CLs): start one step above it
        scan = np.linspace(mu_max / points, mu_max, points)
        with np.errstate(divide="ignore", invalid="ignore"):  # pyhf's 0/0 in far tails
            obs, exp = pyhf.infer.intervals.upper_limits.upper_limit(
                data, model, scan=scan, level=1 - cl, par_bounds=bounds, test_stat="qtilde"
            )
        expected = tuple(float(e) for e in exp)
        values = (*expected, float(obs))
        if not all(np.isfinite(values)):
            raise RuntimeError(f"CLs scan gave non-finite limits {values}")
        if max(values) > 0.95 * mu_max:
            mu_max *= 2
        elif min(values) < scan[1]:
            mu_max /= 4
        else:
            return LimitBands(float(obs), expected)  # type: ignore[arg-type]
    raise RuntimeError(f"no CLs scan range brackets the limits (last mu_max = {mu_max:g})")
