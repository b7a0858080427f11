"""CLs upper limits from pseudo-experiments, for windows with little background, where the
asymptotic formulae are too optimistic (0.60 of the exact limit at b ~ 0, docs/validation.md).

The classical (LEP) construction with nuisance parameters sampled from their constraints
(the "hybrid" frequentist-Bayesian treatment of Cousins and Highland, NIM A 320 (1992) 331):

- test statistic: the log-likelihood ratio of s + b to b at nominal nuisance parameters,
  t(n; mu) = sum_i n_i ln(1 + mu s_i / b_i) (larger t is more signal-like; one bin: t ~ n);
- each toy draws theta_j ~ N(0, 1) (the normsys factors) and gamma_i ~ N(1, delta_i)
  truncated at 0 (the MC statistics), then n_i ~ Poisson(mu s_i F_s + gamma_i sum_k b_ki F_k);
- CLs(mu) = P(t <= t_obs | mu) / P(t <= t_obs | 0), solved for CLs = 1 - CL;
- expected bands: t_obs at the quantiles Phi(-2, -1, 0, 1, 2) of t under b only.

For one bin without uncertainties this is exactly the counting CLs of
:mod:`mlsearch.limits.counting` (tested to the toys' precision). pyhf's own toys are not used:
pyhf 0.7.6 toys break on numpy >= 2.4, and they take ~17 s per mu value.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq
from scipy.stats import norm

from mlsearch.limits.model import BinnedModel

__all__ = ["toy_cls_limits"]

FloatArray = NDArray[np.float64]


class _Toys:
    def __init__(self, model: BinnedModel, n_toys: int, seed: int) -> None:
        self.model = model
        self.n_toys = n_toys
        self.seed = seed
        rng = np.random.default_rng([seed, 0])
        n_theta = len(model.systematics)
        theta = rng.standard_normal((n_toys, n_theta))
        gamma = np.maximum(1.0 + model.delta * rng.standard_normal((n_toys, len(model.signal))), 0)
        f_signal = np.ones(n_toys)
        f_bkg = np.ones((n_toys, len(model.background_names)))
        on_signal, on_bkg = model._acts
        for j, syst in enumerate(model.systematics):
            values = syst.factor_values(theta[:, j])
            if on_signal[j]:
                f_signal *= values
            f_bkg[:, on_bkg[j]] *= values[:, None]
        bkg = gamma * (f_bkg @ model.backgrounds)
        self.signal = f_signal[:, None] * model.signal  # (toys, bins) at mu = 1
        self.background = bkg
        self.b_only = np.random.default_rng([seed, 1]).poisson(bkg).astype(np.float64)

    def statistic(self, counts: FloatArray, mu: float) -> FloatArray:
        return counts @ np.log1p(mu * self.model.signal / self.model.background)

    def cls(self, mu: float, t_obs: Callable[[float], float]) -> float:
        # the same random stream at every mu (common random numbers): CLs(mu) is smooth
        # enough for a root finder
        rng = np.random.default_rng([self.seed, 2])
        s_plus_b = rng.poisson(mu * self.signal + self.background).astype(np.float64)
        cut = t_obs(mu) + 1e-9  # (ties count as "at most as signal-like")
        cl_sb = np.mean(self.statistic(s_plus_b, mu) <= cut)
        cl_b = np.mean(self.statistic(self.b_only, mu) <= cut)
        return float(cl_sb / cl_b) if cl_b > 0 else 1.0

    def expected_statistic(self, n_sigma: float) -> Callable[[float], float]:
        level = float(norm.cdf(n_sigma))

        def t_obs(mu: float) -> float:
            t = self.statistic(self.b_only, mu)
            return float(np.quantile(t, level, method="inverted_cdf"))

        return t_obs


def _solve(cls_at: Callable[[float], float], alpha: float, mu_start: float) -> float:
    high = mu_start
    for _ in range(40):
        if cls_at(high) < alpha:
            break
        high *= 2
    else:
        raise RuntimeError(f"toy CLs stays above {alpha} up to mu = {high:g}")
    low = high / 2
    while cls_at(low) < alpha and low > 1e-6 * high:
        low /= 2
    return float(brentq(lambda mu: cls_at(mu) - alpha, low, high, xtol=1e-4 * high))


def toy_cls_limits(
    model: BinnedModel, cl: float, n_toys: int = 50_000, seed: int = 0, mu_start: float = 1.0
) -> tuple[float, tuple[float, float, float, float, float]]:
    """(observed, expected (-2, -1, median, +1, +2 sigma)) upper limits on mu at ``cl`` from
    ``n_toys`` pseudo-experiments per hypothesis (seeded: the same inputs give the same
    limits); ``mu_start`` is a first guess of the limit (e.g. the asymptotic one)."""
    if np.any(model.background <= 0):
        raise ValueError("toys need a positive background in every bin (floor empty bins)")
    toys = _Toys(model, n_toys, seed)
    alpha = 1.0 - cl
    observed_counts = model.observed

    def t_data(mu: float) -> float:
        return float(toys.statistic(observed_counts, mu))

    observed = _solve(lambda mu: toys.cls(mu, t_data), alpha, mu_start)
    expected: list[float] = []
    for n_sigma in (-2.0, -1.0, 0.0, 1.0, 2.0):
        t_band = toys.expected_statistic(n_sigma)
        expected.append(_solve(partial(toys.cls, t_obs=t_band), alpha, mu_start))
    return observed, tuple(expected)  # type: ignore[return-value]
