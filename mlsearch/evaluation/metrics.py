"""Per-mass-hypothesis metrics on out-of-fold scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.metrics import roc_auc_score

__all__ = ["per_mass_auc"]


def per_mass_auc(
    per_mass: dict[
        float,
        tuple[NDArray[np.floating], NDArray[np.float64], NDArray[np.floating], NDArray[np.float64]],
    ],
) -> pd.DataFrame:
    """Weighted ROC AUC at each mass from {mass [GeV]: (signal scores, signal weights,
    background scores, background weights)} (the events of that mass's window, scored at
    that hypothesis); each class normalised to one. Columns: mass [GeV], auc."""
    rows = []
    for mass, (s_score, s_w, b_score, b_w) in sorted(per_mass.items()):
        if not (len(s_score) and len(b_score)) or s_w.sum() <= 0 or b_w.sum() <= 0:
            rows.append({"mass": mass, "auc": float("nan")})
            continue
        y = np.concatenate([np.ones(len(s_score)), np.zeros(len(b_score))])
        s = np.concatenate([s_score, b_score])
        w = np.concatenate([s_w / s_w.sum(), b_w / b_w.sum()])
        rows.append({"mass": mass, "auc": float(roc_auc_score(y, s, sample_weight=w))})
    return pd.DataFrame(rows, columns=["mass", "auc"])
