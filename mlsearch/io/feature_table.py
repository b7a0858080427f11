"""The feature table: a parquet file of one row per selected event (and mass hypothesis)
with its metadata, a typed and versioned record of how it was made.

Columns: the builder's features, spectators, ``mass_hypothesis`` [GeV], ``label`` (1 signal,
0 background), ``weight`` (events per fb^-1), ``fold``, ``event``, ``process``. Metadata
(:class:`FeatureTableMeta`, stored as JSON under the key ``mlsearch`` and written last):
see docs/architecture.md. A table of another schema version is refused with the command
that rebuilds it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, ValidationError

from mlsearch.errors import InputError

__all__ = [
    "SCHEMA_VERSION",
    "FeatureTableMeta",
    "SampleInfo",
    "background_rows",
    "check_finite",
    "read_feature_table",
]

SCHEMA_VERSION = 1


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SampleInfo(_Frozen):
    """One generated (or imported) sample in the table."""

    process: str
    is_signal: bool
    mass: float | None = None  # [GeV], signals
    coupling: float | None = None  # the reference coupling of a signal sample
    n_generated: int
    n_selected: int
    cross_section_fb: float  # sigma (x B for signals) of the sample [fb]
    cross_section_err_fb: float = 0.0


class FeatureTableMeta(_Frozen):
    """How a feature table was made and how to read it."""

    schema_version: Literal[1] = 1  # SCHEMA_VERSION
    cache_key: str = ""
    search: str
    features: list[str]
    units: dict[str, str]
    search_variable: str
    #: how the search variable is read at a mass hypothesis (selection.windows.search_values)
    search_rule: dict[str, Any]
    search_unit: Literal["GeV", "GeV^2"]
    spectators: list[str] = []
    mass_grid: list[float]
    samples: dict[str, SampleInfo]
    n_folds: int
    mass_assignment: str
    #: every background event is in the table this many times (the 'all' mass assignment)
    background_copies: int = 1

    def signal_sample(self, mass: float) -> tuple[str, SampleInfo] | None:
        """(name, info) of the signal sample generated at ``mass`` [GeV], if any."""
        return next(
            ((k, v) for k, v in self.samples.items() if v.is_signal and v.mass == mass), None
        )

    @property
    def background_process(self) -> dict[str, str]:
        """Background sample name -> physics process (the samples of one process are one
        background of the limits)."""
        return {k: v.process for k, v in self.samples.items() if not v.is_signal}

    def physics_process(self, sample: pd.Series) -> NDArray[np.object_]:
        """The physics process of each background row (by its ``process`` column, the
        sample name; a name the table does not list stays as it is)."""
        return sample.map(self.background_process).fillna(sample).to_numpy()


def read_feature_table(path: Path) -> tuple[pd.DataFrame, FeatureTableMeta]:
    """The feature table and its metadata; a missing, unreadable or old table is an
    InputError that names the file and what to do."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
        raw = (pq.read_metadata(path).metadata or {}).get(b"mlsearch")
    except FileNotFoundError:
        raise InputError(f"{path}: feature table not found (run the features stage)") from None
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"{path}: not a readable feature table ({exc})") from exc
    rerun = "rebuild it with `mlsearch features CONFIG`"
    try:
        meta = json.loads(raw) if raw else {}
    except ValueError:
        raise InputError(f"{path}: the table's metadata is not JSON; {rerun}") from None
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION:
        raise InputError(
            f"{path}: feature table of schema version {version or 'none (before versions)'}, "
            f"this mlsearch reads version {SCHEMA_VERSION}; {rerun}"
        )
    try:
        return table.to_pandas(), FeatureTableMeta.model_validate(meta)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3]
        )
        raise InputError(f"{path}: invalid table metadata ({problems}); {rerun}") from None


def check_finite(df: pd.DataFrame, features: list[str], path: Any) -> None:
    """A NaN or infinite feature is an error naming the file, the columns and the count: the
    classifiers have no rule for it, and a silent fill would bias the scores."""
    values = df[features].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        cols = [f"{f} ({int(n)} rows)" for f, n in zip(features, bad.sum(axis=0), strict=True) if n]
        raise InputError(f"{path}: non-finite feature values: {', '.join(cols)}")


def background_rows(table: pd.DataFrame, meta: FeatureTableMeta) -> pd.DataFrame:
    """The background rows, one per MC event with its full weight: the 'all' mass assignment
    holds every event once per mass hypothesis (weights divided); counted as rows, its MC
    statistics would look sqrt(copies) better than they are."""
    bkg = table[table["label"] == 0]
    if meta.background_copies <= 1:
        return bkg
    one = bkg[bkg["mass_hypothesis"] == meta.mass_grid[0]].copy()
    one["weight"] = one["weight"] * meta.background_copies
    return one
