"""The whole chain on the small profile through the CLI, as a user runs it."""

from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest

from .conftest import SMALL_PROFILE, run_cli

pytestmark = pytest.mark.slow


def _run(workdir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli("run", str(SMALL_PROFILE), "--set", f"workdir={workdir}", *extra)


def _coupling_limits_give_the_cross_section_limits(process: str, df: pd.DataFrame) -> None:
    """Independent of the limits' conversion: the generator's cross section (x the branching
    fraction into the searched final state) at the limiting coupling is the cross-section
    limit, within the generator's MC error."""
    from mlsearch.generate.xsec import cross_section

    for row in df.to_dict("records"):
        res = cross_section(process, row["mass"], row["expected_coupling_median"], n_events=50_000)
        assert 1e3 * res.sigma_pb == pytest.approx(
            row["expected_xsec_fb_median"],
            rel=0.02 + 3e3 * res.error_pb / row["expected_xsec_fb_median"],
        ), row["mass"]


@pytest.fixture
def workdir(small_run: Path) -> Path:
    return small_run


def test_limits_are_finite_positive_and_ordered(workdir: Path) -> None:
    df = pd.read_csv(workdir / "results/zprime_invisible/limits.csv")
    assert df["mass"].tolist() == [1.0, 3.0, 6.0]
    for quantity in ("events", "xsec_fb", "coupling"):
        bands = df[
            [f"expected_{quantity}_{b}" for b in ("minus2", "minus1", "median", "plus1", "plus2")]
        ].to_numpy()
        assert np.isfinite(bands).all() and (bands > 0).all()
        assert (np.diff(bands, axis=1) >= 0).all()
        assert np.isfinite(df[f"observed_{quantity}"]).all()
    _coupling_limits_give_the_cross_section_limits("zprime", df)
    meta = json.loads((workdir / "results/zprime_invisible/limits.json").read_text())
    assert meta["model"] == "pbdt" and len(meta["rows"]) == 3
    assert (workdir / "results/zprime_invisible/limits_coupling.png").stat().st_size > 10_000
    assert (workdir / "results/zprime_invisible/limits_coupling.pdf").read_bytes()[:5] == b"%PDF-"
    assert len(list((workdir / "results/zprime_invisible/workspaces").glob("*.json"))) == 3


def test_onnx_models_carry_the_contract(workdir: Path) -> None:
    for kind in ("pbdt", "pnn"):
        for name in (kind, f"{kind}_fold0", f"{kind}_fold1"):
            model = onnx.load(workdir / f"models/zprime_invisible/{name}.onnx")
            meta = {p.key: p.value for p in model.metadata_props}
            features = json.loads(meta["mlsearch.features"])
            dims = model.graph.input[0].type.tensor_type.shape.dim
            assert dims[1].dim_value == len(features) + 1
            assert json.loads(meta["mlsearch.mass_grid"]) == [1.0, 3.0, 6.0]
            assert float(meta["mlsearch.parity_max_abs_diff"]) < 1e-5
            assert len(meta["mlsearch.mlflow_run_id"]) == 32


def test_mlflow_runs_hold_per_mass_curves(workdir: Path) -> None:
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{workdir / 'mlruns/mlflow.db'}")
    exp = client.get_experiment_by_name("zprime_invisible")
    runs = client.search_runs([exp.experiment_id], "tags.`mlsearch.stage` = 'train'")
    assert {r.data.tags["mlsearch.model"] for r in runs} == {"pbdt", "pnn"}
    manifest = json.loads(
        (workdir / "data/zprime_invisible/train/.train.manifest.json").read_text()
    )
    for r in runs:
        assert r.info.status == "FINISHED"
        artifacts = {a.path for a in client.list_artifacts(r.info.run_id, "onnx")}
        assert any(p.endswith(".onnx") for p in artifacts)
        # per-mass results are curves versus mass: step = mass in MeV, the grid a param
        assert r.data.params["mass_grid"] == "1,3,6"
        auc = {h.step: h.value for h in client.get_metric_history(r.info.run_id, "auc")}
        want = {
            round(1000 * a["mass"]): a["auc"]
            for a in manifest["auc"][r.data.tags["mlsearch.model"]]
        }
        assert auc == pytest.approx(want) and set(auc) == {1000, 3000, 6000}
        assert all(0.5 < a <= 1.0 for a in auc.values())
        assert not [k for k in r.data.metrics if re.fullmatch(r"auc_m[\d.]+", k)]  # no scalars
        punzi = client.get_metric_history(r.info.run_id, "punzi_xsec_fb")  # from evaluate
        assert sorted(h.step for h in punzi) == [1000, 3000, 6000]
        tables = {a.path for a in client.list_artifacts(r.info.run_id, "per_mass")}
        assert tables == {"per_mass/auc.json", "per_mass/evaluation.json"}
    (limits_run,) = client.search_runs([exp.experiment_id], "tags.`mlsearch.stage` = 'limits'")
    median = client.get_metric_history(limits_run.info.run_id, "expected_coupling_median")
    limits = pd.read_csv(workdir / "results/zprime_invisible/limits.csv")
    got = {h.step: h.value for h in median}
    want = dict(
        zip(
            (1000 * limits["mass"]).round().astype(int),
            limits["expected_coupling_median"],
            strict=True,
        )
    )
    assert got == pytest.approx(want, rel=1e-5)


def test_rerun_is_cached_and_identical(workdir: Path) -> None:
    before = (workdir / "results/zprime_invisible/limits.csv").read_text()
    res = _run(workdir)
    assert res.returncode == 0
    assert res.stderr.count("cached") >= 7
    assert (workdir / "results/zprime_invisible/limits.csv").read_text() == before


def test_each_run_is_one_parent_with_its_stages_and_folds_nested(workdir: Path) -> None:
    """After the run and the cached rerun above: two parent runs named after the config and
    its --set; the first holds the stage runs (folds under their training run), the second
    one "(cached)" child per stage, each naming the run that made what it reused."""
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{workdir / 'mlruns/mlflow.db'}")
    exp = client.get_experiment_by_name("zprime_invisible")
    runs = client.search_runs([exp.experiment_id], max_results=200,
                              order_by=["attributes.start_time ASC"])  # fmt: skip
    parents = [r for r in runs if r.data.tags.get("mlsearch.stage") == "pipeline"]
    assert len(parents) == 2
    for p in parents:
        assert p.info.run_name == f"zprime_invisible_small workdir={workdir}"
        assert p.info.status == "FINISHED" and p.data.params["search"] == "zprime_invisible"

    def children(run_id: str) -> dict[str, object]:
        kids = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == run_id]
        return {r.info.run_name: r for r in kids}

    first, second = (children(p.info.run_id) for p in parents)
    assert set(first) == {"generate", "simulate", "features", "train-pbdt", "train-pnn", "limits"}
    for kind in ("pbdt", "pnn"):
        folds = children(first[f"train-{kind}"].info.run_id)
        assert set(folds) == {"fold0", "fold1"}
        fold0 = folds["fold0"]
        assert fold0.info.status == "FINISHED" and "ks_signal_pvalue" in fold0.data.metrics
        loss = "train_loss" if kind == "pnn" else "val_logloss"
        assert len(client.get_metric_history(fold0.info.run_id, loss)) >= 3
    stages = ("generate", "simulate", "features", "train", "evaluate", "export", "limits")
    assert set(second) == {f"{s} (cached)" for s in stages}
    for stage in stages:
        tags = second[f"{stage} (cached)"].data.tags
        assert tags["mlsearch.cached"] == "true" and tags["mlsearch.stage"] == stage
    made = second["train (cached)"].data.tags["mlsearch.cached_from"].split(",")
    assert set(made) == {first["train-pbdt"].info.run_id, first["train-pnn"].info.run_id}
    assert (
        second["limits (cached)"].data.tags["mlsearch.cached_from"] == first["limits"].info.run_id
    )


def test_same_seed_gives_same_events_models_and_limits(workdir: Path, tmp_path: Path) -> None:
    res = _run(tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    a = pd.read_csv(workdir / "results/zprime_invisible/limits.csv")
    b = pd.read_csv(tmp_path / "results/zprime_invisible/limits.csv")
    pd.testing.assert_frame_equal(a, b)
    for rel in ("data/zprime_invisible/features.parquet",):
        pd.testing.assert_frame_equal(
            pd.read_parquet(workdir / rel), pd.read_parquet(tmp_path / rel)
        )
    assert math.isclose(
        float(a["expected_coupling_median"].iloc[0]), float(b["expected_coupling_median"].iloc[0])
    )


@pytest.mark.parametrize(
    ("search", "masses", "coupling"),
    [
        ("lfv_zprime", [1.0, 3.0, 6.0], 0.01),
        ("alp", [1.0, 4.0, 8.0], 0.001),
        ("dark_photon", [2.0, 4.0, 7.0], 0.001),
    ],
)
def test_every_search_runs_end_to_end(
    search: str, masses: list[float], coupling: float, tmp_path: Path
) -> None:
    from mlsearch.features import get_builder

    profile = SMALL_PROFILE.parent / f"{search}_small.yaml"
    res = run_cli("run", str(profile), "--set", f"workdir={tmp_path}")
    assert res.returncode == 0, res.stderr[-3000:]
    df = pd.read_csv(tmp_path / f"results/{search}/limits.csv")
    assert df["mass"].tolist() == masses
    bands = df[[f"expected_xsec_fb_{b}" for b in ("minus2", "minus1", "median", "plus1", "plus2")]]
    assert np.isfinite(bands.to_numpy()).all() and (np.diff(bands.to_numpy(), axis=1) >= 0).all()
    assert (df["signal_efficiency"] > 0.05).all() and (df["n_background"] > 0).all()
    assert (df["coupling_ref"] == coupling).all()
    _coupling_limits_give_the_cross_section_limits(search, df)  # the signal process's name
    # the window sits on the signal peak of this search's variable
    if search != "alp":  # recoil or missing mass squared
        centre = (df["window_low"] + df["window_high"]) / 2
        sigma = (df["window_high"] - df["window_low"]) / 4
        # on the core of the peak: the radiative tail pulls the centre up by a fraction of
        # the resolution (dark photon at 2 GeV: 4.7 GeV^2 with sigma 2.7)
        offset = centre - np.square(masses)
        assert (np.abs(offset) < np.maximum(0.6, 0.4 * sigma)).all(), offset
    else:  # the diphoton mass
        assert ((df["window_low"] < df["mass"]) & (df["mass"] < df["window_high"])).all()
    model = onnx.load(tmp_path / f"models/{search}/pbdt.onnx")
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["mlsearch.features"]) == get_builder(search).feature_names
    assert json.loads((tmp_path / f"results/{search}/limits.json").read_text())["search"] == search
    assert (tmp_path / f"results/{search}/limits_coupling.png").stat().st_size > 10_000


def test_evaluation_report_per_model_and_mass(workdir: Path) -> None:
    out = workdir / "results/zprime_invisible/evaluation"
    report = pd.read_csv(out / "report.csv")
    assert sorted(report["model"].unique()) == ["pbdt", "pnn"]
    assert report.groupby("model")["mass"].apply(list).tolist() == [[1.0, 3.0, 6.0]] * 2
    for col in ("auc_window", "punzi_xsec_fb", "baseline_punzi_xsec_fb", "signal_events"):
        assert np.isfinite(report[col]).all() and (report[col] > 0).all(), col
    np.testing.assert_allclose(
        report["gain_vs_baseline"],
        report["baseline_punzi_xsec_fb"] / report["punzi_xsec_fb"],
        rtol=1e-4,
    )
    # on the Z' small profile (with the signal's radiation) the trees beat the published
    # selection (tuned on all the MC, optimistic) at one mass at least and stay within 2x of
    # it at the others; its MC is too small to rank them at every mass (the default runs'
    # per-mass gains are in docs/performance.md)
    gain = report.loc[report["model"] == "pbdt", "gain_vs_baseline"]
    assert gain.max() > 1 and (gain > 0.5).all()
    ks = pd.read_csv(out / "ks_per_fold.csv")
    assert len(ks) == 4 and ks["ks_signal"].between(0, 1).all()
    lomo = pd.read_csv(out / "leave_one_out.csv")
    assert lomo[["model", "mass"]].values.tolist() == [["pnn", 3.0]]  # the middle grid mass
    assert (lomo[["interpolated_punzi_fb", "dedicated_punzi_fb"]] > 0).all(axis=None)
    flow = pd.read_csv(out / "cut_flow.csv")  # the published selection's, per mass
    assert sorted(flow["mass"].unique()) == [1.0, 3.0, 6.0]
    assert set(flow["sample"]) == {"signal", "mumu", "tautau", "eemumu"}
    page = (out / "report.html").read_text()
    assert "Leave one mass out" in page and "PRL 124, 141801" in page
    assert "punzi_vs_mass.png" in page and "sculpting_pnn.png" in page
    for name in ("punzi_vs_mass.png", "roc_pbdt.png", "sculpting_pbdt.png", "train_test_pnn.png"):
        assert (out / name).stat().st_size > 5_000


def test_limits_on_data_fine_grid_reference_curves(workdir: Path, tmp_path: Path) -> None:
    """The limits stage on a copy of the small run: a basf2 data ntuple as the observed
    counts (here the mu mu MC sample itself, so the count in each window is known), limits at
    interpolated masses (pNN), a reference curve on the coupling plot; a bad curve file is a
    clear error."""
    import shutil

    from mlsearch.io.basf2_ntuple import write_basf2_ntuple
    from mlsearch.io.events import read_events
    from mlsearch.selection.windows import search_values

    work = tmp_path / "w"
    shutil.copytree(workdir, work, ignore=shutil.ignore_patterns("mlruns*"))
    reco, _ = read_events(work / "data/zprime_invisible/reco/mumu.parquet")
    write_basf2_ntuple(reco, tmp_path / "data.root")
    (tmp_path / "ref.csv").write_text("mass,coupling\n1,0.02\n6,0.2\n")
    common = [
        "--set", f"workdir={work}",
        "--set", f"mlflow.tracking_uri=sqlite:///{tmp_path}/mlflow.db",
        "--set", "limits.mass_points_between=1",
    ]  # fmt: skip
    # the pBDT cannot interpolate between its training masses: refused, with the reason
    refused = run_cli("limits", str(SMALL_PROFILE), *common)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "needs the pNN" in refused.stderr
    common += ["--set", "limits.model=pnn"]
    res = run_cli(
        "limits", str(SMALL_PROFILE), *common,
        "--set", f"limits.data={tmp_path / 'data.root'}",
        "--set", f"limits.reference_curves=[{{label: published, file: {tmp_path / 'ref.csv'}}}]",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    out = work / "results/zprime_invisible"
    df = pd.read_csv(out / "limits.csv")
    assert df["mass"].tolist() == [1.0, 2.0, 3.0, 4.5, 6.0]
    assert df["interpolated"].tolist() == [False, True, False, True, False]
    assert (df["status"] == "ok").all()
    assert json.loads((out / "limits.json").read_text())["observed"].startswith("data: ")
    # observed = the mu mu events in each window (each MC event is in the table once)
    table = pd.read_parquet(work / "data/zprime_invisible/features.parquet")
    mumu = table[table["process"] == "mumu"]
    for row in df.itertuples():
        values = search_values(mumu, {"column": "recoil_mass2"}, row.mass)
        in_window = int(((values >= row.window_low) & (values <= row.window_high)).sum())
        assert row.n_observed == in_window, row.mass
    # the interpolated window sits between its neighbours, on m^2
    assert 3.0 < (df["window_low"][1] + df["window_high"][1]) / 2 < 5.0
    assert (out / "limits_coupling.png").stat().st_size > 10_000
    (tmp_path / "bad.csv").write_text("m,g\n1,0.1\n")
    bad = run_cli(
        "limits", str(SMALL_PROFILE), *common,
        "--set", f"limits.reference_curves=[{{label: x, file: {tmp_path / 'bad.csv'}}}]",
    )  # fmt: skip
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "bad.csv" in bad.stderr and "lacks the column(s) mass, coupling" in bad.stderr


def test_limits_from_the_published_selection(workdir: Path, tmp_path: Path) -> None:
    """limits.model: cuts counts the events the published selection keeps in each window,
    at one of its tuned thresholds, and writes next to the classifier's limits."""
    import shutil

    from mlsearch.selection.published import published_selection

    work = tmp_path / "w"
    shutil.copytree(workdir, work, ignore=shutil.ignore_patterns("mlruns*"))
    res = run_cli(
        "limits", str(SMALL_PROFILE), "--set", f"workdir={work}",
        "--set", f"mlflow.tracking_uri=sqlite:///{tmp_path}/mlflow.db",
        "--set", "limits.model=cuts",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    out = work / "results/zprime_invisible"
    df = pd.read_csv(out / "cuts/limits.csv")
    assert json.loads((out / "cuts/limits.json").read_text())["model"] == "cuts"
    classifier = workdir / "results/zprime_invisible/limits.csv"
    assert (out / "limits.csv").read_bytes() == classifier.read_bytes()  # not overwritten
    assert df["mass"].tolist() == [1.0, 3.0, 6.0] and (df["status"] == "ok").all()
    assert (df["expected_coupling_median"] > 0).all()
    sel = published_selection("zprime_invisible")
    table = pd.read_parquet(work / "data/zprime_invisible/features.parquet")
    for row in df.itertuples():
        sig = table[(table["label"] == 1) & (table["mass_hypothesis"] == row.mass)]
        m2 = sig["recoil_mass2"]
        sig = sig[(m2 >= row.window_low) & (m2 <= row.window_high)]
        level = sel.levels(sig)
        kept = [float(sig["weight"][level > k].sum() / sig["weight"].sum())
                for k in range(1, len(sel.tuned.values) + 1)]  # fmt: skip
        # the signal counted is the selection at one of its thresholds (quantiles: 1e-3)
        frac = row.n_signal_selected / row.n_signal_ref
        assert min(abs(frac - k) for k in kept) < 2e-3, (row.mass, frac, kept)
