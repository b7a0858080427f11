"""Closure test of the mass interpolation of the limits, written into docs/validation.md.

    ./dev python scripts/validate_interpolation.py [CONFIG] [--set KEY=VALUE ...]

Needs a completed run of CONFIG (default configs/zprime_invisible.yaml). For every interior
generated mass m_i, the signal point is interpolated from its neighbours m_(i-1) and m_(i+1)
alone, as the limits stage does between generated masses, and compared with the point
measured from the sample generated at m_i: window centre and width, selection efficiency,
cross section at the reference coupling, and the expected median limit in the coupling
(the same backgrounds, classifier and statistical model).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from mlsearch.config import load_config  # noqa: E402
from mlsearch.detector import simulate_events  # noqa: E402
from mlsearch.export.parity import onnx_session  # noqa: E402
from mlsearch.features import get_builder  # noqa: E402
from mlsearch.generate import generate_process  # noqa: E402
from mlsearch.io.events import truth_to_awkward  # noqa: E402
from mlsearch.io.feature_table import read_feature_table  # noqa: E402
from mlsearch.limits.asymptotic import cls_limits  # noqa: E402
from mlsearch.limits.binned import binned_mass_model  # noqa: E402
from mlsearch.limits.conversion import signal_limit  # noqa: E402
from mlsearch.limits.points import OnnxFoldScorer, signal_points, window_backgrounds  # noqa: E402
from mlsearch.limits.signal_points import (  # noqa: E402
    cross_section_curve,
    interpolate_point,
    measure_point,
)
from mlsearch.pipeline.export import onnx_model_path  # noqa: E402
from mlsearch.pipeline.paths import Paths  # noqa: E402
from mlsearch.scoring import fold_of  # noqa: E402
from mlsearch.searches import branching_fraction  # noqa: E402
from mlsearch.selection.windows import select_window  # noqa: E402

DOC = ROOT / "docs" / "validation.md"
BEGIN = "<!-- BEGIN interpolation: written by scripts/validate_interpolation.py -->"
END = "<!-- END interpolation -->"
SECTION = "## Limits between generated masses: interpolation closure"


def _off_grid_point(config, meta, scorer, mass: float):  # type: ignore[no-untyped-def]
    """A signal sample generated and simulated at ``mass`` (not in the training grid), its
    point measured as the limits stage measures a generated one."""
    sig_cfg = config.generate.signal
    sample = generate_process(
        sig_cfg.process, sig_cfg.n_events, config.seed + 1000, mass=mass,
        coupling=sig_cfg.coupling, invisible_br=sig_cfg.invisible_br,
    )  # fmt: skip
    reco = simulate_events(truth_to_awkward(sample), config.simulate, np.random.default_rng(7))
    df = get_builder(config.search).build(reco, config.features)
    df["fold"] = fold_of(df["event"].to_numpy(), config.train.n_folds)
    rule = meta.search_rule
    lumi = config.luminosity_fb
    sel = select_window(
        df, df.iloc[:0], rule, mass, config.limits.window_sigma, lumi, sample.cross_section_fb
    )
    df = df[sel.signal_in]
    return measure_point(
        mass, sel.window, scorer(df, mass), sel.signal_events, sample.cross_section_fb,
        sig_cfg.coupling, lumi,
    )  # fmt: skip


def _row(label: str, m, got, lim_m: float, lim_i: float) -> str:  # type: ignore[no-untyped-def]
    return (
        f"| {m.mass:g} GeV | {label} | {m.window.center:.3f} / {got.window.center:.3f} | "
        f"{m.window.sigma:.3f} / {got.window.sigma:.3f} | {m.efficiency:.3f} / "
        f"{got.efficiency:.3f} | {m.cross_section_ref_fb:.4g} / {got.cross_section_ref_fb:.4g} | "
        f"{lim_m:.3g} / {lim_i:.3g} | {lim_i / lim_m:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config", nargs="?", default=str(ROOT / "configs/zprime_invisible.yaml"))
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    parser.add_argument(
        "--off-grid", type=float, nargs="*", default=[1.25, 2.5, 4.5],
        help="masses [GeV] to generate outside the training grid and compare",
    )  # fmt: skip
    args = parser.parse_args()
    config = load_config(args.config, [*args.overrides, "limits.mass_points_between=0"])
    table, meta = read_feature_table(Paths.of(config).features)
    kind = config.limits.model
    sessions = [
        onnx_session(str(onnx_model_path(config, kind, i)), threads=2)
        for i in range(config.train.n_folds)
    ]
    scorer = OnnxFoldScorer(sessions, meta.features)
    lim, lumi = config.limits, config.luminosity_fb
    signal = config.generate.signal
    branching = branching_fraction(signal.process, signal.invisible_br)
    points, _ = signal_points(table, meta, scorer, lim.window_sigma, lumi, 0, branching)
    power = 2 if meta.search_unit == "GeV^2" else 1

    def median_coupling(point) -> float:  # type: ignore[no-untyped-def]
        backgrounds = window_backgrounds(table, meta, point, scorer, lumi)
        rng = np.random.default_rng(config.seed)  # pseudo-data: not used by expected limits
        built = binned_mass_model(point, backgrounds, lim, lumi, None, rng)
        _, expected = cls_limits(built.model, lim.cl, mu_max=2.0)
        return signal_limit(
            expected[2], built.scale, point.n_ref, point.efficiency, lumi, point.coupling_ref
        ).coupling

    header = (
        f"| mass | compared with ({kind}) | window centre | width | efficiency | "
        "sigma_ref [fb] | median limit on the coupling | interp. / meas. |"
    )
    rows = [header, "|" + "---|" * 8]
    for a, m, b in zip(points, points[1:], points[2:], strict=False):
        others = [p for p in points if p is not m]
        got = interpolate_point(a, b, m.mass, power, cross_section_curve(others, branching)(m.mass))
        label = f"generated, from {a.mass:g} and {b.mass:g}"
        rows.append(_row(label, m, got, median_coupling(m), median_coupling(got)))
        print(rows[-1])
    for mass in args.off_grid:
        a = max((p for p in points if p.mass < mass), key=lambda p: p.mass)
        b = min((p for p in points if p.mass > mass), key=lambda p: p.mass)
        measured = _off_grid_point(config, meta, scorer, mass)
        got = interpolate_point(a, b, mass, power, cross_section_curve(points, branching)(mass))
        label = f"off the grid, from {a.mass:g} and {b.mass:g}"
        rows.append(_row(label, measured, got, median_coupling(measured), median_coupling(got)))
        print(rows[-1])
    begin = BEGIN.replace("interpolation:", f"interpolation {kind}:")
    end = END.replace("interpolation", f"interpolation {kind}")
    text = DOC.read_text()
    block = "\n".join([begin, *rows, end])
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    elif SECTION in text:
        text += "\n" + block + "\n"
    else:
        text += (
            f"\n{SECTION}\n\n"
            "`./dev python scripts/validate_interpolation.py [--set limits.model=pnn]` after "
            "`mlsearch run configs/zprime_invisible.yaml`. Each interior generated mass is "
            "interpolated from its two neighbours only (twice the spacing the limits stage "
            "interpolates over) and compared with the sample generated there; each off-grid "
            "mass is generated and simulated anew (not in the training grid) and compared with "
            "the interpolation from the generated masses around it: measured / interpolated."
            "\n\n" + block + "\n"
        )
    DOC.write_text(text)


if __name__ == "__main__":
    main()
