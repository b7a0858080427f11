"""Shared pieces of the command-line modules (no heavy imports)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from mlsearch.errors import MlsearchError

__all__ = ["user_errors"]


@contextmanager
def user_errors() -> Iterator[None]:
    """User errors become one plain line on stderr and an exit code, never a traceback."""
    try:
        yield
    except MlsearchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("interrupted: rerun the same command to resume", err=True)
        raise typer.Exit(130) from None
