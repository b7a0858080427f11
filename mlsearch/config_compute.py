"""The ``compute`` section of a search config: where the partitioned stages run."""

from __future__ import annotations

from pydantic import Field, field_validator

from mlsearch.config_base import _Strict

__all__ = ["ComputeConfig"]


class ComputeConfig(_Strict):
    """Where the generate, simulate and features stages run their partitions."""

    scheduler: str | None = Field(
        None,
        description="None: this process; 'local': a dask.distributed LocalCluster; or a "
        "scheduler address (tcp://host:8786), e.g. of a dask-jobqueue cluster",
    )
    workers: int = Field(2, ge=1, description="LocalCluster worker processes")
    train_on_cluster: bool = Field(
        True,
        description="with a scheduler: the pBDT trains on its workers (xgboost.dask); false "
        "keeps the training in this process, which on one machine of few cores is the faster "
        "and gives the single-process model (the cluster then serves generate, simulate and "
        "features only)",
    )
    partition_events: int = Field(
        1_000_000,
        ge=20_000,
        multiple_of=20_000,  # the simulation's chunk: partitions stay chunk-aligned
        description="events per generation partition (partition k > 0 seeds from the "
        "global seed, the sample and k; the output does not depend on the workers)",
    )

    @field_validator("scheduler")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        if v is not None and v != "local" and "://" not in v:
            raise ValueError("expected 'local' or a scheduler address such as tcp://host:8786")
        return v
