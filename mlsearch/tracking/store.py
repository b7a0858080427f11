"""Which MLflow store a config writes to, and a check that it works before any work starts.

Default: ``sqlite:///<workdir>/mlruns/mlflow.db`` with artifacts in ``<workdir>/mlruns/artifacts``.
``mlflow.tracking_uri`` in the config, else ``MLFLOW_TRACKING_URI``, selects any other store
(``postgresql+psycopg2://...``, ``http://host:port``, ...).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlsearch._quiet import quiet_loggers
from mlsearch.config import Config
from mlsearch.errors import MlsearchError

__all__ = [
    "artifact_root",
    "check_store",
    "check_uri",
    "import_mlflow",
    "store_location",
    "tracking_uri",
]


def store_location(root: Path, configured: str | None = None) -> tuple[str, str | None]:
    """(tracking URI, artifact root of new experiments) for a workdir: ``configured``, else
    ``MLFLOW_TRACKING_URI`` (the server decides the artifacts), else the local store under
    ``<root>/mlruns``."""
    uri = configured or os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        return uri, None
    mlruns = (root / "mlruns").resolve()
    return f"sqlite:///{mlruns / 'mlflow.db'}", (mlruns / "artifacts").as_uri()


def tracking_uri(config: Config) -> str:
    """The tracking URI this config writes to."""
    return store_location(config.root, config.mlflow.tracking_uri)[0]


def artifact_root(config: Config) -> str | None:
    """Artifact location for new experiments of the default store (None: the server decides)."""
    return store_location(config.root, config.mlflow.tracking_uri)[1]


def import_mlflow(uri: str) -> Any:
    """Import mlflow quietly, fail fast on unreachable servers, and point it at ``uri``."""
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    # the client retries an unreachable server for minutes by default
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow

    quiet_loggers()
    # set_tracking_uri also exports MLFLOW_TRACKING_URI; left there, the next config in the
    # same process (a benchmark over several searches) would read it as the user's choice
    # and write into this store: keep the environment as the user set it
    before = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    if before is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = before
    return mlflow


def _check_writable(uri: str, path: Path) -> None:
    """``path`` (a file that may not exist yet) can be created or written."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MlsearchError(
            f"MLflow store {uri}: cannot create {folder} ({exc.strerror})"
        ) from None
    if path.exists() and not os.access(path, os.W_OK):
        raise MlsearchError(f"MLflow store {uri}: {path} is read-only")
    if not os.access(folder, os.W_OK):
        raise MlsearchError(f"MLflow store {uri}: {folder} is read-only")


def _is_creation_race(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(k in text for k in ("unique", "already exists", "duplicate", "locked", "migration"))


@contextlib.contextmanager
def _init_lock(uri: str) -> Iterator[None]:
    """Serialise the first contact (table creation, migrations) with a sqlite store across
    processes on this machine; other stores rely on the retry above."""
    if not uri.startswith("sqlite:///"):
        yield
        return
    lock_path = Path(uri.removeprefix("sqlite:///") + ".init-lock")
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def check_store(config: Config) -> str:
    """Make sure the config's tracking store is reachable and writable; returns its URI.

    Called before a stage starts, so a bad store fails in seconds, not after training.
    """
    return check_uri(*store_location(config.root, config.mlflow.tracking_uri))


def check_uri(uri: str, artifacts: str | None = None) -> str:
    """:func:`check_store` for an explicit URI and artifact root; returns the URI."""
    if uri.startswith("sqlite:///"):
        _check_writable(uri, Path(uri.removeprefix("sqlite:///")))
    if artifacts:
        _check_writable(uri, Path(artifacts.removeprefix("file://")) / "probe")
    mlflow = import_mlflow(uri)
    # Several jobs starting on a fresh database race to create MLflow's tables: the loser
    # sees a unique-constraint error. The winner finishes within a moment; try again.
    for attempt in range(4):
        try:
            with _init_lock(uri):
                mlflow.MlflowClient(uri).search_experiments(max_results=1)
            break
        except Exception as exc:
            if attempt < 3 and not uri.startswith("http") and _is_creation_race(exc):
                time.sleep(1.0 + attempt)
                continue
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise MlsearchError(f"MLflow tracking store {uri} is not usable: {first}") from None
    return uri
