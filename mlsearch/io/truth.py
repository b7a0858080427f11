"""The truth-event container every generator and generator-file reader returns (the truth
event schema, with the PDG codes of the dark-sector particles)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlsearch.physics.constants import GEV2_TO_FB

__all__ = ["PDG_ALP", "PDG_DARK_PHOTON", "PDG_ZPRIME", "TruthSample"]

PDG_ZPRIME = 32  # generic Z' code (PDG numbering scheme); invisible in the detector
PDG_DARK_PHOTON = 4900022  # A' (the PYTHIA hidden-valley code); invisible here
PDG_ALP = 9000005  # a (the code of the MadGraph ALP model)


@dataclass
class TruthSample:
    """Generated events with a fixed number of particle slots per event.

    ``pdg`` (n, k) and ``p4`` (n, k, 4) lab four-momenta [GeV]; slots with E <= 0 are empty
    (e.g. no ISR photon). ``weight`` is the cross section carried by each event [fb], so the
    weights sum to the process cross section and a weight is events per fb^-1.
    """

    process: str
    pdg: NDArray[np.int32]
    p4: NDArray[np.float64]
    weight: NDArray[np.float64]
    cross_section_fb: float
    cross_section_err_fb: float
    metadata: dict[str, Any] = field(default_factory=dict)
    vertex: NDArray[np.float64] | None = None

    @classmethod
    def from_weights(
        cls,
        process: str,
        pdg: NDArray[np.int32],
        p4: NDArray[np.float64],
        weights: NDArray[np.float64],
        metadata: dict[str, Any],
    ) -> TruthSample:
        """A weighted sample from per-event weights [GeV^-2] whose mean is the cross
        section; the error is the standard error of that mean."""
        n = len(weights)
        return cls(
            process=process,
            pdg=pdg,
            p4=p4,
            weight=weights * GEV2_TO_FB / n,
            cross_section_fb=float(weights.mean()) * GEV2_TO_FB,
            cross_section_err_fb=float(weights.std() / math.sqrt(n)) * GEV2_TO_FB,
            metadata=metadata,
        )

    def __len__(self) -> int:
        return int(self.weight.shape[0])
