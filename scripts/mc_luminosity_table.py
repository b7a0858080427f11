"""Print, per search and mass, how much luminosity the background MC stands for in the
window (limits.csv: background_mc_lumi_fb and mc_lumi_fb_<process>), against the data's,
and whether the window reaches the next one (window_gap_to_next), as a markdown table.

    ./dev python scripts/mc_luminosity_table.py [--workdir DIR]

reads DIR/results/<search>/limits.csv of the four default configs (run them first with
`mlsearch run configs/<search>.yaml --set workdir=DIR`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

SEARCHES = {"zprime_invisible": 79.7, "lfv_zprime": 0.276, "alp": 0.445, "dark_photon": 20.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", default=".", type=Path)
    args = parser.parse_args()
    print("| search (L [fb^-1]) | mass [GeV] | L_MC per process [fb^-1] | limiting L_MC / L | "
          "gap to the next window |")  # fmt: skip
    print("|---|---|---|---|---|")
    for search, lumi in SEARCHES.items():
        path = args.workdir / "results" / search / "limits.csv"
        if not path.is_file():
            print(f"| {search} | - | not run ({path}) | | |")
            continue
        df = pd.read_csv(path)
        for row in df[df["status"] == "ok"].to_dict("records"):
            per = ", ".join(
                f"{c[11:]} {row[c]:.3g}" for c in df.columns
                if c.startswith("mc_lumi_fb_") and pd.notna(row[c])
            )  # fmt: skip
            gap = row.get("window_gap_to_next", float("nan"))
            print(f"| {search} ({lumi:g}) | {row['mass']:g} | {per} | "
                  f"{row['background_mc_lumi_fb'] / lumi:.3g} | {gap:.3g} |")  # fmt: skip


if __name__ == "__main__":
    main()
