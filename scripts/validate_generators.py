"""Regenerate the generator section of docs/validation.md and its plots.

    ./dev python scripts/validate_generators.py [--events 200000]

For every process: the cross section from the generator (nominal beams, no energy spread)
against an independent calculation (closed form, quadrature, a flat-phase-space MC) and a
published value where one exists; and a 2x2 PNG of the standard CM-frame distributions
(energies, polar angles, pair mass, recoil mass) in docs/img/validation/.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlsearch.generate import PROCESSES, generate_process  # noqa: E402
from mlsearch.generate.dark_photon import electron_beta  # noqa: E402
from mlsearch.physics.constants import ALPHA_EM, GEV2_TO_FB, M_E, M_MU, M_TAU  # noqa: E402
from mlsearch.physics.kinematics import (  # noqa: E402
    beam_four_momenta,
    boost,
    cms_boost_vector,
    invariant_mass2,
)
from mlsearch.physics.qed_me import dark_photon_dsigma_dcos  # noqa: E402
from mlsearch.validation import references as ref  # noqa: E402

DOC = ROOT / "docs" / "validation.md"
IMG = ROOT / "docs" / "img" / "validation"
BEGIN = "<!-- BEGIN generators: written by scripts/validate_generators.py -->"
END = "<!-- END generators -->"
EM, EP = beam_four_momenta()
S = float(invariant_mass2(EM + EP))
SQRT_S = math.sqrt(S)

#: process -> generator arguments for the table and the plots
CASES: dict[str, dict[str, float]] = {
    "zprime": {"mass": 1.0, "coupling": 0.01},
    "lfv_zprime": {"mass": 5.0, "coupling": 1.0},
    "alp": {"mass": 1.0, "coupling": 1e-3},
    "alp_fusion": {"mass": 1.0, "coupling": 1e-3},
    "dark_photon": {"mass": 3.0, "coupling": 1.0},
    "mumu": {},
    "tautau": {},
    "eemumu": {},
    "gg": {},
    "ee": {},
}


def _independent(process: str, kw: dict[str, float], sample_meta: dict) -> tuple[float, str]:
    """(reference sigma [fb], how it was obtained) for the generator's own quantity."""
    m, g = kw.get("mass", 0.0), kw.get("coupling", 1.0)
    if process == "zprime":
        br = sample_meta["invisible_br"]
        return br * ref.zprime_dalitz_fb(m, g, SQRT_S, M_MU), "160x160 Dalitz quadrature x B(inv)"
    if process == "lfv_zprime":
        z = generate_process(
            "zprime", 40_000, 3, mass=m, coupling=g, invisible_br="one", energy_spread=False,
            radiation=False,
        )  # fmt: skip
        return 2 * z.cross_section_fb, "2 x sigma(mu mu Z') (lepton masses negligible at 5 GeV)"
    if process == "alp":
        return ref.alp_strahlung_fb(S, m, g), "alpha g^2 (1 - m^2/s)^3 / 24"
    if process == "alp_fusion":
        return ref.collinear_epa_fusion_fb(S, m, m**2, g), "collinear EPA quadrature, Q^2 < m^2"
    if process == "dark_photon":
        from scipy import integrate

        beta = electron_beta(10.58)
        val = integrate.quad(
            lambda c: dark_photon_dsigma_dcos(S, m, c, beta), -1, 1, points=[-0.9999, 0.9999]
        )[0]
        return g**2 * val * GEV2_TO_FB, "quadrature of dsigma/dcos (Dirac-trace checked)"
    if process == "mumu":
        return ref.isr_pair_fb(S, M_MU, True), "2-D quadrature of D(y1) D(y2) h(y1) h(y2) sigma_Born(s') VP(s')"
    if process == "tautau":
        return ref.isr_pair_fb(S, M_TAU, True), "2-D quadrature of D(y1) D(y2) h(y1) h(y2) sigma_Born(s') VP(s')"
    if process == "gg":
        beta = math.sqrt(1 - 4 * M_E**2 / S)
        log = math.log((1 + beta) / (1 - beta))
        closed = 0.5 * (log / beta * (1 + 1 / beta**2) - 2 / beta**2)
        two = 2 * math.pi * ALPHA_EM**2 / S * closed * GEV2_TO_FB
        return two + sample_meta[
            "sigma_3gamma_fb"
        ], "closed form (2 gamma) + 3 gamma (flat phase space cross-check in tests)"
    if process == "eemumu":
        return ref.collinear_epa_pair_fb(S, M_MU, 0.5), "collinear EPA x Breit-Wheeler quadrature"
    if process == "ee":
        return float("nan"), "(radiative channel: soft limit tested)"
    return float("nan"), ""


def _cms(p4: np.ndarray) -> np.ndarray:
    return boost(p4, cms_boost_vector(EM + EP))


def _hist(ax, x: np.ndarray, w: np.ndarray, **kw) -> None:
    """A weighted step histogram that survives empty or single-valued data."""
    if len(x) == 0:
        return
    lo, hi = kw.pop("range", (float(x.min()), float(x.max())))
    if hi - lo < 1e-6 * max(1.0, abs(hi)):
        lo, hi = lo - 0.05, hi + 0.05
    ax.hist(x, bins=60, range=(lo, hi), weights=w, histtype="step", **kw)


def _plot(process: str, sample, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    info = PROCESSES[process]
    cms = _cms(sample.p4)
    keep = np.isin(np.abs(sample.pdg), info.cut_pdgs) & (sample.p4[..., 0] > 0)
    energy = np.where(keep, cms[..., 0], -1.0)
    order = np.argsort(-energy, axis=1)[:, : info.cut_count]
    rows = np.arange(len(energy))[:, None]
    lead = cms[rows, order]
    present = keep[rows, order]
    w = sample.weight
    fig, axes = plt.subplots(2, 2, figsize=(9, 7))
    for j in range(lead.shape[1]):
        sel = present[:, j]
        _hist(axes[0, 0], lead[sel, j, 0], w[sel], label=f"object {j + 1}")
        cos = lead[sel, j, 3] / np.linalg.norm(lead[sel, j, 1:], axis=-1)
        _hist(axes[0, 1], cos, w[sel], range=(-1, 1))
    # the pair: the two leading objects, or for three photons the two softer ones (the ALP)
    picks = [1, 2] if lead.shape[1] == 3 else list(range(min(lead.shape[1], 2)))
    both = present[:, picks].all(axis=1)
    pair = lead[both][:, picks].sum(axis=1)
    _hist(axes[1, 0], np.sqrt(np.clip(invariant_mass2(pair), 0, None)), w[both])
    recoil = np.array([SQRT_S, 0, 0, 0]) - pair
    _hist(axes[1, 1], invariant_mass2(recoil), w[both])
    axes[0, 0].set_xlabel("E* [GeV]")
    axes[0, 1].set_xlabel("cos theta*")
    axes[1, 0].set_xlabel("M(pair) [GeV]: leading two, or softer two of three")
    axes[1, 1].set_xlabel("M_recoil^2 of that pair (or single object) [GeV^2]")
    for ax in axes.flat:
        ax.set_ylabel("fb / bin")
        ax.set_yscale("log")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(f"{process}: {info.description} (CM frame, weighted)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _bhabha_in_acceptance(sample) -> float:
    """sigma [fb] of e e (gamma) events with both leptons at 10-170 deg in the CM frame."""
    cms = _cms(sample.p4)
    cos = cms[:, :2, 3] / np.linalg.norm(cms[:, :2, 1:], axis=-1)
    inside = (np.abs(cos) < math.cos(math.radians(10))).all(axis=1)
    return float(sample.weight[inside].sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    lines = [
        BEGIN,
        "",
        f"Nominal beams (sqrt(s) = {SQRT_S:.4f} GeV, no energy spread), {args.events} events"
        " per process (1/10 for the 2 -> 3 signals), seed 1. Regenerate with",
        "`./dev python scripts/validate_generators.py`.",
        "",
        "| process | settings | sigma (mlsearch) [pb] | independent [pb] | diff | how "
        "| published [pb] |",
        "|---|---|---|---|---|---|---|",
    ]
    for process, kw in CASES.items():
        n = args.events // 10 if process in ("zprime", "lfv_zprime") else args.events
        # the signals' Born process: their radiation has its own check
        # (scripts/validate_signal_radiation.py)
        born = {"radiation": False} if PROCESSES[process].is_signal else {}
        sample = generate_process(process, n, 1, energy_spread=False, **kw, **born)
        sigma, err = sample.cross_section_fb, sample.cross_section_err_fb
        indep, how = _independent(process, kw, sample.metadata)
        pub = ref.PUBLISHED_FB.get(process)
        settings = ", ".join(f"{k} {v:g}" for k, v in kw.items()) or "-"
        diff = f"{sigma / indep - 1:+.1%}" if indep == indep else "-"
        # the published Bhabha number: both leptons at 10-170 deg (CM), any photons
        ours = _bhabha_in_acceptance(sample) if process == "ee" else sigma
        pub_txt = f"{pub[0] / 1e3:.5g} ({pub[1]}; ours {ours / pub[0] - 1:+.1%})" if pub else "-"
        lines.append(
            f"| {process} | {settings} | {sigma / 1e3:.5g} +- {err / 1e3:.2g} | "
            f"{indep / 1e3:.5g} | {diff} | {how} | {pub_txt} |".replace("| nan |", "| - |")
        )
        _plot(process, sample, IMG / f"{process}.png")
        print(lines[-1], flush=True)
    lines += [
        "",
        "Distributions: " + ", ".join(f"[{p}](img/validation/{p}.png)" for p in CASES) + ".",
        "",
        END,
    ]
    text = DOC.read_text()
    block = "\n".join(lines)
    if BEGIN in text:
        text = re.sub(
            re.escape(BEGIN) + r".*?" + re.escape(END), lambda _m: block, text, flags=re.S
        )
    else:
        text = text.rstrip() + "\n\n## Generators of the four searches: summary\n\n" + block + "\n"
    DOC.write_text(text)


if __name__ == "__main__":
    main()
