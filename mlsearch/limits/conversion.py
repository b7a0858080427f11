"""From a limit on the signal strength to the quantities a paper quotes, written once.

mu is in units of ``scale`` x the reference signal (n_ref selected events in the window at
the reference coupling g_ref, for luminosity L). Then

    N = mu x scale x n_ref   [signal events]
    sigma x B = N / (efficiency x L)   [fb]
    g = g_ref sqrt(N / n_ref)

since every signal here has sigma ~ g^2 at fixed mass (g', g_emu, g_a_gamma_gamma, epsilon)
and its branching fractions do not depend on g (for the ALP the efficiency is the one at
the reference coupling: prompt decays). A projection to the luminosity k L scales n_ref by
k.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["SignalLimit", "signal_limit"]


@dataclass(frozen=True)
class SignalLimit:
    """One limit in signal events, in sigma x B [fb] and in the coupling."""

    events: float
    xsec_fb: float
    coupling: float


def signal_limit(
    mu: float,
    scale: float,
    n_ref: float,
    efficiency: float,
    luminosity_fb: float,
    coupling_ref: float,
    luminosity_factor: float = 1.0,
) -> SignalLimit:
    """The limit ``mu`` (x ``scale``) in events, sigma x B and coupling for the luminosity
    ``luminosity_fb``, which is ``luminosity_factor`` x the one ``n_ref`` was counted at.

    >>> lim = signal_limit(0.5, 4.0, 10.0, 0.2, 100.0, 0.01)
    >>> lim.events, lim.xsec_fb, round(lim.coupling, 6)
    (20.0, 1.0, 0.014142)
    >>> signal_limit(0.5, 4.0, 10.0, 0.2, 400.0, 0.01, luminosity_factor=4).xsec_fb
    1.0
    """
    events = mu * scale * n_ref * luminosity_factor
    n_ref_here = n_ref * luminosity_factor
    return SignalLimit(
        events, events / (efficiency * luminosity_fb), coupling_ref * math.sqrt(events / n_ref_here)
    )
