"""Deployable ONNX: contract checks, basf2 and fold-aware variants, standalone predict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest

from mlsearch.export.contract import check_contract, validate_onnx_file
from mlsearch.export.parity import onnx_session
from mlsearch.scoring import stack_inputs

from .conftest import run_cli

MODELS = "models/zprime_invisible"


@pytest.mark.slow  # the shared small-profile run (tests/conftest.py: small_run)
@pytest.mark.parametrize("kind", ["pbdt", "pnn"])
def test_every_exported_file_meets_the_contract(small_run: Path, kind: str) -> None:
    folder = small_run / MODELS
    for name in (kind, f"{kind}_fold0", f"{kind}_fold1"):
        assert validate_onnx_file(folder / f"{name}.onnx") == [], name
    assert validate_onnx_file(folder / f"{kind}_basf2.onnx", basf2=True) == []
    problems = validate_onnx_file(folder / f"{kind}_foldaware.onnx")
    assert problems == ["expected one input, found 2: input, event"]
    meta = {p.key: p.value for p in onnx.load(str(folder / f"{kind}.onnx")).metadata_props}
    assert json.loads(meta["mlsearch.opset"])
    assert float(meta["mlsearch.parity_max_abs_diff"]) < 1e-5


@pytest.mark.slow  # the shared small-profile run (tests/conftest.py: small_run)
def test_variants_agree_with_the_fold_models(small_run: Path) -> None:
    folder = small_run / MODELS
    table = pd.read_parquet(small_run / "data/zprime_invisible/features.parquet").iloc[:500]
    features = json.loads(
        {p.key: p.value for p in onnx.load(str(folder / "pnn.onnx")).metadata_props}[
            "mlsearch.features"
        ]
    )
    x = stack_inputs(table[features].to_numpy(), np.full(len(table), 2.0))
    event = table["event"].to_numpy().astype(np.int64)
    folds = [
        onnx_session(str(folder / f"pnn_fold{i}.onnx")).run(["score"], {"input": x})[0]
        for i in range(2)
    ]
    aware = onnx_session(str(folder / "pnn_foldaware.onnx")).run(
        ["score"], {"input": x, "event": event}
    )[0]
    np.testing.assert_array_equal(
        aware[:, 0], np.where(event % 2 == 0, folds[0][:, 0], folds[1][:, 0])
    )
    prob = onnx_session(str(folder / "pnn_basf2.onnx")).run(["probabilities"], {"input": x})[0]
    avg = onnx_session(str(folder / "pnn.onnx")).run(["score"], {"input": x})[0]
    np.testing.assert_allclose(prob[:, 1], avg[:, 0], atol=1e-7)
    np.testing.assert_allclose(prob.sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.slow  # the shared small-profile run (tests/conftest.py: small_run)
def test_validate_onnx_reports_what_is_wrong(small_run: Path, tmp_path: Path) -> None:
    model = onnx.load(str(small_run / MODELS / "pbdt.onnx"))
    del model.metadata_props[:]
    model.graph.output[0].name = "out"
    model.graph.node[-1].output[0] = "out"
    bad = tmp_path / "bad.onnx"
    onnx.save(model, bad)
    problems = check_contract(model)
    assert any(p.startswith("metadata_props missing: mlsearch.features") for p in problems)
    assert "expected one output 'score', found out" in problems
    res = run_cli("validate-onnx", str(bad))
    assert res.returncode == 1 and "metadata_props missing" in res.stderr
    res = run_cli("validate-onnx", str(small_run / MODELS / "pnn.onnx"), "--basf2")
    assert res.returncode == 1 and "opset ai.onnx 18 > 17 (basf2)" in res.stderr
    res = run_cli("validate-onnx", str(small_run / MODELS / "pnn_basf2.onnx"), "--basf2")
    assert res.returncode == 0, res.stderr


_NO_TRAINING_STACK = (
    "import sys\n"
    "for name in ('torch', 'xgboost', 'lightning', 'mlflow', 'sklearn', 'pyhf'):\n"
    "    sys.modules[name] = None  # any import of these now raises ImportError\n"
    "from mlsearch.cli import main\n"
    "sys.argv = ['mlsearch'] + sys.argv[1:]\n"
    "main()\n"
)


def _predict(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _NO_TRAINING_STACK, "predict", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow  # the shared small-profile run (tests/conftest.py: small_run)
def test_predict_needs_no_training_stack_and_matches_the_limits_scores(
    small_run: Path, tmp_path: Path
) -> None:
    import uproot

    table = pd.read_parquet(small_run / "data/zprime_invisible/features.parquet").iloc[:3000]
    table = table.reset_index(drop=True)
    table.loc[5, "recoil_p_cms"] = np.nan
    src = tmp_path / "features.parquet"
    table.to_parquet(src)
    model = small_run / MODELS / "pbdt.onnx"
    out = tmp_path / "scores.parquet"
    res = _predict(str(model), str(src), "--mass", "1", "--mass", "2.5", "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert "1 rows with NaN/inf inputs scored NaN" in res.stdout
    scores = pd.read_parquet(out)
    assert list(scores.columns[-2:]) == ["score_m1", "score_m2.5"]
    score_cols = scores[["score_m1", "score_m2.5"]].drop(index=5)
    assert np.isnan(scores.loc[5, "score_m1"]) and np.isfinite(score_cols.to_numpy()).all()
    features = json.loads(
        {p.key: p.value for p in onnx.load(str(model)).metadata_props}["mlsearch.features"]
    )
    want = onnx_session(str(model)).run(
        ["score"], {"input": stack_inputs(table[features].to_numpy(), np.full(len(table), 2.5))}
    )[0][:, 0]
    ok = np.arange(len(table)) != 5
    # same scores up to float32 summation order (the batch differs by one row)
    np.testing.assert_allclose(scores["score_m2.5"].to_numpy()[ok], want[ok], atol=1e-6)
    # a basf2-style ntuple gives the same scores
    root = tmp_path / "ntuple.root"
    with uproot.recreate(root) as f:
        f["ntuple"] = {
            **{c: table[c].to_numpy() for c in features},
            "__event__": table["event"].to_numpy().astype(np.int32),
        }
    out_root = tmp_path / "scores_root.parquet"
    res = _predict(str(model), str(root), "--mass", "2.5", "-o", str(out_root))
    assert res.returncode == 0, res.stderr
    from_root = pd.read_parquet(out_root)
    assert "__event__" in from_root
    np.testing.assert_allclose(from_root["score_m2.5"].to_numpy()[ok], want[ok], atol=1e-6)


@pytest.mark.slow  # the shared small-profile run (tests/conftest.py: small_run)
def test_predict_streams_in_chunks_with_the_same_scores(
    small_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """predict reads, scores and writes chunk by chunk (memory bounded for 10^7 rows): chunks
    of 700 rows over a file of several row groups give the scores of one pass, in order."""
    import pyarrow.parquet as pq

    from mlsearch import predict as predict_module

    table = pd.read_parquet(small_run / "data/zprime_invisible/features.parquet").iloc[:3000]
    table = table.reset_index(drop=True)
    table.loc[1234, "recoil_p_cms"] = np.inf
    src = tmp_path / "features.parquet"
    table.to_parquet(src, row_group_size=1000)
    model = small_run / MODELS / "pbdt_foldaware.onnx"
    whole = predict_module.predict(model, src, [1.0, 2.5], tmp_path / "whole.parquet")
    monkeypatch.setattr(predict_module, "CHUNK", 700)
    assert pq.ParquetFile(src).metadata.num_row_groups == 3
    chunked = predict_module.predict(model, src, [1.0, 2.5], tmp_path / "chunked.parquet")
    assert (
        (chunked.rows, chunked.non_finite_rows)
        == (whole.rows, whole.non_finite_rows)
        == (
            3000,
            1,
        )
    )
    out = pd.read_parquet(chunked.output)
    assert pq.ParquetFile(chunked.output).metadata.num_row_groups == 5  # written as it went
    np.testing.assert_array_equal(out["event"], table["event"])
    pd.testing.assert_frame_equal(out, pd.read_parquet(whole.output))


@pytest.mark.slow  # the shared small-profile run (tests/conftest.py: small_run)
def test_predict_names_missing_columns(small_run: Path, tmp_path: Path) -> None:
    table = pd.read_parquet(small_run / "data/zprime_invisible/features.parquet").iloc[:10]
    src = tmp_path / "partial.parquet"
    table.drop(columns=["acoplanarity", "dimuon_mass"]).to_parquet(src)
    res = _predict(
        str(small_run / MODELS / "pnn.onnx"),
        str(src),
        "--mass",
        "1",
        "-o",
        str(tmp_path / "x.parquet"),
    )
    assert res.returncode == 2
    assert "missing feature columns: dimuon_mass, acoplanarity" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.slow  # the shared small-profile run (tests/conftest.py: small_run)
def test_predict_refuses_masses_outside_the_trained_range(small_run: Path, tmp_path: Path) -> None:
    table = pd.read_parquet(small_run / "data/zprime_invisible/features.parquet").iloc[:10]
    src = tmp_path / "f.parquet"
    table.to_parquet(src)
    model = str(small_run / MODELS / "pbdt.onnx")  # trained on 1, 3, 6 GeV
    out = tmp_path / "s.parquet"
    res = _predict(model, str(src), "--mass", "3", "--mass", "9.5", "-o", str(out))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "mass 9.5 GeV outside the trained range 1-6 GeV (--extrapolate" in res.stderr
    assert not out.exists()
    res = _predict(model, str(src), "--mass", "9.5", "--extrapolate", "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert np.isfinite(pd.read_parquet(out)["score_m9.5"]).all()


def test_export_fails_when_onnx_and_native_disagree(tmp_path: Path) -> None:
    from mlsearch.config import PBDTConfig
    from mlsearch.errors import MlsearchError
    from mlsearch.export.bundle import OnnxBundle, bundle_parity, write_bundle
    from mlsearch.export.parity import ParityError
    from mlsearch.models import make_model

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 3))
    mass = rng.choice([1.0, 2.0], 2000)
    y = (x[:, 0] + mass > 1.5).astype(int)
    natives = []
    for seed in (1, 2):
        m = make_model("pbdt", PBDTConfig(n_estimators=5, max_depth=2, n_jobs=1), seed)
        m.fit(x, mass, y, np.ones(len(y)))
        natives.append(m)

    def drifted(f, m):
        """Fold 0's native scores moved by 1e-4 after export."""
        return natives[0].score(f, m) + 1e-4

    masses = [1.0, 1.5, 2.0]
    event = np.arange(50)
    bundle = OnnxBundle.of([n.to_onnx(3) for n in natives])
    metadata = {
        "mlsearch.features": ["a", "b", "c"], "mlsearch.units": ["", "", ""],
        "mlsearch.mass_column": "mass_hypothesis", "mlsearch.mass_grid": [1.0, 2.0],
        "mlsearch.mass_range": [1.0, 2.0], "mlsearch.mass_assignment": "random_grid",
        "mlsearch.n_folds": 2, "mlsearch.config_hash": "",
        "mlsearch.mlflow_run_id": "", "mlsearch.git_commit": "", "mlsearch.version": "test",
    }  # fmt: skip
    diffs = bundle_parity(bundle, [n.score for n in natives], x[:50], event, masses)
    assert max(diffs.values()) < 1e-5
    write_bundle(bundle, "pbdt", tmp_path, diffs, masses, metadata)
    assert (tmp_path / "pbdt_basf2.onnx").is_file() and (tmp_path / "pbdt_fold1.onnx").is_file()
    bad = bundle_parity(bundle, [drifted, natives[1].score], x[:50], event, masses)
    # fold 0, the average, the fold-aware graph (on fold 0's events) and basf2 all see it
    assert {k for k, v in bad.items() if v > 1e-5} == {"fold0", "average", "fold_aware", "basf2"}
    with pytest.raises(ParityError, match=r"ONNX differs from native by 1\.0") as err:
        write_bundle(bundle, "pbdt", tmp_path / "other", bad, masses, metadata)
    assert isinstance(err.value, MlsearchError)  # one line on the command line, exit code 2
    assert not (tmp_path / "other").exists()
