"""Independent reference calculations (quadratures, closed forms, published values) that the
tests and scripts/validate_generators.py compare the generators with."""
