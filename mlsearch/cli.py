"""Command-line interface: thin wrappers that parse, call one stage function, report.

Heavy libraries (torch, lightning, xgboost, mlflow, pyhf) are imported only inside the stage
that needs them, so ``mlsearch --help`` answers at once.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer

from mlsearch import __version__
from mlsearch.errors import MlsearchError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Mass-parametrised dark-sector searches at Belle II: events -> features -> pNN/pBDT "
    "-> MLflow -> ONNX -> pyhf limits.",
)

ConfigArg = Annotated[
    Path, typer.Argument(help="search config (YAML), e.g. configs/zprime_invisible.yaml")
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="override a config value, e.g. --set models.pbdt.n_estimators=50"),
]


def _quiet_libraries() -> None:
    """Keep the terminal for our progress bars: the libraries' chatter goes to debug level."""
    from mlsearch._quiet import quiet_loggers

    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    quiet_loggers()
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)


def _run(stages: list[str], config_path: Path, overrides: list[str] | None) -> None:
    from rich.console import Console

    from mlsearch.config import load_config

    console = Console(stderr=True, soft_wrap=True)
    try:
        config = load_config(config_path, overrides or [])
        _quiet_libraries()
        from mlsearch.pipeline import STAGES
        from mlsearch.pipeline.progress import RichReporter

        results = []
        with RichReporter() as reporter:
            for name in stages:
                results.append(STAGES[name](config, reporter))
    except MlsearchError as exc:
        typer.echo(f"error: {exc}", err=True)  # one plain line, never wrapped
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow]: rerun the same command to resume")
        raise typer.Exit(130) from None
    for r in results:
        state = "cached" if r.skipped else "done"
        console.print(
            f"  {r.stage:<9} {state:<7} " + (str(r.outputs[0]) if r.outputs else ""),
            highlight=False,
        )


def _stage_command(name: str, doc: str) -> None:
    def command(config: ConfigArg, set_: SetOpt = None) -> None:
        _run([name], config, set_)

    command.__doc__ = doc
    app.command(name)(command)


@app.command("run")
def run(config: ConfigArg, set_: SetOpt = None) -> None:
    """Run every stage, skipping those whose inputs and config are unchanged."""
    from mlsearch.pipeline import STAGES

    _run(list(STAGES), config, set_)


for _name, _doc in (
    ("generate", "Generate truth events for every signal mass and background."),
    ("simulate", "Run the Belle II fast simulation on the generated events."),
    ("features", "Build the search's feature table from the reconstructed events."),
    ("train", "Train the mass-parametrised pBDT and pNN on k folds (MLflow runs)."),
    ("evaluate", "Per-mass AUC and score plots from the out-of-fold scores."),
    ("export", "Export the trained models to ONNX with a parity check."),
    ("limits", "CLs upper limits per mass from the ONNX scores (pyhf)."),
):
    _stage_command(_name, _doc)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mlsearch {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """mlsearch command line."""


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except MlsearchError as exc:  # raised outside a stage (should not happen, but never trace)
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
