"""MLflow: the store, runs with lineage, and the model registry.

mlflow is imported lazily inside these functions (it costs ~2 s to import).
"""

from mlsearch.tracking.registry import (
    ALIASES,
    list_models,
    promote,
    register_onnx,
    registered_model_name,
    resolve_model_uri,
)
from mlsearch.tracking.runs import (
    flatten,
    git_commit,
    log_dataset,
    log_per_mass,
    mlflow_run,
    nested_run,
)
from mlsearch.tracking.store import check_store, tracking_uri

__all__ = [
    "ALIASES",
    "check_store",
    "flatten",
    "git_commit",
    "list_models",
    "log_dataset",
    "log_per_mass",
    "mlflow_run",
    "nested_run",
    "promote",
    "register_onnx",
    "registered_model_name",
    "resolve_model_uri",
    "tracking_uri",
]
