"""Belle II fast simulation: tracking, ECL, PID. Entry point: :func:`simulate_events`."""

from mlsearch.detector.simulate import simulate_events

__all__ = ["simulate_events"]
