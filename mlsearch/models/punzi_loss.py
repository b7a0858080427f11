"""Punzi-loss fine-tuning of a parametrised network over the signal windows (Belle II,
Eur. Phys. J. C 82 (2022) 121).

After the usual cross-entropy training, the network's sigmoid output is used as a soft
selection probability, and the loss becomes the mean over mass hypotheses of
log sigma_min(m), the Punzi sensitivity (physics/0308063) of that soft selection inside the
signal window of m: signal efficiency from the signal at m, background from every background
event in that window scored at m. Minimising it trades signal efficiency against background
where the limit is set, which cross-entropy does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray

from mlsearch.errors import InputError
from mlsearch.io.feature_table import FeatureTableMeta
from mlsearch.selection.punzi import A_SIGMA, B_SIGMA, one_event_floor
from mlsearch.selection.windows import MIN_SIGNAL_EVENTS, select_window

__all__ = ["PunziTarget", "punzi_loss", "punzi_target"]


@dataclass(frozen=True)
class PunziTarget:
    """Per mass hypothesis, the training rows inside its signal window: ``signal_rows``
    (signal generated at that mass) and ``background_rows`` (any background event);
    ``events``: physics events per row at the luminosity; ``efficiency_before``: in-window
    signal events / (sigma_ref x L) at each mass; ``background_floor`` [events]."""

    masses: tuple[float, ...]
    signal_rows: tuple[NDArray[np.int64], ...]
    background_rows: tuple[NDArray[np.int64], ...]
    events: NDArray[np.float64]
    efficiency_before: tuple[float, ...]
    luminosity_fb: float
    background_floor: float


def punzi_target(
    table: pd.DataFrame, meta: FeatureTableMeta, luminosity_fb: float, window_sigma: float
) -> PunziTarget:
    """The target for training on ``table`` (the rows given to fit, in that order)."""
    rule = meta.search_rule
    label = table["label"].to_numpy()
    hyp = table["mass_hypothesis"].to_numpy()
    events = table["weight"].to_numpy(dtype=np.float64) * luminosity_fb
    masses, sig_rows, bkg_rows, effs = [], [], [], []
    by_mass = {v.mass: v for v in meta.samples.values() if v.is_signal}
    for m in meta.mass_grid:
        sig_idx = np.flatnonzero((label == 1) & (hyp == m))
        if len(sig_idx) < MIN_SIGNAL_EVENTS:
            continue
        b_idx = np.flatnonzero(label == 0)
        # the fold holds a fraction of the generated signal: normalise by the rows it has
        share = len(sig_idx) / max(by_mass[float(m)].n_selected, 1)
        sel = select_window(
            table.iloc[sig_idx], table.iloc[b_idx], rule, m, window_sigma, luminosity_fb,
            by_mass[float(m)].cross_section_fb, share,
        )  # fmt: skip
        masses.append(float(m))
        sig_rows.append(sig_idx[sel.signal_in])
        bkg_rows.append(b_idx[sel.background_in])
        effs.append(sel.efficiency)
    floor = one_event_floor(events[label == 0], meta.background_copies)
    return PunziTarget(
        tuple(masses), tuple(sig_rows), tuple(bkg_rows), events, tuple(effs), luminosity_fb, floor
    )


def soft_punzi(efficiency: torch.Tensor, background: torch.Tensor, lumi: float) -> torch.Tensor:
    """sigma_min [fb] of physics/0308063 with a differentiable efficiency and background."""
    a, b = A_SIGMA, B_SIGMA
    root_b = torch.sqrt(background)
    numerator = (
        a**2 / 8
        + 9 * b**2 / 13
        + a * root_b
        + b / 2 * torch.sqrt(b**2 + 4 * a * root_b + 4 * background)
    )
    return numerator / (efficiency.clamp_min(1e-12) * lumi)


def punzi_loss(net: torch.nn.Module, x: torch.Tensor, target: PunziTarget) -> torch.Tensor:
    """Mean over the target's masses of log sigma_min (soft selection = sigmoid(net(x)));
    background rows are scored at each mass hypothesis (their mass column replaced)."""
    w = torch.as_tensor(target.events, dtype=torch.float32)
    terms = []
    for k, m in enumerate(target.masses):
        s_rows = torch.as_tensor(target.signal_rows[k])
        b_rows = torch.as_tensor(target.background_rows[k])
        if not len(s_rows):
            continue
        ws = w[s_rows]
        eff = target.efficiency_before[k] * (torch.sigmoid(net(x[s_rows])).squeeze(-1) * ws).sum()
        eff = eff / ws.sum()
        xb = x[b_rows].clone()
        xb[:, -1] = m
        bkg = (torch.sigmoid(net(xb)).squeeze(-1) * w[b_rows]).sum() + target.background_floor
        terms.append(torch.log(soft_punzi(eff, bkg, target.luminosity_fb)))
    if not terms:
        raise InputError("the Punzi loss has no mass with signal in the training set")
    return torch.stack(terms).mean()
