"""Events from other generators: LHE (Les Houches, MadGraph) and HepMC3 (KKMC, BabaYaga, ...)
files into a :class:`~mlsearch.io.truth.TruthSample`, so they can replace any built-in
process.

Frames: a file whose beams are head-on along z (the generator's CM frame, or an asymmetric
head-on lab) is boosted to the beams' CM, rotated so the e- beam is along +z, and put into the
SuperKEKB lab frame with the tilted boost (:func:`~mlsearch.physics.beams.cms_to_lab`, nominal
beam energies). A file whose beams already have the crossing angle (px != 0) is taken as the
Belle II lab frame and left alone. ``frame="cms"`` / ``"lab"`` overrides the detection.

Weights: each event carries sigma * w_i / sum(w) [fb], with sigma from the file (LHE <init>
XSECUP summed over processes; HepMC3 the last event's cross section) or, if the file has none,
the mean event weight taken as pb.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Literal

import numpy as np
from numpy.typing import NDArray

from mlsearch.errors import InputError
from mlsearch.io.truth import TruthSample
from mlsearch.physics.beams import Beams, cms_to_lab
from mlsearch.physics.kinematics import beam_four_momenta, boost

__all__ = ["read_generator_file", "read_hepmc", "read_lhe"]

FloatArray = NDArray[np.float64]
Frame = Literal["auto", "cms", "lab"]
_Event = tuple[list[int], list[list[float]], list[list[float]], float]  # pdg, p4, vertex [cm], w


def read_generator_file(path: str | os.PathLike[str], frame: Frame = "auto") -> TruthSample:
    """Read an .lhe / .lhe.gz or .hepmc / .hepmc3 (/ .gz) file."""
    name = Path(path).name.lower().removesuffix(".gz")
    if name.endswith(".lhe"):
        return read_lhe(path, frame)
    if name.endswith((".hepmc", ".hepmc3", ".hepmc2")):
        return read_hepmc(path, frame)
    raise InputError(f"{path}: unknown generator file type (expected .lhe or .hepmc3)")


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt")
    return open(path)


def read_lhe(path: str | os.PathLike[str], frame: Frame = "auto") -> TruthSample:
    """Read a Les Houches event file (final-state particles: ISTUP = 1)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: LHE file not found")
    sigma_pb = 0.0
    beams: tuple[FloatArray, FloatArray] | None = None
    events: list[_Event] = []
    try:
        with _open_text(path) as fh:
            for tag, lines, lineno in _lhe_blocks(fh, path):
                if tag == "init":
                    head = lines[0].split()
                    ids, energies = (int(head[0]), int(head[1])), (float(head[2]), float(head[3]))
                    beams = _beams_from_init(ids, energies)
                    sigma_pb = sum(float(line.split()[0]) for line in lines[1:] if line.strip())
                else:
                    events.append(_lhe_event(lines, path, lineno))
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read LHE file ({exc})") from None
    if beams is None:
        raise InputError(f"{path}: no <init> block: not a Les Houches event file")
    return _sample(path, "lhe", events, sigma_pb, beams, frame)


def _lhe_blocks(fh: IO[str], path: Path) -> Iterator[tuple[str, list[str], int]]:
    """(tag, body lines, first line number) of each <init> and <event> block."""
    tag: str | None = None
    body: list[str] = []
    start = 0
    for lineno, line in enumerate(fh, 1):
        stripped = line.strip()
        if tag is None:
            for t in ("init", "event"):
                if stripped.startswith(f"<{t}") and not stripped.startswith(f"<{t}s"):
                    tag, body, start = t, [], lineno
        elif stripped.startswith(f"</{tag}"):
            yield tag, body, start
            tag = None
        elif not stripped.startswith(("<", "#")):
            body.append(stripped)
    if tag is not None:
        raise InputError(
            f"{path}: <{tag}> block opened at line {start} is never closed (truncated file?)"
        )


def _lhe_event(lines: list[str], path: Path, lineno: int) -> _Event:
    try:
        head = lines[0].split()
        n_up, weight = int(head[0]), float(head[2])
        pdg, p4 = [], []
        for line in lines[1 : 1 + n_up]:
            f = line.split()
            if int(f[1]) == 1:
                pdg.append(int(f[0]))
                p4.append([float(f[9]), float(f[6]), float(f[7]), float(f[8])])
        if len(lines) < 1 + n_up:
            raise ValueError(f"{n_up} particles announced, {len(lines) - 1} found")
    except (ValueError, IndexError) as exc:
        raise InputError(f"{path}: malformed <event> at line {lineno}: {exc}") from None
    return pdg, p4, [[0.0, 0.0, 0.0]] * len(pdg), weight


def _beams_from_init(
    ids: tuple[int, int], energies: tuple[float, float]
) -> tuple[FloatArray, FloatArray]:
    """(e- beam, e+ beam) four-momenta: beam 1 along +z, beam 2 along -z."""
    b1 = np.array([energies[0], 0.0, 0.0, energies[0]])
    b2 = np.array([energies[1], 0.0, 0.0, -energies[1]])
    if ids[0] == -11 and ids[1] == 11:
        return b2, b1
    return b1, b2


def read_hepmc(path: str | os.PathLike[str], frame: Frame = "auto") -> TruthSample:
    """Read a HepMC3 (or HepMC2) file with pyhepmc: final-state particles (status 1), their
    production vertices, the event weight and the cross section."""
    import pyhepmc

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: HepMC file not found")
    _check_hepmc_complete(path)
    events: list[_Event] = []
    sigma_pb = 0.0
    beams: tuple[FloatArray, FloatArray] | None = None
    try:
        with pyhepmc.open(path) as fh:
            for event in fh:
                to_gev = 1e-3 if event.momentum_unit == pyhepmc.Units.MEV else 1.0
                to_cm = 0.1 if event.length_unit == pyhepmc.Units.MM else 1.0
                pdg, p4, vtx = [], [], []
                for p in event.particles:
                    m = p.momentum
                    if p.status == 1:
                        pdg.append(int(p.pid))
                        p4.append([m.e * to_gev, m.px * to_gev, m.py * to_gev, m.pz * to_gev])
                        v = p.production_vertex
                        pos = v.position if v is not None else None
                        vtx.append(
                            [pos.x * to_cm, pos.y * to_cm, pos.z * to_cm] if pos else [0.0] * 3
                        )
                    elif p.status == 4 and beams is None and abs(p.pid) == 11:
                        beams = _hepmc_beams(event, to_gev)
                weights = event.weights
                events.append((pdg, p4, vtx, float(weights[0]) if len(weights) else 1.0))
                xs = event.cross_section
                if xs is not None and xs.xsec() > 0:
                    sigma_pb = float(xs.xsec())
    except (OSError, RuntimeError, ValueError) as exc:
        raise InputError(f"{path}: cannot read HepMC file ({exc})") from None
    if not events:
        raise InputError(f"{path}: no events (not a HepMC file, or empty)")
    if beams is None:
        em, ep = beam_four_momenta()
        beams = (em, ep)
    return _sample(path, "hepmc", events, sigma_pb, beams, frame)


def _check_hepmc_complete(path: Path) -> None:
    """A plain-text HepMC file ends with its END_EVENT_LISTING line; without it the file was
    cut (a copy or a generator that died), and the reader would drop the last event quietly
    (pyhepmc only prints to stderr)."""
    with path.open("rb") as fh:
        head = fh.read(64)
        if not head.startswith(b"HepMC::"):  # compressed or another flavour: not checked
            return
        fh.seek(max(0, path.stat().st_size - 256))
        tail = fh.read().rstrip().rsplit(b"\n", 1)[-1]
    if not tail.endswith(b"END_EVENT_LISTING"):
        raise InputError(
            f"{path}: truncated HepMC file (no END_EVENT_LISTING line at the end; last line "
            f"{tail[:40].decode(errors='replace')!r})"
        )


def _hepmc_beams(event: object, to_gev: float) -> tuple[FloatArray, FloatArray]:
    found = {}
    for p in event.particles:  # type: ignore[attr-defined]
        if p.status == 4 and abs(p.pid) == 11:
            m = p.momentum
            found[p.pid] = np.array([m.e, m.px, m.py, m.pz]) * to_gev
    if 11 not in found or -11 not in found:
        raise InputError("the HepMC beams are not an e- and an e+ (status 4)")
    return found[11], found[-11]


def _sample(
    path: Path,
    kind: str,
    events: list[_Event],
    sigma_pb: float,
    beams: tuple[FloatArray, FloatArray],
    frame: Frame,
) -> TruthSample:
    if not events:
        raise InputError(f"{path}: no events")
    n = len(events)
    k = max(len(e[0]) for e in events)
    pdg = np.zeros((n, k), dtype=np.int32)
    p4 = np.zeros((n, k, 4))
    vertex = np.zeros((n, k, 3))
    weights = np.empty(n)
    for i, (ids, mom, vtx, w) in enumerate(events):
        pdg[i, : len(ids)] = ids
        if ids:
            p4[i, : len(ids)] = mom
            vertex[i, : len(ids)] = vtx
        weights[i] = w
    if not np.isfinite(p4).all() or not np.isfinite(weights).all():
        raise InputError(f"{path}: non-finite momenta or weights")
    e_beam, p_beam = beams
    in_lab = abs(e_beam[1]) > 1e-6 * e_beam[0]
    if frame == "cms" or (frame == "auto" and not in_lab):
        p4 = _to_belle2_lab(p4, e_beam, p_beam)
    if sigma_pb <= 0:
        sigma_pb = float(weights.mean())
    total = weights.sum()
    if total <= 0:
        raise InputError(f"{path}: event weights sum to {total:g}; expected > 0")
    sigma_fb = sigma_pb * 1e3
    per_event = sigma_fb * weights / total
    err = sigma_fb * float(np.sqrt((weights**2).sum())) / total if n > 1 else sigma_fb
    return TruthSample(
        kind,
        pdg,
        p4,
        per_event,
        sigma_fb,
        min(err, sigma_fb),
        {"source_file": str(path), "source_format": kind},
        vertex=vertex if np.any(vertex) else None,
    )


def _to_belle2_lab(p4: FloatArray, e_beam: FloatArray, p_beam: FloatArray) -> FloatArray:
    """Head-on beams (along +-z) -> their CM with e- along +z -> the SuperKEKB lab frame."""
    total = e_beam + p_beam
    beta = total[1:] / total[0]
    cms = boost(p4, beta)
    if boost(e_beam, beta)[3] < 0:  # e- along -z in the file: rotate by pi about x
        cms = cms * np.array([1.0, 1.0, -1.0, -1.0])
    em, ep = beam_four_momenta()
    n = p4.shape[0]
    lab = cms_to_lab(cms, Beams(np.tile(em, (n, 1)), np.tile(ep, (n, 1))))
    return np.where(p4[..., :1] > 0, lab, 0.0)  # empty slots (E = 0) stay empty
