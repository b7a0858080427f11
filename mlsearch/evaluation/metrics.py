"""Per-mass-hypothesis metrics on out-of-fold scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.metrics import roc_auc_score

__all__ = ["per_mass_auc"]


def per_mass_auc(
    signal_mass: NDArray[np.float64],
    signal_score: NDArray[np.floating],
    signal_weight: NDArray[np.float64],
    background_scores: dict[float, NDArray[np.floating]],
    background_weight: NDArray[np.float64],
) -> pd.DataFrame:
    """Weighted ROC AUC at each mass: signal of that mass against all background scored at that
    hypothesis. Columns: mass [GeV], auc."""
    rows = []
    for mass, bkg_score in sorted(background_scores.items()):
        sel = signal_mass == mass
        y = np.concatenate([np.ones(sel.sum()), np.zeros(len(bkg_score))])
        s = np.concatenate([signal_score[sel], bkg_score])
        w = np.concatenate(
            [
                signal_weight[sel] / signal_weight[sel].sum(),
                background_weight / background_weight.sum(),
            ]
        )
        rows.append({"mass": mass, "auc": float(roc_auc_score(y, s, sample_weight=w))})
    return pd.DataFrame(rows)
