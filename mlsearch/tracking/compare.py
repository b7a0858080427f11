"""Two models side by side, mass by mass: what `mlsearch models compare A B` reads.

A model is named as a user names it: a registered version (``NAME@ALIAS``,
``NAME/VERSION``, with or without ``models:/``) or the id of its training run. Its per-mass
results are the tables its runs logged (:func:`~mlsearch.tracking.runs.log_per_mass`): the
training run's ``per_mass/auc.json`` and ``per_mass/evaluation.json``, and the newest
finished limits run that used the model (tag ``mlsearch.model_run_id``):
``per_mass/limits.json``.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mlsearch.errors import MlsearchError
from mlsearch.tracking.registry import resolve_model_uri
from mlsearch.tracking.store import import_mlflow

__all__ = ["ComparedModel", "ModelComparison", "compare_models", "resolve_model"]

_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_NAME = re.compile(r"^(?:models:/)?(?P<name>[^/@\s]+)(?P<rest>@[\w-]+|/\d+)$")
#: the per-mass tables a model's runs hold, in the order their columns are shown
TABLES = ("auc", "evaluation")


@dataclass(frozen=True)
class ComparedModel:
    """One side of a comparison: how the user named it and the runs its numbers come from."""

    label: str
    run_id: str
    limits_run_id: str | None
    table: pd.DataFrame  # one row per mass [GeV], per-mass results as columns


@dataclass(frozen=True)
class ModelComparison:
    """Two models' per-mass results on the union of their mass grids (NaN where a model has
    no value at that mass)."""

    a: ComparedModel
    b: ComparedModel
    table: pd.DataFrame  # mass [GeV], then <quantity>_a, <quantity>_b for every quantity

    @property
    def quantities(self) -> list[str]:
        """The per-mass quantities both models have, in table order."""
        return [
            c[:-2] for c in self.table.columns if c.endswith("_a") and f"{c[:-2]}_b" in self.table
        ]


def resolve_model(uri: str, name: str) -> tuple[str, str]:
    """(label, training run id) of a registered version or a run id."""
    mlflow = import_mlflow(uri)
    client = mlflow.MlflowClient(uri)
    if _RUN_ID.match(name):
        try:
            run = client.get_run(name)
        except Exception:
            raise MlsearchError(f"no run {name} in {uri}") from None
        return f"{run.info.run_name} ({name[:8]})", name
    match = _NAME.match(name)
    if not match:
        raise MlsearchError(
            f"model '{name}': expected NAME@ALIAS, NAME/VERSION (optionally models:/...) "
            "or a 32-character run id"
        )
    version = resolve_model_uri(uri, f"models:/{match['name']}{match['rest']}")
    return f"{version.name} v{version.version}", version.run_id


def _load_table(client: Any, run_id: str, path: str) -> pd.DataFrame | None:
    """A run's ``mlflow.log_table`` JSON as a DataFrame, None if the run has none."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = client.download_artifacts(run_id, path, tmp)
        except Exception:
            return None
        data = json.loads(Path(local).read_text())
    return pd.DataFrame(data["data"], columns=data["columns"])


def _limits_run(client: Any, run: Any, run_id: str) -> str | None:
    runs = client.search_runs(
        [run.info.experiment_id],
        f"tags.`mlsearch.model_run_id` = '{run_id}' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0].info.run_id if runs else None


def _model(uri: str, name: str) -> ComparedModel:
    label, run_id = resolve_model(uri, name)
    client = import_mlflow(uri).MlflowClient(uri)
    run = client.get_run(run_id)
    parts = [_load_table(client, run_id, f"per_mass/{n}.json") for n in TABLES]
    limits_id = _limits_run(client, run, run_id)
    if limits_id is not None:
        parts.append(_load_table(client, limits_id, "per_mass/limits.json"))
    frames = [p for p in parts if p is not None and len(p)]
    if not frames:
        raise MlsearchError(
            f"model '{name}' (run {run_id}): its runs hold no per-mass tables "
            "(per_mass/*.json); retrain it with this version of mlsearch to log them"
        )
    table = frames[0]
    for frame in frames[1:]:
        extra = [c for c in frame.columns if c not in table.columns or c == "mass"]
        table = table.merge(frame[extra], on="mass", how="outer")
    return ComparedModel(label, run_id, limits_id, table.sort_values("mass", ignore_index=True))


def compare_models(uri: str, a: str, b: str) -> ModelComparison:
    """The per-mass results of models ``a`` and ``b`` (see the module docstring for how a
    model is named and where its numbers come from), joined on the mass [GeV]."""
    left, right = _model(uri, a), _model(uri, b)
    table = (
        left.table.add_suffix("_a")
        .rename(columns={"mass_a": "mass"})
        .merge(
            right.table.add_suffix("_b").rename(columns={"mass_b": "mass"}), on="mass", how="outer"
        )
    )
    return ModelComparison(left, right, table.sort_values("mass", ignore_index=True))
