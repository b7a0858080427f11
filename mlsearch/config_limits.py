"""The ``limits`` section of a search config: statistical model, calculators, outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from mlsearch.config_base import _Strict

__all__ = ["LimitsConfig", "ReferenceCurve", "Uncertainty"]


class Uncertainty(_Strict):
    """A relative normalisation uncertainty (one nuisance parameter, pyhf normsys)."""

    size: float = Field(gt=0, lt=1, description="relative, symmetric: 0.05 = 5 %")
    samples: list[str] = Field(
        min_length=1,
        description="what it scales: 'signal', 'backgrounds' (all of them) and/or background "
        "process names (mumu, tautau, ...)",
    )


def _default_uncertainties() -> dict[str, Uncertainty]:
    return {"bkg_norm": Uncertainty(size=0.1, samples=["backgrounds"])}


class ReferenceCurve(_Strict):
    """A published or theory curve drawn on the coupling plot: CSV with columns mass, coupling."""

    label: str
    file: Path


class LimitsConfig(_Strict):
    model: Literal["pbdt", "pnn", "cuts"] = Field(
        "pbdt",
        description="the exported ONNX model whose scores feed the limits, or 'cuts': the "
        "published selection (docs/baselines.md), counting in the window",
    )
    model_uri: str | None = Field(
        None,
        description="registered model instead, e.g. models:/zprime_invisible_pbdt@champion",
    )
    window_sigma: float = Field(2.0, gt=0, description="half-width of the recoil window / sigma")
    score_binning: Literal["optimal", "signal_quantiles", "punzi_cut"] = Field(
        "optimal",
        description="inside the window: up to n_score_bins bins whose edges maximise the "
        "expected exclusion (Asimov, with the background's MC-statistical uncertainty; the "
        "normalisation uncertainties are left out of the choice, not the fit), each holding "
        "min_bin_mc_events effective background MC events; n_score_bins bins of equal "
        "expected signal; or one bin above the Punzi-optimal cut",
    )
    n_score_bins: int = Field(5, gt=0)
    min_bin_mc_events: float = Field(
        10.0,
        gt=0,
        description="optimal: the effective background MC events, (sum w)^2 / sum w^2 of all "
        "processes together, a bin holds at least (10: a 32 % MC-statistical uncertainty, "
        "profiled in the fit)",
    )
    uncertainties: dict[str, Uncertainty] = Field(
        default_factory=_default_uncertainties,
        description="named normalisation uncertainties: luminosity, trigger, efficiencies, "
        "background cross sections",
    )
    cl: float = Field(0.9, gt=0, lt=1, description="confidence level (0.9 or 0.95)")
    calculator: Literal["direct", "pyhf-scan"] = Field(
        "direct",
        description="asymptotic CLs by a direct root solve (~0.1 s per mass) or pyhf's "
        "hypothesis-test scan (~5 s; scan_points)",
    )
    scan_points: int = Field(41, ge=5, description="pyhf-scan: points of the mu scan")
    low_background: Literal["toys", "flag"] = Field(
        "toys",
        description="masses with fewer than low_background_events expected background events "
        "in the window: CLs from toys, or the asymptotic result flagged",
    )
    low_background_events: float = Field(5.0, ge=0)
    toys: int = Field(50_000, ge=1000, description="toys per hypothesis (and for b only)")
    mass_points_between: int | Literal["auto"] = Field(
        0,
        description="limits also at this many masses between neighbouring generated masses "
        "(window, resolution, efficiency and signal score distribution interpolated); "
        "'auto': as many as make consecutive windows touch (a curve without holes)",
    )

    @field_validator("mass_points_between")
    @classmethod
    def _non_negative(cls, v: int | str) -> int | str:
        if isinstance(v, int) and v < 0:
            raise ValueError("mass_points_between: a number >= 0 or 'auto'")
        return v

    data: Path | None = Field(
        None,
        description="a data ntuple (basf2 tracks/clusters/event trees, ROOT or parquet) for "
        "the observed limits; default: Poisson pseudo-data from the background model",
    )
    reference_curves: list[ReferenceCurve] = Field(
        default_factory=list, description="curves to draw on the coupling plot"
    )
    projections_fb: list[float] = Field(
        default_factory=list,
        description="other integrated luminosities [fb^-1] to project the expected limits to",
    )
    projection_mc: Literal["same_sample", "scaled_with_data"] = Field(
        "same_sample",
        description="projections: the background MC is the sample at hand (its relative "
        "statistical uncertainty stays: the limit saturates once it dominates), or MC made "
        "in proportion to the data (relative uncertainty x sqrt(L / L'))",
    )
    projection_normalisation: Literal["fixed", "scaled"] = Field(
        "fixed",
        description="projections: the named normalisation uncertainties keep their size, or "
        "shrink like sqrt(L / L') for more data (calibrations limited by control-sample "
        "statistics)",
    )

    @field_validator("projections_fb")
    @classmethod
    def _positive_luminosities(cls, v: list[float]) -> list[float]:
        if any(x <= 0 for x in v):
            raise ValueError("projections_fb must be positive [fb^-1]")
        return sorted(v)
