"""Signal windows in the search variable, from the signal sample's own resolution, and the
selection inside one: the one place where training (Punzi loss), evaluation, the
leave-one-mass-out test and the limits decide which events a mass hypothesis sees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlsearch.errors import InputError

__all__ = [
    "MIN_SIGNAL_EVENTS",
    "MassWindow",
    "WindowSelection",
    "search_values",
    "select_window",
    "signal_window",
]

#: selected signal events needed to measure a window (its median and 68 % interval); a mass
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


def signal_window(values: NDArray[np.float64], n_sigma: float) -> MassWindow:
    """Window of +-n_sigma around the signal median; sigma is half the central 68 % interval
    (robust against the low-side radiative and high-side resolution tails).

    >>> rng = np.random.default_rng(1)
    >>> w = signal_window(rng.normal(4.0, 0.5, 200_000), 2.0)
    >>> round(w.center, 2), round(w.sigma, 2), round(w.low, 1), round(w.high, 1)
    (4.0, 0.5, 3.0, 5.0)
    """
    if len(values) < MIN_SIGNAL_EVENTS:
        raise InputError(
            f"too few signal events ({len(values)}) to measure a resolution: at least "
            f"{MIN_SIGNAL_EVENTS} selected events are needed; raise the signal's n_events"
        )
    q16, q50, q84 = np.quantile(values, [0.16, 0.5, 0.84])
    sigma = float(q84 - q16) / 2
    return MassWindow(float(q50), sigma, float(q50 - n_sigma * sigma), float(q50 + n_sigma * sigma))


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
