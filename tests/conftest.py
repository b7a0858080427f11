"""Shared fixtures: repository paths and a fast small-profile config in a temporary workdir."""

from __future__ import annotations

from pathlib import Path

import pytest

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
