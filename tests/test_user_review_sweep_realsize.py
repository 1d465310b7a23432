"""User review, sweeps at real size: how the data reaches a local cluster's workers.

``sweep`` without ``data_dir`` and ``place_shards`` scatter the data to the workers. Dask
sends scattered data through the scheduler unless told otherwise, and a ``local_cluster``'s
scheduler lives in the driver's process: MNIST's 190 MB (X 50,000x784 float32 and a dev set)
swept on 2 worker processes took the driver from 254 to 433 MB at its peak while it was sent
(4 runs, 3 alternating pairs each; 254-262 MB sent straight to the workers, the same results).
The scheduler serves a ``scatter`` request only for data that passes through it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from distributed import Client

from functional_nn import distributed as dist
from functional_nn.data import one_hot
from functional_nn.optimizers import sgd


def _scheduler_scatter_calls(dask_scheduler: Any) -> float:  # Any: a distributed.Scheduler
    counter = dask_scheduler.counters["op"]  # the scheduler's count of the requests it served, by name
    return float(sum(part.get("scatter", 0) for part in counter.components))


def _scatters_through_scheduler(client: Client) -> float:
    calls = client.run_on_scheduler(_scheduler_scatter_calls)  # type: ignore[no-untyped-call]  # distributed's partial types
    assert isinstance(calls, float)
    return calls


def test_a_sweeps_data_goes_straight_to_a_local_clusters_workers(rng: np.random.Generator) -> None:
    X = rng.standard_normal((5, 40))
    Y = one_hot((X[0] > 0).astype(np.int64), 2)
    settings = [dist.RunSettings((5, 4, 2), ("relu", "softmax"), "categorical_cross_entropy", sgd(0.1), 2, seed=s) for s in range(2)]
    with dist.cluster_client(n_workers=2, processes=False) as client:
        results = dist.sweep(settings, X, Y, client=client)
        assert _scatters_through_scheduler(client) == 0, "the sweep's data passed through the scheduler, in the driver's process"
    alone = dist.run_settings(settings[1], dist.SweepData(X, Y))
    assert all(np.array_equal(results[1].params[k], alone.params[k]) for k in alone.params)


def test_shards_go_straight_to_a_local_clusters_workers(rng: np.random.Generator) -> None:
    X = rng.standard_normal((5, 40))
    Y = one_hot((X[0] > 0).astype(np.int64), 2)
    with dist.cluster_client(n_workers=2, processes=False) as client:
        placed = dist.place_shards(client, dist.split_shards(X, Y, 2))
        assert _scatters_through_scheduler(client) == 0, "the shards passed through the scheduler, in the driver's process"
        assert len(set(placed.holders)) == 2
