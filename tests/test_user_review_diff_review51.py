"""Review of the session's sample weights (diff review 51): what a user's inputs broke."""

from __future__ import annotations

from typing import Any

import numpy as np

from functional_nn import distributed as dist
from functional_nn.data import one_hot
from functional_nn.initializers import initialize_parameters
from functional_nn.optimizers import sgd
from functional_nn.types import Params


def _params() -> Params:
    return initialize_parameters([5, 4, 2], np.random.default_rng(1))


def test_weighted_rounds_on_shards_whose_worker_has_gone_place_them_again(rng: np.random.Generator) -> None:
    """A worker holding a placed shard leaves the cluster (retired, or crashed and restarted
    under another address) before a weighted run: the run sends the shard again to a living
    worker, as an unweighted run's round does, rather than sending its weights to the worker
    that is gone (Dask's "No valid workers found" after the client's timeout)."""
    X = rng.standard_normal((5, 40))
    Y = one_hot((X[0] > 0).astype(np.int64), 2, dtype=np.float64)
    w = rng.uniform(0.5, 3.0, 40)
    w[3] = 0.0  # shard 0 loses a sample: placed again without it, on its (living) holder
    shards = dist.split_shards(X, Y, 2)
    common: dict[str, Any] = dict(
        activations=("relu", "softmax"), loss="categorical_cross_entropy", rounds=2, optimizer=sgd(0.1), sample_weight=w
    )
    here = list(dist.train_rounds(shards, _params(), **common))[-1]
    with dist.cluster_client(n_workers=3, processes=False, timeout=10) as client:
        placed = dist.place_shards(client, shards)
        client.retire_workers([placed.holders[0]], close_workers=True)
        there = list(dist.train_rounds(placed, _params(), **common))[-1]
        assert placed.replaced == 1
        assert set(placed.holders) <= set(client.scheduler_info(n_workers=-1)["workers"])
    for key in here.params:
        assert np.array_equal(there.params[key], here.params[key])
    assert [r.cost for r in there.history] == [r.cost for r in here.history]
