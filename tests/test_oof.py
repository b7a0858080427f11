"""Out-of-fold background scores by mass: which rows are scored, and the storage round trip."""

import numpy as np
import pandas as pd

from mlsearch.pipeline.oof import BackgroundScores, scoring_rows


def _table(masses: list[float], rng: np.random.Generator) -> pd.DataFrame:
    """Signal peaks at each mass^2 (sigma 0.1 GeV^2), background flat in 0-100 GeV^2."""
    sig = [
        pd.DataFrame({"recoil_mass2": rng.normal(m**2, 0.1, 200), "label": 1, "mass_hypothesis": m})
        for m in masses
    ]
    bkg = pd.DataFrame({"recoil_mass2": rng.uniform(0, 100, 20_000), "label": 0,
                        "mass_hypothesis": masses[0]})  # fmt: skip
    return pd.concat([*sig, bkg], ignore_index=True)


def test_background_is_scored_near_each_window_only():
    masses = [float(m) for m in range(1, 10)] + [9.5, 9.7, 9.9]
    table = _table(masses, np.random.default_rng(1))
    sig, bkg = table[table["label"] == 1], table[table["label"] == 0]
    rows, window = scoring_rows(
        sig.loc[sig["mass_hypothesis"] == 9.5, "recoil_mass2"].to_numpy(),
        bkg["recoil_mass2"].to_numpy(),
        2.0,
    )
    assert window is not None
    width = window.high - window.low
    assert abs(width - 0.4) < 0.05  # +-2 sigma of 0.1 GeV^2
    m2 = bkg["recoil_mass2"].to_numpy()
    # the window and one width each side: 3 widths of the 100 GeV^2 background
    assert rows.sum() == ((m2 >= window.low - width) & (m2 <= window.high + width)).sum()
    assert 0.008 < rows.mean() < 0.018
    none, window = scoring_rows(sig["recoil_mass2"].to_numpy()[:5], m2, 2.0)  # 5 events
    assert window is None and not none.any() and len(none) == len(m2)


def test_background_scores_round_trip_with_nan_where_not_scored(tmp_path):
    scores = BackgroundScores.of(
        {
            1.0: (np.array([0, 3]), np.array([0.25, 0.5], np.float32)),
            2.0: (np.array([1]), np.array([0.75], np.float32)),
        }
    )
    scores.write(tmp_path / "oof.parquet")
    back = BackgroundScores.read(tmp_path / "oof.parquet")
    np.testing.assert_array_equal(back.at(1.0, 4), [0.25, np.nan, np.nan, 0.5])
    np.testing.assert_array_equal(back.at(2.0, 4), [np.nan, 0.75, np.nan, np.nan])
    assert np.isnan(back.at(3.0, 2)).all()
