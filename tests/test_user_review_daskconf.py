"""What a user review of Dask configurations found: a whole (contiguous) float64 shard, or a
sweep's data, reached a worker unaligned (at any byte offset of Dask's message), where NumPy's
``D @ X.T`` takes another path and gave other last bits than this process, against the
documented bit-for-bit equality; an asynchronous client failed deep inside ("'coroutine'
object has no attribute 'items'"); and a sweep's relative ``data_dir`` was sent to the
workers as it was given, so a worker started in another folder could not find the data.

Clusters come from ``test_distributed``'s fixtures (a ``LocalCluster`` of two threads on
127.0.0.1, talking over TCP as worker processes do), but for the one test that needs a worker
process in another folder, which starts and closes its own.
"""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path

import numpy as np
import pytest

from distributed import Client

from functional_nn import distributed as dist
from functional_nn.optimizers import sgd
from functional_nn.types import FloatArray
from test_distributed import ACTIVATIONS, LOSS, _assert_bitwise, _data, _last, _params, _scheduler_address, client, deadline  # noqa: F401  # fixtures


def _unaligned(array: FloatArray) -> FloatArray:
    """A copy of ``array`` starting 3 bytes into a buffer, as a worker may receive it."""
    buffer = np.empty(array.nbytes + 3, np.uint8)
    copy: FloatArray = np.frombuffer(buffer[3:].data, dtype=array.dtype).reshape(array.shape)
    copy[...] = array
    assert not copy.flags.aligned
    return copy


def test_a_whole_float64_shard_and_a_sweeps_data_give_this_processs_bits_on_a_cluster(rng: np.random.Generator, client: Client) -> None:
    X, Y = _data(rng, m=200)
    shards = dist.split_shards(X, Y, 1)  # one block: all of X, contiguous, sent as Dask sends a buffer
    common = dict(activations=ACTIVATIONS, loss=LOSS, rounds=4, learning_rate=0.3)
    placed = dist.place_shards(client, shards)
    for local in (None, 2):
        here = _last(dist.train_rounds(shards, _params(), local_steps=local, **common))  # type: ignore[arg-type]
        there = _last(dist.train_rounds(placed, _params(), local_steps=local, **common))  # type: ignore[arg-type]
        _assert_bitwise(there.params, here.params)
    setting = dist.RunSettings((5, 7, 3), ACTIVATIONS, LOSS, sgd(0.3), epochs=4)  # whole-data batches: X itself in each step
    (swept,) = dist.sweep([setting], X, Y, dev=(X, Y), client=client)
    alone = dist.run_settings(setting, dist.SweepData(X, Y, (X, Y)))
    _assert_bitwise(swept.params, alone.params)
    assert swept.history == alone.history


def test_unaligned_shards_give_the_bits_of_aligned_ones(rng: np.random.Generator) -> None:
    X, Y = _data(rng, m=200)
    common = dict(activations=ACTIVATIONS, loss=LOSS, rounds=4, learning_rate=0.3)
    aligned = _last(dist.train_rounds([dist.Shard(X, Y)], _params(), **common))  # type: ignore[arg-type]
    unaligned = _last(dist.train_rounds([dist.Shard(_unaligned(X), _unaligned(Y))], _params(), **common))  # type: ignore[arg-type]
    _assert_bitwise(unaligned.params, aligned.params)


def test_an_asynchronous_client_is_refused_by_name_with_the_fix(rng: np.random.Generator, client: Client) -> None:
    X, Y = _data(rng, m=20)
    shards = dist.split_shards(X, Y, 2)
    setting = dist.RunSettings((5, 7, 3), ACTIVATIONS, LOSS, sgd(0.3), epochs=1)
    refused = r"client must be a synchronous distributed\.Client, got one made with asynchronous=True .*cluster_client\(\)"

    async def calls() -> None:
        async with Client(_scheduler_address(client), asynchronous=True) as ac:  # type: ignore[no-untyped-call]  # distributed's partial types
            with pytest.raises(TypeError, match=refused):
                dist.place_shards(ac, shards)
            with pytest.raises(TypeError, match=refused):
                dist.check_workers(ac)
            with pytest.raises(TypeError, match=refused):
                dist.sweep([setting], X, Y, client=ac)

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no coroutine left unawaited
        asyncio.run(calls())


def test_a_sweeps_relative_data_dir_is_found_by_a_worker_started_in_another_folder(
    rng: np.random.Generator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, Y = _data(rng, m=30)
    setting = dist.RunSettings((5, 4, 3), ACTIVATIONS, LOSS, sgd(0.3), epochs=2)
    (tmp_path / "worker").mkdir()
    (tmp_path / "driver").mkdir()
    monkeypatch.chdir(tmp_path / "worker")
    with warnings.catch_warnings(), dist.cluster_client(n_workers=1, timeout=30) as c:
        warnings.simplefilter("ignore", dist.SlowAllocatorWarning)
        monkeypatch.chdir(tmp_path / "driver")  # the worker process stays in tmp_path / "worker"
        (result,) = dist.sweep([setting], X, Y, client=c, data_dir="shared")
    _assert_bitwise(result.params, dist.run_settings(setting, dist.SweepData(X, Y)).params)
    assert list((tmp_path / "driver" / "shared" / "sweep-data").iterdir()) == []  # removed when the sweep ended
