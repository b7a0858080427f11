"""Exact CLs for a one-bin counting experiment without systematic uncertainties (the
classical LEP-style construction with the event count as the test statistic):

    CLs(s) = P(n <= n_obs | s + b) / P(n <= n_obs | b)

solved for CLs(s) = 1 - CL with scipy. It is the independent reference that shows where the
asymptotic formulae of :mod:`mlsearch.limits.asymptotic` hold (docs/validation.md): for
n_obs = b = 0 the exact answer is s = -ln(1 - CL) (2.303 events at 90 % CL).
"""

from __future__ import annotations

from scipy.optimize import brentq
from scipy.stats import poisson

__all__ = ["exact_counting_limit"]


def exact_counting_limit(n_observed: int, background: float, cl: float = 0.9) -> float:
    """Upper limit on the signal events s at confidence level ``cl``.

    >>> round(exact_counting_limit(0, 0.0), 4)  # -ln(0.1)
    2.3026
    """
    alpha = 1.0 - cl
    cl_b = poisson.cdf(n_observed, background) if background > 0 else 1.0

    def cls(s: float) -> float:
        return float(poisson.cdf(n_observed, s + background) / cl_b) - alpha

    high = 10.0 + 10.0 * (n_observed + background)
    return float(brentq(cls, 0.0, high, xtol=1e-10))
