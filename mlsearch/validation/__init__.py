"""Independent reference calculations (quadratures, closed forms, published values) that the
tests and scripts/validate_generators.py compare the generators with, and the truth-level
topologies the MC-sampling closure tests count (ee_topology.py)."""
