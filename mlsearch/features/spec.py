"""What a feature builder declares: its features (names, units, ranges) and search variable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlsearch.config import FeaturesConfig

__all__ = ["BOOKKEEPING_COLUMNS", "FeatureBuilder", "FeatureSpec", "search_values"]

#: columns every feature table carries besides the features and spectators
BOOKKEEPING_COLUMNS = ("mass_hypothesis", "label", "weight", "fold", "event", "process")


@dataclass(frozen=True)
class FeatureSpec:
    """One classifier input: name, unit and the range expected for physical events."""

    name: str
    unit: str
    low: float
    high: float
    description: str


@dataclass(frozen=True)
class FeatureBuilder:
    """A search's feature builder: ``build(reco_events, config) -> DataFrame`` of one row per
    selected event with the features, the spectators and ``event`` and ``weight``."""

    search: str
    features: tuple[FeatureSpec, ...]
    search_variable: str
    spectators: tuple[str, ...]
    build: Callable[[ak.Array, FeaturesConfig], pd.DataFrame]
    #: how the search variable is read from the table (see :func:`search_values`); default:
    #: the column named ``search_variable``
    search_rule: dict[str, Any] | None = None
    #: unit of the search variable: "GeV" (a mass) or "GeV^2" (a mass squared)
    search_unit: str = "GeV"

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def rule(self) -> dict[str, Any]:
        return self.search_rule or {"column": self.search_variable}


def search_values(table: pd.DataFrame, rule: dict[str, Any], mass: float) -> NDArray[np.float64]:
    """The search variable of each row at the mass hypothesis ``mass`` [GeV], by the rule a
    feature table records in its metadata: {"column": name} reads a column;
    {"closest_to_mass": [names]} takes, per row, the value of those columns (masses, GeV)
    nearest to the hypothesis (e.g. the diphoton pair of three photons that best fits it)."""
    if "column" in rule:
        return table[rule["column"]].to_numpy(dtype=np.float64)
    if "closest_to_mass" in rule:
        values = table[list(rule["closest_to_mass"])].to_numpy(dtype=np.float64)
        if not len(values):
            return np.zeros(0)
        pick = np.argmin(np.abs(values - mass), axis=1)
        return values[np.arange(len(values)), pick]
    raise ValueError(f"unknown search-variable rule {rule!r}")
