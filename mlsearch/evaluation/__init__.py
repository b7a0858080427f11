"""Per-mass metrics and plots of the trained classifiers."""
