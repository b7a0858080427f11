"""Stage caching: each output carries the content hash (key) of what made it.

A stage is skipped when its manifest's key equals the key of its current inputs and config.
Manifests are written last and atomically, so a killed stage is simply rerun.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from mlsearch import __version__
from mlsearch.config import config_hash
from mlsearch.io.atomic import write_json_atomic
from mlsearch.io.events import read_metadata

__all__ = ["file_key", "manifest_key", "stage_key", "write_manifest"]


#: the code each stage's output depends on (paths below mlsearch/): a change there
#: invalidates that stage's cache even within one package version
_STAGE_CODE = {
    "generate": ("generate", "physics", "io", "pipeline/generate.py"),
    "simulate": ("detector", "io", "pipeline/simulate.py"),
    "features": (
        "features",
        "physics",
        "models/folds.py",
        "models/mass_assignment.py",
        "pipeline/features.py",
        "limits/windows.py",
        "searches.py",
    ),
    "train": (
        "models",
        "evaluation/metrics.py",
        "features/spec.py",
        "limits/punzi.py",
        "limits/windows.py",
        "pipeline/train.py",
    ),
    "evaluate": (
        "evaluation",
        "features/spec.py",
        "limits/punzi.py",
        "limits/windows.py",
        "pipeline/evaluate.py",
    ),
    "export": ("export", "models", "pipeline/export.py"),
    "limits": (
        "limits",
        "export/parity.py",
        "features/spec.py",
        "pipeline/limits.py",
        "searches.py",
    ),
}
_PACKAGE = Path(__file__).resolve().parents[1]


@functools.cache
def code_digest(stage: str) -> str:
    """Hash of the source files ``stage`` depends on ('' for unknown stages)."""
    digest = hashlib.sha256()
    for entry in _STAGE_CODE.get(stage, ()):
        path = _PACKAGE / entry
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for f in files:
            digest.update(str(f.relative_to(_PACKAGE)).encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def stage_key(stage: str, *parts: Any) -> str:
    """Content hash of a stage's config sections and upstream keys, the package version and
    the stage's own source code."""
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
