"""Tree-level e+e- -> gamma* -> mu+ mu- Z' with the Z' radiated off the muon line.

The Z' couples vectorially to muons with coupling g' (L_mu - L_tau). The squared matrix element
is summed over all spins and polarisations with massive muons, by taking Dirac traces
numerically: |M|^2 = e^4 g'^2 / s^2 * L_ab H^ab. The k^mu k^nu / M^2 part of the Z'
polarisation sum drops out because the muon vector current is conserved (tested).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlsearch.physics.constants import ALPHA_EM, M_MU
from mlsearch.physics.dirac import GAMMA, METRIC, slash
from mlsearch.physics.kinematics import minkowski_dot

__all__ = [
    "lepton_tensor",
    "muon_tensor",
    "squared_me_zprime",
    "squared_me_zprime_cm",
    "transverse_trace",
]

FloatArray = NDArray[np.float64]


def lepton_tensor(p1: FloatArray, p2: FloatArray) -> FloatArray:
    """Spin-summed e+e- tensor L_ab (lower indices) for massless beams, shape (..., 4, 4)."""
    lo1 = p1 * np.diag(METRIC)
    lo2 = p2 * np.diag(METRIC)
    dot = minkowski_dot(p1, p2)
    outer = lo1[..., :, None] * lo2[..., None, :]
    return 4.0 * (outer + np.swapaxes(outer, -1, -2) - dot[..., None, None] * METRIC)


def _chains(
    q1: FloatArray,
    q2: FloatArray,
    k: FloatArray,
    m1: float,
    m2: float,
    polarisation_sum: str,
    photon: NDArray[np.complex128],
) -> tuple[NDArray[np.complex128], NDArray[np.complex128], NDArray[np.complex128]]:
    """(q1/ + m1) Gam[n, a] and (q2/ - m2) Gbar[n, a] for the photon vertex matrices
    ``photon`` (one per photon index a), and the Z' polarisation-sum weights per n."""
    one = np.eye(4, dtype=np.complex128)
    d1 = (minkowski_dot(q1 + k, q1 + k) - m2 * m2)[..., None, None]
    d2 = (minkowski_dot(q2 + k, q2 + k) - m1 * m1)[..., None, None]
    s1 = (slash(q1 + k) + m2 * one) / d1  # propagator, emission from the l1 line
    s2 = (-slash(q2 + k) + m1 * one) / d2  # propagator, emission from the l2 line
    if polarisation_sum == "metric":
        zvert = GAMMA  # one Z' vertex matrix per polarisation index n
        weights = -np.diag(METRIC).astype(np.complex128)
    elif polarisation_sum == "longitudinal":
        zvert = slash(k)[..., None, :, :]
        weights = np.ones(1, dtype=np.complex128)
    else:
        raise ValueError(f"unknown polarisation_sum {polarisation_sum!r}")
    s1 = s1[..., None, None, :, :]
    s2 = s2[..., None, None, :, :]
    zn = np.broadcast_to(zvert, s1.shape[:-4] + zvert.shape[-3:])[..., :, None, :, :]
    ga = photon[None, :, :, :]  # photon index a on axis -3
    # Gam[n, a] = Z^n S1 g^a + g^a S2 Z^n ;  Gbar[n, b] = g^b S1 Z^n + Z^n S2 g^b
    gam = zn @ s1 @ ga + ga @ s2 @ zn
    gbar = ga @ s1 @ zn + zn @ s2 @ ga
    left = (slash(q1) + m1 * one)[..., None, None, :, :] @ gam
    right = (slash(q2) - m2 * one)[..., None, None, :, :] @ gbar
    return left, right, weights


def muon_tensor(
    q1: FloatArray,
    q2: FloatArray,
    k: FloatArray,
    m: float = M_MU,
    polarisation_sum: str = "metric",
    m2: float | None = None,
) -> NDArray[np.complex128]:
    """Muon-side tensor H^ab (upper indices) for gamma*(a) -> l1-(q1) l2+(q2) Z'(k), per g'^2.

    l1 has mass ``m``, l2 mass ``m2`` (default m). With m2 != m the Z' vertex changes flavour
    (LFV Z'): the line that ends in l1 propagates as the flavour of l2 and vice versa.
    ``polarisation_sum="metric"`` sums Z' polarisations with -g_{nu rho};
    ``"longitudinal"`` contracts both Z' indices with k (vanishes for m2 = m: current
    conservation; for the LFV vertex it carries (m1 - m2)^2 / M^2).
    """
    m2 = m if m2 is None else m2
    left, right, weights = _chains(q1, q2, k, m, m2, polarisation_sum, GAMMA)
    # Tr[left_a right_b] = sum_ij left_a[i, j] right_b[j, i]
    nz, na = left.shape[-4], left.shape[-3]
    lf = left.reshape((*left.shape[:-4], nz, na, 16))
    rt = np.swapaxes(right, -1, -2).reshape((*right.shape[:-4], nz, na, 16))
    traces = lf @ np.swapaxes(rt, -1, -2)  # (..., n, a, b)
    return np.einsum("...nab,n->...ab", traces, weights)


def transverse_trace(
    q1: FloatArray,
    q2: FloatArray,
    k: FloatArray,
    m: float = M_MU,
    polarisation_sum: str = "metric",
    m2: float | None = None,
) -> FloatArray:
    """H^11 + H^22 of :func:`muon_tensor`, 8x cheaper: with massless beams along +-z the
    lepton tensor in the CM frame is L_ab = 2 s (delta_a1 delta_b1 + delta_a2 delta_b2), so
    |M|^2 needs only the transverse diagonal of H."""
    m2 = m if m2 is None else m2
    left, right, weights = _chains(q1, q2, k, m, m2, polarisation_sum, GAMMA[1:3])
    # diagonal traces Tr[left_a right_a] only
    diag = np.einsum("...naij,...naji->...n", left, right)
    return np.asarray(np.einsum("...n,n->...", diag, weights).real)


def _polarisation_summed(
    tensor: Callable[..., Any],
    q1: FloatArray,
    q2: FloatArray,
    k: FloatArray,
    m: float,
    m2: float | None,
    z_mass: float | None,
) -> Any:
    """``tensor`` (muon_tensor or transverse_trace) summed over the Z' polarisations:
    -g alone when the vertex conserves the current (m2 = m), -g + k k / M^2 for the LFV
    vertex."""
    out = tensor(q1, q2, k, m, "metric", m2)
    if m2 is not None and m2 != m:
        if z_mass is None:
            raise ValueError("the LFV |M|^2 needs the Z' mass for its polarisation sum")
        out = out + tensor(q1, q2, k, m, "longitudinal", m2) / z_mass**2
    return out


def squared_me_zprime(
    p1: FloatArray,
    p2: FloatArray,
    q1: FloatArray,
    q2: FloatArray,
    k: FloatArray,
    g_prime: float,
    m: float = M_MU,
    m2: float | None = None,
    z_mass: float | None = None,
) -> FloatArray:
    """Spin-summed |M|^2 (not averaged) for e-(p1) e+(p2) -> l1-(q1) l2+(q2) Z'(k).

    l1 = l2 = mu by default; with ``m2`` != m the LFV Z' (l1 = mu, l2 = e), whose massive-Z'
    polarisation sum -g + k k / M^2 needs ``z_mass`` [GeV] for the k k part.
    Dimensionless (natural units); multiply by 1/4 for the average over beam spins.
    """
    e2 = 4.0 * np.pi * ALPHA_EM
    s = minkowski_dot(p1 + p2, p1 + p2)
    lt = lepton_tensor(p1, p2)
    ht = _polarisation_summed(muon_tensor, q1, q2, k, m, m2, z_mass)
    contracted = np.einsum("...ab,...ab->...", lt, ht).real
    return e2**2 * g_prime**2 / s**2 * contracted


def squared_me_zprime_cm(
    s: FloatArray,
    q1: FloatArray,
    q2: FloatArray,
    k: FloatArray,
    g_prime: float,
    m: float = M_MU,
    m2: float | None = None,
    z_mass: float | None = None,
) -> FloatArray:
    """:func:`squared_me_zprime` for massless beams along +-z in the CM frame (the generators'
    frame), from :func:`transverse_trace`; equal to the general form (tested)."""
    e2 = 4.0 * np.pi * ALPHA_EM
    h = _polarisation_summed(transverse_trace, q1, q2, k, m, m2, z_mass)
    return np.asarray(e2**2 * g_prime**2 / s**2 * 2 * s * h)
