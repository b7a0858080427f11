"""Analytic tree-level cross sections and squared matrix elements of the QED and dark-sector
processes (beams massless unless stated; all momenta in GeV, cross sections in GeV^-2).

Each formula is checked in tests/test_qed_me.py against an independent numerical evaluation
(Dirac traces, tensor contractions, the soft-photon limit or a known integral).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mlsearch.physics.constants import ALPHA_EM
from mlsearch.physics.kinematics import minkowski_dot

__all__ = [
    "alp_dsigma_dcos",
    "alp_width",
    "bhabha_dsigma_dcos",
    "breit_wheeler_dsigma_dcos",
    "breit_wheeler_sigma",
    "dark_photon_dsigma_dcos",
    "me2_mumu_gamma",
    "me2_radiative_bhabha",
    "me2_three_photons",
]

FloatArray = NDArray[np.float64]
E2 = 4 * np.pi * ALPHA_EM  # e^2


def dark_photon_dsigma_dcos(
    s: FloatArray | float, mass: float, cos_t: FloatArray, beta_e: float = 1.0
) -> FloatArray:
    """dsigma/dcos(theta_gamma) [GeV^-2] of e+e- -> gamma A' for kinetic mixing epsilon = 1.

    From the spin-averaged |M|^2 = 2 e^4 (t^2 + u^2 + 2 s m^2) / (t u) (the e+e- -> gamma
    gamma* form): (2 pi alpha^2 / s) (1 - m^2/s) (1 + cos^2 + 4 s m^2 / (s - m^2)^2) / sin^2.
    ``beta_e`` < 1 regularises the collinear poles with the electron velocity
    (sin^2 -> 1 - beta_e^2 cos^2), exact up to O(m_e^2/s) outside the collinear cones. With
    mass = 0 this is twice d sigma(e+e- -> gamma gamma) (identical photons).
    """
    s = np.asarray(s, dtype=np.float64)
    r = mass**2 / s
    c2 = np.asarray(cos_t) ** 2
    num = 1 + c2 + 4 * r / (1 - r) ** 2
    return np.asarray(2 * np.pi * ALPHA_EM**2 / s * (1 - r) * num / (1 - beta_e**2 * c2))


def me2_three_photons(
    p_plus: FloatArray, p_minus: FloatArray, k1: FloatArray, k2: FloatArray, k3: FloatArray
) -> FloatArray:
    """Spin-averaged |M|^2 of e+(p_plus) e-(p_minus) -> gamma gamma gamma, massless
    (F. A. Berends, R. Kleiss, Nucl. Phys. B 186 (1981) 22):

        e^6 s sum_i kap_i kap'_i (kap_i^2 + kap'_i^2) / prod_i kap_i kap'_i,

    kap_i = p_plus.k_i, kap'_i = p_minus.k_i. Normalised so that a soft k3 gives the eikonal
    factor e^2 s / (kap_3 kap'_3) times the e+e- -> gamma gamma |M|^2 (tested).
    """
    s = minkowski_dot(p_plus + p_minus, p_plus + p_minus)
    kap = [minkowski_dot(p_plus, k) for k in (k1, k2, k3)]
    kapp = [minkowski_dot(p_minus, k) for k in (k1, k2, k3)]
    num = sum(a * b * (a**2 + b**2) for a, b in zip(kap, kapp, strict=True))
    den = np.prod([a * b for a, b in zip(kap, kapp, strict=True)], axis=0)
    return np.asarray(E2**3 * s * num / den)


def bhabha_dsigma_dcos(s: FloatArray | float, cos_t: FloatArray) -> FloatArray:
    """Born dsigma/dcos(theta_e-) [GeV^-2] of e+e- -> e+e- (s and t channel photons):
    (pi alpha^2 / s) [(s^2 + u^2)/t^2 + 2 u^2/(s t) + (u^2 + t^2)/s^2]."""
    s = np.asarray(s, dtype=np.float64)
    c = np.asarray(cos_t)
    t = -s * (1 - c) / 2
    u = -s * (1 + c) / 2
    bracket = (s**2 + u**2) / t**2 + 2 * u**2 / (s * t) + (u**2 + t**2) / s**2
    return np.asarray(np.pi * ALPHA_EM**2 / s * bracket)


@dataclass(frozen=True)
class _TwoToThree:
    """The invariants of f+(p+) f-(p-) -> f'+(q+) f'-(q-) gamma(k), massless: s = (p+ + p-)^2,
    s1 = s' = (q+ + q-)^2, t = (p+ - q+)^2, t1 = (p- - q-)^2, u = (p+ - q-)^2, u1 = (p- - q+)^2,
    and k.p+, k.p-, k.q+, k.q-: what the CALKUL eikonal factor W is made of."""

    s: FloatArray
    s1: FloatArray
    t: FloatArray
    t1: FloatArray
    u: FloatArray
    u1: FloatArray
    kp: FloatArray
    km: FloatArray
    kqp: FloatArray
    kqm: FloatArray

    @classmethod
    def of(
        cls, p_plus: FloatArray, p_minus: FloatArray, q_plus: FloatArray, q_minus: FloatArray,
        k: FloatArray,
    ) -> _TwoToThree:  # fmt: skip
        dot = minkowski_dot
        return cls(
            2 * dot(p_plus, p_minus), 2 * dot(q_plus, q_minus),
            -2 * dot(p_plus, q_plus), -2 * dot(p_minus, q_minus),
            -2 * dot(p_plus, q_minus), -2 * dot(p_minus, q_plus),
            dot(p_plus, k), dot(p_minus, k), dot(q_plus, k), dot(q_minus, k),
        )  # fmt: skip

    def eikonal(self, part: str = "all") -> FloatArray:
        """W, or its initial-state ("isr"), final-state ("fsr") or "interference" terms."""
        isr = self.s / (self.kp * self.km)
        fsr = self.s1 / (self.kqp * self.kqm)
        if part == "isr":
            return isr
        if part == "fsr":
            return fsr
        interference = (
            -self.t / (self.kp * self.kqp)
            - self.t1 / (self.km * self.kqm)
            + self.u / (self.kp * self.kqm)
            + self.u1 / (self.km * self.kqp)
        )
        if part == "interference":
            return interference
        # summed term by term in this order (the weights of the samples depend on it)
        return (
            isr + fsr
            - self.t / (self.kp * self.kqp)
            - self.t1 / (self.km * self.kqm)
            + self.u / (self.kp * self.kqm)
            + self.u1 / (self.km * self.kqp)
        )  # fmt: skip


def me2_radiative_bhabha(
    p_plus: FloatArray, p_minus: FloatArray, q_plus: FloatArray, q_minus: FloatArray, k: FloatArray
) -> FloatArray:
    """Spin-averaged |M|^2 of e+(p_plus) e-(p_minus) -> e+(q_plus) e-(q_minus) gamma(k),
    massless, in the CALKUL form (F. A. Berends et al., Nucl. Phys. B 206 (1982) 61):
    e^6 W X with

        X = [s s'(s^2 + s'^2) + t t'(t^2 + t'^2) + u u'(u^2 + u'^2)] / (s s' t t'),
        W = s/(p+k p-k) + s'/(q+k q-k) - t/(p+k q+k) - t'/(p-k q-k) + u/(p+k q-k)
            + u'/(p-k q+k).

    The soft-photon limit is the eikonal factor times the Born Bhabha |M|^2 (tested).
    """
    v = _TwoToThree.of(p_plus, p_minus, q_plus, q_minus, k)
    s, s1, t, t1, u, u1 = v.s, v.s1, v.t, v.t1, v.u, v.u1
    x = (s * s1 * (s**2 + s1**2) + t * t1 * (t**2 + t1**2) + u * u1 * (u**2 + u1**2)) / (
        s * s1 * t * t1
    )
    return np.asarray(E2**3 * v.eikonal() * x)


def me2_mumu_gamma(
    p_plus: FloatArray,
    p_minus: FloatArray,
    q_plus: FloatArray,
    q_minus: FloatArray,
    k: FloatArray,
    part: str = "all",
) -> FloatArray:
    """Spin-averaged |M|^2 of e+(p_plus) e-(p_minus) -> mu+(q_plus) mu-(q_minus) gamma(k) at
    O(alpha^3), one-photon exchange, massless fermions: initial- and final-state radiation and
    their interference (F. A. Berends, R. Kleiss, Nucl. Phys. B 177 (1981) 237; the CALKUL
    form, Nucl. Phys. B 206 (1982) 61):

        |M|^2 = e^6 W (t^2 + t'^2 + u^2 + u'^2) / (s s'),

    W as in :func:`me2_radiative_bhabha` (s' = (q+ + q-)^2, t = (p+ - q+)^2, t' = (p- -
    q-)^2, u = (p+ - q-)^2, u' = (p- - q+)^2). Valid away from the collinear regions (photon
    angles to a lepton >> m/E); checked against the numerical Dirac traces of the four
    diagrams in tests/test_qed_me.py. ``part``: "isr", "fsr" or "interference" keeps only
    those terms of W (the first, the second, the other four).
    """
    v = _TwoToThree.of(p_plus, p_minus, q_plus, q_minus, k)
    return np.asarray(
        E2**3 * v.eikonal(part) * (v.t**2 + v.t1**2 + v.u**2 + v.u1**2) / (v.s * v.s1)
    )


def breit_wheeler_sigma(w2: FloatArray | float, mass: float) -> FloatArray:
    """sigma(gamma gamma -> l+ l-) [GeV^-2] at W^2 [GeV^2] for real photons (Breit-Wheeler):
    (2 pi alpha^2 / W^2) [(3 - beta^4) ln((1 + beta)/(1 - beta)) - 2 beta (2 - beta^2)]."""
    w2 = np.asarray(w2, dtype=np.float64)
    beta = np.sqrt(np.clip(1 - 4 * mass**2 / w2, 0, 1))
    with np.errstate(divide="ignore"):
        log = np.log((1 + beta) / np.where(beta < 1, 1 - beta, 1.0))
    value = 2 * np.pi * ALPHA_EM**2 / w2 * ((3 - beta**4) * log - 2 * beta * (2 - beta**2))
    return np.asarray(np.where(beta > 0, value, 0.0))


def breit_wheeler_dsigma_dcos(w2: FloatArray | float, mass: float, cos_t: FloatArray) -> FloatArray:
    """dsigma/dcos(theta*) [GeV^-2] of gamma gamma -> l+ l- in the pair rest frame:
    (2 pi alpha^2 beta / W^2) [1 + 2 beta^2 sin^2 - beta^4 (1 + sin^4)] / (1 - beta^2 cos^2)^2;
    integrates to :func:`breit_wheeler_sigma` (tested)."""
    w2 = np.asarray(w2, dtype=np.float64)
    beta2 = np.clip(1 - 4 * mass**2 / w2, 0, 1)
    c2 = np.asarray(cos_t) ** 2
    sin2 = 1 - c2
    num = 1 + 2 * beta2 * sin2 - beta2**2 * (1 + sin2**2)
    return np.asarray(2 * np.pi * ALPHA_EM**2 * np.sqrt(beta2) / w2 * num / (1 - beta2 * c2) ** 2)


def alp_dsigma_dcos(s: FloatArray | float, mass: float, cos_t: FloatArray) -> FloatArray:
    """dsigma/dcos(theta_gamma) [GeV^-2] of e+e- -> gamma a via the a F F~ coupling for
    g_a_gamma_gamma = 1 GeV^-1: (alpha / 64) (1 - m^2/s)^3 (1 + cos^2); the integral is
    alpha g^2 (1 - m^2/s)^3 / 24 (M. J. Dolan et al., JHEP 12 (2017) 094)."""
    s = np.asarray(s, dtype=np.float64)
    r = mass**2 / s
    return np.asarray(ALPHA_EM / 64 * (1 - r) ** 3 * (1 + np.asarray(cos_t) ** 2))


def alp_width(mass: float | FloatArray, g_agg: float) -> FloatArray:
    """Gamma(a -> gamma gamma) [GeV] = g^2 m^3 / (64 pi) for g_a_gamma_gamma [GeV^-1]."""
    return np.asarray(g_agg**2 * np.asarray(mass) ** 3 / (64 * np.pi))
