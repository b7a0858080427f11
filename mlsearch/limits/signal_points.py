"""The signal at one mass hypothesis, as the limits need it: its window in the search variable,
the distribution of its classifier score inside the window, its expected events; measured at
the generated masses and interpolated between them.

The score distribution is kept as its quantile function on a fixed grid of probability levels,
so that two neighbouring masses interpolate by *horizontal morphing* (A. L. Read, NIM A 425
(1999) 357): Q_m(p) = (1 - t) Q_a(p) + t Q_b(p). Window centre and width, selection efficiency
interpolate linearly in the mass, the production cross section by a monotone cubic through all
generated masses (times the exact branching fraction); the centre relative to its nominal
value (m or m^2, by the unit of the search variable), so that a mass-squared variable is not
bent by a straight line between grid points.

The morphing assumes that the classifier follows the mass hypothesis smoothly, as the pNN
does; the pBDT is piecewise constant between its training masses (a signal halfway between
two grid masses scores like neither), so the limits stage interpolates with the pNN only
(closure for both: docs/validation.md).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from mlsearch.selection.windows import MassWindow

__all__ = [
    "N_LEVELS",
    "SignalPoint",
    "cross_section_curve",
    "interpolate_point",
    "interpolate_points",
    "measure_point",
    "window_gaps",
]

FloatArray = NDArray[np.float64]
N_LEVELS = 1000  # probability levels of the stored score quantile function


@dataclass(frozen=True)
class SignalPoint:
    """One mass hypothesis [GeV]: window, score quantiles Q(p) at p = (k + 1/2) / N_LEVELS,
    selected signal events in the window at the reference coupling (``n_ref``, for the
    config's luminosity), sigma x B at that coupling [fb] and the selection efficiency
    (n_ref / (sigma L)); ``interpolated`` when no sample was generated at this mass."""

    mass: float
    window: MassWindow
    score_quantiles: FloatArray
    n_ref: float
    cross_section_ref_fb: float
    coupling_ref: float
    efficiency: float
    interpolated: bool = False

    def pseudo_events(self) -> tuple[FloatArray, FloatArray]:
        """(scores, expected events): N_LEVELS equal-weight points of the score distribution."""
        return self.score_quantiles, np.full(N_LEVELS, self.n_ref / N_LEVELS)


def _weighted_quantiles(values: FloatArray, weights: FloatArray) -> FloatArray:
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    levels = (np.arange(N_LEVELS) + 0.5) / N_LEVELS
    return np.interp(levels, cdf, v)


def measure_point(
    mass: float,
    window: MassWindow,
    scores: FloatArray,
    events: FloatArray,
    cross_section_ref_fb: float,
    coupling_ref: float,
    luminosity_fb: float,
) -> SignalPoint:
    """The signal point of a generated mass from its selected events in the window: their
    classifier scores at ``mass`` and expected events (weights x luminosity)."""
    n_ref = float(events.sum())
    return SignalPoint(
        mass,
        window,
        _weighted_quantiles(scores, events),
        n_ref,
        cross_section_ref_fb,
        coupling_ref,
        n_ref / (cross_section_ref_fb * luminosity_fb),
    )


def interpolate_point(
    a: SignalPoint, b: SignalPoint, mass: float, power: int, cross_section_fb: float | None = None
) -> SignalPoint:
    """The point at ``mass`` between the points ``a`` and ``b`` (``power``: see
    :func:`interpolate_points`); the cross section log-linear unless given."""
    t = (mass - a.mass) / (b.mass - a.mass)

    def lerp(x: float, y: float) -> float:
        return (1 - t) * x + t * y

    offset = lerp(a.window.center - a.mass**power, b.window.center - b.mass**power)
    center = mass**power + offset
    sigma = lerp(a.window.sigma, b.window.sigma)
    n_sigma = (a.window.center - a.window.low) / a.window.sigma  # the config's window_sigma
    window = MassWindow(center, sigma, center - n_sigma * sigma, center + n_sigma * sigma)
    xsec = cross_section_fb or math.exp(
        lerp(math.log(a.cross_section_ref_fb), math.log(b.cross_section_ref_fb))
    )
    efficiency = lerp(a.efficiency, b.efficiency)
    return replace(
        a,
        mass=mass,
        window=window,
        score_quantiles=(1 - t) * a.score_quantiles + t * b.score_quantiles,
        n_ref=efficiency * xsec * (a.n_ref / (a.efficiency * a.cross_section_ref_fb)),
        cross_section_ref_fb=xsec,
        efficiency=efficiency,
        interpolated=True,
    )


def cross_section_curve(
    points: list[SignalPoint], branching: Callable[[float], float]
) -> Callable[[float], float]:
    """sigma x B at the reference coupling [fb] versus mass: the production cross section
    sigma = (sigma x B) / B by a monotone cubic (PCHIP) in log sigma through all generated
    points, times the exact branching fraction ``branching(m)`` (which has thresholds, e.g.
    Z' -> tau tau at 3.55 GeV, that no interpolation would see)."""
    from scipy.interpolate import PchipInterpolator

    points = sorted(points, key=lambda p: p.mass)
    masses = np.array([p.mass for p in points])
    log_prod = np.log([p.cross_section_ref_fb / branching(p.mass) for p in points])
    if len(points) >= 3:
        curve = PchipInterpolator(masses, log_prod)
        return lambda m: float(np.exp(curve(m))) * branching(m)
    return lambda m: float(np.exp(np.interp(m, masses, log_prod))) * branching(m)


#: 'auto' never puts more than this many points into one gap (a window of zero width)
MAX_POINTS_PER_GAP = 200


def _touching(a: SignalPoint, b: SignalPoint, power: int) -> int:
    """The fewest evenly spaced points between ``a`` and ``b`` whose interpolated windows,
    with those of ``a`` and ``b``, leave no gap in the search variable."""
    for k in range(MAX_POINTS_PER_GAP + 1):
        masses = [a.mass + (b.mass - a.mass) * j / (k + 1) for j in range(1, k + 1)]
        windows = [a.window, *(interpolate_point(a, b, m, power).window for m in masses), b.window]
        if all(w2.low <= w1.high for w1, w2 in itertools.pairwise(windows)):
            return k
    return MAX_POINTS_PER_GAP


def interpolate_points(
    points: list[SignalPoint],
    between: int | str,
    power: int,
    branching: Callable[[float], float] = lambda m: 1.0,
) -> list[SignalPoint]:
    """The generated points (sorted by mass) with ``between`` evenly spaced interpolated
    points in each gap ('auto': in each gap as many as make the windows touch); ``power``:
    1 for a search variable in GeV, 2 in GeV^2; ``branching``: the signal's branching
    fraction into the searched final state vs mass."""
    points = sorted(points, key=lambda p: p.mass)
    if between == 0 or len(points) < 2:
        return points
    xsec = cross_section_curve(points, branching)
    out: list[SignalPoint] = []
    for a, b in itertools.pairwise(points):
        out.append(a)
        k = _touching(a, b, power) if between == "auto" else int(between)
        for j in range(1, k + 1):
            mass = a.mass + (b.mass - a.mass) * j / (k + 1)
            out.append(interpolate_point(a, b, mass, power, xsec(mass)))
    out.extend(points[-1:])
    return out


def window_gaps(points: list[SignalPoint]) -> list[float]:
    """Per point (sorted by mass), the gap between its window and the next one's in the
    search variable (0 where they touch or overlap; 0 for the last point).

    >>> p = [SignalPoint(m, MassWindow(m, 0.1, m - 0.2, m + 0.2), np.zeros(1), 1, 1, 1, 1)
    ...      for m in (1.0, 1.3, 2.0)]
    >>> [round(g, 3) for g in window_gaps(p)]
    [0.0, 0.3, 0.0]
    """
    points = sorted(points, key=lambda p: p.mass)
    gaps = [max(0.0, b.window.low - a.window.high) for a, b in itertools.pairwise(points)]
    return [*gaps, 0.0] if points else []
