"""Shared fixtures: repository paths and a fast small-profile config in a temporary workdir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlsearch.io.feature_table import FeatureTableMeta, SampleInfo

REPO = Path(__file__).resolve().parents[1]
SMALL_PROFILE = REPO / "configs" / "profiles" / "zprime_invisible_small.yaml"
DEFAULT_CONFIG = REPO / "configs" / "zprime_invisible.yaml"


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture(autouse=True)
def _no_external_tracking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests write MLflow runs to their own temporary store, never to a user's server."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def run_cli(
    *args: str, cwd: Path | None = None, timeout: int = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``mlsearch ARGS`` in a subprocess, as a user runs it. A tracking URI that an
    in-process test left in the environment (mlflow.set_tracking_uri exports it) is not
    passed on: the subprocess uses its config's store unless ``env`` names one."""
    base = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return subprocess.run(
        [sys.executable, "-m", "mlsearch", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**base, **(env or {})},
    )


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workdir where ``mlsearch run`` has completed on the small profile (shared, read-only
    for the tests that use it)."""
    path = tmp_path_factory.mktemp("e2e")
    res = run_cli("run", str(SMALL_PROFILE), "--set", f"workdir={path}")
    assert res.returncode == 0, res.stderr[-3000:]
    return path


def require_services() -> bool:
    """CI sets MLSEARCH_REQUIRE_SERVICES=1: a missing PostgreSQL or Chromium then fails the
    test instead of skipping it."""
    return os.environ.get("MLSEARCH_REQUIRE_SERVICES") == "1"


def feature_meta(
    samples: dict[str, dict[str, Any]], search_variable: str = "recoil_mass2", **fields: Any
) -> FeatureTableMeta:
    """Feature-table metadata for a hand-made table: ``samples`` with only what the test
    needs (the rest of each SampleInfo and of the table's record get neutral defaults)."""
    defaults = {"process": "", "n_generated": 1, "n_selected": 1, "cross_section_fb": 1.0}
    infos = {
        name: SampleInfo(**{**defaults, "process": name, **info}) for name, info in samples.items()
    }
    masses = sorted({i.mass for i in infos.values() if i.is_signal and i.mass is not None})
    record: dict[str, Any] = {
        "search": "zprime_invisible", "features": [], "units": {},
        "search_variable": search_variable, "search_rule": {"column": search_variable},
        "search_unit": "GeV^2" if search_variable.endswith("2") else "GeV",
        "mass_grid": masses, "samples": infos, "n_folds": 2, "mass_assignment": "random_grid",
    }  # fmt: skip
    return FeatureTableMeta(**{**record, **fields})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`pytest -m "not slow"` must not run the pipeline: a test that uses the full small-profile
    run (small_run) without the slow mark is a collection error, not a silent slow test."""
    unmarked = [
        item.nodeid
        for item in items
        if "small_run" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("slow")
    ]
    if unmarked:
        raise pytest.UsageError("tests using small_run must be marked slow: " + ", ".join(unmarked))


def one_gev_point(rng: Any) -> Any:
    """A signal point at 1 GeV for a table made by hand: window 0.6-1.4 (sigma 0.2), 1000
    scores uniform in 0.5-1, 10 events in the window, sigma_ref = 5 fb, g_ref = 0.01, at
    10 fb^-1."""
    import numpy as np

    from mlsearch.limits.signal_points import measure_point
    from mlsearch.selection.windows import MassWindow

    window = MassWindow(1.0, 0.2, 0.6, 1.4)
    return measure_point(
        1.0, window, rng.uniform(0.5, 1.0, 1000), np.full(1000, 0.01), 5.0, 0.01, 10.0
    )
