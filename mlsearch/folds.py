"""k-fold split by event number: the fold of an event never depends on the other events."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["fold_of"]


def fold_of(event: NDArray[np.integer], n_folds: int) -> NDArray[np.int64]:
    """Fold index of each event number; model i is trained on folds != i and scores fold i.

    >>> fold_of(np.arange(5), 2).tolist()
    [0, 1, 0, 1, 0]
    """
    return np.asarray(event, dtype=np.int64) % n_folds
