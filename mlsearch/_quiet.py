"""Silence libraries that configure their own loggers on import (Lightning, torch.onnx)."""

from __future__ import annotations

import logging

__all__ = ["quiet_loggers"]

_NOISY = (
    "lightning",
    "lightning.pytorch",
    "lightning.fabric",
    "lightning.pytorch.utilities.rank_zero",
    "torch.onnx",
    "torch.onnx._internal.exporter._registration",
    "onnxscript",
    "mlflow",
    "alembic",
)


def quiet_loggers() -> None:
    """Raise the noisy loggers to ERROR; call after importing the library."""
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.ERROR)
