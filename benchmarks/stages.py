"""Benchmarks of the feature builders and of training, each against a baseline in the same
run: the builders against the simulation of the same events, the model wrappers against a
bare xgboost / torch loop on the same data."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

# the main background of each search: what its feature builder mostly reads
MAIN_BACKGROUND = {
    "zprime_invisible": "mumu",
    "lfv_zprime": "tautau",
    "alp": "gg",
    "dark_photon": "gg",
}


def bench_features(n_events: int = 200_000) -> list[tuple[str, str, str]]:
    """Feature-building throughput per search (one core) on its main background, paired
    with the simulation of the same events."""
    from mlsearch.config import FeaturesConfig, SimulateConfig
    from mlsearch.detector import simulate_events
    from mlsearch.features import get_builder
    from mlsearch.generate import generate_process
    from mlsearch.io.events import truth_to_awkward

    rows = []
    for search, process in MAIN_BACKGROUND.items():
        truth = truth_to_awkward(generate_process(process, n_events, 3))
        start = time.perf_counter()
        reco = simulate_events(truth, SimulateConfig(), np.random.default_rng(4))
        t_sim = time.perf_counter() - start
        builder = get_builder(search)
        start = time.perf_counter()
        table = builder.build(reco, FeaturesConfig())
        t_feat = time.perf_counter() - start
        rows.append(
            (
                f"features: {search} on {process}",
                f"{n_events / t_feat / 1e3:,.0f}k events/s ({len(table) / n_events:.0%} selected)",
                f"{t_sim / t_feat:.1f}x the simulation of the same events",
            )
        )
    return rows


def _data(n: int, n_features: int = 20) -> tuple[Any, ...]:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((n, n_features))
    mass = rng.choice(np.linspace(0.5, 8.0, 10), n)
    logit = x[:, 0] + x[:, 1] * x[:, 2] - 0.3 * (mass - 4) * x[:, 3]
    y = (logit + rng.logistic(size=n) > 0).astype(np.int8)
    return x, mass, y, np.ones(n)


def bench_training(n_rows: int = 200_000, epochs: int = 5) -> list[tuple[str, str, str]]:
    """Fit time of the pBDT (200 trees, depth 6, 2 threads) and the pNN (3 x 64, ``epochs``
    epochs) on ``n_rows`` rows of 21 inputs, against a bare xgboost.train and a bare torch
    loop (same network, optimiser and batches) on the same data."""
    import torch
    import xgboost as xgb

    from mlsearch.config import PBDTConfig, PNNConfig
    from mlsearch.models.pbdt import PBDT
    from mlsearch.models.pnn import PNN, PNNNetwork
    from mlsearch.scoring import stack_inputs

    x, mass, y, w = _data(n_rows)
    params = PBDTConfig(early_stopping_rounds=None)
    start = time.perf_counter()
    PBDT(params, 1).fit(x, mass, y, w)
    t_ours = time.perf_counter() - start
    inputs = stack_inputs(x, mass)
    start = time.perf_counter()
    xgb.train(
        {"max_depth": 6, "eta": 0.1, "objective": "binary:logistic", "tree_method": "hist",
         "nthread": 2},
        xgb.DMatrix(inputs, y, weight=w), 200,
    )  # fmt: skip
    t_bare = time.perf_counter() - start
    rows = [
        (
            f"training: pBDT, {n_rows:.0e} rows, 200 trees",
            f"{t_ours:.1f} s ({n_rows / t_ours / 1e3:.0f}k rows/s)",
            f"bare xgboost.train {t_bare:.1f} s: {t_ours / t_bare:.2f}x",
        )
    ]
    pnn = PNNConfig(hidden=[64, 64, 64], epochs=epochs, patience=100)
    start = time.perf_counter()
    PNN(pnn, 1).fit(x, mass, y, w)
    t_ours = time.perf_counter() - start
    torch.manual_seed(1)
    xt = torch.from_numpy(inputs)
    yt = torch.tensor(y, dtype=torch.float32)
    net = PNNNetwork(xt.shape[1], [64, 64, 64])
    opt = torch.optim.Adam(net.parameters(), lr=pnn.learning_rate)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(xt))
        for i in range(0, len(xt), pnn.batch_size):
            idx = order[i : i + pnn.batch_size]
            opt.zero_grad()
            loss_fn(net(xt[idx]).reshape(-1), yt[idx]).backward()
            opt.step()
    t_bare = time.perf_counter() - start
    rows.append(
        (
            f"training: pNN, {n_rows:.0e} rows, {epochs} epochs",
            f"{t_ours:.1f} s ({n_rows * epochs / t_ours / 1e3:.0f}k rows/s)",
            f"bare torch loop {t_bare:.1f} s: {t_ours / t_bare:.2f}x (Lightning, validation, "
            "early stopping)",
        )
    )
    return rows + _distributed_training(x, mass, y, w, epochs)


def _distributed_training(
    x: np.ndarray, mass: np.ndarray, y: np.ndarray, w: np.ndarray, epochs: int
) -> list[tuple[str, str, str]]:
    """The pBDT on a LocalCluster of 1 (2 threads) and 2 workers (1 thread each) with
    xgboost.dask, and the pNN with Lightning DDP over 2 processes, against the same fit in
    this process (2 threads). Both are fitted here once more in this process rather than
    reusing the caller's times: run alone, the caller's first fits also pay the xgboost and
    Lightning imports (pNN 3.4 s against 1.7 s warm)."""
    from distributed import Client

    from mlsearch.compute import local_cluster
    from mlsearch.config import PBDTConfig, PNNConfig
    from mlsearch.models.pbdt import PBDT
    from mlsearch.models.pnn import PNN

    def fit(model: Any) -> float:
        start = time.perf_counter()
        model.fit(x, mass, y, w)
        return time.perf_counter() - start

    params = PBDTConfig(early_stopping_rounds=None)
    times = {"this process": fit(PBDT(params, 1))}
    for workers in (1, 2):
        with local_cluster(workers, 2 // workers) as cluster, Client(cluster) as client:
            times[f"xgboost.dask, {workers} worker(s)"] = fit(PBDT(params, 1, client))
    base = times["this process"]
    rows = [
        (
            f"training: pBDT, {len(x):.0e} rows, {label}",
            f"{t:.1f} s",
            f"{base / t:.2f}x this process (cluster start not counted)",
        )
        for label, t in times.items()
    ]
    t1, t2 = (
        fit(PNN(PNNConfig(hidden=[64, 64, 64], epochs=epochs, patience=100, processes=p), 1))
        for p in (1, 2)
    )
    rows.append(
        (
            f"training: pNN, {len(x):.0e} rows, {epochs} epochs, DDP over 2 processes",
            f"{t2:.1f} s vs {t1:.1f} s in one process",
            f"{t1 / t2:.2f}x (gloo; the 2 processes' start-up included)",
        )
    )
    return rows
