"""Event files: awkward records in parquet, with the sample's metadata in the schema.

Truth files (generate) hold per event ``event``, ``weight`` [fb, i.e. events per fb^-1] and a
variable-length list ``particles`` of {pdg, E, px, py, pz} [GeV] in the lab frame and the
production vertex {vx, vy, vz} [cm] (0 for prompt particles).
Reconstructed files (simulate) hold ``event``, ``weight``, ``tracks`` and ``clusters`` lists
with basf2 variable names (see docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pyarrow.parquet as pq

from mlsearch.errors import InputError
from mlsearch.io.atomic import atomic_path
from mlsearch.io.truth import TruthSample

__all__ = [
    "EventWriter",
    "event_writer",
    "part_sizes",
    "read_event_part",
    "read_events",
    "read_metadata",
    "truth_to_awkward",
    "write_events",
]

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


class EventWriter:
    """Appends parts of an event file (each a parquet row group); :func:`event_writer`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.metadata: dict[str, Any] = {}
        self.n_events = 0
        self._writer: pq.ParquetWriter | None = None

    def write(self, events: ak.Array) -> None:
        table = ak.to_arrow_table(events, extensionarray=False)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        # one row group per part: readers stream the file part by part
        self._writer.write_table(table, row_group_size=max(len(table), 1))
        self.n_events += len(table)

    def close(self) -> None:
        if self._writer is None:
            raise InputError(f"{self.path}: no events written")
        # file-level key-value metadata can be added last (the cross section of a sample
        # is known only when its last part is written)
        self._writer.add_key_value_metadata(
            {_META_KEY.decode(): json.dumps(self.metadata, sort_keys=True)}
        )
        self._writer.close()
        self._writer = None

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


@contextlib.contextmanager
def event_writer(path: str | os.PathLike[str]) -> Iterator[EventWriter]:
    """Write an event file part by part with bounded memory; set ``writer.metadata`` before
    the block ends. Atomic: the file appears complete or not at all."""
    with atomic_path(path) as tmp:
        writer = EventWriter(tmp)
        try:
            yield writer
        except BaseException:
            writer.abort()
            raise
        writer.close()


def read_event_part(path: str | os.PathLike[str], index: int) -> ak.Array:
    """Part ``index`` (a row group) of an event file: reading a file part by part keeps the
    memory bounded (the simulate and features stages, on whichever worker runs the part)."""
    path = Path(path)
    try:
        return ak.from_arrow(pq.ParquetFile(path).read_row_group(index))
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise InputError(f"{path}: not a readable parquet event file ({exc})") from exc


def part_sizes(path: str | os.PathLike[str]) -> list[int]:
    """Events per part (row group) of an event file."""
    meta = pq.ParquetFile(path).metadata
    return [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]


def _file_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The mlsearch metadata from the file's key-value metadata (where both a whole-table
    write and an EventWriter put it)."""
    raw = (pq.read_metadata(path).metadata or {}).get(_META_KEY)
    return dict(json.loads(raw)) if raw else {}


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata of an event file without reading its events ({} if absent/unreadable)."""
    try:
        return _file_metadata(path)
    except (OSError, ValueError):
        return {}


def read_events(path: str | os.PathLike[str]) -> tuple[ak.Array, dict[str, Any]]:
    """Read an event file written by :func:`write_events`: (records, metadata)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: event file not found")
    try:
        table = pq.read_table(path)
        metadata = _file_metadata(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise InputError(f"{path}: not a readable parquet event file ({exc})") from exc
    return ak.from_arrow(table), metadata
