"""HistFactory workspace (pyhf JSON) of the simplest model: one background sample with its MC
statistical uncertainty and one normalisation uncertainty (the general case, several named
backgrounds and uncertainties, is :func:`mlsearch.limits.model.model_workspace`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlsearch.limits.model import BinnedModel, model_workspace

__all__ = ["build_workspace"]


def build_workspace(
    signal: NDArray[np.float64],
    background: NDArray[np.float64],
    background_stat: NDArray[np.float64],
    norm_uncertainty: float,
    observed: NDArray[np.float64],
) -> dict[str, Any]:
    """pyhf workspace: signal with a free normalisation ``mu``; background with its MC
    statistical uncertainty (staterror, per bin) and a normalisation uncertainty (normsys).

    All inputs are expected event counts per bin.
    """
    return model_workspace(
        BinnedModel.single(signal, background, background_stat, norm_uncertainty, observed)
    )
