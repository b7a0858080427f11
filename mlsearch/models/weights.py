"""Training weights: balance the classes and the mass points, keep relative physics weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["training_weights"]


def training_weights(table: pd.DataFrame) -> NDArray[np.float64]:
    """Relative weights with mean 1: each signal mass point has the same total, and the
    background (physics-weighted, events per fb^-1) has the total of all signal.

    >>> t = pd.DataFrame({"label": [1, 1, 1, 0, 0], "mass_hypothesis": [1.0, 1.0, 2.0, 1.0, 2.0],
    ...                   "weight": [1.0, 1.0, 5.0, 3.0, 1.0]})
    >>> training_weights(t).round(3).tolist()
    [0.625, 0.625, 1.25, 1.875, 0.625]
    """
    w = table["weight"].to_numpy(dtype=np.float64).copy()
    label = table["label"].to_numpy()
    mass = table["mass_hypothesis"].to_numpy()
    sig = label == 1
    for m in np.unique(mass[sig]):
        sel = sig & (mass == m)
        w[sel] /= w[sel].sum()
    bkg = ~sig
    if bkg.any():
        w[bkg] *= w[sig].sum() / w[bkg].sum()
    return w / w.mean()
