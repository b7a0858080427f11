"""What a feature builder declares: its features (names, units, ranges) and search variable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import awkward as ak
import pandas as pd

from mlsearch.config import FeaturesConfig

__all__ = ["BOOKKEEPING_COLUMNS", "FeatureBuilder", "FeatureSpec"]

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
