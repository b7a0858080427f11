"""The typed result every stage returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["StageResult"]


@dataclass(frozen=True)
class StageResult:
    """What a stage produced: its cache key, its outputs, and whether it was skipped."""

    stage: str
    key: str
    outputs: tuple[Path, ...]
    skipped: bool
    summary: dict[str, Any] = field(default_factory=dict)
