"""What limits mu mu's MC in the Z' search's 0.5 GeV window (M_recoil^2 -0.25..0.82 GeV^2):
the window's sum of w^2 by the kind of the event's hardest photon (truth), and the effective
MC luminosity the escape channel would give at other shares, by reweighting one sample (each
event's channels' density and escape density are recorded as the generator draws it).

    ./dev python scripts/mumu_lowest_window.py [n_events]
"""

from __future__ import annotations

import inspect
import sys

import numpy as np

import mlsearch.generate.isr_escape as isr_escape
import mlsearch.generate.mumu as mumu
from mlsearch.config import FeaturesConfig, SimulateConfig
from mlsearch.detector import simulate_events
from mlsearch.features import get_builder
from mlsearch.generate.filters import ChargedFilter
from mlsearch.io.events import truth_to_awkward
from mlsearch.physics.acceptance import ECL_THETA_DEG

#: (mass [GeV], M_recoil^2 window [GeV^2]) of the default grid's lowest three masses
WINDOWS = ((0.5, -0.247, 0.8205), (1.129, 0.6605, 1.9822), (1.569, 1.82, 3.24))
SHARE = 0.15


def _recording_aim() -> list[tuple[np.ndarray, np.ndarray]]:
    """Swap mu mu's aim_escape for a copy that records, per event, the channels' density
    and the escape terms, each over the target D(y1) D(y2)."""
    record: list[tuple[np.ndarray, np.ndarray]] = []
    source = inspect.getsource(isr_escape.aim_escape).replace(
        "    density = (1 - share) * drawn + share / 2 * aimed_terms\n",
        "    density = (1 - share) * drawn + share / 2 * aimed_terms\n"
        "    RECORD.append((drawn / target, aimed_terms / 2 / target))\n",
    )
    namespace = {**vars(isr_escape), "RECORD": record}
    exec(source, namespace)  # our own function with one line added
    mumu.aim_escape = namespace["aim_escape"]
    return record


def main(n: int = 4_000_000) -> None:
    record = _recording_aim()
    sample = mumu.generate_mumu(n, 5, True, SHARE)
    drawn = np.concatenate([r[0] for r in record])
    aimed = np.concatenate([r[1] for r in record])
    keep = ChargedFilter(2, 0.5, 0.15, 0.4).keep(sample.pdg, sample.p4)
    reco = simulate_events(truth_to_awkward(sample)[keep], SimulateConfig(),
                           np.random.default_rng(3))  # fmt: skip
    table = get_builder("zprime_invisible").build(reco, FeaturesConfig())
    event, w = table["event"].to_numpy(), table["weight"].to_numpy()
    m2 = table["recoil_mass2"].to_numpy()
    photons = sample.p4[event, 2:]  # ISR e-, ISR e+, FSR mu-, FSR mu+ (lab)
    energy = photons[..., 0]
    pt = np.hypot(photons[..., 1], photons[..., 2])
    theta = np.degrees(np.arccos(np.clip(photons[..., 3] / np.maximum(energy, 1e-12), -1, 1)))
    in_ecl = np.zeros(theta.shape, dtype=bool)
    for low, high in ECL_THETA_DEG:
        in_ecl |= (theta > low) & (theta < high)
    lead = pt.argmax(axis=1)
    rows = np.arange(len(event))
    isr, inside, lead_pt = lead < 2, in_ecl[rows, lead], pt[rows, lead]
    kinds = {
        "ISR past the ECL, pT >= 0.25 GeV": isr & ~inside & (lead_pt >= 0.25),
        "ISR past the ECL, pT < 0.25 GeV": isr & ~inside & (lead_pt < 0.25),
        "ISR in the ECL (below the veto)": isr & inside,
        "FSR past the ECL": ~isr & ~inside,
        "FSR in the ECL (below the veto)": ~isr & inside,
    }
    d_a = (1 - SHARE) * drawn[event] + SHARE * aimed[event]
    for mass, low, high in WINDOWS:
        c = (m2 > low) & (m2 < high)
        wc = w[c]
        n_eff = wc.sum() ** 2 / (wc**2).sum()
        print(f"{mass} GeV window: {c.sum()} events of {n}, N_eff/N {n_eff / c.sum():.2f}, "
              f"sigma {wc.sum():.4g} fb")  # fmt: skip
        for name, kind in kinds.items():
            print(f"  hardest photon {name}: {kind[c].mean():.3f} of the events, "
                  f"{(w[c & kind] ** 2).sum() / (wc**2).sum():.3f} of sum w^2")  # fmt: skip
        cells = []
        for share in (0.0, 0.15, 0.25, 0.35, 0.5):
            ws = wc * d_a[c] / ((1 - share) * drawn[event][c] + share * aimed[event][c])
            cells.append(f"{share}: {ws.sum() / (ws**2).sum() / (n / 1e6):.3g}")
        print("  L_eff per 10^6 generated [fb^-1] at escape_share " + ", ".join(cells))


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
