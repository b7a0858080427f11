"""A run left RUNNING by a process killed outright is marked KILLED by the next command on
the same store; a run whose process still runs is left alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mlsearch.config import load_config
from mlsearch.tracking.runs import KILLED_TAG, PID_TAG, mlflow_run
from mlsearch.tracking.store import import_mlflow, tracking_uri

from .conftest import SMALL_PROFILE

_STAGE = """
import os, signal, sys
from mlsearch.config import load_config
from mlsearch.tracking.runs import mlflow_run
cfg = load_config({profile!r}, ["workdir={workdir}"])
with mlflow_run(cfg, {name!r}, {{"mlsearch.stage": {name!r}}}) as run:
    print(run.info.run_id, flush=True)
    if {name!r} == "victim":
        os.kill(os.getpid(), signal.SIGKILL)  # kill -9: no chance to close the run
    sys.stdin.read()  # the live one: runs until the test closes its stdin
"""


def _stage(name: str, workdir: Path) -> subprocess.Popen[str]:
    code = _STAGE.format(profile=str(SMALL_PROFILE), workdir=workdir, name=name)
    return subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_run_left_running_by_a_killed_process_is_marked_killed_by_the_next(tmp_path):
    config = load_config(SMALL_PROFILE, [f"workdir={tmp_path}"])
    victim = _stage("victim", tmp_path)
    victim_id = victim.stdout.readline().strip()
    assert victim.wait(timeout=120) == -9, victim.stderr.read()
    client = import_mlflow(tracking_uri(config)).MlflowClient(tracking_uri(config))
    assert client.get_run(victim_id).info.status == "RUNNING"  # what kill -9 leaves
    live = _stage("live", tmp_path)  # the next command on the store: it marks the victim
    live_id = live.stdout.readline().strip()
    try:
        with mlflow_run(config, "next", {"mlsearch.stage": "next"}):  # and this one not live
            pass
        killed = client.get_run(victim_id)
        assert killed.info.status == "KILLED"
        assert f"pid {killed.data.tags[PID_TAG]}" in killed.data.tags[KILLED_TAG]
        still = client.get_run(live_id)
        assert still.info.status == "RUNNING" and KILLED_TAG not in still.data.tags
    finally:
        live.stdin.close()
        assert live.wait(timeout=120) == 0, live.stderr.read()
    assert client.get_run(live_id).info.status == "FINISHED"
