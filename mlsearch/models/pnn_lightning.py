"""The Lightning module that trains a :class:`~mlsearch.models.pnn.PNNNetwork`.

At module level (not built inside a function) so that DDP's spawned processes can unpickle
it; imported only when a pNN is trained (lightning is a heavy import).
"""

from __future__ import annotations

import atexit
import json
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch import nn

from mlsearch._quiet import quiet_loggers

__all__ = ["PNNModule"]

# DDP's processes import this module first thing: Lightning's banners stay out of the output
quiet_loggers()


def _leave_process_group() -> None:
    """Destroy the gloo process group before the interpreter exits: left to the C++ static
    destructors, its threads made a DDP process abort at exit ("terminate called without an
    active exception", 1 fit in 4 here) after the training had finished. Lightning does this
    for NCCL only."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


atexit.register(_leave_process_group)


class PNNModule(L.LightningModule):
    """Weighted binary cross-entropy, AdamW; per-epoch train and validation losses averaged
    over the DDP processes. ``history_file``: where the first process writes the losses
    (spawned processes' Python objects do not come back to the parent)."""

    def __init__(
        self, net: nn.Module, learning_rate: float, weight_decay: float,
        history_file: Path | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        self.net = net
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.history_file = history_file
        self.train_losses: list[float] = []
        self.val_losses: list[float] = []
        self._epoch_loss: list[float] = []

    def _loss(self, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        x, y, w = batch
        logits = self.net(x).squeeze(-1)
        per_event = nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none")
        return (per_event * w).sum() / w.sum()

    def training_step(self, batch: tuple[torch.Tensor, ...], _: int) -> torch.Tensor:
        loss = self._loss(batch)
        self._epoch_loss.append(float(loss.detach()))
        return loss

    def on_train_epoch_end(self) -> None:
        mean = torch.tensor(float(np.mean(self._epoch_loss)))
        self.train_losses.append(float(self.trainer.strategy.reduce(mean, reduce_op="mean")))
        self._epoch_loss = []

    def validation_step(self, batch: tuple[torch.Tensor, ...], _: int) -> torch.Tensor:
        loss = self._loss(batch)
        self.log(
            "val_loss", loss, on_epoch=True, prog_bar=False, batch_size=len(batch[0]),
            sync_dist=True,  # every DDP process stops early at the same epoch
        )  # fmt: skip
        return loss

    def on_validation_epoch_end(self) -> None:
        val = self.trainer.callback_metrics.get("val_loss")
        if val is not None and not self.trainer.sanity_checking:
            self.val_losses.append(float(val))

    def on_fit_end(self) -> None:
        if self.history_file is not None and self.global_rank == 0:
            history = {"train_loss": self.train_losses, "val_loss": self.val_losses}
            self.history_file.write_text(json.dumps(history))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(
            self.net.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay
        )
