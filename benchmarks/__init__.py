"""Throughput benchmarks (not tests): ``./dev python -m benchmarks``."""
