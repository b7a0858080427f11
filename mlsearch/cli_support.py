"""Shared pieces of the command-line modules (no heavy imports)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from mlsearch.errors import MlsearchError, ResourceError, is_disk_full

__all__ = ["SchedulerOpt", "user_errors", "with_scheduler"]

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
