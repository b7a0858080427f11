"""`mlsearch models compare A B`: two models' per-mass results from their runs' tables, side
by side (printed, .csv, overlay .png), on a store written here by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from mlsearch.config import load_config
from mlsearch.tracking.runs import log_per_mass, mlflow_run
from mlsearch.tracking.store import import_mlflow, tracking_uri

from .conftest import SMALL_PROFILE, run_cli

GRID = [1.0, 3.0, 6.0]


def _training_run(config, name: str, auc: list[float], punzi: list[float]) -> str:
    with mlflow_run(config, name, {"mlsearch.stage": "train"}) as run:
        log_per_mass([{"mass": m, "auc": a} for m, a in zip(GRID, auc, strict=True)],
                     ["auc"], GRID, "auc")  # fmt: skip
        rows = [{"mass": m, "punzi_xsec_fb": p, "signal_eff_at_bkg_1pct": 0.5}
                for m, p in zip(GRID, punzi, strict=True)]  # fmt: skip
        log_per_mass(rows, ["punzi_xsec_fb", "signal_eff_at_bkg_1pct"], GRID, "evaluation")
        return str(run.info.run_id)


def _limits_run(config, model_run: str, median: float) -> None:
    with mlflow_run(config, "limits", {"mlsearch.stage": "limits",
                                       "mlsearch.model_run_id": model_run}):  # fmt: skip
        rows = [{"mass": m, "expected_coupling_median": median * m,
                 "expected_coupling_minus1": 0.8 * median * m,
                 "expected_coupling_plus1": 1.3 * median * m} for m in GRID]  # fmt: skip
        names = ["expected_coupling_median", "expected_coupling_minus1", "expected_coupling_plus1"]
        log_per_mass(rows, names, GRID, "limits")


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, str, str]:
    """Two training runs; the first has two limits runs (the newer one counts), the second
    none, and its grid lacks 6 GeV's Punzi value (NaN)."""
    config = load_config(SMALL_PROFILE, [f"workdir={tmp_path}"])
    a = _training_run(config, "train-pbdt", [0.91, 0.93, 0.95], [20.0, 18.0, 22.0])
    b = _training_run(config, "train-pnn", [0.90, 0.94, 0.96], [21.0, 17.0, math.nan])
    _limits_run(config, a, 9.0)  # an older limits run of model a: superseded
    _limits_run(config, a, 0.1)
    return tmp_path, a, b


def test_compare_two_runs_writes_the_table_and_the_overlay(store) -> None:
    work, a, b = store
    res = run_cli("models", "compare", a, b, "-o", "cmp/ab.csv", cwd=work)
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(work / "cmp/ab.csv")
    assert table["mass"].tolist() == GRID
    assert table["auc_a"].tolist() == [0.91, 0.93, 0.95]
    assert table["auc_b"].tolist() == [0.90, 0.94, 0.96]
    assert table["punzi_xsec_fb_b"].isna().tolist() == [False, False, True]
    # the newest finished limits run of model a; model b has none
    assert table["expected_coupling_median_a"].tolist() == pytest.approx([0.1, 0.3, 0.6])
    assert "expected_coupling_median_b" not in table
    assert (work / "cmp/ab.png").stat().st_size > 20_000
    assert "0.9100" in res.stdout and "0.9600" in res.stdout  # the printed table
    assert "no limits run yet" in res.stdout


def test_compare_by_registry_name_and_bad_names(store) -> None:
    work, a, b = store
    uri = tracking_uri(load_config(SMALL_PROFILE, [f"workdir={work}"]))
    client = import_mlflow(uri).MlflowClient(uri)
    client.create_registered_model("zp_pbdt")
    client.create_model_version("zp_pbdt", f"runs:/{a}/onnx_model", run_id=a)
    client.set_registered_model_alias("zp_pbdt", "champion", "1")
    res = run_cli("models", "compare", "zp_pbdt@champion", b, cwd=work)
    assert res.returncode == 0, res.stderr
    assert "zp_pbdt v1" in res.stdout
    out = work / f"compare_zp_pbdt_champion_vs_{b}.csv"
    assert pd.read_csv(out)["auc_a"].tolist() == [0.91, 0.93, 0.95]
    for name, message in (
        ("zp_pbdt@nosuch", "not found"),
        ("zp pbdt", "expected NAME@ALIAS, NAME/VERSION"),
        ("0" * 32, "no run 00000000"),
    ):
        res = run_cli("models", "compare", name, b, cwd=work)
        assert res.returncode != 0 and message in res.stderr, res.stderr
        assert "Traceback" not in res.stderr
