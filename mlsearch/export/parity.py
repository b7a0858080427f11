"""Parity of an exported ONNX model with the native model it came from."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import onnx
from numpy.typing import NDArray

from mlsearch.errors import ModelError
from mlsearch.scoring import stack_inputs

__all__ = ["ParityError", "max_abs_difference", "onnx_session", "parity_masses"]


class ParityError(ModelError):
    """ONNX and native scores differ by more than the tolerance, or an exported model breaks
    the contract."""


def onnx_session(model: onnx.ModelProto | str, threads: int = 1) -> object:
    """An onnxruntime CPU session for a model proto or a file path."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    source = model.SerializeToString() if isinstance(model, onnx.ModelProto) else model
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def parity_masses(grid: list[float]) -> list[float]:
    """Masses to check [GeV]: the grid edges, every grid point, and the midpoints between
    neighbours (off-grid)."""
    mids = [(a + b) / 2 for a, b in itertools.pairwise(grid)]
    return sorted(set(grid) | set(mids))


def max_abs_difference(
    native: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.floating]],
    session: object,
    features: NDArray[np.float64],
    masses: list[float],
) -> dict[float, float]:
    """max |native - onnx| per mass hypothesis on the given feature rows."""
    out = {}
    for m in masses:
        mass = np.full(len(features), m)
        ref = np.asarray(native(features, mass), dtype=np.float64).reshape(-1)
        got = session.run(["score"], {"input": stack_inputs(features, mass)})[0]  # type: ignore[attr-defined]
        out[m] = float(np.max(np.abs(ref - np.asarray(got, dtype=np.float64).reshape(-1))))
    return out
