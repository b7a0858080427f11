"""Benchmarks of the limit calculators against pyhf in the same run."""

from __future__ import annotations

import time

import numpy as np


def bench_limits(n_masses: int = 100, n_pyhf: int = 4) -> list[tuple[str, str, str]]:
    """A scan of ``n_masses`` mass points (5-bin models with staterror and a 10 % normsys,
    background and signal varying with the mass) with +-1, +-2 sigma bands: the direct
    asymptotic solve on all of them, pyhf's 41-point scan on the first ``n_pyhf`` (same run)."""
    from mlsearch.limits.asymptotic import BinnedModel, cls_limits
    from mlsearch.limits.scan import upper_limit
    from mlsearch.limits.workspace import build_workspace

    rng = np.random.default_rng(3)
    specs = []
    for _ in range(n_masses):
        scale = 10 ** rng.uniform(-1, 2)
        s = np.array([2.0, 5.0, 10.0, 20.0, 30.0]) * rng.uniform(0.5, 2)
        b = np.array([5000.0, 800.0, 100.0, 20.0, 4.0]) * scale
        specs.append(build_workspace(s, b, 0.05 * b, 0.1, rng.poisson(b).astype(float)))
    start = time.perf_counter()
    ours = [cls_limits(BinnedModel.from_workspace(spec), 0.9, 2.0) for spec in specs]
    t_ours = (time.perf_counter() - start) / n_masses
    start = time.perf_counter()
    theirs = [upper_limit(spec, 0.9, 2.0, 41) for spec in specs[:n_pyhf]]
    t_pyhf = (time.perf_counter() - start) / n_pyhf
    diff = max(
        max(abs(o / t.observed - 1), *(abs(a / b - 1) for a, b in zip(e, t.expected, strict=True)))
        for (o, e), t in zip(ours, theirs, strict=False)
    )
    # the exact check: pyhf's hypotest at our limits gives CLs = 1 - CL
    import pyhf

    worst = 0.0
    for spec, (obs, exp) in zip(specs[:n_pyhf], ours, strict=False):
        ws = pyhf.Workspace(spec)
        model = ws.model(modifier_settings={"normsys": {"interpcode": "code4"}})
        bounds = model.config.suggested_bounds()
        bounds[model.config.poi_index] = (0.0, 10.0)
        for i, mu in enumerate((obs, *exp)):
            cls_obs, cls_exp = pyhf.infer.hypotest(
                mu, ws.data(model), model, test_stat="qtilde", return_expected_set=True,
                par_bounds=bounds,
            )  # fmt: skip
            value = float(cls_obs) if i == 0 else float(cls_exp[i - 1])
            worst = max(worst, abs(value / 0.1 - 1))
    return [
        _bench_binning(),
        *_bench_named_limits(rng),
        (
            f"limits: {n_masses} mass points with bands",
            f"{t_ours:.3f} s per mass point (pyhf 41-point scan {t_pyhf:.2f} s)",
            f"{t_pyhf / t_ours:.0f}x faster",
        ),
        (
            f"limits: agreement on {n_pyhf} points",
            f"pyhf hypotest at our limits: CLs = 0.1 within {worst:.1e}",
            f"vs pyhf's scan: max {diff:.1%} (its linear interpolation)",
        ),
    ]


def _bench_binning(n_background: int = 200_000, repeats: int = 10) -> tuple[str, str, str]:
    """The score bins of one mass: optimal edges (a dynamic programme over ~110 candidate
    edges, the background sorted once) against equal-signal ones, 5 bins."""
    from mlsearch.limits.binned import score_bin_edges

    rng = np.random.default_rng(5)
    scores, events = rng.beta(1, 3, n_background), rng.lognormal(0, 1, n_background) * 0.01
    signal = np.sort(rng.beta(8, 1, 1000))
    timing = {}
    for binning in ("optimal", "signal_quantiles"):
        start = time.perf_counter()
        for _ in range(repeats):
            score_bin_edges(signal, binning, 5, 0.0, (scores, events), 10.0, 0.9)
        timing[binning] = (time.perf_counter() - start) / repeats
    return (
        f"limits: score bins of one mass ({n_background:.0e} background MC events, 5 bins)",
        f"optimal {1e3 * timing['optimal']:.0f} ms, equal-signal "
        f"{1e3 * timing['signal_quantiles']:.2f} ms",
        "the optimal edges cost less than the CLs solve of the same mass",
    )


def _bench_named_limits(rng: np.random.Generator, n_masses: int = 20, n_pyhf: int = 2) -> list:
    """The Z' config's model: three background processes and its eight named normalisation
    uncertainties (L-BFGS-B profile over eight parameters), against pyhf's scan; and the
    toys of a low-background window (< 5 events) against the direct solve."""
    from mlsearch.limits.asymptotic import cls_limits
    from mlsearch.limits.model import SIGNAL, BinnedModel, NormSys, model_workspace
    from mlsearch.limits.scan import upper_limit
    from mlsearch.limits.toys import toy_cls_limits

    names = ("mumu", "tautau", "eemumu")
    everything = (SIGNAL, *names)
    systematics = (
        NormSys("luminosity", 0.01, everything),
        NormSys("trigger", 0.02, everything),
        NormSys("tracking", 0.006, everything),
        NormSys("muon_id", 0.03, everything),
        NormSys("xsec_mumu", 0.01, ("mumu",)),
        NormSys("xsec_tautau", 0.02, ("tautau",)),
        NormSys("xsec_eemumu", 0.1, ("eemumu",)),
        NormSys("background_modelling", 0.1, names),
    )
    shape = np.array(
        [[0.7, 0.5, 0.3, 0.2, 0.1], [0.2, 0.3, 0.4, 0.4, 0.3], [0.1, 0.2, 0.3, 0.4, 0.6]]
    )
    models = []
    for _ in range(n_masses):
        b = shape * np.array([5000.0, 800.0, 100.0, 20.0, 4.0]) * 10 ** rng.uniform(-1, 2)
        s = np.array([2.0, 5.0, 10.0, 20.0, 30.0]) * rng.uniform(0.5, 2)
        observed = rng.poisson(b.sum(axis=0)).astype(float)
        models.append(BinnedModel(s, b, 0.05 * b, observed, systematics, names))
    start = time.perf_counter()
    ours = [cls_limits(m, 0.9, 2.0) for m in models]
    t_ours = (time.perf_counter() - start) / n_masses
    start = time.perf_counter()
    theirs = [upper_limit(model_workspace(m), 0.9, 2.0, 41) for m in models[:n_pyhf]]
    t_pyhf = (time.perf_counter() - start) / n_pyhf
    diff = max(abs(e[2] / t.expected[2] - 1) for (_, e), t in zip(ours, theirs, strict=False))
    low = BinnedModel(
        np.array([3.0, 6.0]),
        np.array([[1.5, 0.5], [0.8, 0.2], [0.3, 0.1]]),
        np.array([[0.3, 0.2], [0.3, 0.1], [0.2, 0.1]]),
        np.array([2.0, 0.0]),
        systematics,
        names,
    )
    start = time.perf_counter()
    _, asymptotic = cls_limits(low, 0.9, 2.0)
    t_asym = time.perf_counter() - start
    start = time.perf_counter()
    _, toys = toy_cls_limits(low, 0.9, 50_000, seed=1, mu_start=asymptotic[2])
    t_toys = time.perf_counter() - start
    return [
        (
            "limits: 3 backgrounds, 8 named uncertainties",
            f"{t_ours:.3f} s per mass point (pyhf 41-point scan {t_pyhf:.2f} s)",
            f"{t_pyhf / t_ours:.0f}x faster; medians differ by {diff:.1%}",
        ),
        (
            "limits: toys where b < 5 (50k per hypothesis)",
            f"{t_toys:.2f} s per mass point (direct solve {t_asym:.3f} s)",
            f"median: toys / asymptotic = {toys[2] / asymptotic[2]:.2f}",
        ),
    ]
