"""Running of alpha: the photon vacuum polarisation Re Pi(s) for time-like s.

Leptonic part from the one-loop formula with the full lepton-mass dependence; hadronic part
from the Burkhardt parametrisation Re Pi_had(s) = A + B ln(1 + C s) (H. Burkhardt et al.,
Z. Phys. C 43 (1989) 497; the form PYTHIA 6 uses in PYALEM). At sqrt(s) = 10.58 GeV this gives
Delta alpha = 0.0371 (1/alpha = 131.9), so an s-channel cross section grows by
1/(1 - Delta alpha)^2 = 1.079.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mlsearch.physics.constants import ALPHA_EM, M_E, M_MU, M_TAU

__all__ = ["delta_alpha", "vp_factor"]

FloatArray = NDArray[np.float64]

# (upper edge of s [GeV^2], A, B, C) of the hadronic parametrisation
_HADRONIC = ((0.09, 0.0, 0.00835, 1.0), (9.0, 0.0, 0.00238, 3.927), (1e4, 0.00165, 0.00299, 1.0))
_HADRONIC_HIGH = (0.00221, 0.00293, 1.0)


def _lepton_loop(s: FloatArray, mass: float) -> FloatArray:
    """Re Pi for one lepton of ``mass`` at time-like s [GeV^2] (one loop, on-shell scheme)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        r = 4 * mass**2 / s
        above = r < 1
        b2 = np.abs(1 - r)  # beta^2 above threshold, b^2 = r - 1 below
        b = np.sqrt(b2)
        above_term = b2 + b * (3 - b2) / 2 * np.log(np.abs((1 + b) / (1 - b)))
        # below threshold beta = i b; the real branch of the log gives arctan(1/b)
        below_term = -b2 + b * (3 + b2) * np.arctan(1 / np.where(above, 1.0, b))
        value = ALPHA_EM / (3 * np.pi) * (-8 / 3 + np.where(above, above_term, below_term))
    return np.where(s > 0, value, 0.0)


def delta_alpha(s: FloatArray | float) -> FloatArray:
    """Delta alpha(s) = Re Pi(s), leptons + hadrons, for time-like s [GeV^2].

    >>> round(float(delta_alpha(10.58**2)), 4)
    0.0371
    """
    s = np.asarray(s, dtype=np.float64)
    lep = sum(_lepton_loop(s, m) for m in (M_E, M_MU, M_TAU))
    had = np.full_like(s, _HADRONIC_HIGH[0] + _HADRONIC_HIGH[1] * np.log1p(_HADRONIC_HIGH[2] * s))
    for edge, a, b, c in reversed(_HADRONIC):
        had = np.where(s < edge, a + b * np.log1p(c * s), had)
    return np.asarray(lep + had)


def vp_factor(s: FloatArray | float) -> FloatArray:
    """|alpha(s)/alpha(0)|^2 = 1/(1 - Delta alpha(s))^2, the factor on an s-channel cross
    section (the imaginary part is dropped: it enters at O(alpha^2) here)."""
    return np.asarray(1.0 / (1.0 - delta_alpha(s)) ** 2)
