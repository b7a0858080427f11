"""Benchmark of the importance-sampling levers of the background MC: for each, the same
background with and without it, generated, simulated and selected in one process (one core),
measured as events generated per second, events selected per second and the effective MC
luminosity (sum w / sum w^2 of the selected events) gained per second of work."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

# (row label, search whose selection applies, process, events, generator and simulation options)
CASES: tuple[tuple[str, str, str, int, dict[str, Any], str | None], ...] = (
    ("tau tau, LFV selection, plain", "lfv_zprime", "tautau", 300_000, {}, None),
    ("tau tau, LFV selection, tau_modes e/mu 0.45", "lfv_zprime", "tautau", 300_000,
     {"tau_modes": {"e": 0.45, "mu": 0.45}}, None),
    ("tau tau, Z' selection, plain", "zprime_invisible", "tautau", 300_000, {}, None),
    ("tau tau, Z' selection, tau_modes mu 0.6 pi 0.15", "zprime_invisible", "tautau", 300_000,
     {"tau_modes": {"mu": 0.6, "pi": 0.15}}, None),
    ("e e, LFV selection, plain", "lfv_zprime", "ee", 1_000_000, {}, None),
    ("e e, LFV selection, forced_misid muon", "lfv_zprime", "ee", 1_000_000, {}, "muon"),
    ("mu mu, LFV selection, plain", "lfv_zprime", "mumu", 1_000_000, {}, None),
    ("mu mu, LFV selection, forced_misid electron", "lfv_zprime", "mumu", 1_000_000, {},
     "electron"),
)  # fmt: skip


def bench_mc_levers() -> list[tuple[str, str, str]]:
    """One row per case; the note compares the effective luminosity per second with the
    plain sample of the same background and selection (the row before it)."""
    from mlsearch.config import FeaturesConfig, SimulateConfig
    from mlsearch.detector import simulate_events
    from mlsearch.features import get_builder
    from mlsearch.generate import generate_process
    from mlsearch.io.events import truth_to_awkward

    # warm up (imports, first-call costs) so the first plain row is not charged for them
    for process in ("tautau", "ee"):
        warm = truth_to_awkward(generate_process(process, 20_000, 1))
        get_builder("lfv_zprime").build(
            simulate_events(warm, SimulateConfig(), np.random.default_rng(1), "muon"),
            FeaturesConfig(),
        )
    rows, plain_rate = [], 0.0
    for label, search, process, n, options, forced in CASES:
        start = time.perf_counter()
        truth = truth_to_awkward(generate_process(process, n, 11, **options))
        reco = simulate_events(truth, SimulateConfig(), np.random.default_rng(12), forced)
        table = get_builder(search).build(reco, FeaturesConfig())
        seconds = time.perf_counter() - start
        w = table["weight"].to_numpy()
        lumi = float(w.sum() / (w**2).sum()) if len(w) else 0.0
        rate = lumi / seconds
        is_plain = not options and forced is None
        note = (
            "the plain sample"
            if is_plain
            else f"{rate / plain_rate:.0f}x the plain sample's fb^-1/s"
            if plain_rate
            else "-"
        )
        if is_plain:
            plain_rate = rate
        rows.append(
            (
                f"MC levers: {label}",
                f"{n / seconds / 1e3:.0f}k generated+simulated/s, {len(w) / seconds:,.0f} "
                f"selected/s; {lumi:.3g} fb^-1 effective in {seconds:.1f} s",
                note,
            )
        )
    return rows
