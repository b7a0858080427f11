"""Stage caching: each output carries the content hash (key) of what made it.

A stage is skipped when its manifest's key equals the key of its current inputs and config.
Manifests are written last and atomically, so a killed stage is simply rerun.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlsearch import __version__
from mlsearch.config import config_hash
from mlsearch.io.atomic import write_json_atomic
from mlsearch.io.events import read_metadata
from mlsearch.pipeline.code_digest import code_digest

__all__ = ["file_key", "manifest_key", "stage_key", "write_manifest"]


def stage_key(stage: str, *parts: Any) -> str:
    """Content hash of a stage's config sections and upstream keys, the package version and
    the source of every module the stage imports (``code_digest``)."""
    return config_hash(__version__, stage, code_digest(stage), *parts)


def file_key(path: Path) -> str | None:
    """The cache key stored in an event or table file's metadata (None if absent)."""
    key = read_metadata(path).get("cache_key")
    return str(key) if key else None


def manifest_key(directory: Path, stage: str) -> str | None:
    """The key of the last completed run of ``stage`` in ``directory``."""
    path = directory / f".{stage}.manifest.json"
    try:
        return str(json.loads(path.read_text())["key"])
    except (OSError, ValueError, KeyError):
        return None


def read_manifest(directory: Path, stage: str) -> dict[str, Any]:
    """The full manifest of ``stage`` (empty dict if missing)."""
    path = directory / f".{stage}.manifest.json"
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


def write_manifest(directory: Path, stage: str, key: str, **info: Any) -> None:
    """Record that ``stage`` completed in ``directory`` with ``key``."""
    write_json_atomic(directory / f".{stage}.manifest.json", {"key": key, **info})
