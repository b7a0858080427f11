"""The single-photon region of e+e- -> gamma gamma (gamma): one photon seen above 2 GeV (CM),
every other photon without a cluster - the two-photon background of the dark-photon search
at high A' masses, where one photon of ~2-4 GeV is all the event shows.

There the event is three photons (two of the hard pair and a hard ISR photon), and one of
them goes on along its beam; the other two share the transverse momentum, so one is seen
and the other must fall into a gap between the ECL's parts or past it. Two shapes carry
the cross section:

- the ISR photon at a wide angle: seen, with the pair's balancing photon lost, or in a gap,
  with the balancing photon seen - :func:`~mlsearch.generate.bhabha_lost.photon_cells`
  "no_cluster" and "in_gap" tabulate the cells of (cos theta*, E*) of the ISR photon where
  that happens when the other pair photon goes exactly along a beam;
- the ISR photon along its beam and hard (y ~ 0.2-0.8): the pair, boosted along z, has one
  photon seen and the other past the ECL or in a gap. :func:`boosted_bands` tabulates, per
  row of y = 1 - s'/s, the bins of the pair's cos(theta) in its own frame where that happens.

:func:`aimed_isr` draws the ISR photon over those three shapes (a third each) and gives the
density of the draw; :func:`boosted_cos` / :func:`boosted_density` the pair's angle given s'.
The generator mixes both with its ordinary sampling and weights every event by the true
density over the mixture's, so the sample stays exact; the tables only steer.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

from mlsearch.generate.bhabha_lost import E_LOST_MIN, E_TOP, lost_photon_density, lost_photons
from mlsearch.generate.dipole import dipole_photon_cos, dipole_photon_density
from mlsearch.generate.phase_space import dilate, two_body
from mlsearch.physics.acceptance import in_ecl
from mlsearch.physics.beams import cms_to_lab, sample_beams
from mlsearch.physics.constants import M_E
from mlsearch.physics.kinematics import boost, polar_angle

__all__ = ["aimed_isr", "aimed_isr_density", "boosted_bands", "boosted_cos", "boosted_density"]

FloatArray = NDArray[np.float64]
#: the hard collinear ISR photon's fraction y of its beam's energy: uniform in this range
Y_HARD = (0.15, 0.8)
#: rows of y = 1 - s'/s over [0, Y_HARD[1]], cos(theta) bins of the pair, azimuths, and the
#: bins added on each side of a band (the ISR photon's own angle moves the pair by ~1 deg)
_ROWS, _BINS, _PHI, _DILATE = 40, 400, 24, 3
_S_NOMINAL = 4 * E_TOP**2
_BETA_E = float(np.sqrt(1 - (2 * M_E / (2 * E_TOP)) ** 2))


def aimed_isr(n: int, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """n ISR photons (cos theta* to +z, y): a third over the "no_cluster" cells, a third over
    the "in_gap" cells, a third hard (y uniform in Y_HARD) at the dipole angle of either
    beam."""
    kind = rng.integers(0, 3, n)
    cos_c, e_c = lost_photons(n, rng, "no_cluster")
    cos_g, e_g = lost_photons(n, rng, "in_gap")
    sign = np.where(rng.uniform(size=n) < 0.5, 1.0, -1.0)
    cos_h = sign * dipole_photon_cos(n, np.full(n, _BETA_E), rng)
    y_h = rng.uniform(*Y_HARD, n)
    cos_t = np.select([kind == 0, kind == 1], [cos_c, cos_g], cos_h)
    y = np.select([kind == 0, kind == 1], [e_c / E_TOP, e_g / E_TOP], y_h)
    return np.asarray(cos_t), np.asarray(y)


def aimed_isr_density(cos_t: FloatArray, y: FloatArray) -> FloatArray:
    """The density of :func:`aimed_isr` in (cos theta*, y)."""
    e = y * E_TOP
    cells = lost_photon_density(cos_t, e, "no_cluster") + lost_photon_density(cos_t, e, "in_gap")
    inside = (y >= Y_HARD[0]) & (y <= Y_HARD[1])
    hard = np.where(
        inside, 0.5 * dipole_photon_density(np.abs(cos_t), np.full(cos_t.shape, _BETA_E)), 0.0
    ) / (Y_HARD[1] - Y_HARD[0])
    return np.asarray((cells * E_TOP + hard) / 3)


@functools.cache
def boosted_bands() -> FloatArray:
    """(_ROWS, _BINS) probabilities of the pair's cos(theta) bins per row of y = 1 - s'/s
    (each row sums to 1, or to 0 where no bin qualifies): the bins where, for some azimuth,
    one photon of the pair hits the ECL with at least E_LOST_MIN in the CM frame and the
    other leaves no cluster, the pair recoiling against one collinear ISR photon along
    either beam (nominal beams; y at each row's edges and centre), widened by _DILATE."""
    edges = np.linspace(-1.0, 1.0, _BINS + 1)
    cos_t = np.repeat(0.5 * (edges[1:] + edges[:-1]), _PHI)
    phi = np.tile(np.linspace(0, 2 * np.pi, _PHI, endpoint=False), _BINS)
    beams = sample_beams(len(cos_t), np.random.default_rng(0), energy_spread=False)
    y_edges = np.linspace(0.0, Y_HARD[1], _ROWS + 1)
    hit = np.zeros((_ROWS, _BINS), dtype=bool)
    for row in range(_ROWS):
        for y in np.linspace(y_edges[row], y_edges[row + 1], 3):
            sqrt_red = np.full(len(cos_t), np.sqrt(_S_NOMINAL * (1 - y)))
            pair = two_body(sqrt_red, 0.0, 0.0, cos_t, phi)
            for sign in (1.0, -1.0):  # the ISR photon along e- (+z) or e+ (-z)
                beta = np.zeros((len(cos_t), 1, 3))
                beta[..., 2] = sign * y / (2 - y)  # the pair's frame moves at -beta
                cms = boost(pair, beta)
                ecl = in_ecl(polar_angle(cms_to_lab(cms, beams)))
                seen, lost = ecl & (cms[..., 0] >= E_LOST_MIN), ~ecl
                one = (seen[:, 0] & lost[:, 1]) | (seen[:, 1] & lost[:, 0])
                hit[row] |= one.reshape(_BINS, _PHI).any(axis=1)
    cells = np.stack([dilate(r, _DILATE) for r in hit])
    cells |= np.roll(cells, 1, axis=0) | np.roll(cells, -1, axis=0)  # neighbouring rows
    total = cells.sum(axis=1, keepdims=True)
    return np.asarray(np.where(total > 0, cells / np.where(total > 0, total, 1), 0.0))


@functools.cache
def _boosted_tables() -> tuple[NDArray[np.bool_], FloatArray]:
    """Whether each row of :func:`boosted_bands` has bands, and the rows' CDFs laid end to
    end (row r spans r..r+1): computed once, not per event (gathering whole rows per event
    was a quarter of the gamma gamma generation time)."""
    table = boosted_bands()
    return table.sum(axis=1) > 0, np.cumsum(table, axis=1) + np.arange(_ROWS)[:, None]


def _row(s_red: FloatArray) -> NDArray[np.int64]:
    """The row of y = 1 - s'/s_nominal, -1 beyond the table."""
    y = 1 - s_red / _S_NOMINAL
    row = np.floor(np.clip(y, 0, None) / Y_HARD[1] * _ROWS).astype(np.int64)
    return np.where(row < _ROWS, row, -1)


def boosted_cos(
    s_red: FloatArray, rng: np.random.Generator
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """cos(theta) of the pair per event, drawn over its row's bands, and whether the row has
    bands (where not, the value is 0 and the caller draws otherwise)."""
    has_bands, cdf = _boosted_tables()
    row = _row(s_red)
    usable = (row >= 0) & has_bands[np.clip(row, 0, None)]
    r = np.where(usable, row, 0)
    u = rng.uniform(size=len(s_red))
    flat = np.searchsorted(cdf.ravel(), r + u * (1 - 1e-12), side="right")
    chosen = np.clip(flat - r * _BINS, 0, _BINS - 1)
    width = 2.0 / _BINS
    cos_t = -1 + width * (chosen + rng.uniform(size=len(s_red)))
    return np.where(usable, cos_t, 0.0), np.asarray(usable)


def boosted_density(s_red: FloatArray, cos_t: FloatArray) -> FloatArray:
    """The density of :func:`boosted_cos` at cos_t for each event's s' (0 off its bands)."""
    table = boosted_bands()
    row = _row(s_red)
    i = np.clip(((cos_t + 1) / 2 * _BINS).astype(np.int64), 0, _BINS - 1)
    p = table[np.clip(row, 0, None), i]
    return np.asarray(np.where(row >= 0, p / (2.0 / _BINS), 0.0))
