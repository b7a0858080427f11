"""Unweighted events from a weighted trial generator, chunk by chunk (seeds per chunk)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mlsearch.errors import ConfigError
from mlsearch.physics.beams import Beams, cms_to_lab, sample_beams
from mlsearch.physics.constants import GEV2_TO_FB
from mlsearch.physics.seeds import chunk_rng

__all__ = ["Unweighted", "unweighted_events"]

FloatArray = NDArray[np.float64]
#: (beams, rng) -> CM four-momenta (n, k, 4) and weights [GeV^-2] whose mean is sigma
Trial = Callable[[Beams, np.random.Generator], tuple[FloatArray, FloatArray]]


@dataclass(frozen=True)
class Unweighted:
    """Accepted lab-frame events and the cross section [fb] of the trials."""

    p4: FloatArray
    cross_section_fb: float
    cross_section_err_fb: float
    efficiency: float


def unweighted_events(
    process: str,
    n_events: int,
    seed: int,
    trial: Trial,
    chunk: int = 40_000,
    energy_spread: bool = True,
) -> Unweighted:
    """Run ``trial`` on chunks of beams until n_events are accepted by hit-or-miss.

    The first (pilot) chunk sets the envelope 1.1 max(w); the cross section is the mean trial
    weight over all chunks, so it does not depend on the envelope.
    """
    accepted: list[FloatArray] = []
    n_acc = n_trials = index = 0
    w_sum = w2_sum = w_max = 0.0
    while n_acc < n_events:
        rng = chunk_rng(seed, process, index)
        beams = sample_beams(chunk, rng, energy_spread)
        p_cms, w = trial(beams, rng)
        if index == 0:
            w_max = 1.1 * float(w.max())
            if w_max <= 0:
                raise ConfigError(f"{process}: no phase space (all trial weights are zero)")
        w_sum += float(w.sum())
        w2_sum += float((w**2).sum())
        n_trials += chunk
        keep = rng.uniform(0, w_max, chunk) < w
        accepted.append(cms_to_lab(p_cms[keep], Beams(beams.electron[keep], beams.positron[keep])))
        n_acc += int(keep.sum())
        index += 1
    mean = w_sum / n_trials
    err = math.sqrt(max(w2_sum / n_trials - mean**2, 0.0) / n_trials)
    return Unweighted(
        np.concatenate(accepted)[:n_events], mean * GEV2_TO_FB, err * GEV2_TO_FB, n_acc / n_trials
    )


@dataclass(frozen=True)
class Weighted:
    """Lab-frame events with non-zero weight, their weights [fb] and the total [fb]."""

    p4: FloatArray
    weight_fb: FloatArray
    cross_section_fb: float
    cross_section_err_fb: float
    efficiency: float


def weighted_events(
    process: str,
    n_events: int,
    seed: int,
    trial: Trial,
    chunk: int = 100_000,
    energy_spread: bool = True,
) -> Weighted:
    """Run ``trial`` on chunks until n_events have non-zero weight; trials outside the
    process's phase space (weight 0) are counted in the normalisation but not kept.

    The trials are counted up to the n_events-th kept one (the rest of the last chunk is not
    used), so an event's weight is w / n_trials and the weights sum to the cross section's
    estimate over those trials. (Rescaling the kept weights to the mean over whole chunks
    instead would spread a heavy trial of the unused tail over every kept event.)
    """
    kept_p4: list[FloatArray] = []
    kept_w: list[FloatArray] = []
    n_kept = n_trials = index = 0
    w_sum = w2_sum = 0.0
    while n_kept < n_events or index == 0:
        rng = chunk_rng(seed, process, index)
        beams = sample_beams(chunk, rng, energy_spread)
        with np.errstate(all="ignore"):  # trials outside phase space give inf/nan; w = 0
            p_cms, w = trial(beams, rng)
        w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
        keep = w > 0
        if index == 0 and not keep.any():
            raise ConfigError(f"{process}: no phase space (all trial weights are zero)")
        used = chunk
        if n_kept + int(keep.sum()) > n_events:  # the last chunk: up to the last event needed
            used = int(np.flatnonzero(keep)[n_events - n_kept - 1]) + 1
            w, keep = w[:used], keep[:used]
        w_sum += float(w.sum())
        w2_sum += float((w**2).sum())
        n_trials += used
        lab = cms_to_lab(
            p_cms[:used][keep], Beams(beams.electron[:used][keep], beams.positron[:used][keep])
        )
        kept_p4.append(lab)
        kept_w.append(w[keep])
        n_kept += int(keep.sum())
        index += 1
    mean = w_sum / n_trials
    err = math.sqrt(max(w2_sum / n_trials - mean**2, 0.0) / n_trials)
    return Weighted(
        np.concatenate(kept_p4),
        np.concatenate(kept_w) / n_trials * GEV2_TO_FB,
        mean * GEV2_TO_FB,
        err * GEV2_TO_FB,
        n_kept / n_trials,
    )
