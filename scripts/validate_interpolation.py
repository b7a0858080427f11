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

from mlsearch.config import load_config  # noqa: E402
from mlsearch.export.parity import onnx_session  # noqa: E402
from mlsearch.limits.asymptotic import cls_limits  # noqa: E402
from mlsearch.limits.signal_points import interpolate_point  # noqa: E402
from mlsearch.pipeline.export import onnx_model_path  # noqa: E402
from mlsearch.pipeline.features import read_feature_table  # noqa: E402
from mlsearch.pipeline.limits_inputs import Scorer, mass_model, signal_points  # noqa: E402
from mlsearch.pipeline.paths import Paths  # noqa: E402

DOC = ROOT / "docs" / "validation.md"
BEGIN = "<!-- BEGIN interpolation: written by scripts/validate_interpolation.py -->"
END = "<!-- END interpolation -->"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config", nargs="?", default=str(ROOT / "configs/zprime_invisible.yaml"))
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    args = parser.parse_args()
    config = load_config(args.config, [*args.overrides, "limits.mass_points_between=0"])
    table, meta = read_feature_table(Paths.of(config).features)
    kind = config.limits.model
    sessions = [
        onnx_session(str(onnx_model_path(config, kind, i)), threads=2)
        for i in range(config.train.n_folds)
    ]
    scorer = Scorer(sessions, meta["features"])
    points, _ = signal_points(config, table, meta, scorer)
    power = 2 if meta.get("search_unit", "GeV^2") == "GeV^2" else 1

    def median_coupling(point) -> float:  # type: ignore[no-untyped-def]
        built = mass_model(config, table, meta, point, scorer, None)
        _, expected = cls_limits(built.model, config.limits.cl, mu_max=2.0)
        events = expected[2] * built.scale * point.n_ref
        return float(point.coupling_ref * (events / point.n_ref) ** 0.5)

    header = (
        "| mass | neighbours | window centre (meas. / interp.) | width | efficiency | "
        "sigma_ref [fb] | median g limit | limit ratio |"
    )
    rows = [header, "|" + "---|" * 8]
    for a, m, b in zip(points, points[1:], points[2:], strict=False):
        got = interpolate_point(a, b, m.mass, power)
        lim_m, lim_i = median_coupling(m), median_coupling(got)
        rows.append(
            f"| {m.mass:g} GeV | {a.mass:g}, {b.mass:g} | {m.window.center:.3f} / "
            f"{got.window.center:.3f} | {m.window.sigma:.3f} / {got.window.sigma:.3f} | "
            f"{m.efficiency:.3f} / {got.efficiency:.3f} | {m.cross_section_ref_fb:.4g} / "
            f"{got.cross_section_ref_fb:.4g} | {lim_m:.3g} / {lim_i:.3g} | {lim_i / lim_m:.2f} |"
        )
        print(rows[-1])
    text = DOC.read_text()
    block = "\n".join([BEGIN, *rows, END])
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text += (
            "\n## Limits between generated masses: interpolation closure\n\n"
            "`./dev python scripts/validate_interpolation.py` after `mlsearch run "
            "configs/zprime_invisible.yaml`. Each interior generated mass is interpolated "
            "from its two neighbours only (twice "
            "the spacing the limits stage interpolates over) and compared with the sample "
            "generated there: measured / interpolated.\n\n" + block + "\n"
        )
    DOC.write_text(text)


if __name__ == "__main__":
    main()
