"""Command-line interface: thin wrappers that parse, call one stage function, report.

Heavy libraries (torch, lightning, xgboost, mlflow, pyhf) are imported only inside the stage
that needs them, so ``mlsearch --help`` answers at once.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from mlsearch import __version__
from mlsearch.cli_files import import_events, ntuple_app
from mlsearch.cli_models import models_app
from mlsearch.cli_onnx import predict, validate_onnx
from mlsearch.cli_support import (
    ConfigOpt,
    SchedulerOpt,
    load_config_or_none,
    quiet_libraries,
    store_uri,
    with_scheduler,
)
from mlsearch.cli_support import user_errors as _user_errors
from mlsearch.errors import MlsearchError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts carry units in brackets ([pb], [deg]): not markup
    help="Mass-parametrised dark-sector searches at Belle II: events -> features -> pNN/pBDT "
    "-> MLflow -> ONNX -> pyhf limits.",
)
app.add_typer(models_app, name="models")

ConfigArg = Annotated[
    Path, typer.Argument(help="search config (YAML), e.g. configs/zprime_invisible.yaml")
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="override a config value, e.g. --set models.pbdt.n_estimators=50"),
]


def _run(
    stages: list[str], config_path: Path, overrides: list[str] | None, parent: bool = False
) -> None:
    """Run ``stages``; ``parent``: as one MLflow run with the stage runs nested (`run`)."""
    from rich.console import Console

    console = Console(stderr=True, soft_wrap=True)
    with _user_errors():
        config = load_config_or_none(config_path, overrides)
        quiet_libraries()
        from mlsearch.pipeline import load_stages, run_stages
        from mlsearch.pipeline.progress import RichReporter
        from mlsearch.tracking import check_store
        from mlsearch.tracking.pipeline_runs import pipeline_run_name

        check_store(config)  # an unusable MLflow store fails now, not after training
        run_stage = load_stages(stages)
        name = pipeline_run_name(config_path, overrides or []) if parent else None
        with RichReporter() as reporter:
            results = run_stages(config, run_stage, reporter, name, tuple(overrides or ()))
    for r in results:
        state = "cached" if r.skipped else "done"
        console.print(
            f"  {r.stage:<9} {state:<7} " + (str(r.outputs[0]) if r.outputs else ""),
            highlight=False,
        )


def _stage_command(name: str, doc: str, partitioned: bool = False) -> Callable[..., None]:
    """``mlsearch NAME CONFIG``; a partitioned stage also takes --scheduler."""

    def command(config: ConfigArg, set_: SetOpt = None) -> None:
        _run([name], config, set_)

    def partitioned_command(
        config: ConfigArg, set_: SetOpt = None, scheduler: SchedulerOpt = None
    ) -> None:
        _run([name], config, with_scheduler(set_, scheduler))

    if partitioned:
        command = partitioned_command

    command.__doc__ = doc
    return app.command(name)(command)


@app.command("run")
def run(config: ConfigArg, set_: SetOpt = None, scheduler: SchedulerOpt = None) -> None:
    """Run every stage, skipping those whose inputs and config are unchanged."""
    from mlsearch.pipeline import STAGE_NAMES

    _run(list(STAGE_NAMES), config, with_scheduler(set_, scheduler), parent=True)


@app.command("simulate")
def simulate(
    target: Annotated[str, typer.Argument(help="a search config (YAML), or a truth .parquet")],
    set_: SetOpt = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="reco .parquet")] = None,
    seed: Annotated[int, typer.Option(help="random seed (file mode)")] = 1,
    scheduler: SchedulerOpt = None,
) -> None:
    """Run the Belle II fast simulation: on every generated sample of a config, or on one
    truth file (mlsearch simulate zprime.parquet -o zprime_reco.parquet)."""
    if target.endswith((".yaml", ".yml")):
        _run(["simulate"], Path(target), with_scheduler(set_, scheduler))
        return
    from mlsearch.config import SimulateConfig
    from mlsearch.io.events import read_events, write_events
    from mlsearch.pipeline.simulate import simulate_file_events

    with _user_errors():
        if output is None:
            raise MlsearchError("file mode needs -o OUT.parquet")
        truth, meta = read_events(target)
        if "particles" not in truth.fields:
            raise MlsearchError(f"{target}: not a truth file (no 'particles' column)")
        reco = simulate_file_events(truth, SimulateConfig(), seed, Path(target).stem)
        write_events(reco, output, {**meta, "simulated_from": str(target), "sim_seed": seed})
    typer.echo(f"{output}: {len(reco)} events simulated")


_stage_command("features", "Build the search's feature table from the reconstructed events.", True)
for _name, _doc in (
    ("evaluate", "Per-mass AUC and score plots from the out-of-fold scores."),
    ("export", "Export the trained models to ONNX with a parity check; register them."),
):
    _stage_command(_name, _doc)


@app.command("train")
def train(
    config: ConfigArg,
    set_: SetOpt = None,
    optuna: Annotated[
        int,
        typer.Option(
            "--optuna", help="Optuna trials per model first (train.optuna_trials), 0: none"
        ),
    ] = 0,
    scheduler: SchedulerOpt = None,
) -> None:
    """Train the mass-parametrised pBDT and pNN on k folds (MLflow runs); with --scheduler
    the pBDT trains on the Dask cluster's workers (xgboost.dask)."""
    optuna_set = [f"train.optuna_trials={optuna}"] if optuna else []
    _run(["train"], config, with_scheduler([*(set_ or []), *optuna_set], scheduler))


@app.command("generate")
def generate(
    target: Annotated[str, typer.Argument(help="a search config (YAML), or a process name")],
    set_: SetOpt = None,
    n_events: Annotated[int | None, typer.Option("-n", help="events (process mode)")] = None,
    mass: Annotated[float | None, typer.Option(help="signal mass [GeV]")] = None,
    coupling: Annotated[
        float | None,
        typer.Option(help="signal coupling: g', g_emu, epsilon or g_a_gamma_gamma [GeV^-1]"),
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed (process mode)")] = 1,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="output .parquet")] = None,
    scheduler: SchedulerOpt = None,
) -> None:
    """Generate truth events: every sample of a config, or one process into one file
    (mlsearch generate zprime -n 10000 --mass 2 --coupling 0.01 -o zprime.parquet)."""
    if target.endswith((".yaml", ".yml")) or Path(target).is_file():
        _run(["generate"], Path(target), with_scheduler(set_, scheduler))
        return
    from mlsearch.generate import PROCESSES

    with _user_errors():
        if target not in PROCESSES:
            raise MlsearchError(
                f"unknown process '{target}' (known: {', '.join(PROCESSES)}; "
                "or give a config .yaml)"
            )
        if n_events is None or n_events <= 0 or output is None:
            raise MlsearchError("process mode needs -n N (> 0) and -o FILE.parquet")
        from mlsearch.generate import generate_process
        from mlsearch.io.events import truth_to_awkward, write_events

        sample = generate_process(target, n_events, seed, mass=mass, coupling=coupling)
        write_events(
            truth_to_awkward(sample),
            output,
            {
                "process": target,
                "n_events": len(sample),
                "seed": seed,
                "cross_section_fb": sample.cross_section_fb,
                "cross_section_err_fb": sample.cross_section_err_fb,
                **sample.metadata,
            },
        )
    typer.echo(
        f"{output}: {len(sample)} {target} events, sigma = "
        f"{sample.cross_section_fb / 1e3:.6g} +- {sample.cross_section_err_fb / 1e3:.2g} pb"
    )


app.command("import")(import_events)  # defined in cli_files, listed after generate
app.add_typer(ntuple_app, name="ntuple")


@app.command("xsec")
def xsec(
    process: Annotated[str, typer.Argument(help="process name")],
    mass: Annotated[float | None, typer.Option(help="signal mass [GeV]")] = None,
    coupling: Annotated[
        float | None, typer.Option(help="signal coupling (default 1 in the model's unit)")
    ] = None,
    theta_min: Annotated[float, typer.Option("--theta-min", help="CM polar angle [deg]")] = 0.0,
    theta_max: Annotated[float, typer.Option("--theta-max", help="CM polar angle [deg]")] = 180.0,
    e_min: Annotated[float, typer.Option("--e-min", help="CM energy [GeV]")] = 0.0,
    events: Annotated[int, typer.Option(help="Monte Carlo events")] = 200_000,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    born: Annotated[
        bool, typer.Option("--born", help="signals: the Born process, without ISR and FSR")
    ] = False,
) -> None:
    """Cross section [pb] with its MC uncertainty, for CM-frame cuts on the process's final-state
    leptons or photons (mlsearch xsec dark_photon --mass 1 --theta-min 30 --theta-max 130).

    sigma_pb is production_sigma_pb (e.g. e+e- -> mu+ mu- Z') times branching_fraction
    (e.g. B(Z' -> invisible); 1 where nothing decays): compare a generator's or a paper's
    production cross section with production_sigma_pb. Signals include ISR (and FSR off the
    Z' leptons) unless --born."""
    import json

    from mlsearch.generate import PROCESSES
    from mlsearch.generate.xsec import cross_section

    with _user_errors():
        if process not in PROCESSES:
            raise MlsearchError(f"unknown process '{process}' (known: {', '.join(PROCESSES)})")
        res = cross_section(
            process, mass, coupling, theta_min, theta_max, e_min, events, radiation=not born
        )
    if as_json:
        typer.echo(json.dumps(res.as_dict()))
    else:
        typer.echo(f"sigma({process}) = {res.sigma_pb:.6g} +- {res.error_pb:.2g} pb")
        if res.branching_fraction != 1.0 or process in ("zprime", "lfv_zprime", "dark_photon"):
            typer.echo(
                f"  = production {res.production_sigma_pb:.6g} pb x {res.branching_fraction:.4g}"
                f" [{res.branching}]"
            )


@app.command("limits")
def limits(
    config: ConfigArg,
    set_: SetOpt = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="registered model instead of models/<search>/, "
            "e.g. models:/zprime_invisible_pbdt@champion"
        ),
    ] = None,
) -> None:
    """CLs upper limits per mass from the ONNX scores (pyhf)."""
    overrides = list(set_ or []) + ([f"limits.model_uri={model}"] if model else [])
    _run(["limits"], config, overrides)


@app.command("ui")
def ui(
    config: ConfigOpt = None,
    host: Annotated[
        str, typer.Option(help="interface to bind (loopback by default)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 5000,
    browser: Annotated[
        bool, typer.Option(help="open the page in the desktop's browser (if there is a display)")
    ] = True,
) -> None:
    """Start the MLflow UI on the project's store and print the page of the search's training
    runs (the model-training view; the UI's root opens on its GenAI layout)."""
    from mlsearch.tracking.ui import experiment_id, landing_url

    with _user_errors():
        uri = store_uri(config)
        cfg = load_config_or_none(config)
        exp_id = experiment_id(uri, (cfg.mlflow.experiment or cfg.search) if cfg else None)
    reach = "127.0.0.1" if host == "0.0.0.0" else host  # where this machine reaches the server
    page = landing_url(f"http://{reach}:{port}", exp_id)
    # without access logs: a line per request would bury the page printed below
    server = ["--host", host, "--port", str(port), "--workers", "1"]
    cmd = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri, *server,
           "--uvicorn-opts", "--no-access-log"]  # fmt: skip
    proc = subprocess.Popen(cmd)
    try:
        if _wait_for_port(reach, port, proc):
            typer.echo(f"MLflow UI for {uri}\n  open {page}", err=True)
            if browser and _has_display():
                import webbrowser

                webbrowser.open(page)
        raise typer.Exit(proc.wait())
    except KeyboardInterrupt:
        proc.terminate()
        raise typer.Exit(proc.wait()) from None


def _wait_for_port(
    host: str, port: int, proc: subprocess.Popen[bytes], timeout: float = 120
) -> bool:
    """Whether the server answers on ``port`` before ``timeout`` [s] (False: it exited)."""
    import socket
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        with (
            contextlib.suppress(OSError),
            socket.create_connection((host, port), timeout=1),
        ):
            return True
        time.sleep(0.3)
    return False


def _has_display() -> bool:
    """A desktop session to open a browser in: on a headless Linux machine the webbrowser
    module would fall back to a console browser inside this terminal."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


app.command("validate-onnx")(validate_onnx)  # the ONNX-file commands live in cli_onnx
app.command("predict")(predict)


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
