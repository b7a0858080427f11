"""One mass point's CLs limits by the configured calculator, from its pyhf workspace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlsearch.limits.asymptotic import cls_limits
from mlsearch.limits.model import BinnedModel
from mlsearch.limits.scan import LimitBands, upper_limit
from mlsearch.limits.toys import toy_cls_limits

__all__ = ["LimitJob", "limit_bands"]


@dataclass(frozen=True)
class LimitJob:
    """One mass point's limit computation (picklable, for worker processes)."""

    spec: dict[str, Any]  # the pyhf workspace
    cl: float
    points: int  # of pyhf's scan
    calculator: str  # "direct", "pyhf-scan" or "toys"
    toys: int
    seed: int


def limit_bands(job: LimitJob) -> LimitBands:
    """The observed limit and the expected bands on mu (a top-level function, so that worker
    processes can run it): the direct asymptotic solve (default), pyhf's hypothesis-test
    scan, or hybrid-CLs toys started from the asymptotic median."""
    if job.calculator == "pyhf-scan":
        return upper_limit(job.spec, job.cl, mu_max=2.0, points=job.points)
    model = BinnedModel.from_workspace(job.spec)
    observed, expected = cls_limits(model, job.cl, mu_max=2.0)
    if job.calculator == "toys":
        observed, expected = toy_cls_limits(model, job.cl, job.toys, job.seed, expected[2])
    return LimitBands(observed, expected)
