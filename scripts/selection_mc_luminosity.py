"""What a tighter preselection would buy in background MC luminosity, and cost in signal:
per mass window of a finished run, for candidate cuts on top of the search's preselection,
the signal kept (relative to the preselection, in the window) and each background's cross
section and effective MC luminosity L_eff = sum(w) / sum(w^2) [fb^-1] in the window.

    ./dev python scripts/selection_mc_luminosity.py --workdir DIR --search zprime_invisible
    ./dev python scripts/selection_mc_luminosity.py --workdir DIR --search dark_photon

reads DIR/results/<search>/limits.csv (the windows) and DIR/data/<search>/features.parquet
(run the default config first: `mlsearch run configs/<search>.yaml --set workdir=DIR`).
A cut lowers the luminosity the MC must reach only where the sampler puts more events per
unit cross section into what the cut keeps than into what it drops: with even weights L_eff
does not move (docs/validation.md, "What tighter selections buy").
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from mlsearch.generate.gg import in_lost_photon_bands
from mlsearch.selection.published import published_selection

Cut = Callable[[pd.DataFrame], "np.ndarray"]


def _barrel_veto(f: pd.DataFrame) -> np.ndarray:
    """The fixed steps of the Z' baseline (PRL 124, 141801): the recoil into the ECL barrel,
    the ECL energy besides the muons below 0.4 GeV (mlsearch/selection/published.py)."""
    keep = np.ones(len(f), dtype=bool)
    for step in published_selection("zprime_invisible").steps:
        keep &= step.select(f)
    return keep


def _partner_seen(f: pd.DataFrame) -> np.ndarray:
    """The photon outside the cos(theta*) bands where its back-to-back partner is lost."""
    return ~in_lost_photon_bands(f["photon_cos_theta_cms"].to_numpy())


CUTS: dict[str, dict[str, Cut]] = {
    "zprime_invisible": {
        "recoil p* > 0.3 GeV": lambda f: f["recoil_p_cms"].to_numpy() > 0.3,
        "dimuon pT* > 0.3 GeV": lambda f: f["dimuon_pt_cms"].to_numpy() > 0.3,
        # the preselection since 2026-12-03 (features.dimuon_pt_min, features.extra_ecl_max):
        # on a run of an older commit, what it removed
        "dimuon pT* > 0.3 GeV, ECL < 0.4 GeV": lambda f: (
            (f["dimuon_pt_cms"].to_numpy() > 0.3) & (f["extra_ecl_energy"].to_numpy() < 0.4)
        ),
        "recoil in barrel, ECL < 0.4 GeV": _barrel_veto,
        "both": lambda f: (f["recoil_p_cms"].to_numpy() > 0.3) & _barrel_veto(f),
    },
    "dark_photon": {"partner not lost (fiducial)": _partner_seen},
}
VARIABLE = {"zprime_invisible": "recoil_mass2", "dark_photon": "missing_mass2"}
SIGNAL = {"zprime_invisible": "zprime", "dark_photon": "dark_photon"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", default=".", type=Path)
    parser.add_argument("--search", choices=sorted(CUTS), required=True)
    args = parser.parse_args()
    limits = pd.read_csv(args.workdir / "results" / args.search / "limits.csv")
    f = pd.read_parquet(args.workdir / "data" / args.search / "features.parquet")
    backgrounds = sorted(p for p in f["process"].unique() if not p.startswith(SIGNAL[args.search]))
    x, weight, process = (f[VARIABLE[args.search]].to_numpy(), f["weight"].to_numpy(),
                          f["process"].to_numpy())  # fmt: skip
    cuts = {"preselection": np.ones(len(f), dtype=bool)}
    cuts |= {name: cut(f) for name, cut in CUTS[args.search].items()}
    print("| mass [GeV] | cut | signal kept | "
          + " | ".join(f"{b}: sigma [fb], L_eff [fb^-1]" for b in backgrounds) + " |")  # fmt: skip
    print("|---" * (3 + len(backgrounds)) + "|")
    for row in limits[~limits["interpolated"]].itertuples():
        window = (x > row.window_low) & (x < row.window_high)
        signal = window & (process == f"{SIGNAL[args.search]}_m{row.mass:g}")
        for name, keep in cuts.items():
            cells = [f"{(signal & keep).sum() / max(signal.sum(), 1):.2f}"]
            for b in backgrounds:
                w = weight[window & keep & (process == b)]
                cells.append(f"{w.sum():.3g}, {w.sum() / (w**2).sum():.3g}" if len(w) else "-")
            print(f"| {row.mass:g} | {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
