"""Event files: awkward records in parquet, with the sample's metadata in the schema.

Truth files (generate) hold per event ``event``, ``weight`` [fb, i.e. events per fb^-1] and a
variable-length list ``particles`` of {pdg, E, px, py, pz} [GeV] in the lab frame and the
production vertex {vx, vy, vz} [cm] (0 for prompt particles).
Reconstructed files (simulate) hold ``event``, ``weight``, ``tracks`` and ``clusters`` lists
with basf2 variable names (see docs/architecture.md).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pyarrow.parquet as pq

from mlsearch.errors import InputError
from mlsearch.generate.sample import TruthSample
from mlsearch.io.atomic import atomic_path

__all__ = ["read_events", "read_metadata", "truth_to_awkward", "write_events"]

_META_KEY = b"mlsearch"


def truth_to_awkward(sample: TruthSample) -> ak.Array:
    """Turn a fixed-slot TruthSample into awkward records, dropping empty slots."""
    n, _k = sample.pdg.shape
    present = sample.p4[..., 0] > 0
    counts = present.sum(axis=1)
    flat_p4 = sample.p4[present]
    flat_v = sample.vertex[present] if sample.vertex is not None else np.zeros((len(flat_p4), 3))
    particles = ak.zip(
        {
            "pdg": sample.pdg[present],
            "E": np.ascontiguousarray(flat_p4[:, 0]),
            "px": np.ascontiguousarray(flat_p4[:, 1]),
            "py": np.ascontiguousarray(flat_p4[:, 2]),
            "pz": np.ascontiguousarray(flat_p4[:, 3]),
            "vx": np.ascontiguousarray(flat_v[:, 0]),
            "vy": np.ascontiguousarray(flat_v[:, 1]),
            "vz": np.ascontiguousarray(flat_v[:, 2]),
        }
    )
    return ak.zip(
        {
            "event": np.arange(n, dtype=np.int64),
            "weight": sample.weight,
            "particles": ak.unflatten(particles, counts),
        },
        depth_limit=1,
    )


def write_events(events: ak.Array, path: str | os.PathLike[str], metadata: dict[str, Any]) -> None:
    """Write awkward records and a JSON-able metadata dict to a parquet file, atomically."""
    table = ak.to_arrow_table(events, extensionarray=False)
    meta = dict(table.schema.metadata or {})
    meta[_META_KEY] = json.dumps(metadata, sort_keys=True).encode()
    table = table.replace_schema_metadata(meta)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata of an event file without reading its events ({} if absent/unreadable)."""
    try:
        raw = (pq.read_schema(path).metadata or {}).get(_META_KEY)
    except (OSError, ValueError):
        return {}
    return dict(json.loads(raw)) if raw else {}


def read_events(path: str | os.PathLike[str]) -> tuple[ak.Array, dict[str, Any]]:
    """Read an event file written by :func:`write_events`: (records, metadata)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: event file not found")
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise InputError(f"{path}: not a readable parquet event file ({exc})") from exc
    raw = (table.schema.metadata or {}).get(_META_KEY)
    metadata = json.loads(raw) if raw else {}
    return ak.from_arrow(table), metadata
