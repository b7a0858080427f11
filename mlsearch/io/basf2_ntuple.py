"""basf2 ntuples (VariablesToNtuple layout) <-> our reconstructed-event schema, with uproot.

Layout written and read (one ROOT file, three trees, all variable branches double as basf2
writes them, plus the bookkeeping branches ``__experiment__``, ``__run__``, ``__event__``
(int) and, in candidate trees, ``__candidate__`` and ``__ncandidates__``):

* ``tracks``: one row per charged-particle candidate (e.g. VariablesToNtuple('mu+:all', ...,
  treename='tracks')): px, py, pz, charge, muonID, clusterE, mcPDG;
* ``clusters``: one row per photon candidate ('gamma:all'): clusterE, clusterTheta,
  clusterPhi, clusterReg and the other cluster variables present;
* ``event``: event-wise, one row per event: ``__weight__`` (1 for our MC), ``weight`` (our
  events per fb^-1) and the trigger bits (``trg_*``, as 0/1 doubles).

Rows are grouped into events by (__experiment__, __run__, __event__). Branch names follow the
basf2 ROOT-compatible spelling of the variable (:func:`branch_name`); analysts' aliases are
accepted through ``aliases`` (our name -> branch).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
from numpy.typing import NDArray

from mlsearch.errors import InputError
from mlsearch.io.atomic import atomic_path
from mlsearch.io.basf2_names import basf2_branch_name as branch_name

__all__ = ["branch_name", "read_basf2_ntuple", "write_basf2_ntuple"]

TRACK_REQUIRED = ("px", "py", "pz", "charge")
TRACK_OPTIONAL = ("muonID", "electronID", "clusterE", "mcPDG")
CLUSTER_REQUIRED = ("clusterE", "clusterTheta", "clusterPhi")
_BOOK = ("__experiment__", "__run__", "__event__")


def write_basf2_ntuple(reco: ak.Array, path: str | os.PathLike[str]) -> None:
    """Write reconstructed events as a basf2-style ntuple (atomically)."""
    import uproot

    n = len(reco)
    event_no = ak.to_numpy(reco.event).astype(np.int32)
    with atomic_path(path) as tmp, uproot.recreate(tmp) as out:
        for tree, records in (("tracks", reco.tracks), ("clusters", reco.clusters)):
            counts = ak.to_numpy(ak.num(records))
            flat = ak.flatten(records)
            ev = np.repeat(event_no, counts)
            cand = (np.arange(len(ev)) - np.repeat(np.cumsum(counts) - counts, counts)).astype(
                np.int32
            )
            branches: dict[str, NDArray[Any]] = {
                "__experiment__": np.zeros(len(ev), np.int32),
                "__run__": np.zeros(len(ev), np.int32),
                "__event__": ev,
                "__candidate__": cand,
                "__ncandidates__": np.repeat(counts, counts).astype(np.int32),
            }
            for field in ak.fields(flat):
                branches[branch_name(field)] = ak.to_numpy(flat[field]).astype(np.float64)
            out[tree] = branches
        event: dict[str, NDArray[Any]] = {
            "__experiment__": np.zeros(n, np.int32),
            "__run__": np.zeros(n, np.int32),
            "__event__": event_no,
            "__weight__": np.ones(n),
            "weight": ak.to_numpy(reco.weight).astype(np.float64),
        }
        for field in reco.fields:
            if field.startswith("trg_"):
                event[field] = ak.to_numpy(reco[field]).astype(np.float64)
        out["event"] = event


def _tree(file: Any, path: Path, name: str) -> Any:
    if name not in file:
        trees = sorted({k.split(";")[0] for k in file.keys()})
        raise InputError(f"{path}: no tree '{name}' (trees: {', '.join(trees) or 'none'})")
    return file[name]


def _branches(
    tree: Any, path: Path, name: str, wanted: dict[str, str], required: tuple[str, ...]
) -> dict[str, NDArray[Any]]:
    present = set(tree.keys())
    missing = [
        f"{ours} (branch '{wanted[ours]}')" for ours in required if wanted[ours] not in present
    ]
    missing += [b for b in _BOOK if b not in present]
    if missing:
        raise InputError(f"{path}: tree '{name}' lacks {', '.join(missing)}")
    names = {ours: br for ours, br in wanted.items() if br in present}
    arrays = tree.arrays(list(names.values()) + list(_BOOK), library="np")
    out = {ours: arrays[br] for ours, br in names.items()}
    out.update({b: arrays[b] for b in _BOOK})
    return out


def read_basf2_ntuple(
    path: str | os.PathLike[str],
    aliases: dict[str, str] | None = None,
    track_tree: str = "tracks",
    cluster_tree: str = "clusters",
    event_tree: str = "event",
) -> ak.Array:
    """Read a basf2 ntuple (layout in the module docstring) into reconstructed events.

    ``aliases`` maps our variable names to the file's branch names (e.g. {"px": "mu_px"}).
    Missing trees, branches or a corrupt file raise InputError naming file, tree and branch.
    """
    import uproot

    path = Path(path)
    aliases = aliases or {}
    if not path.is_file():
        raise InputError(f"{path}: ntuple not found")
    try:
        file = uproot.open(path)
    except Exception as exc:  # uproot raises many types on a damaged file
        raise InputError(
            f"{path}: not a readable ROOT file ({type(exc).__name__}: {exc})"
        ) from None
    trees = (track_tree, cluster_tree, event_tree)
    try:
        with file:
            return _read(file, path, aliases, *trees)
    except InputError:
        raise
    except Exception as exc:  # a truncated file fails only when its baskets are read
        raise InputError(
            f"{path}: cannot read the ntuple, truncated or damaged? ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())})"
        ) from None


def _read(
    file: Any, path: Path, aliases: dict[str, str], track_tree: str, cluster_tree: str,
    event_tree: str,
) -> ak.Array:  # fmt: skip
    t_tree = _tree(file, path, track_tree)
    c_tree = _tree(file, path, cluster_tree)
    t_names = {v: aliases.get(v, branch_name(v)) for v in TRACK_REQUIRED + TRACK_OPTIONAL}
    c_fields = [k for k in c_tree.keys() if not k.startswith("__")]
    c_names = {v: aliases.get(v, branch_name(v)) for v in CLUSTER_REQUIRED}
    c_names.update({k: k for k in c_fields if k not in c_names.values()})
    tracks = _branches(t_tree, path, track_tree, t_names, TRACK_REQUIRED)
    clusters = _branches(c_tree, path, cluster_tree, c_names, CLUSTER_REQUIRED)
    events = None
    ev_extra: dict[str, NDArray[Any]] = {}
    if event_tree in file:
        events = _branches(_tree(file, path, event_tree), path, event_tree, {}, ())
        keep = [k for k in file[event_tree].keys() if k == "weight" or k.startswith("trg_")]
        ev_extra = file[event_tree].arrays(keep, library="np")
    return _assemble(tracks, clusters, events, ev_extra)


def _event_ids(arrays: dict[str, NDArray[Any]]) -> NDArray[np.int64]:
    return (
        arrays["__experiment__"].astype(np.int64) * 10**12
        + arrays["__run__"].astype(np.int64) * 10**7
        + arrays["__event__"].astype(np.int64)
    )


def _assemble(
    tracks: dict[str, NDArray[Any]],
    clusters: dict[str, NDArray[Any]],
    events: dict[str, NDArray[Any]] | None,
    ev_extra: dict[str, NDArray[Any]],
) -> ak.Array:
    t_id, c_id = _event_ids(tracks), _event_ids(clusters)
    ids = _event_ids(events) if events is not None else np.unique(np.concatenate([t_id, c_id]))
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    stray = np.setdiff1d(np.concatenate([t_id, c_id]), sorted_ids)
    if len(stray):
        raise InputError(
            f"{len(stray)} candidate rows belong to events missing from the event tree "
            f"(first: __event__ = {int(stray[0] % 10**7)})"
        )

    def group(arrays: dict[str, NDArray[Any]], row_ids: NDArray[np.int64]) -> ak.Array:
        pos = np.searchsorted(sorted_ids, row_ids)
        rows = np.argsort(pos, kind="stable")
        counts = np.bincount(pos, minlength=len(ids))
        fields = {k: v[rows] for k, v in arrays.items() if not k.startswith("__")}
        for k in ("charge", "mcPDG", "clusterReg"):
            if k in fields:
                fields[k] = fields[k].astype(np.int32)
        return ak.unflatten(ak.zip(fields), counts)

    n = len(ids)
    out: dict[str, Any] = {
        "event": (ids % 10**7)[order],
        "weight": ev_extra["weight"][order] if "weight" in ev_extra else np.ones(n),
        "tracks": group(tracks, t_id),
        "clusters": group(clusters, c_id),
    }
    for k, v in ev_extra.items():
        if k.startswith("trg_"):
            out[k] = v[order] > 0.5
    return ak.zip(out, depth_limit=1)
