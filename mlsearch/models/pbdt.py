"""XGBoost parametrised BDT: the mass hypothesis is one more input feature."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from numpy.typing import NDArray

from mlsearch.config import PBDTConfig
from mlsearch.models.base import stack_inputs

__all__ = ["PBDT"]


class PBDT:
    """Gradient-boosted trees (hist) on (features, mass)."""

    kind = "pbdt"

    def __init__(self, params: PBDTConfig, seed: int) -> None:
        import xgboost as xgb

        self.params = params
        self.history: dict[str, list[float]] = {}
        self.model = xgb.XGBClassifier(
            n_estimators=params.n_estimators,
            max_depth=params.max_depth,
            learning_rate=params.learning_rate,
            tree_method="hist",
            n_jobs=params.n_jobs,
            random_state=seed,
            eval_metric="logloss",
        )

    def fit(
        self,
        features: NDArray[np.float64],
        mass: NDArray[np.float64],
        label: NDArray[np.integer],
        weight: NDArray[np.float64],
    ) -> None:
        x = stack_inputs(features, mass)
        self.model.fit(
            x,
            label,
            sample_weight=weight,
            eval_set=[(x, label)],
            sample_weight_eval_set=[weight],
            verbose=False,
        )
        self.history["train_logloss"] = list(self.model.evals_result()["validation_0"]["logloss"])

    def score(
        self, features: NDArray[np.float64], mass: NDArray[np.float64]
    ) -> NDArray[np.float32]:
        booster = self.model.get_booster()
        out = booster.inplace_predict(stack_inputs(features, mass))
        return np.asarray(out, dtype=np.float32).reshape(-1)

    def save(self, path: Path) -> None:
        self.model.save_model(str(path))

    def load(self, path: Path) -> None:
        self.model.load_model(str(path))

    def to_onnx(self, n_features: int) -> onnx.ModelProto:
        from onnx import helper
        from onnxmltools import convert_xgboost
        from onnxmltools.convert.common.data_types import FloatTensorType

        model = convert_xgboost(
            self.model, initial_types=[("input", FloatTensorType([None, n_features + 1]))]
        )
        graph = model.graph
        if not any(op.domain in ("", "ai.onnx") for op in model.opset_import):
            model.opset_import.append(helper.make_opsetid("", 15))  # for the Slice below
        prob = next(o.name for o in graph.output if o.name.startswith("prob"))
        # keep only P(signal) as 'score' (N, 1): the design contract
        starts = helper.make_tensor("score_start", onnx.TensorProto.INT64, [1], [1])
        ends = helper.make_tensor("score_end", onnx.TensorProto.INT64, [1], [2])
        axes = helper.make_tensor("score_axis", onnx.TensorProto.INT64, [1], [1])
        graph.initializer.extend([starts, ends, axes])
        graph.node.append(
            helper.make_node(
                "Slice",
                [prob, "score_start", "score_end", "score_axis"],
                ["score"],
                name="select_signal",
            )
        )
        while len(graph.output):
            graph.output.pop()
        graph.output.append(
            helper.make_tensor_value_info("score", onnx.TensorProto.FLOAT, ["N", 1])
        )
        return model
