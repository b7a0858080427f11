"""User-facing errors: the CLI prints them as one line and exits non-zero, no traceback."""

from __future__ import annotations

import errno

__all__ = ["ConfigError", "InputError", "MlsearchError", "ResourceError", "is_disk_full"]


class MlsearchError(Exception):
    """Base class of errors caused by the user's input, not by a bug."""

    exit_code = 1


class ConfigError(MlsearchError):
    """Invalid configuration: unknown key, wrong type, bad override, missing config file."""

    exit_code = 2


class InputError(MlsearchError):
    """Missing or malformed input file (events, features, model)."""

    exit_code = 1


class ResourceError(MlsearchError):
    """The machine ran out of something the run needs: disk space, or workers that a task
    kept killing (memory). Rerunning after fixing it resumes from the finished outputs."""

    exit_code = 1


def is_disk_full(exc: BaseException) -> bool:
    """An OSError that means "no space left" (or over quota); pyarrow raises it with the
    message only, without errno."""
    return isinstance(exc, OSError) and (
        exc.errno in (errno.ENOSPC, errno.EDQUOT) or "No space left on device" in str(exc)
    )
