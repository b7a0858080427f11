"""The L_mu - L_tau Z' model: partial widths and the invisible branching fraction.

The Z' couples with strength g' vectorially to mu, tau and left-handed nu_mu, nu_tau.
Gamma(Z' -> l+ l-) = g'^2 M / (12 pi) (1 + 2 r) sqrt(1 - 4 r), r = m_l^2 / M^2;
Gamma(Z' -> nu nubar) = g'^2 M / (24 pi) per flavour (one helicity).
"""

from __future__ import annotations

import math

from mlsearch.physics.constants import M_MU, M_TAU

__all__ = ["invisible_branching_fraction", "total_width"]


def _charged_width(mass: float, g: float, m_lepton: float) -> float:
    r = (m_lepton / mass) ** 2
    if 4 * r >= 1:
        return 0.0
    return g**2 * mass / (12 * math.pi) * (1 + 2 * r) * math.sqrt(1 - 4 * r)


def total_width(mass: float, g: float) -> float:
    """Total Z' width [GeV] for mass [GeV] and coupling g'."""
    neutrinos = 2 * g**2 * mass / (24 * math.pi)
    return neutrinos + _charged_width(mass, g, M_MU) + _charged_width(mass, g, M_TAU)


def invisible_branching_fraction(mass: float) -> float:
    """B(Z' -> nu nubar) in L_mu - L_tau (independent of g').

    Below the muon threshold the Z' decays only to neutrinos; far above it the charged
    muon channel takes 2/3 of the width:

    >>> invisible_branching_fraction(0.2)
    1.0
    >>> round(invisible_branching_fraction(3.0), 4)
    0.5
    >>> round(invisible_branching_fraction(0.25), 4)  # near threshold: muons phase-space suppressed
    0.5796
    """
    neutrinos = 2 * mass / (24 * math.pi)
    return neutrinos / total_width(mass, 1.0)
