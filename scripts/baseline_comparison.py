"""Per search and mass: the classifier's gain over the published selection (Punzi, from the
evaluation report) and the expected limits of both (limits.csv and cuts/limits.csv).

Run after ``mlsearch run CONFIG --set workdir=DIR`` and ``mlsearch limits CONFIG --set
workdir=DIR --set limits.model=cuts`` for each search:

    ./dev python scripts/baseline_comparison.py --workdir DIR
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

SEARCHES = ("zprime_invisible", "lfv_zprime", "alp", "dark_photon")


def _table(results: Path) -> pd.DataFrame | None:
    report_csv = results / "evaluation/report.csv"
    if not report_csv.exists() or not (results / "cuts/limits.csv").exists():
        return None
    report = pd.read_csv(report_csv)
    gains = report.pivot(index="mass", columns="model", values="gain_vs_baseline")
    gains.columns = [f"punzi_gain_{c}" for c in gains.columns]
    auc = report.pivot(index="mass", columns="model", values="auc_window")
    auc.columns = [f"auc_{c}" for c in auc.columns]
    ml = pd.read_csv(results / "limits.csv").set_index("mass")
    cuts = pd.read_csv(results / "cuts/limits.csv").set_index("mass")
    out = pd.concat([auc, gains], axis=1)
    out["xsec_fb_classifier"] = ml["expected_xsec_fb_median"]
    out["xsec_fb_cuts"] = cuts["expected_xsec_fb_median"]
    out["limit_gain"] = out["xsec_fb_cuts"] / out["xsec_fb_classifier"]
    out["coupling_classifier"] = ml["expected_coupling_median"]
    out["coupling_cuts"] = cuts["expected_coupling_median"]
    return out.reset_index()


def _markdown(df: pd.DataFrame) -> str:
    cells = [[f"{v:.3g}" if isinstance(v, float) else str(v) for v in row] for row in df.values]
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in cells])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("."))
    args = parser.parse_args()
    for search in SEARCHES:
        table = _table(args.workdir / "results" / search)
        if table is None:
            print(f"## {search}: no evaluation report or cut-based limits in {args.workdir}\n")
            continue
        print(f"## {search}\n")
        print(_markdown(table))
        print()


if __name__ == "__main__":
    main()
