"""The score binning's checks on a finished job (docs/validation.md, "Score bins chosen for
the expected exclusion"): the limits stage rerun on a hard-linked copy of a workdir, with all
of each window's background MC or one half of it, the edges chosen on the half that fills the
bins or on the other half.

    ./dev python scripts/binning_checks.py run CONFIG WORKDIR OUT [--half self|other]
        [--set K=V ...]
    ./dev python scripts/binning_checks.py ratio SEARCH OUT_A OUT_B

``run`` copies WORKDIR to OUT (``cp -al``: the earlier stages are not rerun, and the limits
stage writes new files, so WORKDIR is left as it was) and reruns the limits stage there, with
the ``--set`` overrides (e.g. ``limits.n_score_bins=3``). ``--half self``: one half of each
window's background MC (mlsearch/scoring.py's ``mc_half``), its weights doubled, chooses the
edges and fills the bins; ``--half other``: the other half chooses them, this one fills
them. The halves are not the training folds (fold = event mod n_folds): each holds events of
every fold, scored by every fold model. ``ratio`` prints OUT_A's expected median limits over
OUT_B's: geometric mean, range, and at how many masses they differ by more than 15 %.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _halves(mode: str) -> None:
    """Wrap the limits stage's model builder so that one half of the background MC fills the
    bins, and ``mode`` says which half chooses the edges."""
    from mlsearch.limits import binned
    from mlsearch.pipeline import limits as stage
    from mlsearch.scoring import mc_half

    build, edges = binned.binned_mass_model, binned.score_bin_edges

    def model(point: Any, backgrounds: Any, *args: Any, **kwargs: Any) -> Any:
        half = mc_half(backgrounds.event)
        chooser = backgrounds.subset(~half if mode == "other" else half)

        def chosen(signal: Any, binning: Any, n: Any, cut: Any, background: Any = None,
                   *rest: Any) -> Any:  # fmt: skip
            if background is not None:
                background = (chooser.scores, chooser.events)
            return edges(signal, binning, n, cut, background, *rest)

        binned.score_bin_edges = chosen
        try:
            return build(point, backgrounds.subset(half), *args, **kwargs)
        finally:
            binned.score_bin_edges = edges

    binned.binned_mass_model = model
    stage.binned_mass_model = model  # type: ignore[attr-defined]


def run(config_path: str, workdir: Path, out: Path, half: str | None, sets: list[str]) -> None:
    from mlsearch.config import load_config
    from mlsearch.pipeline.limits import run_limits

    if out.exists():
        sys.exit(f"{out} exists: choose a new directory")
    subprocess.run(["cp", "-al", str(workdir), str(out)], check=True)
    config = load_config(config_path, [f"workdir={out}", *sets])
    if half:
        _halves(half)
    run_limits(config)
    print(f"{out}/results/{config.search}/limits.csv")


def ratio(search: str, a: Path, b: Path) -> None:
    read = lambda d: pd.read_csv(d / "results" / search / "limits.csv")  # noqa: E731
    ta, tb = read(a), read(b)
    r = ta["expected_events_median"].to_numpy() / tb["expected_events_median"].to_numpy()
    off = np.abs(np.log(r)) > np.log(1.15)
    where = f" ({', '.join(f'{m:g}' for m in ta['mass'][off])} GeV)" if off.any() else ""
    mean = np.exp(np.log(r).mean())
    print(
        f"{search} {a.name} / {b.name}: geometric mean {mean:.3f}, {r.min():.3f}-{r.max():.3f},"
        f" beyond 15 % at {off.sum()} of {len(r)} masses{where}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    r = sub.add_parser("run")
    r.add_argument("config")
    r.add_argument("workdir", type=Path)
    r.add_argument("out", type=Path)
    r.add_argument("--half", choices=["self", "other"])
    r.add_argument("--set", action="append", default=[], dest="sets")
    q = sub.add_parser("ratio")
    q.add_argument("search")
    q.add_argument("a", type=Path)
    q.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.what == "run":
        run(args.config, args.workdir, args.out, args.half, args.sets)
    else:
        ratio(args.search, args.a, args.b)


if __name__ == "__main__":
    main()
