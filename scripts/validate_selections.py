"""Regenerate the selection-efficiency section of docs/validation.md.

    ./dev python scripts/validate_selections.py [--events 20000]

For each search and two masses: the reconstructed selection efficiency of the feature builder
(fast simulation with beam background, trigger, PID, the builder's cuts) against an
independent truth-level acceptance computed here from the generator four-vectors alone (no
detector code): the same polar-angle and energy cuts on the true particles. Their ratio is
what the detector adds (trigger, identification, resolution, beam background) and is
compared with the efficiencies the simulation is configured with (docs/simulation.md, "Sources").
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlsearch.config import FeaturesConfig, SimulateConfig  # noqa: E402
from mlsearch.detector import simulate_events  # noqa: E402
from mlsearch.features import get_builder  # noqa: E402
from mlsearch.generate import generate_process  # noqa: E402
from mlsearch.io.events import truth_to_awkward  # noqa: E402
from mlsearch.physics.kinematics import beam_four_momenta, boost, cms_boost_vector  # noqa: E402

DOC = ROOT / "docs" / "validation.md"
BEGIN = "<!-- BEGIN selections: written by scripts/validate_selections.py -->"
END = "<!-- END selections -->"
EM, EP = beam_four_momenta()
BETA = cms_boost_vector(EM + EP)


def _theta_deg(p4: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(np.hypot(p4[..., 1], p4[..., 2]), p4[..., 3]))


def _particles(sample, pdgs: tuple[int, ...], k: int) -> np.ndarray:
    """(n_events, k, 4) lab four-vectors of the k particles with |pdg| in pdgs per event
    (generated events have a fixed final state)."""
    sel = np.isin(np.abs(sample.pdg), pdgs)
    return sample.p4[sel].reshape(-1, k, 4)


def _lepton_pair(sample, pdgs: tuple[int, ...]) -> np.ndarray:
    """Both leptons in the CDC (17-150 deg), pT > 0.3 GeV and > 90 deg apart in phi (the
    two-track trigger), momentum above the ID turn-on (0.6 GeV for muons, 0.2 for e)."""
    lep = _particles(sample, pdgs, 2)
    theta = _theta_deg(lep)
    pt = np.hypot(lep[..., 1], lep[..., 2])
    p = np.linalg.norm(lep[..., 1:], axis=-1)
    phi = np.arctan2(lep[..., 2], lep[..., 1])
    dphi = np.abs(np.mod(phi[:, 0] - phi[:, 1] + np.pi, 2 * np.pi) - np.pi)
    p_min = np.where(
        np.abs(sample.pdg[np.isin(np.abs(sample.pdg), pdgs)]).reshape(-1, 2) == 13, 0.6, 0.2
    )
    ok = (theta > 17) & (theta < 150) & (pt > 0.3) & (p > p_min)
    return ok.all(axis=1) & (dphi > np.pi / 2)


def _expected_id(sample, pdgs: tuple[int, ...]) -> float:
    """Mean over the accepted events of track efficiency x the configured lepton-ID
    efficiency of each lepton at its true momentum and angle (mlsearch/detector/pid.py)."""
    from mlsearch.detector.pid import electron_efficiency, muon_efficiency

    cfg = SimulateConfig()
    lep = _particles(sample, pdgs, 2)
    ids = np.abs(sample.pdg[np.isin(np.abs(sample.pdg), pdgs)]).reshape(-1, 2)
    p = np.linalg.norm(lep[..., 1:], axis=-1)
    theta = np.radians(_theta_deg(lep))
    eff = np.where(
        ids == 13,
        muon_efficiency(p, cfg.muon_id_efficiency, theta),
        electron_efficiency(p, theta, cfg.electron_id_efficiency),
    )
    ok = _lepton_pair(sample, pdgs)
    return float((eff.prod(axis=1) * cfg.track_efficiency**2)[ok].mean())


def _in_ecl(theta: np.ndarray) -> np.ndarray:
    gaps = ((theta > 31.4) & (theta < 32.2)) | ((theta > 128.7) & (theta < 130.7))
    return (theta > 12.4) & (theta < 155.1) & ~gaps


def _three_photons(sample) -> np.ndarray:
    g = _particles(sample, (22,), 3)
    return (_in_ecl(_theta_deg(g)) & (g[..., 0] > 0.25)).all(axis=1)


def _one_photon(sample) -> np.ndarray:
    g = _particles(sample, (22,), 1)[:, 0]
    theta = _theta_deg(g)
    e_star = boost(g, BETA)[:, 0]
    return (theta > 22) & (theta < 139) & (e_star > 0.5)  # trg_sp1 coverage (E* > 2 GeV)


CASES = (
    ("zprime_invisible", "zprime", 0.01, lambda s: _lepton_pair(s, (13,)), (13,)),
    ("lfv_zprime", "lfv_zprime", 0.01, lambda s: _lepton_pair(s, (11, 13)), (11, 13)),
    ("alp", "alp", 1e-3, _three_photons, None),
    ("dark_photon", "dark_photon", 1e-3, _one_photon, None),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args()
    rows = [
        "| search | mass | truth-level acceptance | reconstructed selection | ratio | expected "
        "ratio |",
        "|---|---|---|---|---|---|",
    ]
    for search, process, coupling, acceptance, leptons in CASES:
        builder = get_builder(search)
        for mass in (2.0, 6.0):
            sample = generate_process(process, args.events, 11, mass=mass, coupling=coupling)
            truth = float(acceptance(sample).mean())
            reco = simulate_events(
                truth_to_awkward(sample), SimulateConfig(), np.random.default_rng(12)
            )
            selected = len(builder.build(reco, FeaturesConfig())) / len(sample)
            rate = SimulateConfig().beam_background_tracks
            if leptons:  # exactly two tracks: no beam-background track at all
                value = _expected_id(sample, leptons) * np.exp(-rate)
                expect = (
                    f"{value:.2f} (track eff. x lepton ID at the true p, theta x P(no bkg track))"
                )
            else:  # no beam-background track above 0.2 GeV (pT uniform in 0.1-0.4 GeV)
                value = np.exp(-rate * 2 / 3)
                expect = f"< {value:.3f} (P(no bkg track > 0.2 GeV); times photon reconstruction)"
            rows.append(
                f"| {search} | {mass:g} GeV | {truth:.3f} | {selected:.3f} | "
                f"{selected / truth:.2f} | {expect} |"
            )
            print(rows[-1])
    text = DOC.read_text()
    block = "\n".join([BEGIN, *rows, END])
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text += (
            "\n## Selection efficiencies against truth-level acceptance\n\n"
            "`./dev python scripts/validate_selections.py` (20k signal events per point, beam "
            "background on). The truth-level acceptance is computed from the generator "
            "four-vectors alone, with the selections' geometric and energy cuts; the ratio is "
            "what the detector simulation and the builder add.\n\n" + block + "\n"
        )
    DOC.write_text(text)


if __name__ == "__main__":
    main()
