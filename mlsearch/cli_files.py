"""Commands that convert files: other generators' events (``import``) and basf2 ntuples
(``ntuple export`` / ``ntuple import``). Registered on the main app by :mod:`mlsearch.cli`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlsearch.cli_support import user_errors as _user_errors
from mlsearch.errors import MlsearchError

__all__ = ["import_events", "ntuple_app"]


def import_events(
    source: Annotated[Path, typer.Argument(help="an .lhe(.gz) or .hepmc3(.gz) file")],
    output: Annotated[Path, typer.Option("-o", "--output", help="output truth .parquet")],
    frame: Annotated[
        str, typer.Option(help="auto (from the beams), cms (head-on CM) or lab (Belle II lab)")
    ] = "auto",
) -> None:
    """Convert another generator's events (MadGraph LHE, KKMC/BabaYaga HepMC3) into a truth
    file that simulate and the pipeline read like a built-in process."""
    from mlsearch.io.events import truth_to_awkward, write_events
    from mlsearch.io.generator_files import read_generator_file

    with _user_errors():
        if frame not in ("auto", "cms", "lab"):
            raise MlsearchError(f"--frame {frame!r}: expected auto, cms or lab")
        sample = read_generator_file(source, frame)  # type: ignore[arg-type]
        write_events(
            truth_to_awkward(sample),
            output,
            {
                "process": sample.process,
                "n_events": len(sample),
                "cross_section_fb": sample.cross_section_fb,
                "cross_section_err_fb": sample.cross_section_err_fb,
                **sample.metadata,
            },
        )
    typer.echo(
        f"{output}: {len(sample)} events from {source}, sigma = "
        f"{sample.cross_section_fb / 1e3:.6g} pb"
    )


ntuple_app = typer.Typer(help="basf2 ntuples (VariablesToNtuple layout) <-> reco files.")


@ntuple_app.command("export")
def ntuple_export(
    reco: Annotated[Path, typer.Argument(help="reconstructed events (.parquet)")],
    output: Annotated[Path, typer.Option("-o", "--output", help="output .root")],
) -> None:
    """Write reconstructed events as a basf2-style ntuple (trees tracks, clusters, event)."""
    from mlsearch.io.basf2_ntuple import write_basf2_ntuple
    from mlsearch.io.events import read_events

    with _user_errors():
        events, _ = read_events(reco)
        if "tracks" not in events.fields:
            raise MlsearchError(f"{reco}: not a reconstructed file (no 'tracks' column)")
        write_basf2_ntuple(events, output)
    typer.echo(f"{output}: {len(events)} events")


@ntuple_app.command("import")
def ntuple_import(
    ntuple: Annotated[Path, typer.Argument(help="a basf2 ntuple (.root)")],
    output: Annotated[Path, typer.Option("-o", "--output", help="output reco .parquet")],
    alias: Annotated[
        list[str] | None,
        typer.Option(help="our_name=branch, e.g. --alias px=mu_px (repeat)"),
    ] = None,
    track_tree: Annotated[str, typer.Option(help="tree of the track candidates")] = "tracks",
    cluster_tree: Annotated[str, typer.Option(help="tree of the photon candidates")] = "clusters",
) -> None:
    """Read a basf2 ntuple into the reconstructed-event schema (features run on it)."""
    from mlsearch.io.basf2_ntuple import read_basf2_ntuple
    from mlsearch.io.events import write_events

    with _user_errors():
        aliases = {}
        for item in alias or []:
            ours, sep, branch = item.partition("=")
            if not sep or not ours or not branch:
                raise MlsearchError(f"--alias {item!r}: expected our_name=branch")
            aliases[ours] = branch
        events = read_basf2_ntuple(ntuple, aliases, track_tree, cluster_tree)
        write_events(events, output, {"source_ntuple": str(ntuple), "n_events": len(events)})
    typer.echo(f"{output}: {len(events)} events from {ntuple}")
