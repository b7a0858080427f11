"""Mass-parametrised classifiers with one interface: :func:`make_model` builds one by name."""

from __future__ import annotations

from typing import Any

from mlsearch.errors import ConfigError
from mlsearch.models.base import ParametrisedClassifier

__all__ = ["MODEL_TYPES", "ParametrisedClassifier", "make_model"]

MODEL_TYPES = ("pbdt", "pnn")


def make_model(kind: str, params: Any, seed: int, client: Any = None) -> ParametrisedClassifier:
    """A new, untrained classifier of ``kind`` ('pbdt' or 'pnn') with its config section;
    ``client`` (a dask.distributed Client) trains the pBDT on the cluster's workers."""
    if kind == "pbdt":
        from mlsearch.models.pbdt import PBDT

        return PBDT(params, seed, client)
    if kind == "pnn":
        from mlsearch.models.pnn import PNN

        return PNN(params, seed)
    raise ConfigError(f"unknown model type {kind!r}; known: {', '.join(MODEL_TYPES)}")
