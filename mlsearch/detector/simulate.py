"""The simulate stage: truth events -> reconstructed tracks and clusters (basf2 names)."""

from __future__ import annotations

from dataclasses import dataclass

import awkward as ak
import numpy as np
from numpy.typing import NDArray

from mlsearch.config import SimulateConfig
from mlsearch.detector.calorimeter import (
    EclConfig,
    min_track_distance,
    simulate_ecl,
    track_impact,
)
from mlsearch.detector.pid import electron_id, forced_fakes, muon_id
from mlsearch.detector.showers import Profile
from mlsearch.detector.tracking import reconstruct_tracks, track_loss_weights, trackable
from mlsearch.detector.trigger import trigger_bits
from mlsearch.physics.constants import M_E, M_K, M_MU, M_PI

__all__ = ["simulate_events"]

FloatArray = NDArray[np.float64]


def simulate_events(
    truth: ak.Array,
    config: SimulateConfig,
    rng: np.random.Generator,
    forced_misid: str | None = None,
    track_loss: float | None = None,
) -> ak.Array:
    """Reconstruct truth records (event, weight, particles) into (event, weight, tracks,
    clusters); momenta in GeV, angles in rad, lengths in cm, times in ns, lab frame.

    ``forced_misid`` ("muon" or "electron"): importance sampling of that ID's fakes
    (:func:`mlsearch.detector.pid.forced_fakes`): every event with a track that can fake it
    has one that does, and its weight is multiplied back; only for samples whose selection
    needs such a track (events without one are then missing).

    ``track_loss`` (0-1): importance sampling of tracking inefficiency: every track the CDC
    could find is lost with this probability instead of 1 - track_efficiency, and the event
    weight takes the ratio of the true to the biased probability of each track's outcome
    (:func:`~mlsearch.detector.tracking.track_loss_weights`). Unbiased for any selection;
    it pays where a selection needs charged particles to leave no track (the single-photon
    and three-photon searches: an e+e- -> e+e- gamma event whose electrons were not tracked).

    tracks (e, mu, pi, K, and beam-background tracks with mcPDG 0): px, py, pz, charge,
    muonID, electronID, clusterE (energy of the ECL cluster matched to the track), mcPDG.
    clusters (not matched to tracks): the basf2 cluster variables of
    :mod:`mlsearch.detector.calorimeter`, minC2TDist and mcPDG (0: beam background).
    trg_*: the L1 trigger bits of :mod:`mlsearch.detector.trigger` per event.
    """
    n_events = len(truth)
    parts = truth.particles
    counts = ak.to_numpy(ak.num(parts))
    flat = ak.flatten(parts)
    pdg = ak.to_numpy(flat.pdg).astype(np.int64)
    p3 = np.stack([ak.to_numpy(flat[c]) for c in ("px", "py", "pz")], axis=1)
    fields = ak.fields(flat)
    vertex = (
        np.stack([ak.to_numpy(flat[c]) for c in ("vx", "vy", "vz")], axis=1)
        if "vx" in fields
        else np.zeros((len(pdg), 3))
    )
    energy = ak.to_numpy(flat.E)
    p = np.linalg.norm(p3, axis=1)
    pt = np.hypot(p3[:, 0], p3[:, 1])
    theta = np.arccos(np.clip(p3[:, 2] / np.where(p > 0, p, 1), -1, 1))
    phi = np.arctan2(p3[:, 1], p3[:, 0])
    event_index = np.repeat(np.arange(n_events), counts)

    apdg = np.abs(pdg)
    is_muon = apdg == 13
    is_electron = apdg == 11
    is_hadron = np.isin(apdg, (211, 321))
    is_charged = is_muon | is_electron | is_hadron
    mass = np.select(
        [is_muon, is_electron, apdg == 211, apdg == 321], [M_MU, M_E, M_PI, M_K], default=0.0
    )
    # only charged particles can become tracks: smear and identify just those rows
    charged_rows = np.flatnonzero(is_charged)
    find = config.track_efficiency if track_loss is None else 1.0 - track_loss
    found_c, p3_meas_c = reconstruct_tracks(
        p3[charged_rows],
        mass[charged_rows],
        find,
        rng,
        config.track_pt_min,
        config.pt_resolution,
        config.angle_resolution,
    )
    rows = charged_rows[found_c]  # the found tracks, in particle order
    found = np.zeros(len(pdg), dtype=bool)
    found[rows] = True
    p3_meas = p3_meas_c[found_c]
    p_meas = np.linalg.norm(p3_meas, axis=1)
    mu_id, e_id, id_weight = _identify(
        _Tracks(p_meas, theta[rows], apdg[rows], event_index[rows]), config, n_events, rng,
        forced_misid,
    )  # fmt: skip
    weight = ak.to_numpy(truth.weight) * id_weight
    if track_loss is not None:
        factor = track_loss_weights(
            found_c,
            trackable(p3[charged_rows], config.track_pt_min),
            config.track_efficiency,
            track_loss,
        )
        np.multiply.at(weight, event_index[charged_rows], factor)
    # leptons: pdg > 0 is negative (e-, mu-); hadrons: pdg > 0 is positive (pi+, K+)
    charge = np.where(is_hadron, np.sign(pdg), -np.sign(pdg)).astype(np.float64)
    ecl = simulate_ecl(
        event_index,
        pdg,
        energy,
        theta,
        phi,
        pt,
        charge,
        vertex,
        found,
        n_events,
        EclConfig(
            config.beam_background_rate,
            config.brems_probability,
            config.cluster_e_min,
            config.seed_e_min,
            config.digit_e_min,
            Profile(*map(tuple, zip(*config.em_profile, strict=True))),
            Profile(*map(tuple, zip(*config.hadronic_profile, strict=True))),
            config.beam_background_e_mean,
            config.timing_resolution,
        ),
        rng,
    )
    bkg = _background_tracks(n_events, config.beam_background_tracks, rng)
    track_cols = {
        "px": p3_meas[:, 0],
        "py": p3_meas[:, 1],
        "pz": p3_meas[:, 2],
        "charge": charge[rows].astype(np.int32),
        "muonID": mu_id,
        "electronID": e_id,
        "clusterE": ecl.particle_cluster_e[rows],
        "mcPDG": pdg[rows].astype(np.int32),
    }
    track_event = np.concatenate([event_index[rows], bkg.pop("event")])
    by_event = np.argsort(track_event, kind="stable")
    tracks = ak.zip(
        {
            k: np.ascontiguousarray(np.concatenate([v, bkg[k].astype(v.dtype)])[by_event])
            for k, v in track_cols.items()
        }
    )
    track_event = track_event[by_event]
    track_counts = np.bincount(track_event, minlength=n_events)
    track_px = ak.to_numpy(tracks.px)
    track_py = ak.to_numpy(tracks.py)
    track_pt = np.hypot(track_px, track_py)
    track_theta = np.arctan2(track_pt, ak.to_numpy(tracks.pz))
    track_phi = np.arctan2(track_py, track_px)
    # minC2TDist is measured to where the track meets the ECL: in the 1.5 T field a 1 GeV
    # track arrives ~16 deg in phi away from its direction at the IP; curlers never arrive
    impact_phi, reaches = track_impact(
        track_theta, track_phi, track_pt, ak.to_numpy(tracks.charge).astype(np.float64)
    )
    cols = dict(ecl.neutral)
    cols["minC2TDist"] = min_track_distance(
        ecl.neutral_event,
        cols["clusterTheta"],
        cols["clusterPhi"],
        track_event[reaches],
        track_theta[reaches],
        impact_phi[reaches],
        n_events,
    )
    bits = trigger_bits(
        ecl.all_event,
        ecl.all_e,
        ecl.all_theta,
        ecl.all_phi,
        track_event,
        track_pt,
        track_phi,
        n_events,
    )
    order = np.argsort(ecl.neutral_event, kind="stable")
    # shape variables in single precision: they are measurements good to well below 1e-6,
    # and it halves the reconstructed files
    single = {k for k in cols if k not in ("clusterE", "clusterTheta", "clusterPhi")}
    clusters = ak.zip(
        {
            k: np.ascontiguousarray(v[order].astype(np.float32) if k in single else v[order])
            if v.dtype.kind == "f"
            else np.ascontiguousarray(v[order])
            for k, v in cols.items()
        }
    )
    cluster_counts = np.bincount(ecl.neutral_event, minlength=n_events)
    return ak.zip(
        {
            "event": truth.event,
            "weight": weight,
            "tracks": ak.unflatten(tracks, track_counts),
            "clusters": ak.unflatten(clusters, cluster_counts),
            **bits,
        },
        depth_limit=1,
    )


@dataclass(frozen=True)
class _Tracks:
    """The found tracks: measured momentum [GeV], polar angle [rad], |pdg|, event index."""

    p: FloatArray
    theta: FloatArray
    apdg: NDArray[np.int64]
    event: NDArray[np.int64]


def _identify(
    tracks: _Tracks,
    config: SimulateConfig,
    n_events: int,
    rng: np.random.Generator,
    forced_misid: str | None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(muonID, electronID) per track and the event weight factor of a forced
    misidentification (1 without one; :func:`~mlsearch.detector.pid.forced_fakes`)."""
    is_muon, is_electron = tracks.apdg == 13, tracks.apdg == 11
    hadron = np.isin(tracks.apdg, (211, 321))
    # electrons range out in the ECL and rarely reach the KLM
    fake = np.where(hadron, config.pion_fake_rate, 0.001) * (tracks.p > 0.6)
    e_fake = np.where(hadron, config.electron_pion_fake_rate, 0.001)
    forced = None
    if forced_misid == "muon":
        forced = forced_fakes(tracks.event, np.where(is_muon, 0.0, fake), n_events, rng)
        fake = np.where(forced.chosen, 1.0, fake)
    mu_id = muon_id(tracks.p, is_muon, config.muon_id_efficiency, fake, rng, tracks.theta)
    if forced_misid == "electron":
        forced = forced_fakes(tracks.event, np.where(is_electron, 0.0, e_fake), n_events, rng)
        e_fake = np.where(forced.chosen, 1.0, e_fake)
    e_id = electron_id(
        tracks.p, tracks.theta, is_electron, config.electron_id_efficiency, e_fake, rng
    )
    if forced is None:
        return mu_id, e_id, np.ones(n_events)
    passed = (mu_id if forced_misid == "muon" else e_id) > 0.5
    return mu_id, e_id, forced.event_weight(passed)


def _background_tracks(
    n_events: int, rate: float, rng: np.random.Generator
) -> dict[str, NDArray[np.generic]]:
    """Beam-background tracks: Poisson(rate) per event, pT uniform in 0.1-0.4 GeV, uniform in
    cos(theta) over the CDC acceptance, either charge, failing both lepton IDs, no cluster,
    mcPDG 0."""
    counts = rng.poisson(rate, n_events)
    m = int(counts.sum())
    pt = rng.uniform(0.1, 0.4, m)
    cos_t = rng.uniform(np.cos(np.radians(150.0)), np.cos(np.radians(17.0)), m)
    sin_t = np.sqrt(1 - cos_t**2)
    phi = rng.uniform(-np.pi, np.pi, m)
    return {
        "event": np.repeat(np.arange(n_events), counts),
        "px": pt * np.cos(phi),
        "py": pt * np.sin(phi),
        "pz": pt * cos_t / sin_t,
        "charge": rng.choice(np.array([-1, 1]), m),
        "muonID": 0.5 * rng.uniform(size=m) ** 2,
        "electronID": 0.5 * rng.uniform(size=m) ** 2,
        "clusterE": np.zeros(m),
        "mcPDG": np.zeros(m, dtype=np.int32),
    }
