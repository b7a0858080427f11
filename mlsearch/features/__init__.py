"""Feature builders, one module per search. :func:`get_builder` returns the search's builder."""

from __future__ import annotations

import importlib

from mlsearch.errors import ConfigError
from mlsearch.features.spec import FeatureBuilder, FeatureSpec

__all__ = ["FeatureBuilder", "FeatureSpec", "get_builder"]

_MODULES = {
    "zprime_invisible": "mlsearch.features.zprime_invisible",
    "lfv_zprime": "mlsearch.features.lfv_zprime",
    "alp": "mlsearch.features.alp",
    "dark_photon": "mlsearch.features.dark_photon",
}


def get_builder(search: str) -> FeatureBuilder:
    """The feature builder of a search (configs/<search>.yaml's ``search`` key)."""
    if search not in _MODULES:
        raise ConfigError(f"no feature builder for search {search!r}; known: {', '.join(_MODULES)}")
    builder: FeatureBuilder = importlib.import_module(_MODULES[search]).BUILDER
    return builder
