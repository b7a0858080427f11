"""Regenerate the fast-simulation section of docs/validation.md and its plots.

    ./dev python scripts/validate_detector.py [--events 20000]

Single particles shot into the detector (no beam background): shower shapes of photons,
merged pi0 photon pairs, electrons and charged pions; photon energy and angular resolution
versus energy; track momentum resolution; the recoil-mass-squared resolution of the Z' signal
versus mass; the single-photon trigger efficiency versus E*; the fraction of photons lost
versus polar angle. Each number is compared with its published value (docs/simulation.md,
"Sources").
"""

from __future__ import annotations

import argparse
import re
import sys
import warnings
from pathlib import Path

import awkward as ak
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlsearch.config import SimulateConfig  # noqa: E402
from mlsearch.detector import simulate_events  # noqa: E402
from mlsearch.detector.ecl import energy_resolution  # noqa: E402
from mlsearch.detector.tracking import pt_resolution  # noqa: E402
from mlsearch.generate import generate_process  # noqa: E402
from mlsearch.io.events import truth_to_awkward  # noqa: E402
from mlsearch.physics.kinematics import (  # noqa: E402
    beam_four_momenta,
    boost,
    cms_boost_vector,
    recoil_mass2,
)

DOC = ROOT / "docs" / "validation.md"
IMG = ROOT / "docs" / "img" / "validation"
BEGIN = "<!-- BEGIN detector: written by scripts/validate_detector.py -->"
END = "<!-- END detector -->"
EM, EP = beam_four_momenta()
BETA = cms_boost_vector(EM + EP)
NO_BKG = SimulateConfig(beam_background_rate=0.0, beam_background_tracks=0.0)


def _truth(pdg: np.ndarray, p4: np.ndarray, per_event: int = 1) -> ak.Array:
    n = len(p4) // per_event
    parts = ak.zip(
        {"pdg": pdg.astype(np.int32), "E": p4[:, 0], "px": p4[:, 1], "py": p4[:, 2], "pz": p4[:, 3]}
    )
    return ak.zip(
        {
            "event": np.arange(n),
            "weight": np.ones(n),
            "particles": ak.unflatten(parts, np.full(n, per_event)),
        },
        depth_limit=1,
    )


def _shoot(pdg: int, energy: np.ndarray, theta: np.ndarray, phi: np.ndarray, mass: float = 0.0):
    p = np.sqrt(np.clip(energy**2 - mass**2, 0, None))
    p4 = np.stack(
        [
            energy,
            p * np.sin(theta) * np.cos(phi),
            p * np.sin(theta) * np.sin(phi),
            p * np.cos(theta),
        ],
        axis=1,
    )
    return _truth(np.full(len(energy), pdg), p4)


def _rng(i: int) -> np.random.Generator:
    return np.random.default_rng(1000 + i)


def shapes(n: int, plt) -> list[str]:
    """Shower shapes for photons, merged pi0s, electrons and charged pions (barrel, 1-3 GeV)."""
    rng = _rng(0)
    theta = np.radians(rng.uniform(45, 120, n))
    phi = rng.uniform(-np.pi, np.pi, n)
    e = rng.uniform(1, 3, n)
    samples = {"photon": simulate_events(_shoot(22, e, theta, phi), NO_BKG, _rng(1)).clusters}
    # pi0 -> gamma gamma with E = 3 GeV: opening angle ~ 2 m/E ~ 5 deg: mostly one cluster
    pi0 = np.stack(
        [np.full(n, 3.0), np.zeros(n), np.zeros(n), np.full(n, np.sqrt(9 - 0.135**2))], 1
    )
    from mlsearch.generate.phase_space import decay_two_body, random_rotation

    pi0 = random_rotation(pi0[:, None], rng)[:, 0]
    gg = decay_two_body(pi0, 0.0, 0.0, rng).reshape(-1, 4)
    samples["merged pi0 (3 GeV)"] = simulate_events(
        _truth(np.full(2 * n, 22), gg, 2), NO_BKG, _rng(2)
    ).clusters
    el = simulate_events(
        _shoot(11, e, theta, phi),
        SimulateConfig(beam_background_rate=0.0, track_efficiency=0.0),
        _rng(3),
    )
    samples["electron"] = el.clusters
    pi = simulate_events(
        _shoot(211, e, theta, phi, 0.1396),
        SimulateConfig(beam_background_rate=0.0, track_efficiency=0.0),
        _rng(4),
    )
    samples["charged pion"] = pi.clusters
    variables = [
        "clusterE1E9",
        "clusterE9E21",
        "clusterSecondMoment",
        "clusterLAT",
        "clusterAbsZernikeMoment40",
        "clusterAbsZernikeMoment51",
    ]
    fig, axes = plt.subplots(2, 3, figsize=(12, 7))
    rows = []
    for ax, var in zip(axes.flat, variables, strict=True):
        for label, cl in samples.items():
            x = ak.to_numpy(ak.flatten(cl[var]))
            e_cl = ak.to_numpy(ak.flatten(cl.clusterE))
            x = x[e_cl > 0.5]
            ax.hist(x, bins=50, histtype="step", density=True, label=label)
        ax.set_xlabel(var)
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(IMG / "detector_shower_shapes.png", dpi=80)
    plt.close(fig)
    for label, cl in samples.items():
        e_cl = ak.to_numpy(ak.flatten(cl.clusterE))
        sel = e_cl > 0.5
        e1e9 = np.median(ak.to_numpy(ak.flatten(cl.clusterE1E9))[sel])
        lat = np.median(ak.to_numpy(ak.flatten(cl.clusterLAT))[sel])
        ref = (
            "hadronic: lower E1/E9, LAT above 0.5 (what separates hadrons from photons)"
            if label == "charged pion"
            else "basf2 photons: E1/E9 ~0.75-0.85, LAT ~0.2-0.3"
        )
        rows.append(
            f"| shower shape, {label} (E > 0.5 GeV clusters) | median E1/E9 {e1e9:.2f}, "
            f"LAT {lat:.2f} | {ref} |"
        )
    return rows


def resolution(n: int, plt) -> list[str]:
    rows, energies, sig_e, sig_th = [], [0.1, 0.25, 0.5, 1, 2, 4], [], []
    for i, e0 in enumerate(energies):
        rng = _rng(10 + i)
        theta = np.radians(rng.uniform(50, 110, n))
        phi = rng.uniform(-np.pi, np.pi, n)
        cl = simulate_events(_shoot(22, np.full(n, e0), theta, phi), NO_BKG, _rng(20 + i)).clusters
        lead = ak.argmax(cl.clusterE, axis=1, keepdims=True)
        first = ak.firsts(cl[lead])
        ok = ~ak.to_numpy(ak.is_none(first))
        e = ak.to_numpy(ak.fill_none(first.clusterE, 0.0))[ok]
        th = ak.to_numpy(ak.fill_none(first.clusterTheta, 0.0))[ok]
        med, hi = np.percentile(e / e0, [50, 84.13])
        sig_e.append(hi - med)  # the Gaussian core: the low side carries the leakage tail
        lo, hi = np.percentile(th - theta[ok], [15.87, 84.13])
        sig_th.append((hi - lo) / 2 * 1e3)
        rows.append(
            f"| photon energy resolution at {e0:g} GeV (barrel, upper half-width) | "
            f"{sig_e[-1]:.2%} | design "
            f"{float(energy_resolution(np.array(e0))):.2%} |"
        )
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    grid = np.geomspace(0.08, 5, 100)
    axes[0].plot(energies, sig_e, "o", label="fast simulation")
    axes[0].plot(grid, energy_resolution(grid), label="design formula")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("E [GeV]")
    axes[0].set_ylabel("sigma_E / E")
    axes[0].legend()
    axes[1].plot(energies, sig_th, "o")
    axes[1].set_xscale("log")
    axes[1].set_xlabel("E [GeV]")
    axes[1].set_ylabel("sigma_theta [mrad]")
    fig.tight_layout()
    fig.savefig(IMG / "detector_photon_resolution.png", dpi=80)
    plt.close(fig)
    rows.append(
        f"| photon polar-angle resolution | {sig_th[0]:.1f} mrad (0.1 GeV) to "
        f"{sig_th[-1]:.1f} mrad (4 GeV) | crystal size ~4.6 cm at 125 cm: ~37 mrad / "
        "sqrt(12) = 11 mrad before the log-weighted centroid |"
    )
    return rows


def tracks(n: int) -> list[str]:
    rng = _rng(30)
    pt = 4.0
    theta = np.full(n, np.pi / 2)
    phi = rng.uniform(-np.pi, np.pi, n)
    e = np.sqrt(pt**2 + 0.10566**2)
    reco = simulate_events(
        _shoot(13, np.full(n, e), theta, phi, 0.10566),
        SimulateConfig(beam_background_rate=0.0, beam_background_tracks=0.0, track_efficiency=1.0),
        _rng(31),
    )
    tr = ak.flatten(reco.tracks)
    pt_meas = np.hypot(ak.to_numpy(tr.px), ak.to_numpy(tr.py))
    lo, hi = np.percentile(pt_meas / pt - 1, [15.87, 84.13])
    design = float(pt_resolution(np.array(pt), 0.10566))
    return [
        f"| track pT resolution at 4 GeV | {(hi - lo) / 2:.2%} | design 0.11 % pT + 0.25 %/beta"
        f" = {design:.2%} |"
    ]


def zprime_recoil(n: int, plt) -> list[str]:
    rows, masses, widths = [], [0.5, 1, 2, 4, 6, 8], []
    for i, m in enumerate(masses):
        truth = truth_to_awkward(generate_process("zprime", n, 5, mass=m, coupling=0.01))
        reco = simulate_events(truth, NO_BKG, _rng(40 + i))
        tr = reco.tracks[ak.num(reco.tracks) == 2]
        p = np.stack([ak.to_numpy(ak.sum(tr[c], axis=1)) for c in ("px", "py", "pz")], 1)
        e = ak.to_numpy(ak.sum(np.sqrt(tr.px**2 + tr.py**2 + tr.pz**2 + 0.10566**2), axis=1))
        pair = np.concatenate([e[:, None], p], axis=1)
        m2 = recoil_mass2(EM + EP, pair)
        lo, med, hi = np.percentile(m2, [15.87, 50, 84.13])
        widths.append((hi - lo) / 2)
        rows.append(
            f"| Z' recoil mass^2 at M = {m:g} GeV | median {med:.3g} GeV^2 (M^2 = "
            f"{m * m:.3g}), resolution {widths[-1]:.3g} GeV^2 | windows +-2 sigma |"
        )
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(masses, widths, "o-")
    ax.set_xlabel("M_Z' [GeV]")
    ax.set_ylabel("sigma(M_recoil^2) [GeV^2]")
    fig.tight_layout()
    fig.savefig(IMG / "detector_zprime_recoil_resolution.png", dpi=80)
    plt.close(fig)
    return rows


def photon_trigger_and_gaps(n: int, plt) -> list[str]:
    rng = _rng(50)
    e_star = rng.uniform(0.1, 3.5, n)
    th_star = np.radians(rng.uniform(20, 160, n))
    phi = rng.uniform(-np.pi, np.pi, n)
    cms = np.stack(
        [
            e_star,
            e_star * np.sin(th_star) * np.cos(phi),
            e_star * np.sin(th_star) * np.sin(phi),
            e_star * np.cos(th_star),
        ],
        1,
    )
    lab = boost(cms, -BETA)
    reco = simulate_events(_truth(np.full(n, 22), lab), NO_BKG, _rng(51))
    fired = ak.to_numpy(reco.trg_sp1 | reco.trg_sp2 | reco.trg_sp3)
    found = ak.to_numpy(ak.num(reco.clusters)) > 0
    theta_lab = np.degrees(np.arccos(lab[:, 3] / lab[:, 0]))
    barrel = (theta_lab > 45) & (theta_lab < 110)
    bins = np.linspace(0.1, 3.5, 18)
    idx = np.digitize(e_star, bins)
    eff = [fired[barrel & (idx == i)].mean() for i in range(1, len(bins))]
    tb = np.linspace(10, 160, 76)
    tidx = np.digitize(theta_lab, tb)
    lost = [1 - found[(tidx == i) & (e_star > 0.5)].mean() for i in range(1, len(tb))]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].step(bins[:-1], eff, where="post")
    axes[0].set_xlabel("E* [GeV]")
    axes[0].set_ylabel("single-photon trigger efficiency (barrel)")
    axes[1].step(tb[:-1], lost, where="post")
    axes[1].set_xlabel("theta_lab [deg]")
    axes[1].set_ylabel("fraction of photons lost (E* > 0.5 GeV)")
    fig.tight_layout()
    fig.savefig(IMG / "detector_trigger_and_gaps.png", dpi=80)
    plt.close(fig)
    above = fired[barrel & (e_star > 1.0)].mean()
    in_gap = found[(theta_lab > 31.5) & (theta_lab < 32.1)].mean()
    inside = found[(theta_lab > 35) & (theta_lab < 125) & (e_star > 0.5)].mean()
    return [
        f"| single-photon trigger efficiency, barrel, E* > 1 GeV | {above:.1%} | ~100 % "
        "(belle2-facts) |",
        f"| photons found at 35-125 deg (E* > 0.5 GeV) / inside the 31.4-32.2 deg gap | "
        f"{inside:.1%} / {in_gap:.1%} | no escape between crystals; the gaps lose them |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # empty bins in the plots
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    IMG.mkdir(parents=True, exist_ok=True)
    rows = []
    rows += shapes(args.events, plt)
    rows += resolution(args.events, plt)
    rows += tracks(args.events)
    rows += zprime_recoil(max(args.events // 4, 2000), plt)
    rows += photon_trigger_and_gaps(args.events * 2, plt)
    lines = [
        BEGIN,
        "",
        f"Single particles, no beam background, {args.events} per point;"
        " regenerate with `./dev python scripts/validate_detector.py`.",
        "",
        "| quantity | fast simulation | reference |",
        "|---|---|---|",
        *rows,
        "",
        "Plots: [shower shapes](img/validation/detector_shower_shapes.png), "
        "[photon resolution](img/validation/detector_photon_resolution.png), "
        "[Z' recoil resolution](img/validation/detector_zprime_recoil_resolution.png), "
        "[trigger and gaps](img/validation/detector_trigger_and_gaps.png).",
        "",
        END,
    ]
    for row in rows:
        print(row, flush=True)
    text = DOC.read_text()
    block = "\n".join(lines)
    if BEGIN in text:
        text = re.sub(
            re.escape(BEGIN) + r".*?" + re.escape(END), lambda _m: block, text, flags=re.S
        )
    else:
        anchor = "## Limits"
        text = text.replace(anchor, "## Fast simulation: summary\n\n" + block + "\n\n" + anchor, 1)
    DOC.write_text(text)


if __name__ == "__main__":
    main()
