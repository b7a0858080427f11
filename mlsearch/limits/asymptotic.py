"""Asymptotic CLs upper limits for one channel of bins, solved directly.

The model is :class:`mlsearch.limits.model.BinnedModel` (a pyhf workspace): expected counts
lambda_i = mu s_i F_s(theta) + gamma_i sum_k b_ki F_k(theta), a Gaussian constraint on each
gamma_i (the MC statistical uncertainty, pyhf's staterror: N(a_i | gamma_i, delta_i)) and a
unit Gaussian on each theta_j (the named normalisation uncertainties, pyhf's normsys with its
'code4' interpolation).
The test statistic is q~_mu and the CLs values follow the asymptotic formulae of Cowan,
Cranmer, Gross, Vitells (EPJC 71 (2011) 1554) exactly as pyhf evaluates them (Asimov data
from the background-only fit of the nuisance parameters to the data, auxiliary data
included).

What makes it ~100x faster than a pyhf scan: each gamma_i is profiled in closed form (the
stationarity condition is a quadratic in gamma_i), so a fit is a one-dimensional Brent
minimisation over theta (L-BFGS-B with the analytic gradient for several uncertainties; and
mu for the free fit), and the limits are roots of CLs(mu) =
1 - CL found by Brent's method instead of a fixed grid of hypothesis tests. Tested equal to
pyhf's scan to 1 % (tests/test_limits.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq, minimize, minimize_scalar
from scipy.special import log_ndtr

from mlsearch.limits.model import BinnedModel

__all__ = ["BinnedModel", "cls_limits"]

FloatArray = NDArray[np.float64]
_THETA_BOUNDS = (-5.0, 5.0)  # pyhf's suggested normsys bounds
_GAMMA_BOUNDS = (1e-10, 10.0)  # and staterror bounds


@dataclass(frozen=True)
class _Data:
    """Main counts and the auxiliary data (gamma_i, theta_j) they are fitted with."""

    counts: FloatArray
    aux_gamma: FloatArray
    aux_theta: FloatArray


class _Fitter:
    def __init__(self, model: BinnedModel, data: _Data) -> None:
        self.m = model
        self.d = data
        self.n_theta = len(model.systematics)
        self._start = np.zeros(self.n_theta)  # warm start of the next fit

    def _parts(
        self, mu: float, theta: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, float, FloatArray, FloatArray]:
        """(signal term, background sum c_i, gamma_i, signal factor, background factors,
        log slopes) at (mu, theta), each gamma_i profiled in closed form: the positive root of
        c g^2 + (c^2 d^2 + mu s - a c) g + (c d^2 (mu s - n) - a mu s) = 0."""
        m, d = self.m, self.d
        f_signal, f_bkg, log_slope = m.factors(theta)
        c = f_bkg @ m.backgrounds
        ms = mu * m.signal * f_signal
        dd = m.delta**2
        a = d.aux_gamma
        bq = c * c * dd + ms - a * c
        cq = c * dd * (ms - d.counts) - a * ms
        disc = np.sqrt(np.maximum(bq * bq - 4 * c * cq, 0.0))
        gamma = np.clip((-bq + disc) / (2 * c), *_GAMMA_BOUNDS)
        return ms, c, gamma, f_signal, f_bkg, log_slope

    def nll(self, mu: float, theta: FloatArray) -> float:
        """-log L up to constants, gammas profiled."""
        ms, c, gamma, *_ = self._parts(mu, theta)
        lam = np.maximum(ms + gamma * c, 1e-300)
        poisson = float(np.sum(lam - self.d.counts * np.log(lam)))
        constraint = 0.5 * float(np.sum(((gamma - self.d.aux_gamma) / self.m.delta) ** 2))
        return poisson + 0.5 * float(np.sum((theta - self.d.aux_theta) ** 2)) + constraint

    def _nll_and_gradient(self, theta: FloatArray, mu: float) -> tuple[float, FloatArray]:
        """-log L and its gradient in theta (the gammas sit at their optimum, so their own
        derivatives drop out)."""
        m = self.m
        ms, c, gamma, _, f_bkg, log_slope = self._parts(mu, theta)
        lam = np.maximum(ms + gamma * c, 1e-300)
        counts = self.d.counts
        nll = float(np.sum(lam - counts * np.log(lam)))
        nll += 0.5 * float(np.sum(((gamma - self.d.aux_gamma) / m.delta) ** 2))
        nll += 0.5 * float(np.sum((theta - self.d.aux_theta) ** 2))
        on_signal, on_bkg = m._acts
        # d lambda_i / d theta_j = slope_j (mu s_i F_s [j on signal] + gamma_i sum_k b_ki F_k
        # [j on k])
        bkg_part = (on_bkg * f_bkg) @ m.backgrounds  # (J, bins)
        dlam = log_slope[:, None] * (on_signal[:, None] * ms + gamma * bkg_part)
        grad = dlam @ (1.0 - counts / lam) + (theta - self.d.aux_theta)
        return nll, grad

    def fixed(self, mu: float) -> tuple[float, FloatArray]:
        """(min NLL, theta) at fixed mu."""
        if self.n_theta == 0:
            return self.nll(mu, self._start), self._start
        if self.n_theta == 1:  # Brent in one dimension: robust and fast
            res = minimize_scalar(
                lambda t: self.nll(mu, np.array([t])), bounds=_THETA_BOUNDS, method="bounded",
                options={"xatol": 1e-7},
            )  # fmt: skip
            return float(res.fun), np.array([res.x])
        res = minimize(
            self._nll_and_gradient, self._start, args=(mu,), jac=True, method="L-BFGS-B",
            bounds=[_THETA_BOUNDS] * self.n_theta, options={"ftol": 1e-13, "gtol": 1e-9},
        )  # fmt: skip
        self._start = np.clip(res.x, -3.0, 3.0)
        return float(res.fun), np.asarray(res.x)

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
        nominal = _Data(
            model.observed, np.ones_like(model.background), np.zeros(len(model.systematics))
        )
        self.data = _Fitter(model, nominal)
        # Asimov: nuisance parameters fitted to the data at mu = 0, the expected counts and
        # the auxiliary data set to them (as pyhf's generate_asimov_data does)
        fitter0 = _Fitter(model, nominal)
        _, theta0 = fitter0.fixed(0.0)
        _, c0, gamma0, *_ = fitter0._parts(0.0, theta0)
        asimov = _Data(c0 * gamma0, gamma0, theta0)
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
