"""The interface both classifiers implement.

Inputs are ``features`` (n, n_features) and ``mass`` (n,) [GeV]; internally the mass is the last
input column (mlsearch.scoring.stack_inputs), which is also the ONNX contract (docs/onnx.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import onnx
from numpy.typing import NDArray

if TYPE_CHECKING:
    from mlsearch.models.punzi_loss import PunziTarget

__all__ = ["ParametrisedClassifier"]

FloatArray = NDArray[np.float64]


class ParametrisedClassifier(Protocol):
    """fit / score / save / load / to_onnx, shared by the pBDT and the pNN."""

    kind: str
    history: dict[str, list[float]]

    def fit(
        self,
        features: FloatArray,
        mass: FloatArray,
        label: NDArray[np.integer],
        weight: FloatArray,
        punzi: PunziTarget | None = None,
    ) -> None:
        """Train on weighted events; weights are relative training weights; ``punzi``: the
        signal windows for Punzi-loss fine-tuning (pNN only)."""

    def score(self, features: FloatArray, mass: FloatArray) -> NDArray[np.float32]:
        """Signal probability in [0, 1] per row, shape (n,)."""

    def save(self, path: Path) -> None:
        """Write the native model (trusted, local use only)."""

    def load(self, path: Path) -> None:
        """Read a native model written by :meth:`save`."""

    def to_onnx(self, n_features: int) -> onnx.ModelProto:
        """ONNX graph: input 'input' float32 (N, n_features + 1) -> 'score' (N, 1)."""
