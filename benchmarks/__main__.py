"""Print one table of throughputs measured in this run; every timing is paired with its
baseline in the same run (ratios are what matter on noisy machines).

    ./dev python -m benchmarks [--rows 1000000] [--events 400000] [--only SECTIONS]
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.limits import bench_limits
from benchmarks.mc_levers import bench_mc_levers
from benchmarks.scaling import bench_memory, bench_scaling
from benchmarks.stages import bench_features, bench_training

warnings.filterwarnings("ignore")


def _best_of(fn: Callable[[], Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _bare_two_body(n: int) -> np.ndarray:
    """The baseline: flat two-body events at sqrt(s) = 10.58 GeV plus the lab boost, in bare
    numpy (what any generator must at least do)."""
    from mlsearch.physics.kinematics import beam_four_momenta, boost, cms_boost_vector

    rng = np.random.default_rng(1)
    e = 10.58 / 2
    c = rng.uniform(-1, 1, n)
    phi = rng.uniform(0, 2 * np.pi, n)
    s = np.sqrt(1 - c**2)
    p1 = np.stack([np.full(n, e), e * s * np.cos(phi), e * s * np.sin(phi), e * c], axis=-1)
    p = np.stack([p1, p1 * np.array([1, -1, -1, -1])], axis=1)
    em, ep = beam_four_momenta()
    return boost(p, -cms_boost_vector(em + ep))


#: (process, events relative to --events, generator arguments)
_PROCESSES: tuple[tuple[str, float, dict[str, float]], ...] = (
    ("mumu", 1.0, {}),
    ("tautau", 0.5, {}),
    ("ee", 0.5, {}),
    ("gg", 0.5, {}),
    ("eemumu", 0.5, {}),
    ("dark_photon", 1.0, {"mass": 2.0}),
    ("alp", 1.0, {"mass": 1.0, "coupling": 1e-3}),
    ("alp_fusion", 0.25, {"mass": 1.0, "coupling": 1e-3}),
    ("zprime", 0.05, {"mass": 2.0, "coupling": 0.01}),
    ("lfv_zprime", 0.05, {"mass": 2.0, "coupling": 0.01}),
)


def bench_generation(n: int) -> list[tuple[str, str, str]]:
    from mlsearch.generate import generate_process

    t_bare = _best_of(lambda: _bare_two_body(n), 3)
    bare = n / t_bare
    rows = [("generate: bare numpy 2-body + lab boost", f"{bare:,.0f} events/s", "baseline")]
    for process, share, kwargs in _PROCESSES:
        k = max(int(n * share), 2000)
        t = _best_of(lambda p=process, k=k, kw=kwargs: generate_process(p, k, 1, **kw), 2)
        rate = k / t
        rows.append((f"generate {process}", f"{rate:,.0f} events/s", f"{bare / rate:.1f}x slower"))
    return rows


def bench_simulation(n: int) -> list[tuple[str, str, str]]:
    """Crystal-level simulation of n / 4 events per process (best of 3), each next to the
    generation of the same events in the same run."""
    from mlsearch.config import SimulateConfig
    from mlsearch.detector import simulate_events
    from mlsearch.generate import generate_process
    from mlsearch.io.events import truth_to_awkward

    rows = []
    for process, kwargs in (("mumu", {}), ("dark_photon", {"mass": 1.0}), ("tautau", {})):
        k = max(n // 4, 2000)
        t_gen = _best_of(lambda p=process, k=k, kw=kwargs: generate_process(p, k, 1, **kw), 2)
        truth = truth_to_awkward(generate_process(process, k, 1, **kwargs))
        simulate_events(truth[:1000], SimulateConfig(), np.random.default_rng(1))  # compile
        t = _best_of(
            lambda tr=truth: simulate_events(tr, SimulateConfig(), np.random.default_rng(1)), 3
        )
        rows.append(
            (
                f"simulate {process} (crystal-level ECL)",
                f"{k / t:,.0f} events/s",
                f"1 core; generating them: {k / t_gen:,.0f} events/s",
            )
        )
    return rows


def _calls(session: Any, one: np.ndarray, n: int) -> None:
    for _ in range(n):
        session.run(["score"], {"input": one})


def bench_inference(n_rows: int) -> list[tuple[str, str, str]]:
    from mlsearch.config import PBDTConfig, PNNConfig
    from mlsearch.export.parity import onnx_session
    from mlsearch.models import make_model
    from mlsearch.scoring import stack_inputs

    rng = np.random.default_rng(0)
    n_feat = 15
    x_train = rng.normal(size=(100_000, n_feat))
    m_train = rng.choice([1.0, 2.0, 3.0], 100_000)
    y = (x_train[:, 0] + 0.3 * m_train + rng.normal(size=100_000) > 0.8).astype(int)
    x = rng.normal(size=(n_rows, n_feat))
    mass = np.full(n_rows, 2.0)
    inputs = stack_inputs(x, mass)
    rows = []
    for kind, params in (
        # fixed 200 trees (no early stopping): the reference model of docs/performance.md
        ("pbdt", PBDTConfig(n_estimators=200, max_depth=6, n_jobs=2, early_stopping_rounds=None)),
        ("pnn", PNNConfig(hidden=[128, 128, 128], epochs=1)),
    ):
        model = make_model(kind, params, 1)
        model.fit(x_train, m_train, y, np.ones(len(y)))
        session = onnx_session(model.to_onnx(n_feat), threads=2)
        t_native = _best_of(lambda m=model: m.score(x, mass))
        t_onnx = _best_of(lambda s=session: s.run(["score"], {"input": inputs}))  # type: ignore[attr-defined]
        # per-candidate calls, as a basf2 module scores one candidate at a time
        one = inputs[:1]
        n_calls = 2000
        t_onnx_1 = _best_of(lambda s=session, o=one, n=n_calls: _calls(s, o, n))
        t_native_1 = _best_of(
            lambda m=model, n=n_calls: [m.score(x[:1], mass[:1]) for _ in range(n)]
        )
        rows.append(
            (
                f"score {kind}, one row per call: onnxruntime vs native",
                f"{n_calls / t_onnx_1:,.0f} vs {n_calls / t_native_1:,.0f} calls/s",
                f"ONNX/native = {t_native_1 / t_onnx_1:.1f}x",
            )
        )
        rows.append(
            (
                f"score {kind}: onnxruntime vs native",
                f"{n_rows / t_onnx:,.0f} vs {n_rows / t_native:,.0f} rows/s",
                f"ONNX/native = {t_native / t_onnx:.2f}x (2 threads)",
            )
        )
        if kind == "pbdt":  # the converter's own form: TreeEnsembleClassifier, both classes
            from onnxmltools import convert_xgboost
            from onnxmltools.convert.common.data_types import FloatTensorType

            raw = convert_xgboost(
                model._require(),  # type: ignore[attr-defined]
                initial_types=[("input", FloatTensorType([None, n_feat + 1]))],
            )
            s_raw = onnx_session(raw, threads=2)
            out = next(o.name for o in raw.graph.output if o.name.startswith("prob"))
            t_raw = _best_of(lambda s=s_raw, o=out: s.run([o], {"input": inputs}))
            rows.append(
                (
                    "score pbdt: onnxmltools' classifier form",
                    f"{n_rows / t_raw:,.0f} rows/s",
                    f"deployed regressor form / it = {t_raw / t_onnx:.2f}x",
                )
            )
    return rows


SEARCH_CONFIGS = ("zprime_invisible", "lfv_zprime", "alp", "dark_photon")


def bench_sensitivity(workdir: str) -> list[tuple[str, str, str]]:
    """Each search's default config through generate .. evaluate (stages cached under
    ``workdir``/<search>): the Punzi sensitivity of the pNN, the pBDT and the cut-based
    baseline per mass, and the leave-one-mass-out gap of the pNN."""
    from pathlib import Path

    import pandas as pd

    from mlsearch.config import load_config
    from mlsearch.pipeline import load_stages

    STAGES = load_stages()

    root = Path(__file__).resolve().parents[1]
    rows = []
    for search in SEARCH_CONFIGS:
        work = Path(workdir) / search
        config = load_config(root / "configs" / f"{search}.yaml", [f"workdir={work}"])
        for name in ("generate", "simulate", "features", "train", "evaluate"):
            STAGES[name](config, None)
        out = work / "results" / search / "evaluation"
        report = pd.read_csv(out / "report.csv")
        lomo = pd.read_csv(out / "leave_one_out.csv")
        by = {k: g.set_index("mass") for k, g in report.groupby("model")}
        for m in by["pbdt"].index:
            pnn, pbdt = by["pnn"].loc[m], by["pbdt"].loc[m]
            best = min(pnn.punzi_xsec_fb, pbdt.punzi_xsec_fb)
            rows.append(
                (
                    f"Punzi {search} m = {m:g} GeV",
                    f"pNN {pnn.punzi_xsec_fb:.3g} / pBDT {pbdt.punzi_xsec_fb:.3g} / cuts "
                    f"{pbdt.baseline_punzi_xsec_fb:.3g} fb",
                    f"best classifier {pbdt.baseline_punzi_xsec_fb / best:.1f}x better than cuts",
                )
            )
        for r in lomo.itertuples():
            rows.append(
                (
                    f"leave-one-mass-out {search} {r.model} m = {r.mass:g} GeV",
                    f"interpolated {r.interpolated_punzi_fb:.3g} / dedicated "
                    f"{r.dedicated_punzi_fb:.3g} fb",
                    f"gap {r.gap:+.1%} (aim: within 5 %)",
                )
            )
    return rows


def bench_assignment(workdir: str) -> list[tuple[str, str, str]]:
    """The three background mass-assignment strategies on the Z' default config (events from
    the sensitivity section's cache): features, training and the evaluation report per
    strategy; the Punzi sensitivity of the pNN and the pBDT per mass."""
    import shutil
    from pathlib import Path

    import pandas as pd

    from mlsearch.config import load_config
    from mlsearch.errors import MlsearchError
    from mlsearch.pipeline import load_stages

    STAGES = load_stages()

    root = Path(__file__).resolve().parents[1]
    source = Path(workdir) / "zprime_invisible"
    rows = []
    for strategy in ("random_grid", "window", "all"):
        work = Path(workdir) / f"assignment_{strategy}"
        if not (work / "data").exists():  # reuse the generated and simulated samples
            for sub in ("events", "reco"):
                shutil.copytree(
                    source / "data" / "zprime_invisible" / sub,
                    work / "data" / "zprime_invisible" / sub,
                    dirs_exist_ok=True,
                )
        config = load_config(
            root / "configs" / "zprime_invisible.yaml",
            [f"workdir={work}", f"train.mass_assignment={strategy}", "evaluate.leave_one_out=[]"],
        )
        start = time.perf_counter()
        try:
            for name in ("generate", "simulate", "features", "train", "evaluate"):
                STAGES[name](config, None)
        except MlsearchError as exc:  # 'all' on the full config: refused by design
            rows.append((f"mass assignment {strategy}", "refused", str(exc)[:160]))
            continue
        seconds = time.perf_counter() - start
        report = pd.read_csv(work / "results/zprime_invisible/evaluation/report.csv")
        for kind, group in report.groupby("model"):
            values = " ".join(f"{v:.3g}" for v in group["punzi_xsec_fb"])
            rows.append(
                (
                    f"mass assignment {strategy}, {kind}",
                    f"Punzi [fb] at {', '.join(f'{m:g}' for m in group['mass'])} GeV: {values}",
                    f"geometric mean {np.exp(np.log(group['punzi_xsec_fb']).mean()):.3g} fb; "
                    f"{seconds:.0f} s",
                )
            )
    return rows


Rows = list[tuple[str, str, str]]


def _section(name: str, run: Callable[[], Rows]) -> Rows:
    """A section's rows; a section that fails is one row with its error (the others, maybe
    an hour of measurements, are still printed and written)."""
    try:
        return run()
    except Exception as exc:
        import traceback

        traceback.print_exc()
        return [(f"{name}: FAILED", type(exc).__name__, str(exc)[:200])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows for scoring")
    parser.add_argument("--events", type=int, default=400_000, help="events for generation")
    parser.add_argument(
        "--only",
        default="generate,simulate,features,training,inference,limits",
        help="comma-separated sections to run (generate, simulate, inference, limits, "
        "sensitivity: the four default configs through evaluate, ~15 min the first time; "
        "assignment: the Z' config with each background mass assignment, after sensitivity; "
        "memory: peak RSS of generate/simulate/features for 10^7 events, ~5 min; scaling: "
        "generate + simulate of 10^7 events on 1 and 2 Dask workers, ~8 min; features, "
        "training; mc: the importance-sampling levers of the background MC, effective "
        "luminosity per second; "
        "all: every section, ~40 min)",
    )
    parser.add_argument(
        "--workdir", default=".bench", help="sensitivity: where the searches' stages are cached"
    )
    parser.add_argument(
        "--memory-events", type=int, default=10_000_000, help="memory: events end to end"
    )
    parser.add_argument(
        "--write", action="store_true", help="also write the table into docs/performance.md"
    )
    args = parser.parse_args()
    sections = {
        "generate": lambda: bench_generation(args.events),
        "simulate": lambda: bench_simulation(args.events),
        "inference": lambda: bench_inference(args.rows),
        "limits": bench_limits,
        "sensitivity": lambda: bench_sensitivity(args.workdir),
        "assignment": lambda: bench_assignment(args.workdir),
        "memory": lambda: bench_memory(args.memory_events),
        "scaling": lambda: bench_scaling(),
        "features": lambda: bench_features(),
        "training": lambda: bench_training(),
        "mc": bench_mc_levers,
    }
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    if chosen == ["all"]:
        chosen = list(sections)
    unknown = sorted(set(chosen) - set(sections))
    if unknown:
        parser.error(
            f"--only: unknown section(s) {', '.join(unknown)}; known: {', '.join(sections)}"
        )
    from rich.console import Console
    from rich.table import Table

    table = Table(title="mlsearch benchmarks (this machine, this run)")
    for col in ("what", "throughput", "note"):
        table.add_column(col)
    rows = [row for name in chosen for row in _section(name, sections[name])]
    for row in rows:
        table.add_row(*row)
    Console().print(table)
    if args.write:
        from benchmarks.table import write_table

        write_table(rows, chosen)


if __name__ == "__main__":
    main()
