"""The analytic matrix elements of mlsearch.physics.qed_me against independent evaluations."""

import numpy as np
import pytest
from scipy import integrate

from mlsearch.physics.constants import ALPHA_EM, M_MU
from mlsearch.physics.dirac import GAMMA, METRIC, slash
from mlsearch.physics.kinematics import minkowski_dot
from mlsearch.physics.qed_me import (
    alp_dsigma_dcos,
    bhabha_dsigma_dcos,
    breit_wheeler_dsigma_dcos,
    breit_wheeler_sigma,
    dark_photon_dsigma_dcos,
    me2_mumu_gamma,
    me2_radiative_bhabha,
    me2_three_photons,
)

E2 = 4 * np.pi * ALPHA_EM
SQRT_S = 10.58
G = np.diag(METRIC)


def _beams(sqrt_s=SQRT_S):
    e = sqrt_s / 2
    return np.array([e, 0, 0, -e]), np.array([e, 0, 0, e])  # e+ along -z, e- along +z


def _massless(e, cos_t, phi):
    sin_t = np.sqrt(1 - cos_t**2)
    return e * np.array([1, sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t])


def _two_body(s, m, cos_t, phi=0.3):
    """photon (massless) at cos_t and a recoiling particle of mass m, CM frame."""
    e_gamma = (s - m**2) / (2 * np.sqrt(s))
    k1 = _massless(e_gamma, cos_t, phi)
    total = np.array([np.sqrt(s), 0, 0, 0])
    return k1, total - k1


@pytest.mark.parametrize("mass", [0.0, 2.0, 7.5])
@pytest.mark.parametrize("cos_t", [-0.8, 0.1, 0.6])
def test_dark_photon_cross_section_matches_dirac_traces(mass, cos_t):
    s = SQRT_S**2
    pp, pm = _beams()
    k1, k2 = _two_body(s, mass, cos_t)

    def prop(q):
        return slash(q) / minkowski_dot(q, q)

    total = 0.0
    for mu in range(4):
        for nu in range(4):
            gam = GAMMA[nu] @ prop(pm - k1) @ GAMMA[mu] + GAMMA[mu] @ prop(pm - k2) @ GAMMA[nu]
            gbar = GAMMA[mu] @ prop(pm - k1) @ GAMMA[nu] + GAMMA[nu] @ prop(pm - k2) @ GAMMA[mu]
            total += G[mu] * G[nu] * np.trace(slash(pp) @ gam @ slash(pm) @ gbar).real
    me2 = E2**2 * total / 4
    p_out = (s - mass**2) / (2 * np.sqrt(s))
    dsigma = me2 / (32 * np.pi * s) * (2 * p_out / np.sqrt(s))
    assert dark_photon_dsigma_dcos(s, mass, cos_t) == pytest.approx(dsigma, rel=1e-9)


def test_gamma_gamma_total_is_the_leading_log_formula():
    """sigma(ee -> gg) with the electron-mass regularisation: (2 pi a^2/s)(ln(s/m_e^2) - 1)."""
    from mlsearch.physics.constants import M_E

    s = SQRT_S**2
    beta = np.sqrt(1 - 4 * M_E**2 / s)
    sigma, _ = integrate.quad(
        lambda c: 0.5 * dark_photon_dsigma_dcos(s, 0.0, c, beta), -1, 1, points=[-0.999, 0.999]
    )
    assert sigma == pytest.approx(2 * np.pi * ALPHA_EM**2 / s * (np.log(s / M_E**2) - 1), 1e-3)


def test_three_photon_soft_limit_is_eikonal_times_two_photon():
    pp, pm = _beams()
    s = SQRT_S**2
    for cos1, cos3, eps in [(0.3, -0.5, 1e-5), (-0.7, 0.2, 1e-6)]:
        k1 = _massless(SQRT_S / 2, cos1, 0.4)
        k3 = _massless(eps, cos3, 2.0)
        k2 = pp + pm - k1 - k3  # nearly massless for a soft k3
        kap3, kapp3 = minkowski_dot(pp, k3), minkowski_dot(pm, k3)
        me2_gg = 2 * E2**2 * (1 + cos1**2) / (1 - cos1**2) * 2  # 2e^4 (t/u + u/t)
        eikonal = E2 * s / (kap3 * kapp3)
        assert me2_three_photons(pp, pm, k1, k2, k3) == pytest.approx(eikonal * me2_gg, rel=1e-3)


def test_radiative_bhabha_soft_limit_is_eikonal_times_born():
    pp, pm = _beams()
    s = SQRT_S**2
    cos_e, eps = 0.4, 1e-5
    qm = _massless(SQRT_S / 2, cos_e, 0.7)
    k = _massless(eps, -0.3, 2.5)
    qp = pp + pm - qm - k
    born = bhabha_dsigma_dcos(s, cos_e) * 32 * np.pi * s  # <|M|^2> of the Born Bhabha
    legs = [(pm, 1), (pp, -1), (qm, -1), (qp, 1)]  # incoming e- and outgoing e+ alike
    current = sum(eta * p / minkowski_dot(p, k) for p, eta in legs)
    eikonal = -E2 * minkowski_dot(current, current)
    assert me2_radiative_bhabha(pp, pm, qp, qm, k) == pytest.approx(eikonal * born, rel=1e-3)


@pytest.mark.parametrize("w", [0.25, 0.5, 2.0, 8.0])
def test_breit_wheeler_differential_integrates_to_total(w):
    total, _ = integrate.quad(lambda c: breit_wheeler_dsigma_dcos(w**2, M_MU, c), -1, 1)
    assert total == pytest.approx(float(breit_wheeler_sigma(w**2, M_MU)), rel=1e-6)
    assert breit_wheeler_sigma(0.2**2, M_MU) == 0.0  # below threshold


@pytest.mark.parametrize("mass", [0.1, 3.0, 9.0])
def test_alp_strahlung_matches_the_epsilon_tensor_contraction(mass):
    """|M|^2 = e^2 g^2/s^2 L_ab V^a_n V^b_n' (-g^nn'), V^a_n = eps^{a n r s} q_r k_s."""
    s = SQRT_S**2
    pp, pm = _beams()
    cos_t = 0.35
    k, _ = _two_body(s, mass, cos_t)
    q = pp + pm
    lo = lambda p: p * G  # noqa: E731 - lower the index
    eps = np.zeros((4, 4, 4, 4))
    import itertools

    for perm in itertools.permutations(range(4)):
        sign = np.linalg.det(np.eye(4)[list(perm)])
        eps[perm] = sign
    v = np.einsum("anrs,r,s->an", eps, lo(q), lo(k))  # upper a, n
    lt = 4 * (np.outer(lo(pp), lo(pm)) + np.outer(lo(pm), lo(pp)) - minkowski_dot(pp, pm) * METRIC)
    me2 = E2 / s**2 * np.einsum("ab,an,bm,nm->", lt, v, v, -METRIC) / 4
    dsigma = me2 / (32 * np.pi * s) * (1 - mass**2 / s)
    assert alp_dsigma_dcos(s, mass, cos_t) == pytest.approx(dsigma, rel=1e-9)


def _bar(x):
    """Dirac adjoint of a (..., 4, 4) matrix: gamma^0 X^dagger gamma^0."""
    g0 = GAMMA[0]
    return g0 @ np.conj(np.swapaxes(x, -1, -2)) @ g0


def _me2_mumu_gamma_traces(pp, pm, qp, qm, k):
    """Spin-averaged |M|^2 of e+ e- -> mu+ mu- gamma from the four tree diagrams (massless),
    by numerical Dirac traces: M = e^3 eps*_a [E^{a mu} m_mu / s' + e^mu M^a_mu / s], the
    photon polarisation sum -g_ab, u ubar = p-slash."""

    def prop(q):
        return slash(q) / minkowski_dot(q, q)

    gam = GAMMA
    lower = np.einsum("m,mij->mij", G, gam)  # gamma_mu
    # electron line, photon a and current index mu (ISR), and the bare current (FSR)
    e_isr = np.einsum("mij,jk,akl->amil", gam, prop(pm - k), gam) + np.einsum(
        "aij,jk,mkl->amil", gam, prop(k - pp), gam
    )
    e_fsr = np.broadcast_to(gam, (4, 4, 4, 4))  # [a, mu]: no photon on this line
    mu_isr = np.broadcast_to(lower, (4, 4, 4, 4))
    mu_fsr = np.einsum("aij,jk,mkl->amil", gam, prop(qm + k), lower) + np.einsum(
        "mij,jk,akl->amil", lower, prop(-qp - k), gam
    )
    s1 = minkowski_dot(qp + qm, qp + qm)
    s = minkowski_dot(pp + pm, pp + pm)
    e_line = np.stack([e_isr, e_fsr])  # [t, a, mu, 4, 4]
    m_line = np.stack([mu_isr / s1, mu_fsr / s])
    te = np.einsum("tamij,jk,sbnkl,li->tamsbn", e_line, slash(pm), _bar(e_line), slash(pp))
    tm = np.einsum("tamij,jk,sbnkl,li->tamsbn", m_line, slash(qp), _bar(m_line), slash(qm))
    total = -np.einsum("a,tamsan,tamsan->", G, te, tm)  # -g_ab with b = a
    return E2**3 * total.real / 4


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_mumu_gamma_matches_the_dirac_traces_of_the_four_diagrams(seed):
    """Hard photons at wide and small angles, ISR, FSR and their interference."""
    rng = np.random.default_rng(seed)
    pp, pm = _beams()
    e_g = rng.uniform(0.5, 4.0)
    k = _massless(e_g, rng.uniform(-0.95, 0.95), rng.uniform(0, 2 * np.pi))
    rest = pp + pm - k
    m2 = minkowski_dot(rest, rest)
    beta = rest[1:] / rest[0]
    c, phi = rng.uniform(-1, 1), rng.uniform(0, 2 * np.pi)
    q = _massless(np.sqrt(m2) / 2, c, phi)  # mu- in the pair rest frame
    from mlsearch.physics.kinematics import boost

    qm = boost(q[None], -beta[None])[0]
    qp = rest - qm
    assert me2_mumu_gamma(pp, pm, qp, qm, k) == pytest.approx(
        _me2_mumu_gamma_traces(pp, pm, qp, qm, k), rel=1e-9
    )


def test_the_three_body_integrator_gives_the_massless_phase_space_volume():
    """mumu_gamma_hard_fb without cuts and |M|^2 = 1: Phi_3 = s / (256 pi^3)."""
    from mlsearch.validation.references import mumu_gamma_hard_fb

    volume, error = mumu_gamma_hard_fb(SQRT_S, None, 200_000)
    assert volume == pytest.approx(SQRT_S**2 / (256 * np.pi**3), abs=4 * error)
    assert error < 2e-3 * volume
