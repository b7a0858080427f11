"""The ECL stage of the fast simulation: every particle that reaches the calorimeter deposits
energy crystal by crystal (:mod:`mlsearch.detector.showers`), beam background adds
out-of-time low-energy clusters, the deposits are clustered, and clusters are split into those
of reconstructed tracks (the track's clusterE) and neutral clusters with the basf2 variables.

Per particle type: photons and electrons shower electromagnetically with the design energy
resolution and a low-side leakage tail; electrons radiate a bremsstrahlung photon in the
material before the ECL with probability ``brems_probability`` (fraction of the energy uniform
in 2-30 %), which lands at the straight-line impact while the electron curves in the 1.5 T
field; muons leave a minimum-ionising deposit; charged pions and kaons pass as minimum
ionising half of the time and otherwise shower hadronically (20-90 % of their energy);
K_L and neutrons interact with probability 0.6 and deposit 10-60 % of their kinetic energy.
Particles made at a displaced vertex (long-lived ALPs) hit the front face where their line
from the vertex meets it; those made beyond it are not seen.

Track-cluster matching uses the truth particle that dominates the cluster's seed crystal (the
fast-simulation stand-in for basf2's track extrapolation): a cluster whose particle was
reconstructed as a track belongs to the track, every other cluster is neutral (a charged
particle without a track leaves a neutral cluster, as in basf2). The shower centre fluctuates
by 0.3 cm + 0.5 cm/sqrt(E/GeV) on the front face (lateral shower fluctuations; a photon in a
gap stays lost). Timing: collision clusters have
t ~ N(0, sigma_t), sigma_t [ns] = sqrt((a/E)^2 + b^2) with (a, b) = (1.0, 1.5) by default,
clusterErrorTiming = 2.576 sigma_t
(the dt99 of belle2-facts); beam background is uniform in +-200 ns. The pulse-shape value is
a documented proxy (Beta distributions: electromagnetic ~0.94, minimum ionising ~0.7,
hadronic ~0.43).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlsearch.detector.clustering import (
    CLUSTER_VARIABLES,
    SEED_E_MIN,
    ClusterTable,
    clusters_from_deposits,
)
from mlsearch.detector.ecl import energy_resolution, muon_deposit
from mlsearch.detector.ecl_geometry import RING_EDGES, crystal_at, front_face_distance
from mlsearch.detector.event_kernels import highest_per_group, nearest_cosine
from mlsearch.detector.geometry import ecl_region
from mlsearch.detector.showers import (
    DIGIT_E_MIN,
    EM,
    HADRONIC,
    Deposits,
    Profile,
    mip_deposits,
    photon_containment,
    shower_deposits,
)

__all__ = ["EclConfig", "EclResult", "min_track_distance", "simulate_ecl", "track_impact"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
CURVATURE = 0.3 * 1.5 / 2  # GeV per m of transverse radius: 0.3 B / 2 with B = 1.5 T


@dataclass(frozen=True)
class EclConfig:
    """ECL settings (SimulateConfig carries them from the YAML; defaults documented in
    docs/simulation.md)."""

    beam_background_rate: float = 1.0  # clusters per event
    brems_probability: float = 0.3
    cluster_e_min: float = 0.020  # GeV
    seed_e_min: float = SEED_E_MIN  # GeV
    digit_e_min: float = DIGIT_E_MIN  # GeV
    em_profile: Profile = EM
    hadronic_profile: Profile = HADRONIC
    beam_background_e_mean: float = 0.030  # GeV, above the 20 MeV floor
    timing_resolution: tuple[float, float] = (1.0, 1.5)  # ns: a / E (+) b


@dataclass(frozen=True)
class EclResult:
    """Neutral clusters (basf2 variables, one row each) and, per truth particle, the energy
    of the highest cluster it dominates (the clusterE of its track)."""

    neutral: dict[str, NDArray[Any]]
    neutral_event: IntArray
    particle_cluster_e: FloatArray
    all_event: IntArray  # every cluster (neutral and track-matched), for the trigger
    all_e: FloatArray
    all_theta: FloatArray
    all_phi: FloatArray


def _face_point(
    theta: FloatArray, phi: FloatArray, vertex: FloatArray
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """(theta, phi) seen from the IP of the point where the line from ``vertex`` [cm] along
    (theta, phi) meets the ECL front surface (barrel r = 125 cm, endcaps z = 196 / -102 cm);
    False where the vertex is already beyond it."""
    d = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], axis=1)
    x0, y0, z0 = vertex[:, 0], vertex[:, 1], vertex[:, 2]
    a = d[:, 0] ** 2 + d[:, 1] ** 2
    b = 2 * (x0 * d[:, 0] + y0 * d[:, 1])
    c = x0**2 + y0**2 - 125.0**2
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (-b + np.sqrt(np.clip(b * b - 4 * a * c, 0, None))) / (2 * a)
        t_fwd = np.where(d[:, 2] > 0, (196.0 - z0) / d[:, 2], np.inf)
        t_bwd = np.where(d[:, 2] < 0, (-102.0 - z0) / d[:, 2], np.inf)
    t = np.nanmin(np.stack([np.where(a > 0, t, np.inf), t_fwd, t_bwd], axis=1), axis=1)
    inside = (c < 0) & (z0 < 196.0) & (z0 > -102.0) & np.isfinite(t)
    point = vertex + t[:, None] * d
    r = np.hypot(point[:, 0], point[:, 1])
    return np.arctan2(r, point[:, 2]), np.arctan2(point[:, 1], point[:, 0]), inside


def track_impact(
    theta: FloatArray, phi: FloatArray, pt: FloatArray, charge: FloatArray
) -> tuple[FloatArray, BoolArray]:
    """phi [rad] where a track from the IP meets the ECL front face in the 1.5 T field, and
    whether it gets there (pT large enough to reach that radius)."""
    # forward endcap (and its gap) below the barrel's first ring, backward above its last
    z_face = np.where(
        theta < RING_EDGES[13, 0], 196.0, np.where(theta > RING_EDGES[58, 1], -102.0, np.nan)
    )
    radius = np.where(np.isnan(z_face), 125.0, np.abs(z_face * np.tan(theta))) / 100.0  # m
    arg = CURVATURE * radius / np.where(pt > 0, pt, 1e-9)
    reaches = arg < 1
    return phi - charge * np.arcsin(np.clip(arg, 0, 1)), reaches


def simulate_ecl(
    event: IntArray,
    pdg: IntArray,
    energy: FloatArray,
    theta: FloatArray,
    phi: FloatArray,
    pt: FloatArray,
    charge: FloatArray,
    vertex: FloatArray,
    tracked: BoolArray,
    n_events: int,
    config: EclConfig,
    rng: np.random.Generator,
) -> EclResult:
    """Deposit, cluster and classify; inputs are flat truth particles (lab, GeV, rad, cm);
    ``tracked``: which particles were reconstructed as tracks (their clusters are not
    neutral)."""
    n = len(pdg)
    apdg = np.abs(pdg)
    index = np.arange(n)
    # most particles come from the IP, where the face point is the direction itself
    th_face, ph_face, before = theta.copy(), phi.copy(), np.ones(n, dtype=bool)
    displaced = np.flatnonzero(np.any(vertex != 0, axis=1))
    if len(displaced):
        th_face[displaced], ph_face[displaced], before[displaced] = _face_point(
            theta[displaced], phi[displaced], vertex[displaced]
        )
    parts: list[Deposits] = []

    def em(rows: BoolArray, th: FloatArray, ph: FloatArray, e: FloatArray) -> None:
        # shower-to-shower fluctuations of the lateral development move the centroid:
        # sigma = 0.3 cm + 0.5 cm / sqrt(E) on the front face
        safe_e = np.where(e > 0, e, 1.0)
        spread = (0.3 + 0.5 / np.sqrt(safe_e)) / front_face_distance(th)
        th_s = th + spread * rng.standard_normal(len(e))
        ph_s = ph + spread * rng.standard_normal(len(e)) / np.maximum(np.sin(th), 0.1)
        # the fluctuation moves energy between crystals, not photons into or out of gaps
        c_nominal, c_moved = crystal_at(th, ph), crystal_at(th_s, ph_s)
        move = (c_nominal >= 0) & (c_moved >= 0)
        th, ph = np.where(move, th_s, th), np.where(move, ph_s, ph)
        sigma = energy_resolution(safe_e)
        # longitudinal and rear leakage: small for most showers, a few per cent for one in
        # ten (the low-side tail of the CsI line shape)
        big = rng.uniform(size=len(e)) < 0.1
        leak = rng.exponential(np.where(big, 0.03, 0.003))
        e_dep = np.clip(e * (1 + sigma * rng.standard_normal(len(e))) * (1 - leak), 0, None)
        scale = rng.lognormal(0.0, 0.1, len(e))  # EM showers: width fluctuates by ~10 %
        parts.append(
            shower_deposits(
                event[rows],
                index[rows],
                th,
                ph,
                e_dep,
                config.em_profile,
                config.digit_e_min,
                scale,
                centre=np.where(move, c_moved, c_nominal),
            )
        )

    photon = (apdg == 22) & before
    em(photon, th_face[photon], ph_face[photon], energy[photon])

    phi_track, reaches = track_impact(theta, phi, pt, charge)
    electron = (apdg == 11) & reaches & before
    brem = electron & (rng.uniform(size=n) < config.brems_probability)
    z = np.where(brem, rng.uniform(0.02, 0.30, n), 0.0)
    em(electron, theta[electron], phi_track[electron], (energy * (1 - z))[electron])
    em(brem, theta[brem], phi[brem], (energy * z)[brem])

    muon = (apdg == 13) & reaches
    mip_e = muon_deposit(theta, rng)
    parts.append(mip_deposits(event[muon], index[muon], theta[muon], phi_track[muon], mip_e[muon]))
    hadron = np.isin(apdg, (211, 321)) & reaches
    showers = hadron & (rng.uniform(size=n) < 0.5)
    mip_h = hadron & ~showers
    parts.append(
        mip_deposits(event[mip_h], index[mip_h], theta[mip_h], phi_track[mip_h], mip_e[mip_h])
    )
    frac = rng.uniform(0.2, 0.9, n)
    parts.append(_hadronic(event, index, theta, phi_track, energy * frac, showers, rng, config))
    neutral_h = np.isin(apdg, (130, 2112)) & before & (rng.uniform(size=n) < 0.6)
    e_kin = energy - np.where(apdg == 130, 0.497611, 0.939565)
    e_had = np.clip(e_kin, 0, None) * rng.uniform(0.1, 0.6, n)
    parts.append(_hadronic(event, index, th_face, ph_face, e_had, neutral_h, rng, config))
    parts.append(_beam_background(n_events, config, rng))
    table = clusters_from_deposits(
        Deposits.concat(parts), photon_containment(config.em_profile), config.seed_e_min
    )
    return _classify(table, pdg, tracked, n, config, rng)


def _hadronic(
    event: IntArray,
    index: IntArray,
    theta: FloatArray,
    phi: FloatArray,
    e_dep: FloatArray,
    rows: BoolArray,
    rng: np.random.Generator,
    config: EclConfig,
) -> Deposits:
    """Hadronic showers are irregular: the width varies by a factor ~1.4 (log-normal) and
    the energy centre wanders by ~3 cm on the front face."""
    m = int(rows.sum())
    th, ph = theta[rows], phi[rows]
    shift = 3.0 / front_face_distance(th)
    th_s = th + shift * rng.standard_normal(m)
    ph_s = ph + shift * rng.standard_normal(m) / np.maximum(np.sin(th), 0.1)
    move = crystal_at(th_s, ph_s) >= 0
    return shower_deposits(
        event[rows],
        index[rows],
        np.where(move, th_s, th),
        np.where(move, ph_s, ph),
        e_dep[rows],
        config.hadronic_profile,
        config.digit_e_min,
        scale=rng.lognormal(0.0, 0.35, m),
    )


def _beam_background(n_events: int, config: EclConfig, rng: np.random.Generator) -> Deposits:
    """Low-energy photon-like showers from beam losses: Poisson(rate) per event, E = 20 MeV +
    Exponential(30 MeV), uniform over the ECL solid angle."""
    counts = rng.poisson(config.beam_background_rate, n_events)
    event = np.repeat(np.arange(n_events), counts)
    m = len(event)
    cos_t = rng.uniform(np.cos(np.radians(155.1)), np.cos(np.radians(12.4)), m)
    e = 0.020 + rng.exponential(config.beam_background_e_mean, m)
    return shower_deposits(
        event,
        np.full(m, -1),
        np.arccos(cos_t),
        rng.uniform(-np.pi, np.pi, m),
        e,
        config.em_profile,
        config.digit_e_min,
    )


def _classify(
    table: ClusterTable,
    pdg: IntArray,
    tracked: BoolArray,
    n: int,
    config: EclConfig,
    rng: np.random.Generator,
) -> EclResult:
    keep = table.clusterE >= config.cluster_e_min
    particle = table.particle[keep]
    e = table.clusterE[keep]
    safe_particle = np.where(particle >= 0, particle, 0)
    apdg = np.where(particle >= 0, np.abs(pdg[safe_particle]), 0)
    charged = (particle >= 0) & tracked[safe_particle]  # clusters matched to a track
    # the highest cluster each charged particle dominates is its track's clusterE
    particle_e = highest_per_group(particle[charged], e[charged], np.int64(n))
    neutral = ~charged
    # timing and pulse shape are only read from neutral clusters (the track's clusterE is the
    # one cluster variable a track carries)
    e_n, bkg_n, apdg_n = e[neutral], (particle < 0)[neutral], apdg[neutral]
    m_n = len(e_n)
    ta, tb = config.timing_resolution
    sigma_t = np.sqrt((ta / e_n) ** 2 + tb**2)
    timing = sigma_t * rng.standard_normal(m_n)
    timing[bkg_n] = rng.uniform(-200, 200, int(bkg_n.sum()))
    em_like = np.isin(apdg_n, (22, 11)) | bkg_n
    mip_like = ~em_like & (apdg_n == 13)
    psd = np.empty(m_n)
    for rows_psd, (a, b) in (
        (em_like, (30, 2)),
        (mip_like, (10, 4)),
        (~em_like & ~mip_like, (3, 4)),
    ):
        psd[rows_psd] = rng.beta(a, b, int(rows_psd.sum()))
    rows_n = np.flatnonzero(keep)[neutral]
    cols = {name: getattr(table, name)[rows_n] for name in CLUSTER_VARIABLES}
    cols["clusterReg"] = ecl_region(cols["clusterTheta"])
    cols["clusterTiming"] = timing
    cols["clusterErrorTiming"] = 2.576 * sigma_t
    cols["clusterPulseShapeDiscriminationMVA"] = psd
    cols["mcPDG"] = np.where(particle >= 0, pdg[safe_particle], 0)[neutral].astype(np.int32)
    return EclResult(
        cols,
        table.event[keep][neutral],
        particle_e,
        table.event[keep],
        e,
        table.clusterTheta[keep],
        table.clusterPhi[keep],
    )


def min_track_distance(
    cl_event: IntArray,
    cl_theta: FloatArray,
    cl_phi: FloatArray,
    tr_event: IntArray,
    tr_theta: FloatArray,
    tr_phi: FloatArray,
    n_events: int,
) -> FloatArray:
    """minC2TDist [cm]: distance on the ECL front face from each cluster to the nearest
    track impact (theta, phi [rad] where the track meets the ECL) of its event (1000 cm when
    the event has no track)."""
    order = np.argsort(tr_event, kind="stable")
    start = np.concatenate([[0], np.cumsum(np.bincount(tr_event, minlength=n_events))])

    def unit(theta: FloatArray, phi: FloatArray) -> FloatArray:
        s = np.sin(theta)
        return np.stack([s * np.cos(phi), s * np.sin(phi), np.cos(theta)], axis=1)

    best = nearest_cosine(
        np.asarray(cl_event, np.int64),
        unit(cl_theta, cl_phi),
        start.astype(np.int64),
        unit(tr_theta[order], tr_phi[order]),
    )
    angle = np.arccos(np.clip(best, -1, 1))
    return np.where(best > -2, angle * front_face_distance(cl_theta), 1000.0)
