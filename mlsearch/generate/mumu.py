"""e+e- -> mu+ mu- (gamma) with initial-state radiation from structure functions.

Each beam radiates a collinear photon carrying the energy fraction y, drawn from the
leading-order Kuraev-Fadin electron structure function with soft-photon exponentiation,

    D(y) = beta/2 * y^(beta/2 - 1) * (1 + 3 beta / 8) - beta/4 * (2 - y),
    beta = 2 alpha / pi * (ln(s / m_e^2) - 1),

(E. A. Kuraev, V. S. Fadin, Sov. J. Nucl. Phys. 41 (1985) 466). The muon pair is produced at
the reduced s' = s (1 - y1)(1 - y2) with the Born angular distribution
1 + cos^2 + (1 - beta_mu^2) sin^2, times the vacuum-polarisation factor 1/(1 - Delta alpha(s'))^2
(:mod:`mlsearch.physics.vacuum_polarisation`). Two independent radiators give the recoil-mass tail
(M_recoil^2 = s y1 y2) that fills the Z' signal region. Events are weighted.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from mlsearch.generate.fsr import radiate_final_state
from mlsearch.io.truth import TruthSample
from mlsearch.physics.beams import cms_to_lab, sample_beams
from mlsearch.physics.constants import ALPHA_EM, M_E, M_MU
from mlsearch.physics.kinematics import boost
from mlsearch.physics.seeds import chunk_rng
from mlsearch.physics.vacuum_polarisation import vp_factor

__all__ = ["born_mumu", "generate_mumu", "isr_beta", "isr_pair_events", "radiate"]

FloatArray = NDArray[np.float64]
CHUNK = 200_000


def born_mumu(s: FloatArray | float, mass: float = M_MU) -> FloatArray:
    """Born cross section sigma(e+e- -> l+ l-) [GeV^-2] at s [GeV^2] for a lepton of ``mass``
    (default: the muon).

    >>> from mlsearch.physics.constants import GEV2_TO_PB
    >>> round(float(born_mumu(10.58**2)) * GEV2_TO_PB, 1)  # 86.8 nb / s
    775.9
    """
    s = np.asarray(s, dtype=np.float64)
    beta2 = np.clip(1 - 4 * mass**2 / s, 0, None)
    beta = np.sqrt(beta2)
    return 4 * np.pi * ALPHA_EM**2 / (3 * s) * beta * (3 - beta2) / 2


def isr_beta(s: float) -> float:
    """ISR exponent beta = 2 alpha/pi (ln(s/m_e^2) - 1); 0.0878 at sqrt(s) = 10.58 GeV."""
    return 2 * ALPHA_EM / math.pi * (math.log(s / M_E**2) - 1)


#: multichannel sampling of the ISR fractions: with probability HARD_CHANNEL both y are drawn
#: log-uniformly in [Y_MIN_HARD, 1], which puts ~7x more (lower-weight) events at the large
#: recoil masses where the Z' windows are than the structure function itself would.
HARD_CHANNEL = 0.7
Y_MIN_HARD = 1e-4


def _structure_function(y: FloatArray, beta: float) -> FloatArray:
    """Kuraev-Fadin D(y) for the fraction y of the beam energy radiated."""
    return beta / 2 * y ** (beta / 2 - 1) * (1 + 3 * beta / 8) - beta / 4 * (2 - y)


def radiate(n: int, beta: float, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """ISR fractions (y1, y2) per event and the weight D(y1) D(y2) / sampling density."""
    hard = rng.uniform(size=n) < HARD_CHANNEL
    u = rng.uniform(size=(n, 2))
    log_range = -np.log(Y_MIN_HARD)
    y = np.where(hard[:, None], Y_MIN_HARD ** (1 - u), u ** (2 / beta))
    y = np.clip(y, 1e-300, 1.0)
    soft_density = beta / 2 * y ** (beta / 2 - 1)
    hard_density = np.where(y >= Y_MIN_HARD, 1 / (y * log_range), 0.0)
    density = (1 - HARD_CHANNEL) * soft_density.prod(axis=1) + HARD_CHANNEL * hard_density.prod(
        axis=1
    )
    weight = _structure_function(y, beta).prod(axis=1) / density
    return y, weight


def _muon_directions(cos_max_weight: FloatArray, rng: np.random.Generator) -> FloatArray:
    """cos(theta) from 1 + cos^2 + (1 - b^2) sin^2 by accept-reject (b^2 given per event)."""
    n = cos_max_weight.shape[0]
    out = np.empty(n)
    todo = np.arange(n)
    while todo.size:
        c = rng.uniform(-1, 1, todo.size)
        b2 = cos_max_weight[todo]
        f = 1 + c**2 + (1 - b2) * (1 - c**2)
        ok = rng.uniform(0, 2, todo.size) < f
        out[todo[ok]] = c[ok]
        todo = todo[~ok]
    return out


def isr_pair_events(
    process: str, mass: float, n_events: int, seed: int, energy_spread: bool = True
) -> tuple[FloatArray, FloatArray]:
    """Lab four-momenta (n, 6, 4) of l-, l+, ISR photon along e-, ISR photon along e+, FSR
    photon off l-, FSR photon off l+ (:mod:`mlsearch.generate.fsr`) for e+e- -> l+ l- (ISR,
    FSR) with lepton ``mass`` [GeV], and the weights [GeV^-2] whose mean is the cross
    section."""
    out_p4: list[FloatArray] = []
    out_w: list[FloatArray] = []
    done = 0
    chunk = 0
    while done < n_events:
        n = min(CHUNK, n_events - done)
        rng = chunk_rng(seed, process, chunk)
        beams = sample_beams(n, rng, energy_spread)
        sqrt_s = beams.sqrt_s
        s = sqrt_s**2
        b = isr_beta(float(np.mean(s)))
        y, w_isr = radiate(n, b, rng)
        y1, y2 = y[:, 0], y[:, 1]
        s_red = s * (1 - y1) * (1 - y2)
        above = s_red > 4 * mass**2 * 1.0001
        # below threshold: weight 0; give it harmless no-ISR kinematics
        s_red = np.where(above, s_red, s)
        y1, y2 = np.where(above, y1, 0.0), np.where(above, y2, 0.0)
        weight = np.where(above, born_mumu(s_red, mass) * vp_factor(s_red) * w_isr, 0.0)
        beta_l2 = 1 - 4 * mass**2 / s_red
        cos_t = _muon_directions(beta_l2, rng)
        phi = rng.uniform(0, 2 * np.pi, n)
        p_l = np.sqrt(s_red) / 2 * np.sqrt(beta_l2)
        sin_t = np.sqrt(1 - cos_t**2)
        e_l = np.sqrt(s_red) / 2
        minus = np.stack(
            [e_l, p_l * sin_t * np.cos(phi), p_l * sin_t * np.sin(phi), p_l * cos_t], axis=-1
        )
        plus = minus * np.array([1.0, -1.0, -1.0, -1.0])
        # The pair's rest frame moves along z in the CM frame: e- lost y1, e+ lost y2.
        e_tot = sqrt_s / 2 * (2 - y1 - y2)
        pz_tot = sqrt_s / 2 * (y2 - y1)
        beta_z = np.stack([np.zeros(n), np.zeros(n), pz_tot / e_tot], axis=-1)
        # FSR in the pair rest frame, then one boost for leptons and FSR photons together
        leptons, fsr = radiate_final_state(np.stack([minus, plus], axis=1), mass, rng, True)
        moved = boost(np.concatenate([leptons, fsr], axis=1), -beta_z[:, None, :])
        pair, fsr = moved[:, :2], np.where(fsr[..., :1] > 0, moved[:, 2:], 0.0)
        zero = np.zeros(n)
        g1 = np.stack([sqrt_s / 2 * y1, zero, zero, sqrt_s / 2 * y1], axis=-1)
        g2 = np.stack([sqrt_s / 2 * y2, zero, zero, -sqrt_s / 2 * y2], axis=-1)
        p_cms = np.concatenate([pair, g1[:, None], g2[:, None], fsr], axis=1)
        out_p4.append(cms_to_lab(p_cms, beams))
        out_w.append(weight)
        done += n
        chunk += 1
    p4 = np.concatenate(out_p4)
    p4[..., 2:, :][p4[..., 2:, 0] < 1e-6] = 0.0  # soft ISR photons: empty slots
    return p4, np.concatenate(out_w)


def generate_mumu(n_events: int, seed: int, energy_spread: bool = True) -> TruthSample:
    """Generate n weighted e+e- -> mu+ mu- (gamma_ISR gamma_ISR) events in the lab frame.

    Particle slots: mu-, mu+, ISR photon along e-, ISR photon along e+, FSR photons off mu-
    and mu+ (E = 0 when soft).
    """
    p4, weights = isr_pair_events("mumu", M_MU, n_events, seed, energy_spread)
    pdg = np.tile(np.array([13, -13, 22, 22, 22, 22], dtype=np.int32), (n_events, 1))
    metadata = {
        "isr": "Kuraev-Fadin structure functions, both beams",
        "vacuum_polarisation": True,
        "fsr": "collinear structure function, both leptons (generate/fsr.py)",
    }
    return TruthSample.from_weights("mumu", pdg, p4, weights, metadata)
