"""tau decays in the tau rest frame, boosted to the tau's momentum.

Modes and branching fractions (PDG 2024): e nu nu 17.82 %, mu nu nu 17.39 %, pi nu 10.82 %,
K nu 0.70 %, rho nu (pi pi0) 25.49 %, pi 2pi0 nu 9.26 %, 3pi nu 9.31 %, and the remaining
9.21 % of hadronic modes lumped as 3pi pi0 nu. Leptonic decays follow the V-A (Michel)
spectrum dGamma/dx ~ x^2 (3 - 2x), x = 2E/m_tau; the rho has a Breit-Wigner mass; the other
multi-body modes use sequential isotropic two-body splits with uniformly drawn intermediate
masses (an approximation of phase space). pi0 -> gamma gamma. Not modelled: tau polarisation
and spin correlations, a1 and omega resonances. The two neutrinos of a leptonic decay are one
invisible pseudo-particle (pdg 16) carrying their summed four-momentum.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mlsearch.errors import ConfigError
from mlsearch.physics.constants import M_E, M_K, M_MU, M_PI, M_PI0, M_TAU
from mlsearch.physics.kinematics import boost

__all__ = ["MODES", "SLOTS", "decay_taus", "mode_probabilities"]

FloatArray = NDArray[np.float64]
M_RHO, W_RHO = 0.77526, 0.1491
SLOTS = 7  # particles per tau decay at most (3pi pi0: 3 tracks + 2 photons + nu)

#: (name, branching fraction, daughters of a tau-: pdg codes; 111 = pi0)
MODES: tuple[tuple[str, float, tuple[int, ...]], ...] = (
    ("e", 0.1782, (11, 16)),
    ("mu", 0.1739, (13, 16)),
    ("pi", 0.1082, (-211, 16)),
    ("K", 0.0070, (-321, 16)),
    ("rho", 0.2549, (-211, 111, 16)),
    ("pi2pi0", 0.0926, (-211, 111, 111, 16)),
    ("3pi", 0.0931, (-211, -211, 211, 16)),
    ("3pipi0", 0.0921, (-211, -211, 211, 111, 16)),
)
_MASS = {11: M_E, 13: M_MU, 211: M_PI, 321: M_K, 111: M_PI0, 16: 0.0}


def _isotropic(n: int, rng: np.random.Generator) -> FloatArray:
    cos_t = rng.uniform(-1, 1, n)
    phi = rng.uniform(0, 2 * np.pi, n)
    sin_t = np.sqrt(1 - cos_t**2)
    return np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], axis=-1)


def _two_body(
    m_parent: FloatArray, m1: FloatArray, m2: FloatArray, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Isotropic two-body decay at rest: the daughters' four-momenta (n, 4) each."""
    p = np.sqrt(
        np.clip((m_parent**2 - (m1 + m2) ** 2) * (m_parent**2 - (m1 - m2) ** 2), 0, None)
    ) / (2 * m_parent)
    d = _isotropic(len(m_parent), rng) * p[:, None]
    a = np.column_stack([np.sqrt(p**2 + m1**2), d])
    b = np.column_stack([np.sqrt(p**2 + m2**2), -d])
    return a, b


def _sequential(
    m_parent: FloatArray, masses: list[float], rng: np.random.Generator
) -> list[FloatArray]:
    """Daughters (at rest frame of the parent) by successive isotropic two-body splits."""
    n = len(m_parent)
    if len(masses) == 2:
        a, b = _two_body(m_parent, np.full(n, masses[0]), np.full(n, masses[1]), rng)
        return [a, b]
    rest_min = sum(masses[1:])
    m_rest = rest_min + rng.uniform(size=n) * (m_parent - masses[0] - rest_min)
    first, rest = _two_body(m_parent, np.full(n, masses[0]), m_rest, rng)
    beta = rest[:, 1:] / rest[:, :1]
    return [first] + [boost(d, -beta) for d in _sequential(m_rest, masses[1:], rng)]


def _michel_x(n: int, rng: np.random.Generator) -> FloatArray:
    """x = 2E/m_tau from x^2 (3 - 2x) on [0, 1] (maximum 1 at x = 1)."""
    out = np.empty(n)
    todo = np.arange(n)
    while todo.size:
        x = rng.uniform(size=todo.size)
        ok = rng.uniform(size=todo.size) < x**2 * (3 - 2 * x)
        out[todo[ok]] = x[ok]
        todo = todo[~ok]
    return out


def _mode_daughters(
    name: str, codes: tuple[int, ...], n: int, rng: np.random.Generator
) -> list[FloatArray]:
    m_tau = np.full(n, M_TAU)
    if name in ("e", "mu"):
        m_l = _MASS[codes[0]]
        e_max = (M_TAU**2 + m_l**2) / (2 * M_TAU)
        energy = np.clip(_michel_x(n, rng) * M_TAU / 2, m_l * 1.000001, e_max * 0.999999)
        lepton = np.column_stack(
            [energy, _isotropic(n, rng) * np.sqrt(energy**2 - m_l**2)[:, None]]
        )
        rest = np.column_stack([m_tau, np.zeros((n, 3))]) - lepton
        return [lepton, rest]
    if name == "rho":
        m_rho = np.empty(n)
        todo = np.arange(n)
        lo, hi = M_PI + M_PI0, M_TAU
        while todo.size:  # Breit-Wigner, truncated to the kinematic range
            m = M_RHO + W_RHO / 2 * np.tan(rng.uniform(-np.pi / 2, np.pi / 2, todo.size))
            ok = (m > lo) & (m < hi)
            m_rho[todo[ok]] = m[ok]
            todo = todo[~ok]
        rho, nu = _two_body(m_tau, m_rho, np.zeros(n), rng)
        beta = rho[:, 1:] / rho[:, :1]
        pi, pi0 = _two_body(m_rho, np.full(n, M_PI), np.full(n, M_PI0), rng)
        return [boost(pi, -beta), boost(pi0, -beta), nu]
    return _sequential(m_tau, [_MASS[abs(c)] for c in codes], rng)


def _photons_from_pi0(pi0: FloatArray, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    n = len(pi0)
    g1, g2 = _two_body(np.full(n, M_PI0), np.zeros(n), np.zeros(n), rng)
    beta = pi0[:, 1:] / pi0[:, :1]
    return boost(g1, -beta), boost(g2, -beta)


def mode_probabilities(bias: dict[str, float] | None = None) -> tuple[FloatArray, FloatArray]:
    """(sampling probability, weight = branching fraction / probability) per mode of MODES.

    ``bias``: sampling probabilities of named modes (importance sampling toward the decays a
    selection keeps); the other modes share the rest in proportion to their branching
    fractions, so every mode keeps a non-zero probability and the weighted sample stays
    unbiased.

    >>> q, w = mode_probabilities({"mu": 0.5})
    >>> round(float(q[1]), 3), round(float(w[1]), 4), round(float(q.sum()), 6)
    (0.5, 0.3478, 1.0)
    >>> round(float(w[0]), 4)  # the other modes: (1 - 0.1739) / (1 - 0.5)
    1.6522
    """
    br = np.array([m[1] for m in MODES])
    br = br / br.sum()
    if not bias:
        return br, np.ones(len(MODES))
    names = [m[0] for m in MODES]
    unknown = sorted(set(bias) - set(names))
    if unknown:
        raise ConfigError(f"unknown tau decay modes {unknown}; known: {', '.join(names)}")
    forced = np.array([name in bias for name in names])
    rest = 1.0 - sum(bias.values())
    if not all(0 < v < 1 for v in bias.values()) or rest <= 0 or forced.all():
        raise ConfigError(
            f"tau decay mode probabilities {bias} must be in (0, 1) and leave a share for the "
            "other modes"
        )
    q = np.where(forced, [bias.get(name, 0.0) for name in names], br * rest / br[~forced].sum())
    return q, br / q


def decay_taus(
    tau: FloatArray,
    charge: int,
    rng: np.random.Generator,
    bias: dict[str, float] | None = None,
) -> tuple[NDArray[np.int32], FloatArray, FloatArray]:
    """Decay taus with four-momenta (n, 4) [GeV] and charge -1 or +1, the modes drawn with
    :func:`mode_probabilities` (``bias``: importance sampling of named modes).

    Returns pdg (n, SLOTS), four-momenta (n, SLOTS, 4) in the frame of ``tau`` (unused slots
    have E = 0) and the weight of each decay (1 without a bias).
    """
    n = len(tau)
    pdg = np.zeros((n, SLOTS), dtype=np.int32)
    p4 = np.zeros((n, SLOTS, 4))
    probs, mode_weight = mode_probabilities(bias)
    choice = rng.choice(len(MODES), size=n, p=probs)
    beta = tau[:, 1:] / tau[:, :1]
    sign = -charge  # the table is written for tau- (charge -1)
    for k, (name, _, codes) in enumerate(MODES):
        rows = np.flatnonzero(choice == k)
        if rows.size == 0:
            continue
        daughters = _mode_daughters(name, codes, rows.size, rng)
        slot = 0
        for code, d in zip(codes, daughters, strict=True):
            lab = boost(d, -beta[rows])
            if code == 111:
                for g in _photons_from_pi0(lab, rng):
                    pdg[rows, slot] = 22
                    p4[rows, slot] = g
                    slot += 1
                continue
            charged = code not in (16,)
            pdg[rows, slot] = code * sign if charged else (16 * sign)
            p4[rows, slot] = lab
            slot += 1
    return pdg, p4, mode_weight[choice]
