"""The ONNX contract (docs/onnx.md) and basf2's extra constraints, as a list of problems.

Imports only onnx, numpy and onnxruntime: usable where mlsearch's training stack is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx

from mlsearch.export.variants import BASF2_MAX_IR, BASF2_MAX_OPSET

__all__ = ["REQUIRED_METADATA", "check_contract", "validate_onnx_file"]

REQUIRED_METADATA = (
    "mlsearch.features",
    "mlsearch.units",
    "mlsearch.mass_column",
    "mlsearch.mass_grid",
    "mlsearch.mass_range",
    "mlsearch.mass_assignment",
    "mlsearch.config_hash",
    "mlsearch.mlflow_run_id",
    "mlsearch.git_commit",
    "mlsearch.version",
    "mlsearch.opset",
)
_BASF2_DOMAINS = {"": BASF2_MAX_OPSET, "ai.onnx": BASF2_MAX_OPSET, "ai.onnx.ml": 3}


def _dims(value_info: onnx.ValueInfoProto) -> list[int | str]:
    shape = value_info.type.tensor_type.shape
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in shape.dim]


def check_contract(model: onnx.ModelProto, basf2: bool = False) -> list[str]:
    """Everything that keeps ``model`` from the contract; empty when it complies."""
    problems: list[str] = []
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        return [f"not a valid ONNX model: {str(exc).splitlines()[0]}"]
    meta = {p.key: p.value for p in model.metadata_props}
    missing = [k for k in REQUIRED_METADATA if k not in meta]
    if missing:
        problems.append(f"metadata_props missing: {', '.join(missing)}")
    features = json.loads(meta["mlsearch.features"]) if "mlsearch.features" in meta else None
    graph = model.graph
    inputs = [i for i in graph.input if i.name not in {t.name for t in graph.initializer}]
    if len(inputs) != 1:
        problems.append(
            f"expected one input, found {len(inputs)}: {', '.join(i.name for i in inputs)}"
        )
    else:
        inp = inputs[0]
        if inp.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
            problems.append(f"input '{inp.name}' must be float32")
        dims = _dims(inp)
        if len(dims) != 2:
            problems.append(f"input '{inp.name}' must have shape (N, n_features + 1), got {dims}")
        else:
            if isinstance(dims[0], int) and dims[0] > 0:
                problems.append(f"input batch dimension is fixed to {dims[0]}; must be dynamic")
            if features is not None and dims[1] != len(features) + 1:
                problems.append(
                    f"input has {dims[1]} columns; metadata lists {len(features)} "
                    "features + the mass = "
                    f"{len(features) + 1}"
                )
    want_name, want_cols = ("probabilities", 2) if basf2 else ("score", 1)
    outputs = list(graph.output)
    if len(outputs) != 1 or outputs[0].name != want_name:
        problems.append(
            f"expected one output '{want_name}', found "
            f"{', '.join(o.name for o in outputs) or 'none'}"
        )
    elif _dims(outputs[0])[-1:] != [want_cols]:
        problems.append(
            f"output '{want_name}' must have shape (N, {want_cols}), got {_dims(outputs[0])}"
        )
    if basf2:
        problems += _basf2_problems(model)
    if not problems:
        problems += _run_problems(model, want_name, want_cols)
    return problems


def _basf2_problems(model: onnx.ModelProto) -> list[str]:
    problems = []
    if model.ir_version > BASF2_MAX_IR:
        problems.append(f"IR version {model.ir_version} > {BASF2_MAX_IR} (basf2's onnxruntime)")
    for op in model.opset_import:
        limit = _BASF2_DOMAINS.get(op.domain)
        if limit is None:
            problems.append(f"operator domain '{op.domain}' is not available in basf2")
        elif op.version > limit:
            problems.append(f"opset {op.domain or 'ai.onnx'} {op.version} > {limit} (basf2)")
    if model.functions:
        problems.append("model-local functions are not supported by basf2's onnxruntime")
    versions = {op.domain: op.version for op in model.opset_import}
    for node in model.graph.node:
        domain = node.domain if node.domain != "ai.onnx" else ""
        if domain in _BASF2_DOMAINS and not onnx.defs.has(node.op_type, domain):
            problems.append(f"operator {node.op_type} ({domain or 'ai.onnx'}) is not standard")
        elif domain in _BASF2_DOMAINS:
            since = onnx.defs.get_schema(node.op_type, versions.get(domain, 1), domain)
            if since.since_version > _BASF2_DOMAINS[domain]:
                problems.append(f"operator {node.op_type} needs opset {since.since_version}")
    return sorted(set(problems))


def _run_problems(model: onnx.ModelProto, output: str, cols: int) -> list[str]:
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(
            model.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        n_in = session.get_inputs()[0].shape[1]
        x = np.zeros((3, int(n_in)), dtype=np.float32)
        x[:, -1] = 1.0
        out = session.run([output], {session.get_inputs()[0].name: x})[0]
    except Exception as exc:  # any runtime failure is a contract problem to report
        return [f"onnxruntime cannot run it: {str(exc).splitlines()[0]}"]
    if out.shape != (3, cols):
        return [f"onnxruntime returned shape {out.shape} for 3 rows, expected (3, {cols})"]
    if not np.isfinite(out).all() or (out < 0).any() or (out > 1).any():
        return ["scores are not probabilities in [0, 1]"]
    return []


def validate_onnx_file(path: Path, basf2: bool = False) -> list[str]:
    """:func:`check_contract` for a file; a missing or unreadable file is one problem."""
    if not path.is_file():
        return [f"{path}: file not found"]
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # protobuf decode errors have no common type
        return [f"{path}: not an ONNX file ({type(exc).__name__})"]
    return check_contract(model, basf2)
