"""The selections of the published searches, step by step, as cut-based baselines.

Each search's :class:`PublishedSelection` is the feature builder's preselection (trigger,
objects, vetoes: features/), then fixed steps, then at most one *tuned* step, a threshold
that the paper optimised per mass region; here it is chosen per mass from a short list by
the Punzi figure of merit on the MC (on half of it, where the limits count the other half).
Every step names its source and says whose number it is:

- ``paper``: the criterion and its value as the paper states them;
- ``paper criterion``: the paper's criterion, its value from elsewhere (named in the text);
- ``ours``: the paper is silent or not reproducible with our features; our choice.

Papers: Belle II, PRL 124, 141801 (2020) (Z' -> invisible and LFV Z', 276 pb^-1 of 2018);
Belle II, PRL 125, 161806 (2020) (ALP -> gamma gamma, 445 pb^-1); BaBar, PRL 119, 131804
(2017) (single photon), adapted to Belle II following the Belle II Physics Book, PTEP 2019
123C01, section on dark photons. docs/baselines.md tabulates the steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlsearch.errors import ConfigError

__all__ = ["PUBLISHED", "PublishedSelection", "Step", "TunedStep", "published_selection"]

BoolArray = NDArray[np.bool_]
SQRT_S = 10.58  # [GeV], the nominal CM energy of the searches
#: ECL barrel acceptance in the lab [rad] (Belle II TDR, arXiv:1011.0352: 32.2-128.7 deg)
ECL_BARREL = (np.radians(32.2), np.radians(128.7))


@dataclass(frozen=True)
class Step:
    """One fixed cut: ``name`` (short, for the cut flow), ``cut`` (in words, with units),
    ``source``, ``provenance`` (paper | paper criterion | ours) and the selection."""

    name: str
    cut: str
    source: str
    provenance: str
    select: Callable[[pd.DataFrame], BoolArray]


@dataclass(frozen=True)
class TunedStep:
    """A threshold chosen per mass: ``value(df) > t`` (or ``< t`` with ``below``) for t in
    ``values``, ordered from the loosest to the tightest cut, so the selections are nested."""

    name: str
    cut: str  # with "{t}" for the threshold
    source: str
    provenance: str
    value: Callable[[pd.DataFrame], NDArray[np.float64]]
    values: tuple[float, ...]
    below: bool = False

    def passes(self, df: pd.DataFrame, t: float) -> BoolArray:
        v = self.value(df)
        return np.asarray(v < t if self.below else v > t)


@dataclass(frozen=True)
class PublishedSelection:
    """A published search's selection: its reference, what the preselection already did,
    the fixed steps and the tuned one."""

    search: str
    reference: str
    preselection: str
    steps: tuple[Step, ...]
    tuned: TunedStep

    def fixed(self, df: pd.DataFrame) -> BoolArray:
        """Rows passing every fixed step."""
        keep = np.ones(len(df), dtype=bool)
        for step in self.steps:
            keep &= step.select(df)
        return keep

    def levels(self, df: pd.DataFrame) -> NDArray[np.int64]:
        """Per row: 0 if a fixed step fails, else 1 + the number of tuned thresholds passed
        (the selection at the k-th threshold keeps level > k)."""
        level = self.fixed(df).astype(np.int64)
        for t in self.tuned.values:
            level += (level > 0) & self.tuned.passes(df, t)
        return level

    def settings(self) -> list[dict[str, float]]:
        return [{self.tuned.name: t} for t in self.tuned.values]

    def masks(self, df: pd.DataFrame) -> list[tuple[dict[str, float], BoolArray]]:
        """(setting, rows passing) for every tuned threshold."""
        level = self.levels(df)
        return [(s, level > k + 1) for k, s in enumerate(self.settings())]


def _barrel(theta: pd.Series) -> BoolArray:
    return np.asarray((theta > ECL_BARREL[0]) & (theta < ECL_BARREL[1]))


def _recoil_pt_min(leptons: tuple[str, str]) -> Callable[[pd.DataFrame], NDArray[np.float64]]:
    def value(df: pd.DataFrame) -> NDArray[np.float64]:
        return np.minimum(
            df[f"recoil_pt_{leptons[0]}"].to_numpy(), df[f"recoil_pt_{leptons[1]}"].to_numpy()
        )

    return value


PRL124 = "Belle II, PRL 124, 141801 (2020)"
PRL125 = "Belle II, PRL 125, 161806 (2020)"
BABAR = "BaBar, PRL 119, 131804 (2017); Belle II Physics Book, PTEP 2019 123C01"

_RECOIL_BARREL = Step(
    "recoil in ECL barrel",
    "recoil momentum pointing into the ECL barrel, 32.2 < theta_lab < 128.7 deg",
    f"{PRL124}: the recoil must point to the barrel ECL, where a photon that makes the "
    "recoil would be detected; bounds: the ECL barrel (Belle II TDR)",
    "paper criterion",
    lambda df: _barrel(df["recoil_theta_lab"]),
)
_EXTRA_ECL = Step(
    "ECL energy < 0.4 GeV",
    "ECL energy not matched to the tracks < 0.4 GeV (lab)",
    f"{PRL124}: a veto on the ECL energy besides the leptons; 0.4 GeV as recalled from "
    "the paper (to be checked against its text)",
    "paper criterion",
    lambda df: np.asarray(df["extra_ecl_energy"] < 0.4),
)


def _tau_suppression(leptons: tuple[str, str]) -> TunedStep:
    return TunedStep(
        "tau suppression",
        "recoil momentum transverse to each lepton > {t} GeV (CM)",
        f"{PRL124}: tau-pair suppression on the recoil's transverse momentum with respect to "
        "the lepton directions (in tau pairs the neutrinos follow the leptons), optimised "
        "per recoil-mass region; the thresholds here are our grid",
        "paper criterion",
        _recoil_pt_min(leptons),
        (0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.5, 2.0, 2.5),
    )


def _alp_energy(df: pd.DataFrame) -> BoolArray:
    return np.asarray((df["m3gamma"] > 0.88 * SQRT_S) & (df["m3gamma"] < 1.03 * SQRT_S))


PUBLISHED: dict[str, PublishedSelection] = {
    "zprime_invisible": PublishedSelection(
        "zprime_invisible",
        PRL124,
        "two-track trigger; exactly two tracks of opposite charge, both identified as muons",
        (_RECOIL_BARREL, _EXTRA_ECL),
        _tau_suppression(("mu_plus", "mu_minus")),
    ),
    "lfv_zprime": PublishedSelection(
        "lfv_zprime",
        PRL124,
        "two-track trigger; exactly two tracks of opposite charge, one electron, one muon",
        (
            Step(
                "electron E/p > 0.8",
                "electron ECL energy over track momentum > 0.8 (lab)",
                f"{PRL124}: electrons identified with the ECL; the value is ours",
                "paper criterion",
                lambda df: np.asarray(df["e_eop"] > 0.8),
            ),
            _RECOIL_BARREL,
            _EXTRA_ECL,
        ),
        _tau_suppression(("e", "mu")),
    ),
    "alp": PublishedSelection(
        "alp",
        PRL125,
        "ECL trigger with Bhabha veto; no track; at least three photon candidates in time",
        (
            Step(
                "0.88 < M3g/sqrt(s) < 1.03",
                "mass of the three photons between 0.88 and 1.03 sqrt(s)",
                f"{PRL125}: the three-photon mass near the CM energy",
                "paper",
                _alp_energy,
            ),
            Step(
                "no extra photon",
                "no photon candidate besides the three",
                "ours: the paper's treatment of extra photons is not reproduced",
                "ours",
                lambda df: np.asarray(df["n_extra_photons"] == 0),
            ),
        ),
        TunedStep(
            "momentum balance",
            "|sum of the three photon momenta| < {t} GeV (CM)",
            "ours: a three-photon final state balances; threshold chosen per mass",
            "ours",
            lambda df: df["p3gamma_cms"].to_numpy(),
            (2.0, 1.0, 0.5, 0.25, 0.15, 0.1),
            below=True,
        ),
    ),
    "dark_photon": PublishedSelection(
        "dark_photon",
        BABAR,
        "single-photon trigger line; no track; one photon in time above the CM energy "
        "threshold, no second cluster above the veto energy",
        (
            Step(
                "photon in barrel",
                "photon cluster in the ECL barrel",
                "Belle II Physics Book: the single-photon search uses the barrel, where "
                "the ECL is hermetic behind it",
                "paper criterion",
                lambda df: np.asarray(df["photon_region"] == 2),
            ),
            Step(
                "no extra cluster",
                "no other cluster above the extra-photon energy",
                "BaBar PRL 119: no additional calorimeter energy",
                "paper criterion",
                lambda df: np.asarray(df["n_extra_clusters"] == 0),
            ),
        ),
        TunedStep(
            "shower lateral moment",
            "photon clusterLAT < {t} (electromagnetic shower)",
            "BaBar PRL 119: the lateral moment of the shower separates photons from "
            "neutral hadrons and beam background; threshold chosen per mass",
            "paper criterion",
            lambda df: df["photon_lat"].to_numpy(),
            (1.0, 0.6, 0.5, 0.4),
            below=True,
        ),
    ),
}


def published_selection(search: str) -> PublishedSelection:
    """The published selection of ``search``; a ConfigError for a search without one."""
    if search not in PUBLISHED:
        raise ConfigError(f"no published selection for search {search!r}")
    return PUBLISHED[search]
