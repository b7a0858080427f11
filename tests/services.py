"""Real services for the tests: a PostgreSQL server and the MLflow UI on 127.0.0.1."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from .conftest import require_services


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


def _missing(what: str) -> None:
    if require_services():
        pytest.fail(f"{what} is required (MLSEARCH_REQUIRE_SERVICES=1) but not installed")
    pytest.skip(f"{what} not installed")


class Postgres:
    """A throw-away PostgreSQL server listening on 127.0.0.1 only.

    Its data live in a fresh folder under the system temp dir (pytest's own tmp dirs are
    private to root, and the server runs as the postgres user when we are root).
    """

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            _missing("PostgreSQL (Debian package postgresql)")
        self.bin = Path(bins[-1])
        self.folder = Path(tempfile.mkdtemp(prefix="mlsearch-pg-"))
        self.data = self.folder / "pgdata"
        self.port = free_port()
        # initdb refuses to run as root: run the server as the postgres user then
        runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
        if os.geteuid() == 0 and not runuser:
            _missing("runuser (util-linux), to start PostgreSQL as the postgres user")
        self.as_user = [str(runuser), "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.data.mkdir()
        if self.as_user:
            shutil.chown(self.data, "postgres", "postgres")
            os.chmod(self.folder, 0o755)

    def _run(self, *cmd: str) -> None:
        subprocess.run([*self.as_user, *cmd], check=True, capture_output=True, timeout=120)

    def start(self) -> str:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        )
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data} -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            opts,
            "-w",
            "-l",
            str(self.data / "server.log"),
            "start",
        )
        self._run(
            str(self.bin / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "mlflow",
        )
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/mlflow"

    def stop(self) -> None:
        subprocess.run(
            [
                *self.as_user,
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def chromium_paths() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        _missing("Chromium and ChromeDriver (Debian packages chromium, chromium-driver)")
    return str(browser), str(driver)
