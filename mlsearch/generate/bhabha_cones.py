"""e+e- -> e+e- gamma with two of its three particles past the ECL, drawn where they go: the
radiative Bhabha events a single-cluster selection keeps.

With the photon seen at a wide angle and both leptons lost down the beam pipe, the photon's
transverse momentum (1-2 GeV at the A' masses 6-8 GeV) is carried by the two leptons, which
the ECL's edges (12.4 and 155.1 deg, lab) allow ~1.5 GeV each: the leptons sit just past the
edges, on opposite sides. The radiative channel of :mod:`~mlsearch.generate.bhabha` draws
its photon first and the leptons in their pair frame, where that corner is a sliver of
solid angle - the heaviest weights of the dark-photon search's background came from it.
Here the two lost particles are drawn first, in the lab, over the cones past the ECL
(uniform in cos theta there, mixed with a peak along the beam of the cone's side: the
spectator of a t-channel exchange), one of them with its energy; the third follows from
energy and momentum conservation.

Phase space: with particle a drawn with energy E_a and direction Omega_a, particle b with
direction Omega_b, and c = P - a - b (lab, P the beams' four-momentum),

    dPhi_3 = |p_a| |p_b|^2 dE_a dOmega_a dOmega_b / (8 (2 pi)^5 E_b E_c |J|),
    J = |p_b| / E_b - p_c . n_b / E_c,

with |p_b| a root of E_b + E_c = E - E_a: one when E_a + m_b + E_c(p_b = 0) < E, else none or
two (each taken with probability 1/2). :func:`cone_density` gives the density of the draw
per dPhi_3 at any event, so the weight is |M|^2 / (flux x density).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mlsearch.generate.phase_space import peaked_density, peaked_direction
from mlsearch.physics.acceptance import ECL_THETA_DEG
from mlsearch.physics.beams import Beams
from mlsearch.physics.constants import M_E

__all__ = ["Cones", "Mixture", "cone_density", "cone_events", "mixture_density"]

FloatArray = NDArray[np.float64]
#: the masses of the three particles, in the order of the events' slots: e-, e+, photon
MASSES = (M_E, M_E, 0.0)
#: cos(theta_lab) ranges of the cones past the ECL: forward (below the forward endcap's
#: 12.4 deg), backward (beyond the backward endcap's 155.1 deg)
_FORWARD = (math.cos(math.radians(ECL_THETA_DEG[0][0])), 1.0)
_BACKWARD = (-1.0, math.cos(math.radians(ECL_THETA_DEG[2][1])))
#: GeV, lab: the drawn energy's upper end per cone side. A particle's lab energy is at most
#: gamma (1 + beta cos) sqrt(s) / 2 along the boost: 7.02 GeV forward, 4.07 GeV at 155.1 deg
#: (nominal beams; the energy spread and the crossing angle move it by < 0.1 GeV)
E_MAX = (7.3, 4.4)
#: 1 + delta - cos of the beam-peaked draw: the spectator's angle m_e / E is ~1e-4 rad
_DELTA = 1e-9


@dataclass(frozen=True)
class Cones:
    """How a cone channel draws: particle ``energy`` (0 e-, 1 e+, 2 photon) with its lab
    energy (uniform over ``e_forward`` in the forward cone, ``e_backward`` in the backward
    one) and direction, particle ``direction`` with its
    direction; the third from conservation. Per drawn particle (energy's, then
    direction's): the probability of the forward cone (else the backward one) and the share
    of its directions peaked along that side's beam (else uniform in cos theta over the
    cone)."""

    energy: int
    direction: int
    forward: tuple[float, float]
    peak: tuple[float, float]
    #: GeV, lab: the ranges of the drawn energy in the forward and the backward cone
    #: (clipped below at the particle's mass)
    e_forward: tuple[float, float] = (0.0, E_MAX[0])
    e_backward: tuple[float, float] = (0.0, E_MAX[1])

    @property
    def rest(self) -> int:
        """The particle that follows from conservation."""
        return 3 - self.energy - self.direction


#: cone channels and their shares
Mixture = tuple[tuple[float, Cones], ...]


def _beam_axes(beams: Beams) -> tuple[FloatArray, FloatArray]:
    """Unit vectors (n, 3) of the e- and e+ beams in the lab."""
    axes = []
    for beam in (beams.electron, beams.positron):
        axes.append(beam[:, 1:] / np.linalg.norm(beam[:, 1:], axis=1, keepdims=True))
    return axes[0], axes[1]


def _draw_direction(
    forward: NDArray[np.bool_], peak: float, axes: tuple[FloatArray, FloatArray],
    rng: np.random.Generator,
) -> FloatArray:  # fmt: skip
    """Unit vectors (n, 3): in the cone of each event's side, uniform in cos theta (lab) or,
    ``peak`` of them, peaked along that side's beam."""
    n = len(forward)
    peaked = rng.uniform(size=n) < peak
    out = np.empty((n, 3))
    flat = ~peaked
    low = np.where(forward[flat], _FORWARD[0], _BACKWARD[0])
    high = np.where(forward[flat], _FORWARD[1], _BACKWARD[1])
    c = low + rng.uniform(size=len(low)) * (high - low)
    phi = rng.uniform(0, 2 * np.pi, len(low))
    s = np.sqrt(np.clip(1 - c**2, 0, None))
    out[flat] = np.stack([s * np.cos(phi), s * np.sin(phi), c], axis=-1)
    axis = np.where(forward[peaked][:, None], axes[0][peaked], axes[1][peaked])
    out[peaked] = peaked_direction(axis, rng, _DELTA)
    return out


def _side_densities(
    d: FloatArray, peak: float, axes: tuple[FloatArray, FloatArray]
) -> tuple[FloatArray, FloatArray]:
    """The direction densities [sr^-1] of the forward and the backward draw at ``d``."""
    out = []
    for (low, high), axis in zip((_FORWARD, _BACKWARD), axes, strict=True):
        inside = (d[:, 2] >= low) & (d[:, 2] <= high)
        flat = np.where(inside, 1 / (2 * np.pi * (high - low)), 0.0)
        cos_axis = np.clip((d * axis).sum(axis=1), -1, 1)
        out.append((1 - peak) * flat + peak * peaked_density(cos_axis, _DELTA))
    return out[0], out[1]


def _roots(
    total: FloatArray, p_a: FloatArray, n_b: FloatArray, m_b: float, m_c: float
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """The momenta |p_b| (n, 2) that conserve energy with particle a fixed and b along
    ``n_b`` (lab), and which of them are physical: 2 A E_b + 2 c |p_b| = B with A = E - E_a,
    c = -(P - p_a) . n_b, B = A^2 + m_b^2 - |P - p_a|^2 - m_c^2, squared to a quadratic."""
    a_e = total[:, 0] - p_a[:, 0]
    rest = total[:, 1:] - p_a[:, 1:]
    c = -(rest * n_b).sum(axis=1)
    b = a_e**2 + m_b**2 - (rest**2).sum(axis=1) - m_c**2
    # (A^2 - c^2) p^2 + B c p + A^2 m_b^2 - B^2 / 4 = 0, its discriminant A^2 D / 4
    quad = a_e**2 - c**2
    disc = b**2 - 4 * m_b**2 * quad
    sqrt_d = np.sqrt(np.clip(disc, 0, None))
    q = -0.5 * (b * c + np.where(b * c >= 0, 1.0, -1.0) * a_e * sqrt_d)  # no cancellation
    with np.errstate(all="ignore"):
        first = q / quad
        second = (a_e**2 * m_b**2 - b**2 / 4) / q
    roots = np.stack([first, second], axis=1)
    e_b = np.sqrt(roots**2 + m_b**2)
    ok = (disc >= 0)[:, None] & (quad > 0)[:, None] & np.isfinite(roots) & (roots >= 0)
    ok &= np.abs(2 * a_e[:, None] * e_b + 2 * c[:, None] * roots - b[:, None]) <= 1e-9 * (
        np.abs(b)[:, None] + 1.0
    )  # the squaring's spurious roots fail the unsquared equation
    ok &= e_b < a_e[:, None]  # particle c keeps a positive energy
    same = ok[:, 0] & ok[:, 1] & np.isclose(roots[:, 0], roots[:, 1], rtol=1e-12, atol=0)
    ok[:, 1] &= ~same  # a double root counts once
    return np.asarray(roots), np.asarray(ok)


def _energy_ranges(cones: Cones) -> tuple[tuple[float, float], tuple[float, float]]:
    """The (low, low) and (high, high) ends [GeV] of the drawn energy in the forward and the
    backward cone."""
    m = MASSES[cones.energy]
    low = (max(cones.e_forward[0], m), max(cones.e_backward[0], m))
    return low, (cones.e_forward[1], cones.e_backward[1])


def _unit(v: FloatArray) -> FloatArray:
    return np.asarray(v / np.linalg.norm(v, axis=-1, keepdims=True))


def cone_events(
    beams: Beams, rng: np.random.Generator, mixture: Mixture
) -> tuple[FloatArray, FloatArray]:
    """Events (n, 3, 4) in the lab (e-, e+, photon), each drawn by a channel of ``mixture``
    chosen by its share, and the mixture's density per dPhi_3 (:func:`mixture_density`);
    events without a solution are all zero with density 0 (a trial of weight 0)."""
    n = len(beams.electron)
    shares = np.array([share for share, _ in mixture])
    pick = rng.choice(len(mixture), size=n, p=shares / shares.sum())
    events = np.zeros((n, 3, 4))
    found = np.zeros(n, dtype=bool)
    for i, (_, cones) in enumerate(mixture):  # each channel draws its own trials
        rows = np.flatnonzero(pick == i)
        events[rows], found[rows] = _draw(
            Beams(beams.electron[rows], beams.positron[rows]), rng, cones
        )
    density = mixture_density(events, beams, mixture)
    events[~found] = 0.0
    return events, np.where(found, density, 0.0)


def mixture_density(events: FloatArray, beams: Beams, mixture: Mixture) -> FloatArray:
    """The density per dPhi_3 [GeV^-2] of :func:`cone_events` with ``mixture`` at the lab
    events (n, 3, 4): the shares' sum of each channel's :func:`cone_density`."""
    norm = sum(share for share, _ in mixture)
    total, axes = beams.electron + beams.positron, _beam_axes(beams)  # once for all channels
    return np.asarray(
        sum(share / norm * _density(events, total, axes, cones) for share, cones in mixture)
    )


def _draw(
    beams: Beams, rng: np.random.Generator, cones: Cones
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Events (n, 3, 4) in the lab drawn by one channel, and which have a solution."""
    n = len(beams.electron)
    total = beams.electron + beams.positron
    axes = _beam_axes(beams)
    a, b = cones.energy, cones.direction
    fwd_a = rng.uniform(size=n) < cones.forward[0]
    fwd_b = rng.uniform(size=n) < cones.forward[1]
    low, high = _energy_ranges(cones)
    e_a = np.where(fwd_a, low[0], low[1])
    e_a = e_a + rng.uniform(size=n) * (np.where(fwd_a, high[0], high[1]) - e_a)
    n_a = _draw_direction(fwd_a, cones.peak[0], axes, rng)
    n_b = _draw_direction(fwd_b, cones.peak[1], axes, rng)
    p_abs = np.sqrt(np.clip(e_a**2 - MASSES[a] ** 2, 0, None))
    p_a = np.concatenate([e_a[:, None], p_abs[:, None] * n_a], axis=1)
    roots, ok = _roots(total, p_a, n_b, MASSES[b], MASSES[cones.rest])
    second = ok[:, 1] & (~ok[:, 0] | (rng.uniform(size=n) < 0.5))
    p_b_abs = np.where(second, roots[:, 1], roots[:, 0])
    found = ok.any(axis=1)
    p_b_abs = np.where(found, p_b_abs, 0.0)
    p_b = np.concatenate(
        [np.sqrt(p_b_abs**2 + MASSES[b] ** 2)[:, None], p_b_abs[:, None] * n_b], axis=1
    )
    p_c = total - p_a - p_b
    events = np.zeros((n, 3, 4))
    events[:, a], events[:, b], events[:, cones.rest] = p_a, p_b, p_c
    return events, np.asarray(found)


def cone_density(events: FloatArray, beams: Beams, cones: Cones) -> FloatArray:
    """The density per dPhi_3 [GeV^-2] with which :func:`cone_events` draws the lab events
    (n, 3, 4) (e-, e+, photon; four-momentum conserved with ``beams``): the density of the
    drawn energy and two directions times dE_a dOmega_a dOmega_b / dPhi_3, over the number of
    energy-conserving |p_b| (1 or 2)."""
    return _density(events, beams.electron + beams.positron, _beam_axes(beams), cones)


def _density(
    events: FloatArray, total: FloatArray, axes: tuple[FloatArray, FloatArray], cones: Cones
) -> FloatArray:
    """:func:`cone_density` given the beams' four-momentum sum and axes."""
    a, b, c = cones.energy, cones.direction, cones.rest
    p_a, p_b, p_c = events[:, a], events[:, b], events[:, c]
    e_a = p_a[:, 0]
    abs_a = np.linalg.norm(p_a[:, 1:], axis=1)
    abs_b = np.linalg.norm(p_b[:, 1:], axis=1)
    with np.errstate(all="ignore"):
        n_a, n_b = _unit(p_a[:, 1:]), _unit(p_b[:, 1:])
    fwd_a, bwd_a = _side_densities(n_a, cones.peak[0], axes)
    fwd_b, bwd_b = _side_densities(n_b, cones.peak[1], axes)
    energy = []
    for low, high in zip(*_energy_ranges(cones), strict=True):
        energy.append(np.where((e_a >= low) & (e_a <= high), 1 / (high - low), 0.0))
    f_a, f_b = cones.forward
    drawn = (f_a * energy[0] * fwd_a + (1 - f_a) * energy[1] * bwd_a) * (
        f_b * fwd_b + (1 - f_b) * bwd_b
    )
    _, ok = _roots(total, p_a, n_b, MASSES[b], MASSES[c])
    count = ok.sum(axis=1)
    e_b, e_c = p_b[:, 0], p_c[:, 0]
    with np.errstate(all="ignore"):  # events without a solution are all zero
        jacobian = np.abs(abs_b / e_b - (p_c[:, 1:] * n_b).sum(axis=1) / e_c)
        per_phase_space = 8 * (2 * np.pi) ** 5 * e_b * e_c * jacobian / (abs_a * abs_b**2)
        density = drawn * per_phase_space / count
    return np.asarray(np.where((count > 0) & np.isfinite(density), density, 0.0))
