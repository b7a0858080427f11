"""A killed run resumes: finished samples are kept, nothing half-written is ever read."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from .conftest import SMALL_PROFILE, run_cli

pytestmark = pytest.mark.slow

OVERRIDES = [
    "--set",
    "generate.signal.masses=[1,2,3,4,5,6]",
    "--set",
    "generate.signal.n_events=4000",
]


def test_generate_killed_midway_resumes_to_identical_output(tmp_path: Path) -> None:
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    events = killed / "data/zprime_invisible/events"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlsearch",
            "generate",
            str(SMALL_PROFILE),
            "--set",
            f"workdir={killed}",
            *OVERRIDES,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(events.glob("zprime_m*.parquet"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    from mlsearch.config import load_config

    config = load_config(SMALL_PROFILE, [OVERRIDES[1], OVERRIDES[3]])
    total = len(config.generate.signal.masses) + len(config.generate.backgrounds)
    # (pathlib's * also matches the hidden .tmp-* file of the sample being written)
    done_before = sorted(p.name for p in events.glob("[!.]*.parquet"))
    assert 2 <= len(done_before) < total, done_before  # killed in the middle
    mtimes = {p.name: p.stat().st_mtime_ns for p in events.glob("[!.]*.parquet")}
    res = run_cli("generate", str(SMALL_PROFILE), "--set", f"workdir={killed}", *OVERRIDES)
    assert res.returncode == 0, res.stderr[-2000:]
    assert f"{total - len(done_before)} made, {len(done_before)} cached" in res.stderr
    for name, mtime in mtimes.items():  # finished samples were not redone
        assert (events / name).stat().st_mtime_ns == mtime
    assert not list(events.glob(".tmp-*"))  # killed partial writes were never promoted
    res = run_cli("generate", str(SMALL_PROFILE), "--set", f"workdir={clean}", *OVERRIDES)
    assert res.returncode == 0
    for path in sorted((clean / "data/zprime_invisible/events").glob("*.parquet")):
        pd.testing.assert_frame_equal(pd.read_parquet(path), pd.read_parquet(events / path.name))


def _kill_when(args: list[str], ready: Callable[[], bool]) -> None:
    """Start ``mlsearch ARGS``, SIGKILL its process group once ``ready()`` holds."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlsearch", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not ready() and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, "the stage finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.parametrize("stage", ["simulate", "features"])
def test_simulate_and_features_killed_midway_resume_to_identical_output(
    stage: str, tmp_path: Path
) -> None:
    """SIGKILL while the stage writes (simulate: after its first sample, features: while the
    table's temporary file grows): no partial file is promoted or read, and the rerun gives
    the files of an uninterrupted run."""
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    data = Path("data/zprime_invisible")
    before = ["generate"] if stage == "simulate" else ["generate", "simulate"]
    for work in (killed, clean):
        for name in before:
            res = run_cli(name, str(SMALL_PROFILE), "--set", f"workdir={work}", *OVERRIDES)
            assert res.returncode == 0, res.stderr[-2000:]
    if stage == "simulate":
        reco = killed / data / "reco"
        ready = lambda: len(list(reco.glob("[!.]*.parquet"))) >= 1  # noqa: E731
    else:
        ready = lambda: any((killed / data).glob(".tmp-features-*"))  # noqa: E731
    args = [stage, str(SMALL_PROFILE), "--set", f"workdir={killed}", *OVERRIDES]
    _kill_when(args, ready)
    if stage == "features":
        assert not (killed / data / "features.parquet").exists()
    kept = len(list((killed / data / "reco").glob("[!.]*.parquet")))
    for work in (killed, clean):
        res = run_cli(stage, str(SMALL_PROFILE), "--set", f"workdir={work}", *OVERRIDES)
        assert res.returncode == 0, res.stderr[-2000:]
        if stage == "simulate" and work == killed:
            assert f"{9 - kept} made, {kept} cached" in res.stderr  # finished samples kept
    assert not list((killed / data).rglob(".tmp-*"))
    if stage == "simulate":
        outputs = sorted((clean / data / "reco").glob("*.parquet"))
        assert len(outputs) == 9  # 6 signal masses, 3 backgrounds
    else:
        outputs = [clean / data / "features.parquet"]
    for path in outputs:
        other = killed / path.relative_to(clean)
        pd.testing.assert_frame_equal(pd.read_parquet(path), pd.read_parquet(other))


def test_a_corrupt_cached_file_is_rebuilt(tmp_path: Path) -> None:
    """A cached event file or feature table that is damaged (here: its tail cut off, as a
    full disk or a crash outside mlsearch leaves it) is not trusted: the stage rebuilds it,
    identical to the original."""
    work = ["--set", f"workdir={tmp_path}", "--set", "generate.signal.masses=[1]"]
    for stage in ("generate", "simulate", "features"):
        assert run_cli(stage, str(SMALL_PROFILE), *work).returncode == 0
    data = tmp_path / "data/zprime_invisible"
    originals = {}
    for rel in ("events/mumu.parquet", "reco/tautau.parquet", "features.parquet"):
        path = data / rel
        originals[rel] = pd.read_parquet(path)
        if path.is_dir():  # an event sample: a dataset directory of part files
            path = sorted(path.glob("part-*.parquet"))[0]
        blob = path.read_bytes()
        path.write_bytes(blob[: len(blob) // 2])  # truncated: footer and metadata gone
    for stage, expect in (
        ("generate", "1 made, 3 cached"),  # the truncated mu mu truth file
        ("simulate", "1 made, 3 cached"),  # the truncated tau tau reco file
        ("features", "features  done"),
    ):
        res = run_cli(stage, str(SMALL_PROFILE), *work)
        assert res.returncode == 0, res.stderr[-2000:]
        assert expect in res.stderr, (stage, res.stderr[-500:])
    for rel, frame in originals.items():
        pd.testing.assert_frame_equal(pd.read_parquet(data / rel), frame)


def test_a_full_disk_is_a_clear_error_and_the_rerun_resumes(tmp_path: Path) -> None:
    """A workdir on a 2 MiB filesystem: generate stops with one line naming the file it
    could not write (no traceback, no partial file); after the disk grows, the rerun keeps
    the sample that was finished and makes the rest."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)]
    if subprocess.run(mount, capture_output=True).returncode != 0:
        pytest.skip("needs permission to mount a small tmpfs (root with CAP_SYS_ADMIN)")
    try:
        work = ["--set", f"workdir={disk}", "--set", "generate.signal.masses=[1]"]
        res = run_cli("generate", str(SMALL_PROFILE), *work)
        assert res.returncode == 2
        events = disk / "data/zprime_invisible/events"
        assert f"error: {events}/" in res.stderr and "no space left on the device" in res.stderr
        assert "Traceback" not in res.stderr
        assert not list(events.glob(".tmp-*"))
        done = sorted(p.name for p in events.glob("*.parquet"))
        assert len(done) == 1, done  # the signal sample fits, the mu mu background does not
        subprocess.run(["mount", "-o", "remount,size=200m", str(disk)], check=True)
        res = run_cli("generate", str(SMALL_PROFILE), *work)
        assert res.returncode == 0, res.stderr[-2000:]
        assert "3 made, 1 cached" in res.stderr
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
