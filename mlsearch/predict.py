"""Standalone scoring of a feature table or a basf2 ntuple with an exported ONNX model.

Imports only numpy, onnxruntime, pyarrow and (for ROOT files) uproot: it runs where neither
torch, xgboost nor the rest of mlsearch's training stack is installed.

NaN rule: a row with a non-finite feature (NaN, +-inf) gets the score NaN and is counted;
models differ in how they treat missing values (trees route them, networks propagate them),
so no row is scored from a value the model was not trained on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlsearch.errors import InputError

__all__ = ["PredictResult", "basf2_branch_name", "predict"]

ID_COLUMNS = (
    "event",
    "__experiment__",
    "__run__",
    "__event__",
    "__candidate__",
    "__ncandidates__",
    "process",
    "label",
    "weight",
    "fold",
)
CHUNK = 262_144
_ESCAPES = {
    " ": "__sp",
    ",": "__cm",
    ":": "__cl",
    "(": "__bo",
    ")": "__bc",
    ".": "__pt",
    "+": "__pl",
    "-": "__mi",
    "=": "__eq",
    "<": "__st",
    ">": "__gt",
    "[": "__so",
    "]": "__sc",
    "*": "__mu",
    "/": "__sl",
}


def basf2_branch_name(variable: str) -> str:
    """The ROOT branch VariablesToNtuple writes for a basf2 variable string.

    >>> basf2_branch_name("daughter(0, p)")
    'daughter__bo0__cm__spp__bc'
    """
    escaped = "".join(_ESCAPES.get(c, c) for c in variable)
    return re.sub(r"[^A-Za-z0-9_]", "", escaped)


@dataclass(frozen=True)
class PredictResult:
    """What :func:`predict` wrote: rows, masses, rows with non-finite inputs."""

    output: Path
    rows: int
    masses: tuple[float, ...]
    non_finite_rows: int


def _read_columns(path: Path, tree: str | None) -> tuple[dict[str, Any], list[str]]:
    """Lazy column access: (loader by name, available names)."""
    if not path.is_file():
        raise InputError(f"{path}: input file not found")
    if path.suffix == ".root":
        import uproot

        try:
            file = uproot.open(path)
            names = [k.split(";")[0] for k in file.keys()]
            ttree = file[tree or ("ntuple" if "ntuple" in names else names[0])]
        except Exception as exc:  # uproot raises several types for bad files
            raise InputError(f"{path}: not a readable ROOT ntuple ({exc})") from exc
        available = list(ttree.keys())
        return {"load": lambda cols: ttree.arrays(cols, library="np")}, available
    import pyarrow.parquet as pq

    try:
        pfile = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for bad files
        raise InputError(f"{path}: not a readable parquet file ({exc})") from exc
    available = pfile.schema_arrow.names
    return {
        "load": lambda cols: {c: pfile.read(columns=[c]).column(0).to_numpy() for c in cols}
    }, available


def _session(model_path: Path) -> tuple[Any, dict[str, str], str, bool]:
    import onnx
    import onnxruntime as ort

    if not model_path.is_file():
        raise InputError(f"{model_path}: ONNX model not found")
    try:
        model = onnx.load(str(model_path))
    except Exception as exc:
        raise InputError(f"{model_path}: not an ONNX file ({type(exc).__name__})") from exc
    meta = {p.key: p.value for p in model.metadata_props}
    if "mlsearch.features" not in meta:
        raise InputError(f"{model_path}: no mlsearch.features in metadata_props")
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    output = session.get_outputs()[0].name
    fold_aware = len(session.get_inputs()) == 2
    return session, meta, output, fold_aware


def predict(
    model_path: Path,
    input_path: Path,
    masses: list[float],
    output: Path,
    tree: str | None = None,
    extrapolate: bool = False,
) -> PredictResult:
    """Score every row at every mass hypothesis [GeV]; write ids + score_m<mass> columns.

    A mass outside the model's trained range (metadata ``mlsearch.mass_range``) is an error
    unless ``extrapolate``: a parametrised model has seen no signal there."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not masses:
        raise InputError("give at least one --mass [GeV]")
    session, meta, out_name, fold_aware = _session(model_path)
    features = json.loads(meta["mlsearch.features"])
    if "mlsearch.mass_range" in meta and not extrapolate:
        low, high = json.loads(meta["mlsearch.mass_range"])
        outside = [m for m in masses if not low <= m <= high]
        if outside:
            raise InputError(
                f"{model_path}: mass {', '.join(f'{m:g}' for m in outside)} GeV outside the "
                f"trained range {low:g}-{high:g} GeV (--extrapolate scores it anyway)"
            )
    reader, available = _read_columns(input_path, tree)
    resolved, missing = [], []
    for name in features:
        for candidate in (name, basf2_branch_name(name)):
            if candidate in available:
                resolved.append(candidate)
                break
        else:
            missing.append(name)
    if missing:
        raise InputError(
            f"{input_path}: missing feature columns: {', '.join(missing)} "
            f"(the model needs {len(features)}; file has {len(available)} columns)"
        )
    event_col = next((c for c in ("event", "__event__") if c in available), None)
    if fold_aware and event_col is None:
        raise InputError(
            f"{input_path}: the fold-aware model needs an 'event' or '__event__' column"
        )
    data = reader["load"](resolved)
    x = np.column_stack([np.asarray(data[c], dtype=np.float64) for c in resolved])
    ids = [c for c in ID_COLUMNS if c in available]
    id_data = reader["load"](ids) if ids else {}
    events = (
        np.asarray(reader["load"]([event_col])[event_col], dtype=np.int64)
        if fold_aware and event_col
        else None
    )
    finite = np.isfinite(x).all(axis=1)
    columns: dict[str, Any] = {c: np.asarray(id_data[c]) for c in ids}
    for m in masses:
        score = np.full(len(x), np.nan, dtype=np.float32)
        rows = np.flatnonzero(finite)
        for start in range(0, len(rows), CHUNK):
            idx = rows[start : start + CHUNK]
            inp = np.empty((len(idx), x.shape[1] + 1), dtype=np.float32)
            inp[:, :-1] = x[idx]
            inp[:, -1] = m
            feeds = {"input": inp}
            if events is not None:
                feeds["event"] = events[idx]
            out = session.run([out_name], feeds)[0]
            score[idx] = out[:, -1]  # (N, 1) score or basf2's (N, 2): signal is last
        columns[f"score_m{m:g}"] = score
    table = pa.table(columns)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".tmp-{output.name}")
    pq.write_table(table, tmp)
    tmp.replace(output)
    return PredictResult(output, len(x), tuple(masses), int((~finite).sum()))
