"""Benchmarks of the partitioned stages: peak memory for 10^7 events, and 1 vs 2 workers."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "configs/profiles/zprime_invisible_small.yaml"


def _config(workdir: Path, n_events: int, partition: int) -> Path:
    """The small Z' profile with one mu mu background of ``n_events``."""
    raw = yaml.safe_load(PROFILE.read_text())
    raw["workdir"] = str(workdir)
    raw["generate"]["signal"]["masses"] = [1.0]
    raw["generate"]["backgrounds"] = [{"process": "mumu", "n_events": n_events}]
    raw["compute"] = {"partition_events": partition}
    raw.pop("limits", None)  # (its uncertainties name backgrounds this config lacks)
    path = workdir / "config.yaml"
    workdir.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw))
    return path


def _stage(stage: str, config: Path, *extra: str) -> tuple[float, float]:
    """(wall seconds, peak RSS [GiB]) of ``mlsearch STAGE CONFIG``."""
    return _mlsearch(stage, str(config), *extra)


# Starts the command from a small, freshly exec'ed process and reports the peak RSS it saw:
# Linux keeps a process's peak RSS across fork + exec, so a command started straight from
# this (by then several GiB) benchmark process would report this process's peak instead.
_PEAK_RSS = (
    "import os, subprocess, sys\n"
    "proc = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(proc.pid, 0)\n"
    "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def _mlsearch(*args: str) -> tuple[float, float]:
    """(wall seconds, peak RSS [GiB]) of ``mlsearch ARGS`` in its own process (the RSS of
    that process and the worker processes it waited for)."""
    with tempfile.TemporaryDirectory() as tmp:
        peak = Path(tmp) / "maxrss"
        start = time.perf_counter()
        res = subprocess.run(
            [sys.executable, "-c", _PEAK_RSS, str(peak), sys.executable, "-m", "mlsearch", *args],
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        wall = time.perf_counter() - start
        if res.returncode != 0:
            raise RuntimeError(f"mlsearch {args[0]} failed: {res.stderr[-2000:]}")
        return wall, int(peak.read_text()) / 2**20  # kB -> GiB


def _model(workdir: Path) -> Path:
    """The pBDT of the same config with 2x10^5 mu mu events, exported to ONNX (not timed)."""
    config = _config(workdir, 200_000, 200_000)
    for stage in ("generate", "simulate", "features", "train", "export"):
        _stage(stage, config)
    return workdir / "models/zprime_invisible/pbdt.onnx"


def bench_memory(
    n_events: int = 10_000_000, partition: int = 500_000
) -> list[tuple[str, str, str]]:
    """generate -> simulate -> features -> score (``mlsearch predict`` with the exported
    pBDT) for ``n_events`` mu mu events in partitions of ``partition``: peak RSS per stage
    (each stage streams its file part by part)."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        config = _config(Path(tmp), n_events, partition)
        model = _model(Path(tmp) / "model")
        table = Path(tmp) / "data/zprime_invisible/features.parquet"
        steps: dict[str, tuple[str, ...]] = {
            s: (s, str(config)) for s in ("generate", "simulate", "features")
        }
        steps["score"] = ("predict", str(model), str(table), "--mass", "1", "-o", f"{tmp}/s.pq")
        for stage, args in steps.items():
            wall, rss = _mlsearch(*args)
            rows.append(
                (
                    f"memory: {stage}, {n_events:.0e} mu mu events, partitions of {partition:.0e}",
                    f"peak RSS {rss:.2f} GiB",
                    f"{wall:.0f} s ({n_events / wall / 1e3:.0f}k events/s, one process)",
                )
            )
    return rows


def bench_scaling(n_events: int = 10_000_000, small: int = 20_000) -> list[tuple[str, str, str]]:
    """generate + simulate of ``n_events`` mu mu events (partitions of 2x10^5): in one
    process, and on a LocalCluster of 1 and 2 single-threaded workers, in the same run. Each
    layout also runs ``small`` events: its fixed cost (starting Python, the cluster, the
    MLflow run), so the rows give the wall time and the throughput of the work itself. 10^7
    events (~8 min for all of it) make the ~15 s fixed cost small beside the work, as it is
    in the default jobs (4-7x10^7 events)."""
    times, fixed = {}, {}
    for label, extra in (
        ("one process", ()),
        ("LocalCluster, 1 worker", ("--scheduler", "local", "--set", "compute.workers=1")),
        ("LocalCluster, 2 workers", ("--scheduler", "local", "--set", "compute.workers=2")),
    ):
        for n, out in ((n_events, times), (small, fixed)):
            with tempfile.TemporaryDirectory() as tmp:
                config = _config(Path(tmp), n, min(n, 200_000))
                out[label] = sum(_stage(s, config, *extra)[0] for s in ("generate", "simulate"))
    base = times["LocalCluster, 1 worker"]
    base_work = base - fixed["LocalCluster, 1 worker"]
    rows = []
    for label, t in times.items():
        work = t - fixed[label]
        rows.append(
            (
                f"scaling: generate + simulate, {n_events:.0e} mu mu events, {label}",
                f"{t:.1f} s ({n_events / t / 1e3:.0f}k events/s); without the {fixed[label]:.1f} s "
                f"fixed cost: {(n_events - small) / work / 1e3:.0f}k events/s",
                f"{base / t:.2f}x the 1-worker cluster (wall); {base_work / work:.2f}x "
                "without the fixed costs",
            )
        )
    return rows
