"""``mlsearch models``: the registry's versions (list), its aliases (promote), and two models
compared mass by mass (compare). Registered on the main app by :mod:`mlsearch.cli`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer

from mlsearch.cli_support import ConfigOpt, store_uri
from mlsearch.cli_support import user_errors as _user_errors

__all__ = ["models_app"]

models_app = typer.Typer(no_args_is_help=True, help="The MLflow model registry.")


def _console() -> Any:
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=200)  # pipes: whole names


@models_app.command("list")
def models_list(config: ConfigOpt = None) -> None:
    """Registered models: versions, aliases, parity and the run that trained them."""
    from rich.table import Table

    from mlsearch.tracking import list_models

    with _user_errors():
        uri = store_uri(config)
        versions = list_models(uri)
    table = Table(title=f"registered models in {uri}")
    for col in ("name", "version", "aliases", "parity", "mass grid", "run"):
        table.add_column(col, no_wrap=col in ("name", "version", "aliases"), overflow="fold")
    for v in versions:
        table.add_row(
            v.name,
            str(v.version),
            ", ".join(v.aliases),
            v.tags.get("mlsearch.parity_max_abs_diff", ""),
            v.tags.get("mlsearch.mass_grid", ""),
            v.run_id,
        )
    _console().print(table)


@models_app.command("promote")
def models_promote(
    name: Annotated[str, typer.Argument(help="registered model, e.g. zprime_invisible_pbdt")],
    version: Annotated[int, typer.Argument(help="version to promote")],
    alias: Annotated[str, typer.Option(help="alias to move")] = "champion",
    config: ConfigOpt = None,
) -> None:
    """Point an alias (default: champion) at a model version."""
    from mlsearch.tracking import promote

    with _user_errors():
        info = promote(store_uri(config), name, version, alias)
    typer.echo(f"{info.name} version {info.version}: aliases {', '.join(info.aliases)}")


#: the columns printed (the CSV holds every per-mass quantity): (quantity, header, format)
_SHOWN = (
    ("auc", "AUC", "{:.4f}"),
    ("signal_eff_at_bkg_1pct", "eff_s at 1% bkg", "{:.3f}"),
    ("punzi_xsec_fb", "Punzi [fb]", "{:.3g}"),
    ("expected_coupling_median", "exp. limit", "{:.3g}"),
)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


@models_app.command("compare")
def models_compare(
    a: Annotated[str, typer.Argument(help="NAME@ALIAS, NAME/VERSION or a training run id")],
    b: Annotated[str, typer.Argument(help="the model to compare it with, named the same ways")],
    config: ConfigOpt = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="the per-mass table (.csv; the plot goes next to it as .png)"
        ),
    ] = None,
) -> None:
    """Two models mass by mass: AUC, signal efficiency at 1 % background, Punzi sensitivity
    and expected limit (median and bands) of each, as a table (printed and .csv) and an
    overlay plot (.png)."""
    from rich.table import Table

    from mlsearch.evaluation.compare_plot import compare_plot
    from mlsearch.io.atomic import atomic_path, write_text_atomic
    from mlsearch.tracking.compare import compare_models

    with _user_errors():
        uri = store_uri(config)
        result = compare_models(uri, a, b)
    csv = output or Path(f"compare_{_slug(a)}_vs_{_slug(b)}.csv")
    write_text_atomic(csv, result.table.to_csv(index=False, float_format="%.6g"))
    fig = compare_plot(result.table, result.a.label, result.b.label, f"{a} vs {b}")
    png = csv.with_suffix(".png")
    with atomic_path(png) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    table = Table(title=f"A = {result.a.label}, B = {result.b.label}")
    table.add_column("mass [GeV]", justify="right")
    shown = [s for s in _SHOWN if f"{s[0]}_a" in result.table or f"{s[0]}_b" in result.table]
    for _, header, _ in shown:
        table.add_column(f"{header} A", justify="right")
        table.add_column(f"{header} B", justify="right")
    for row in result.table.to_dict("records"):
        cells = [f"{row['mass']:g}"]
        for quantity, _, fmt in shown:
            cells += [_cell(row.get(f"{quantity}_{side}"), fmt) for side in ("a", "b")]
        table.add_row(*cells)
    console = _console()
    console.print(table)
    for side in (result.a, result.b):
        limits = (
            f", limits run {side.limits_run_id}"
            if side.limits_run_id
            else ", no limits run yet (mlsearch limits CONFIG --model models:/NAME/VERSION)"
        )
        console.print(f"{side.label}: training run {side.run_id}{limits}", highlight=False)
    console.print(f"wrote {csv} and {png}", highlight=False)


def _cell(value: Any, fmt: str) -> str:
    try:
        return fmt.format(float(value)) if value == value else "-"  # NaN: no value there
    except (TypeError, ValueError):
        return "-"
