"""The binned model of one mass hypothesis, from classifier scores: score bins, background
per process with its MC-statistical uncertainty, the empty-bin floor, the named normalisation
uncertainties and the observed counts (data or seeded Poisson pseudo-data).

Works on arrays (scores, events, process names); scoring the events is the caller's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlsearch.config_limits import LimitsConfig, Uncertainty
from mlsearch.limits.model import SIGNAL, BinnedModel, NormSys
from mlsearch.limits.signal_points import SignalPoint
from mlsearch.scoring import mc_half
from mlsearch.selection.mc_statistics import WindowMcLuminosity, window_mc_luminosity
from mlsearch.selection.punzi import best_punzi_cut, one_event_floor

__all__ = [
    "Backgrounds",
    "MassModel",
    "bin_scores",
    "binned_mass_model",
    "exclusion_z2",
    "named_uncertainties",
    "optimal_edges",
    "score_bin_edges",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Backgrounds:
    """The background MC of one mass hypothesis, one row per MC event: every background
    event of the table (``all_weights`` [fb], ``all_process``) and those inside the window
    with their scores at the hypothesis (``scores``, ``weights`` [fb], ``process``);
    ``processes``: every background process of the table."""

    scores: FloatArray
    weights: FloatArray
    process: NDArray[Any]
    all_weights: FloatArray
    all_process: NDArray[Any]
    processes: tuple[str, ...]
    luminosity_fb: float
    event: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: the distinct names in ``all_process``, when the caller has them (finding them is a
    #: pass over every MC row: 65 windows x 9.7x10^6 rows took a minute of the Z' limits)
    all_names: tuple[str, ...] | None = None

    def subset(self, rows: NDArray[np.bool_]) -> Backgrounds:
        """The in-window events ``rows`` standing for all of them (weights scaled by the
        inverse fraction of events kept: 2 for one of two halves)."""
        scale = len(rows) / max(int(rows.sum()), 1)
        return replace(
            self, scores=self.scores[rows], weights=self.weights[rows] * scale,
            process=self.process[rows], event=self.event[rows],
            all_weights=self.all_weights * scale,
        )  # fmt: skip

    @property
    def events(self) -> FloatArray:
        """In-window events at the luminosity."""
        return self.weights * self.luminosity_fb

    @property
    def all_events(self) -> FloatArray:
        return self.all_weights * self.luminosity_fb


@dataclass(frozen=True)
class MassModel:
    """The binned model of one hypothesis and what the table reports about it; mu = 1 is
    ``scale`` x the reference signal (n_ref events in the window before any score cut)."""

    model: BinnedModel
    scale: float
    row: dict[str, Any]
    mc_luminosity: WindowMcLuminosity


def bin_scores(
    score: FloatArray, weight: FloatArray, edges: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Sum of weights and the sqrt of the sum of squared weights per bin; scores outside
    [edges[0], edges[-1]) are dropped (the region below a Punzi cut).

    >>> counts, stat = bin_scores(np.array([0.1, 0.2, 0.7, 2.0]), np.array([1.0, 2.0, 3.0, 4.0]),
    ...                           np.array([0.0, 0.5, 1.0]))
    >>> counts.tolist(), stat.round(4).tolist()
    ([3.0, 3.0], [2.2361, 3.0])
    """
    n = len(edges) - 1
    idx = np.searchsorted(edges, score, side="right") - 1
    keep = (idx >= 0) & (idx < n)
    idx, weight = idx[keep], weight[keep]
    counts: FloatArray = np.bincount(idx, weights=weight, minlength=n)  # type: ignore[assignment]
    return counts, np.sqrt(np.bincount(idx, weights=weight**2, minlength=n))


def score_bin_edges(
    signal_scores: FloatArray,
    binning: str,
    n_bins: int,
    punzi_cut: float,
    background: tuple[FloatArray, FloatArray] | None = None,
    min_mc_events: float = 0.0,
    cl: float = 0.9,
) -> FloatArray:
    """``punzi_cut``: one bin above the Punzi-optimal cut; ``signal_quantiles``: ``n_bins``
    bins of equal expected signal (every bin carries signal information); ``optimal``:
    :func:`optimal_edges` of the ``background`` (scores, expected events).

    >>> score_bin_edges(np.linspace(0, 1, 101), "signal_quantiles", 4, 0.3).round(3).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    if binning == "punzi_cut":
        return np.array([punzi_cut, 1.0 + 1e-9])
    if binning == "optimal":
        if background is None:
            raise ValueError("optimal binning needs the background's scores and events")
        return optimal_edges(signal_scores, *background, n_bins, min_mc_events, cl)
    levels = np.linspace(0, 1, n_bins + 1)[1:-1]
    inner = np.quantile(signal_scores, levels) if n_bins > 1 else np.zeros(0)
    return np.unique(np.concatenate([[0.0], inner, [1.0 + 1e-9]]))


#: the candidate edges of :func:`optimal_edges`: the scores above which these fractions of the
#: signal lie: 0.1 % to 1 % in steps of a factor 1.25, then steps of 1 %
TOP_FRACTIONS = np.unique(np.r_[0.001 * 1.25 ** np.arange(11), np.arange(1, 101) / 100])


def exclusion_z2(s: FloatArray, b: FloatArray, var: FloatArray) -> FloatArray:
    """The median squared significance with which ``s`` signal events over ``b`` background
    events are excluded when there is no signal (the Asimov data set, n = b), the
    background's MC-statistical variance ``var`` [events^2] profiled: G. Cowan, "Discovery
    sensitivity for a counting experiment with background uncertainty" (2012), eq. for
    Z_A exclusion. Without an uncertainty it is 2 (s - b ln(1 + s/b)).

    >>> z2 = exclusion_z2(np.array([10.0, 10.0]), np.array([100.0, 100.0]),
    ...                   np.array([1e-9, 100.0]))
    >>> round(float(z2[0]), 4), round(2 * (10 - 100 * math.log(1.1)), 4)
    (0.938, 0.938)
    >>> float(z2[1]) < float(z2[0])
    True
    """
    var = np.maximum(var, 1e-12 * b * b)
    # x = s + b - d, written through d so that a small uncertainty does not cancel digits
    x0 = s + b
    d = 4 * s * b * var / ((b + var) * (x0 + np.sqrt(x0 * x0 - 4 * s * b * var / (b + var))))
    return np.asarray(
        2 * (s - b * np.log1p((2 * s - d) / (2 * b)) - b * b / var * np.log1p(-d / (2 * b)))
        - d * (1 + b / var)
    )


def optimal_edges(
    signal_scores: FloatArray,
    bkg_scores: FloatArray,
    bkg_events: FloatArray,
    n_bins: int,
    min_mc_events: float,
    cl: float,
) -> FloatArray:
    """Up to ``n_bins`` score bins whose edges maximise the expected exclusion, the sum of
    :func:`exclusion_z2` over the bins, each bin holding ``min_mc_events`` effective
    background MC events, (sum w)^2 / sum w^2 of ``bkg_events`` (expected events per MC
    event), whose uncertainty is its MC statistics (the normalisation uncertainties are
    left out: correlated over the bins, the fit pins them with the bulk of the window, and
    taken bin by bin they would steer the edges away from large, signal-rich bins). The
    edges are chosen among the scores above which TOP_FRACTIONS of the (equal-weight)
    ``signal_scores`` lie, by dynamic programming; the signal is scaled to the size the
    bins' own expected limit at ``cl`` gives it (three rounds). Bins of equal signal make
    the limit move with their number where the background falls steeply toward the top (a
    finer top bin is a purer one); the best few bins take most of what any number could, so
    5 and 10 of these give nearly the same limit (and 3, unless the signal's S/B spans more
    than three bins resolve).

    >>> sig = np.linspace(0.5, 1.0, 1001)
    >>> bkg = np.linspace(0.0, 1.0, 10001)
    >>> optimal_edges(sig, bkg, np.ones(10001), 2, 25.0, 0.9).round(3).tolist()
    [0.0, 0.5, 1.0]
    """
    cands = np.unique(np.concatenate([
        [0.0, 1.0 + 1e-9], np.quantile(signal_scores, 1 - TOP_FRACTIONS),
    ]))[::-1]  # fmt: skip
    order = np.argsort(bkg_scores)
    w = np.r_[0.0, np.cumsum(bkg_events[order])]
    w2 = np.r_[0.0, np.cumsum(bkg_events[order] ** 2)]
    below = np.searchsorted(bkg_scores[order], cands, side="left")
    # from the top down to each candidate: the signal's fraction, background events, variance
    sig = np.sort(signal_scores)
    s_above = 1 - np.searchsorted(sig, cands, side="left") / max(len(sig), 1)
    b_above, v_above = w[-1] - w[below], w2[-1] - w2[below]
    i, j = np.triu_indices(len(cands), 1)  # the bin [cands[j], cands[i]) for every i < j
    s, b, v = s_above[j] - s_above[i], b_above[j] - b_above[i], v_above[j] - v_above[i]
    valid = (b > 0) & (b * b >= min_mc_events * v)
    z = NormalDist().inv_cdf(1 - (1 - cl) / 2)
    scale = 2 * math.sqrt(max(b_above[-1], 0.0)) + 3  # signal events: a first guess
    path = [0, len(cands) - 1]
    for _ in range(3):
        gain = np.full((len(cands), len(cands)), -np.inf)
        gain[i[valid], j[valid]] = exclusion_z2(scale * s[valid], b[valid], v[valid])
        path = _best_partition(gain, n_bins)
        if len(path) < 3:
            break
        top, low = np.array(path[:-1]), np.array(path[1:])
        scale = _limit_scale(
            z * z, s_above[low] - s_above[top], b_above[low] - b_above[top],
            v_above[low] - v_above[top],
        )  # fmt: skip
    return np.asarray(cands[path][::-1], dtype=float)


def _best_partition(gain: FloatArray, n_bins: int) -> list[int]:
    """The indices 0 = i_0 < i_1 < ... < i_k = last (k <= ``n_bins``) that maximise the sum
    of ``gain[i_m, i_m+1]`` (-inf: not allowed); [0, last] where no partition is allowed.
    Of equal sums the fewest bins."""
    n = len(gain)
    gain = np.where(np.triu(np.ones((n, n), dtype=bool), 1), gain, -np.inf)  # from < to
    best = np.full((n_bins + 1, n), -np.inf)
    came = np.zeros((n_bins + 1, n), dtype=int)
    best[0, 0] = 0.0
    for k in range(1, n_bins + 1):
        total = best[k - 1][:, None] + gain  # [from, to]
        came[k] = np.argmax(total, axis=0)
        best[k] = total[came[k], np.arange(n)]
    k = int(np.argmax(best[:, -1]))  # the first of equal maxima: the fewest bins
    if not np.isfinite(best[k, -1]):
        return [0, n - 1]
    path = [n - 1]
    for kk in range(k, 0, -1):
        path.append(int(came[kk, path[-1]]))
    return path[::-1]


def _limit_scale(z2: float, s: FloatArray, b: FloatArray, v: FloatArray) -> float:
    """The signal events (a multiple of the fractions ``s``) whose summed
    :func:`exclusion_z2` over the bins is ``z2``: the bins' expected limit."""
    lo, hi = 1e-3, 1e9
    for _ in range(80):  # bisection in log: the sum rises with the signal
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if exclusion_z2(mid * s, b, v).sum() < z2 else (lo, mid)
    return math.sqrt(lo * hi)


def named_uncertainties(
    uncertainties: dict[str, Uncertainty], processes: list[str]
) -> tuple[NormSys, ...]:
    """One normsys per configured uncertainty on the samples present in the model
    ("backgrounds" stands for every background process)."""
    out = []
    for name, unc in uncertainties.items():
        samples: list[str] = []
        for s in unc.samples:
            samples += processes if s == "backgrounds" else [s]
        present = tuple(s for s in dict.fromkeys(samples) if s == SIGNAL or s in processes)
        if present:
            out.append(NormSys(name, unc.size, present))
    return tuple(out)


def _spread(total: float, where: NDArray[np.bool_], signal: FloatArray) -> FloatArray:
    """``total`` shared among the bins ``where`` in proportion to their signal (evenly if
    they hold none): every floored bin then has the same signal-to-floor ratio, so splitting
    or merging bins leaves what the floor says unchanged."""
    share = np.where(where, signal, 0.0)
    if share.sum() <= 0:
        share = where.astype(float)
    return total * share / share.sum() if share.sum() > 0 else np.zeros(len(where))


def _per_process(
    bkg: Backgrounds, edges: FloatArray, mc: WindowMcLuminosity, signal: FloatArray
) -> tuple[list[str], FloatArray, FloatArray]:
    """(process names, counts (process, bin), MC stat (process, bin)) for every background
    process of the table. A process's empty bins are not background-free: together they get
    one effective MC event of that process (``mc.one_event_fb`` x L: its own weight scale, of
    its events in the window or, where it has none, of its whole sample), spread over them
    in proportion to the signal (:func:`_spread`), with 100 % uncertainty."""
    names, counts, stats = [], [], []
    for name in sorted(bkg.processes):
        sel = bkg.process == name
        c, stat = bin_scores(bkg.scores[sel], bkg.events[sel], edges)
        floor = _spread(mc.one_event_fb.get(name, 0.0) * bkg.luminosity_fb, c <= 0, signal)
        if c.sum() + floor.sum() <= 0:
            continue
        names.append(name)
        counts.append(c + floor)
        # relative MC uncertainties below 1e-3 put huge constraint terms into the likelihood
        # and stall the minimiser; 1e-3 is negligible next to the normalisation uncertainties
        stats.append(np.where(c > 0, np.maximum(stat, 1e-3 * c), floor))
    return names, np.array(counts), np.array(stats)


def _signal_scale(
    s_counts: FloatArray, b_total: FloatArray, stats: FloatArray, systematics: tuple[NormSys, ...]
) -> float:
    """mu = 1 near the limit keeps the fits well conditioned: the best single-bin estimate
    (Poisson, MC statistics and the background normalisations) bounds the combined limit."""
    s_total = float(s_counts.sum())
    s_frac = s_counts / s_total
    rel_norm = math.sqrt(sum(s.size**2 for s in systematics if set(s.samples) - {SIGNAL}))
    spread = np.sqrt(b_total + (stats**2).sum(axis=0) + (rel_norm * b_total) ** 2)
    with np.errstate(divide="ignore"):
        return float(np.min((1.64 * spread + 2.3) / np.where(s_frac > 0, s_frac, 0))) / s_total


def _floor(backgrounds: Backgrounds) -> float:
    """An empty background bin is not a background-free bin: it is floored at the mean weight
    of one background MC event in the window (or anywhere), with 100 % uncertainty."""
    events = backgrounds.events
    return one_event_floor(events if (events > 0).any() else backgrounds.all_events)


def binned_mass_model(
    point: SignalPoint,
    backgrounds: Backgrounds,
    settings: LimitsConfig,
    luminosity_fb: float,
    observed_scores: FloatArray | None,
    pseudo_data_rng: np.random.Generator,
    min_cut: float = -np.inf,
) -> MassModel:
    """The model of ``point``: the signal's score distribution and the in-window backgrounds
    binned alike (``settings.score_binning``), one background sample per process, the named
    uncertainties, and the observed counts: the data's scores binned (``observed_scores``) or
    Poisson pseudo-data drawn from the background expectation with ``pseudo_data_rng``.
    ``min_cut``: no Punzi cut below this score (a cut-based selection's lowest passing
    score, limits.points.CutScorer)."""
    s_score, s_events = point.pseudo_events()
    punzi, cut, *_ = best_punzi_cut(
        s_score, s_events, backgrounds.scores, backgrounds.events, point.efficiency,
        luminosity_fb, _floor(backgrounds), min_cut=min_cut,
    )  # fmt: skip
    if settings.score_binning == "punzi_cut":
        # a cut tuned on the MC that then counts the background above it finds the MC's
        # downward fluctuations: choose it on one half of the events, count the other
        choose = mc_half(backgrounds.event)
        _, cut, *_ = best_punzi_cut(
            s_score, s_events, backgrounds.scores[choose], 2 * backgrounds.events[choose],
            point.efficiency, luminosity_fb, _floor(backgrounds.subset(choose)), min_cut=min_cut,
        )  # fmt: skip
        backgrounds = backgrounds.subset(~choose)
    edges = score_bin_edges(
        s_score, settings.score_binning, settings.n_score_bins, cut,
        (backgrounds.scores, backgrounds.events), settings.min_bin_mc_events, settings.cl,
    )  # fmt: skip
    s_counts, _ = bin_scores(s_score, s_events, edges)
    mc = window_mc_luminosity(
        backgrounds.weights, backgrounds.process, backgrounds.all_weights,
        backgrounds.all_process, backgrounds.all_names,
    )  # fmt: skip
    names, counts, stats = _per_process(backgrounds, edges, mc, s_counts)
    b_total = counts.sum(axis=0)
    if observed_scores is not None:
        observed, _ = bin_scores(observed_scores, np.ones(len(observed_scores)), edges)
    else:
        observed = pseudo_data_rng.poisson(b_total).astype(float)
    systematics = named_uncertainties(settings.uncertainties, names)
    rough = _signal_scale(s_counts, b_total, stats, systematics)
    model = BinnedModel(s_counts * rough, counts, stats, observed, systematics, tuple(names))
    row = {
        "mass": point.mass,
        "interpolated": point.interpolated,
        "window_low": point.window.low,
        "window_high": point.window.high,
        "window_sigma": point.window.sigma,
        "signal_efficiency": point.efficiency,
        "n_signal_ref": point.n_ref,
        "n_signal_selected": float(s_counts.sum()),
        "n_background": float(b_total.sum()),
        # the MC's luminosity in the window (selection.mc_statistics); below the data's, the
        # limit measures the MC sample
        "background_mc_lumi_fb": mc.limiting,
        "mc_limited": bool(mc.limiting < luminosity_fb),
        "n_observed": float(observed.sum()),
        "coupling_ref": point.coupling_ref,
        "punzi_xsec_fb": punzi,
        "cross_section_ref_fb": point.cross_section_ref_fb,
        "low_background": bool(b_total.sum() < settings.low_background_events),
        "status": "ok",
        **{f"mc_lumi_fb_{p}": mc.per_process.get(p, float("nan")) for p in backgrounds.processes},
    }
    return MassModel(model, rough, row, mc)
