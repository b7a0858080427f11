"""Phase-space building blocks shared by the generators (CM frame, e- beam along +z).

Four-vectors are (..., 4) arrays (E, px, py, pz) [GeV].
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from mlsearch.physics.kinematics import boost, polar_angle, rotate_z_to

__all__ = [
    "cm_beams",
    "collinear_cos",
    "collinear_cos_density",
    "decay_two_body",
    "dilate",
    "lab_polar_scan",
    "peaked_density",
    "peaked_direction",
    "rambo_massless",
    "random_rotation",
    "two_body",
]

FloatArray = NDArray[np.float64]


def two_body(
    sqrt_s: FloatArray, m1: float, m2: float, cos_t: FloatArray, phi: FloatArray
) -> FloatArray:
    """(n, 2, 4) momenta of a two-body final state at rest: particle 1 (mass m1) along
    (theta, phi), particle 2 (mass m2) opposite."""
    s = sqrt_s**2
    e1 = (s + m1**2 - m2**2) / (2 * sqrt_s)
    p = np.sqrt(np.clip(e1**2 - m1**2, 0, None))
    sin_t = np.sqrt(np.clip(1 - cos_t**2, 0, None))
    direction = np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], axis=-1)
    p1 = np.concatenate([e1[:, None], p[:, None] * direction], axis=-1)
    p2 = np.concatenate([(sqrt_s - e1)[:, None], -p[:, None] * direction], axis=-1)
    return np.stack([p1, p2], axis=1)


def cm_beams(sqrt_s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The massless e- (along +z) and e+ beams (n, 4) of the CM frame [GeV]: the incoming
    momenta of the matrix elements."""
    zero = np.zeros_like(sqrt_s)
    return (
        np.stack([sqrt_s / 2, zero, zero, sqrt_s / 2], axis=-1),
        np.stack([sqrt_s / 2, zero, zero, -sqrt_s / 2], axis=-1),
    )


def collinear_cos(n: int, beta: float, rng: np.random.Generator, c_max: float = 1.0) -> FloatArray:
    """cos(theta) in [-c_max, c_max] with density proportional to 1/(1 - beta^2 cos^2), the
    collinear peaks of t- and u-channel exchange; exact inverse transform."""
    a = np.arctanh(beta * c_max)
    return np.asarray(np.tanh(rng.uniform(-a, a, n)) / beta)


def collinear_cos_density(cos_t: FloatArray, beta: float, c_max: float = 1.0) -> FloatArray:
    """The normalised density of :func:`collinear_cos` at cos_t."""
    norm = 2 * np.arctanh(beta * c_max) / beta
    return np.asarray(1 / ((1 - beta**2 * cos_t**2) * norm))


def random_rotation(p: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Apply a uniformly distributed (Haar) random rotation per event to p (n, k, 4)."""
    n: int = p.shape[0]
    psi = rng.uniform(0, 2 * np.pi, (n, 1))
    x = np.cos(psi) * p[..., 1] - np.sin(psi) * p[..., 2]
    y = np.sin(psi) * p[..., 1] + np.cos(psi) * p[..., 2]
    p = np.stack([p[..., 0], x, y, p[..., 3]], axis=-1)
    cos_t = rng.uniform(-1, 1, n)
    phi = rng.uniform(0, 2 * np.pi, n)
    sin_t = np.sqrt(1 - cos_t**2)
    direction = np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], axis=-1)
    return rotate_z_to(p, direction[:, None, :])


def decay_two_body(
    parent: FloatArray, m1: float, m2: float, rng: np.random.Generator
) -> FloatArray:
    """Isotropic two-body decays of parents (n, 4): daughters (n, 2, 4) in the same frame."""
    n: int = parent.shape[0]
    mass = np.sqrt(np.clip(parent[:, 0] ** 2 - (parent[:, 1:] ** 2).sum(axis=1), 0, None))
    rest = two_body(mass, m1, m2, rng.uniform(-1, 1, n), rng.uniform(0, 2 * np.pi, n))
    beta = parent[:, 1:] / parent[:, :1]
    return boost(rest, -beta[:, None, :])


def rambo_massless(sqrt_s: FloatArray, k: int, rng: np.random.Generator) -> FloatArray:
    """k massless momenta (n, k, 4) distributed uniformly in phase space at rest
    (R. Kleiss, W. J. Stirling, S. D. Ellis, Comput. Phys. Commun. 40 (1986) 359); the
    phase-space volume is (2 pi)^(4-3k) (pi/2)^(k-1) s^(k-2) / ((k-1)! (k-2)!)."""
    n: int = sqrt_s.shape[0]
    c = rng.uniform(-1, 1, (n, k))
    phi = rng.uniform(0, 2 * np.pi, (n, k))
    q0 = -np.log(rng.uniform(size=(n, k)) * rng.uniform(size=(n, k)))
    sin_t = np.sqrt(1 - c**2)
    q = np.stack([q0, q0 * sin_t * np.cos(phi), q0 * sin_t * np.sin(phi), q0 * c], axis=-1)
    total = q.sum(axis=1)
    m = np.sqrt(total[:, 0] ** 2 - (total[:, 1:] ** 2).sum(axis=1))
    b = -total[:, 1:] / m[:, None]
    x = sqrt_s / m
    gamma = total[:, 0] / m
    a = 1 / (1 + gamma)
    bq = (b[:, None, :] * q[..., 1:]).sum(axis=-1)
    e = x[:, None] * (gamma[:, None] * q[..., 0] + bq)
    shift = q[..., :1] + a[:, None, None] * bq[..., None]
    p = x[:, None, None] * (q[..., 1:] + b[:, None, :] * shift)
    return np.concatenate([e[..., None], p], axis=-1)


def lab_polar_scan(bins: int, n_phi: int) -> tuple[FloatArray, FloatArray]:
    """Edges of ``bins`` equal cos(theta*) bins over [-1, 1] (generator CM) and the lab polar
    angles [rad], shape (bins, n_phi, 2), of a back-to-back massless pair with particle 1 at
    each bin centre and ``n_phi`` azimuths, boosted with the nominal beams (no energy spread):
    the map the generators' topology bands are read from."""
    from mlsearch.physics.beams import cms_to_lab, sample_beams

    edges = np.linspace(-1.0, 1.0, bins + 1)
    cos_t = np.repeat(0.5 * (edges[1:] + edges[:-1]), n_phi)
    phi = np.tile(np.linspace(0, 2 * np.pi, n_phi, endpoint=False), bins)
    beams = sample_beams(len(cos_t), np.random.default_rng(0), energy_spread=False)
    lab = cms_to_lab(two_body(beams.sqrt_s, 0.0, 0.0, cos_t, phi), beams)
    theta = polar_angle(lab)
    return edges, np.asarray(theta.reshape(bins, n_phi, 2))


def dilate(mask: NDArray[np.bool_], width: int) -> NDArray[np.bool_]:
    """``mask`` with ``width`` more True entries on each side of every True run."""
    return np.asarray(np.convolve(mask.astype(float), np.ones(2 * width + 1), mode="same") > 0)


def peaked_direction(axis: FloatArray, rng: np.random.Generator, delta: float) -> FloatArray:
    """Unit vectors with cos(angle to ``axis``) ~ 1/(1 + delta - c); their density:
    :func:`peaked_density`."""
    n: int = axis.shape[0]
    log_r = math.log((2 + delta) / delta)
    c = 1 + delta - (2 + delta) * np.exp(-rng.uniform(size=n) * log_r)
    phi = rng.uniform(0, 2 * np.pi, n)
    sin_c = np.sqrt(np.clip(1 - c**2, 0, None))
    local = np.stack([np.ones(n), sin_c * np.cos(phi), sin_c * np.sin(phi), c], axis=-1)
    return np.asarray(rotate_z_to(local[:, None], axis[:, None])[:, 0, 1:])


def peaked_density(cos_t: FloatArray, delta: float) -> FloatArray:
    """The density of :func:`peaked_direction` per steradian at cos(angle to its axis)."""
    return np.asarray(1 / ((1 + delta - cos_t) * math.log((2 + delta) / delta) * 2 * np.pi))
