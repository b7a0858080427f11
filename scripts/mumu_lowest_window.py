"""What fills mu mu's MC in the Z' search's lowest windows (0.5 GeV: M_recoil^2 -0.25..0.82
GeV^2; 1.1 and 1.6 GeV): for each escape share, a sample generated, filtered, simulated and
selected as the default config does, its effective MC luminosity per 10^6 generated events
in each window, and, at the config's share, the window's sum of w^2 by the kind of the
event's hardest photon (truth).

    ./dev python scripts/mumu_lowest_window.py [n_events] [share ...]
"""

from __future__ import annotations

import sys

import numpy as np

import mlsearch.generate.mumu as mumu
from mlsearch.config import FeaturesConfig, SimulateConfig
from mlsearch.detector import simulate_events
from mlsearch.features import get_builder
from mlsearch.generate.filters import ChargedFilter
from mlsearch.io.events import truth_to_awkward
from mlsearch.physics.acceptance import ECL_THETA_DEG

#: (mass [GeV], M_recoil^2 window [GeV^2]) of the default grid's lowest three masses
WINDOWS = ((0.5, -0.247, 0.8205), (1.129, 0.6605, 1.9822), (1.569, 1.82, 3.24))
#: the default config's escape share (configs/zprime_invisible.yaml)
CONFIG_SHARE = 0.45


def _kinds(p4: np.ndarray) -> dict[str, np.ndarray]:
    """The kind of each event's hardest photon by pT (lab): ISR or FSR, in the ECL or not."""
    photons = p4[:, 2:]  # ISR e-, ISR e+, FSR mu-, FSR mu+ (lab)
    energy = photons[..., 0]
    pt = np.hypot(photons[..., 1], photons[..., 2])
    theta = np.degrees(np.arccos(np.clip(photons[..., 3] / np.maximum(energy, 1e-12), -1, 1)))
    in_ecl = np.zeros(theta.shape, dtype=bool)
    for low, high in ECL_THETA_DEG:
        in_ecl |= (theta > low) & (theta < high)
    lead = pt.argmax(axis=1)
    rows = np.arange(len(p4))
    isr, inside, lead_pt = lead < 2, in_ecl[rows, lead], pt[rows, lead]
    return {
        "ISR past the ECL, pT >= 0.25 GeV": isr & ~inside & (lead_pt >= 0.25),
        "ISR past the ECL, pT < 0.25 GeV": isr & ~inside & (lead_pt < 0.25),
        "ISR in the ECL (below the veto)": isr & inside,
        "FSR past the ECL": ~isr & ~inside,
        "FSR in the ECL (below the veto)": ~isr & inside,
    }


def main(n: int = 4_000_000, *shares: float) -> None:
    for share in shares or (0.15, 0.3, CONFIG_SHARE, 0.6):
        sample = mumu.generate_mumu(n, 5, True, share)
        keep = ChargedFilter(2, 0.5, 0.15, 0.4).keep(sample.pdg, sample.p4)
        reco = simulate_events(truth_to_awkward(sample)[keep], SimulateConfig(),
                               np.random.default_rng(3))  # fmt: skip
        table = get_builder("zprime_invisible").build(reco, FeaturesConfig())
        event, w = table["event"].to_numpy(), table["weight"].to_numpy()
        m2 = table["recoil_mass2"].to_numpy()
        cells = []
        for mass, low, high in WINDOWS:
            wc = w[(m2 > low) & (m2 < high)]
            cells.append(f"{mass} GeV {wc.sum() / (wc**2).sum() / (n / 1e6):.3g}")
        print(f"escape_share {share}: {keep.mean():.3f} of the events simulated; L_eff per "
              f"10^6 generated [fb^-1]: " + ", ".join(cells))  # fmt: skip
        if share != CONFIG_SHARE:
            continue
        kinds = _kinds(sample.p4[event])
        mass, low, high = WINDOWS[0]
        c = (m2 > low) & (m2 < high)
        wc = w[c]
        n_eff = wc.sum() ** 2 / (wc**2).sum()
        print(f"  {mass} GeV window: {c.sum()} events of {n}, N_eff/N {n_eff / c.sum():.2f}, "
              f"sigma {wc.sum():.4g} fb")  # fmt: skip
        for name, kind in kinds.items():
            print(f"  hardest photon {name}: {kind[c].mean():.3f} of the events, "
                  f"{(w[c & kind] ** 2).sum() / (wc**2).sum():.3f} of sum w^2")  # fmt: skip


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]), *(float(a) for a in sys.argv[2:]))
