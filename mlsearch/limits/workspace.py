"""HistFactory workspace (pyhf JSON) for one mass hypothesis: one channel of score bins."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

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
    modifiers: list[dict[str, Any]] = [
        {"name": "bkg_stat", "type": "staterror", "data": background_stat.tolist()},
    ]
    if norm_uncertainty > 0:
        modifiers.append(
            {
                "name": "bkg_norm",
                "type": "normsys",
                "data": {"hi": 1 + norm_uncertainty, "lo": 1 - norm_uncertainty},
            }
        )
    return {
        "channels": [
            {
                "name": "signal_window",
                "samples": [
                    {
                        "name": "signal",
                        "data": signal.tolist(),
                        "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                    },
                    {"name": "background", "data": background.tolist(), "modifiers": modifiers},
                ],
            }
        ],
        "observations": [{"name": "signal_window", "data": np.asarray(observed).tolist()}],
        "measurements": [{"name": "limit", "config": {"poi": "mu", "parameters": []}}],
        "version": "1.0.0",
    }
