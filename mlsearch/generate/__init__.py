"""Event generators. :func:`generate_process` is the one entry point; each process lives in
its own module and returns a :class:`~mlsearch.generate.sample.TruthSample`."""

from __future__ import annotations

from mlsearch.generate.sample import TruthSample

__all__ = ["PROCESSES", "generate_process"]

PROCESSES = ("zprime", "mumu", "tautau")


def generate_process(
    process: str,
    n_events: int,
    seed: int,
    *,
    mass: float | None = None,
    coupling: float | None = None,
    invisible_br: str = "lmu_ltau",
    energy_spread: bool = True,
) -> TruthSample:
    """Generate ``n_events`` of ``process`` (one of PROCESSES); mass [GeV] for signals."""
    if process == "zprime":
        from mlsearch.generate.zprime import generate_zprime

        if mass is None or coupling is None:
            raise ValueError("zprime needs a mass [GeV] and a coupling g'")
        if invisible_br == "one":
            return generate_zprime(n_events, mass, coupling, seed, "one", energy_spread)
        return generate_zprime(n_events, mass, coupling, seed, "lmu_ltau", energy_spread)
    if process == "mumu":
        from mlsearch.generate.mumu import generate_mumu

        return generate_mumu(n_events, seed, energy_spread)
    if process == "tautau":
        from mlsearch.generate.tautau import generate_tautau

        return generate_tautau(n_events, seed, energy_spread)
    raise ValueError(f"unknown process {process!r}; known: {', '.join(PROCESSES)}")
