"""Cut-based baseline selections, one per search, of the kind the published Belle II searches
used before any classifier: each is a fixed set of rectangular cuts on the builder's features
(applied on top of the signal window), so the report can say whether a classifier beats it.

- Z' -> invisible (PRL 124, 141802 (2020) style): no extra ECL energy, the recoil pointing
  into the barrel ECL (where an ISR photon would have been seen), and the recoil close to one
  muon line (tau-pair suppression).
- LFV Z' (PRL 124, 141801 (2020) style): the same with a good electron (E/p).
- ALP (PRL 125, 161806 (2020) style): exactly three photons, the full CM energy and no
  missing momentum, photons in time.
- dark photon (Belle II physics book style): a barrel photon, nothing else above threshold,
  an electromagnetic shower in time.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["BASELINES", "baseline_mask"]

BoolArray = NDArray[np.bool_]
_BARREL_RAD = (np.radians(32.2), np.radians(128.7))


def _zprime(df: pd.DataFrame) -> BoolArray:
    closest = np.minimum(df["recoil_pt_mu_plus"], df["recoil_pt_mu_minus"])
    theta = df["recoil_theta_lab"]
    return np.asarray(
        (df["extra_ecl_energy"] < 0.4)
        & (theta > _BARREL_RAD[0])
        & (theta < _BARREL_RAD[1])
        & (closest < 0.5)
    )


def _lfv(df: pd.DataFrame) -> BoolArray:
    closest = np.minimum(df["recoil_pt_e"], df["recoil_pt_mu"])
    theta = df["recoil_theta_lab"]
    return np.asarray(
        (df["extra_ecl_energy"] < 0.4)
        & (theta > _BARREL_RAD[0])
        & (theta < _BARREL_RAD[1])
        & (closest < 0.5)
        & (df["e_eop"] > 0.8)
    )


def _alp(df: pd.DataFrame) -> BoolArray:
    return np.asarray(
        (df["n_extra_photons"] == 0)
        & (df["m3gamma"] > 0.88 * 10.58)
        & (df["p3gamma_cms"] < 0.5)
        & (df["max_time_over_error"] < 1.0)
    )


def _dark_photon(df: pd.DataFrame) -> BoolArray:
    return np.asarray(
        (df["photon_region"] == 2)
        & (df["n_extra_clusters"] == 0)
        & (df["second_e_cms"] < 0.2)
        & (df["photon_e1e9"] > 0.6)
        & (df["photon_lat"] < 0.5)
        & (df["photon_time_over_error"] < 1.0)
    )


BASELINES: dict[str, Callable[[pd.DataFrame], BoolArray]] = {
    "zprime_invisible": _zprime,
    "lfv_zprime": _lfv,
    "alp": _alp,
    "dark_photon": _dark_photon,
}


def baseline_mask(search: str, table: pd.DataFrame) -> BoolArray:
    """Rows of the feature table that pass the search's cut-based baseline."""
    if search not in BASELINES:
        raise ValueError(f"no baseline selection for search {search!r}")
    return BASELINES[search](table)
