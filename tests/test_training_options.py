"""Training options: Punzi-loss fine-tuning of the pNN, and the Optuna search."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from mlsearch.config import PBDTConfig, PNNConfig
from mlsearch.errors import ConfigError
from mlsearch.io.feature_table import FeatureTableMeta
from mlsearch.models import make_model
from mlsearch.models.punzi_loss import punzi_loss, punzi_target, soft_punzi
from mlsearch.models.tuning import suggest

from .conftest import SMALL_PROFILE, feature_meta, run_cli


def test_soft_punzi_is_the_punzi_formula():
    from mlsearch.selection.punzi import punzi_cross_section

    for eff, bkg in ((0.3, 0.0), (0.5, 12.0), (0.05, 400.0)):
        got = float(soft_punzi(torch.tensor(eff), torch.tensor(bkg), 2.0))
        assert got == pytest.approx(float(punzi_cross_section(eff, bkg, 2.0)), rel=1e-6)


def _toy_table(n: int, seed: int) -> tuple[pd.DataFrame, FeatureTableMeta]:
    """Signal peaks in x0 at the mass (the search variable is x0 too); background flat."""
    rng = np.random.default_rng(seed)
    grid = [1.0, 2.0, 3.0]
    m_sig = rng.choice(grid, n)
    sig = pd.DataFrame({"x0": rng.normal(m_sig, 0.15), "x1": rng.normal(1.0, 1.0, n)})
    sig["label"], sig["mass_hypothesis"], sig["weight"] = 1, m_sig, 0.001
    bkg = pd.DataFrame({"x0": rng.uniform(0, 4, 4 * n), "x1": rng.normal(0.0, 1.0, 4 * n)})
    bkg["label"], bkg["mass_hypothesis"], bkg["weight"] = 0, rng.choice(grid, 4 * n), 0.05
    table = pd.concat([sig, bkg], ignore_index=True)
    samples = {
        f"s{m:g}": {
            "is_signal": True,
            "mass": m,
            "cross_section_fb": 0.001 * n / 3,
            "n_selected": int((m_sig == m).sum()),
        }
        for m in grid
    }
    return table, feature_meta(samples, "x0", features=["x0", "x1"])


def test_punzi_fine_tuning_lowers_the_punzi_loss():
    table, meta = _toy_table(3000, 1)
    target = punzi_target(table, meta, luminosity_fb=100.0, window_sigma=2.0)
    assert target.masses == (1.0, 2.0, 3.0)
    # the window holds ~95 % of the signal: efficiency before the score is about 0.95
    assert all(0.9 < e < 1.0 for e in target.efficiency_before)
    x = table[["x0", "x1"]].to_numpy()
    args = (x, table["mass_hypothesis"].to_numpy(), table["label"].to_numpy(), np.ones(len(x)))
    base = dict(hidden=[16, 16], epochs=4, batch_size=1024, learning_rate=3e-3)
    plain = make_model("pnn", PNNConfig(**base), seed=3)
    plain.fit(*args)
    tuned = make_model("pnn", PNNConfig(**base, punzi_epochs=40), seed=3)
    tuned.fit(*args, punzi=target)
    losses = tuned.history["punzi_loss"]
    assert len(losses) == 40 and losses[-1] < losses[0]
    stacked = torch.from_numpy(
        np.column_stack([x, table["mass_hypothesis"].to_numpy()]).astype(np.float32)
    )
    with torch.no_grad():
        assert float(punzi_loss(tuned.net, stacked, target)) < float(
            punzi_loss(plain.net, stacked, target)
        )
    with pytest.raises(ConfigError, match="pNN option"):
        make_model("pbdt", PBDTConfig(n_estimators=5), seed=1).fit(*args, punzi=target)


def test_search_spaces_are_valid_model_sections():
    import optuna

    trees = optuna.trial.FixedTrial({"max_depth": 4, "learning_rate": 0.1, "n_estimators": 150})
    assert PBDTConfig().model_copy(update=suggest("pbdt", trees)).max_depth == 4
    net = optuna.trial.FixedTrial(
        {"width": 64, "depth": 3, "learning_rate": 1e-3, "weight_decay": 1e-4}
    )
    pnn = PNNConfig().model_copy(update=suggest("pnn", net))
    assert pnn.hidden == [64, 64, 64]
    trial = net
    with pytest.raises(ConfigError, match="no search space"):
        suggest("svm", trial)


@pytest.mark.slow  # the shared small-profile run (tests/conftest.py: small_run)
def test_optuna_option_of_mlsearch_train(small_run: Path, tmp_path: Path) -> None:
    """--optuna N runs N seeded trials per model, trains the folds with the best, and records
    them; the same config gives the same trials."""
    import shutil

    work = tmp_path / "w"
    shutil.copytree(small_run, work)
    args = ("train", str(SMALL_PROFILE), "--set", f"workdir={work}", "--optuna", "2")
    res = run_cli(*args)
    assert res.returncode == 0, res.stderr[-2000:]
    manifest = work / "data/zprime_invisible/train/.train.manifest.json"
    first = json.loads(manifest.read_text())["tuned"]
    assert set(first) == {"pbdt", "pnn"}
    assert all(len(v["trial_auc"]) == 2 and 0.5 < max(v["trial_auc"]) <= 1 for v in first.values())
    manifest.unlink()  # force a rerun
    assert run_cli(*args).returncode == 0
    assert json.loads(manifest.read_text())["tuned"] == first


def test_leave_one_mass_out_trains_without_and_only_at_the_mass():
    from mlsearch.evaluation.lomo import leave_one_mass_out

    table, meta = _toy_table(3000, 2)
    table["fold"] = np.arange(len(table)) % 2
    params = PNNConfig(hidden=[16, 16], epochs=6, batch_size=1024, learning_rate=3e-3)
    res = leave_one_mass_out(table, meta, "pnn", params, 2.0, 1, 100.0, 2.0)
    assert res.mass == 2.0 and np.isfinite([res.interpolated_fb, res.dedicated_fb]).all()
    # the toy signal is a peak at the mass: a network that never saw 2 GeV still finds it
    # between 1 and 3 GeV, within a factor of two of the dedicated one
    assert -0.5 < res.gap < 1.0


def test_pnn_ddp_over_two_processes_trains_the_single_process_network() -> None:
    """Lightning DDP (gloo, 2 forked processes, each taking half of every batch, gradients
    averaged) follows the single-process training: the same losses to float rounding, the
    trained weights come back to this process, and the scores agree."""
    rng = np.random.default_rng(3)
    n = 40_000
    x = rng.normal(size=(n, 6))
    mass = rng.choice([1.0, 2.0, 4.0], n)
    y = (x[:, 0] + 0.4 * mass * x[:, 1] + rng.normal(size=n) > 0.7).astype(int)
    w = rng.uniform(0.5, 2.0, n)
    models = []
    for processes in (1, 2):
        model = make_model("pnn", PNNConfig(epochs=3, batch_size=1024, processes=processes), 5)
        model.fit(x, mass, y, w)
        models.append(model)
    one, two = models
    assert len(two.history["train_loss"]) == len(two.history["val_loss"]) == 3
    for name in ("train_loss", "val_loss"):
        np.testing.assert_allclose(two.history[name], one.history[name], rtol=2e-3)
    s1, s2 = one.score(x, mass), two.score(x, mass)
    assert np.abs(s1 - s2).max() < 0.02 and not np.array_equal(s1, s2)


@pytest.mark.slow  # the shared small-profile run (tests/conftest.py: small_run)
def test_train_on_a_local_cluster_and_ddp_from_the_command_line(
    small_run: Path, tmp_path: Path
) -> None:
    """``python -m mlsearch train --scheduler local`` with ``models.pnn.processes=2``: the
    pBDT on the cluster's workers, the pNN over 2 spawned DDP processes (which import the
    entry module again and must not rerun the command); both separate as well as the
    single-process models of the small run."""
    import shutil

    work = tmp_path / "w"
    shutil.copytree(small_run, work)
    res = run_cli(
        "train", str(SMALL_PROFILE), "--set", f"workdir={work}", "--scheduler", "local",
        "--set", "models.pnn.processes=2",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Traceback" not in res.stderr and "Warning" not in res.stderr
    manifest = "data/zprime_invisible/train/.train.manifest.json"
    for kind in ("pbdt", "pnn"):
        single = json.loads((small_run / manifest).read_text())["auc"][kind]
        cluster = json.loads((work / manifest).read_text())["auc"][kind]
        assert [r["mass"] for r in cluster] == [r["mass"] for r in single]
        for a, b in zip(cluster, single, strict=True):
            assert abs(a["auc"] - b["auc"]) < 0.01, (kind, a, b)
