"""User-facing errors: the CLI prints them as one line and exits non-zero, no traceback."""

from __future__ import annotations

__all__ = ["ConfigError", "InputError", "MlsearchError"]


class MlsearchError(Exception):
    """Base class of errors caused by the user's input, not by a bug."""

    exit_code = 1


class ConfigError(MlsearchError):
    """Invalid configuration: unknown key, wrong type, bad override, missing config file."""

    exit_code = 2


class InputError(MlsearchError):
    """Missing or malformed input file (events, features, model)."""

    exit_code = 1
