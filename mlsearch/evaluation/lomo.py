"""Leave-one-mass-out: does the parametrised classifier work at a mass it never saw?

The parametrised model is trained without the signal of one grid mass (and without the
background rows assigned to that hypothesis, which would otherwise teach it that everything
at that mass is background); a dedicated classifier is trained only at that mass (its signal,
and the background at that hypothesis). Both are trained on the events outside fold 0 and
compared on fold 0 at that mass by the Punzi sensitivity inside the signal window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlsearch.errors import InputError
from mlsearch.io.feature_table import FeatureTableMeta
from mlsearch.models import make_model
from mlsearch.models.weights import training_weights
from mlsearch.selection.punzi import best_punzi_cut, one_event_floor
from mlsearch.selection.windows import select_window

__all__ = ["LeaveOneOut", "leave_one_mass_out"]


@dataclass(frozen=True)
class LeaveOneOut:
    """Punzi sensitivities [fb] at ``mass`` on fold 0: the model trained without the mass
    (interpolating) and the dedicated model trained only at it; gap = interpolated /
    dedicated - 1 (positive: the interpolation is worse)."""

    mass: float
    interpolated_fb: float
    dedicated_fb: float

    @property
    def gap(self) -> float:
        return self.interpolated_fb / self.dedicated_fb - 1.0


def _punzi_on_fold0(
    model: Any,
    table: pd.DataFrame,
    meta: FeatureTableMeta,
    mass: float,
    luminosity_fb: float,
    window_sigma: float,
) -> float:
    features, rule = meta.features, meta.search_rule
    test = table[table["fold"] == 0]
    sig = test[(test["label"] == 1) & (test["mass_hypothesis"] == mass)]
    bkg = test[test["label"] == 0]
    found = meta.signal_sample(mass)
    if found is None:
        raise InputError(f"leave-one-mass-out: no signal sample at {mass:g} GeV in the table")
    sample = found[1]
    share = len(sig) / max(sample.n_selected, 1)  # fold 0's part of the selected signal
    sel = select_window(
        sig, bkg, rule, mass, window_sigma, luminosity_fb, sample.cross_section_fb, share
    )
    sig, bkg = sig[sel.signal_in], bkg[sel.background_in]
    s_score = model.score(sig[features].to_numpy(), np.full(len(sig), mass))
    b_score = model.score(bkg[features].to_numpy(), np.full(len(bkg), mass))
    s_events, eff = sel.signal_events, sel.efficiency
    b_all = table.loc[table["label"] == 0, "weight"].to_numpy() * luminosity_fb
    floor = one_event_floor(b_all, meta.background_copies)
    sigma, *_ = best_punzi_cut(
        s_score.astype(np.float64),
        s_events,
        b_score.astype(np.float64),
        bkg["weight"].to_numpy() * luminosity_fb,
        float(eff),
        luminosity_fb,
        floor,
    )
    return sigma


def leave_one_mass_out(
    table: pd.DataFrame,
    meta: FeatureTableMeta,
    kind: str,
    params: Any,
    mass: float,
    seed: int,
    luminosity_fb: float,
    window_sigma: float,
) -> LeaveOneOut:
    """Train both classifiers (``kind`` with ``params``) and compare them at ``mass``."""
    features = meta.features
    train = table[table["fold"] != 0]
    hyp = train["mass_hypothesis"].to_numpy()
    without = train[hyp != mass]
    only = train[hyp == mass]
    scores = []
    for subset in (without, only):
        model = make_model(kind, params, seed)
        model.fit(
            subset[features].to_numpy(),
            subset["mass_hypothesis"].to_numpy(),
            subset["label"].to_numpy(),
            training_weights(subset),
        )
        scores.append(_punzi_on_fold0(model, table, meta, mass, luminosity_fb, window_sigma))
    return LeaveOneOut(mass, scores[0], scores[1])
