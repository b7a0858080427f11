"""Radiation on the signals: cross sections with ISR against an independent quadrature, and
the truth-level width of each search variable with and without radiation (docs/validation.md).

    ./dev python scripts/validate_signal_radiation.py [--events 100000] [--part xsec|widths]

Cross sections: nominal beams (no energy spread), coupling 1. The Z' reference convolves the
Born cross section of a Dalitz-plane grid (validation.references.zprime_dalitz_fb) with
collinear structure functions (isr_convolved_fb); the photon signals' reference integrates
the Born dsigma/dcos over (y1, y2, cos) with the ISR photons softer than the signal photon
(isr_ordered_photon_fb). Widths: with the beam-energy spread, at truth level (the muons, the
e mu pair or the photon as generated; for the ALP the photon pair closest to the mass), the
half-width of the central 68 % and the sigma of the search windows (the core of the peak:
selection.windows.signal_window), in the search variable's unit, and the share of the events
within +-2 core sigma.
"""

from __future__ import annotations

import argparse

import numpy as np

from mlsearch.generate import generate_process
from mlsearch.physics.kinematics import beam_four_momenta, invariant_mass2, recoil_mass2
from mlsearch.selection.windows import signal_window
from mlsearch.validation.references import signal_with_isr_fb

EM, EP = beam_four_momenta()
POINTS = {
    "zprime": (1.0, 3.0, 5.0, 8.0),
    "lfv_zprime": (1.0, 3.0, 5.0, 8.0),
    "alp": (0.5, 2.0, 4.0, 8.0),
    "dark_photon": (1.0, 3.0, 6.0, 8.0),
}
UNIT = {
    "zprime": "M_recoil^2(mu mu) [GeV^2]",
    "lfv_zprime": "M_recoil^2(e mu) [GeV^2]",
    "alp": "M(gamma gamma) [GeV]",
    "dark_photon": "M_miss^2(gamma) [GeV^2]",
}


def _search_variable(process: str, p4: np.ndarray, mass: float) -> np.ndarray:
    beams = EM + EP
    if process in ("zprime", "lfv_zprime"):
        return recoil_mass2(beams, p4[:, 0] + p4[:, 1])
    if process == "dark_photon":
        return recoil_mass2(beams, p4[:, 0])
    pairs = [invariant_mass2(p4[:, i] + p4[:, j]) for i, j in ((0, 2), (0, 3), (2, 3))]
    m = np.sqrt(np.clip(np.stack(pairs, axis=1), 0, None))
    return m[np.arange(len(m)), np.argmin(np.abs(m - mass), axis=1)]


def _sigma(values: np.ndarray) -> float:
    q16, q84 = np.quantile(values, [0.16, 0.84])
    return float(q84 - q16) / 2


def _core(values: np.ndarray, mass: float) -> tuple[float, float]:
    """The windows' sigma (the core of the peak) and the share of the events in +-2 sigma."""
    window = signal_window(values, 2.0)
    return window.sigma, float(np.mean(window.contains(values)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--part", choices=("all", "xsec", "widths"), default="all")
    args = parser.parse_args()
    n = args.events
    if args.part in ("all", "xsec"):
        _cross_sections(n)
    if args.part in ("all", "widths"):
        _widths(n)


def _cross_sections(n: int) -> None:
    print("| signal | mass [GeV] | Born [fb] | with ISR (+FSR) [fb] | reference [fb] | ratio |")
    print("|---|---|---|---|---|---|")
    for process, masses in POINTS.items():
        for mass in masses:
            kw = {"invisible_br": "one"} if process == "zprime" else {}
            rad = generate_process(
                process, n, 1, mass=mass, coupling=1.0, energy_spread=False, **kw
            )
            born = generate_process(
                process, n, 1, mass=mass, coupling=1.0, energy_spread=False, radiation=False,
                **kw,
            )  # fmt: skip
            ref = signal_with_isr_fb(process, mass)
            r = f"{ref:.5g} | {rad.cross_section_fb / ref:.4f}" if ref else "- | -"
            print(
                f"| {process} | {mass:g} | {born.cross_section_fb:.5g} | "
                f"{rad.cross_section_fb:.5g} +- {rad.cross_section_err_fb:.2g} | {r} |"
            )
    print()


def _widths(n: int) -> None:
    print(
        "| signal | mass [GeV] | variable | central-68 % sigma: Born / radiation | "
        "core sigma: Born / radiation | in +-2 core sigma: Born / radiation |"
    )
    print("|---|---|---|---|---|---|")
    for process, masses in POINTS.items():
        for mass in masses:
            central, core, share = [], [], []
            for radiation in (False, True):
                sample = generate_process(
                    process, n // 4, 2, mass=mass, coupling=1.0, radiation=radiation
                )
                values = _search_variable(process, sample.p4, mass)
                central.append(_sigma(values))
                c, s = _core(values, mass)
                core.append(c)
                share.append(s)
            print(
                f"| {process} | {mass:g} | {UNIT[process]} | {central[0]:.3g} / {central[1]:.3g}"
                f" | {core[0]:.3g} / {core[1]:.3g} | {share[0]:.2f} / {share[1]:.2f} |"
            )


if __name__ == "__main__":
    main()
