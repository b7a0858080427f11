"""User-facing errors: the CLI prints them as one line and exits with code 2, no traceback.

Exit codes: 0 success, 1 a check that ran and failed (``validate-onnx`` on a model that
breaks the contract), 2 an error of the input (config, file, model, resources), 130
interrupted. Domain code raises these (or a subclass) for anything a user can cause and fix;
a bare ValueError or RuntimeError escaping to the CLI is a bug.
"""

from __future__ import annotations

import errno

__all__ = [
    "ConfigError",
    "InputError",
    "MlsearchError",
    "ModelError",
    "ResourceError",
    "is_disk_full",
]


class MlsearchError(Exception):
    """Base class of errors caused by the user's input, not by a bug."""

    exit_code = 2


class ConfigError(MlsearchError):
    """Invalid configuration: unknown key, wrong type, bad override, missing config file,
    a value outside what the physics allows (e.g. a mass above the kinematic limit)."""


class InputError(MlsearchError):
    """Missing, truncated or malformed input file (events, features, ntuple, LHE, HepMC3,
    model), or an input that does not fit the request (a mass outside a model's range)."""


class ModelError(MlsearchError):
    """A model that must not be used: its ONNX export differs from the native model, or it
    breaks the ONNX contract."""


class ResourceError(MlsearchError):
    """The machine ran out of something the run needs: disk space, or workers that a task
    kept killing (memory). Rerunning after fixing it resumes from the finished outputs."""


def is_disk_full(exc: BaseException) -> bool:
    """An OSError that means "no space left" (or over quota); pyarrow raises it with the
    message only, without errno."""
    return isinstance(exc, OSError) and (
        exc.errno in (errno.ENOSPC, errno.EDQUOT) or "No space left on device" in str(exc)
    )
