"""Reproducible random streams: one per (seed, name, chunk), so that a result never depends
on how the work is split or scheduled."""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["chunk_rng"]


def chunk_rng(seed: int, process: str, chunk: int) -> np.random.Generator:
    """Independent, reproducible stream for one chunk of one process.

    Deriving each chunk's stream from (seed, process, chunk) keeps the output identical however
    the chunks are scheduled.
    """
    tag = int.from_bytes(hashlib.sha256(process.encode()).digest()[:8], "little")
    return np.random.default_rng(np.random.SeedSequence([seed, tag, chunk]))
