"""Hard wide-angle radiation in e+e- -> mu+ mu- (gamma): the built-in generator against the
exact O(alpha^3) matrix element (ISR + FSR + interference), for docs/validation.md.

    ./dev python scripts/validate_radiation.py [--events 4000000]

Both in the CM frame of the nominal beams (no energy spread), with the cuts of
mlsearch.validation.references.HardPhotonCuts (photon above 1 GeV at 30-150 deg, both muons
at 30-150 deg, photon-muon angles above 10 deg, M(mu mu) above 1 GeV). The generator's
hardest photon is the one cut on, and it tells ISR from FSR; its weights carry vacuum
polarisation (~+4 %), which the reference does not: the ratios are taken without it.
"""

from __future__ import annotations

import argparse

import numpy as np

from mlsearch.generate.mumu import generate_mumu
from mlsearch.physics import constants as c
from mlsearch.physics.beams import beam_four_momenta
from mlsearch.physics.kinematics import boost
from mlsearch.physics.vacuum_polarisation import vp_factor
from mlsearch.validation.references import HardPhotonCuts, mumu_gamma_hard_fb


def _cm_frame() -> tuple[np.ndarray, np.ndarray, float]:
    """(boost velocity lab -> CM, rotation putting the e- beam on +z, sqrt(s)) of the nominal
    beams."""
    el, po = beam_four_momenta(np.array([c.E_HER]), np.array([c.E_LER]))
    total = el + po
    beta = total[:, 1:] / total[:, :1]
    e_dir = boost(el, beta)[0, 1:]
    e_dir /= np.linalg.norm(e_dir)
    axis = np.cross(e_dir, [0.0, 0.0, 1.0])
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rotation = np.eye(3) + cross + cross @ cross * ((1 - e_dir[2]) / (axis @ axis))
    sqrt_s = float(np.sqrt(total[0, 0] ** 2 - (total[0, 1:] ** 2).sum()))
    return beta, rotation, sqrt_s


def generator_fb(
    cuts: HardPhotonCuts, n_events: int, chunks: int = 8
) -> dict[str, tuple[float, float, float]]:
    """Per part ("isr": the hardest photon is an ISR photon, "fsr": an FSR photon): (sigma,
    MC error, sigma without vacuum polarisation) [fb] of generate_mumu events passing
    ``cuts`` (hardest photon)."""
    beta, rotation, _ = _cm_frame()
    sums = {part: np.zeros(3) for part in ("isr", "fsr")}
    for seed in range(1, chunks + 1):
        sample = generate_mumu(n_events // chunks, seed, energy_spread=False)
        p = boost(sample.p4, beta)
        p = np.concatenate([p[..., :1], p[..., 1:] @ rotation.T], axis=-1)
        photons = p[:, 2:]
        hardest = np.argmax(photons[..., 0], axis=1)
        k = photons[np.arange(len(p)), hardest]
        q_minus, q_plus = p[:, 0], p[:, 1]
        pair = q_minus + q_plus
        m2 = pair[:, 0] ** 2 - (pair[:, 1:] ** 2).sum(axis=1)
        keep = (k[:, 0] > 0) & (m2 > cuts.m_mumu_min**2)
        keep[keep] = cuts.passes(k[keep], q_plus[keep], q_minus[keep])
        # the generator's s': the pair before FSR (leptons + FSR photons)
        before_fsr = p[:, 0] + p[:, 1] + p[:, 4] + p[:, 5]
        s_red = before_fsr[:, 0] ** 2 - (before_fsr[:, 1:] ** 2).sum(axis=1)
        for part, rows in (("isr", keep & (hardest < 2)), ("fsr", keep & (hardest >= 2))):
            w = sample.weight[rows] / chunks
            sums[part] += [w.sum(), (w**2).sum(), (w / vp_factor(s_red[rows])).sum()]
    return {part: (v[0], float(np.sqrt(v[1])), v[2]) for part, v in sums.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=4_000_000)
    args = parser.parse_args()
    cuts = HardPhotonCuts()
    sqrt_s = _cm_frame()[2]
    gen = generator_fb(cuts, args.events)
    exact = {
        part: mumu_gamma_hard_fb(sqrt_s, cuts, args.events, seed=3, part=part)
        for part in ("isr", "fsr", "interference", "all")
    }
    print(f"cuts: {cuts}")
    print("| part | exact O(alpha^3) [pb] | generate_mumu [pb] | without vacuum polarisation "
          "[pb] | ratio (without VP) |")  # fmt: skip
    print("|---|---|---|---|---|")
    for part in ("isr", "fsr"):
        g, g_err, g_novp = gen[part]
        x, x_err = exact[part]
        cells = [
            f"{part.upper()} (hardest photon)", f"{x / 1e3:.2f} +- {x_err / 1e3:.2f}",
            f"{g / 1e3:.2f} +- {g_err / 1e3:.2f}", f"{g_novp / 1e3:.2f}", f"{g_novp / x:.3f}",
        ]  # fmt: skip
        print("| " + " | ".join(cells) + " |")
    x, x_err = exact["interference"]
    print(f"| ISR-FSR interference | {x / 1e3:.3f} +- {x_err / 1e3:.3f} | - | - | - |")
    g = sum(v[0] for v in gen.values())
    g_novp = sum(v[2] for v in gen.values())
    x, x_err = exact["all"]
    print(f"| all | {x / 1e3:.2f} +- {x_err / 1e3:.2f} | {g / 1e3:.2f} | {g_novp / 1e3:.2f} | "
          f"{g_novp / x:.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()
