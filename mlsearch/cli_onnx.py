"""Commands on exported ONNX files: ``validate-onnx`` (the contract) and ``predict``
(standalone scoring). Registered on the main app by :mod:`mlsearch.cli`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlsearch.cli_support import user_errors as _user_errors

__all__ = ["predict", "validate_onnx"]


def validate_onnx(
    model: Annotated[Path, typer.Argument(help="exported model (.onnx)")],
    basf2: Annotated[bool, typer.Option("--basf2", help="also basf2's constraints")] = False,
) -> None:
    """Check an ONNX file against the mlsearch contract (and basf2's onnxruntime)."""
    from mlsearch.export.contract import validate_onnx_file

    problems = validate_onnx_file(model, basf2)
    if problems:
        for p in problems:
            typer.echo(f"{model}: {p}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{model}: satisfies the mlsearch ONNX contract" + (" and basf2's" if basf2 else ""))


def predict(
    model: Annotated[Path, typer.Argument(help="exported model (.onnx)")],
    input_file: Annotated[Path, typer.Argument(help="feature table (.parquet) or ntuple (.root)")],
    mass: Annotated[list[float], typer.Option("--mass", help="mass hypothesis [GeV]; repeat")],
    output: Annotated[Path, typer.Option("-o", "--output", help="output .parquet")],
    tree: Annotated[str | None, typer.Option(help="TTree name (default: ntuple)")] = None,
    extrapolate: Annotated[
        bool, typer.Option(help="score masses outside the trained range too")
    ] = False,
) -> None:
    """Score a table or a basf2 ntuple with an ONNX model (needs no torch or xgboost)."""
    from mlsearch.predict import predict as run_predict

    with _user_errors():
        result = run_predict(model, input_file, mass, output, tree, extrapolate)
    note = (
        f", {result.non_finite_rows} rows with NaN/inf inputs scored NaN"
        if (result.non_finite_rows)
        else ""
    )
    typer.echo(f"{result.output}: {result.rows} rows x {len(result.masses)} masses{note}")
