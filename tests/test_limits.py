from pathlib import Path

import numpy as np
import pytest

from mlsearch.errors import InputError
from mlsearch.limits.scan import upper_limit
from mlsearch.limits.workspace import build_workspace
from mlsearch.selection.windows import signal_window


def test_large_background_counting_limit_matches_asymptotic_formula():
    """One bin with b >> 1 and a Gaussian MC uncertainty d: the expected CLs limits at
    CL = 1 - alpha are sigma (Phi^-1(1 - alpha Phi(N)) + N), N = 0, +-1, +-2, with
    sigma = sqrt(b + d^2) / s (Cowan, Cranmer, Gross, Vitells, EPJC 71 (2011) 1554, eq. 89)."""
    from scipy.stats import norm

    b, d, s, alpha = 10_000.0, 50.0, 100.0, 0.1
    spec = build_workspace(np.array([s]), np.array([b]), np.array([d]), 0.0, np.array([b]))
    bands = upper_limit(spec, cl=1 - alpha, mu_max=3.0, points=61)
    sigma = np.sqrt(b + d**2) / s
    for n, got in zip((-2, -1, 0, 1, 2), bands.expected, strict=True):
        want = sigma * (norm.ppf(1 - alpha * norm.cdf(n)) + n)
        assert got == pytest.approx(want, rel=0.015), n
    assert bands.observed == pytest.approx(bands.expected[2], rel=0.01)  # data = Asimov


def test_normalisation_uncertainty_weakens_the_limit_and_bands_are_ordered():
    s = np.array([5.0, 10.0, 20.0])
    b = np.array([400.0, 100.0, 10.0])
    stat = np.sqrt(b)
    tight = upper_limit(build_workspace(s, b, stat, 0.0, b), 0.9, 2.0, 41)
    loose = upper_limit(build_workspace(s, b, stat, 0.3, b), 0.9, 2.0, 41)
    assert loose.expected[2] > tight.expected[2]
    for bands in (tight, loose):
        assert list(bands.expected) == sorted(bands.expected)
        assert all(v > 0 for v in bands.expected)


def test_scan_range_adapts_to_the_limit():
    s, b = np.array([1.0]), np.array([100.0])
    from scipy.optimize import brentq

    # starts far below the limit (mu_max = 0.5): the scan must widen by itself
    bands = upper_limit(build_workspace(s, b, np.array([1.0]), 0.0, b), 0.9, 0.5, 21)
    # Poisson Asimov: q_A(x) = 2 (x - b ln(1 + x / b)) = 1.645^2 at the median limit x
    want = brentq(lambda x: 2 * (x - 100 * np.log(1 + x / 100)) - 1.645**2, 1, 100)
    assert bands.expected[2] == pytest.approx(want, rel=0.03)


def test_window_is_two_sigma_of_the_signal_core():
    rng = np.random.default_rng(2)
    values = np.r_[rng.normal(9.0, 0.2, 50_000), rng.uniform(0, 9, 5_000)]  # low-side tail
    w = signal_window(values, 2.0)
    assert w.low < 9.0 < w.high
    assert 0.18 < w.sigma < 0.3
    with pytest.raises(InputError, match="too few"):
        signal_window(np.ones(3), 2.0)


def test_punzi_figure_of_merit():
    from mlsearch.selection.punzi import best_punzi_cut, one_event_floor, punzi_cross_section

    # large B: sigma_min -> (a + b) sqrt(B) / (eff L)... to leading order a sqrt(B) + b sqrt(B)
    big = float(punzi_cross_section(1.0, 1e8, 1.0))
    assert big == pytest.approx((3 + 1.28155) * 1e4, rel=1e-3)
    rng = np.random.default_rng(3)
    s_score, b_score = rng.beta(5, 1, 10_000), rng.beta(1, 5, 10_000)
    w_s, w_b = np.full(10_000, 1e-3), np.full(10_000, 1.0)
    best, *_ = best_punzi_cut(s_score, w_s, b_score, w_b, 0.5, 10.0, 0.0)
    no_cut = float(punzi_cross_section(0.5, 10_000.0, 10.0))
    assert best < no_cut
    # a floor on the background can only make the best sensitivity worse
    assert best_punzi_cut(s_score, w_s, b_score, w_b, 0.5, 10.0, 50.0)[0] >= best
    # the floor is one MC event's mean weight, times the rows per event
    assert one_event_floor(np.array([0.0, 2.0, 4.0])) == 3.0
    assert one_event_floor(np.array([2.0, 4.0]), copies=10) == 30.0
    assert one_event_floor(np.zeros(3)) == 0.0


_MODELS = (
    # (signal, background, relative MC uncertainty, normalisation uncertainty)
    (
        np.array([2.0, 5.0, 10.0, 20.0, 30.0]),
        np.array([5000.0, 800.0, 100.0, 20.0, 4.0]),
        0.05,
        0.1,
    ),
    (np.array([1.0, 3.0, 6.0]), np.array([50.0, 10.0, 2.0]), 0.2, 0.1),
    (np.array([5.0]), np.array([3.0]), 0.3, 0.0),
    (np.array([4.0, 4.0]), np.array([0.5, 100.0]), 0.5, 0.2),
)


@pytest.mark.parametrize("case", range(len(_MODELS)))
def test_direct_solve_sits_where_pyhf_gives_cls_equal_alpha(case):
    """At each limit of the direct solver, pyhf's own hypothesis test (an independent
    implementation of the same likelihood and asymptotics) gives CLs = 1 - CL."""

    from mlsearch.limits.asymptotic import BinnedModel, cls_limits

    s, b, stat, norm = _MODELS[case]
    observed_counts = np.random.default_rng(case).poisson(b).astype(float)
    spec = build_workspace(s, b, stat * b, norm, observed_counts)
    observed, expected = cls_limits(BinnedModel.from_workspace(spec), 0.9, mu_max=2.0)
    assert list(expected) == sorted(expected)
    _assert_pyhf_cls_at(spec, observed, expected, rel=1e-4)


def _assert_pyhf_cls_at(spec, observed, expected, rel):
    """pyhf's own hypotest (qtilde, asymptotics, code4) gives CLs = 0.1 at the observed limit
    and at each expected band's limit."""
    import pyhf

    pyhf.set_backend("numpy")
    workspace = pyhf.Workspace(spec)
    model = workspace.model(modifier_settings={"normsys": {"interpcode": "code4"}})
    data = workspace.data(model)
    bounds = model.config.suggested_bounds()
    bounds[model.config.poi_index] = (0.0, 10.0)

    def hypotest(mu):
        return pyhf.infer.hypotest(
            mu, data, model, test_stat="qtilde", return_expected_set=True, par_bounds=bounds
        )

    cls_obs, _ = hypotest(observed)
    assert float(cls_obs) == pytest.approx(0.1, rel=rel)
    for n_index, mu in enumerate(expected):  # -2 sigma first: pyhf's set is (+2 .. -2) in n
        _, cls_set = hypotest(mu)
        assert float(cls_set[n_index]) == pytest.approx(0.1, rel=rel), n_index


def test_direct_solve_matches_the_pyhf_scan_and_the_closed_form():
    from scipy.stats import norm

    from mlsearch.limits.asymptotic import BinnedModel, cls_limits

    s, b, stat, norm_unc = _MODELS[0]
    spec = build_workspace(s, b, stat * b, norm_unc, b)
    scan = upper_limit(spec, 0.9, 2.0, 41)
    observed, expected = cls_limits(BinnedModel.from_workspace(spec), 0.9, 2.0)
    np.testing.assert_allclose(expected, scan.expected, rtol=0.01)
    assert observed == pytest.approx(scan.observed, rel=0.01)
    # one bin, large background: the closed-form expected limits (see the first test)
    big_b, d, big_s, alpha = 10_000.0, 50.0, 100.0, 0.1
    one = build_workspace(
        np.array([big_s]), np.array([big_b]), np.array([d]), 0.0, np.array([big_b])
    )
    _, exp = cls_limits(BinnedModel.from_workspace(one), 0.9, 3.0)
    sigma = np.sqrt(big_b + d**2) / big_s
    for n, got in zip((-2, -1, 0, 1, 2), exp, strict=True):
        assert got == pytest.approx(sigma * (norm.ppf(1 - alpha * norm.cdf(n)) + n), rel=0.01)


def test_direct_solve_with_a_strong_deficit_in_the_data():
    """Far fewer events than expected: q_mu > 0 where the Asimov q_A is still ~0 (this used
    to divide by zero); the observed limit is then below the median expected one."""
    import pyhf

    from mlsearch.limits.asymptotic import BinnedModel, cls_limits

    s, b = np.array([3.0, 6.0]), np.array([20.0, 5.0])
    spec = build_workspace(s, b, 0.1 * b, 0.1, np.array([8.0, 0.0]))
    observed, expected = cls_limits(BinnedModel.from_workspace(spec), 0.9, mu_max=2.0)
    assert 0 < observed < expected[2]
    pyhf.set_backend("numpy")
    workspace = pyhf.Workspace(spec)
    model = workspace.model(modifier_settings={"normsys": {"interpcode": "code4"}})
    bounds = model.config.suggested_bounds()
    bounds[model.config.poi_index] = (0.0, 10.0)
    cls = pyhf.infer.hypotest(
        observed, workspace.data(model), model, test_stat="qtilde", par_bounds=bounds
    )
    assert float(cls) == pytest.approx(0.1, rel=1e-4)


def test_an_insensitive_huge_bin_does_not_change_the_direct_solve():
    """A first bin with 4e7 background events and s/sqrt(b) = 0.004 (the Z' 0.5 GeV window)
    broke pyhf's minimiser; the direct solve gives the limits of the other bins alone (to
    1e-6 without a shared normalisation uncertainty; with one, the big bin measures it and
    the limits tighten by ~1 %, a physics effect)."""
    from mlsearch.limits.asymptotic import BinnedModel, cls_limits

    s = np.array([26.0, 26.0, 26.0, 26.0, 26.0])
    b = np.array([4.0e7, 4300.0, 1480.0, 334.0, 19.5])
    obs = np.array([4.00147e7, 4311.0, 1439.0, 358.0, 10.0])
    stat = np.array([2.0e5, 150.0, 60.0, 25.0, 6.0])

    def limits(first: int, norm: float):
        spec = build_workspace(s[first:], b[first:], stat[first:], norm, obs[first:])
        return spec, cls_limits(BinnedModel.from_workspace(spec), 0.9, 2.0)

    _, (o_full, e_full) = limits(0, 0.0)
    _, (o_rest, e_rest) = limits(1, 0.0)
    assert o_full == pytest.approx(o_rest, rel=1e-5)
    np.testing.assert_allclose(e_full, e_rest, rtol=1e-5)
    _, (_, e_full_norm) = limits(0, 0.1)
    rest_spec, (_, e_rest_norm) = limits(1, 0.1)
    assert all(0.97 < a / c < 1.0 for a, c in zip(e_full_norm, e_rest_norm, strict=True))
    # pyhf, on the model without the huge bin, agrees (its scan interpolates linearly between
    # 41 points, which costs the -2 sigma band up to ~2 %: see the hypotest test above)
    scan = upper_limit(rest_spec, 0.9, 2.0, 41).expected
    np.testing.assert_allclose(e_rest_norm[1:], scan[1:], rtol=0.01)
    assert e_rest_norm[0] == pytest.approx(scan[0], rel=0.02)


def test_luminosity_projections_scale_like_the_background_dominated_expectation():
    """Background-dominated, no systematics: the expected mu limit scales like 1/sqrt(k) with
    the luminosity ratio k, so a coupling limit (sigma ~ g^2) like k^(-1/4); with fixed
    relative systematics the limit saturates instead."""
    from mlsearch.config import load_config
    from mlsearch.limits.outputs import projections as _projections

    from .conftest import SMALL_PROFILE

    spec = build_workspace(
        np.array([50.0]), np.array([1.0e5]), np.array([1.0]), 0.0, np.array([1.0e5])
    )
    row = {"mass": 2.0, "n_signal_ref": 50.0, "signal_efficiency": 0.5, "coupling_ref": 0.01}
    base = load_config(SMALL_PROFILE, ["luminosity_fb=10", "limits.projections_fb=[10, 160]"])
    proj = _projections(base, [row], [spec], [1.0]).set_index("luminosity_fb")
    ratio = proj.loc[160.0, "expected_coupling_median"] / proj.loc[10.0, "expected_coupling_median"]
    assert ratio == pytest.approx(16**-0.25, rel=0.02)
    # cross section: sigma_up = N_up / (eff L) with N_up ~ sqrt(L): ratio 1/4
    xs = proj.loc[160.0, "expected_xsec_fb_median"] / proj.loc[10.0, "expected_xsec_fb_median"]
    assert xs == pytest.approx(0.25, rel=0.02)
    syst = build_workspace(
        np.array([50.0]), np.array([1.0e5]), np.array([5.0e3]), 0.0, np.array([1.0e5])
    )
    fixed = load_config(SMALL_PROFILE, ["luminosity_fb=10", "limits.projections_fb=[10, 1000]"])
    saturated = _projections(fixed, [row], [syst], [1.0]).set_index("luminosity_fb")
    gain = (
        saturated.loc[1000.0, "expected_coupling_median"]
        / saturated.loc[10.0, "expected_coupling_median"]
    )
    assert gain > 0.9  # a 5 % MC uncertainty on 10^5 events dominates already at 10 fb^-1


@pytest.mark.parametrize(
    ("mc", "norm"),
    [("same_sample", "fixed"), ("scaled_with_data", "fixed"), ("same_sample", "scaled")],
)
def test_projections_scale_the_background_not_its_mc_uncertainty(mc: str, norm: str) -> None:
    """One bin of b = 10^4 events with a 2 % MC-statistical and a 3 % normalisation
    uncertainty, projected to 100x the luminosity. Known answer for large b: the median
    limit is 1.645 sqrt(k b + (r_mc k b)^2 + (r_norm k b)^2) events (90 % CL, CLs), where
    the same MC sample keeps r_mc = 2 % (its weights scale with k), MC made with the data has
    r_mc = 2 % / sqrt(k), and a normalisation uncertainty keeps its size unless scaled."""
    from mlsearch.config import load_config
    from mlsearch.limits.model import BinnedModel, NormSys, model_workspace
    from mlsearch.limits.outputs import projections

    from .conftest import SMALL_PROFILE

    b, r_mc, r_norm, k = 1.0e4, 0.02, 0.03, 100.0
    model = BinnedModel(np.array([1.0]), np.array([[b]]), np.array([[r_mc * b]]),
                        np.array([b]), (NormSys("xs", r_norm, ("bkg",)),), ("bkg",))  # fmt: skip
    config = load_config(
        SMALL_PROFILE,
        ["luminosity_fb=10", "limits.projections_fb=[1000]", f"limits.projection_mc={mc}",
         f"limits.projection_normalisation={norm}"],
    )  # fmt: skip
    row = {"mass": 2.0, "n_signal_ref": 1.0, "signal_efficiency": 0.5, "coupling_ref": 0.01}
    got = projections(config, [row], [model_workspace(model)], [1.0])
    mc_rel = r_mc if mc == "same_sample" else r_mc / np.sqrt(k)
    norm_rel = r_norm if norm == "fixed" else r_norm / np.sqrt(k)
    want = 1.645 * np.sqrt(k * b + (mc_rel * k * b) ** 2 + (norm_rel * k * b) ** 2)
    assert got["expected_events_median"].iloc[0] == pytest.approx(want, rel=0.02)


def test_projections_in_worker_processes_equal_the_serial_ones_with_one_blas_thread_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """From 16 solves on, the limits stage maps the masses over two spawned workers: the same
    rows in the same order as the builtin map, each worker with one BLAS/OpenMP thread (two
    each spin against each other: 3x slower than serial), the parent's environment
    restored afterwards."""
    import os

    import pandas as pd

    from mlsearch.config import load_config
    from mlsearch.limits.model import BinnedModel, model_workspace
    from mlsearch.limits.outputs import projections
    from mlsearch.pipeline import limits as stage

    from .conftest import SMALL_PROFILE

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    config = load_config(SMALL_PROFILE, ["luminosity_fb=10", "limits.projections_fb=[30, 1000]"])
    rows, specs = [], []
    for i in range(8):
        b = 100.0 * (i + 1)
        model = BinnedModel(np.array([1.0, 2.0]), np.array([[b, b / 10]]),
                            np.array([[0.05 * b, 0.01 * b]]), np.array([b, b / 10]), (),
                            ("bkg",))  # fmt: skip
        specs.append(model_workspace(model))
        rows.append({"mass": 1.0 + i, "n_signal_ref": 1.0, "signal_efficiency": 0.5,
                     "coupling_ref": 0.01})  # fmt: skip
    serial = projections(config, rows, specs, [1.0] * 8)
    with stage._mapper(16) as mapper:
        assert mapper is not map
        pooled = projections(config, rows, specs, [1.0] * 8, mapper)
        threads = list(mapper(os.getenv, ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"]))
    assert threads == ["1", "1"]
    assert os.environ["OPENBLAS_NUM_THREADS"] == "2" and "OMP_NUM_THREADS" not in os.environ
    pd.testing.assert_frame_equal(pooled, serial)
    assert list(serial["mass"]) == [1.0 + i // 2 for i in range(16)]
    with stage._mapper(15) as mapper:
        assert mapper is map


def test_counting_experiment_known_answers_and_where_asymptotics_hold():
    """Exact one-bin CLs: with n = 0 the limit is -ln(0.1) = 2.303 events whatever b is
    (CLs = e^-(s+b) / e^-b); the asymptotic solve agrees to 1 % at b = 1000 and is optimistic
    at small b (the rows flagged low_background)."""
    from mlsearch.limits.asymptotic import BinnedModel, cls_limits
    from mlsearch.limits.counting import exact_counting_limit

    for b in (0.0, 0.7, 4.0):
        assert exact_counting_limit(0, b) == pytest.approx(-np.log(0.1), rel=1e-9)
    assert exact_counting_limit(3, 3.0) == pytest.approx(4.362, abs=1e-3)

    def asymptotic(n: int, b: float) -> float:
        model = BinnedModel.single(np.array([1.0]), np.array([b]), np.array([1e-6 * b]), 0.0,
                                   np.array([float(n)]))  # fmt: skip
        return cls_limits(model, 0.9, mu_max=3 * exact_counting_limit(n, b))[0]

    assert asymptotic(1000, 1000.0) == pytest.approx(exact_counting_limit(1000, 1000.0), rel=0.01)
    ratio = asymptotic(3, 3.0) / exact_counting_limit(3, 3.0)
    assert 0.8 < ratio < 0.95  # 13 % optimistic at b = 3


def test_limit_plots_match_their_reference_images(tmp_path):
    """The plotting layer returns Figures; rendered from fixed arrays they match the
    reference PNGs in tests/data (matplotlib's image comparison, RMS tolerance 2 of 255).
    Regenerate a reference only after checking the new image by eye."""
    from matplotlib.testing.compare import compare_images

    from mlsearch.limits.plot import brazil_plot, projection_plot

    data = Path(__file__).parent / "data"
    mass = np.array([1.0, 2.0, 3.0, 5.0, 8.0])
    med = np.array([2e-3, 3e-3, 5e-3, 1e-2, 5e-2])
    expected = np.stack([med * f for f in (0.6, 0.8, 1.0, 1.3, 1.7)], axis=1)
    figures = {
        "brazil_reference.png": brazil_plot(
            mass, expected, med * 1.1, "g'", "reference", 0.9, [("published", mass, med * 3)]
        ),
        "projection_reference.png": projection_plot(
            mass, {1.0: med, 100.0: med / 3}, "g'", "reference", 0.9
        ),
    }
    for name, fig in figures.items():
        fig.savefig(tmp_path / name, dpi=60)
        assert compare_images(str(data / name), str(tmp_path / name), tol=2) is None, name
    # and a different figure does not pass
    wrong = brazil_plot(mass, expected * 2, None, "g'", "reference", 0.9)
    wrong.savefig(tmp_path / "wrong.png", dpi=60)
    assert compare_images(str(data / "brazil_reference.png"), str(tmp_path / "wrong.png"), tol=2)


def _named_model(seed: int):
    from mlsearch.limits.model import SIGNAL, BinnedModel, NormSys

    rng = np.random.default_rng(seed)
    signal = np.array([2.0, 4.0, 8.0, 12.0])
    backgrounds = np.array(
        [[300.0, 60.0, 12.0, 2.0], [80.0, 30.0, 6.0, 0.0], [10.0, 5.0, 2.0, 1.0]]
    )
    names = ("mumu", "tautau", "eemumu")
    systematics = (
        NormSys("luminosity", 0.01, (SIGNAL, *names)),
        NormSys("trigger", 0.03, (SIGNAL,)),
        NormSys("muon_id", 0.05, (SIGNAL, "mumu", "eemumu")),
        NormSys("xsec_tautau", 0.2, ("tautau",)),
        NormSys("xsec_eemumu", 0.3, ("eemumu",)),
    )
    observed = rng.poisson(backgrounds.sum(axis=0)).astype(float)
    return BinnedModel(signal, backgrounds, 0.1 * backgrounds + 0.05, observed, systematics, names)


@pytest.mark.parametrize("seed", [0, 1])
def test_named_backgrounds_and_uncertainties_solve_where_pyhf_gives_cls_equal_alpha(seed):
    """Several background samples, each with its own staterror, and five named normsys on
    different sample sets (luminosity, trigger, ID, two cross sections): pyhf's hypotest at
    the direct solve's limits gives CLs = 0.1 (the L-BFGS-B profile with the analytic
    gradient), and the workspace round-trips."""

    from mlsearch.limits.asymptotic import cls_limits
    from mlsearch.limits.model import BinnedModel, model_workspace

    model = _named_model(seed)
    spec = model_workspace(model)
    again = BinnedModel.from_workspace(spec)
    assert again.background_names == model.background_names
    assert [s.samples for s in again.systematics] == [s.samples for s in model.systematics]
    np.testing.assert_allclose(again.background_stats, model.background_stats)
    observed, expected = cls_limits(again, 0.9, mu_max=2.0)
    _assert_pyhf_cls_at(spec, observed, expected, rel=1e-3)
    # the uncertainties cost sensitivity: without them the median limit is stronger
    bare = BinnedModel(
        model.signal, model.backgrounds, model.background_stats, model.observed, (),
        model.background_names,
    )  # fmt: skip
    assert cls_limits(bare, 0.9, 2.0)[1][2] < expected[2]


@pytest.mark.parametrize(("n", "b"), [(0, 0.01), (0, 2.0), (1, 0.5), (3, 3.0), (10, 10.0)])
def test_toys_reproduce_the_exact_counting_limit(n, b):
    """One bin, no uncertainties: the toy CLs is the counting CLs, to the toys' precision
    (50 000 toys: ~2 %); the expected median is the exact limit at the median count."""
    from scipy.stats import poisson

    from mlsearch.limits.counting import exact_counting_limit
    from mlsearch.limits.model import BinnedModel
    from mlsearch.limits.toys import toy_cls_limits

    model = BinnedModel.single(
        np.array([1.0]), np.array([b]), np.array([1e-6 * b]), 0.0, np.array([float(n)])
    )
    observed, expected = toy_cls_limits(model, 0.9, 50_000, seed=3, mu_start=3.0)
    assert observed == pytest.approx(exact_counting_limit(n, b), rel=0.035)
    median_count = int(poisson.ppf(0.5, b))
    assert expected[2] == pytest.approx(exact_counting_limit(median_count, b), rel=0.035)
    assert list(expected) == sorted(expected)
    # seeded: the same inputs give the same limits
    assert toy_cls_limits(model, 0.9, 50_000, seed=3, mu_start=3.0)[0] == observed


def test_toys_agree_with_the_asymptotic_solve_at_large_background():
    """Where the asymptotic formulae hold (thousands of events, no uncertainties), toys and
    the direct solve agree: median to 2 %, bands to 5 %."""
    from mlsearch.limits.asymptotic import cls_limits
    from mlsearch.limits.model import BinnedModel
    from mlsearch.limits.toys import toy_cls_limits

    s, b = np.array([5.0, 10.0, 20.0]), np.array([2000.0, 500.0, 100.0])
    model = BinnedModel.single(s, b, 1e-4 * b, 0.0, b.copy())
    toy_obs, toy_exp = toy_cls_limits(model, 0.9, 50_000, seed=1, mu_start=1.0)
    asy_obs, asy_exp = cls_limits(model, 0.9, 2.0)
    assert toy_exp[2] == pytest.approx(asy_exp[2], rel=0.02)
    np.testing.assert_allclose(toy_exp, asy_exp, rtol=0.05)
    assert toy_obs == pytest.approx(asy_obs, rel=0.02)


def test_signal_points_interpolate_between_generated_masses():
    """Window centre relative to m^2, width, efficiency and log cross section linear in the
    mass; the score distribution by horizontal morphing of its quantile function."""
    from mlsearch.limits.signal_points import interpolate_points, measure_point
    from mlsearch.selection.windows import MassWindow

    rng = np.random.default_rng(0)
    a = measure_point(
        2.0, MassWindow(4.1, 0.2, 3.7, 4.5), rng.beta(8, 2, 5000), np.full(5000, 0.01), 10.0, 0.01,
        50.0,
    )  # fmt: skip
    b = measure_point(
        4.0, MassWindow(16.1, 0.4, 15.3, 16.9), rng.beta(8, 2, 5000) ** 2, np.full(5000, 0.008),
        1.0, 0.01, 50.0,
    )  # fmt: skip
    points = interpolate_points([b, a], 3, power=2)
    assert [p.mass for p in points] == [2.0, 2.5, 3.0, 3.5, 4.0]
    assert [p.interpolated for p in points] == [False, True, True, True, False]
    mid = points[2]
    assert mid.window.center == pytest.approx(9.1)  # 3^2 + the shared 0.1 offset
    assert mid.window.sigma == pytest.approx(0.3)
    assert mid.window.high - mid.window.center == pytest.approx(2 * 0.3)
    assert mid.cross_section_ref_fb == pytest.approx(np.sqrt(10.0))  # log-linear
    assert mid.efficiency == pytest.approx((a.efficiency + b.efficiency) / 2)
    assert mid.n_ref == pytest.approx(mid.efficiency * mid.cross_section_ref_fb * 50.0)
    # the median score sits half way between the neighbours' medians
    med = [np.median(p.score_quantiles) for p in (a, mid, b)]
    assert med[1] == pytest.approx((med[0] + med[2]) / 2, rel=1e-3)
    assert points[0] is a  # generated points are kept as measured


def test_auto_interpolation_leaves_no_holes_between_windows():
    """'auto' puts the fewest points into each gap that make consecutive windows touch: the
    window (+-2 sigma around m^2 + 0.1, sigma from 0.2 to 0.4 GeV^2) covers 2 m dm ~ 4 sigma,
    so near 4 GeV about one point per 0.2 GeV."""
    from mlsearch.limits.signal_points import interpolate_points, measure_point, window_gaps
    from mlsearch.selection.windows import MassWindow

    rng = np.random.default_rng(0)
    a = measure_point(
        2.0, MassWindow(4.1, 0.2, 3.7, 4.5), rng.beta(8, 2, 500), np.full(500, 0.01), 10.0, 0.01,
        50.0,
    )  # fmt: skip
    b = measure_point(
        4.0, MassWindow(16.1, 0.4, 15.3, 16.9), rng.beta(8, 2, 500), np.full(500, 0.01), 1.0,
        0.01, 50.0,
    )  # fmt: skip
    assert window_gaps([a, b])[0] == pytest.approx(15.3 - 4.5)
    points = interpolate_points([a, b], "auto", power=2)
    assert window_gaps(points) == [0.0] * len(points)
    k = len(points) - 2
    assert 8 <= k <= 20
    fewer = interpolate_points([a, b], k - 1, power=2)
    assert max(window_gaps(fewer)) > 0  # the fewest that close every hole


def test_a_mass_without_selected_signal_gives_no_limit_with_the_reason():
    """Zero (or too little) selected signal at a mass: a "no limit" row that says why, while
    the other masses get their signal points."""
    import pandas as pd

    from mlsearch.config import load_config
    from mlsearch.limits.points import signal_points

    from .conftest import SMALL_PROFILE, feature_meta

    config = load_config(SMALL_PROFILE)
    rng = np.random.default_rng(0)
    rows = [
        ("zprime_m1", 1.0 + 0.1 * rng.standard_normal(500)),
        ("zprime_m3", 9.0 + np.r_[0.1, 0.2]),
    ]
    table = pd.concat(
        [
            pd.DataFrame({"process": p, "recoil_mass2": v, "weight": 0.01, "fold": 0})
            for p, v in rows
        ]
    )
    samples = {
        f"zprime_m{m:g}": {
            "is_signal": True,
            "mass": m,
            "n_generated": 1500,
            "cross_section_fb": 5.0,
            "coupling": 0.01,
        }
        for m in (1.0, 3.0, 6.0)
    }
    meta = feature_meta(samples)

    def scorer(rows: pd.DataFrame, mass: float) -> np.ndarray:
        return np.full(len(rows), 0.9)

    lim = config.limits
    points, no_limit = signal_points(
        table, meta, scorer, lim.window_sigma, config.luminosity_fb, 0, lambda m: 1.0
    )
    assert [p.mass for p in points] == [1.0]
    assert points[0].window.low < 1.0 < points[0].window.high
    reasons = {r["mass"]: r["status"] for r in no_limit}
    assert "2 selected signal events of 1500 generated" in reasons[3.0]
    assert "no signal event of 1500 generated passes the selection" in reasons[6.0]


def test_a_window_without_background_mc_gets_the_one_event_floor():
    """No background MC event in the window: the background is one MC event's weight with
    100 % uncertainty (not zero), shared among the bins like the signal (so the number of
    bins does not multiply it), and toys and the asymptotic solve give finite limits."""
    import pandas as pd

    from mlsearch.config import load_config
    from mlsearch.limits.asymptotic import cls_limits
    from mlsearch.limits.binned import binned_mass_model
    from mlsearch.limits.points import window_backgrounds
    from mlsearch.limits.toys import toy_cls_limits

    from .conftest import SMALL_PROFILE, feature_meta, one_gev_point

    config = load_config(SMALL_PROFILE, ["luminosity_fb=10"])
    table = pd.DataFrame(
        {
            "process": ["mumu"] * 4,
            "label": 0,
            "recoil_mass2": [30.0, 31.0, 32.0, 33.0],
            "weight": [0.5, 0.5, 0.5, 0.5],
            "fold": 0,
            "event": [0, 1, 2, 3],
        }
    )
    meta = feature_meta({"mumu": {"is_signal": False, "process": "mumu"}})
    rng = np.random.default_rng(1)
    point = one_gev_point(rng)

    def scorer(rows: pd.DataFrame, mass: float) -> np.ndarray:
        return np.full(len(rows), 0.2)

    backgrounds = window_backgrounds(table, meta, point, scorer, 10.0)
    built = binned_mass_model(point, backgrounds, config.limits, 10.0, None, rng)
    assert built.model.background_names == ("mumu",)
    # one MC event of 0.5 fb x 10 fb^-1 in all, not per bin, spread like the signal (equal
    # signal per bin), each share with 100 % uncertainty
    signal = built.model.signal
    assert built.model.background.sum() == pytest.approx(0.5 * 10)
    np.testing.assert_allclose(built.model.background, 5.0 * signal / signal.sum())
    np.testing.assert_allclose(built.model.background_stat, built.model.background)
    # its whole sample: 2 fb / (4 x 0.25 fb^2), and the window is MC-limited (2 < 10 fb^-1)
    assert built.row["mc_lumi_fb_mumu"] == pytest.approx(2.0) and built.row["mc_limited"]
    observed, expected = cls_limits(built.model, 0.9, 2.0)
    toys = toy_cls_limits(built.model, 0.9, 20_000, seed=1, mu_start=expected[2])
    assert np.isfinite([observed, *expected, toys[0], *toys[1]]).all()
    assert all(v > 0 for v in expected)


def test_punzi_cut_is_chosen_on_other_mc_than_it_counts():
    """`score_binning: punzi_cut`: the cut is chosen on one half of the background events
    (mc_half) and the background above it counted on the other (weights x2), so the MC's
    downward fluctuations that the choice finds do not also set the limit. The halves are
    not the training folds (here fold = event mod 2, as the features stage assigns it):
    each fold model's events are in both."""
    import pandas as pd

    from mlsearch.config import load_config
    from mlsearch.limits.binned import binned_mass_model
    from mlsearch.limits.points import window_backgrounds
    from mlsearch.scoring import mc_half
    from mlsearch.selection.punzi import best_punzi_cut, one_event_floor

    from .conftest import SMALL_PROFILE, feature_meta, one_gev_point

    rng = np.random.default_rng(3)
    n = 4000
    table = pd.DataFrame({"process": "mumu", "label": 0, "recoil_mass2": rng.uniform(0.7, 1.3, n),
                          "weight": 0.05, "fold": np.arange(n) % 2, "event": np.arange(n),
                          "score": rng.beta(1, 3, n)})  # fmt: skip
    meta = feature_meta({"mumu": {"is_signal": False, "process": "mumu"}})
    config = load_config(SMALL_PROFILE, ["luminosity_fb=10", "limits.score_binning=punzi_cut"])
    point = one_gev_point(rng)

    def scorer(rows: pd.DataFrame, mass: float) -> np.ndarray:
        return rows["score"].to_numpy()

    bkg = window_backgrounds(table, meta, point, scorer, 10.0)
    built = binned_mass_model(point, bkg, config.limits, 10.0, None, rng)
    choose = mc_half(table["event"].to_numpy())
    for fold in (0, 1):  # both folds on both sides
        assert 0.4 < choose[table["fold"] == fold].mean() < 0.6
    events = table["weight"].to_numpy() * 10.0
    s_score, s_events = point.pseudo_events()
    _, cut, *_ = best_punzi_cut(
        s_score, s_events, table["score"].to_numpy()[choose], 2 * events[choose], point.efficiency,
        10.0, one_event_floor(2 * events[choose]),
    )  # fmt: skip
    counted_above = ~choose & (table["score"].to_numpy() >= cut)
    np.testing.assert_allclose(built.model.background, [2 * events[counted_above].sum()])


def _binning_case(n_bins: int, per_bin_floor: bool = False, mc_outside: bool = False) -> float:
    """Expected median limit [signal events] at 1 GeV for ``n_bins`` score bins, with MC of
    3x the data luminosity: mu mu falling steeply in score (its top bins empty), tau tau
    broad with uneven weights. ``per_bin_floor``: the floor of a process in every one of its
    empty bins (the rule that made limits depend on the binning); ``mc_outside``: every MC
    event outside the window, which then holds only the floors."""
    from unittest import mock

    import pandas as pd

    from mlsearch.config import load_config
    from mlsearch.limits import binned
    from mlsearch.limits.asymptotic import cls_limits
    from mlsearch.limits.points import window_backgrounds
    from mlsearch.limits.signal_points import measure_point
    from mlsearch.selection.windows import MassWindow

    from .conftest import SMALL_PROFILE, feature_meta

    lumi = 10.0
    rng = np.random.default_rng(7)
    n_mumu, n_tau = 20_000, 3_000
    tau_w = rng.lognormal(0.0, 0.5, n_tau)
    tau_w *= tau_w.sum() / (tau_w**2).sum() / 30.0  # L_eff = 30 fb^-1
    table = pd.DataFrame({
        "process": ["mumu"] * n_mumu + ["tautau"] * n_tau, "label": 0,
        "recoil_mass2": rng.uniform(0.7, 1.3, n_mumu + n_tau) + (2.0 if mc_outside else 0.0),
        "weight": np.r_[np.full(n_mumu, 1 / 30.0), tau_w], "fold": 0,
        "event": np.arange(n_mumu + n_tau),
        "score": np.r_[rng.beta(1, 8, n_mumu), rng.beta(1, 3, n_tau)],
    })  # fmt: skip
    meta = feature_meta({
        "mumu": {"is_signal": False, "process": "mumu"},
        "tautau": {"is_signal": False, "process": "tautau"},
    })  # fmt: skip
    # a classifier's signal piles up near 1 (window 0.6-1.4 GeV^2, 10 events, 5 fb at g 0.01)
    window = MassWindow(1.0, 0.2, 0.6, 1.4)
    signal = np.random.default_rng(1).beta(8, 1, 2000)
    point = measure_point(1.0, window, signal, np.full(2000, 0.005), 5.0, 0.01, lumi)
    # equal-signal bins, which do not look at the MC: the floors' rule is what is tested
    config = load_config(
        SMALL_PROFILE, [f"limits.n_score_bins={n_bins}", "limits.score_binning=signal_quantiles"]
    )
    bkg = window_backgrounds(table, meta, point, lambda rows, m: rows["score"].to_numpy(), lumi)

    def every_bin(total: float, where: np.ndarray, signal: np.ndarray) -> np.ndarray:
        return np.where(where, total, 0.0)

    with mock.patch.object(binned, "_spread", every_bin if per_bin_floor else binned._spread):
        built = binned.binned_mass_model(point, bkg, config.limits, lumi, None, rng)
    assert built.row["background_mc_lumi_fb"] == pytest.approx(30.0, rel=0.1)
    _, expected = cls_limits(built.model, 0.9)
    return expected[2] * built.scale * point.n_ref


def test_with_adequate_mc_the_limit_does_not_depend_on_the_binning():
    """3, 5 and 10 score bins give the same expected limit within 15 % when the MC stands
    for 3x the data: the empty-bin floors are one effective event per process in all, shared
    among its empty bins like the signal, not one per bin (which the last line shows would
    make ten bins worse than three)."""
    limits = {n: _binning_case(n) for n in (3, 5, 10)}
    assert max(limits.values()) / min(limits.values()) < 1.15, limits
    # a window of floors only: shared like the signal, the binning cannot matter at all;
    # one per empty bin, ten bins hold 10/3 times the background of three
    floors = {n: _binning_case(n, mc_outside=True) for n in (3, 10)}
    assert floors[10] == pytest.approx(floors[3], rel=0.05), floors
    per_bin = {n: _binning_case(n, per_bin_floor=True, mc_outside=True) for n in (3, 10)}
    assert per_bin[10] / per_bin[3] > 1.15, per_bin


def _thin_mc_case(
    n_bins: int, binning: str, mc_factor: int = 1, shapes: tuple[float, float] = (3.0, 8.0)
) -> float:
    """Expected median limit [signal events] at 1 GeV for one background of 2x10^4 expected
    events, its MC at ``mc_factor`` x the data luminosity (2x10^4 x ``mc_factor`` events of
    equal weight), scores falling toward the signal's (beta(1, b) against beta(a, 1), (b, a)
    = ``shapes``): at the data luminosity the MC runs out in the top bins."""
    import pandas as pd

    from mlsearch.config import load_config
    from mlsearch.limits import binned
    from mlsearch.limits.asymptotic import cls_limits
    from mlsearch.limits.points import window_backgrounds
    from mlsearch.limits.signal_points import measure_point
    from mlsearch.selection.windows import MassWindow

    from .conftest import SMALL_PROFILE, feature_meta

    lumi, n = 10.0, 20_000 * mc_factor
    rng = np.random.default_rng(7)
    table = pd.DataFrame({
        "process": ["tautau"] * n, "label": 0, "recoil_mass2": rng.uniform(0.7, 1.3, n),
        "weight": np.full(n, 2e4 / lumi / n), "fold": 0, "event": np.arange(n),
        "score": rng.beta(1, shapes[0], n),
    })  # fmt: skip
    meta = feature_meta({"tautau": {"is_signal": False, "process": "tautau"}})
    window = MassWindow(1.0, 0.2, 0.6, 1.4)
    signal = np.random.default_rng(1).beta(shapes[1], 1, 2000)
    point = measure_point(1.0, window, signal, np.full(2000, 0.005), 50.0, 0.01, lumi)
    config = load_config(
        SMALL_PROFILE, [f"limits.n_score_bins={n_bins}", f"limits.score_binning={binning}"]
    )
    bkg = window_backgrounds(table, meta, point, lambda rows, m: rows["score"].to_numpy(), lumi)
    built = binned.binned_mass_model(point, bkg, config.limits, lumi, None, rng)
    if binning == "optimal":  # every bin holds min_bin_mc_events effective MC events
        counts, stat = built.model.backgrounds[0], built.model.background_stats[0]
        assert ((counts / stat) ** 2 >= config.limits.min_bin_mc_events - 1e-9).all()
    _, expected = cls_limits(built.model, 0.9)
    return float(expected[2] * built.scale * point.n_ref)


def test_optimal_bins_give_a_limit_that_does_not_depend_on_their_number():
    """Where the background MC runs out toward the signal-like scores, bins of equal signal
    give a limit that moves with their number (the top bins hold a few MC events or the
    floor: 4.1, 11.1 and 7.8 signal events for 3, 5 and 10 bins measured); bins chosen for
    the expected exclusion, each holding 10 effective MC events, give the same limit within
    15 % (15.3-15.7), and so they do with 10x the MC (9.0-9.5; equal-signal 8.8-10.9)."""
    quantiles = {n: _thin_mc_case(n, "signal_quantiles") for n in (3, 5, 10)}
    assert max(quantiles.values()) / min(quantiles.values()) > 1.5, quantiles
    optimal = {n: _thin_mc_case(n, "optimal") for n in (3, 5, 10)}
    assert max(optimal.values()) / min(optimal.values()) < 1.15, optimal
    plenty = {n: _thin_mc_case(n, "optimal", 10) for n in (3, 5, 10)}
    assert max(plenty.values()) / min(plenty.values()) < 1.15, plenty


def test_three_bins_fall_short_where_the_signal_to_background_ratio_spans_the_scores():
    """Where S/B changes over the whole score range (background beta(1, 2), signal beta(1.5,
    1): S/B ~ x^0.5 / (1 - x)), three bins cannot follow it: 1.19x the 10-bin limit with 10x
    the data luminosity in MC and 1.20x with 50x (measured): quantisation, which more MC does
    not remove, while 10 and 20 bins agree (1.01, 1.02): the limit has converged."""
    shapes = (2.0, 1.5)
    for mc_factor in (10, 50):
        limit = {n: _thin_mc_case(n, "optimal", mc_factor, shapes) for n in (3, 10, 20)}
        assert limit[3] / limit[10] > 1.15, (mc_factor, limit)
        assert limit[10] / limit[20] == pytest.approx(1.0, abs=0.05), (mc_factor, limit)


@pytest.mark.parametrize(
    ("s", "b", "var"), [(10.0, 100.0, 100.0), (5.0, 3.0, 2.0), (30.0, 50.0, 400.0), (3.0, 0.5, 0.1)]
)
def test_exclusion_significance_is_the_profiled_likelihood_ratio_on_asimov_data(s, b, var):
    """exclusion_z2 (a closed form) against -2 ln lambda minimised numerically: n ~ Pois(s +
    beta) with n = b, beta constrained by an auxiliary count m ~ Pois(tau beta), tau = b/var,
    m = tau b."""
    from scipy.optimize import minimize_scalar

    from mlsearch.limits.binned import exclusion_z2

    tau = b / var

    def nll(signal: float, beta: float) -> float:
        return signal + beta - b * np.log(signal + beta) + tau * beta - tau * b * np.log(tau * beta)

    best = minimize_scalar(
        lambda x: nll(s, np.exp(x)), bounds=(-20, 20), method="bounded", options={"xatol": 1e-12}
    )
    q = 2 * (best.fun - nll(0.0, b))
    assert exclusion_z2(np.array([s]), np.array([b]), np.array([var]))[0] == pytest.approx(q, 1e-7)


def test_optimal_bins_are_the_best_partition_among_the_candidates():
    """The dynamic programme finds the partition a brute force over every choice of edges
    finds (random gains, some not allowed), with the fewest bins of equal sums."""
    from itertools import combinations, pairwise

    from mlsearch.limits.binned import _best_partition

    rng = np.random.default_rng(3)
    for trial in range(20):
        n, n_bins = 8, 1 + trial % 4
        gain = np.where(rng.random((n, n)) < 0.3, -np.inf, rng.random((n, n)))
        best, best_path = -np.inf, [0, n - 1]
        for k in range(1, n_bins + 1):
            for inner in combinations(range(1, n - 1), k - 1):
                path = [0, *inner, n - 1]
                total = sum(gain[a, c] for a, c in pairwise(path))
                if total > best:
                    best, best_path = total, path
        assert _best_partition(gain, n_bins) == best_path
