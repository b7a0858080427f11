"""Importance sampling of misidentification (simulate: forced_misid): every event gets one
fake from its candidate tracks, and the weights make every pattern of passing tracks as
frequent as without forcing (events without a fake are absent)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mlsearch.detector.pid import forced_fakes


def test_forced_patterns_are_weighted_back_to_their_true_probabilities() -> None:
    """Events of three tracks with fake rates 0.1, 0.3 and 0 (not a candidate): each
    non-empty pattern of passing candidates has its true probability in the weighted forced
    sample (2e5 events), and the empty one never occurs."""
    n = 200_000
    rate = np.tile([0.1, 0.3, 0.0], n)
    event = np.repeat(np.arange(n), 3)
    rng = np.random.default_rng(5)
    forced = forced_fakes(event, rate, n, rng)
    assert forced.chosen.reshape(n, 3).sum(axis=1).tolist() == [1] * n
    assert not forced.chosen.reshape(n, 3)[:, 2].any()
    prob = np.where(forced.chosen, 1.0, rate)
    passed = rng.uniform(size=3 * n) < prob
    weight = forced.event_weight(passed)
    pattern = passed.reshape(n, 3)[:, :2]
    for a, b in itertools.product((False, True), repeat=2):
        true = (0.1 if a else 0.9) * (0.3 if b else 0.7)
        rows = (pattern[:, 0] == a) & (pattern[:, 1] == b)
        if not (a or b):
            assert not rows.any()
            continue
        estimate = weight[rows].sum() / n
        error = np.sqrt((weight[rows] ** 2).sum()) / n
        assert estimate == pytest.approx(true, abs=4 * error), (a, b)
    # exactly: one candidate passing alone weighs 2 f (q = 1/2), both 1 / (q/f1 + q/f2)
    only_first = pattern[:, 0] & ~pattern[:, 1]
    assert np.allclose(weight[only_first], 0.2)
    both = pattern.all(axis=1)
    assert np.allclose(weight[both], 1 / (0.5 / 0.1 + 0.5 / 0.3))


def _electron_candidates(reco):
    """Weights and momenta of the events with a track passing electronID (> 0.5)."""
    import awkward as ak

    tr = reco.tracks
    passing = tr[tr.electronID > 0.5]
    sel = ak.to_numpy(ak.num(passing) >= 1)
    p = np.sqrt(passing.px**2 + passing.py**2 + passing.pz**2)
    return ak.to_numpy(reco.weight)[sel], ak.to_numpy(ak.max(p[sel], axis=1))


def test_mu_mu_with_forced_electron_fakes_gives_the_plain_fake_yield() -> None:
    """Simulated mu mu: the yield and momentum spectrum of events with an electron-ID'd
    track agree between the plain simulation (one muon in 500 fakes it) and the forced one,
    whose effective luminosity for them is > 100x larger."""
    from mlsearch.config import SimulateConfig
    from mlsearch.detector import simulate_events
    from mlsearch.generate.mumu import generate_mumu
    from mlsearch.io.events import truth_to_awkward

    truth = truth_to_awkward(generate_mumu(300_000, 3))
    config = SimulateConfig()
    plain = simulate_events(truth, config, np.random.default_rng(1))
    forced = simulate_events(truth, config, np.random.default_rng(2), forced_misid="electron")
    (w0, p0), (w1, p1) = _electron_candidates(plain), _electron_candidates(forced)
    y0, y1 = w0.sum(), w1.sum()
    e0, e1 = np.sqrt((w0**2).sum()), np.sqrt((w1**2).sum())
    assert 200 < len(w0) < 2000  # ~0.2 % of the events
    assert abs(y1 - y0) < 4 * np.hypot(e0, e1), (y0, y1, e0, e1)
    assert (y1 / e1**2) > 100 * (y0 / e0**2)
    edges = np.array([0.0, 3.0, 4.5, 5.5, 8.0])
    h0, _ = np.histogram(p0, edges, weights=w0)
    h1, _ = np.histogram(p1, edges, weights=w1)
    v0, _ = np.histogram(p0, edges, weights=w0**2)
    v1, _ = np.histogram(p1, edges, weights=w1**2)
    chi2 = float(((h1 - h0) ** 2 / np.maximum(v0 + v1, 1e-300)).sum())
    assert chi2 < 4 + 4 * np.sqrt(8), chi2


def _untracked(reco, inside):
    """Weights, leading neutral-cluster energies and ``inside`` (per event) of the events
    without a track above 0.2 GeV and with two neutral clusters above 1 GeV (the electrons'
    showers when their tracks are lost, or outside the CDC)."""
    import awkward as ak

    from mlsearch.features.common import no_track_above

    e = reco.clusters.clusterE
    sel = no_track_above(reco) & ak.to_numpy(ak.sum(e > 1.0, axis=1) >= 2)
    return ak.to_numpy(reco.weight)[sel], ak.to_numpy(ak.max(e[sel], axis=1)), inside[sel]


def test_biased_track_loss_gives_the_plain_untracked_yield() -> None:
    """e+e- -> e+e- (gamma) simulated with a 90 % tracking efficiency, plainly and with each
    findable track lost half the time (weighted back): the same yield and cluster-energy
    spectrum of the untracked events within MC errors, and > 5x the effective luminosity of
    those whose two electrons were both in the CDC (where the bias acts); the weights of all
    events still sum to the cross section."""
    from mlsearch.config import SimulateConfig
    from mlsearch.detector import simulate_events
    from mlsearch.detector.tracking import trackable
    from mlsearch.generate.bhabha import generate_ee
    from mlsearch.io.events import truth_to_awkward

    sample = generate_ee(60_000, 3)
    inside = trackable(sample.p4[:, :2, 1:].reshape(-1, 3)).reshape(-1, 2).all(axis=1)
    truth = truth_to_awkward(sample)
    config = SimulateConfig(track_efficiency=0.9)
    plain = simulate_events(truth, config, np.random.default_rng(1))
    biased = simulate_events(truth, config, np.random.default_rng(2), track_loss=0.5)
    (w0, e0, in0), (w1, e1, in1) = _untracked(plain, inside), _untracked(biased, inside)
    assert len(w0) > 100
    assert w1.sum() == pytest.approx(w0.sum(), abs=4 * np.sqrt((w0**2).sum() + (w1**2).sum()))
    edges = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.5])
    h0, v0 = (np.histogram(e0, edges, weights=x)[0] for x in (w0, w0**2))
    h1, v1 = (np.histogram(e1, edges, weights=x)[0] for x in (w1, w1**2))
    chi2 = float(((h1 - h0) ** 2 / np.maximum(v0 + v1, 1e-300)).sum())
    assert chi2 < 6 + 4 * np.sqrt(12), chi2
    lost0, lost1 = w0[in0], w1[in1]
    assert lost1.sum() / (lost1**2).sum() > 5 * lost0.sum() / (lost0**2).sum()
    total0, total1 = (float(np.sum(r.weight)) for r in (plain, biased))
    assert total1 == pytest.approx(total0, rel=0.02)
