"""Where each stage writes, derived from the config's workdir and search name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlsearch.config import Config

__all__ = ["Paths"]


@dataclass(frozen=True)
class Paths:
    """data/<search>/{events,reco,features,train}, models/<search>, results/<search>."""

    root: Path
    search: str

    @classmethod
    def of(cls, config: Config) -> Paths:
        return cls(config.root, config.search)

    @property
    def data(self) -> Path:
        return self.root / "data" / self.search

    @property
    def events(self) -> Path:
        return self.data / "events"

    @property
    def reco(self) -> Path:
        return self.data / "reco"

    @property
    def features(self) -> Path:
        return self.data / "features.parquet"

    @property
    def train(self) -> Path:
        return self.data / "train"

    @property
    def models(self) -> Path:
        return self.root / "models" / self.search

    @property
    def results(self) -> Path:
        return self.root / "results" / self.search
