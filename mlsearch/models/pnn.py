"""PyTorch Lightning parametrised neural network (Baldi et al., EPJC 76 (2016) 235).

The mass is concatenated to the features; standardisation is a module inside the network so
the exported ONNX graph carries its own preprocessing.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from numpy.typing import NDArray
from torch import nn

from mlsearch._quiet import quiet_loggers
from mlsearch.config import PNNConfig
from mlsearch.errors import ConfigError
from mlsearch.models.punzi_loss import PunziTarget, punzi_loss
from mlsearch.scoring import stack_inputs

__all__ = ["PNN", "PNNNetwork"]


class Standardise(nn.Module):
    """(x - mean) / std with fixed buffers, set from the training data."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, n_inputs: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_inputs))
        self.register_buffer("std", torch.ones(n_inputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class PNNNetwork(nn.Module):
    """Standardise -> MLP (SiLU) -> logit; ``probability`` applies the sigmoid.

    ``conditioning``: "concat" feeds the (standardised) mass to the first layer with the
    features; "film" keeps it out of the trunk and lets it scale and shift every hidden
    layer, h -> h (1 + gamma_k(m)) + beta_k(m) (feature-wise linear modulation, Perez et al.,
    AAAI 2018), so the mass can change what each unit responds to at every depth.
    """

    def __init__(self, n_inputs: int, hidden: list[int], conditioning: str = "concat") -> None:
        super().__init__()
        if conditioning not in ("concat", "film"):
            raise ConfigError(f"unknown conditioning {conditioning!r}: concat or film")
        self.conditioning = conditioning
        self.standardise = Standardise(n_inputs)
        width = n_inputs if conditioning == "concat" else n_inputs - 1
        self.layers = nn.ModuleList()
        for h in hidden:
            self.layers.append(nn.Linear(width, h))
            width = h
        self.out = nn.Linear(width, 1)
        self.act = nn.SiLU()
        self.film = (
            nn.Sequential(nn.Linear(1, 32), nn.SiLU(), nn.Linear(32, 2 * sum(hidden)))
            if conditioning == "film"
            else None
        )
        self.hidden = list(hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.standardise(x)
        if self.film is None:
            h = z
            for layer in self.layers:
                h = self.act(layer(h))
            return self.out(h)
        h, m = z[:, :-1], z[:, -1:]
        mod = self.film(m)
        offset = 0
        for layer, width in zip(self.layers, self.hidden, strict=True):
            gamma = mod[:, offset : offset + width]
            beta = mod[:, offset + width : offset + 2 * width]
            offset += 2 * width
            h = self.act(layer(h)) * (1 + gamma) + beta
        return self.out(h)


class _Probability(nn.Module):
    def __init__(self, net: PNNNetwork) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(x))


class _Batches(torch.utils.data.IterableDataset[tuple[torch.Tensor, ...]]):
    """Whole-batch slices of in-memory tensors: per-sample indexing is 6x slower."""

    def __init__(self, tensors: tuple[torch.Tensor, ...], batch_size: int, seed: int | None):
        self.tensors = tensors
        self.batch_size = batch_size
        self.seed = seed
        self.epoch = 0

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        n = self.tensors[0].shape[0]
        if self.seed is None:
            order = torch.arange(n)
        else:
            gen = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(n, generator=gen)
            self.epoch += 1
        # under DDP every process draws the same order and takes its share of each batch:
        # the processes together see the batch of one process, and the same number of steps
        dist = torch.distributed
        rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size]
            if len(idx) >= world:
                yield tuple(t[idx[rank::world]] for t in self.tensors)


def _ddp(processes: int) -> Any:
    """Lightning's strategy for ``processes``: DDP over spawned processes that average
    their gradients with gloo (CPU), or the single-device default."""
    if processes == 1:
        return "auto"
    from lightning.pytorch.strategies import DDPStrategy

    # spawn, not fork: a forked child of a process with threads (a Dask client, MLflow)
    # can deadlock on a lock held by a thread that does not exist in the child (seen here).
    # (forkserver gave losses that differ from the single process and was no faster)
    return DDPStrategy(process_group_backend="gloo", start_method="spawn")


@contextlib.contextmanager
def _history_file(processes: int) -> Iterator[Path | None]:
    """Where the first DDP process leaves the loss history (the spawned processes' Python
    objects do not come back; the weights do, through Lightning)."""
    if processes == 1:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="mlsearch-ddp-") as tmp:
        yield Path(tmp) / "history.json"


class PNN:
    """Lightning-trained pNN with weighted BCE and early stopping on a validation split."""

    kind = "pnn"

    def __init__(self, params: PNNConfig, seed: int) -> None:
        self.params = params
        self.seed = seed
        self.net: PNNNetwork | None = None
        self.history: dict[str, list[float]] = {}

    def fit(
        self,
        features: NDArray[np.float64],
        mass: NDArray[np.float64],
        label: NDArray[np.integer],
        weight: NDArray[np.float64],
        punzi: PunziTarget | None = None,
    ) -> None:
        """Cross-entropy training with early stopping, then (``punzi_epochs`` > 0 and a
        ``punzi`` target) Punzi-loss fine-tuning: one full-batch step per epoch."""
        import lightning as L
        from lightning.pytorch.callbacks import EarlyStopping

        quiet_loggers()
        L.seed_everything(self.seed, verbose=False)
        torch.use_deterministic_algorithms(True)
        x = torch.from_numpy(stack_inputs(features, mass))
        y = torch.tensor(np.asarray(label), dtype=torch.float32)
        w = torch.as_tensor(weight / np.mean(weight), dtype=torch.float32)
        net = PNNNetwork(x.shape[1], list(self.params.hidden), self.params.conditioning)
        net.standardise.mean.copy_(x.mean(0))
        net.standardise.std.copy_(x.std(0).clamp_min(1e-6))
        rng = np.random.default_rng(self.seed)
        is_val = rng.uniform(size=len(y)) < 0.1
        tr, va = torch.from_numpy(~is_val), torch.from_numpy(is_val)
        train = _Batches((x[tr], y[tr], w[tr]), self.params.batch_size, self.seed)
        val = _Batches((x[va], y[va], w[va]), 8 * self.params.batch_size, None)
        from mlsearch.models.pnn_lightning import PNNModule

        processes = self.params.processes
        trainer = L.Trainer(
            max_epochs=self.params.epochs,
            accelerator="cpu",
            devices=processes,
            strategy=_ddp(processes),
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            deterministic=True,
            num_sanity_val_steps=0,
            callbacks=[EarlyStopping("val_loss", patience=self.params.patience)],
        )
        loader = torch.utils.data.DataLoader(train, batch_size=None)
        val_loader = torch.utils.data.DataLoader(val, batch_size=None)
        with _history_file(processes) as history:
            module = PNNModule(net, self.params.learning_rate, self.params.weight_decay, history)
            trainer.fit(module, loader, val_loader)
            self.history = (
                json.loads(history.read_text())
                if history is not None
                else {"train_loss": module.train_losses, "val_loss": module.val_losses}
            )
        if self.params.punzi_epochs and punzi is not None:
            self.history["punzi_loss"] = self._fine_tune(net, x, punzi)
        self.net = net.eval()

    def _fine_tune(self, net: PNNNetwork, x: torch.Tensor, target: PunziTarget) -> list[float]:
        net.train()
        optimiser = torch.optim.Adam(net.parameters(), lr=self.params.punzi_learning_rate)
        losses = []
        for _ in range(self.params.punzi_epochs):
            optimiser.zero_grad()
            loss = punzi_loss(net, x, target)
            loss.backward()
            optimiser.step()
            losses.append(float(loss.detach()))
        return losses

    def _require(self) -> PNNNetwork:
        if self.net is None:
            raise RuntimeError("the pNN is not trained or loaded")
        return self.net

    def score(
        self, features: NDArray[np.float64], mass: NDArray[np.float64]
    ) -> NDArray[np.float32]:
        net = self._require()
        with torch.no_grad():
            logits = net(torch.from_numpy(stack_inputs(features, mass)))
            return torch.sigmoid(logits).numpy().reshape(-1)

    def save(self, path: Path) -> None:
        net = self._require()
        torch.save(
            {"hidden": net.hidden, "conditioning": net.conditioning, "state": net.state_dict()},
            path,
        )

    def load(self, path: Path) -> None:
        blob = torch.load(path, weights_only=True)  # never unpickle arbitrary objects
        n_inputs = blob["state"]["standardise.mean"].shape[0]
        net = PNNNetwork(n_inputs, blob["hidden"], blob.get("conditioning", "concat"))
        net.load_state_dict(blob["state"])
        self.net = net.eval()

    def to_onnx(self, n_features: int) -> onnx.ModelProto:
        net = self._require()
        quiet_loggers()
        example = torch.zeros(4, n_features + 1)
        program = torch.onnx.export(
            _Probability(net).eval(),
            (example,),
            dynamo=True,
            input_names=["input"],
            output_names=["score"],
            dynamic_shapes=({0: torch.export.Dim("N")},),
            opset_version=18,
            verbose=False,
        )
        if program is None:
            raise RuntimeError("torch.onnx.export returned no program")
        return program.model_proto
