"""Data-parallel rounds, local SGD and sweeps: against ``train`` and on real local Dask clusters.

Every cluster here is a ``LocalCluster`` on 127.0.0.1 started by the test itself (threads in
this process where that is enough, processes where a worker must die), and every test is
bounded in time by a watchdog that dumps the stacks and ends the run if it hangs.
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask.config
import numpy as np
import pytest

from distributed import Client

from functional_nn import allocator
from functional_nn import distributed as dist
from functional_nn import fused
from functional_nn.data import one_hot
from functional_nn.fold_state import RoundState
from functional_nn.initializers import initialize_parameters
from functional_nn.losses import resolve_loss
from functional_nn.optimizers import adam, momentum, sgd
from functional_nn.propagation import backward_propagation, check_activations, forward_propagation
from functional_nn.training import train
from functional_nn.checkpoints import CheckpointError
from functional_nn.types import Activation, FloatArray, Loss

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_allocator import STEP_PAGES, page_faults_of_ten_steps  # noqa: E402  (run on a worker: imported there by name)

ACTIVATIONS: tuple[Activation, ...] = ("relu", "softmax")
LOSS: Loss = "categorical_cross_entropy"


@pytest.fixture(autouse=True)
def deadline() -> Iterator[None]:
    """End the whole run with a stack dump if one test takes over 90 s (a hung cluster)."""
    faulthandler.dump_traceback_later(90, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def _data(rng: np.random.Generator, m: int = 90, dtype: type[np.floating] = np.float64) -> tuple[FloatArray, FloatArray]:
    X = rng.standard_normal((5, m)).astype(dtype)
    labels = (X[0] + X[1] > 0).astype(np.int64) + (X[2] > 1).astype(np.int64)
    return X, one_hot(labels, 3, dtype=dtype)


def _params(dtype: type[np.floating] = np.float64) -> dict[str, FloatArray]:
    return initialize_parameters((5, 7, 3), np.random.default_rng(1), dtype=dtype)


def _last(states: Iterator[RoundState]) -> RoundState:
    state = None
    for state in states:
        pass
    assert state is not None
    return state


def _assert_bitwise(a: dict[str, FloatArray], b: dict[str, FloatArray]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype and np.array_equal(a[key], b[key]), key


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with dist.cluster_client(n_workers=2, processes=False) as c:
        yield c


# --------------------------------------------------------------------------------------------
# the pure pieces against train


def test_importing_the_module_does_not_import_dask() -> None:
    code = "import sys, functional_nn, functional_nn.distributed; print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"


def test_split_shards_cuts_contiguous_blocks_in_order(rng: np.random.Generator) -> None:
    X, Y = _data(rng, m=10)
    shards = dist.split_shards(X, Y, 3)
    assert [s.X.shape[1] for s in shards] == [4, 3, 3]
    assert np.array_equal(np.concatenate([s.X for s in shards], axis=1), X)
    assert np.array_equal(np.concatenate([s.Y for s in shards], axis=1), Y)


def test_shard_generator_is_the_spawned_generator() -> None:
    child = np.random.SeedSequence(7).spawn(3)[2].spawn(2)[1].spawn(5)[4]
    expected = np.random.default_rng(child).random(4)
    assert np.array_equal(dist.shard_generator(7, 2, 1, 4).random(4), expected)


@pytest.mark.parametrize("lambd", [0.0, 0.7])
@pytest.mark.parametrize("make_optimizer", [lambda: sgd(0.3), lambda: momentum(0.1)])
def test_synchronous_full_shard_rounds_equal_full_batch_train(rng: np.random.Generator, lambd: float, make_optimizer: object) -> None:
    X, Y = _data(rng)
    params = _params()
    optimizer = make_optimizer()  # type: ignore[operator]
    expected = train(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=25, optimizer=optimizer, lambd=lambd)
    got = _last(
        dist.train_rounds(dist.split_shards(X, Y, 4), params, activations=ACTIVATIONS, loss=LOSS, rounds=25, optimizer=optimizer, lambd=lambd)
    )
    for key in params:
        np.testing.assert_allclose(got.params[key], expected.params[key], rtol=0, atol=1e-12)
    assert got.params["W1"].dtype == np.float64
    # the round's cost is train's full-batch cost of the parameters the round started from
    np.testing.assert_allclose([r.cost for r in got.history], [r.cost for r in expected.history], rtol=1e-12)
    assert [r.accuracy for r in got.history] == [r.accuracy for r in expected.history]
    assert got.history[-1].epochs == 25.0 and got.optimizer_state.step == 25


def test_a_minibatch_round_is_one_step_on_the_union_of_the_shards_batches(rng: np.random.Generator) -> None:
    X, Y = _data(rng, m=40)
    shards = dist.split_shards(X, Y, 2)
    params = _params()
    state = _last(dist.train_rounds(shards, params, activations=ACTIVATIONS, loss=LOSS, rounds=3, learning_rate=0.5, batch_size=8, seed=3))
    # by hand: round r uses columns [8j, 8j + 8) of pass p of shard s's own permutation, r = 2p + j... of 20 columns: 3 batches a pass
    by_hand = dict(params)
    for r in range(3):
        pass_index, j = divmod(r, 3)
        Xs, Ys = [], []
        for s, shard in enumerate(shards):
            order = np.random.default_rng(np.random.SeedSequence(3).spawn(2)[s].spawn(1)[0].spawn(pass_index + 1)[pass_index]).permutation(20)
            columns = order[8 * j : 8 * j + 8]
            Xs.append(shard.X[:, columns])
            Ys.append(shard.Y[:, columns])
        AL, caches = forward_propagation(np.concatenate(Xs, axis=1), by_hand, ACTIVATIONS)
        grads = backward_propagation(AL, np.concatenate(Ys, axis=1), caches, LOSS)
        by_hand = {k: by_hand[k] - 0.5 * grads["d" + k] for k in by_hand}
    for key in params:
        np.testing.assert_allclose(state.params[key], by_hand[key], rtol=0, atol=1e-12)
    assert [r.samples for r in state.history] == [16, 16, 8]  # the last batch of a 20-column pass has 4 a shard


def _noise(X: FloatArray, rng: np.random.Generator) -> FloatArray:
    """A module-level augmentation (it pickles): Gaussian noise of 0.1 on every feature."""
    noisy: FloatArray = X + 0.1 * rng.standard_normal(X.shape).astype(X.dtype)
    return noisy


def test_augmented_rounds_distort_each_shards_batch_with_its_own_generator(rng: np.random.Generator) -> None:
    X, Y = _data(rng, m=40)
    shards = dist.split_shards(X, Y, 2)
    params = _params()
    state = _last(dist.train_rounds(shards, params, activations=ACTIVATIONS, loss=LOSS, rounds=2, learning_rate=0.5, seed=3, augmentation=_noise))
    by_hand = dict(params)
    for r in range(2):  # full shards: every round distorts all of shard s with stream 2's generator for step r
        X_aug = [_noise(shard.X, np.random.default_rng(np.random.SeedSequence(3, spawn_key=(s, 2, r)))) for s, shard in enumerate(shards)]
        AL, caches = forward_propagation(np.concatenate(X_aug, axis=1), by_hand, ACTIVATIONS)
        grads = backward_propagation(AL, Y, caches, LOSS)
        by_hand = {k: by_hand[k] - 0.5 * grads["d" + k] for k in by_hand}
    for key in params:
        np.testing.assert_allclose(state.params[key], by_hand[key], rtol=0, atol=1e-12)
    plain = _last(dist.train_rounds(shards, params, activations=ACTIVATIONS, loss=LOSS, rounds=2, learning_rate=0.5, seed=3))
    assert not np.array_equal(plain.params["W1"], state.params["W1"])  # the augmentation did act


def test_local_sgd_with_one_step_equals_the_synchronous_round(rng: np.random.Generator) -> None:
    X, Y = _data(rng)
    shards = dist.split_shards(X, Y, 3)
    params = _params()
    common = dict(activations=ACTIVATIONS, loss=LOSS, rounds=20, learning_rate=0.3)
    synchronous = _last(dist.train_rounds(shards, params, **common))  # type: ignore[arg-type]
    averaged = _last(dist.train_rounds(shards, params, local_steps=1, **common))  # type: ignore[arg-type]
    for key in params:
        np.testing.assert_allclose(averaged.params[key], synchronous.params[key], rtol=0, atol=1e-12)


def test_local_sgd_with_one_step_records_the_synchronous_rounds_costs_with_l2_on_minibatches(rng: np.random.Generator) -> None:
    # each local step's cost carries the penalty of its own batch, lambda / (2 b) sum ||W||^2, as a
    # synchronous round's does over the union of its shards' batches: with one shard and one
    # step a round, both take the same steps on the same batches
    X, Y = _data(rng, m=20)
    shards = dist.split_shards(X, Y, 1)  # batches of 8, 8 and 4
    params = _params()
    common = dict(activations=ACTIVATIONS, loss=LOSS, rounds=3, learning_rate=0.3, batch_size=8, lambd=0.5, seed=3)
    synchronous = _last(dist.train_rounds(shards, params, **common))  # type: ignore[arg-type]
    averaged = _last(dist.train_rounds(shards, params, local_steps=1, **common))  # type: ignore[arg-type]
    assert [r.samples for r in averaged.history] == [8, 8, 4]
    assert [r.cost for r in averaged.history] == pytest.approx([r.cost for r in synchronous.history], rel=1e-12)
    assert [r.accuracy for r in averaged.history] == [r.accuracy for r in synchronous.history]

def test_local_sgd_averages_adam_slots_by_shard_size_and_counts_local_steps(rng: np.random.Generator) -> None:
    X, Y = _data(rng, m=50)
    shards = dist.split_shards(X, Y, 2)
    shards = (shards[0], dist.Shard(shards[1].X[:, :10], shards[1].Y[:, :10]))  # 25 and 10 samples
    params = _params()
    inputs = dist.RoundInput(params, adam(0.01).init(params), 0, dist._Task(check_activations(ACTIVATIONS, 2), resolve_loss("loss", LOSS), 0, 5, None, 0.0, None, None, adam(0.01), 4))
    updates = [dist.local_steps(shard, s, inputs) for s, shard in enumerate(shards)]
    state = _last(dist.train_rounds(shards, params, activations=ACTIVATIONS, loss=LOSS, rounds=1, optimizer=adam(0.01), batch_size=5, local_steps=4))
    for key in params:
        expected = updates[0].params[key] * (25 / 35) + updates[1].params[key] * (10 / 35)
        np.testing.assert_allclose(state.params[key], expected, rtol=1e-15)
        m1 = updates[0].optimizer_state.slots["m"][key] * (25 / 35) + updates[1].optimizer_state.slots["m"][key] * (10 / 35)
        np.testing.assert_allclose(state.optimizer_state.slots["m"][key], m1, rtol=1e-15)
    assert state.optimizer_state.step == 4 and state.history[0].samples == 40


def test_float32_stays_float32(rng: np.random.Generator) -> None:
    X, Y = _data(rng, dtype=np.float32)
    state = _last(
        dist.train_rounds(dist.split_shards(X, Y, 2), _params(np.float32), activations=ACTIVATIONS, loss=LOSS, rounds=2,
                          optimizer=adam(0.01), batch_size=10, local_steps=3, keep_probs=0.8)
    )  # fmt: skip
    assert all(v.dtype == np.float32 for v in state.params.values())
    assert all(v.dtype == np.float32 for slot in state.optimizer_state.slots.values() for v in slot.values())


def test_resume_from_the_last_round_is_bitwise_the_uninterrupted_run(rng: np.random.Generator, tmp_path: Path) -> None:
    X, Y = _data(rng)
    shards = dist.split_shards(X, Y, 3)
    common = dict(activations=ACTIVATIONS, loss=LOSS, optimizer=adam(0.01), batch_size=7, local_steps=2, keep_probs=0.9, seed=5)
    whole = _last(dist.train_rounds(shards, _params(), rounds=6, **common))  # type: ignore[arg-type]
    first = _last(dist.train_rounds(shards, _params(), rounds=3, checkpoint_dir=tmp_path, **common))  # type: ignore[arg-type]
    assert first.round == 3
    resumed = _last(dist.train_rounds(shards, _params(), rounds=6, checkpoint_dir=tmp_path, resume=True, **common))  # type: ignore[arg-type]
    _assert_bitwise(resumed.params, whole.params)
    assert [r.round for r in resumed.history] == list(range(1, 7))
    assert [r.cost for r in resumed.history] == [r.cost for r in whole.history]
    with pytest.raises(ValueError, match="already holds checkpoints"):
        dist.train_rounds(shards, _params(), rounds=6, checkpoint_dir=tmp_path, **common)  # type: ignore[arg-type]
    with pytest.raises(CheckpointError, match="local_steps"):
        other = {**common, "local_steps": 3}
        dist.train_rounds(shards, _params(), rounds=6, checkpoint_dir=tmp_path, resume=True, **other)  # type: ignore[arg-type]



def test_resume_needs_the_same_dev_set_and_dev_every(rng: np.random.Generator, tmp_path: Path) -> None:
    """The dev set makes the records' dev figures: a resumed run on another one would mix two."""
    X, Y = _data(rng)
    dev = _data(rng, m=12)
    shards = dist.split_shards(X, Y, 2)
    common: dict[str, Any] = dict(activations=ACTIVATIONS, loss=LOSS, optimizer=adam(0.01), batch_size=7, seed=5)
    whole = _last(dist.train_rounds(shards, _params(), rounds=4, dev=dev, dev_every=2, **common))
    _last(dist.train_rounds(shards, _params(), rounds=2, dev=dev, dev_every=2, checkpoint_dir=tmp_path, **common))
    other_dev = (dev[0] + 1.0, dev[1])
    with pytest.raises(CheckpointError, match=r"belongs to another run: dev_data: checkpoint '[0-9a-f]{32}', now '[0-9a-f]{32}'$"):
        dist.train_rounds(shards, _params(), rounds=4, dev=other_dev, dev_every=2, checkpoint_dir=tmp_path, resume=True, **common)
    with pytest.raises(CheckpointError, match=r"belongs to another run: dev_every: checkpoint 2, now 1$"):
        dist.train_rounds(shards, _params(), rounds=4, dev=dev, checkpoint_dir=tmp_path, resume=True, **common)
    with pytest.raises(CheckpointError, match=r"dev_data: checkpoint '[0-9a-f]{32}', now None; dev_every: checkpoint 2, now None$"):
        dist.train_rounds(shards, _params(), rounds=4, checkpoint_dir=tmp_path, resume=True, **common)
    resumed = _last(dist.train_rounds(shards, _params(), rounds=4, dev=dev, dev_every=2, checkpoint_dir=tmp_path, resume=True, **common))
    _assert_bitwise(resumed.params, whole.params)
    assert [(r.dev_cost, r.dev_accuracy) for r in resumed.history] == [(r.dev_cost, r.dev_accuracy) for r in whole.history]
    assert [r.dev_cost is None for r in whole.history] == [True, False, True, False]


# --------------------------------------------------------------------------------------------
# bad input, refused before any task


def test_more_shards_than_samples_and_empty_shards_are_refused(rng: np.random.Generator) -> None:
    X, Y = _data(rng, m=5)
    with pytest.raises(ValueError, match="6 shards of 5 samples"):
        dist.split_shards(X, Y, 6)
    empty = dist.Shard(X[:, :0], Y[:, :0])
    with pytest.raises(ValueError, match=r"shards\[1\] is empty"):
        dist.train_rounds([dist.Shard(X, Y), empty], _params(), activations=ACTIVATIONS, loss=LOSS, rounds=1, learning_rate=0.1)
    with pytest.raises(ValueError, match=r"shards\[0\] has X \(5, 5\).*\(4, m\)"):
        dist.train_rounds([dist.Shard(X, Y)], initialize_parameters((4, 3), rng), activations=("softmax",), loss=LOSS, rounds=1, learning_rate=0.1)


def test_targets_outside_the_loss_are_refused_in_shards_and_dev_as_in_train(rng: np.random.Generator) -> None:
    X, Y = _data(rng, m=20)
    doubled = Y.copy()
    doubled[:, 3] = (1.0, 1.0, 0.0)  # a one-hot column summing to 2
    common = dict(activations=ACTIVATIONS, loss=LOSS, rounds=1, learning_rate=0.1)
    with pytest.raises(ValueError, match=r"shards\[2\]\.Y") as in_rounds:
        dist.train_rounds(dist.split_shards(X, Y, 2) + (dist.Shard(X, doubled),), _params(), **common)  # type: ignore[arg-type]
    with pytest.raises(ValueError) as in_train:
        train(X, doubled, _params(), activations=ACTIVATIONS, loss=LOSS, epochs=1, learning_rate=0.1)
    assert str(in_rounds.value).split(" ", 1)[1] == str(in_train.value).split(" ", 1)[1]  # the same words, another name
    with pytest.raises(ValueError, match=r"dev\[1\]"):
        dist.train_rounds(dist.split_shards(X, Y, 2), _params(), dev=(X, -Y), **common)  # type: ignore[arg-type]


def test_an_unreachable_scheduler_is_named_with_the_time_waited() -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    with pytest.raises(dist.SchedulerUnreachableError, match=rf"{address} \(waited \d+\.\d s, timeout 1 s\)"):
        with dist.cluster_client(address, timeout=1):
            pass


def test_a_worker_missing_a_package_is_named_before_any_task(client: Client) -> None:
    with pytest.raises(dist.WorkerEnvironmentError, match=r"cannot import no_such_package_x on worker tcp://127\.0\.0\.1:\d+ \(host"):
        dist.check_workers(client, ("numpy", "no_such_package_x", "functional_nn"))
    assert len(dist.check_workers(client)) == 2


def test_workers_started_with_dasks_own_allocator_setting_are_warned_of_once_and_local_clusters_keep_freed_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    distributed: Any = dist._import_distributed()  # Any: Dask's LocalCluster and Client are untyped

    # Dask's nannies write their pre-spawn environment into the process that runs them, this
    # one. monkeypatch restores what it recorded, so set and then removed, the variable
    # Dask writes is removed when the test ends (and a value it had before is put back).
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "")
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    # Dask's LocalCluster as it comes, as `dask worker` starts workers: MALLOC_TRIM_THRESHOLD_=65536
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", protocol="tcp://",
        dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"},  # as local_cluster does
    ) as cluster, distributed.Client(cluster) as c:  # fmt: skip
        (address,) = c.scheduler_info(n_workers=-1)["workers"]
        assert c.run(os.getenv, "MALLOC_TRIM_THRESHOLD_") == {address: "65536"}  # os.getenv: the worker's own
        with pytest.warns(dist.SlowAllocatorWarning) as caught:
            assert dist.check_workers(c) == [address]
        (warning,) = caught
        message = str(warning.message)
        assert f"1 of 1 workers ({address}) hand freed memory back" in message
        assert "MALLOC_TRIM_THRESHOLD_=65536 in their environment" in message
        assert "pre-spawn-environ: MALLOC_TRIM_THRESHOLD_: null" in message
        dist.check_workers(c)  # once named, not again (warnings are errors here)
        # the advice works: glibc's thresholds set at run time keep the blocks
        assert c.run(allocator.freed_memory_returned) == {address: True}
        assert c.run(allocator.keep_freed_memory) == {address: True}
        assert c.run(allocator.freed_memory_returned) == {address: False}
    # That nanny left the variable in this process, so local_cluster's workers inherit it
    # whatever its nannies are told; its preload (dask_setup) then keeps their freed memory.
    assert os.environ.get("MALLOC_TRIM_THRESHOLD_") == "65536"
    with dist.cluster_client(n_workers=1) as c:
        (address,) = c.scheduler_info(n_workers=-1)["workers"]
        assert c.run(os.getenv, "MALLOC_TRIM_THRESHOLD_") == {address: "65536"}
        assert c.run(allocator.freed_memory_returned) == {address: False}
        assert dist.check_workers(c) == [address]  # no warning (they are errors here)
    # Workers that are threads of this process leave its allocator alone: it is the user's.
    called: list[bool] = []

    def keep_freed_memory() -> bool:
        called.append(True)
        return True

    monkeypatch.setattr(allocator, "keep_freed_memory", keep_freed_memory)
    with dist.cluster_client(n_workers=1, processes=False) as c:
        dist.check_workers(c)
    assert not called


def test_a_local_cluster_leaves_this_processs_environment_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    names = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "MALLOC_TRIM_THRESHOLD_")
    for name in names:  # absent here, and removed again when the test ends
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # a user's own value
    with dist.cluster_client(n_workers=1) as c:
        # the worker has one thread of each (WORKER_ENV), whatever this process has...
        assert set(c.run(os.getenv, "OPENBLAS_NUM_THREADS").values()) == {"1"}
        assert set(c.run(os.getenv, "OMP_NUM_THREADS").values()) == {"1"}
        # ...and this process, whose later subprocesses and BLAS libraries would inherit it, not
        assert {name: os.environ.get(name) for name in names} == dict.fromkeys(names)
        assert os.environ["OMP_NUM_THREADS"] == "2"
    assert {name: os.environ.get(name) for name in names} == dict.fromkeys(names)
    cluster = dist.local_cluster(1)
    try:
        assert {name: os.environ.get(name) for name in names} == dict.fromkeys(names)
    finally:
        cluster.close()


def test_the_allocator_warning_names_only_the_workers_that_return_memory_and_their_setting() -> None:
    with pytest.warns(dist.SlowAllocatorWarning) as caught:
        dist._warn_of_returned_memory({"tcp://a:1": (True, None), "tcp://b:2": (False, "65536"), "tcp://c:3": (None, None)})
    (warning,) = caught
    assert "1 of 3 workers (tcp://a:1) hand freed memory back to the system at once (their C library's settings)" in str(warning.message)
    dist._warn_of_returned_memory({"tcp://b:2": (False, "65536"), "tcp://c:3": (None, None)})  # none returns: no warning


# --------------------------------------------------------------------------------------------
# on a cluster


def test_rounds_on_a_cluster_equal_the_in_process_rounds_bitwise_whatever_the_workers(
    rng: np.random.Generator, client: Client
) -> None:
    X, Y = _data(rng, m=120)
    shards = dist.split_shards(X, Y, 4)
    for local in (None, 3):
        common = dict(activations=ACTIVATIONS, loss=LOSS, rounds=4, optimizer=adam(0.01), batch_size=9, local_steps=local, keep_probs=0.8, seed=2)
        here = _last(dist.train_rounds(shards, _params(), **common))  # type: ignore[arg-type]
        placed = dist.place_shards(client, shards)
        assert sorted(set(placed.holders)) == sorted(client.scheduler_info(n_workers=-1)["workers"])  # 4 shards on 2 workers
        there = _last(dist.train_rounds(placed, _params(), **common))  # type: ignore[arg-type]
        _assert_bitwise(there.params, here.params)
        # one worker holding all four shards: the same bits
        one = dist.DaskShards(client, placed.shards, list(placed.futures), [placed.holders[0]] * 4, 0)
        for s in range(4):
            one._place(s, placed.holders[0])
        _assert_bitwise(_last(dist.train_rounds(one, _params(), **common)).params, here.params)  # type: ignore[arg-type]


def test_shards_stay_where_they_were_placed_and_rounds_send_params_only(rng: np.random.Generator, client: Client) -> None:
    X, Y = _data(rng, m=4000)
    placed = dist.place_shards(client, dist.split_shards(X, Y, 2))
    before = client.who_has(placed.futures)  # type: ignore[no-untyped-call]  # distributed's partial types
    assert [list(before[f.key]) for f in placed.futures] == [[h] for h in placed.holders]
    _last(dist.train_rounds(placed, _params(), activations=ACTIVATIONS, loss=LOSS, rounds=5, learning_rate=0.1))
    after = client.who_has(placed.futures)  # type: ignore[no-untyped-call]  # distributed's partial types
    assert [list(after[f.key]) for f in placed.futures] == [[h] for h in placed.holders]  # never copied elsewhere
    assert placed.replaced == 0
    # and nothing of the rounds stays behind on the workers: each holds its shards only
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        held = {w: set(keys) for w, keys in client.has_what().items()}  # type: ignore[no-untyped-call]  # partial types
        if held == {h: {f.key for f, g in zip(placed.futures, placed.holders) if g == h} for h in held}:
            break
        time.sleep(0.05)
    assert held == {h: {f.key for f, g in zip(placed.futures, placed.holders) if g == h} for h in held}


def test_a_sweep_returns_each_run_bitwise_as_run_alone_in_the_order_given(rng: np.random.Generator, client: Client, tmp_path: Path) -> None:
    X, Y = _data(rng, m=60)
    dev = _data(rng, m=20)
    settings = [
        dist.RunSettings((5, h, 3), ACTIVATIONS, LOSS, optimizer, epochs=3, seed=seed, batch_size=16, keep_probs=keep)
        for h, optimizer, seed, keep in [(4, sgd(0.2), 0, None), (8, adam(0.01), 1, 0.8), (6, momentum(0.1), 2, None), (3, sgd(0.5), 3, 0.9)]
    ]
    finished: list[int] = []
    results = dist.sweep(settings, X, Y, dev=dev, client=client, on_done=lambda i, _: finished.append(i))
    assert sorted(finished) == [0, 1, 2, 3]
    for setting, result in zip(settings, results):
        alone = dist.run_settings(setting, dist.SweepData(X, Y, dev))
        _assert_bitwise(result.params, alone.params)
        assert result.history == alone.history
    sequential = dist.sweep(settings, X, Y, dev=dev)
    loaded_by_workers = dist.sweep(settings, X, Y, dev=dev, client=client, data_dir=tmp_path)
    for a, b, c in zip(sequential, results, loaded_by_workers):
        _assert_bitwise(a.params, b.params)
        _assert_bitwise(a.params, c.params)
    assert list((tmp_path / "sweep-data").iterdir()) == []  # the sweep's own folder, removed when it ended
    stored = dist.load_sweep_data(dist.save_sweep_data(tmp_path / "saved", dist.SweepData(X, Y, dev)))
    assert np.array_equal(stored.X, X) and stored.dev is not None and np.array_equal(stored.dev[1], dev[1])
    # mapped, not copied: plain read-only arrays over the file, shared by a machine's workers
    assert type(stored.X) is np.ndarray and not stored.X.flags.writeable
    assert isinstance(stored.X.base, np.memmap)


class _UntouchableClient:
    """A stand-in for a Dask client that fails the test if the sweep uses it at all."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the sweep used its client ({name}) before refusing a setting")


def _setting(sizes: tuple[int, ...] = (5, 4, 3), **changes: Any) -> dist.RunSettings:
    return dist.RunSettings(sizes, ACTIVATIONS, LOSS, sgd(0.1), epochs=1)._replace(**changes)


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (_setting((6, 4, 3)), ValueError, r"settings\[1\]: layer_sizes\[0\] is 6, the input layer, but X has 5 rows \(features\)"),
        (_setting((5, 4, 2)), ValueError, r"settings\[1\]: Y must have shape \(2, 30\): \(n_L, m\) to match the output layer and X's 30 samples, got \(3, 30\)"),
        (_setting((5, 4, 4, 3)), ValueError, r"settings\[1\]: activations must name one activation per layer: layer_sizes \(5, 4, 4, 3\) has 3 layers, got 2"),
        (_setting((5, 0, 3)), ValueError, r"settings\[1\]: layer_sizes\[1\] must be >= 1, got 0"),
        (_setting(loss="cross_entropy"), ValueError, r"settings\[1\]: unknown loss 'cross_entropy'"),
        (_setting(activations=("relu", "linear")), ValueError, r"settings\[1\]: loss 'categorical_cross_entropy' needs outputs in \[0, 1\]"),
        (_setting(loss="hinge", activations=("relu", "linear")), ValueError, r"settings\[1\]: Y has 1 column\(s\) with values other than the hinge loss's labels 0/1 or -1/1: column 0 is \[0.5, 0.5, 0.0\]"),
        (_setting(epochs=-1), ValueError, r"settings\[1\]: epochs must be >= 0, got -1"),
        (_setting(keep_probs=1.5), ValueError, r"settings\[1\]: keep_probs\[0\] must be in \(0, 1\], got 1.5"),
        (_setting(init="glorot"), ValueError, r"settings\[1\]: unknown init 'glorot': expected one of \['standard_normal'"),
    ],
    ids=["X rows", "Y rows", "activations count", "empty layer", "unknown loss", "loss pairing", "targets", "epochs", "keep_probs", "init"],
)
def test_a_sweep_checks_every_setting_against_the_data_before_any_run(
    rng: np.random.Generator, bad: dist.RunSettings, error: type[Exception], message: str
) -> None:
    X, Y = _data(rng, m=30)
    Y[:, 0] = (0.5, 0.5, 0.0)  # a soft label: a distribution for cross-entropy, not a label for the hinge loss
    finished: list[int] = []
    with pytest.raises(error, match=message):
        dist.sweep([_setting(), bad, _setting()], X, Y, on_done=lambda i, _: finished.append(i))
    assert finished == []  # not even the first, valid, run was made
    with pytest.raises(error, match=message):
        dist.sweep([_setting(), bad], X, Y, client=_UntouchableClient(), data_dir="/nonexistent")  # type: ignore[arg-type]


def test_a_sweeps_dev_set_is_checked_before_any_run(rng: np.random.Generator) -> None:
    X, Y = _data(rng, m=30)
    X_dev, Y_dev = _data(rng, m=10)
    with pytest.raises(ValueError, match=r"settings\[0\]: layer_sizes\[0\] is 5, the input layer, but dev\[0\] has 4 rows \(features\)"):
        dist.sweep([_setting()], X, Y, dev=(X_dev[:4], Y_dev), client=_UntouchableClient())  # type: ignore[arg-type]


def test_save_sweep_data_refuses_bad_arrays_before_writing_and_keeps_the_old_pair(rng: np.random.Generator, tmp_path: Path) -> None:
    X, Y = _data(rng, m=12)
    X_dev, Y_dev = _data(rng, m=4)
    folder = dist.save_sweep_data(tmp_path / "data", dist.SweepData(X, Y, (X_dev, Y_dev)))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert sorted(before) == ["X.npy", "X_dev.npy", "Y.npy", "Y_dev.npy"]
    new_X = X + 1
    cases: list[tuple[dist.SweepData, type[Exception], str]] = [
        (dist.SweepData(new_X, Y.astype(object)), TypeError, r"data.Y must have dtype float32 or float64, got object"),
        (dist.SweepData(new_X, Y.astype(np.float32)), TypeError, r"data.Y has dtype float32 but data.X is float64"),
        (dist.SweepData(new_X, Y.T.copy()), ValueError, r"data.Y has 3 columns but data.X has 12 samples"),
        (dist.SweepData(new_X[:, :0], Y[:, :0]), ValueError, r"data.X has no samples"),
        (dist.SweepData(np.where(X > 1, np.nan, X), Y), ValueError, r"data.X contains \d+ NaN or infinite value\(s\)"),
        (dist.SweepData(new_X, Y, (X_dev[:3], Y_dev)), ValueError, r"data.dev\[0\] must have shape \(5, 4\)"),
        (dist.SweepData(new_X, Y, (X_dev, Y_dev[:, :2])), ValueError, r"data.dev\[1\] must have shape \(3, 4\)"),
        (dist.SweepData(new_X, Y, X_dev), TypeError, r"data.dev must be a tuple \(X_dev, Y_dev\), got ndarray"),  # type: ignore[arg-type]
    ]
    for data, error, message in cases:
        with pytest.raises(error, match=message):
            dist.save_sweep_data(folder, data)
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # nothing replaced, no temporary file


def test_a_failed_write_of_sweep_data_leaves_every_old_file_and_no_temporary(
    rng: np.random.Generator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, Y = _data(rng, m=12)
    folder = dist.save_sweep_data(tmp_path / "data", dist.SweepData(X, Y))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    real_save = np.save
    calls: list[object] = []

    def full_disk_at_the_second_file(file: Any, array: Any, **kwargs: Any) -> None:
        calls.append(file)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_save(file, array, **kwargs)

    monkeypatch.setattr(np, "save", full_disk_at_the_second_file)
    with pytest.raises(OSError, match="No space left"):
        dist.save_sweep_data(folder, dist.SweepData(X + 1, Y))
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    stored = dist.load_sweep_data(folder)
    assert np.array_equal(stored.X, X) and np.array_equal(stored.Y, Y)


def test_a_killed_worker_process_costs_a_retry_not_the_run(rng: np.random.Generator) -> None:
    X, Y = _data(rng, m=400)
    shards = dist.split_shards(X, Y, 2)
    common = dict(activations=ACTIVATIONS, loss=LOSS, rounds=8, optimizer=adam(0.01), batch_size=32, keep_probs=0.9, seed=4)
    with dist.cluster_client(n_workers=2) as c:
        # worker processes with one BLAS thread and glibc's own trimming (see local_cluster)
        # (os.getenv: os.environ.get would be pickled with this process's environment)
        assert set(c.run(os.getenv, "OPENBLAS_NUM_THREADS").values()) == {"1"}
        assert set(c.run(os.getenv, "MALLOC_TRIM_THRESHOLD_").values()) == {None}
        # dask_setup keeps each worker's freed memory: three 4 MB arrays a step, which glibc's
        # own thresholds hand back and fault in again step after step, reuse the last step's
        assert all(faults < STEP_PAGES // 4 for faults in c.run(page_faults_of_ten_steps).values())
        # no dashboard: no profiler, and slow health ticks (QUIET_CLUSTER) on every worker
        assert set(c.run(dask.config.get, "distributed.worker.profile.enabled").values()) == {False}
        assert set(c.run(dask.config.get, "distributed.admin.tick.interval").values()) == {"1s"}
        # check_workers starts the fused kernels on every worker, before any task
        dist.check_workers(c)
        assert set(c.run(lambda: fused._compile.cache_info().currsize).values()) == {int(fused.AVAILABLE)}
        reference = _last(dist.train_rounds(dist.place_shards(c, shards), _params(), **common))  # type: ignore[arg-type]
        placed = dist.place_shards(c, shards)
        states = dist.train_rounds(placed, _params(), **common)  # type: ignore[arg-type]
        for state in states:
            if state.round == 3:  # kill the process holding shard 0 a moment later, as round 4 runs
                victim = placed.holders[0]
                pid = c.run(os.getpid, workers=[victim])[victim]
                killer = threading.Timer(0.005, os.kill, (pid, signal.SIGKILL))
                killer.start()
        killer.join()
        assert state.round == 8
        assert placed.replaced >= 1
        _assert_bitwise(state.params, reference.params)


# --------------------------------------------------------------------------------------------
# the scripts, against a cluster reached by address


def _scheduler_address(client: Client) -> str:
    address = getattr(client.scheduler, "address", None)
    assert isinstance(address, str)
    return address


def _clients_opened(monkeypatch: pytest.MonkeyPatch) -> list[Client]:
    """The clients ``dist.cluster_client`` opens from now on (a call-through spy)."""
    opened: list[Client] = []
    real_cluster_client = dist.cluster_client

    @contextlib.contextmanager
    def recorded(*args: Any, **kwargs: Any) -> Iterator[Client]:
        with real_cluster_client(*args, **kwargs) as client:
            opened.append(client)
            yield client

    monkeypatch.setattr(dist, "cluster_client", recorded)
    return opened


def test_cluster_epoch_states_dropped_before_their_first_epoch_close_their_client(
    rng: np.random.Generator, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """train_mnist gets the cluster's states, then makes its output folder before the first
    epoch: a failure there drops states that never ran, whose client must close all the same.
    It does, without a ``close`` of its own: dropping the unstarted generator frees the
    ExitStack, and with it ``cluster_client``'s suspended generator, whose exit closes the client."""
    import _cluster_training
    import train_mnist

    opened = _clients_opened(monkeypatch)
    args, settings = train_mnist.parse_args(["--epochs", "1", "--hidden", "7", "--batch-size", "10", "--scheduler", _scheduler_address(client)])
    X = rng.random((784, 40), dtype=np.float32)  # train_mnist's shapes: 784 pixels, 10 classes
    Y = one_hot(rng.integers(0, 10, 40), 10, dtype=np.float32)
    params = initialize_parameters((784, 7, 10), np.random.default_rng(0), dtype=np.float32)
    states, workers = _cluster_training.epoch_states(
        args, settings, X, Y, (X[:, :5], Y[:, :5]), params, ("relu", "softmax"), LOSS, train_mnist.make_optimizer, [],
        lambda line: None,
    )  # fmt: skip
    assert workers == 2 and len(opened) == 1 and opened[0].status == "running"
    del states
    gc.collect()
    assert opened[0].status == "closed"
    assert client.status == "running"  # the cluster reached by address is not this run's to close

def test_train_mnist_on_a_cluster_by_address_prints_rounds_and_the_summary(
    tmp_path: Path, rng: np.random.Generator, client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    import test_scripts_mnist as helpers
    import train_mnist

    from functional_nn.data import scale_pixels, train_dev_split
    from functional_nn.data.digit_files import load_digits_csv
    from functional_nn.propagation import predict
    from functional_nn.schedules import cosine_decay
    from functional_nn.serialization import load_parameters

    csv = helpers._kaggle_csv(tmp_path / "train.csv", rng, 120)
    argv = ["--csv", str(csv), "--epochs", "2", "--hidden", "16", "--batch-size", "20", "--dev-size", "20"]
    argv += ["--scheduler", _scheduler_address(client), "--local-steps", "2", "--shards", "3", "--out", str(tmp_path / "run")]
    assert train_mnist.main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["workers"] == 2 and summary["cluster_wait_seconds"] > 0 and summary["rounds"] == 5  # batches of 7 a shard: 5 steps a pass of 34, 2 steps a round, 2 epochs
    assert any("3 shards of <= 34 samples, local SGD, 2 steps a round" in line for line in lines)
    assert [line.split(":")[0] for line in lines if line.startswith("epoch")] == ["epoch   1", "epoch   2"]
    # the same run in this process: the seed's split and He start (float32), then 5 rounds of 2
    # local Adam steps on batches of ceil(20 / 3) = 7 a shard, the rate decayed over the 10
    # steps, each batch moved by the default preset's affine augmentation
    digits = load_digits_csv(csv)
    assert digits.y is not None
    seeded = np.random.default_rng(0)
    split = train_dev_split(digits.X, digits.y, 20, seeded)
    start = initialize_parameters((784, 16, 10), seeded, dtype=np.float32)
    shards = dist.split_shards(scale_pixels(split.X_train, dtype=np.float32), one_hot(split.y_train, 10, dtype=np.float32), 3)
    here = _last(
        dist.train_rounds(
            shards, start, activations=ACTIVATIONS, loss=LOSS, rounds=5, optimizer=adam(cosine_decay(1e-3, decay_steps=10)),
            batch_size=7, local_steps=2, seed=0, keep_probs=1.0, augmentation=train_mnist.AUGMENT["affine"],
        )
    )  # fmt: skip
    saved, _, _ = load_parameters(tmp_path / "run" / "params.npz")
    _assert_bitwise(saved, here.params)
    X_dev = scale_pixels(split.X_dev, dtype=np.float32)
    assert summary["dev_accuracy"] == float(np.mean(predict(X_dev, here.params, ACTIVATIONS) == split.y_dev))


def test_sweep_script_on_a_cluster_equals_the_sequential_sweep(
    tmp_path: Path, rng: np.random.Generator, client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    import test_scripts_mnist as helpers
    import sweep

    csv = helpers._kaggle_csv(tmp_path / "train.csv", rng, 100)
    common = ["--csv", str(csv), "--epochs", "1", "--batch-size", "25", "--dev-size", "20"]
    assert sweep.main([*common, "--scheduler", _scheduler_address(client), "--out", str(tmp_path / "cluster")]) == 0
    assert sweep.main([*common, "--sequential", "--out", str(tmp_path / "here")]) == 0
    summaries = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [s["runs"] for s in summaries] == [12, 12] and [s["workers"] for s in summaries] == [2, 0]
    rows = (tmp_path / "cluster" / "sweep.csv").read_text()
    assert rows == (tmp_path / "here" / "sweep.csv").read_text()  # every run bitwise the same, in grid order
    assert len(rows.strip().splitlines()) == 13
    assert (tmp_path / "cluster" / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "cluster" / "best_params.npz").exists()


def test_the_sweep_script_keeps_a_local_clusters_data_in_memory_only_when_there_is_room() -> None:
    import shutil

    import sweep

    if os.access("/dev/shm", os.W_OK):
        assert sweep.memory_directory(1_000_000) == "/dev/shm"
        assert sweep.memory_directory(shutil.disk_usage("/dev/shm").free) is None  # room for it twice over is asked
    else:  # a machine without it: the usual temporary directory
        assert sweep.memory_directory(1) is None


def test_cluster_client_follows_dasks_scheduler_address_setting(client: Client) -> None:
    import dask.config

    with dask.config.set({"scheduler-address": _scheduler_address(client)}), dist.cluster_client() as reached:
        assert getattr(reached.scheduler, "address", None) == _scheduler_address(client)
        assert len(dist.check_workers(reached)) == 2
    with pytest.raises(ValueError, match="n_workers applies to a local cluster"):
        with dist.cluster_client(_scheduler_address(client), n_workers=2):
            pass
    cluster = client.cluster  # a LocalCluster object in place of its address: the error says what to pass
    hint = re.escape(f"got LocalCluster (a cluster: pass its scheduler_address, {_scheduler_address(client)!r})")
    with pytest.raises(TypeError, match=f"^address must be a scheduler's address such as .*{hint}$"):
        with dist.cluster_client(cluster):
            pass


def test_a_users_own_activation_record_travels_to_the_workers(rng: np.random.Generator, client: Client) -> None:
    from functional_nn.types import ActivationFunction

    def square_plus(Z: FloatArray) -> FloatArray:  # a local function: pickled by value, as a user's would be
        out: FloatArray = 0.5 * (Z + np.sqrt(Z * Z + 4.0))
        return out

    def square_plus_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
        out: FloatArray = dA * 0.5 * (1.0 + Z / np.sqrt(Z * Z + 4.0))
        return out

    mine = ActivationFunction("square_plus", square_plus, square_plus_backward, (0.0, np.inf))
    X, Y = _data(rng, m=60)
    shards = dist.split_shards(X, Y, 2)
    common: dict[str, object] = dict(activations=(mine, "softmax"), loss=LOSS, rounds=3, learning_rate=0.2, batch_size=10, local_steps=2)
    here = _last(dist.train_rounds(shards, _params(), **common))  # type: ignore[arg-type]
    there = _last(dist.train_rounds(dist.place_shards(client, shards), _params(), **common))  # type: ignore[arg-type]
    _assert_bitwise(there.params, here.params)
    # an augmentation travels the same way, and draws the same on the workers as here
    common["augmentation"] = _noise
    here = _last(dist.train_rounds(shards, _params(), **common))  # type: ignore[arg-type]
    there = _last(dist.train_rounds(dist.place_shards(client, shards), _params(), **common))  # type: ignore[arg-type]
    _assert_bitwise(there.params, here.params)
    assert not np.array_equal(here.params["W1"], _params()["W1"])

