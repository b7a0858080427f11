"""Deployable variants of an exported model: basf2's two-column output, and a fold-aware
graph that scores each event with the fold model that never saw it."""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper, version_converter

from mlsearch.export.graph import combine_folds

__all__ = ["BASF2_MAX_IR", "BASF2_MAX_OPSET", "basf2_model", "fold_aware_model"]

#: what basf2's bundled onnxruntime is assumed to run (conservative: releases since 2024
#: ship onnxruntime >= 1.16, which reads IR 9 and ai.onnx opset 19)
BASF2_MAX_OPSET = 17
BASF2_MAX_IR = 8


def _default_opset(model: onnx.ModelProto) -> int:
    return max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)


def basf2_model(model: onnx.ModelProto) -> onnx.ModelProto:
    """Same model with output ``probabilities`` (N, 2) = [1 - score, score] (basf2's MVA
    ONNX expert reads the signal probability from column 1), at opset <= 17 and IR <= 8."""
    out = onnx.ModelProto.FromString(model.SerializeToString())
    if _default_opset(out) > BASF2_MAX_OPSET:
        out = version_converter.convert_version(out, BASF2_MAX_OPSET)
    graph = out.graph
    score = graph.output[0].name
    graph.initializer.append(helper.make_tensor("basf2_one", TensorProto.FLOAT, [1], [1.0]))
    graph.node.extend(
        [
            helper.make_node("Sub", ["basf2_one", score], ["basf2_background"], name="basf2_bkg"),
            helper.make_node(
                "Concat",
                ["basf2_background", score],
                ["probabilities"],
                axis=1,
                name="basf2_concat",
            ),
        ]
    )
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2]))
    out.ir_version = min(out.ir_version, BASF2_MAX_IR)
    onnx.checker.check_model(out)
    return out


def fold_aware_model(folds: list[onnx.ModelProto]) -> onnx.ModelProto:
    """Inputs ``input`` (N, n+1) float32 and ``event`` (N,) int64; output ``score`` (N, 1)
    from fold model ``event % k`` (trained without that event's fold).

    Every fold model is evaluated on all rows and the right column picked: k times the
    cost of one model, in exchange for unbiased scores of training-sample events.
    """
    k = len(folds)
    scores = [f"fold{i}_score" for i in range(k)]
    nodes = [
        helper.make_node("Concat", scores, ["fa_all"], axis=1, name="fa_concat"),
        helper.make_node("Mod", ["event", "fa_k"], ["fa_fold"], name="fa_mod"),
        helper.make_node("Unsqueeze", ["fa_fold", "fa_axes"], ["fa_index"], name="fa_unsqueeze"),
        helper.make_node(
            "GatherElements", ["fa_all", "fa_index"], ["score"], axis=1, name="fa_pick"
        ),
    ]
    inits = [
        helper.make_tensor("fa_k", TensorProto.INT64, [1], [k]),
        helper.make_tensor("fa_axes", TensorProto.INT64, [1], [1]),
    ]
    event = helper.make_tensor_value_info("event", TensorProto.INT64, ["N"])
    return combine_folds(folds, nodes, [event], inits, "fold_aware", min_opset=13)
