"""Event samples written part by part (each part by whichever worker made it) and committed
as a dataset directory: readers take it like a single file, a damaged part makes the sample
stale, and the parts of a killed run are reused by the rerun."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest

from mlsearch.errors import InputError
from mlsearch.io.events import (
    EventDataset,
    part_metadata,
    part_sizes,
    read_event_part,
    read_events,
    read_metadata,
    write_event_part,
    write_events,
)


def _events(n: int, first: int) -> ak.Array:
    return ak.zip({"event": np.arange(first, first + n), "weight": np.full(n, 0.5)})


def test_a_committed_dataset_reads_like_one_file(tmp_path: Path) -> None:
    path = tmp_path / "mumu.parquet"
    ds = EventDataset(path, "k" * 32).prepare()
    for i, (n, first) in enumerate([(3, 0), (2, 3)]):
        assert write_event_part(_events(n, first), ds.part_path(i), {"n": n}) == n
    assert read_metadata(path) == {}  # nothing there before the commit
    ds.commit(2, {"cache_key": "abc", "n_events": 5})
    assert read_metadata(path) == {"cache_key": "abc", "n_events": 5}
    assert part_sizes(path) == [3, 2]
    assert read_event_part(path, 1)["event"].tolist() == [3, 4]
    events, meta = read_events(path)
    assert events["event"].tolist() == [0, 1, 2, 3, 4] and meta["n_events"] == 5
    assert not ds.staging.exists()
    # replaced by a single file (an import) and back: readers see one or the other, whole
    write_events(_events(4, 0), path, {"cache_key": "file"})
    assert path.is_file() and read_metadata(path) == {"cache_key": "file"}
    ds2 = EventDataset(path, "m" * 32).prepare()
    write_event_part(_events(1, 0), ds2.part_path(0), {"n": 1})
    ds2.commit(1, {"cache_key": "again"})
    assert path.is_dir() and read_metadata(path) == {"cache_key": "again"}


def test_missing_or_damaged_parts(tmp_path: Path) -> None:
    path = tmp_path / "tautau.parquet"
    ds = EventDataset(path, "a" * 32).prepare()
    write_event_part(_events(3, 0), ds.part_path(0), {"n": 3})
    with pytest.raises(InputError, match="1 parts written, 2 expected"):
        ds.commit(2, {"cache_key": "x"})
    ds.commit(1, {"cache_key": "x"})
    part = path / "part-00000.parquet"
    part.write_bytes(part.read_bytes()[:20])  # truncated after the commit
    assert read_metadata(path) == {}  # stale: the stage rebuilds it


def test_the_parts_of_a_killed_run_are_reused_and_other_keys_dropped(tmp_path: Path) -> None:
    path = tmp_path / "ee.parquet"
    old = EventDataset(path, "b" * 32).prepare()
    write_event_part(_events(2, 0), old.part_path(0), {"n": 2, "cross_section_fb": 7.0})
    # the same key again (the rerun): the finished part is there with its summary
    again = EventDataset(path, "b" * 32).prepare()
    assert part_metadata(again.part_path(0)) == {"n": 2, "cross_section_fb": 7.0}
    assert part_metadata(again.part_path(1)) is None
    # another key (changed settings): the old parts are not reused
    other = EventDataset(path, "c" * 32).prepare()
    assert not old.staging.exists() and part_metadata(other.part_path(0)) is None
