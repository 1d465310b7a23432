"""train_mnist.py's data-parallel mode: the MNIST run as rounds on a Dask cluster, read as epochs.

Imported only when a run asks for a cluster (``--workers``, ``--scheduler``,
``--local-steps``, ``--shards`` or ``DASK_SCHEDULER_ADDRESS``), so a single-process run
never imports Dask. Each shard of the training set goes to one worker once; each round
sends the parameters. ``--batch-size`` stays the global batch: each shard draws
``ceil(batch / shards)`` columns a step, and an epoch is ``ceil(largest shard / that)``
steps: about the single-process run's number (the rounding up can make it fewer: 10 samples
in batches of 9 over 2 shards take one step an epoch, not two), whether the rounds are
synchronous (one step of the union of the shards' batches) or local SGD (``--local-steps K``:
each worker makes ``K`` steps on its own batches, then the parameters are averaged), and
``K = 1`` with plain SGD is the synchronous run.
"""

from __future__ import annotations

import argparse
import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import _cli  # scripts/_cli.py: counts with their units
from functional_nn import distributed as dist
from functional_nn.fold_state import TrainState
from functional_nn.optimizers import Optimizer
from functional_nn.data.augmentation import Augmentation
from functional_nn.types import Activation, FloatArray, Loss, Params


def epoch_states(
    args: argparse.Namespace,
    settings: Any,  # Any: train_mnist.Settings; importing it here would make the scripts import each other
    X: FloatArray,
    Y: FloatArray,
    dev: tuple[FloatArray, FloatArray],
    params: Params,
    activations: Sequence[Activation],
    loss: Loss,
    make_optimizer: Callable[[Any, int], Optimizer],
    waited: list[float],
    say: Callable[[str], None],
    augmentation: Augmentation | None = None,
) -> tuple[Iterator[TrainState], int]:
    """Connect, place the shards, and return the lazy epoch states and the number of workers.

    Connection and placement happen now, so their errors come before any training;
    ``waited`` is kept up to date with the seconds each round waited on the cluster.
    """
    stack = contextlib.ExitStack()
    try:
        client = stack.enter_context(dist.cluster_client(args.scheduler, n_workers=args.workers, dashboard=args.dashboard))
        workers = dist.check_workers(client)
        n_shards = args.shards or len(workers)
        shards = dist.place_shards(client, dist.split_shards(X, Y, n_shards))
        K: int | None = args.local_steps
        largest = max(int(shard.X.shape[1]) for shard in shards.shards)
        batch = settings.batch_size
        if batch is not None:
            batch = math.ceil(batch / n_shards)
        steps_per_pass = 1 if batch is None else math.ceil(largest / batch)
        rounds = settings.epochs * steps_per_pass if K is None else math.ceil(settings.epochs * steps_per_pass / K)
        optimizer = make_optimizer(settings, rounds * (K or 1))
        address = getattr(client.scheduler, "address", "?")
        mode = "synchronous rounds" if K is None else f"local SGD, {_cli.counted(K, 'step')} a round"
        say(
            f"cluster at {address}: {_cli.counted(len(workers), 'worker')}, {_cli.counted(n_shards, 'shard')} of <= {largest} samples, {mode}, "
            + ("full shards" if batch is None else f"batches of {batch} a shard")
            + f", {_cli.counted(rounds, 'round')}"
        )
        states = dist.train_rounds(
            shards, params, activations=activations, loss=loss, rounds=rounds, optimizer=optimizer, batch_size=batch,
            local_steps=K, seed=settings.seed, keep_probs=settings.keep_prob, max_norm=settings.max_norm,
            augmentation=augmentation,
        )  # fmt: skip
    except BaseException:  # the cluster closed on any failure before the states are handed over
        stack.close()
        raise

    def follow() -> Iterator[TrainState]:
        with stack:
            for state, rounds_state in dist.epoch_states(states, activations=activations, loss=loss, dev=dev):
                waited[:] = [record.waiting for record in rounds_state.history]
                yield state

    return follow(), len(workers)
