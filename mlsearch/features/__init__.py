"""Feature builders, one module per search. :func:`get_builder` returns the search's builder."""

from __future__ import annotations

from mlsearch.features.spec import FeatureBuilder, FeatureSpec

__all__ = ["FeatureBuilder", "FeatureSpec", "get_builder"]


def get_builder(search: str) -> FeatureBuilder:
    """The feature builder of a search (configs/<search>.yaml's ``search`` key)."""
    if search == "zprime_invisible":
        from mlsearch.features.zprime_invisible import BUILDER

        return BUILDER
    raise ValueError(f"no feature builder for search {search!r}")
