"""How events meet a parametrised classifier: the input row (the features, then the mass
hypothesis [GeV] as the last column, float32: also the ONNX contract, docs/onnx.md), the
k-fold rule by event number (and the halves of the events that are not folds), and the
routing of each event to the fold model that did not train on it. Training (out-of-fold
scores), export (parity of the fold-aware graph) and the limits (ONNX scores) all score
through :func:`score_by_fold`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["event_hash", "fold_of", "mc_half", "score_by_fold", "stack_inputs"]

#: a fold model's scores of (features (n, k), mass (n,) [GeV]) -> (n,)
ScoreFunction = Callable[[NDArray[Any], NDArray[Any]], NDArray[Any]]


def stack_inputs(features: NDArray[np.floating], mass: NDArray[np.floating]) -> NDArray[np.float32]:
    """(n, n_features) and (n,) -> float32 (n, n_features + 1) with the mass last.

    >>> stack_inputs(np.array([[1.0, 2.0]]), np.array([3.0])).tolist()
    [[1.0, 2.0, 3.0]]
    """
    return np.ascontiguousarray(
        np.column_stack([features, np.asarray(mass).reshape(-1)]), dtype=np.float32
    )


def fold_of(event: NDArray[np.integer], n_folds: int) -> NDArray[np.int64]:
    """Fold index of each event number; model i is trained on folds != i and scores fold i.
    The fold of an event never depends on the other events.

    >>> fold_of(np.arange(5), 2).tolist()
    [0, 1, 0, 1, 0]
    """
    return np.asarray(event, dtype=np.int64) % n_folds


def event_hash(event: NDArray[np.integer]) -> NDArray[np.uint64]:
    """A 32-bit multiplicative hash of each event number (Knuth's 2654435761): an order or a
    split of the events that, unlike the event number, does not follow the folds.

    >>> event_hash(np.array([0, 1, 2])).tolist()
    [0, 2654435761, 1013904226]
    """
    return np.asarray(event).astype(np.uint64) * np.uint64(2654435761) % np.uint64(2**32)


def mc_half(event: NDArray[np.integer]) -> NDArray[np.bool_]:
    """One of two halves of the MC events, by the top bit of :func:`event_hash`. Not the
    event number's parity: that is the fold (:func:`fold_of`), and each fold is scored by its
    own model, whose score tails differ; every half holds events of every fold.

    >>> half = mc_half(np.arange(100_000))
    >>> [round(float(half[np.arange(100_000) % k == 0].mean()), 2) for k in (1, 2, 3)]
    [0.5, 0.5, 0.5]
    """
    return np.asarray(event_hash(event) >> np.uint64(31) == 0)


def score_by_fold(
    models: Sequence[ScoreFunction],
    features: NDArray[np.floating],
    mass: NDArray[np.floating],
    fold: NDArray[np.integer],
    dtype: type[np.floating] = np.float64,
) -> NDArray[np.floating]:
    """Each row scored by ``models[fold]`` (the model that never saw it) at its mass [GeV].

    >>> half = lambda x, m: np.full(len(x), 0.5)
    >>> mass_col = lambda x, m: np.asarray(m, dtype=float)
    >>> score_by_fold([half, mass_col], np.zeros((3, 1)), np.array([1.0, 2.0, 3.0]),
    ...               np.array([0, 1, 1])).tolist()
    [0.5, 2.0, 3.0]
    """
    out = np.empty(len(features), dtype=dtype)
    for i, model in enumerate(models):
        rows = fold == i
        if rows.any():
            out[rows] = model(features[rows], mass[rows])
    return out
