"""SuperKEKB beams: per-event beam energies and the CM <-> lab transformation.

Generators build events in the centre-of-mass frame with the e- beam along +z, then call
:func:`cms_to_lab`, which rotates +z onto the e- direction seen in the CM frame and applies the
tilted boost (crossing angle: the boost has px > 0, it is not along z); :func:`lab_to_cms`
undoes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mlsearch.physics import constants as c
from mlsearch.physics.kinematics import (
    beam_four_momenta,
    boost,
    invariant_mass2,
    rotate_to_z,
    rotate_z_to,
)

__all__ = ["Beams", "cms_to_lab", "lab_to_cms", "sample_beams"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Beams:
    """Per-event lab four-momenta of the beams, shape (n, 4) each [GeV]."""

    electron: FloatArray
    positron: FloatArray

    @property
    def sqrt_s(self) -> FloatArray:
        """Per-event centre-of-mass energy [GeV]."""
        return np.sqrt(invariant_mass2(self.electron + self.positron))


def sample_beams(n: int, rng: np.random.Generator, energy_spread: bool = True) -> Beams:
    """Draw n beam configurations with Gaussian energy spread (HER 5.13 MeV, LER 2.375 MeV)."""
    e_her = np.full(n, c.E_HER)
    e_ler = np.full(n, c.E_LER)
    if energy_spread:
        e_her = e_her + rng.normal(0.0, c.SIGMA_E_HER, n)
        e_ler = e_ler + rng.normal(0.0, c.SIGMA_E_LER, n)
    electron, positron = beam_four_momenta(e_her, e_ler)
    return Beams(electron, positron)


def cms_to_lab(p_cms: FloatArray, beams: Beams) -> FloatArray:
    """Transform four-vectors (n, k, 4) from the generator CM frame (e- along +z) to the lab."""
    total = beams.electron + beams.positron
    beta = total[:, 1:] / total[:, :1]
    e_dir_cms = boost(beams.electron, beta)[:, 1:]
    rotated = rotate_z_to(p_cms, e_dir_cms[:, None, :])
    return boost(rotated, -beta[:, None, :])


def lab_to_cms(p_lab: FloatArray, beams: Beams) -> FloatArray:
    """The inverse of :func:`cms_to_lab`: four-vectors (n, k, 4) from the lab to the
    generator CM frame (e- beam along +z)."""
    total = beams.electron + beams.positron
    beta = total[:, 1:] / total[:, :1]
    e_dir_cms = boost(beams.electron, beta)[:, 1:]
    return rotate_to_z(boost(p_lab, beta[:, None, :]), e_dir_cms[:, None, :])
