"""The ONNX files of one trained model type, checked against the native models: one file per
fold (each scores the events its fold model did not train on), the fold average, the
fold-aware graph (a second input ``event`` routes each row to its fold's model) and the basf2
two-column variant. Nothing is written unless every file matches the native scores to the
tolerance at every checked mass and the averaged and basf2 graphs meet the contract."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from numpy.typing import NDArray

from mlsearch.export.contract import check_contract
from mlsearch.export.graph import average_models, set_metadata
from mlsearch.export.parity import ParityError, max_abs_difference, onnx_session
from mlsearch.export.variants import basf2_model, fold_aware_model
from mlsearch.io.atomic import atomic_path
from mlsearch.scoring import fold_of, score_by_fold, stack_inputs

__all__ = ["PARITY_TOLERANCE", "OnnxBundle", "bundle_parity", "onnx_file_name", "write_bundle"]

#: max |ONNX - native| score at any checked mass and row. Both run float32, but torch's and
#: ONNX Runtime's matrix products sum in different orders: on the ALP job's pNN (2 000 rows,
#: 119 masses) a correct export differed by 1.01e-5, so 1e-5 refused it; an export fault
#: (standardisation, input order, mass column) moves scores by > 1e-2
PARITY_TOLERANCE = 1e-4

#: a native fold model's score function: (features (n, k), mass (n,) [GeV]) -> (n,)
Native = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.floating]]


def onnx_file_name(kind: str, fold: int | None = None, variant: str = "") -> str:
    """<kind>.onnx (fold average), <kind>_fold<i>.onnx, <kind>_basf2.onnx or
    <kind>_foldaware.onnx.

    >>> onnx_file_name("pnn", 2), onnx_file_name("pbdt", variant="basf2")
    ('pnn_fold2.onnx', 'pbdt_basf2.onnx')
    """
    if variant:
        return f"{kind}_{variant}.onnx"
    return f"{kind}.onnx" if fold is None else f"{kind}_fold{fold}.onnx"


@dataclass(frozen=True)
class OnnxBundle:
    """The graphs of one model type: per fold, their average, fold-aware and basf2."""

    folds: tuple[onnx.ModelProto, ...]
    average: onnx.ModelProto
    fold_aware: onnx.ModelProto
    basf2: onnx.ModelProto

    @classmethod
    def of(cls, folds: Sequence[onnx.ModelProto]) -> OnnxBundle:
        def copies() -> list[onnx.ModelProto]:  # the graph builders take over their inputs
            return [onnx.ModelProto.FromString(p.SerializeToString()) for p in folds]

        average = average_models(copies())
        return cls(tuple(folds), average, fold_aware_model(copies()), basf2_model(average))


def _fold_mean(natives: Sequence[Native]) -> Native:
    """Native counterpart of the fold-averaged graph."""
    return lambda x, mass: np.mean([score(x, mass) for score in natives], axis=0)


def bundle_parity(
    bundle: OnnxBundle,
    natives: Sequence[Native],
    x: NDArray[np.float64],
    event: NDArray[np.int64],
    masses: list[float],
) -> dict[str, float]:
    """max |ONNX - native| per file (fold<i>, average, fold_aware, basf2) over the rows ``x``
    (event numbers ``event``) at ``masses`` [GeV]."""
    diffs = {
        f"fold{i}": max(max_abs_difference(native, onnx_session(proto), x, masses).values())
        for i, (proto, native) in enumerate(zip(bundle.folds, natives, strict=True))
    }
    mean = _fold_mean(natives)
    diffs["average"] = max(
        max_abs_difference(mean, onnx_session(bundle.average), x, masses).values()
    )
    aware, basf2 = onnx_session(bundle.fold_aware), onnx_session(bundle.basf2)
    fold = fold_of(event, len(natives))
    for m in masses:
        mass = np.full(len(x), m)
        own = score_by_fold(natives, x, mass, fold)
        got = aware.run(["score"], {"input": stack_inputs(x, mass), "event": event})[0]  # type: ignore[attr-defined]
        diffs["fold_aware"] = max(
            diffs.get("fold_aware", 0.0), float(np.max(np.abs(got.reshape(-1) - own)))
        )
        prob = basf2.run(["probabilities"], {"input": stack_inputs(x, mass)})[0]  # type: ignore[attr-defined]
        diffs["basf2"] = max(
            diffs.get("basf2", 0.0), float(np.max(np.abs(prob[:, 1] - mean(x, mass))))
        )
    return diffs


def write_bundle(
    bundle: OnnxBundle,
    kind: str,
    out_dir: Path,
    diffs: dict[str, float],
    masses: list[float],
    metadata: dict[str, Any],
) -> None:
    """Refuse a bundle off by more than PARITY_TOLERANCE or breaking the contract (ParityError,
    naming the model type); else write its files to ``out_dir`` (atomically), each with
    ``metadata`` and its own fold, rule and opset in metadata_props."""
    worst = max(diffs.values())
    if worst > PARITY_TOLERANCE:
        raise ParityError(
            f"{kind}: ONNX differs from native by {worst:.2e} "
            f"(> {PARITY_TOLERANCE:g}) at masses {masses}"
        )
    k = len(bundle.folds)
    files: list[tuple[onnx.ModelProto, str, dict[str, Any]]] = [
        (proto, onnx_file_name(kind, i),
         {"mlsearch.fold": i, "mlsearch.fold_rule": f"scores events with event % {k} == {i}"})
        for i, proto in enumerate(bundle.folds)
    ]  # fmt: skip
    files += [
        (bundle.average, onnx_file_name(kind), {"mlsearch.fold": "average"}),
        (bundle.basf2, onnx_file_name(kind, variant="basf2"),
         {"mlsearch.fold": "average", "mlsearch.output": "probabilities (N, 2): [bkg, signal]"}),
        (bundle.fold_aware, onnx_file_name(kind, variant="foldaware"),
         {"mlsearch.fold": "aware", "mlsearch.fold_rule": f"event % {k} == fold",
          "mlsearch.inputs": "input (N, n_features + 1) float32, event (N,) int64"}),
    ]  # fmt: skip
    base = {**metadata, "mlsearch.parity_max_abs_diff": worst, "mlsearch.parity_masses": masses}
    for proto, _, extra in files:
        opset = {o.domain or "ai.onnx": o.version for o in proto.opset_import}
        set_metadata(proto, {**base, **extra, "mlsearch.opset": opset})
    for proto, basf2_mode in ((bundle.average, False), (bundle.basf2, True)):
        problems = check_contract(proto, basf2=basf2_mode)
        if problems:
            raise ParityError(f"{kind}: exported model breaks the contract: {'; '.join(problems)}")
    for proto, name, _ in files:
        with atomic_path(out_dir / name) as tmp:
            onnx.save(proto, tmp)
