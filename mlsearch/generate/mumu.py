"""e+e- -> mu+ mu- (gamma) with initial-state radiation from structure functions.

Each beam radiates a photon carrying the energy fraction y, drawn from the
leading-order Kuraev-Fadin electron structure function with soft-photon exponentiation,

    D(y) = beta/2 * y^(beta/2 - 1) * (1 + 3 beta / 8) - beta/4 * (2 - y),
    beta = 2 alpha / pi * (ln(s / m_e^2) - 1),

(E. A. Kuraev, V. S. Fadin, Sov. J. Nucl. Phys. 41 (1985) 466), at a polar angle to its beam
from the initial-state dipole pattern (1 - cos^2) / (1 - beta_e^2 cos^2)^2 (most photons
within a few m_e / E of the beam, 14 % beyond 30 deg), each weighted by the exact O(alpha)
radiator over its eikonal form, 1 - y^2 sin^2 / (2 (1 + (1 - y)^2)) (Berends & Kleiss):
hard photons at wide angles then have the rate of the exact e+e- -> mu+ mu- gamma matrix
element (docs/validation.md). The muon pair is produced at the reduced s' = (P - k1 - k2)^2
(s (1 - y1)(1 - y2) for collinear photons), recoiling against both photons, with the Born
angular distribution
1 + cos^2 + (1 - beta_mu^2) sin^2, times the vacuum-polarisation factor 1/(1 - Delta alpha(s'))^2
(:mod:`mlsearch.physics.vacuum_polarisation`). Two independent radiators give the recoil-mass tail
(M_recoil^2 ~ s y1 y2) that fills the Z' signal region. Events are weighted.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mlsearch.generate.fsr import radiate_final_state_aimed
from mlsearch.generate.isr import IsrChannels, hard_isr_factor, isr_beta, isr_photons, radiate
from mlsearch.generate.isr_escape import FSR_AIM_BAND, aim_escape, fsr_part_factor
from mlsearch.io.truth import TruthSample
from mlsearch.physics.beams import cms_to_lab, sample_beams
from mlsearch.physics.constants import ALPHA_EM, M_MU
from mlsearch.physics.kinematics import boost
from mlsearch.physics.seeds import chunk_rng
from mlsearch.physics.vacuum_polarisation import vp_factor

__all__ = [
    "born_mumu",
    "generate_mumu",
    "isr_pair_events",
]

FloatArray = NDArray[np.float64]
CHUNK = 200_000
#: mu mu: the radiation that gives a muon pair a large recoil mass is oversampled (weighted
#: back): both ISR photons hard (log-uniform), one hard and one soft, y1 y2 = M_recoil^2 / s
#: log-uniform (the selected mu mu cross section falls from 8 350 fb in the Z' window at 1.2
#: GeV to 18 fb at 8 GeV: as many events per ln M^2 follow it better than as many per GeV^2),
#: and one photon returning the pair to low s' (1 - y log-uniform down to 3x10^-4; the mu mu
#: threshold 4 m_mu^2 / s is 4.5x10^-4: the events of 1 - y < 0.005 with a soft second photon
#: weighed 300-800x the mean in the 0.5-5 GeV windows, from the 1/s' of the Born cross
#: section); each FSR photon log-uniform with probability 0.3. Measured in the Z' windows:
#: docs/validation.md ("mu mu: the return to threshold").
MUMU_ISR = IsrChannels(
    hard=0.05, single=0.1, recoil=0.3, recoil_log=True, one_returning=0.25, return_min=3e-4
)
MUMU_FSR_HARD = 0.3


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
    process: str,
    mass: float,
    n_events: int,
    seed: int,
    energy_spread: bool = True,
    channels: IsrChannels | None = None,
    fsr_hard: float = 0.0,
    escape_share: float = 0.0,
) -> tuple[FloatArray, FloatArray]:
    """Lab four-momenta (n, 6, 4) of l-, l+, ISR photon along e-, ISR photon along e+, FSR
    photon off l-, FSR photon off l+ (:mod:`mlsearch.generate.fsr`) for e+e- -> l+ l- (ISR,
    FSR) with lepton ``mass`` [GeV], and the weights [GeV^-2] whose mean is the cross
    section. ``escape_share``: the share of the events whose ISR is redrawn with one photon
    aimed where it leaves no cluster yet gives the pair transverse momentum, or with soft ISR
    and one lepton's FSR photon aimed (:mod:`mlsearch.generate.isr_escape`)."""
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
        y, w_isr = radiate(n, b, rng, channels or IsrChannels())
        g1, g2 = isr_photons(sqrt_s, y, rng)
        escape = None
        if escape_share > 0:  # drawn only then: the default sample keeps its random stream
            escape = aim_escape(
                escape_share, sqrt_s, y, (g1, g2), w_isr, b, channels or IsrChannels(), rng
            )
            y, (g1, g2), w_isr = escape.y, escape.photons, escape.w_isr
        pair_p4 = np.stack([sqrt_s, *np.zeros((3, n))], axis=-1) - g1 - g2
        s_red = pair_p4[:, 0] ** 2 - (pair_p4[:, 1:] ** 2).sum(axis=1)
        above = s_red > 4 * mass**2 * 1.0001
        # below threshold: weight 0; give it harmless no-ISR kinematics
        s_red = np.where(above, s_red, s)
        g1, g2 = np.where(above[:, None], g1, 0.0), np.where(above[:, None], g2, 0.0)
        pair_p4 = np.where(above[:, None], pair_p4, np.stack([sqrt_s, *np.zeros((3, n))], -1))
        w_hard = hard_isr_factor(y[:, 0], g1) * hard_isr_factor(y[:, 1], g2)
        weight = np.where(above, born_mumu(s_red, mass) * vp_factor(s_red) * w_isr * w_hard, 0.0)
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
        # the pair's rest frame recoils against both ISR photons (along and across the beams)
        beta_pair = pair_p4[:, 1:] / pair_p4[:, :1]
        # FSR in the pair rest frame, then one boost for leptons and FSR photons together
        leptons, fsr, w_fsr, fsr_odds = radiate_final_state_aimed(
            np.stack([minus, plus], axis=1), mass, rng, True, None, fsr_hard,
            None if escape is None else escape.fsr_lepton, FSR_AIM_BAND,
        )  # fmt: skip
        if escape is not None:  # the channel's FSR part, in the density of every event
            w_fsr = w_fsr * fsr_part_factor(escape_share, escape, fsr_odds)
        weight = weight * w_fsr
        moved = boost(np.concatenate([leptons, fsr], axis=1), -beta_pair[:, None, :])
        pair, fsr = moved[:, :2], np.where(fsr[..., :1] > 0, moved[:, 2:], 0.0)
        p_cms = np.concatenate([pair, g1[:, None], g2[:, None], fsr], axis=1)
        out_p4.append(cms_to_lab(p_cms, beams))
        out_w.append(weight)
        done += n
        chunk += 1
    p4 = np.concatenate(out_p4)
    p4[..., 2:, :][p4[..., 2:, 0] < 1e-6] = 0.0  # soft ISR photons: empty slots
    return p4, np.concatenate(out_w)


def generate_mumu(
    n_events: int, seed: int, energy_spread: bool = True, escape_share: float = 0.0
) -> TruthSample:
    """Generate n weighted e+e- -> mu+ mu- (gamma_ISR gamma_ISR) events in the lab frame;
    ``escape_share`` of them with a photon aimed where it leaves no cluster (or one below the Z'
    extra-energy cut) yet gives the pair transverse momentum (:mod:`mlsearch.generate.isr_escape`),
    weighted back.

    Particle slots: mu-, mu+, ISR photon along e-, ISR photon along e+, FSR photons off mu-
    and mu+ (E = 0 when soft).
    """
    p4, weights = isr_pair_events(
        "mumu", M_MU, n_events, seed, energy_spread, MUMU_ISR, MUMU_FSR_HARD, escape_share
    )
    pdg = np.tile(np.array([13, -13, 22, 22, 22, 22], dtype=np.int32), (n_events, 1))
    metadata = {
        "isr": "Kuraev-Fadin structure functions, both beams",
        "vacuum_polarisation": True,
        "fsr": "collinear structure function, both leptons (generate/fsr.py)",
        "importance_sampling": f"ISR {MUMU_ISR}, FSR hard channel {MUMU_FSR_HARD}"
        + (f", escape share {escape_share}" if escape_share else ""),
    }
    return TruthSample.from_weights("mumu", pdg, p4, weights, metadata)
