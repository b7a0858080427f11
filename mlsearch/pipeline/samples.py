"""The samples a config asks for (signal per mass, one per background), each with its file
and cache key. Kept apart from the generate stage: the later stages need the list and the
keys, not the generators."""

from __future__ import annotations

import hashlib
from dataclasses import astuple, dataclass
from pathlib import Path

from mlsearch.config import Config
from mlsearch.errors import InputError
from mlsearch.generate.filters import ChargedFilter, SinglePhotonFilter, TruthFilter
from mlsearch.physics.acceptance import TrackAcceptance
from mlsearch.pipeline.cache import stage_key
from mlsearch.pipeline.paths import Paths

__all__ = ["SampleJob", "sample_jobs", "simulate_key"]


@dataclass(frozen=True)
class SampleJob:
    """One sample to generate: its file, its cache key and the generator arguments."""

    name: str
    process: str
    n_events: int
    mass: float | None
    coupling: float | None
    path: Path
    key: str
    is_signal: bool
    source: Path | None = None  # an LHE/HepMC3 file read instead of generating
    acceptance: TrackAcceptance | None = None  # e e mu mu: muons in the tracking acceptance
    ntuple: Path | None = None  # a basf2 ntuple read as the reconstructed sample
    cross_section_fb: float | None = None  # of the ntuple's sample
    n_generated: int | None = None
    tau_modes: tuple[tuple[str, float], ...] = ()  # tau tau: importance-sampled decay modes
    forced_misid: str | None = None  # simulation: importance-sampled fakes of this ID
    truth_filter: TruthFilter | None = None  # before the simulation
    #: share of the events drawn in the generator's focused topology (gamma gamma: a photon
    #: lost, lost_photon_share; e e: both leptons in the ECL outside the CDC, ring_share;
    #: e e mu mu: soft muon pairs with pT, soft_pair_share; mu mu: an ISR photon past the ECL
    #: with pT, escape_share)
    topology_share: float = 0.0
    track_loss: float | None = None  # simulation: importance-sampled tracking inefficiency
    #: e e: share of the events with both leptons down the beam pipe and the photon in the
    #: ECL (single_share)
    single_share: float = 0.0
    #: e e mu mu: share of the events with one photon near the beam energy (hard_photon_share)
    hard_photon_share: float = 0.0


def _signal_jobs(config: Config) -> list[SampleJob]:
    """One signal sample per mass of the grid, keyed by its own settings."""
    gen, sig = config.generate, config.generate.signal
    events = Paths.of(config).events
    out = []
    for mass in sig.masses:
        name = f"{sig.process}_m{mass:g}"
        source = sig.files.get(mass)
        key = stage_key(
            "generate", name, sig.n_events, sig.coupling, sig.invisible_br, gen.energy_spread,
            config.seed, _source_digest(source), *_split(config, sig.n_events), sig.radiation,
        )  # fmt: skip
        out.append(
            SampleJob(name, sig.process, sig.n_events, mass, sig.coupling,
                      events / f"{name}.parquet", key, True, source)
        )  # fmt: skip
    return out


def _background_jobs(config: Config) -> list[SampleJob]:
    """One sample per background process, keyed by its own settings (the e e mu mu filter
    by the tracking acceptance it applies)."""
    gen = config.generate
    events = Paths.of(config).events
    out = []
    for bkg in gen.backgrounds:
        acceptance = (
            TrackAcceptance(pt_min=config.simulate.track_pt_min) if bkg.in_acceptance else None
        )
        spec, photon = bkg.charged_filter, bkg.single_photon_filter
        charged = (
            ChargedFilter(spec.count, spec.p_min, spec.pair_pt_min, spec.extra_ecl_veto)
            if spec
            else None
        )
        single = SinglePhotonFilter(photon.e_min, photon.veto_e) if photon else None
        key = stage_key(
            "generate", bkg.process, bkg.n_events, gen.energy_spread, config.seed,
            _source_digest(bkg.file), bkg.in_acceptance,
            astuple(acceptance) if acceptance else None, _source_digest(bkg.ntuple),
            bkg.cross_section_fb, bkg.n_generated, *_split(config, bkg.n_events),
            *([sorted(bkg.tau_modes.items())] if bkg.tau_modes else []),
            *([_filter_key(charged)] if charged else []),
            *([("single_photon_filter", *astuple(single))] if single else []),
            *([("lost_photon_share", bkg.lost_photon_share)] if bkg.lost_photon_share else []),
            *([("ring_share", bkg.ring_share)] if bkg.ring_share else []),
            *([("soft_pair_share", bkg.soft_pair_share)] if bkg.soft_pair_share else []),
            *([("single_share", bkg.single_share)] if bkg.single_share else []),
            *([("escape_share", bkg.escape_share)] if bkg.escape_share else []),
            *([("hard_photon_share", bkg.hard_photon_share)] if bkg.hard_photon_share else []),
        )  # fmt: skip
        out.append(
            SampleJob(bkg.process, bkg.process, bkg.n_events, None, None,
                      events / f"{bkg.process}.parquet", key, False, bkg.file, acceptance,
                      bkg.ntuple, bkg.cross_section_fb, bkg.n_generated,
                      tuple(sorted((bkg.tau_modes or {}).items())), bkg.forced_misid,
                      charged or single,
                      bkg.lost_photon_share or bkg.ring_share or bkg.soft_pair_share
                      or bkg.escape_share,
                      bkg.track_loss,
                      bkg.single_share, bkg.hard_photon_share)
        )  # fmt: skip
    return out


def simulate_key(job: SampleJob, config: Config) -> str:
    """The cache key of a sample's reconstructed file: its truth file's key, the simulation
    settings and its importance sampling (the simulate stage writes it, the features stage
    checks it)."""
    bias = [("track_loss", job.track_loss)] if job.track_loss is not None else []
    return stage_key("simulate", job.key, config.simulate, *filter(None, [job.forced_misid]), *bias)


def sample_jobs(config: Config) -> list[SampleJob]:
    """The samples the config asks for, signals first, each keyed by its own settings (so a
    new mass on the grid generates only that mass)."""
    return _signal_jobs(config) + _background_jobs(config)


def _source_digest(path: Path | None) -> str | None:
    """Content hash of an external generator file (None for built-in generation)."""
    if path is None:
        return None
    if not path.is_file():
        raise InputError(f"{path}: generator file not found (from the config)")
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _split(config: Config, n_events: int) -> list[int]:
    """The partition size, as a cache-key component, only where it splits the sample (so
    samples within one partition keep their keys and events)."""
    size = config.compute.partition_events
    return [size] if n_events > size else []


def _filter_key(charged: ChargedFilter) -> tuple[object, ...]:
    """The charged filter's cache-key part: without the options added later (the pair cut,
    then the ECL veto) the key is the one of before, as the samples are unchanged."""
    fields = astuple(charged)
    if charged.extra_ecl_veto is not None:
        return fields
    return fields[: 2 if charged.pair_pt_min is None else 3]
