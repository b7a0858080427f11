"""Shared pieces of the command-line modules (no heavy imports)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from mlsearch.errors import MlsearchError, ResourceError, is_disk_full

__all__ = [
    "ConfigOpt",
    "SchedulerOpt",
    "load_config_or_none",
    "quiet_libraries",
    "store_uri",
    "user_errors",
    "with_scheduler",
]

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="config whose MLflow store to use (default: ./mlruns)"),
]

SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="where generate/simulate/features (and the pBDT training) run: 'local' (a Dask "
        "LocalCluster) or a Dask scheduler address, tcp://host:8786 (compute.scheduler)",
    ),
]


def with_scheduler(overrides: list[str] | None, scheduler: str | None) -> list[str]:
    """The --set overrides plus compute.scheduler from --scheduler."""
    return [*(overrides or []), *([f"compute.scheduler={scheduler}"] if scheduler else [])]


@contextmanager
def user_errors() -> Iterator[None]:
    """User errors become one plain line on stderr and an exit code, never a traceback."""
    try:
        yield
    except MlsearchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except Exception as exc:
        # writers outside atomic_path (MLflow's database, libraries' caches) fill a disk too
        if is_disk_full(exc) or "database or disk is full" in str(exc):
            typer.echo(f"error: no space left on the device ({exc}); free space, rerun", err=True)
            raise typer.Exit(ResourceError.exit_code) from None
        raise
    except KeyboardInterrupt:
        typer.echo("interrupted: rerun the same command to resume", err=True)
        raise typer.Exit(130) from None


def quiet_libraries() -> None:
    """Keep the terminal for our progress bars: the libraries' chatter goes to debug level."""
    from mlsearch._quiet import quiet_loggers

    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    quiet_loggers()
    # and in the processes we start (Dask workers, DDP processes), which read it at start-up
    os.environ.setdefault(
        "PYTHONWARNINGS", "ignore::UserWarning,ignore::DeprecationWarning,ignore::FutureWarning"
    )
    for category in (UserWarning, DeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category)


def load_config_or_none(config_path: Path | None, overrides: list[str] | None = None) -> Any:
    """The validated config at ``config_path`` with ``overrides``; None without a path."""
    from mlsearch.config import load_config

    if config_path is None:
        return None
    return load_config(config_path, overrides or [])


def store_uri(config_path: Path | None) -> str:
    """The checked MLflow store of a config, or of ./mlruns without one."""
    from mlsearch.tracking import check_store
    from mlsearch.tracking.store import check_uri, store_location

    config = load_config_or_none(config_path)
    quiet_libraries()
    return check_store(config) if config else check_uri(*store_location(Path(".")))
