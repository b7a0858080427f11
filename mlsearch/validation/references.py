"""Reference cross sections computed without the generators' samplers: adaptive or grid
quadrature of the same physics, closed forms, and published values (with their source).

All cross sections in fb.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import integrate

from mlsearch.generate.isr import isr_beta
from mlsearch.generate.mumu import born_mumu
from mlsearch.physics.constants import ALPHA_EM, GEV2_TO_FB, M_E
from mlsearch.physics.kinematics import boost
from mlsearch.physics.qed_me import me2_mumu_gamma
from mlsearch.physics.vacuum_polarisation import vp_factor
from mlsearch.physics.zprime_me import muon_tensor

FloatArray = NDArray[np.float64]

__all__ = [
    "PUBLISHED_FB",
    "HardPhotonCuts",
    "alp_strahlung_fb",
    "collinear_epa_fusion_fb",
    "collinear_epa_pair_fb",
    "isr_convolved_fb",
    "isr_ordered_photon_fb",
    "isr_pair_fb",
    "mumu_gamma_hard_fb",
    "signal_with_isr_fb",
    "zprime_dalitz_fb",
]

#: Belle II physics book (E. Kou et al., PTEP 2019 123C01, Table 3 and text)
PUBLISHED_FB = {
    "mumu": (1.148e6, "KKMC mu mu (gamma), no cuts"),
    "tautau": (0.919e6, "KKMC tau tau (gamma), no cuts"),
    "ee": (300e6, "BabaYaga@NLO e e (gamma), 10 < theta*_e < 170 deg"),
    "eemumu": (18.9e6, "AAFH e e mu mu, W_mumu > 0.5 GeV"),
}


def _d_over_density(y: float, beta: float, big_l1: float | None = None) -> float:
    """D(y) / (beta/2 y^(beta/2-1)): the structure function per dt with y = t^(2/beta),
    times the hard-photon term h(y) = 1 - y^2 / ((1 + (1-y)^2)(L - 1)) when ``big_l1`` = L - 1
    is given (see :func:`isr_convolved_fb`)."""
    h = 1 - y**2 / ((1 + (1 - y) ** 2) * big_l1) if big_l1 is not None else 1.0
    return ((1 + 3 * beta / 8) - (2 - y) / 2 * y ** (1 - beta / 2)) * h


def isr_pair_fb(s: float, mass: float, hard_photon_term: bool = False) -> float:
    """sigma = int D(y1) D(y2) h(y1) h(y2) sigma_Born(s') |alpha(s')/alpha|^2, s' = s (1-y1)
    (1-y2): :func:`isr_convolved_fb` with the lepton pair's Born cross section and vacuum
    polarisation tabulated at 8000 values of s' (the same integral point by point took 70 s,
    most of it in the vacuum polarisation; the table agrees with it to 5e-9 for mu mu).
    ``hard_photon_term``: h(y) = 1 - y^2 / ((1 + (1-y)^2)(L - 1)), the exact O(alpha)
    radiator's non-logarithmic term averaged over the photon angle, which the mu mu and tau
    tau generators apply per photon (-0.23 % on tau tau); else h = 1 (the structure functions
    alone)."""

    def born_fb(s_red: float) -> float:
        return float(born_mumu(s_red, mass) * vp_factor(s_red)) * GEV2_TO_FB

    return isr_convolved_fb(s, born_fb, 2 * mass, nodes=8000, hard_photon_term=hard_photon_term)


def isr_convolved_fb(
    s: float,
    born_fb: Callable[[float], float],
    threshold: float,
    nodes: int = 400,
    hard_photon_term: bool = True,
) -> float:
    """sigma = int D(y1) D(y2) h(y1) h(y2) sigma_Born(s') dy1 dy2 with s' = s (1-y1)(1-y2)
    (collinear photons) for any Born cross section ``born_fb(s')`` [fb] vanishing below
    threshold^2: the Born cross section is tabulated at ``nodes`` values of s' (denser near
    threshold) and interpolated, the double integral done by adaptive quadrature in
    y = t^(2/beta).

    h(y) = 1 - y^2 / ((1 + (1-y)^2)(L - 1)), L = ln(s/m_e^2), is the non-logarithmic term of
    the exact O(alpha) radiator, alpha/pi [(1 + (1-y)^2)/(y sin^2) - y/2], integrated over
    the photon angle against its eikonal part (<sin^2> over the dipole pattern is 2/(L-1));
    ``hard_photon_term=False``: the structure functions alone (h = 1)."""
    beta = isr_beta(s)
    big_l1 = math.log(s / M_E**2) - 1
    s_min = threshold**2 * 1.0001
    u = np.linspace(0.0, 1.0, nodes)
    s_grid = s_min + (s - s_min) * u**2
    table = np.array([born_fb(float(x)) for x in s_grid])

    def d_over_density(y: float) -> float:
        return _d_over_density(y, beta, big_l1 if hard_photon_term else None)

    def integrand(t2: float, t1: float) -> float:
        y1, y2 = t1 ** (2 / beta), t2 ** (2 / beta)
        s_red = s * (1 - y1) * (1 - y2)
        if s_red <= s_min:
            return 0.0
        born = float(np.interp(s_red, s_grid, table))
        return born * d_over_density(y1) * d_over_density(y2)

    value, _ = integrate.dblquad(integrand, 0, 1, 0, 1, epsabs=0, epsrel=1e-5)
    return float(value)


def isr_ordered_photon_fb(
    s: float,
    dsigma_dcos: Callable[[float, FloatArray], FloatArray],
    mass: float,
    beta_e: float,
    nodes: int = 96,
) -> float:
    """sigma of e+e- -> gamma X (X of ``mass`` [GeV]; ``dsigma_dcos(s', cos)`` [GeV^-2] in the
    hard process's CM frame) with collinear ISR off both beams, the ISR photons softer than the
    hard process's photon in the CM frame (strong ordering), in fb.

    For each (y1, y2) the hard process's frame moves along z with velocity
    (y2 - y1) / (2 - y1 - y2); its photon of energy E' = (s' - m^2) / (2 sqrt(s')) has the CM
    energy gamma E' (1 + beta cos), so the ordering is a bound on cos, and the cos integral runs
    over that range by Gauss-Legendre in atanh(beta_e cos) (flat over the collinear peaks).
    The (y1, y2) integral is adaptive, in y = t^(2/beta), with the hard-photon term h(y) of
    :func:`isr_convolved_fb`."""
    beta = isr_beta(s)
    big_l1 = math.log(s / M_E**2) - 1
    sqrt_s = math.sqrt(s)
    x_gl, w_gl = np.polynomial.legendre.leggauss(nodes)
    a_e = math.atanh(beta_e)

    def d_over_density(y: float) -> float:
        return _d_over_density(y, beta, big_l1)

    def cos_integral(y1: float, y2: float) -> float:
        s_red = s * (1 - y1) * (1 - y2)
        if s_red <= mass**2 * 1.0001:
            return 0.0
        e_prime = (s_red - mass**2) / (2 * math.sqrt(s_red))
        b_z = (y2 - y1) / (2 - y1 - y2)
        gamma = 1 / math.sqrt(1 - b_z**2)
        k_max = max(y1, y2) * sqrt_s / 2
        lo, hi = -1.0, 1.0
        if b_z == 0:
            if gamma * e_prime <= k_max:
                return 0.0
        else:
            c_star = (k_max / (gamma * e_prime) - 1) / b_z
            lo, hi = (max(lo, c_star), hi) if b_z > 0 else (lo, min(hi, c_star))
        if lo >= hi:
            return 0.0
        u_lo, u_hi = math.atanh(beta_e * lo) / a_e, math.atanh(beta_e * hi) / a_e
        u = (u_hi - u_lo) / 2 * x_gl + (u_hi + u_lo) / 2
        t = np.tanh(u * a_e)
        c = t / beta_e
        jac = a_e * (1 - t**2) / beta_e * (u_hi - u_lo) / 2
        return float(np.sum(w_gl * jac * dsigma_dcos(s_red, c)))

    def integrand(t2: float, t1: float) -> float:
        y1, y2 = t1 ** (2 / beta), t2 ** (2 / beta)
        return cos_integral(y1, y2) * d_over_density(y1) * d_over_density(y2)

    value, _ = integrate.dblquad(integrand, 0, 1, 0, 1, epsabs=0, epsrel=1e-4)
    return float(value * GEV2_TO_FB)


def zprime_dalitz_fb(mass: float, g: float, sqrt_s: float, m: float, nodes: int = 160) -> float:
    """sigma(e+e- -> mu mu Z') by a nodes x nodes midpoint grid in (log D1, log D2) of the
    orientation-averaged |M|^2: <L_ab H^ab> = 4 s/3 (-g_ab H^ab)."""
    s = sqrt_s**2
    d_min = (m + mass) ** 2 - m**2
    d_max = (sqrt_s - m) ** 2 - m**2
    u = (np.arange(nodes) + 0.5) / nodes
    logd = np.log(d_min) + u * np.log(d_max / d_min)
    d1, d2 = (a.ravel() for a in np.meshgrid(np.exp(logd), np.exp(logd), indexing="ij"))
    e1 = (s - d2) / (2 * sqrt_s)
    e2 = (s - d1) / (2 * sqrt_s)
    ek = sqrt_s - e1 - e2
    p1 = np.sqrt(np.clip(e1**2 - m**2, 0, None))
    p2 = np.sqrt(np.clip(e2**2 - m**2, 0, None))
    pk = np.sqrt(np.clip(ek**2 - mass**2, 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        c12 = (pk**2 - p1**2 - p2**2) / (2 * p1 * p2)
    idx = np.flatnonzero((e1 > m) & (e2 > m) & (ek > mass) & (np.abs(c12) <= 1))
    zero = np.zeros(len(idx))
    q1 = np.column_stack([e1[idx], zero, zero, p1[idx]])
    q2 = np.column_stack([e2[idx], p2[idx] * np.sqrt(1 - c12[idx] ** 2), zero, p2[idx] * c12[idx]])
    k = np.column_stack([np.full(len(idx), sqrt_s), zero, zero, zero]) - q1 - q2
    h = muon_tensor(q1, q2, k, m).real
    minus_g_h = -(h[:, 0, 0] - h[:, 1, 1] - h[:, 2, 2] - h[:, 3, 3])
    me2 = (4 * math.pi * ALPHA_EM) ** 2 * g**2 / s**2 * 4 * s / 3 * minus_g_h
    jac = d1[idx] * d2[idx] * np.log(d_max / d_min) ** 2 / nodes**2
    return float(np.sum(0.25 * me2 / (2 * s) / (128 * math.pi**3 * s) * jac)) * GEV2_TO_FB


def alp_strahlung_fb(s: float, mass: float, g: float) -> float:
    """sigma(e+e- -> gamma a) = alpha g^2 (1 - m^2/s)^3 / 24 (Dolan et al., JHEP 12 (2017) 094)."""
    return ALPHA_EM * g**2 / 24 * (1 - mass**2 / s) ** 3 * GEV2_TO_FB


def collinear_epa_fusion_fb(s: float, mass: float, q2_max: float, g: float = 1.0) -> float:
    """sigma(e+e- -> e+e- a) = 8 pi^2 Gamma_gg / m * int dx1/x1 f(x1) f(tau/x1) / s with the
    Q^2-integrated photon flux f(x) (Budnev et al.) up to q2_max [GeV^2]."""
    tau = mass**2 / s

    def flux(x: float) -> float:
        q2_min = M_E**2 * x**2 / (1 - x)
        return (
            ALPHA_EM
            / (2 * math.pi)
            * ((1 + (1 - x) ** 2) / x * math.log(q2_max / q2_min) - 2 * M_E**2 * x / q2_min)
        )

    value, _ = integrate.quad(
        lambda lx: flux(math.exp(lx)) * flux(tau / math.exp(lx)) / s,
        math.log(tau),
        0,
        limit=200,
    )
    width = g**2 * mass**3 / (64 * math.pi)
    return 8 * math.pi**2 * width / mass * value * GEV2_TO_FB


def collinear_epa_pair_fb(s: float, mass: float, w_min: float) -> float:
    """sigma(e+e- -> e+e- l+l-) = int dx1 dx2 f(x1) f(x2) sigma_BW(x1 x2 s), W > w_min, with
    the Q^2-integrated flux cut at Q^2 < W^2 (collinear photons: W^2 = x1 x2 s)."""
    from mlsearch.physics.qed_me import breit_wheeler_sigma

    def flux(x: float, q2_max: float) -> float:
        q2_min = M_E**2 * x**2 / (1 - x)
        if q2_max <= q2_min:
            return 0.0
        return (
            ALPHA_EM
            / (2 * math.pi)
            * (
                (1 + (1 - x) ** 2) / x * math.log(q2_max / q2_min)
                - 2 * M_E**2 * x * (1 / q2_min - 1 / q2_max)
            )
        )

    tau_min = w_min**2 / s

    def inner(lx2: float, lx1: float) -> float:
        x1, x2 = math.exp(lx1), math.exp(lx2)
        w2 = x1 * x2 * s
        return x1 * x2 * flux(x1, w2) * flux(x2, w2) * float(breit_wheeler_sigma(w2, mass))

    lo = math.log(tau_min)
    value, _ = integrate.dblquad(
        inner, lo, 0, lambda lx1: lo - lx1, lambda lx1: 0.0, epsabs=0, epsrel=1e-4
    )
    return float(value * GEV2_TO_FB)


@dataclass(frozen=True)
class HardPhotonCuts:
    """CM-frame cuts of the e+e- -> mu+ mu- gamma reference: photon energy above ``e_min``
    [GeV] and polar angle in [theta_min, theta_max] [deg], both muons in the same polar range,
    every photon-muon opening angle above ``separation`` [deg] and the muon pair's mass above
    ``m_mumu_min`` [GeV] (the massless matrix element is not valid closer to a muon or to the
    pair threshold)."""

    e_min: float = 1.0
    theta_min: float = 30.0
    theta_max: float = 150.0
    separation: float = 10.0
    m_mumu_min: float = 1.0

    def passes(self, k: np.ndarray, q_plus: np.ndarray, q_minus: np.ndarray) -> np.ndarray:
        def cos_z(p: np.ndarray) -> np.ndarray:
            return p[:, 3] / np.linalg.norm(p[:, 1:], axis=1)

        def inside(c: np.ndarray) -> np.ndarray:
            return (c <= math.cos(math.radians(self.theta_min))) & (
                c >= math.cos(math.radians(self.theta_max))
            )

        def opening(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            na, nb = np.linalg.norm(a[:, 1:], axis=1), np.linalg.norm(b[:, 1:], axis=1)
            return np.einsum("ij,ij->i", a[:, 1:], b[:, 1:]) / (na * nb)

        far = math.cos(math.radians(self.separation))
        return (
            (k[:, 0] > self.e_min)
            & inside(cos_z(k))
            & inside(cos_z(q_plus))
            & inside(cos_z(q_minus))
            & (opening(k, q_plus) < far)
            & (opening(k, q_minus) < far)
        )


def mumu_gamma_hard_fb(
    sqrt_s: float,
    cuts: HardPhotonCuts | None = None,
    n: int = 2_000_000,
    seed: int = 1,
    part: str = "all",
) -> tuple[float, float]:
    """(sigma, MC error) [fb] of e+e- -> mu+ mu- gamma at O(alpha^3) within ``cuts``: the exact
    matrix element (:func:`~mlsearch.physics.qed_me.me2_mumu_gamma`, massless, ISR + FSR +
    interference, no vacuum polarisation) integrated by plain Monte Carlo over the three-body
    phase space dPhi_3 = E_k dE_k dOmega_k / (16 pi^3) x dOmega* / (32 pi^2) (photon in the
    CM frame, muons in their rest frame), sigma = (1 / 2s) int |M|^2 dPhi_3. With ``cuts=None``
    and |M|^2 = 1 it returns the phase-space volume s / (256 pi^3) (tested); ``part``: only
    the ISR, FSR or interference terms of the matrix element."""
    rng = np.random.default_rng(seed)
    s = sqrt_s**2
    e_beam = sqrt_s / 2
    e_min = cuts.e_min if cuts else 0.0
    # the photon energy at which the pair reaches its minimum mass
    e_max = (s - cuts.m_mumu_min**2) / (2 * sqrt_s) if cuts else e_beam
    c_lo = math.cos(math.radians(cuts.theta_max)) if cuts else -1.0
    c_hi = math.cos(math.radians(cuts.theta_min)) if cuts else 1.0
    e = rng.uniform(e_min, e_max, n)
    c = rng.uniform(c_lo, c_hi, n)
    phi = rng.uniform(0, 2 * np.pi, n)
    sin_t = np.sqrt(1 - c**2)
    k = np.stack([e, e * sin_t * np.cos(phi), e * sin_t * np.sin(phi), e * c], axis=1)
    total = np.array([sqrt_s, 0.0, 0.0, 0.0])
    rest = total - k
    m = np.sqrt(np.clip(rest[:, 0] ** 2 - (rest[:, 1:] ** 2).sum(axis=1), 0, None))
    c2 = rng.uniform(-1, 1, n)
    phi2 = rng.uniform(0, 2 * np.pi, n)
    s2 = np.sqrt(1 - c2**2)
    half = m / 2
    q = np.stack([half, half * s2 * np.cos(phi2), half * s2 * np.sin(phi2), half * c2], axis=1)
    q_minus = boost(q, -rest[:, 1:] / rest[:, :1])
    q_plus = rest - q_minus
    volume = (e_max - e_min) * (c_hi - c_lo) * 2 * np.pi * 4 * np.pi
    jacobian = e / (16 * np.pi**3) / (32 * np.pi**2)
    if cuts is None:
        f = jacobian * volume
        return float(f.mean()), float(f.std() / math.sqrt(n))
    p_plus = np.broadcast_to([e_beam, 0.0, 0.0, -e_beam], (n, 4))
    p_minus = np.broadcast_to([e_beam, 0.0, 0.0, e_beam], (n, 4))
    keep = cuts.passes(k, q_plus, q_minus)
    me2 = np.zeros(n)
    me2[keep] = me2_mumu_gamma(
        p_plus[keep], p_minus[keep], q_plus[keep], q_minus[keep], k[keep], part
    )
    f = me2 * jacobian * volume / (2 * s) * GEV2_TO_FB
    return float(f.mean()), float(f.std() / math.sqrt(n))


def signal_with_isr_fb(process: str, mass: float, s_nodes: int = 40) -> float | None:
    """The reference for a signal generated with ISR at the nominal s (coupling 1, the
    Z' with B(invisible) = 1): the Z''s Dalitz-grid Born convolved with the structure
    functions (``s_nodes`` points in s'), the A' and the ALP by the ordered-photon quadrature
    of their Born dsigma/dcos. None for the LFV Z' (the same wrapper as the Z'; its Born has
    two lepton masses, which zprime_dalitz_fb does not take)."""
    from mlsearch.generate.dark_photon import SQRT_S_MAX, electron_beta
    from mlsearch.physics.constants import M_MU
    from mlsearch.physics.kinematics import beam_four_momenta, invariant_mass2
    from mlsearch.physics.qed_me import alp_dsigma_dcos, dark_photon_dsigma_dcos

    em, ep = beam_four_momenta()
    s = float(invariant_mass2(em + ep))
    beta_e = electron_beta(SQRT_S_MAX)
    if process == "zprime":

        def born(s_red: float) -> float:
            return zprime_dalitz_fb(mass, 1.0, math.sqrt(s_red), M_MU, 240)

        return isr_convolved_fb(s, born, mass + 2 * M_MU, s_nodes)
    if process == "alp":
        return isr_ordered_photon_fb(s, lambda x, c: alp_dsigma_dcos(x, mass, c), mass, beta_e)
    if process == "dark_photon":
        return isr_ordered_photon_fb(
            s, lambda x, c: dark_photon_dsigma_dcos(x, mass, c, beta_e), mass, beta_e
        )
    return None
