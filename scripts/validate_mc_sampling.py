"""Print the numbers of the background-MC closure tests (tests/test_mc_sampling.py) that
docs/validation.md quotes: the mu mu radiation sampling against the structure functions' own
sampling, the weighted FSR against the unweighted one, and the truth filter against the
unfiltered, simulated and selected tau tau and mu mu samples.

    ./dev python scripts/validate_mc_sampling.py
"""

from __future__ import annotations

import numpy as np

from mlsearch.config import FeaturesConfig, SimulateConfig
from mlsearch.detector import simulate_events
from mlsearch.features import get_builder
from mlsearch.generate import generate_process
from mlsearch.generate.filters import ChargedFilter
from mlsearch.generate.fsr import radiate_final_state, radiate_final_state_weighted
from mlsearch.generate.isr import IsrChannels
from mlsearch.generate.mumu import MUMU_FSR_HARD, MUMU_ISR, isr_pair_events
from mlsearch.io.events import truth_to_awkward
from mlsearch.physics.constants import GEV2_TO_FB, M_MU
from mlsearch.physics.kinematics import invariant_mass2


def radiation_sampling(n: int = 400_000) -> None:
    p0, w0 = isr_pair_events("mumu", M_MU, n, 21, False, IsrChannels(hard=0.0))
    p1, w1 = isr_pair_events("mumu", M_MU, n, 22, False, MUMU_ISR, MUMU_FSR_HARD)
    f = GEV2_TO_FB
    print(f"mu mu sigma: structure functions {w0.mean() * f:.0f} +- "
          f"{w0.std() / np.sqrt(n) * f:.0f} fb, radiation sampling {w1.mean() * f:.0f} +- "
          f"{w1.std() / np.sqrt(n) * f:.0f} fb")  # fmt: skip
    m0 = invariant_mass2(p0.sum(1) - p0[:, 0] - p0[:, 1])
    m1 = invariant_mass2(p1.sum(1) - p1[:, 0] - p1[:, 1])
    edges = np.array([0.25, 1, 2, 4, 8, 16, 25, 36, 49, 64, 80])
    h0, _ = np.histogram(m0, edges, weights=w0)
    h1, _ = np.histogram(m1, edges, weights=w1)
    v0, _ = np.histogram(m0, edges, weights=w0**2)
    v1, _ = np.histogram(m1, edges, weights=w1**2)
    print(f"M_recoil^2 spectrum: chi2 {((h1 - h0) ** 2 / (v0 + v1)).sum():.1f} for 10 bins")
    for lo, hi in ((4, 16), (16, 36), (36, 64)):
        a, b = w0[(m0 > lo) & (m0 < hi)], w1[(m1 > lo) & (m1 < hi)]
        print(f"M_recoil^2 {lo}-{hi} GeV^2: {a.sum() / n * f:.0f} +- "
              f"{np.sqrt((a**2).sum()) / n * f:.0f} fb ({len(a)} events, L_eff "
              f"{a.sum() / (a**2).sum() * n / f:.3g} fb^-1) against {b.sum() / n * f:.0f} +- "
              f"{np.sqrt((b**2).sum()) / n * f:.0f} fb ({len(b)}, "
              f"{b.sum() / (b**2).sum() * n / f:.3g})")  # fmt: skip


def weighted_fsr(n: int = 300_000) -> None:
    e = 5.29
    p = np.sqrt(e**2 - M_MU**2)
    pair = np.tile(np.array([[e, 0, 0, p], [e, 0, 0, -p]]), (n, 1, 1))
    _, plain = radiate_final_state(pair, M_MU, np.random.default_rng(1), True)
    _, hard, w = radiate_final_state_weighted(pair, M_MU, np.random.default_rng(2), True,
                                              hard=0.5)  # fmt: skip
    z0, z1 = plain[:, 0, 0] / e, hard[:, 0, 0] / e
    print(f"FSR: mean weight {w.mean():.4f} +- {w.std() / np.sqrt(n):.4f}; photons above "
          f"z = 0.2: {(z0 > 0.2).sum()} unweighted, {(z1 > 0.2).sum()} weighted; rate "
          f"{(z0 > 0.2).mean():.5f} against {(w * (z1 > 0.2)).mean():.5f}")  # fmt: skip


def charged_filter(n: int = 150_000) -> None:
    for process, options in (("tautau", {"tau_modes": {"mu": 0.6, "pi": 0.15}}), ("mumu", {})):
        sample = generate_process(process, n, 5, **options)
        keep = ChargedFilter(2, 0.5).keep(sample.pdg, sample.p4)
        reco = simulate_events(truth_to_awkward(sample), SimulateConfig(),
                               np.random.default_rng(6))  # fmt: skip
        table = get_builder("zprime_invisible").build(reco, FeaturesConfig())
        event, w = table["event"].to_numpy(), table["weight"].to_numpy()
        print(f"{process}: the filter keeps {keep.mean():.3f} of the events "
              f"({sample.weight[keep].sum() / sample.weight.sum():.3f} of sigma); the Z' "
              f"selection keeps {len(table)} events ({w.sum():.4g} fb), of which the filter "
              f"drops {(~keep[event]).sum()}")  # fmt: skip


if __name__ == "__main__":
    radiation_sampling()
    weighted_fsr()
    charged_filter()
