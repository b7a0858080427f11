"""Cut-based baseline selections: ``published`` (the default, selection.published: the
published searches' selections step by step) or ``grid``, the older per-search threshold grid
below: rectangular cuts on the builder's features, of the kind the published Belle II
searches used before any classifier, applied on top of the
signal window. Like those analyses, which tuned their cuts per mass region, every baseline
has a small grid of thresholds, and the report takes the best of them at each mass (on the
same events: an optimistic baseline, so a classifier that beats it really is better).

- Z' -> invisible (PRL 124, 141802 (2020) style): little extra ECL energy, the recoil
  pointing into the barrel ECL (where an ISR photon would have been seen), and the recoil
  close to one muon line (tau-pair suppression).
- LFV Z' (PRL 124, 141801 (2020) style): the same with a good electron (E/p).
- ALP (PRL 125, 161806 (2020) style): no extra photon, the full CM energy in the three
  photons and no missing momentum, photons in time.
- dark photon (Belle II physics book style): a barrel photon, nothing else above threshold,
  an electromagnetic shower in time.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlsearch.errors import ConfigError

__all__ = ["BASELINES", "Baseline", "baseline_mask", "baseline_masks"]

BoolArray = NDArray[np.bool_]
_BARREL_RAD = (np.radians(32.2), np.radians(128.7))


@dataclass(frozen=True)
class Baseline:
    """``select(table, **thresholds)`` and the threshold grid; ``default`` is the set the
    published-style analysis would start from."""

    select: Callable[..., BoolArray]
    grid: dict[str, tuple[float, ...]]
    default: dict[str, float]

    def settings(self) -> Iterator[dict[str, float]]:
        keys = list(self.grid)
        for values in itertools.product(*(self.grid[k] for k in keys)):
            yield dict(zip(keys, values, strict=True))


def _lepton_recoil(
    df: pd.DataFrame, leptons: tuple[str, str], extra: float, closest: float
) -> BoolArray:
    """Little extra ECL energy, the recoil into the barrel ECL, and the recoil within
    ``closest`` [GeV] (transverse) of one lepton line."""
    near = np.minimum(df[f"recoil_pt_{leptons[0]}"], df[f"recoil_pt_{leptons[1]}"])
    theta = df["recoil_theta_lab"]
    return np.asarray(
        (df["extra_ecl_energy"] < extra)
        & (theta > _BARREL_RAD[0])
        & (theta < _BARREL_RAD[1])
        & (near < closest)
    )


def _zprime(df: pd.DataFrame, extra: float, closest: float) -> BoolArray:
    return _lepton_recoil(df, ("mu_plus", "mu_minus"), extra, closest)


def _lfv(df: pd.DataFrame, extra: float, closest: float, eop: float) -> BoolArray:
    return _lepton_recoil(df, ("e", "mu"), extra, closest) & np.asarray(df["e_eop"] > eop)


def _alp(df: pd.DataFrame, energy: float, balance: float) -> BoolArray:
    return np.asarray(
        (df["n_extra_photons"] == 0)
        & (df["m3gamma"] > energy * 10.58)
        & (df["p3gamma_cms"] < balance)
        & (df["max_time_over_error"] < 1.0)
    )


def _dark_photon(df: pd.DataFrame, second: float, e1e9: float, lat: float) -> BoolArray:
    return np.asarray(
        (df["photon_region"] == 2)
        & (df["n_extra_clusters"] == 0)
        & (df["second_e_cms"] < second)
        & (df["photon_e1e9"] > e1e9)
        & (df["photon_lat"] < lat)
        & (df["photon_time_over_error"] < 1.0)
    )


BASELINES: dict[str, Baseline] = {
    "zprime_invisible": Baseline(
        _zprime,
        {"extra": (0.1, 0.2, 0.4), "closest": (0.15, 0.3, 0.5, 1.0)},
        {"extra": 0.4, "closest": 0.5},
    ),
    "lfv_zprime": Baseline(
        _lfv,
        {"extra": (0.1, 0.2, 0.4), "closest": (0.15, 0.3, 0.5, 1.0), "eop": (0.8,)},
        {"extra": 0.4, "closest": 0.5, "eop": 0.8},
    ),
    "alp": Baseline(
        _alp,
        {"energy": (0.8, 0.88, 0.94), "balance": (0.2, 0.5, 1.0)},
        {"energy": 0.88, "balance": 0.5},
    ),
    "dark_photon": Baseline(
        _dark_photon,
        {"second": (0.1, 0.2, 0.5), "e1e9": (0.5, 0.6, 0.7), "lat": (0.4, 0.5, 0.6)},
        {"second": 0.2, "e1e9": 0.6, "lat": 0.5},
    ),
}


def _baseline(search: str) -> Baseline:
    if search not in BASELINES:
        raise ConfigError(f"no baseline selection for search {search!r}")
    return BASELINES[search]


def baseline_mask(search: str, table: pd.DataFrame, **thresholds: Any) -> BoolArray:
    """Rows of the feature table that pass the search's baseline (default thresholds unless
    given)."""
    base = _baseline(search)
    return base.select(table, **{**base.default, **thresholds})


def baseline_masks(
    search: str, table: pd.DataFrame, kind: str = "grid"
) -> list[tuple[dict[str, float], BoolArray]]:
    """Every threshold setting of the search's baseline with its selection: the tuned step
    of the published selection (``kind="published"``) or the grid."""
    if kind == "published":
        from mlsearch.selection.published import published_selection

        return published_selection(search).masks(table)
    base = _baseline(search)
    return [(s, base.select(table, **s)) for s in base.settings()]
