"""Overtraining check: does a fold model score the events it trained on differently from
the ones it never saw?"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlsearch.scoring import event_hash

__all__ = ["train_test_ks"]

#: events per sample and set compared (chosen by a hash of the event number: reproducible)
MAX_EVENTS = 20_000


def train_test_ks(
    model: Any, table: pd.DataFrame, features: list[str], fold: np.ndarray, i: int
) -> tuple[dict[str, float], pd.DataFrame]:
    """Kolmogorov-Smirnov distance (and p-value) between the scores of the events fold ``i``'s
    model (anything with ``score(features, mass)``) trained on and those it did not see, for
    signal and background separately, at each event's own mass hypothesis (up to MAX_EVENTS
    per sample, chosen by event number, so the test does not depend on the run). Large
    distances with tiny p-values mean overtraining. Also returns the scores (fold, sample,
    set, score) for the evaluation's plots."""
    from scipy.stats import ks_2samp

    out: dict[str, float] = {"fold": float(i)}
    frames = []
    label = table["label"].to_numpy()
    for name, cls in (("signal", 1), ("background", 0)):
        scores = []
        for part, rows in (
            ("train", (fold != i) & (label == cls)),
            ("test", (fold == i) & (label == cls)),
        ):
            idx = np.flatnonzero(rows)
            if len(idx) > MAX_EVENTS:
                order = np.argsort(event_hash(table["event"].to_numpy()[idx]))
                idx = idx[order][:MAX_EVENTS]
            sub = table.iloc[idx]
            score = (
                model.score(sub[features].to_numpy(), sub["mass_hypothesis"].to_numpy())
                if len(idx)
                else np.zeros(0, dtype=np.float32)
            )
            scores.append(score)
            frames.append(pd.DataFrame({"fold": i, "sample": name, "set": part, "score": score}))
        if len(scores[0]) and len(scores[1]):
            res = ks_2samp(scores[0], scores[1])
            out[f"ks_{name}"] = float(res.statistic)
            out[f"ks_{name}_pvalue"] = float(res.pvalue)
    return out, pd.concat(frames, ignore_index=True)
