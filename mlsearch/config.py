"""Search configuration: pydantic models of the YAML files, --set overrides, content hashes.

Every key is validated; an unknown key or a wrong type raises :class:`ConfigError` with one
line naming the file, the key and what was expected.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from mlsearch.config_base import _Strict
from mlsearch.config_compute import ComputeConfig
from mlsearch.config_limits import LimitsConfig
from mlsearch.errors import ConfigError
from mlsearch.physics.mass_ranges import signal_mass_problem

#: GeV: a pair-pT truth filter's least distance below the selection's cut: 3-3.5 standard
#: deviations of the pair's pT* resolution for muons of 5-7 GeV (0.6-0.8 % per track, the
#: simulation's default; measured: no selected mu mu event of 6x10^5 lost at this margin,
#: one (4x10^-5 of the selected weight) at 0.1 GeV; docs/validation.md)
PAIR_PT_MARGIN = 0.15

__all__ = ["Config", "config_hash", "load_config"]


class SignalSpec(_Strict):
    """Signal samples: one per mass on the grid."""

    process: Literal["zprime", "lfv_zprime", "alp", "alp_fusion", "dark_photon"] = "zprime"
    masses: list[float] = Field(min_length=1, description="mass grid [GeV]")
    n_events: int = Field(gt=0, description="events per mass point")
    coupling: float = Field(
        gt=0,
        description="reference coupling the samples are made at (g', g_emu, g_a_gamma_gamma "
        "[GeV^-1] or epsilon); limits scale as sigma ~ coupling^2",
    )
    invisible_br: Literal["lmu_ltau", "one"] = Field(
        "lmu_ltau", description="zprime only: B(Z' -> invisible) of L_mu - L_tau, or 1"
    )
    radiation: bool = Field(
        True,
        description="ISR off both beams (structure functions, photons at the dipole angles) "
        "and, for the Z' and LFV Z', FSR off the leptons; false: the Born process",
    )
    files: dict[float, Path] = Field(
        default_factory=dict,
        description="mass [GeV] -> LHE/HepMC3 file used instead of the built-in generator",
    )

    @field_validator("masses")
    @classmethod
    def _sorted_positive(cls, v: list[float]) -> list[float]:
        if any(m <= 0 for m in v):
            raise ValueError("masses must be positive [GeV]")
        return sorted(v)

    @model_validator(mode="after")
    def _masses_in_range(self) -> SignalSpec:
        # a mass the generator cannot make fails here, not minutes later inside generate
        problems = [p for m in self.masses if (p := signal_mass_problem(self.process, m))]
        if problems:
            raise ValueError(f"masses: {'; '.join(problems)}")
        return self


#: the tau decay modes of generate/tau_decays.py MODES (a test keeps them equal)
TauMode = Literal["e", "mu", "pi", "K", "rho", "pi2pi0", "3pi", "3pipi0"]


class ChargedFilterSpec(_Strict):
    """A truth filter before the simulation (generate/filters.py): keep events with at least
    ``count`` charged particles in the CDC acceptance with lab momentum >= ``p_min``."""

    count: int = Field(ge=1, le=10)
    p_min: float = Field(ge=0, description="lab momentum [GeV]")
    pair_pt_min: float | None = Field(
        None,
        ge=0,
        description="and two of them with a summed transverse momentum in the CM frame of at "
        "least this [GeV] (the Z' search's features.dimuon_pt_min, less a margin of >= 0.15 "
        "GeV for the momentum resolution)",
    )
    extra_ecl_veto: float | None = Field(
        None,
        gt=0,
        description="and no photon (or electron outside the CDC) that surely makes a neutral "
        "ECL cluster above this [GeV, lab], 20 deg from the tracks: what the Z' search's "
        "features.extra_ecl_max rejects (set it to that cut or above)",
    )


class SinglePhotonFilterSpec(_Strict):
    """A truth filter before the simulation (generate/filters.py): keep the events where some
    photon or electron may make a cluster above ``e_min`` (CM) and no two photons surely make
    clusters above ``veto_e`` (CM) - what a single-photon selection can select."""

    e_min: float = Field(0.5, ge=0, description="CM energy [GeV]")
    veto_e: float = Field(1.0, gt=0, description="CM energy [GeV]")


class BackgroundSpec(_Strict):
    """One background process: built in (n_events generated), or read from ``file`` (an
    LHE/HepMC3 file from KKMC, BabaYaga, MadGraph, ...; n_events is then not used)."""

    process: Literal["mumu", "tautau", "eemumu", "gg", "ee"]
    n_events: int = Field(0, ge=0)
    file: Path | None = None
    ntuple: Path | None = Field(
        None,
        description="a basf2 ntuple (tracks/clusters/event trees) used as the reconstructed "
        "sample: generation and simulation are skipped",
    )
    cross_section_fb: float | None = Field(None, gt=0, description="of the ntuple's sample")
    n_generated: int | None = Field(None, gt=0, description="events generated for the ntuple")
    in_acceptance: bool = Field(
        False, description="e e mu mu: generate only events with both muons in the CDC"
    )
    forced_misid: Literal["muon", "electron"] | None = Field(
        None,
        description="importance sampling of that ID's fakes in the simulation: every event "
        "with a track that can fake it gets one that does, weighted back by the fake rate "
        "(e e for the LFV search's muon, mu mu for its electron); only for a selection that "
        "needs such a track",
    )
    track_loss: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="importance sampling of tracking inefficiency in the simulation: each "
        "track the CDC could find is lost with this probability instead of 1 - "
        "track_efficiency, weighted back (exact for any selection); for a sample whose "
        "selected events need charged particles without a track (e e in the photon searches)",
    )
    tau_modes: dict[TauMode, float] | None = Field(
        None,
        description="tau tau: sampling probabilities of named tau decay modes (the others "
        "share the rest in proportion to their branching fractions); events are weighted "
        "back by branching fraction / probability, so the sample stays unbiased with more "
        "events in the modes the selection keeps",
    )

    lost_photon_share: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="gamma gamma: the share of its two-photon events drawn with one photon "
        "aimed at an ECL gap or past the backward endcap while the other hits the ECL (the "
        "single-photon background), weighted back by the true angular distribution",
    )
    ring_share: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="e e: the share of its events drawn from the radiative Bhabha with a "
        "lepton where the ECL sees it and the CDC does not (12.4-17 and 150-155 deg lab: the "
        "e e background of a multi-photon selection; 3/4 of them with both leptons there); "
        "the rest is the usual sample with that region left out, so together they are "
        "unbiased",
    )
    single_share: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="gamma gamma: the share of its two-photon events whose hardest ISR "
        "photon is aimed where one photon is seen above 2 GeV (CM) and the others leave no "
        "cluster (a wide-angle ISR photon seen or in a gap, or a hard one along the beam with "
        "the pair's angle in the bands where one of its photons is lost); "
        "e e: the share of its events drawn from the radiative Bhabha with one "
        "particle in the ECL above 2 GeV (CM) and the two others down the beam pipe (65 % with "
        "the photon seen, 35 % with a lepton, which a lost track leaves as a cluster, 25 % "
        "from pairs recoiling against hard ISR): the e e background of a "
        "single-photon selection; the rest is the usual sample with those regions left out, "
        "so together they are unbiased",
    )
    soft_pair_share: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="e e mu mu: the share of its events drawn with the photons' energy "
        "fractions x1 + x2 log-uniform in 0.3-1 and one photon's virtuality in 0.05-3 GeV^2 "
        "(soft muon pairs with transverse momentum, recoiling at up to 8.5 GeV: the Z' "
        "search's e e mu mu at high masses), weighted back by the sampling density",
    )
    hard_photon_share: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="e e mu mu: the share of its events drawn with one photon's 1 - x "
        "log-uniform in 0.001-0.35 and one photon's virtuality in 0.05-3 GeV^2 (heavy, "
        "energetic muon pairs with pT: the Z' search's e e mu mu at recoil masses of 1-4 GeV), "
        "weighted back by the sampling density; soft_pair_share + hard_photon_share < 1",
    )
    escape_share: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="mu mu: the share of its events drawn with a photon aimed where it leaves "
        "no cluster, or one below the Z' extra-energy cut, yet gives the pair transverse "
        "momentum: 78 % with one ISR photon 3-22 deg from its beam in the CM frame (past the "
        "ECL's edges), at the barrel-endcap gaps or soft in the barrel (at least 0.25 GeV of "
        "pT), 22 % with soft ISR and one muon's FSR photon of 4-15 % of its energy: the mu mu "
        "background of the Z' search's lowest recoil masses, weighted back by the sampling "
        "density",
    )
    single_photon_filter: SinglePhotonFilterSpec | None = Field(
        None,
        description="drop, before the simulation, the events a single-photon selection cannot "
        "select: no photon or electron that may make a cluster above `e_min` (CM), or two "
        "photons that surely make clusters above `veto_e` (CM); weights unchanged. Its cuts "
        "must not be tighter than the features' single_photon_e_min / second_photon_e_max",
    )
    charged_filter: ChargedFilterSpec | None = Field(
        None,
        description="drop, before the simulation, the events without `count` charged "
        "particles in the CDC acceptance above `p_min` [GeV] (they cannot pass a selection "
        "that needs that many identified tracks); weights unchanged, so the kept events still "
        "stand for their own cross section",
    )

    @model_validator(mode="after")
    def _events_or_file(self) -> BackgroundSpec:
        # the filter runs between the generator and the simulation: read events never pass it
        for name, spec in (
            ("charged_filter", self.charged_filter),
            ("single_photon_filter", self.single_photon_filter),
        ):
            if spec is not None and (self.file or self.ntuple):
                raise ValueError(
                    f"background {self.process}: {name} filters generated events, not a "
                    "file or an ntuple"
                )
        if self.charged_filter is not None and self.single_photon_filter is not None:
            raise ValueError(
                f"background {self.process}: one truth filter per sample (charged_filter or "
                "single_photon_filter)"
            )
        if self.lost_photon_share and (self.process != "gg" or self.file or self.ntuple):
            raise ValueError(
                f"background {self.process}: lost_photon_share is an option of the built-in gg "
                "generator"
            )
        for name, share, takes in (
            ("ring_share", self.ring_share, ("ee",)),
            ("single_share", self.single_share, ("ee", "gg")),
            ("soft_pair_share", self.soft_pair_share, ("eemumu",)),
            ("escape_share", self.escape_share, ("mumu",)),
            ("hard_photon_share", self.hard_photon_share, ("eemumu",)),
        ):
            if share and (self.process not in takes or self.file or self.ntuple):
                raise ValueError(
                    f"background {self.process}: {name} is an option of the built-in "
                    f"{' and '.join(takes)} generator{'s' if len(takes) > 1 else ''}"
                )
        if self.soft_pair_share + self.hard_photon_share >= 1:
            raise ValueError(
                f"background {self.process}: soft_pair_share + hard_photon_share must be below 1"
            )
        if self.ring_share + self.single_share >= 1:
            raise ValueError(
                f"background {self.process}: ring_share + single_share must be below 1"
            )
        if self.ntuple is not None:
            if self.cross_section_fb is None or self.n_generated is None:
                raise ValueError(
                    f"background {self.process}: an ntuple needs cross_section_fb and n_generated"
                )
            return self
        if self.file is None and self.n_events <= 0:
            raise ValueError(f"background {self.process}: give n_events > 0, a file or an ntuple")
        if self.in_acceptance and self.process != "eemumu":
            raise ValueError(f"background {self.process}: in_acceptance is an eemumu option")
        if self.tau_modes:
            if self.process != "tautau":
                raise ValueError(f"background {self.process}: tau_modes is a tautau option")
            if not all(0 < v < 1 for v in self.tau_modes.values()) or (
                sum(self.tau_modes.values()) >= 1
            ):
                raise ValueError(
                    f"background tautau: tau_modes {self.tau_modes} must each be in (0, 1) and "
                    "sum to less than 1 (the other modes need a share to stay unbiased)"
                )
        return self


class GenerateConfig(_Strict):
    signal: SignalSpec
    backgrounds: list[BackgroundSpec] = Field(min_length=1)
    energy_spread: bool = True


class SimulateConfig(_Strict):
    """Fast-simulation switches (numbers and their sources: docs/simulation.md)."""

    track_efficiency: float = Field(0.99, ge=0, le=1)
    track_pt_min: float = Field(0.1, ge=0, description="tracks reach the CDC above [GeV]")
    pt_resolution: tuple[float, float] = Field(
        (0.0011, 0.0025), description="sigma(pT)/pT = a pT [GeV] (+) b / beta: (a, b)"
    )
    angle_resolution: float = Field(1e-3, ge=0, description="track theta and phi [rad]")
    muon_id_efficiency: float = Field(0.89, ge=0, le=1, description="plateau, p > 1 GeV")
    pion_fake_rate: float = Field(0.014, ge=0, le=1, description="muonID > 0.5 for pions")
    electron_id_efficiency: float = Field(0.924, ge=0, le=1, description="plateau, p > 1 GeV")
    electron_pion_fake_rate: float = Field(0.0025, ge=0, le=1)
    beam_background_tracks: float = Field(
        0.05, ge=0, description="extra low-pT beam-background tracks per event"
    )
    beam_background_rate: float = Field(
        1.0, ge=0, description="beam-background ECL clusters per event (out of time, ~50 MeV)"
    )
    brems_probability: float = Field(
        0.3, ge=0, le=1, description="electron radiates a photon before the ECL"
    )
    cluster_e_min: float = Field(0.020, ge=0, description="clusters kept above [GeV]")
    beam_background_e_mean: float = Field(
        0.030, gt=0, description="beam-background cluster energy above 20 MeV: mean [GeV]"
    )
    timing_resolution: tuple[float, float] = Field(
        (1.0, 1.5),
        description="cluster time sigma [ns] = a / E[GeV] (+) b: (a, b); dt99 = 2.576 sigma",
    )
    seed_e_min: float = Field(0.010, gt=0, description="cluster seed crystals above [GeV]")
    digit_e_min: float = Field(0.0005, ge=0, description="crystal signals kept above [GeV]")
    em_profile: list[tuple[float, float]] = Field(
        [(0.7, 0.85), (3.5, 0.15)],
        min_length=1,
        description="EM lateral profile: (Gaussian width [cm], weight) pairs",
    )
    hadronic_profile: list[tuple[float, float]] = Field(
        [(2.5, 0.5), (7.0, 0.5)],
        min_length=1,
        description="hadronic lateral profile: (Gaussian width [cm], weight) pairs",
    )

    @field_validator("em_profile", "hadronic_profile")
    @classmethod
    def _positive_profile(cls, v: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if any(width <= 0 or weight < 0 for width, weight in v) or sum(w for _, w in v) <= 0:
            raise ValueError("profile pairs need widths > 0 [cm] and weights >= 0, not all 0")
        return v


class FeaturesConfig(_Strict):
    """Selection cuts of the feature builders (each search reads the ones it needs)."""

    muon_id_min: float = Field(0.5, ge=0, le=1, description="muonID cut on muon tracks")
    dimuon_pt_min: float = Field(
        0.3,
        ge=0,
        description="Z': the muon pair's transverse momentum in the CM frame above [GeV] "
        "(removes the pairs without hard radiation and most two-photon pairs)",
    )
    extra_ecl_max: float = Field(
        0.4,
        gt=0,
        description="Z': the ECL energy not matched to the tracks below [GeV, lab] (a photon "
        "that makes the recoil and is seen; Belle II, PRL 124, 141801 (2020))",
    )
    electron_id_min: float = Field(0.5, ge=0, le=1, description="electronID cut (LFV Z')")
    extra_photon_e_min: float = Field(0.1, ge=0, description="clusters counted as extra [GeV]")
    photon_e_min: float = Field(
        0.25, ge=0, description="ALP photon candidates: lab cluster energy above [GeV]"
    )
    single_photon_e_min: float = Field(
        0.5, ge=0, description="dark photon: the photon's CM energy above [GeV]"
    )
    second_photon_e_max: float = Field(
        1.0, gt=0, description="dark photon: veto a second cluster above this CM energy [GeV]"
    )
    triggers: list[str] | None = Field(
        None,
        description="L1 lines the selection accepts (any of them); default: the search's lines "
        "(Z'/LFV: trg_ffo; ALP: trg_hie, trg_lowe, trg_c4, trg_sp1; dark photon: trg_sp1-3); "
        "[] = none",
    )

    @field_validator("triggers")
    @classmethod
    def _known_lines(cls, v: list[str] | None) -> list[str] | None:
        known = ("trg_sp1", "trg_sp2", "trg_sp3", "trg_ffo", "trg_hie", "trg_lowe", "trg_c4")
        bad = [t for t in v or [] if t not in known]
        if bad:
            raise ValueError(f"unknown trigger line(s) {bad}; known: {', '.join(known)}")
        return v


class TrainConfig(_Strict):
    n_folds: int = Field(2, ge=2)
    mass_assignment: Literal["random_grid", "window", "all"] = Field(
        "random_grid",
        description="background mass hypotheses: random draws from the grid, the signal "
        "window the event falls in, or every hypothesis with weight 1/n",
    )
    mass_probabilities: list[float] | None = Field(
        None, description="random_grid: one probability per grid mass (normalised)"
    )
    optuna_trials: int = Field(
        0, ge=0, description="Optuna trials per model before the k-fold training (0: off)"
    )

    @field_validator("mass_probabilities")
    @classmethod
    def _non_negative(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and (any(p < 0 for p in v) or sum(v) <= 0):
            raise ValueError("mass_probabilities must be >= 0 and not all 0")
        return v


class PBDTConfig(_Strict):
    enabled: bool = True
    n_estimators: int = Field(200, gt=0)
    max_depth: int = Field(6, gt=0)
    learning_rate: float = Field(0.1, gt=0)
    n_jobs: int = Field(2, gt=0)
    early_stopping_rounds: int | None = Field(
        20, gt=0, description="stop when the validation loss stalls; keeps only the best trees"
    )
    validation_fraction: float = Field(0.1, gt=0, lt=0.5)


class PNNConfig(_Strict):
    enabled: bool = True
    hidden: list[int] = Field(default_factory=lambda: [64, 64, 64])
    epochs: int = Field(20, gt=0)
    batch_size: int = Field(2048, gt=0)
    learning_rate: float = Field(2e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    patience: int = Field(4, gt=0, description="early stopping on the validation loss")
    conditioning: Literal["concat", "film"] = Field(
        "concat", description="mass as an input (concat) or scaling every layer (film)"
    )
    punzi_epochs: int = Field(
        0, ge=0, description="Punzi-loss fine-tuning epochs after the BCE training (0: off)"
    )
    punzi_learning_rate: float = Field(3e-4, gt=0)
    processes: int = Field(
        1,
        ge=1,
        description="training processes: > 1 runs Lightning's DDP (gloo on CPU), each "
        "process taking its share of every batch",
    )


class ModelsConfig(_Strict):
    pbdt: PBDTConfig = PBDTConfig()
    pnn: PNNConfig = PNNConfig()


def _pnn_only() -> list[Literal["pbdt", "pnn"]]:
    return ["pnn"]


class EvaluateConfig(_Strict):
    baseline: Literal["published", "grid"] = Field(
        "published",
        description="the cut-based baseline the classifiers are compared with: the published "
        "search's selection step by step (docs/baselines.md), or the older threshold grid",
    )
    leave_one_out: list[float] | None = Field(
        None,
        description="grid masses [GeV] for the leave-one-mass-out test; default: the grid "
        "mass nearest the middle of the grid; [] = none",
    )
    leave_one_out_models: list[Literal["pbdt", "pnn"]] = Field(
        default_factory=_pnn_only, description="models the leave-one-out test trains"
    )


class MlflowConfig(_Strict):
    tracking_uri: str | None = Field(None, description="default: sqlite under <workdir>/mlruns")
    experiment: str | None = Field(None, description="default: the search name")


class Config(_Strict):
    """One search: what to generate, how to train, how to set limits."""

    search: Literal["zprime_invisible", "lfv_zprime", "alp", "dark_photon"]
    seed: int = 42
    luminosity_fb: float = Field(gt=0, description="integrated luminosity [fb^-1]")
    workdir: str = Field(".", description="data/, models/, results/, mlruns/ go here")
    generate: GenerateConfig
    simulate: SimulateConfig = SimulateConfig()
    features: FeaturesConfig = FeaturesConfig()
    train: TrainConfig = TrainConfig()
    models: ModelsConfig = ModelsConfig()
    evaluate: EvaluateConfig = EvaluateConfig()
    limits: LimitsConfig = LimitsConfig()
    mlflow: MlflowConfig = MlflowConfig()
    compute: ComputeConfig = ComputeConfig()

    @model_validator(mode="after")
    def _signal_fits_the_search(self) -> Config:
        from mlsearch.searches import search_info

        probabilities = self.train.mass_probabilities
        if probabilities is not None and len(probabilities) != len(self.generate.signal.masses):
            raise ValueError(
                f"train.mass_probabilities has {len(probabilities)} values for "
                f"{len(self.generate.signal.masses)} masses"
            )
        grid = self.generate.signal.masses
        off_grid = [m for m in self.evaluate.leave_one_out or [] if m not in grid]
        if off_grid:
            raise ValueError(f"evaluate.leave_one_out masses {off_grid} are not on the grid {grid}")
        processes = {b.process for b in self.generate.backgrounds}
        for name, unc in self.limits.uncertainties.items():
            unknown = set(unc.samples) - {"signal", "backgrounds"} - processes
            if unknown:
                raise ValueError(
                    f"limits.uncertainties.{name}.samples: {sorted(unknown)} are not samples of "
                    f"this config (signal, backgrounds, {', '.join(sorted(processes))})"
                )
        for bkg in self.generate.backgrounds:
            spec = bkg.single_photon_filter
            if spec is not None and self.search != "dark_photon":
                raise ValueError(
                    f"background {bkg.process}: single_photon_filter keeps what a single-photon "
                    f"selection can select; the {self.search} selection is not one (it would "
                    "lose events)"
                )
            if spec is not None and (
                spec.e_min > self.features.single_photon_e_min
                or spec.veto_e < self.features.second_photon_e_max
            ):
                raise ValueError(
                    f"background {bkg.process}: single_photon_filter (e_min {spec.e_min}, veto_e "
                    f"{spec.veto_e} GeV) would drop events the selection keeps: it needs e_min "
                    f"<= features.single_photon_e_min ({self.features.single_photon_e_min}) and "
                    f"veto_e >= features.second_photon_e_max "
                    f"({self.features.second_photon_e_max})"
                )
        allowed = search_info(self.search).signal_processes
        if self.generate.signal.process not in allowed:
            raise ValueError(
                f"search {self.search} takes the signal process {' or '.join(allowed)}, "
                f"not {self.generate.signal.process}"
            )
        for bkg in self.generate.backgrounds:
            charged = bkg.charged_filter
            if charged is not None and charged.pair_pt_min is not None:
                self._check_pair_filter(bkg.process, charged.pair_pt_min)
            if charged is not None and charged.extra_ecl_veto is not None:
                self._check_ecl_veto(bkg.process, charged.extra_ecl_veto)
        return self

    def _check_ecl_veto(self, process: str, veto: float) -> None:
        """An extra-ECL veto filter is exact only for the Z' selection's cut on the ECL energy
        not matched to the tracks, and only at or above it."""
        if self.search != "zprime_invisible":
            raise ValueError(
                f"background {process}: charged_filter.extra_ecl_veto drops what the Z' "
                f"selection's cut on the unmatched ECL energy drops; the {self.search} "
                "selection has no such cut (it would lose events)"
            )
        cut = self.features.extra_ecl_max
        if veto < cut:
            raise ValueError(
                f"background {process}: charged_filter.extra_ecl_veto {veto} GeV would drop "
                f"events the selection keeps: it needs >= features.extra_ecl_max ({cut})"
            )

    def _check_pair_filter(self, process: str, pair_pt_min: float) -> None:
        """A pair-pT filter is exact only below the Z' selection's pair-pT cut, with room
        for the momentum resolution (0.04-0.06 GeV on the pair's pT* for 5-7 GeV muons)."""
        if self.search != "zprime_invisible":
            raise ValueError(
                f"background {process}: charged_filter.pair_pt_min keeps what the Z' "
                f"selection's cut on the muon pair's pT* keeps; the {self.search} selection has "
                "no such cut (it would lose events)"
            )
        cut = self.features.dimuon_pt_min
        if pair_pt_min > cut - PAIR_PT_MARGIN:
            raise ValueError(
                f"background {process}: charged_filter.pair_pt_min {pair_pt_min} GeV would drop "
                f"events the selection keeps: it needs <= features.dimuon_pt_min ({cut}) - "
                f"{PAIR_PT_MARGIN} (the momentum resolution's margin)"
            )

    @property
    def root(self) -> Path:
        return Path(self.workdir)

    @property
    def leave_one_out_masses(self) -> list[float]:
        """The masses of the leave-one-mass-out test (default: the one nearest the middle)."""
        if self.evaluate.leave_one_out is not None:
            return list(self.evaluate.leave_one_out)
        grid = self.generate.signal.masses
        if len(grid) < 3:
            return []
        middle = (grid[0] + grid[-1]) / 2
        return [min(grid[1:-1], key=lambda m: abs(m - middle))]


def _apply_override(raw: dict[str, Any], override: str, source: str) -> None:
    if "=" not in override:
        raise ConfigError(f"--set {override!r}: expected KEY=VALUE, e.g. luminosity_fb=0.276")
    key, _, text = override.partition("=")
    value = yaml.safe_load(text) if text.strip() else None
    node: Any = raw
    parts = key.strip().split(".")
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            continue
        if not isinstance(node, dict):
            raise ConfigError(f"{source}: --set {key}: {'.'.join(parts[: i + 1])} is not a section")
        node = node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node, list) and last.isdigit() and int(last) < len(node):
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ConfigError(f"{source}: --set {key}: cannot set {last!r} inside a value")


def _allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    model: Any = Config
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            return []
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        model = args[0] if args and hasattr(args[0], "model_fields") else ann
    return sorted(model.model_fields) if hasattr(model, "model_fields") else []


def _format_error(err: dict[str, Any], source: str) -> str:
    loc = tuple(err["loc"])
    key = ".".join(str(p) for p in loc)
    if err["type"] == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(loc))
        return f"{source}: unknown key '{key}' (allowed here: {allowed})"
    if err["type"] == "missing":
        return f"{source}: missing required key '{key}'"
    if err["type"] == "value_error" and not isinstance(err.get("input"), str | int | float):
        # a check across several keys: the message names them; the input is a whole section
        where = f"'{key}': " if key else ""
        return f"{source}: {where}{str(err['msg']).removeprefix('Value error, ')}"
    return f"{source}: key '{key}': {err['msg']} (got {err.get('input')!r})"


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Read, override and validate a YAML config; raises ConfigError with one clear line."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})".replace("\n", " ")) from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    for item in overrides:
        _apply_override(raw, item, str(path))
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_error(dict(exc.errors()[0]), str(path))) from None


def config_hash(*parts: Any) -> str:
    """Stable 16-hex-digit content hash of config sections (pydantic models or JSON-able)."""
    payload = [p.model_dump(mode="json") if isinstance(p, BaseModel) else p for p in parts]
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
