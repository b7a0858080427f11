"""Asymptotic CLs upper limits for one channel of bins, solved directly.

The model is the pyhf workspace of :mod:`mlsearch.limits.workspace`: expected counts
lambda_i = mu s_i + b_i gamma_i f(theta), a Gaussian constraint on each gamma_i (the MC
statistical uncertainty, pyhf's staterror: N(a_i | gamma_i, delta_i), delta_i = sigma_i / b_i)
and on theta (the normalisation uncertainty, pyhf's normsys with its 'code4' interpolation).
The test statistic is q~_mu and the CLs values follow the asymptotic formulae of Cowan,
Cranmer, Gross, Vitells (EPJC 71 (2011) 1554) exactly as pyhf evaluates them (Asimov data
from the background-only fit of the nuisance parameters to the data, auxiliary data
included).

What makes it ~100x faster than a pyhf scan: each gamma_i is profiled in closed form (the
stationarity condition is a quadratic in gamma_i), so a fit is a one-dimensional Brent
minimisation over theta (and mu for the free fit), and the limits are roots of CLs(mu) =
1 - CL found by Brent's method instead of a fixed grid of hypothesis tests. Tested equal to
pyhf's scan to 1 % (tests/test_limits.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq, minimize_scalar
from scipy.special import log_ndtr

__all__ = ["BinnedModel", "cls_limits"]

FloatArray = NDArray[np.float64]
_THETA_BOUNDS = (-5.0, 5.0)  # pyhf's suggested normsys bounds
_GAMMA_BOUNDS = (1e-10, 10.0)  # and staterror bounds


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
class BinnedModel:
    """One channel: signal at mu = 1, background, its absolute MC statistical uncertainty per
    bin, a symmetric relative normalisation uncertainty (0: none) and the observed counts."""

    signal: FloatArray
    background: FloatArray
    background_stat: FloatArray
    norm_uncertainty: float
    observed: FloatArray

    def __post_init__(self) -> None:
        if not 0 <= self.norm_uncertainty < 1:
            raise ValueError(f"normalisation uncertainty {self.norm_uncertainty} not in [0, 1)")

    @classmethod
    def from_workspace(cls, spec: dict[str, Any]) -> BinnedModel:
        """The model of a workspace written by :func:`mlsearch.limits.workspace.build_workspace`."""
        channel = spec["channels"][0]
        samples = {s["name"]: s for s in channel["samples"]}
        bkg = samples["background"]
        mods = {m["type"]: m for m in bkg["modifiers"]}
        norm = mods["normsys"]["data"]["hi"] - 1.0 if "normsys" in mods else 0.0
        return cls(
            np.asarray(samples["signal"]["data"], dtype=np.float64),
            np.asarray(bkg["data"], dtype=np.float64),
            np.asarray(mods["staterror"]["data"], dtype=np.float64),
            float(norm),
            np.asarray(spec["observations"][0]["data"], dtype=np.float64),
        )

    @cached_property
    def delta(self) -> FloatArray:
        return self.background_stat / self.background

    @cached_property
    def _code4(self) -> FloatArray:
        return _code4_coefficients(1 + self.norm_uncertainty, 1 - self.norm_uncertainty)

    def norm_factor(self, theta: float) -> float:
        if self.norm_uncertainty == 0:
            return 1.0
        if theta >= 1:
            return float((1 + self.norm_uncertainty) ** theta)
        if theta <= -1:
            return float((1 - self.norm_uncertainty) ** -theta)
        powers = theta ** np.arange(1, 7)
        return float(1.0 + self._code4 @ powers)


@dataclass(frozen=True)
class _Data:
    """Main counts and the auxiliary data (gamma_i, theta) they are fitted with."""

    counts: FloatArray
    aux_gamma: FloatArray
    aux_theta: float


class _Fitter:
    def __init__(self, model: BinnedModel, data: _Data) -> None:
        self.m = model
        self.d = data

    def _gammas(self, mu: float, theta: float) -> FloatArray:
        """Closed-form profile of each gamma_i: the positive root of
        c g^2 + (c^2 d^2 + mu s - a c) g + (c d^2 (mu s - n) - a mu s) = 0, c = b f(theta)."""
        m, d = self.m, self.d
        c = m.background * m.norm_factor(theta)
        ms = mu * m.signal
        dd = m.delta**2
        a = d.aux_gamma
        bq = c * c * dd + ms - a * c
        cq = c * dd * (ms - d.counts) - a * ms
        disc = np.sqrt(np.maximum(bq * bq - 4 * c * cq, 0.0))
        gamma = (-bq + disc) / (2 * c)
        return np.clip(gamma, *_GAMMA_BOUNDS)

    def nll(self, mu: float, theta: float) -> float:
        """-log L up to constants, gammas profiled."""
        m, d = self.m, self.d
        gamma = self._gammas(mu, theta)
        lam = mu * m.signal + m.background * gamma * m.norm_factor(theta)
        lam = np.maximum(lam, 1e-300)
        poisson = float(np.sum(lam - d.counts * np.log(lam)))
        constraint = 0.5 * float(np.sum(((gamma - d.aux_gamma) / m.delta) ** 2))
        if m.norm_uncertainty:
            constraint += 0.5 * (theta - d.aux_theta) ** 2
        return poisson + constraint

    def fixed(self, mu: float) -> tuple[float, float]:
        """(min NLL, theta) at fixed mu."""
        if not self.m.norm_uncertainty:
            return self.nll(mu, 0.0), 0.0
        res = minimize_scalar(
            lambda t: self.nll(mu, t), bounds=_THETA_BOUNDS, method="bounded",
            options={"xatol": 1e-7},
        )  # fmt: skip
        return float(res.fun), float(res.x)

    def free(self, mu_max: float) -> tuple[float, float]:
        """(min NLL, mu_hat) with mu in [0, mu_max] (q~: mu_hat >= 0)."""
        res = minimize_scalar(
            lambda mu: self.fixed(mu)[0], bounds=(0.0, mu_max), method="bounded",
            options={"xatol": 1e-9 * max(mu_max, 1.0)},
        )  # fmt: skip
        # the bounded search never evaluates the edge itself: compare with mu = 0
        at_zero = self.fixed(0.0)[0]
        if at_zero <= res.fun:
            return at_zero, 0.0
        return float(res.fun), float(res.x)


class _Calculator:
    """q~_mu on the data and on the background-only Asimov data, and CLs from them."""

    def __init__(self, model: BinnedModel, mu_max: float) -> None:
        self.mu_max = mu_max
        nominal = _Data(model.observed, np.ones_like(model.background), 0.0)
        self.data = _Fitter(model, nominal)
        # Asimov: nuisance parameters fitted to the data at mu = 0, the expected counts and
        # the auxiliary data set to them (as pyhf's generate_asimov_data does)
        fitter0 = _Fitter(model, nominal)
        _, theta0 = fitter0.fixed(0.0)
        gamma0 = fitter0._gammas(0.0, theta0)
        asimov = _Data(model.background * gamma0 * model.norm_factor(theta0), gamma0, theta0)
        self.asimov = _Fitter(model, asimov)
        self.data_free = self.data.free(mu_max)
        self.asimov_free = self.asimov.free(mu_max)

    def _q(self, fitter: _Fitter, free: tuple[float, float], mu: float) -> float:
        nll_free, mu_hat = free
        if mu_hat > mu:
            return 0.0
        return max(2.0 * (fitter.fixed(mu)[0] - nll_free), 0.0)

    def sqrt_q_asimov(self, mu: float) -> float:
        return float(np.sqrt(self._q(self.asimov, self.asimov_free, mu)))

    def cls_observed(self, mu: float) -> float:
        q = self._q(self.data, self.data_free, mu)
        sqrt_q, sqrt_qa = np.sqrt(q), self.sqrt_q_asimov(mu)
        if sqrt_qa <= 0:  # no sensitivity at this mu (q_A -> 0): CLs -> 1
            return 1.0
        t = sqrt_q - sqrt_qa if sqrt_q <= sqrt_qa else (q - sqrt_qa**2) / (2 * sqrt_qa)
        return _tail_ratio(t, sqrt_qa)

    def cls_expected(self, mu: float, n_sigma: float) -> float:
        return _tail_ratio(n_sigma, self.sqrt_q_asimov(mu))


def _tail_ratio(t: float, shift: float) -> float:
    """CLs = Phi(-(t + shift)) / Phi(-t), in logs so that far tails do not give 0 / 0."""
    return float(np.exp(log_ndtr(-(t + shift)) - log_ndtr(-t)))


def _solve(cls_at: Any, alpha: float, mu_max: float) -> float:
    """The mu where CLs(mu) = alpha (CLs falls with mu); widens the bracket as needed."""
    low, high = mu_max * 1e-4, mu_max
    for _ in range(40):
        if cls_at(high) < alpha:
            break
        low, high = high, high * 2
    else:
        raise RuntimeError(f"CLs stays above {alpha} up to mu = {high:g}")
    if cls_at(low) < alpha:
        return low
    return float(brentq(lambda mu: cls_at(mu) - alpha, low, high, xtol=1e-6 * high, rtol=1e-8))


def cls_limits(
    model: BinnedModel, cl: float, mu_max: float = 10.0
) -> tuple[float, tuple[float, float, float, float, float]]:
    """(observed, expected (-2, -1, median, +1, +2 sigma)) upper limits on mu at ``cl``.

    ``mu_max`` bounds the free fit (pyhf's POI bound) and starts the bracket; it is raised
    when a limit lies beyond it."""
    alpha = 1.0 - cl
    for _ in range(6):
        calc = _Calculator(model, mu_max)
        observed = _solve(calc.cls_observed, alpha, mu_max)
        expected = tuple(
            _solve(lambda mu, n=n, c=calc: c.cls_expected(mu, n), alpha, mu_max)
            for n in (2.0, 1.0, 0.0, -1.0, -2.0)
        )
        if max(observed, *expected) < 0.9 * mu_max:
            return observed, expected  # type: ignore[return-value]
        mu_max *= 4
    raise RuntimeError("the limits run away from every POI bound")
