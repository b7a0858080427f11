"""ONNX graph helpers: fold averaging and metadata_props."""

from __future__ import annotations

from typing import Any

import onnx
from onnx import compose, helper

__all__ = ["average_models", "read_metadata", "set_metadata"]


def combine_folds(
    models: list[onnx.ModelProto],
    extra_nodes: list[onnx.NodeProto],
    extra_inputs: list[onnx.ValueInfoProto],
    extra_initializers: list[onnx.TensorProto],
    name: str,
    min_opset: int = 0,
) -> onnx.ModelProto:
    """One graph running every fold model on the shared 'input' (their outputs are
    'fold<i>_score'), followed by ``extra_nodes`` that must produce 'score'."""
    nodes: list[onnx.NodeProto] = []
    initializers = list(extra_initializers)
    opsets: dict[str, int] = {"": min_opset} if min_opset else {}
    for i, model in enumerate(models):
        graph = compose.add_prefix(model, f"fold{i}_").graph
        for node in graph.node:  # every fold reads the shared input
            node.input[:] = ["input" if n == f"fold{i}_input" else n for n in node.input]
        nodes.extend(graph.node)
        initializers.extend(graph.initializer)
        for op in model.opset_import:
            opsets[op.domain] = max(opsets.get(op.domain, 0), op.version)
    first = models[0].graph
    graph = helper.make_graph(
        nodes + extra_nodes,
        name,
        [first.input[0], *extra_inputs],
        [first.output[0]],
        initializers,
    )
    merged = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()],
        producer_name="mlsearch",
    )
    merged.ir_version = max(m.ir_version for m in models)
    onnx.checker.check_model(merged)
    return merged


def average_models(models: list[onnx.ModelProto]) -> onnx.ModelProto:
    """One graph that feeds the same 'input' to every model and outputs the mean 'score'.

    All models must have one input 'input' and one output 'score'.
    """
    scores = [f"fold{i}_score" for i in range(len(models))]
    mean = helper.make_node("Mean", scores, ["score"], name="fold_average")
    return combine_folds(models, [mean], [], [], "fold_average")


def set_metadata(model: onnx.ModelProto, metadata: dict[str, Any]) -> None:
    """Replace metadata_props with ``metadata`` (values stringified; lists/dicts as JSON)."""
    import json

    del model.metadata_props[:]
    for key, value in sorted(metadata.items()):
        text = value if isinstance(value, str) else json.dumps(value)
        model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=text))


def read_metadata(model: onnx.ModelProto) -> dict[str, str]:
    """metadata_props as a plain dict of strings."""
    return {p.key: p.value for p in model.metadata_props}
