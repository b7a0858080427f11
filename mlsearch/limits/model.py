"""The binned statistical model of one mass hypothesis, and its pyhf (HistFactory) workspace.

One channel of score bins. Expected counts per bin i:

    lambda_i = mu s_i F_signal(theta) + gamma_i sum_k b_ki F_k(theta)

with ``mu`` the signal strength, ``gamma_i`` the MC-statistical nuisance parameter of bin i
shared by all backgrounds (pyhf's staterror: relative width sqrt(sum_k sigma_ki^2) / sum_k b_ki)
and ``theta_j`` one nuisance parameter per named normalisation uncertainty (pyhf's normsys,
'code4' interpolation), F_k(theta) the product of the factors of the uncertainties that act on
sample k.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlsearch.errors import ConfigError, InputError

__all__ = ["SIGNAL", "BinnedModel", "NormSys", "model_workspace"]

FloatArray = NDArray[np.float64]
SIGNAL = "signal"  # the sample name of the signal in every workspace


def _code4_coefficients(up: float, down: float) -> FloatArray:
    """pyhf's normsys 'code4': 1 + sum_{k=1..6} a_k theta^k for |theta| < 1, matching the
    exponential extrapolation (up^theta, down^-theta) in value and first two derivatives at
    theta = +-1."""
    rows, rhs = [], []
    for x, kappa, sign in ((1.0, up, 1.0), (-1.0, down, -1.0)):
        log_k = np.log(kappa)
        rows.append([x**k for k in range(1, 7)])
        rhs.append(kappa - 1.0)
        rows.append([k * x ** (k - 1) for k in range(1, 7)])
        rhs.append(sign * kappa * log_k)
        rows.append([k * (k - 1) * x ** (k - 2) if k >= 2 else 0.0 for k in range(1, 7)])
        rhs.append(kappa * log_k**2)
    return np.linalg.solve(np.array(rows), np.array(rhs))


@dataclass(frozen=True)
class NormSys:
    """A symmetric relative normalisation uncertainty ``size`` (0.05 = 5 %) on the named
    samples ("signal" and/or background process names), one nuisance parameter."""

    name: str
    size: float
    samples: tuple[str, ...]

    def __post_init__(self) -> None:
        if not 0 < self.size < 1:
            raise ConfigError(f"normalisation uncertainty {self.name}: {self.size} not in (0, 1)")

    @cached_property
    def _code4(self) -> FloatArray:
        return _code4_coefficients(1 + self.size, 1 - self.size)

    def factor_values(self, theta: FloatArray) -> FloatArray:
        """The factor at many values of theta (pseudo-experiments)."""
        up, down = 1 + self.size, 1 - self.size
        inner = 1.0 + np.polynomial.polynomial.polyval(theta, np.r_[0.0, self._code4])
        return np.where(theta >= 1, up**theta, np.where(theta <= -1, down**-theta, inner))

    def factor(self, theta: float) -> tuple[float, float]:
        """(factor, d factor / d theta) at ``theta``."""
        up, down = 1 + self.size, 1 - self.size
        if theta >= 1:
            value = up**theta
            return value, value * np.log(up)
        if theta <= -1:
            value = down**-theta
            return value, -value * np.log(down)
        a = self._code4
        powers = theta ** np.arange(0, 7)
        value = 1.0 + float(a @ powers[1:])
        slope = float((a * np.arange(1, 7)) @ powers[:-1])
        return value, slope


@dataclass(frozen=True)
class BinnedModel:
    """Signal at mu = 1, the backgrounds (one row per process), their absolute MC
    statistical uncertainties, the observed counts and the normalisation uncertainties."""

    signal: FloatArray
    backgrounds: FloatArray  # (n_processes, n_bins)
    background_stats: FloatArray  # (n_processes, n_bins), absolute
    observed: FloatArray
    systematics: tuple[NormSys, ...] = ()
    background_names: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.backgrounds.ndim != 2 or self.backgrounds.shape != self.background_stats.shape:
            raise ValueError("backgrounds and their uncertainties need shape (processes, bins)")
        if not self.background_names:
            names = tuple(f"background{k}" for k in range(len(self.backgrounds)))
            object.__setattr__(self, "background_names", names)
        known = {SIGNAL, *self.background_names}
        for syst in self.systematics:
            unknown = set(syst.samples) - known
            if unknown:
                raise ValueError(f"uncertainty {syst.name}: unknown samples {sorted(unknown)}")

    @classmethod
    def single(
        cls,
        signal: FloatArray,
        background: FloatArray,
        background_stat: FloatArray,
        norm_uncertainty: float,
        observed: FloatArray,
    ) -> BinnedModel:
        """One background sample with one normalisation uncertainty (0: none)."""
        syst = (
            (NormSys("bkg_norm", norm_uncertainty, ("background",)),)
            if norm_uncertainty > 0
            else ()
        )
        return cls(
            np.asarray(signal, dtype=np.float64),
            np.asarray(background, dtype=np.float64)[None, :],
            np.asarray(background_stat, dtype=np.float64)[None, :],
            np.asarray(observed, dtype=np.float64),
            syst,
            ("background",),
        )

    @classmethod
    def from_workspace(cls, spec: dict[str, Any]) -> BinnedModel:
        """The model of a workspace written by :func:`model_workspace`."""
        channel = spec["channels"][0]
        signal = None
        names, counts, stats = [], [], []
        systs: dict[str, tuple[float, list[str]]] = {}
        for sample in channel["samples"]:
            data = np.asarray(sample["data"], dtype=np.float64)
            stat = np.zeros_like(data)
            for mod in sample["modifiers"]:
                if mod["type"] == "staterror":
                    stat = np.asarray(mod["data"], dtype=np.float64)
                elif mod["type"] == "normsys":
                    size = float(mod["data"]["hi"]) - 1.0
                    systs.setdefault(mod["name"], (size, []))[1].append(sample["name"])
            if sample["name"] == SIGNAL:
                signal = data
            else:
                names.append(sample["name"])
                counts.append(data)
                stats.append(stat)
        if signal is None:
            raise InputError("workspace without a 'signal' sample")
        return cls(
            signal,
            np.array(counts),
            np.array(stats),
            np.asarray(spec["observations"][0]["data"], dtype=np.float64),
            tuple(NormSys(n, size, tuple(s)) for n, (size, s) in systs.items()),
            tuple(names),
        )

    @cached_property
    def background(self) -> FloatArray:
        """Total background per bin."""
        return self.backgrounds.sum(axis=0)

    @cached_property
    def background_stat(self) -> FloatArray:
        """Total absolute MC statistical uncertainty per bin (quadrature over processes)."""
        return np.sqrt((self.background_stats**2).sum(axis=0))

    @cached_property
    def delta(self) -> FloatArray:
        """Relative width of each bin's gamma constraint."""
        return self.background_stat / self.background

    @cached_property
    def _acts(self) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """(on signal (J,), on background k (J, K)) for the J uncertainties."""
        on_signal = np.array([SIGNAL in s.samples for s in self.systematics], dtype=bool)
        on_bkg = np.array(
            [[n in s.samples for n in self.background_names] for s in self.systematics],
            dtype=bool,
        ).reshape(len(self.systematics), len(self.background_names))
        return on_signal, on_bkg

    def factors(self, theta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        """At nuisance parameters ``theta`` (J,): the signal factor, the background factors (K,)
        and the logarithmic slopes d ln f_j / d theta_j (J,) of each uncertainty."""
        on_signal, on_bkg = self._acts
        f_signal = 1.0
        f_bkg = np.ones(len(self.background_names))
        log_slope = np.zeros(len(self.systematics))
        for j, syst in enumerate(self.systematics):
            value, slope = syst.factor(float(theta[j]))
            log_slope[j] = slope / value
            if on_signal[j]:
                f_signal *= value
            f_bkg = np.where(on_bkg[j], f_bkg * value, f_bkg)
        return f_signal, f_bkg, log_slope

    def scaled(self, k: float, mc_shrink: float = 1.0, norm_shrink: float = 1.0) -> BinnedModel:
        """The model for k times the luminosity (projections): signal and backgrounds times
        ``k``, data at the background expectation; the relative MC-statistical uncertainties
        times ``mc_shrink`` (1: the same MC sample, whose weights scale with k) and the
        normalisation uncertainties times ``norm_shrink``."""
        return BinnedModel(
            self.signal * k,
            self.backgrounds * k,
            self.background_stats * k * mc_shrink,
            self.background * k,
            tuple(NormSys(s.name, s.size * norm_shrink, s.samples) for s in self.systematics),
            self.background_names,
        )


def model_workspace(model: BinnedModel) -> dict[str, Any]:
    """The pyhf workspace (JSON-able dict) of ``model``: signal with the free normalisation
    ``mu``, each background with its staterror, every uncertainty as a normsys on its samples."""

    def normsys(name: str) -> list[dict[str, Any]]:
        return [
            {"name": s.name, "type": "normsys", "data": {"hi": 1 + s.size, "lo": 1 - s.size}}
            for s in model.systematics
            if name in s.samples
        ]

    samples = [
        {
            "name": SIGNAL,
            "data": model.signal.tolist(),
            "modifiers": [{"name": "mu", "type": "normfactor", "data": None}, *normsys(SIGNAL)],
        }
    ]
    for name, counts, stat in zip(
        model.background_names, model.backgrounds, model.background_stats, strict=True
    ):
        samples.append(
            {
                "name": name,
                "data": counts.tolist(),
                "modifiers": [
                    {"name": "bkg_stat", "type": "staterror", "data": stat.tolist()},
                    *normsys(name),
                ],
            }
        )
    return {
        "channels": [{"name": "signal_window", "samples": samples}],
        "observations": [{"name": "signal_window", "data": model.observed.tolist()}],
        "measurements": [{"name": "limit", "config": {"poi": "mu", "parameters": []}}],
        "version": "1.0.0",
    }
