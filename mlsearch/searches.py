"""The four searches: which signal process each one uses, its coupling and how results are
labelled. One place for what differs between searches outside the feature builders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mlsearch.errors import ConfigError

__all__ = ["SEARCHES", "SearchInfo", "search_info"]


@dataclass(frozen=True)
class SearchInfo:
    """A search: ``signal_processes`` (generator names it accepts), the coupling's name and
    unit, and the plot labels of the cross section and the coupling limits."""

    name: str
    signal_processes: tuple[str, ...]
    title: str  # matplotlib mathtext
    coupling_label: str
    coupling_unit: str  # '' when dimensionless
    xsec_label: str
    triggers: tuple[str, ...]  # the L1 lines the selection accepts (any of them)


SEARCHES: dict[str, SearchInfo] = {
    "zprime_invisible": SearchInfo(
        "zprime_invisible",
        ("zprime",),
        r"Z' (L$_\mu$ - L$_\tau$) $\to$ invisible",
        "g'",
        "",
        r"$\sigma(e^+e^- \to \mu^+\mu^- Z') \times B(Z' \to$ inv.) [fb]",
        ("trg_ffo",),
    ),
    "lfv_zprime": SearchInfo(
        "lfv_zprime",
        ("lfv_zprime",),
        r"LFV Z' $\to$ invisible in $e^\pm\mu^\mp$",
        r"g$_{e\mu}$",
        "",
        r"$\sigma(e^+e^- \to e^\pm\mu^\mp Z') \times B(Z' \to$ inv.) [fb]",
        ("trg_ffo",),
    ),
    "alp": SearchInfo(
        "alp",
        ("alp", "alp_fusion"),
        r"ALP, $e^+e^- \to \gamma a$, $a \to \gamma\gamma$",
        r"g$_{a\gamma\gamma}$",
        "GeV$^{-1}$",
        r"$\sigma(e^+e^- \to \gamma a) \times B(a \to \gamma\gamma)$ [fb]",
        # the single-photon line too: for light ALPs the hardest decay photon and the recoil
        # photon are back to back and the Bhabha veto kills the ECL-sum lines
        ("trg_hie", "trg_lowe", "trg_c4", "trg_sp1"),
    ),
    "dark_photon": SearchInfo(
        "dark_photon",
        ("dark_photon",),
        r"Dark photon, $e^+e^- \to \gamma A'$, $A' \to$ invisible",
        r"$\epsilon$",
        "",
        r"$\sigma(e^+e^- \to \gamma A') \times B(A' \to$ inv.) [fb]",
        ("trg_sp1", "trg_sp2", "trg_sp3"),
    ),
}


def search_info(name: str) -> SearchInfo:
    """The SearchInfo of a search name (a config's ``search`` key)."""
    try:
        return SEARCHES[name]
    except KeyError:
        raise ConfigError(f"unknown search {name!r}; known: {', '.join(SEARCHES)}") from None


def branching_fraction(process: str, invisible_br: str) -> Callable[[float], float]:
    """The signal's branching fraction into the searched final state versus its mass [GeV]:
    B(Z' -> invisible) of L_mu - L_tau (thresholds at 2 m_mu and 2 m_tau) for the Z' with
    ``invisible_br: lmu_ltau``; 1 otherwise (B = 1 by assumption: LFV Z' and A' to invisible,
    a -> gamma gamma)."""
    if process == "zprime" and invisible_br == "lmu_ltau":
        from mlsearch.physics.zprime_model import invisible_branching_fraction

        return invisible_branching_fraction
    return lambda mass: 1.0
