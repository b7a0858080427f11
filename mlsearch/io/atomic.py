"""Atomic file output: write to a temporary sibling, then rename over the target."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlsearch.errors import ResourceError, is_disk_full

__all__ = ["atomic_path", "write_json_atomic", "write_text_atomic"]


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it onto ``target`` on success.

    A killed process leaves at most a ``.tmp-*`` file behind, never a half-written target.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # a writer killed earlier may have left its temporary file: it is never read, drop it
    for stale in target.parent.glob(f".tmp-{target.stem}-*{target.suffix}"):
        stale.unlink(missing_ok=True)
    # keep the suffix: some writers (xgboost) choose the format from it
    fd, tmp = tempfile.mkstemp(
        prefix=f".tmp-{target.stem}-", suffix=target.suffix, dir=target.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; outputs are ordinary files
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except OSError as exc:
        if is_disk_full(exc):
            tmp_path.unlink(missing_ok=True)
            free = shutil.disk_usage(target.parent).free / 2**20
            raise ResourceError(
                f"{target}: no space left on the device ({free:.1f} MiB free in "
                f"{target.parent}); free space or choose another workdir, then rerun (finished "
                "outputs are kept, the partial file was removed)"
            ) from None
        raise
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(target: str | os.PathLike[str], text: str) -> None:
    """Write text to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text)


def write_json_atomic(target: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``target`` atomically."""
    write_text_atomic(target, json.dumps(obj, indent=2, sort_keys=True) + "\n")
