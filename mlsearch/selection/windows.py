"""Signal windows in the search variable, from the signal sample's own resolution, and the
selection inside one: the one place where training (Punzi loss), evaluation, the
leave-one-mass-out test and the limits decide which events a mass hypothesis sees."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlsearch.errors import InputError

__all__ = [
    "MIN_SIGNAL_EVENTS",
    "NEIGHBOURHOOD_WIDTHS",
    "MassWindow",
    "WindowSelection",
    "search_values",
    "select_window",
    "signal_window",
]

#: selected signal events needed to measure a window (the core of its peak); a mass
#: with fewer is not trained on, evaluated or given a limit (the limits table says why)
MIN_SIGNAL_EVENTS = 10


@dataclass(frozen=True)
class MassWindow:
    """[low, high] around ``center``; ``sigma`` is the signal resolution (same unit: GeV or
    GeV^2, that of the search variable)."""

    center: float
    sigma: float
    low: float
    high: float

    def contains(self, values: NDArray[np.float64]) -> NDArray[np.bool_]:
        return (values >= self.low) & (values <= self.high)

    def widened(self, widths: float) -> MassWindow:
        """The window extended by ``widths`` times its own width on each side.

        >>> MassWindow(2.0, 0.5, 1.0, 3.0).widened(3.0)
        MassWindow(center=2.0, sigma=0.5, low=-5.0, high=9.0)
        """
        pad = widths * (self.high - self.low)
        return MassWindow(self.center, self.sigma, self.low - pad, self.high + pad)


#: the neighbourhood of a window, in window widths on each side: the background rows the
#: training scores at a mass, and what the sculpting ratio compares the window with (on
#: grids whose windows touch: the next windows on either side). Scoring every background row
#: at every mass cost 63 % of the Z' training stage (1.1e6 rows x 61 masses x 2 models); at
#: 3 widths a side the out-of-fold scores of 9.5e6 rows were 6.2 (row, mass) pairs per row
#: and 4.3 of the Z' training's 11.8 min, at one width 2.7 pairs per row
NEIGHBOURHOOD_WIDTHS = 1.0


def search_values(table: pd.DataFrame, rule: dict[str, Any], mass: float) -> NDArray[np.float64]:
    """The search variable of each row at the mass hypothesis ``mass`` [GeV], by the rule a
    feature table records in its metadata: {"column": name} reads a column;
    {"closest_to_mass": [names]} takes, per row, the value of those columns (masses, GeV)
    nearest to the hypothesis (e.g. the diphoton pair of three photons that best fits it).

    >>> t = pd.DataFrame({"m12": [1.0, 3.0], "m13": [2.1, 0.5]})
    >>> search_values(t, {"closest_to_mass": ["m12", "m13"]}, 2.0).tolist()
    [2.1, 3.0]
    """
    if "column" in rule:
        return table[rule["column"]].to_numpy(dtype=np.float64)
    if "closest_to_mass" in rule:
        values = table[list(rule["closest_to_mass"])].to_numpy(dtype=np.float64)
        if not len(values):
            return np.zeros(0)
        pick = np.argmin(np.abs(values - mass), axis=1)
        return values[np.arange(len(values)), pick]
    raise InputError(
        f"unknown search-variable rule {rule!r} in the feature table's metadata (expected "
        "{'column': name} or {'closest_to_mass': [names]})"
    )


#: the core of a signal peak: the shortest interval holding this share of the signal events
CORE_FRACTION = 0.5
#: half-width of the shortest interval holding half of a Gaussian, in its sigma
_CORE_HALF_WIDTH = 0.6744897501960817


def signal_window(values: NDArray[np.float64], n_sigma: float) -> MassWindow:
    """Window of +-n_sigma around the core of the signal peak. The core is the shortest
    interval holding half of the signal events: its half-width over 0.674 is the sigma, the
    median of the events within +-n_sigma of it the centre (for a Gaussian peak: the median
    and half of the central 68 %).
    Radiation gives the peaks one-sided tails (an ISR or FSR photon lost: a third of the
    Z' events move the recoil mass squared by more than 0.3 GeV^2), which the central 68 %
    would measure instead of the resolution (1.7 GeV^2 instead of 0.12 for a 3 GeV Z' at
    truth level); the core is what a fit of a peak with a tail (Crystal Ball) calls sigma.

    >>> rng = np.random.default_rng(1)
    >>> w = signal_window(rng.normal(4.0, 0.5, 200_000), 2.0)
    >>> round(w.center, 2), round(w.sigma, 2), round(w.low, 1), round(w.high, 1)
    (4.0, 0.5, 3.0, 5.0)
    >>> tail = np.concatenate([rng.normal(4.0, 0.5, 140_000), 4 + rng.exponential(5, 60_000)])
    >>> round(signal_window(tail, 2.0).sigma, 1)  # near the core's 0.5; the central 68 %: 1.8
    0.7
    """
    if len(values) < MIN_SIGNAL_EVENTS:
        raise InputError(
            f"too few signal events ({len(values)}) to measure a resolution: at least "
            f"{MIN_SIGNAL_EVENTS} selected events are needed; raise the signal's n_events"
        )
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    n = len(ordered)
    k = max(2, math.ceil(CORE_FRACTION * n))
    widths = ordered[k - 1 :] - ordered[: n - k + 1]
    i = int(np.argmin(widths))
    low, high = float(ordered[i]), float(ordered[i + k - 1])
    sigma = (high - low) / 2 / _CORE_HALF_WIDTH
    # the centre: the median within +-n_sigma of the core (the shortest interval's own
    # midpoint wanders along a flat top)
    mid = (low + high) / 2
    near = ordered[
        np.searchsorted(ordered, mid - n_sigma * sigma) : np.searchsorted(
            ordered, mid + n_sigma * sigma, side="right"
        )
    ]
    center = float(np.median(near))
    return MassWindow(center, sigma, center - n_sigma * sigma, center + n_sigma * sigma)


@dataclass(frozen=True)
class WindowSelection:
    """The events one mass hypothesis sees: the window measured on its signal, which signal
    and background rows fall inside, the in-window signal in events at the luminosity and
    the selection efficiency before any classifier cut."""

    window: MassWindow
    signal_in: NDArray[np.bool_]
    background_in: NDArray[np.bool_]
    signal_events: NDArray[np.float64]
    efficiency: float


def select_window(
    signal: pd.DataFrame,
    background: pd.DataFrame,
    rule: dict[str, Any],
    mass: float,
    n_sigma: float,
    luminosity_fb: float,
    cross_section_fb: float,
    share: float = 1.0,
) -> WindowSelection:
    """Measure the window of ``mass`` [GeV] on ``signal`` (its selected events at that mass)
    and select both tables inside it. Efficiency = in-window signal events / (sigma x L x
    share), ``share`` the fraction of the generated sample the signal rows stand for (one
    fold: its share of the selected rows); ``cross_section_fb`` is the sample's sigma x B."""
    window = signal_window(search_values(signal, rule, mass), n_sigma)
    s_in = window.contains(search_values(signal, rule, mass))
    b_in = window.contains(search_values(background, rule, mass))
    events = signal["weight"].to_numpy()[s_in] * luminosity_fb
    expected = cross_section_fb * luminosity_fb * share
    efficiency = float(events.sum() / expected) if expected > 0 else 0.0
    return WindowSelection(window, s_in, b_in, events, efficiency)
