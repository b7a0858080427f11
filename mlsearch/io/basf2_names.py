"""basf2 naming: the ROOT branch name VariablesToNtuple writes for a variable string (basf2's
``makeROOTCompatible``: reserved characters spelled out, anything else outside [A-Za-z0-9_]
dropped). Shared by the ntuple reader and the standalone scorer."""

from __future__ import annotations

import re

__all__ = ["basf2_branch_name"]

_ESCAPES = {
    " ": "__sp",
    ",": "__cm",
    ":": "__cl",
    "(": "__bo",
    ")": "__bc",
    ".": "__pt",
    "+": "__pl",
    "-": "__mi",
    "=": "__eq",
    "<": "__st",
    ">": "__gt",
    "[": "__so",
    "]": "__sc",
    "*": "__mu",
    "/": "__sl",
}


def basf2_branch_name(variable: str) -> str:
    """The ROOT branch VariablesToNtuple writes for a basf2 variable string.

    >>> basf2_branch_name("daughter(0, p)")
    'daughter__bo0__cm__spp__bc'
    """
    escaped = "".join(_ESCAPES.get(c, c) for c in variable)
    return re.sub(r"[^A-Za-z0-9_]", "", escaped)
