"""ONNX export: per-fold and fold-averaged graphs, metadata, parity checks."""
