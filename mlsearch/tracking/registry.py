"""Model registry: one registered model per search and model type, ONNX flavour, aliases.

A new version gets the alias ``candidate`` (and ``champion`` when the model has none yet);
``mlsearch models promote NAME VERSION`` moves ``champion``. Versions carry tags that link
them to their parity report, mass grid, background-assignment strategy, feature list and the
digest of the feature table that trained them.
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlsearch.errors import MlsearchError
from mlsearch.tracking.store import import_mlflow

__all__ = [
    "ALIASES",
    "ModelVersionInfo",
    "download_run_artifacts",
    "list_models",
    "promote",
    "register_onnx",
    "registered_model_name",
    "resolve_model_uri",
]

ALIASES = ("champion", "candidate")
_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[\w-]+)|/(?P<version>\d+))$")


@dataclass(frozen=True)
class ModelVersionInfo:
    """One registered model version and where it came from."""

    name: str
    version: int
    run_id: str
    aliases: tuple[str, ...]
    tags: dict[str, str]


def registered_model_name(search: str, kind: str) -> str:
    """Registry name of a search's model type, e.g. ``zprime_invisible_pbdt``."""
    return f"{search}_{kind}"


def register_onnx(uri: str, name: str, onnx_path: Path, n_inputs: int, tags: dict[str, str]) -> int:
    """Log ``onnx_path`` with the ONNX flavour and a signature into the *active* run and
    register it as a new version of ``name``; returns the version number."""
    import numpy as np
    import onnx
    from mlflow.models import ModelSignature
    from mlflow.types.schema import Schema, TensorSpec

    mlflow = import_mlflow(uri)
    signature = ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(np.float32), (-1, n_inputs), "input")]),
        outputs=Schema([TensorSpec(np.dtype(np.float32), (-1, 1), "score")]),
    )
    with contextlib.redirect_stderr(io.StringIO()):  # mlflow prints "Created version ..."
        info = mlflow.onnx.log_model(
            onnx.load(str(onnx_path)),
            name="onnx_model",
            signature=signature,
            registered_model_name=name,
            pip_requirements=["onnxruntime", "numpy"],  # skip the slow requirement inference
        )
    version = int(info.registered_model_version)
    client = mlflow.MlflowClient(uri)
    for key, value in tags.items():
        client.set_model_version_tag(name, str(version), key, value)
    client.set_registered_model_alias(name, "candidate", str(version))
    if "champion" not in client.get_registered_model(name).aliases:
        client.set_registered_model_alias(name, "champion", str(version))
    return version


def _version_info(client: Any, name: str, version: str) -> ModelVersionInfo:
    mv = client.get_model_version(name, version)
    return ModelVersionInfo(name, int(mv.version), mv.run_id, tuple(mv.aliases), dict(mv.tags))


def list_models(uri: str) -> list[ModelVersionInfo]:
    """Every version of every registered model in the store, newest first per model."""
    mlflow = import_mlflow(uri)
    client = mlflow.MlflowClient(uri)
    out = []
    for model in client.search_registered_models():
        # version searches do not fill in aliases; the registered model has them
        by_version: dict[str, list[str]] = {}
        for alias, version in dict(model.aliases).items():
            by_version.setdefault(str(version), []).append(alias)
        versions = client.search_model_versions(f"name='{model.name}'")
        for mv in sorted(versions, key=lambda v: -int(v.version)):
            aliases = tuple(sorted(by_version.get(str(mv.version), [])))
            out.append(
                ModelVersionInfo(model.name, int(mv.version), mv.run_id, aliases, dict(mv.tags))
            )
    return out


def promote(uri: str, name: str, version: int, alias: str = "champion") -> ModelVersionInfo:
    """Point ``alias`` of model ``name`` at ``version``."""
    mlflow = import_mlflow(uri)
    client = mlflow.MlflowClient(uri)
    known = [m for m in list_models(uri) if m.name == name]
    if not known:
        names = sorted({m.name for m in list_models(uri)})
        raise MlsearchError(
            f"no registered model '{name}' in {uri} (known: {', '.join(names) or 'none'})"
        )
    if version not in {m.version for m in known}:
        versions = ", ".join(str(m.version) for m in known)
        raise MlsearchError(f"model '{name}' has no version {version} (versions: {versions})")
    client.set_registered_model_alias(name, alias, str(version))
    return _version_info(client, name, str(version))


def resolve_model_uri(uri: str, model_uri: str) -> ModelVersionInfo:
    """``models:/NAME@alias`` or ``models:/NAME/VERSION`` -> the registered version."""
    match = _URI.match(model_uri)
    if not match:
        raise MlsearchError(
            f"model URI '{model_uri}': expected models:/NAME@ALIAS or models:/NAME/VERSION"
        )
    mlflow = import_mlflow(uri)
    client = mlflow.MlflowClient(uri)
    name = match["name"]
    try:
        if match["alias"]:
            mv = client.get_model_version_by_alias(name, match["alias"])
            return _version_info(client, name, mv.version)
        return _version_info(client, name, match["version"])
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MlsearchError(f"model URI '{model_uri}' not found in {uri}: {first}") from None


def download_run_artifacts(uri: str, run_id: str, artifact_path: str, destination: Path) -> Path:
    """Copy a run's artifact folder to ``destination`` (created); returns the local path."""
    mlflow = import_mlflow(uri)
    destination.mkdir(parents=True, exist_ok=True)
    local = mlflow.artifacts.download_artifacts(
        run_id=run_id,
        artifact_path=artifact_path,
        dst_path=str(destination),
        tracking_uri=uri,
    )
    return Path(local)
