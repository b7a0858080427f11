"""The mass range each signal generator covers at sqrt(s) = 10.58 GeV, in one place: the
config validation refuses a mass outside it before any work, and the generators refuse it
too (for direct calls and `mlsearch generate PROCESS --mass M`)."""

from __future__ import annotations

from dataclasses import dataclass

from mlsearch.physics.constants import M_E, M_MU

__all__ = ["SIGNAL_MASS_RANGES", "MassRange", "signal_mass_problem"]

_SQRT_S = 10.58  # nominal CM energy [GeV]; beam-energy spread is far below the margins


@dataclass(frozen=True)
class MassRange:
    """low < m < high [GeV] (``low_inclusive``: low <= m), and what lies beyond."""

    name: str
    low: float
    high: float
    shown: str  # the range as printed, e.g. "(0, 10.37)"
    why: str = ""
    low_inclusive: bool = False

    def contains(self, mass: float) -> bool:
        above = mass >= self.low if self.low_inclusive else mass > self.low
        return above and mass < self.high


SIGNAL_MASS_RANGES = {
    # e+e- -> mu+ mu- Z': the Z' and both muons share sqrt(s)
    "zprime": MassRange("Z'", 0.0, _SQRT_S - 2 * M_MU, "the kinematic range (0, 10.37)"),
    # below m_mu - m_e the mu+* -> e+ Z' propagator goes on shell: that is muon decay
    # mu -> e Z', a different search with its own (far stronger) limits
    "lfv_zprime": MassRange(
        "LFV Z'",
        M_MU - M_E,
        _SQRT_S - M_MU - M_E,
        "the range (0.106, 10.47)",
        ": below m_mu - m_e the process is mu -> e Z' decay",
    ),
    "alp": MassRange("ALP", 0.0, 10.57, "the kinematic range (0, 10.57)"),
    # photon fusion: the two-photon system rarely reaches the full CM energy
    "alp_fusion": MassRange("ALP", 0.0, 10.0, "the photon-fusion range (0, 10)"),
    "dark_photon": MassRange(
        "A'", 0.0, _SQRT_S - 0.01, "the kinematic range [0, 10.57)", low_inclusive=True
    ),
}


def signal_mass_problem(process: str, mass: float) -> str | None:
    """Why ``mass`` [GeV] cannot be generated for the signal ``process`` (None if it can).

    >>> signal_mass_problem("zprime", 11.0)
    "Z' mass 11 GeV outside the kinematic range (0, 10.37)"
    >>> signal_mass_problem("zprime", 3.0) is None
    True
    """
    allowed = SIGNAL_MASS_RANGES.get(process)
    if allowed is None or allowed.contains(mass):
        return None
    return f"{allowed.name} mass {mass:g} GeV outside {allowed.shown}{allowed.why}"
