"""Event files: awkward records in parquet, with the sample's metadata.

A sample is either one parquet file (its metadata in the file's key-value metadata; imports
and single-shot writes: :func:`write_events`) or, as the pipeline's stages write them, a
dataset directory ``<sample>.parquet/`` of ``part-NNNNN.parquet`` files, one per partition,
each written by whichever worker made it, and ``_mlsearch.json`` (the metadata, written
last: the directory is complete when it is there; :class:`EventDataset`). Readers take
either form.

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
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from mlsearch.errors import InputError
from mlsearch.io.atomic import atomic_path
from mlsearch.io.truth import TruthSample

__all__ = [
    "EventDataset",
    "EventWriter",
    "event_writer",
    "part_metadata",
    "part_sizes",
    "read_event_part",
    "read_events",
    "read_metadata",
    "truth_to_awkward",
    "write_event_part",
    "write_events",
]

_META_KEY = b"mlsearch"
_DATASET_META = "_mlsearch.json"
_PARTS = "_part_sizes"  # events per part, as committed


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
        _remove_dataset(Path(path))


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


def _remove_dataset(path: Path) -> None:
    """Remove a dataset directory at ``path`` (a file of the other form is replacing it)."""
    if path.is_dir():
        shutil.rmtree(path)


def _part_files(path: Path) -> list[Path]:
    return sorted(path.glob("part-*.parquet"))


def _rows(files: list[Path]) -> list[int]:
    """Events in each part file, from its footer."""
    return [pq.ParquetFile(p).metadata.num_rows for p in files]


def write_event_part(events: ak.Array, part: Path, metadata: dict[str, Any]) -> int:
    """Write one part of a dataset (``EventDataset.part_path``), atomically, with its own
    metadata (what the stage collects from it); returns its number of events. Workers call
    this: only the metadata travels back to the stage process."""
    table = ak.to_arrow_table(events, extensionarray=False)
    meta = dict(table.schema.metadata or {})
    meta[_META_KEY] = json.dumps(metadata, sort_keys=True).encode()
    with atomic_path(part) as tmp:
        pq.write_table(table.replace_schema_metadata(meta), tmp, compression="zstd")
    return len(table)


def part_metadata(part: Path) -> dict[str, Any] | None:
    """The metadata of a finished part file (None if it is not there or unreadable): a task
    whose part survived a killed run returns it instead of redoing the work."""
    try:
        return _file_metadata(part) if part.is_file() else None
    except (OSError, ValueError):
        return None


class EventDataset:
    """A sample written part by part into a staging directory next to ``path``, then
    committed as the dataset directory ``path`` in one rename.

    The staging directory is named after the cache ``key``: a run killed half way leaves
    its finished parts there, and the rerun with the same key reuses them (staging
    directories of other keys are stale and removed by :meth:`prepare`)."""

    def __init__(self, path: Path, key: str) -> None:
        self.path = Path(path)
        self.staging = self.path.parent / f".{self.path.name}.{key[:16]}.parts"

    def part_path(self, index: int) -> Path:
        return self.staging / f"part-{index:05d}.parquet"

    def prepare(self) -> EventDataset:
        """Create the staging directory; drop staging directories of other keys."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for stale in self.path.parent.glob(f".{self.path.name}.*"):
            # other keys' staging directories, and an old copy a kill left between renames
            if stale != self.staging and stale.suffix in (".parts", ".old"):
                shutil.rmtree(stale, ignore_errors=True)
        self.staging.mkdir(exist_ok=True)
        return self

    def commit(self, n_parts: int, metadata: dict[str, Any]) -> None:
        """Write the metadata and put the directory in place of ``path`` (a file or an older
        directory there is replaced; readers see the old or the new sample, whole)."""
        found = _part_files(self.staging)
        if [p.name for p in found] != [self.part_path(i).name for i in range(n_parts)]:
            raise InputError(
                f"{self.path}: {len(found)} parts written, {n_parts} expected (rerun the stage)"
            )
        sizes = _rows(found)
        meta_tmp = self.staging / f".{_DATASET_META}.tmp"
        meta_tmp.write_text(json.dumps({**metadata, _PARTS: sizes}, sort_keys=True))
        os.replace(meta_tmp, self.staging / _DATASET_META)
        old = self.path.parent / f".{self.path.name}.{uuid.uuid4().hex[:8]}.old"
        if self.path.exists():
            os.replace(self.path, old)
        os.replace(self.staging, self.path)
        if old.is_dir():
            shutil.rmtree(old)
        else:
            old.unlink(missing_ok=True)


def read_event_part(path: str | os.PathLike[str], index: int) -> ak.Array:
    """Part ``index`` of an event sample (a part file of a dataset directory, or a row group
    of a single file): reading a sample part by part keeps the memory bounded (the simulate
    and features stages, on whichever worker runs the part)."""
    path = Path(path)
    try:
        if path.is_dir():
            return ak.from_arrow(pq.read_table(_part_files(path)[index]))
        return ak.from_arrow(pq.ParquetFile(path).read_row_group(index))
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise InputError(f"{path}: not a readable parquet event file ({exc})") from exc


def part_sizes(path: str | os.PathLike[str]) -> list[int]:
    """Events per part (part file or row group) of an event sample."""
    path = Path(path)
    if path.is_dir():
        return _rows(_part_files(path))
    meta = pq.ParquetFile(path).metadata
    return [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]


def _file_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The mlsearch metadata: a dataset's ``_mlsearch.json``, or a file's key-value metadata
    (where both a whole-table write and an EventWriter put it)."""
    path = Path(path)
    if path.is_dir():
        meta = dict(json.loads((path / _DATASET_META).read_text()))
        # a part damaged or removed after the commit makes the sample stale (rebuilt), as a
        # truncated single file does: the recorded sizes are checked against the footers
        if meta.pop(_PARTS, None) != part_sizes(path):
            raise ValueError(f"{path}: parts do not match the sample's record")
        return meta
    raw = (pq.read_metadata(path).metadata or {}).get(_META_KEY)
    return dict(json.loads(raw)) if raw else {}


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata of an event sample without reading its events ({} if absent,
    incomplete or unreadable)."""
    try:
        return _file_metadata(path)
    except (OSError, ValueError):
        return {}


def read_events(path: str | os.PathLike[str]) -> tuple[ak.Array, dict[str, Any]]:
    """Read a whole event sample (file or dataset directory): (records, metadata)."""
    path = Path(path)
    if not (path.is_file() or (path / _DATASET_META).is_file()):
        raise InputError(f"{path}: event file not found")
    try:
        if path.is_dir():
            parts = [pq.read_table(p) for p in _part_files(path)]
            table = pa.concat_tables([t.replace_schema_metadata(None) for t in parts])
        else:
            table = pq.read_table(path)
        metadata = _file_metadata(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise InputError(f"{path}: not a readable parquet event file ({exc})") from exc
    return ak.from_arrow(table), metadata
