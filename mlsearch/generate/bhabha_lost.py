"""Where a single-cluster selection sees one particle and loses the others past the ECL (no
track, no cluster), as tables over the CM frame that the generators aim at.

The two-photon background of the single-photon search: a hard ISR photon seen at a wide
angle, one photon of the pair along its beam and the other, which balances the first two, in
an ECL gap or past the ECL. With the spectator exactly along its beam the recoil is fixed by
the seen photon alone; :func:`photon_cells` scans that on a (cos theta*, log E*) grid of the
seen photon: ``"no_cluster"`` keeps the cells where the recoiling photon leaves no cluster,
``"in_gap"`` those where the photon itself falls into a gap and the recoiling one is seen
(with a margin: the spectator's own angle moves the recoil). :func:`lost_photons` draws
photons over those cells with a 1/(1 - cos^2) x uniform-in-log E* shape; its density
(:func:`lost_photon_density`) is 0 elsewhere, so the sampler mixes it with its usual photons,
which keep every point reachable (the two-photon generator's aimed ISR channel,
:mod:`mlsearch.generate.gg_lost`).

The radiative Bhabha with one particle seen and the two others past the ECL is drawn with
the lost particles first: :mod:`mlsearch.generate.bhabha_cones`.
"""

from __future__ import annotations

import functools
import math
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from mlsearch.generate.phase_space import dilate
from mlsearch.physics.acceptance import ECL_THETA_DEG, in_ecl
from mlsearch.physics.beams import cms_to_lab, sample_beams
from mlsearch.physics.constants import E_HER, E_LER
from mlsearch.physics.kinematics import polar_angle

__all__ = [
    "E_LOST_MIN",
    "E_TOP",
    "Target",
    "lost_photon_density",
    "lost_photons",
    "past_ecl",
    "photon_cells",
]

FloatArray = NDArray[np.float64]
#: GeV, CM: the region's lowest photon energy. The dark-photon search's mass grid ends at
#: 8 GeV (E* = 2.26 GeV); lower photon energies stay in the ordinary sample
E_LOST_MIN = 2.0
#: the photon grid: cos(theta*) bins over [-1, 1], log(E*) bins over [E_LOST_MIN, beam energy]
_COS_BINS, _LOG_E_BINS = 200, 24
_PHI = 8  # azimuths tried per grid point (the lab boost and crossing angle break the symmetry)
#: the cells are widened by _DILATE on each side (the spectator's own angle moves the
#: recoil off the table's)
_DILATE = 2
#: GeV: the beam energy in the CM frame (nominal beams)
E_TOP = math.sqrt(4 * E_HER * E_LER) / 2
#: the drawn photons stop 10 deg from the beams (the radiative Bhabha's THETA_GAMMA_MIN)
_C_MAX = math.cos(math.radians(10.0))


def past_ecl(theta: FloatArray) -> NDArray[np.bool_]:
    """Lab polar angles [rad] beyond the ECL on the beam sides (below the forward endcap's
    12.4 deg or above the backward endcap's 155.1 deg): no cluster, no track."""
    deg = np.degrees(theta)
    return np.asarray((deg < ECL_THETA_DEG[0][0]) | (deg >= ECL_THETA_DEG[2][1]))


def _log_e_edges() -> FloatArray:
    return np.linspace(math.log(E_LOST_MIN), math.log(E_TOP), _LOG_E_BINS + 1)


def _recoil(k: FloatArray, sqrt_s: float, spectator: int) -> FloatArray:
    """The massless particle (n, 4) that balances photons k (n, 4), CM frame, when the
    spectator goes on exactly along its beam (spectator +1: the e- along +z, -1: the e+ along
    -z), from energy and momentum conservation."""
    a = sqrt_s - k[:, 0]
    e_spec = (a**2 - k[:, 0] ** 2) / (2 * (a + spectator * k[:, 3]))
    return np.stack([a - e_spec, -k[:, 1], -k[:, 2], -k[:, 3] - spectator * e_spec], axis=-1)


#: what the recoiling particle must do in a cell of :func:`photon_cells`
Target = Literal["no_cluster", "in_gap"]


@functools.cache
def photon_cells(target: Target) -> tuple[NDArray[np.int64], FloatArray]:
    """The photon grid's cells (flat index cos_bin * _LOG_E_BINS + log_e_bin) where the
    photon hits the ECL and the recoiling photon leaves no cluster (``target``
    "no_cluster": in a gap or past the ECL) - or, "in_gap", where the photon falls into a
    gap between the ECL's parts and the recoiling photon hits the ECL (nominal beams,
    corners and centre of each cell, _PHI azimuths, either spectator), widened by _DILATE,
    and each cell's probability in :func:`lost_photons`: 1/(1 - cos^2) in cos theta* and
    uniform in log E* (the ISR dipole pattern's shape away from the beams) integrated over
    the cell."""
    cos_edges = np.linspace(-1.0, 1.0, _COS_BINS + 1)
    e_edges = _log_e_edges()
    fractions = np.array([0.0, 0.5, 1.0])
    cos_pts = cos_edges[:-1, None] + np.diff(cos_edges)[:, None] * fractions  # (bins, 3)
    loge_pts = e_edges[:-1, None] + np.diff(e_edges)[:, None] * fractions
    c = np.clip(cos_pts, -1 + 1e-9, 1 - 1e-9)[:, None, :, None, None]
    e = np.exp(loge_pts)[None, :, None, :, None]
    phi = np.linspace(0, 2 * np.pi, _PHI, endpoint=False)[None, None, None, None, :]
    shape = np.broadcast_shapes(c.shape, e.shape, phi.shape)
    sin = np.sqrt(1 - c**2)
    k = np.stack(
        [
            np.broadcast_to(x, shape)
            for x in (e, e * sin * np.cos(phi), e * sin * np.sin(phi), e * c)
        ],
        axis=-1,
    ).reshape(-1, 4)
    beams = sample_beams(len(k), np.random.default_rng(0), energy_spread=False)
    sqrt_s = float(beams.sqrt_s[0])
    theta_k = polar_angle(cms_to_lab(k[:, None], beams)[:, 0])
    # where the photon must be: in the ECL, or ("in_gap") in a gap between its parts
    photon_ok = in_ecl(theta_k)
    if target == "in_gap":
        photon_ok = ~photon_ok & ~past_ecl(theta_k)
    possible = np.zeros(len(k), dtype=bool)
    for spectator in (1, -1):
        theta = polar_angle(cms_to_lab(_recoil(k, sqrt_s, spectator)[:, None], beams)[:, 0])
        lost = ~in_ecl(theta) if target == "no_cluster" else in_ecl(theta)
        possible |= photon_ok & lost
    cell = possible.reshape(_COS_BINS, _LOG_E_BINS, -1).any(axis=-1)
    for axis in (0, 1):
        cell = np.apply_along_axis(dilate, axis, cell, _DILATE)
    lo, hi = _clipped_bins(_COS_BINS)
    mass_cos = np.arctanh(hi) - np.arctanh(lo)  # the integral of 1/(1 - c^2)
    mass = mass_cos[:, None] * np.diff(e_edges)[None, :] * cell
    flat = np.flatnonzero(mass > 0)
    return flat, mass.ravel()[flat] / mass.sum()


def lost_photons(n: int, rng: np.random.Generator, target: Target) -> tuple[FloatArray, FloatArray]:
    """n photons (cos theta*, E* [GeV]) drawn over :func:`photon_cells` of ``target``: a cell
    by its probability, then uniform in cos theta* and log E* inside it (the cos range
    clipped at the radiative channel's 10 deg)."""
    cells, prob = photon_cells(target)
    chosen = cells[rng.choice(len(cells), size=n, p=prob)]
    i_cos, i_e = np.divmod(chosen, _LOG_E_BINS)
    low, high = _clipped_bins(_COS_BINS)
    lo, hi = low[i_cos], high[i_cos]
    e_edges = _log_e_edges()
    cos_t = lo + rng.uniform(size=n) * (hi - lo)
    log_e = e_edges[i_e] + rng.uniform(size=n) * (e_edges[1] - e_edges[0])
    return np.asarray(cos_t), np.exp(log_e)


def _clipped_bins(bins: int) -> tuple[FloatArray, FloatArray]:
    """The (low, high) edges of ``bins`` equal cos(theta*) bins over [-1, 1], clipped to the
    radiative channel's |cos| < cos 10 deg (empty bins beyond it)."""
    edges = np.linspace(-1.0, 1.0, bins + 1)
    return np.clip(edges[:-1], -_C_MAX, _C_MAX), np.clip(edges[1:], -_C_MAX, _C_MAX)


def _cos_bin(cos_t: FloatArray, bins: int) -> NDArray[np.int64]:
    """The bin of each cos(theta*) among ``bins`` equal bins over [-1, 1]."""
    return np.clip(((cos_t + 1) / 2 * bins).astype(np.int64), 0, bins - 1)


@functools.cache
def _cell_table(target: Target) -> FloatArray:
    cells, prob = photon_cells(target)
    table = np.zeros(_COS_BINS * _LOG_E_BINS)
    table[cells] = prob
    return table


def lost_photon_density(cos_t: FloatArray, e: FloatArray, target: Target) -> FloatArray:
    """The density of :func:`lost_photons` of ``target`` in (cos theta*, E* [GeV])
    [GeV^-1]; 0 off its cells."""
    table = _cell_table(target)
    log_e = np.log(np.where(e > 0, e, 1.0))
    e_edges = _log_e_edges()
    i_e = np.floor((log_e - e_edges[0]) / (e_edges[1] - e_edges[0])).astype(np.int64)
    i_cos = _cos_bin(cos_t, _COS_BINS)
    inside = (i_e >= 0) & (i_e < _LOG_E_BINS) & (np.abs(cos_t) <= _C_MAX)
    p = table[i_cos * _LOG_E_BINS + np.clip(i_e, 0, _LOG_E_BINS - 1)] * inside
    low, high = _clipped_bins(_COS_BINS)
    lo, hi = low[i_cos], high[i_cos]
    width = np.where(hi > lo, hi - lo, 1.0)
    return np.asarray(p / (width * (e_edges[1] - e_edges[0]) * np.where(e > 0, e, 1.0)))
