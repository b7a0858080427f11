"""Where the partitioned work of the generate, simulate and features stages runs: in this
process (default), on a dask.distributed LocalCluster, or on any running Dask scheduler
(a site cluster started with dask-jobqueue on Slurm/HTCondor: docs/scaling.md).

Every task is a pure function of its inputs (each partition derives its random stream from
the global seed and its own index), and results are gathered in submission order: the output
is identical bit for bit whatever runs it and however many workers there are.
"""

from __future__ import annotations

import atexit
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from mlsearch.errors import InputError, ResourceError

__all__ = ["Executor", "executor", "local_cluster", "map_tasks"]

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Maps a function over items; results come in item order, each as soon as it and all
    before it are done (so a stage can write finished samples while others still run)."""

    description: str

    def imap(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]: ...


class _Serial:
    description = "this process"

    def imap(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        return (fn(item) for item in items)


class _Dask:
    def __init__(self, client: Any, description: str) -> None:
        self.client = client
        self.description = description

    def imap(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Keeps at most two tasks per worker thread in flight and submits the next one as
        soon as any finishes, so a long task (a slow sample's partition) does not leave the
        other workers idle behind it; yields the results in item order, holding at most
        _BUFFERED per thread of finished results that wait for an earlier one. Reads
        ``items`` only as they are submitted: memory stays bounded however many partitions
        there are."""
        from distributed import as_completed

        threads = max(sum(self.client.nthreads().values()), 1)
        ahead, buffered = 2 * threads, _BUFFERED * threads
        source = enumerate(items)

        def results() -> Iterator[R]:
            flying = as_completed()
            position: dict[Any, int] = {}  # future in flight -> item index
            done: dict[int, R] = {}  # finished, waiting for an earlier item
            head = submitted = 0

            def refill() -> None:
                nonlocal submitted
                while len(position) < ahead and len(position) + len(done) < buffered:
                    item = next(source, None)
                    if item is None:
                        return
                    # pure=False: two equal-looking tasks (e.g. equal partitions) both run
                    future = self.client.submit(fn, item[1], pure=False)
                    position[future] = item[0]
                    flying.add(future)
                    submitted += 1

            refill()
            while head < submitted:
                if head in done:
                    result = done.pop(head)
                    head += 1
                    refill()
                    yield result
                    continue
                future = next(flying)
                done[position.pop(future)] = _result(future, fn)
                del future  # released: the worker may drop it
                refill()

        return results()


#: finished results per worker thread that may wait for an earlier, slower one
_BUFFERED = 16


def _result(future: Any, fn: Callable[..., Any]) -> Any:
    """The task's result; a task that kept killing its workers (Dask retries it on another
    one, ``distributed.scheduler.allowed-failures`` times) is a one-line error."""
    from distributed import KilledWorker

    try:
        return future.result()
    except KilledWorker as exc:
        raise ResourceError(
            f"a {getattr(fn, '__name__', 'stage')} task killed every Dask worker that ran it "
            f"({exc}): most likely out of memory; lower compute.partition_events or give the "
            "workers more memory, then rerun (finished outputs are kept)"
        ) from None


_CACHE: dict[tuple[str, int], _Dask] = {}


def local_cluster(workers: int, threads_per_worker: int = 1) -> Any:
    """A dask.distributed LocalCluster of ``workers`` processes (the kernels hold the GIL in
    places), bound to 127.0.0.1, its logs at ERROR only. The scheduler's HTTP server (health
    and metrics; the dashboard too where bokeh is installed) takes a free 127.0.0.1 port, not
    Dask's default 8787, which a second cluster or the user's own may hold."""
    import dask
    from distributed import LocalCluster

    # Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also switches off glibc's
    # adaptive mmap threshold: every large numpy temporary is then mmap'ed, faulted in and
    # unmapped, and the simulation spent 9 s of 36 in the kernel (2 s in one process). The
    # thread limits (OMP/MKL/OpenBLAS = 1: single-threaded workers) stay.
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        return LocalCluster(
            n_workers=workers, threads_per_worker=threads_per_worker, processes=True,
            host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
        )  # fmt: skip


def _start(scheduler: str, workers: int) -> _Dask:
    from distributed import Client

    if scheduler == "local":
        cluster = local_cluster(workers)
        client = Client(cluster)
        description = f"a local Dask cluster ({workers} workers)"
    else:
        try:
            client = Client(scheduler, timeout=20)
        except (OSError, TimeoutError) as exc:
            raise InputError(
                f"compute.scheduler {scheduler}: no Dask scheduler answers ({exc})"
            ) from None
        cluster = None
        description = f"the Dask scheduler at {scheduler}"

    def close() -> None:
        client.close()
        if cluster is not None:
            cluster.close()

    atexit.register(close)
    return _Dask(client, description)


def executor(scheduler: str | None, workers: int = 2) -> Executor:
    """The executor of ``compute.scheduler``: None runs in this process; "local" starts a
    LocalCluster with ``workers`` processes (once per process, reused by later stages); an
    address ("tcp://host:8786") connects to a running scheduler."""
    if scheduler is None:
        return _Serial()
    key = (scheduler, workers)
    if key not in _CACHE:
        _CACHE[key] = _start(scheduler, workers)
    return _CACHE[key]


def map_tasks(
    scheduler: str | None, workers: int, fn: Callable[[T], R], tasks: list[T]
) -> Iterator[R]:
    """``executor(scheduler, workers).imap(fn, tasks)``, the executor started only when there
    are tasks: a cached stage starts no cluster."""
    return executor(scheduler, workers).imap(fn, tasks) if tasks else iter(())
