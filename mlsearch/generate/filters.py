"""Truth-level filters applied between the generator and the simulation: they drop events
that cannot pass a selection, before the (slower) detector simulation spends time on them.

A filter keeps the weights of the events it keeps: the sample's weights still sum to the
cross section of what is kept, and the dropped events' share is recorded as the filter's
acceptance. It is exact for any selection that needs what it asks for (tests/test_filters.py
checks the selected yield and distributions against an unfiltered sample).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from mlsearch.physics.acceptance import CDC_THETA, in_ecl
from mlsearch.physics.kinematics import beam_four_momenta, boost, cms_boost_vector

__all__ = ["CHARGED_PDG", "ChargedFilter", "SinglePhotonFilter", "TruthFilter"]

#: the particles the simulation can turn into tracks (|pdg|)
CHARGED_PDG = (11, 13, 211, 321)
#: the filter's angular margin around the CDC acceptance [rad]: the simulation decides on the
#: true angle, so any margin is safe; one degree covers multiple scattering
THETA_MARGIN = float(np.radians(1.0))


def _may_track(theta: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Whether a particle at lab polar angle ``theta`` [rad] may be inside the CDC's
    acceptance (THETA_MARGIN around it)."""
    return np.asarray((theta > CDC_THETA[0] - THETA_MARGIN) & (theta < CDC_THETA[1] + THETA_MARGIN))


def _momentum_and_polar(p4_lab: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    """|p| [GeV] and the polar angle [rad] of each slot (0 for empty ones)."""
    p = np.linalg.norm(p4_lab[..., 1:], axis=-1)
    return p, np.arccos(np.clip(p4_lab[..., 3] / np.where(p > 0, p, 1.0), -1, 1))


@dataclass(frozen=True)
class ChargedFilter:
    """Keep events with at least ``count`` charged particles (e, mu, pi, K) inside the CDC
    acceptance (17-150 deg, one degree of margin) with lab momentum >= ``p_min`` [GeV].

    For the Z' search: two tracks passing muonID need two charged particles above 0.6 GeV
    (below it no track passes, detector/pid.py; beam-background tracks fail it), so
    ``ChargedFilter(2, 0.5)`` drops nothing the selection could keep, with 0.1 GeV of margin
    for the momentum resolution (0.3 % at 1 GeV).

    ``pair_pt_min`` [GeV], when set: some two of those particles must also have a summed
    transverse momentum in the CM frame (nominal beams, as the features compute it) of at
    least this much - what a cut on the pair's pT* needs, less a margin for the momentum
    resolution (the pair's pT* resolution is 0.04-0.06 GeV for muons of 5-7 GeV: the Z'
    config's filter sits 0.15 GeV below its 0.3 GeV cut).

    ``extra_ecl_veto`` [GeV, lab], when set: drop the events in which a photon, or an
    electron outside the CDC, surely makes a neutral ECL cluster above it (it surely hits the
    crystals, keeps at least half its energy in its cluster, and lies 20 deg from every
    particle that may make a track): what a cut on the ECL energy not matched to the tracks
    (the Z' selection's features.extra_ecl_max, 0.4 GeV) rejects. A photon of 0.8 GeV or more
    in the ECL, away from the tracks: the hard radiation that makes most mu mu events'
    pair pT."""

    NAME: ClassVar[str] = "charged_filter"  # its config key and metadata entry
    count: int
    p_min: float
    pair_pt_min: float | None = None
    extra_ecl_veto: float | None = None

    def keep(self, pdg: NDArray[np.int32], p4_lab: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Per event, from fixed slots: pdg (n, k), lab four-momenta (n, k, 4) [GeV].

        >>> f = ChargedFilter(2, 0.5)
        >>> mu = [1.0, 1.0, 0.0, 0.0]; slow = [0.3, 0.3, 0.0, 0.0]; fwd = [2.0, 0.0, 0.1, 2.0]
        >>> f.keep(np.array([[13, -13], [13, -13], [13, 22]]),
        ...        np.array([[mu, mu], [mu, slow], [mu, mu]])).tolist()
        [True, False, False]
        >>> f.keep(np.array([[13, 211]]), np.array([[mu, fwd]])).tolist()  # 3 deg: outside
        [False]
        >>> back = [1.0, -1.0, 0.0, 0.0]; kick = [1.1, -0.9, 0.6, 0.0]
        >>> g = ChargedFilter(2, 0.5, pair_pt_min=0.3)  # back to back in the lab: pT* ~ 0
        >>> g.keep(np.array([[13, -13], [13, -13]]), np.array([[mu, back], [mu, kick]])).tolist()
        [False, True]
        >>> v = ChargedFilter(2, 0.5, extra_ecl_veto=0.4)  # photons at 90 deg, 0.9 and 0.7 GeV
        >>> up = [1.0, 0.0, 1.0, 0.0]; hard = [0.9, 0.0, -0.9, 0.0]; soft = [0.7, 0.0, -0.7, 0.0]
        >>> near = [0.9, 0.0, 0.9, 0.05]  # 3 deg from the mu+
        >>> v.keep(np.array([[13, -13, 22]] * 3), np.array([[mu, up, hard], [mu, up, soft],
        ...        [mu, up, near]])).tolist()
        [False, True, True]
        """
        charged = np.isin(np.abs(pdg), CHARGED_PDG) & (p4_lab[..., 0] > 0)
        p, theta = _momentum_and_polar(p4_lab)
        inside = _may_track(theta)
        seen = charged & inside & (p >= self.p_min)
        keep = np.asarray(seen.sum(axis=1) >= self.count)
        if self.pair_pt_min is not None:
            # the pair test only where the count passed: it boosts every slot to the CM
            rows = np.flatnonzero(keep)
            keep[rows] = _some_pair_pt_above(p4_lab[rows], seen[rows], self.pair_pt_min)
        if self.extra_ecl_veto is not None:
            rows = np.flatnonzero(keep)
            keep[rows] = ~_surely_extra_ecl(pdg[rows], p4_lab[rows], self.extra_ecl_veto)
        return keep


def _some_pair_pt_above(
    p4_lab: NDArray[np.float64], seen: NDArray[np.bool_], pt_min: float
) -> NDArray[np.bool_]:
    """Per event: whether two of the ``seen`` slots have |pT(a + b)| >= pt_min in the CM
    frame of the nominal beams (the frame of features/common.py's cms_frame)."""
    electron, positron = beam_four_momenta()
    cms = boost(p4_lab, cms_boost_vector(electron + positron))
    found = np.zeros(len(p4_lab), dtype=bool)
    k = p4_lab.shape[1]
    for i in range(k):
        for j in range(i + 1, k):
            both = seen[:, i] & seen[:, j] & ~found
            if both.any():
                pair = cms[both, i, 1:3] + cms[both, j, 1:3]
                found[both] = np.hypot(pair[:, 0], pair[:, 1]) >= pt_min
    return found


#: what :class:`SinglePhotonFilter` leaves to chance, in this simulation: a cluster's energy
#: fluctuates by the resolution (< 5 % above 0.3 GeV) and leaks by a few per cent (one shower
#: in ten by 3 % on average, exponentially): a particle's cluster is taken to reach at most
#: 1.1x and at least 0.5x its CM energy; a shower's centre moves by < 1 deg on the face, so
#: a particle "may hit" the ECL within 1 deg of its edges and gaps, and "surely hits" it
#: 1.5 deg inside them; two showers 20 deg apart (~7 crystals) never merge into one cluster
_GAIN_MAX, _LOSS_MAX = 1.1, 0.5
_MAY_HIT_DEG, _SURE_HIT_DEG, _APART_DEG = 1.0, 1.5, 20.0
#: the particles that shower in the ECL (photons, electrons)
_SHOWERING = (22, 11)


@dataclass(frozen=True)
class SinglePhotonFilter:
    """Keep the events a single-photon selection can select: some photon or electron may hit
    the ECL with a CM energy that could make a cluster above ``e_min`` [GeV], and no two
    photons or electrons, 20 deg apart, surely make clusters above ``veto_e`` [GeV, CM] (the
    selection vetoes a second cluster above it, and any track).

    For the dark-photon search (features.single_photon_e_min 0.5, second_photon_e_max 1.0)
    ``SinglePhotonFilter(0.5, 1.0)`` drops the events where every photon and electron goes
    down the beam pipe or into a gap (selected only if beam background, 20 MeV +
    Exponential(30 MeV) per cluster, made an in-time cluster above 0.5 GeV: a chance below
    1e-7) and those with two clear photons or electrons; the selection's cuts must not be
    looser than the filter's (the config checks it)."""

    NAME: ClassVar[str] = "single_photon_filter"
    e_min: float
    veto_e: float

    def keep(self, pdg: NDArray[np.int32], p4_lab: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Per event, from fixed slots: pdg (n, k), lab four-momenta (n, k, 4) [GeV].

        >>> f = SinglePhotonFilter(0.5, 1.0)
        >>> seen = [3.0, 3.0, 0.0, 0.0]; pipe = [5.0, 0.0, 0.1, 5.0]; soft = [0.2, 0.2, 0, 0]
        >>> other = [3.0, -3.0, 0.0, 0.0]
        >>> f.keep(np.full((4, 2), 22), np.array([[seen, pipe], [pipe, pipe], [soft, pipe],
        ...        [seen, other]])).tolist()
        [True, False, False, False]
        """
        electron, positron = beam_four_momenta()
        beta = cms_boost_vector(electron + positron)
        e_cms = boost(p4_lab, np.broadcast_to(beta, (*p4_lab.shape[:-1], 3)))[..., 0]
        p, theta = _momentum_and_polar(p4_lab)
        exists = p4_lab[..., 0] > 0
        showering = exists & np.isin(np.abs(pdg), _SHOWERING)
        may_hit, sure_hit = _ecl_hits(theta)
        visible = showering & may_hit & (e_cms * _GAIN_MAX >= self.e_min)
        # an electron that surely hits the ECL fails the selection twice over: tracked, the
        # track veto; untracked, its neutral cluster (brems takes < 30 % of its energy)
        clear = showering & sure_hit & (e_cms * _LOSS_MAX > self.veto_e)
        unit = p4_lab[..., 1:] / np.where(p > 0, p, 1.0)[..., None]
        apart = np.einsum("nid,njd->nij", unit, unit) < np.cos(np.radians(_APART_DEG))
        two_clear = (clear[:, :, None] & clear[:, None, :] & apart).any(axis=(1, 2))
        return np.asarray(visible.any(axis=1) & ~two_clear)


def _ecl_hits(theta: NDArray[np.float64]) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Per slot of lab polar angle ``theta`` [rad]: whether its shower may hit the ECL
    (within _MAY_HIT_DEG of the crystals) and whether it surely does (_SURE_HIT_DEG inside
    every edge and gap)."""
    # steps of 0.25 deg: the narrowest gap (barrel - forward endcap) is 0.8 deg wide
    may_hit, sure_hit = np.zeros(theta.shape, dtype=bool), np.ones(theta.shape, dtype=bool)
    for step in np.arange(-_SURE_HIT_DEG, _SURE_HIT_DEG + 0.01, 0.25):
        inside = in_ecl(theta + np.radians(step))
        sure_hit &= inside
        if abs(step) <= _MAY_HIT_DEG:
            may_hit |= inside
    return may_hit, sure_hit


def _surely_extra_ecl(
    pdg: NDArray[np.int32], p4_lab: NDArray[np.float64], e_max: float
) -> NDArray[np.bool_]:
    """Per event: whether a photon, or an electron outside the CDC, surely makes a neutral
    cluster above ``e_max`` [GeV, lab]: it surely hits the ECL, its cluster keeps at least
    _LOSS_MAX of its energy, and it is _APART_DEG from every charged particle that may be
    tracked (a track's cluster could take it in)."""
    apdg = np.abs(pdg)
    # the energy first: angles only for those photons and electrons
    event, slot = np.nonzero(np.isin(apdg, _SHOWERING) & (p4_lab[..., 0] * _LOSS_MAX >= e_max))
    out = np.zeros(len(pdg), dtype=bool)
    if not len(event):
        return out
    p4 = p4_lab[event]  # (m, k, 4): each candidate's whole event
    p, theta = _momentum_and_polar(p4)
    in_cdc = _may_track(theta)
    own = np.arange(len(event))
    own_theta = theta[own, slot]
    clear = ((apdg[event, slot] == 22) | ~in_cdc[own, slot]) & _ecl_hits(own_theta)[1]
    tracked = (p4[..., 0] > 0) & np.isin(apdg[event], CHARGED_PDG) & in_cdc
    unit = p4[..., 1:] / np.where(p > 0, p, 1.0)[..., None]
    near = np.einsum("nkd,nd->nk", unit, unit[own, slot]) >= np.cos(np.radians(_APART_DEG))
    clear &= ~(near & tracked).any(axis=1)
    out[event[clear]] = True
    return out


#: the filters a generated sample can pass through before the simulation
TruthFilter = ChargedFilter | SinglePhotonFilter
