"""Data-parallel rounds: what the second pass of the mutation audit of ``distributed`` found unpinned.

A shard's own non-finite results named before any update (synchronous rounds too), the
settings refused when ``train_rounds`` is called, the run description a round's checkpoint
keeps and the refusal to resume another run, and ``DaskShards.map``'s retries: lost work
sent again, a shard whose data was lost placed again, a task's own error or a task that
cannot be sent raised at once. Most run in this process; the last need a one-worker
cluster of threads, so that the tasks' calls can be counted here.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from distributed import Client

from functional_nn import checkpoints
from functional_nn import distributed as dist
from functional_nn.checkpoints import CheckpointError
from functional_nn.data import one_hot
from functional_nn.data.augmentation import random_shift
from functional_nn.initializers import initialize_parameters
from functional_nn.optimizers import adam
from functional_nn.propagation import backward_propagation, forward_propagation
from functional_nn.training import TrainingDivergedError
from functional_nn.types import Activation, FloatArray, Loss

ACTIVATIONS: tuple[Activation, ...] = ("relu", "softmax")
LOSS: Loss = "categorical_cross_entropy"


def _data(m: int = 12, seed: int = 0) -> tuple[FloatArray, FloatArray]:
    X = np.random.default_rng(seed).standard_normal((4, m))
    return X, one_hot((X[0] > 0).astype(np.int64), 3)


def _params() -> dict[str, FloatArray]:
    return initialize_parameters((4, 5, 3), np.random.default_rng(1))


@pytest.mark.parametrize(
    ("value", "local", "expected"),
    [
        # the synchronous round's gradient sums are checked on the driver before the update,
        # not only the updated parameters (deleting that check, or taking the sums for parameters, survived)
        (-1e308, None, "training diverged at round 1 on shard 1: the gradient sum dW1 holds NaN or infinite values; try a smaller learning rate"),
        (1.7e308, 2, "training diverged at round 1 on shard 1: its cost is nan; try a smaller learning rate (or check the data for extreme values)"),
    ],
)  # fmt: skip
def test_a_shard_whose_own_results_are_not_finite_is_named_before_any_update(value: float, local: int | None, expected: str) -> None:
    X, Y = _data()
    X[:, 9:11] = value  # two columns of shard 1 (columns 6 to 11): their products overflow
    shards = dist.split_shards(X, Y, 2)
    with pytest.raises(TrainingDivergedError) as raised:
        list(dist.train_rounds(shards, _params(), activations=ACTIVATIONS, loss=LOSS, rounds=2, learning_rate=0.1, local_steps=local))
    assert str(raised.value) == expected


def test_a_synchronous_rounds_gradient_sum_beyond_the_weight_bound_is_no_divergence() -> None:
    # gradients of about 1.8e19 (beyond the parameters' bound 4.5e15) with a step of 1e-12:
    # the parameters stay within it (the mutant checking the gradient sums as parameters raised)
    X, Y = _data()
    X[:, 9] = -1e20
    params = _params()
    AL, caches = forward_propagation(X, params, ACTIVATIONS)
    grads = backward_propagation(AL, Y, caches, LOSS)
    assert np.abs(grads["dW1"]).max() > 1e19
    state = list(dist.train_rounds(dist.split_shards(X, Y, 2), params, activations=ACTIVATIONS, loss=LOSS, rounds=1, learning_rate=1e-12))[-1]
    for key in params:
        np.testing.assert_allclose(state.params[key], params[key] - 1e-12 * grads["d" + key], rtol=1e-12, atol=1e-26)




# --------------------------------------------------------------------------------------------
# settings refused when train_rounds is called, naming the argument


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"dev_every": 0}, ValueError, "dev_every must be >= 1, got 0"),
        ({"dev_every": 2.0}, TypeError, "dev_every must be an integer, got float 2.0"),
        ({"lambd": -0.5}, ValueError, "lambd must be a finite number >= 0, got -0.5"),
        ({"lambd": float("nan")}, ValueError, "lambd must be a finite number >= 0, got nan"),
        ({"clip_norm": 0.0}, ValueError, "clip_norm must be a finite number > 0, got 0.0"),
        ({"clip_norm": -1.0}, ValueError, "clip_norm must be a finite number > 0, got -1.0"),
        ({"max_norm": 0.0}, ValueError, "max_norm must be a finite number > 0, got 0.0"),
        ({"augmentation": 3}, TypeError, "augmentation must be a function of (X_batch, rng), got int"),
    ],
)  # fmt: skip
def test_train_rounds_refuses_bad_settings_when_called(changes: dict[str, object], error: type[Exception], message: str) -> None:
    X, Y = _data()
    with pytest.raises(error) as raised:
        dist.train_rounds(dist.split_shards(X, Y, 2), _params(), activations=ACTIVATIONS, loss=LOSS, rounds=1, learning_rate=0.1, **changes)  # type: ignore[arg-type]
    assert str(raised.value) == message



def test_train_rounds_refuses_a_loss_its_output_activation_cannot_feed_and_shards_of_other_outputs() -> None:
    X, Y = _data()
    with pytest.raises(ValueError) as raised:
        dist.train_rounds(dist.split_shards(X, Y, 2), _params(), activations=("relu", "relu"), loss=LOSS, rounds=1, learning_rate=0.1)
    assert str(raised.value) == (
        "loss 'categorical_cross_entropy' needs outputs in [0, 1], but the output activation 'relu' ranges over [0.0, inf]: "
        "use 'softmax' as the last activation, or 'mean_squared_error'"
    )
    with pytest.raises(ValueError) as raised:
        dist.train_rounds(dist.split_shards(X, Y[:2], 2), _params(), activations=ACTIVATIONS, loss=LOSS, rounds=1, learning_rate=0.1)
    assert str(raised.value) == "shards[0] has X (4, 6) and Y (2, 6) but the params expect (4, m) and (3, m)"


# --------------------------------------------------------------------------------------------
# the run description a checkpoint keeps, and resuming against it


def _data_digest(shards: tuple[dist.Shard, ...]) -> str:
    """blake2b (16 bytes) of each shard's X then Y: shape and dtype, then the bytes."""
    hasher = hashlib.blake2b(digest_size=16)
    for shard in shards:
        for array in (shard.X, shard.Y):
            hasher.update(repr((array.shape, array.dtype.str)).encode())
            hasher.update(np.ascontiguousarray(array).tobytes())
    return hasher.hexdigest()


def _checkpointed(shards: tuple[dist.Shard, ...], directory: Path, rounds: int = 2, resume: bool = False, **changed: object) -> None:
    settings: dict[str, object] = dict(
        activations=ACTIVATIONS, loss=LOSS, optimizer=adam(0.01), keep_probs=0.9, clip_norm=2.0, max_norm=3.0, batch_size=4,
        local_steps=2, lambd=0.1, seed=3, augmentation=functools.partial(random_shift, image_shape=(2, 2), max_shift=1),
    )  # fmt: skip
    settings.update(changed)
    list(dist.train_rounds(shards, _params(), rounds=rounds, checkpoint_dir=directory, resume=resume, **settings))  # type: ignore[arg-type]


def test_a_rounds_checkpoint_describes_the_run_and_its_shards(tmp_path: Path) -> None:
    X, Y = _data(12)
    shards = (dist.Shard(X[:, :8], Y[:, :8]), dist.Shard(X[:, 8:], Y[:, 8:]))
    _checkpointed(shards, tmp_path)
    latest = checkpoints.latest_checkpoint(tmp_path)
    assert latest is not None and latest.name == "checkpoint-000002.npz"
    run = dict(checkpoints.load_checkpoint(latest).run)
    assert [record[0] for record in run.pop("round_history")] == [1, 2]
    assert run == {
        "kind": "distributed rounds",
        "layer_sizes": [4, 5, 3],
        "activations": ["relu", "softmax"],
        "loss": "categorical_cross_entropy",
        "optimizer": "adam",
        "optimizer_hyperparameters": [["learning_rate", 0.01], ["beta1", 0.9], ["beta2", 0.999], ["epsilon", 1e-08]],
        "seed": 3,
        "batch_size": 4,
        "local_steps": 2,
        "lambd": 0.1,
        "keep_probs": [0.9],
        "clip_norm": 2.0,
        "max_norm": 3.0,
        "augmentation": "random_shift(image_shape=(2, 2), max_shift=1)",
        "shard_sizes": [8, 4],
        "data": _data_digest(shards),
    }


def test_resuming_with_other_shards_or_data_is_refused_naming_each_difference(tmp_path: Path) -> None:
    X, Y = _data(12)
    shards = (dist.Shard(X[:, :8], Y[:, :8]), dist.Shard(X[:, 8:], Y[:, 8:]))
    _checkpointed(shards, tmp_path)
    latest = tmp_path / "checkpoint-000002.npz"
    resplit = (dist.Shard(X[:, :6], Y[:, :6]), dist.Shard(X[:, 6:], Y[:, 6:]))  # the same columns, cut elsewhere
    expected = (
        f"{latest} belongs to another run: data: checkpoint {_data_digest(shards)!r}, now {_data_digest(resplit)!r}; "
        "shard_sizes: checkpoint [8, 4], now [6, 6]"
    )
    with pytest.raises(CheckpointError) as raised:
        _checkpointed(resplit, tmp_path, rounds=3, resume=True)
    assert str(raised.value) == expected
    moved = X.copy()
    moved[2, 11] += 1e-9  # one value of shard 1
    changed = (dist.Shard(moved[:, :8], Y[:, :8]), dist.Shard(moved[:, 8:], Y[:, 8:]))
    with pytest.raises(CheckpointError, match=r"belongs to another run: data: checkpoint '[0-9a-f]{32}', now '[0-9a-f]{32}'$"):
        _checkpointed(changed, tmp_path, rounds=3, resume=True)
    with pytest.raises(CheckpointError) as raised:
        _checkpointed(shards, tmp_path, rounds=3, resume=True, keep_probs=None, augmentation=None)
    assert str(raised.value) == (
        f"{latest} belongs to another run: augmentation: checkpoint 'random_shift(image_shape=(2, 2), max_shift=1)', now None; "
        "keep_probs: checkpoint [0.9], now None"
    )


# --------------------------------------------------------------------------------------------
# DaskShards.map: work lost with a worker is retried, a task's own error is not


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with dist.cluster_client(n_workers=1, processes=False, timeout=30) as c:
        yield c


_CALLS: dict[str, list[int]] = {}  # the shards each test's tasks ran on, in order (threads: one process)


def _ran(tag: dist.RoundInput, s: int) -> list[int]:
    """Note shard ``s``'s task under ``tag``: the tasks below are sent a test's own tag as their input,
    so that a task of an earlier test still running on the worker thread counts for that test."""
    calls = _CALLS.setdefault(cast(str, tag), [])
    calls.append(s)
    return calls


def _lost_once(shard: dist.Shard, s: int, tag: dist.RoundInput) -> int:
    """Shard 0's first task fails as a lost connection does (an OSError with no task's note)."""
    if _ran(tag, s).count(0) == 1 and s == 0:
        raise OSError("connection to the worker lost")
    return int(shard.X.shape[1])


def _always_lost(shard: dist.Shard, s: int, tag: dist.RoundInput) -> int:
    """Shard 0's task fails as a lost connection does, every time, numbering its attempts."""
    calls = _ran(tag, s)
    if s == 0:
        raise OSError(f"shard 0 lost ({calls.count(0)})")
    return int(shard.X.shape[1])


def _wrong(shard: dist.Shard, s: int, tag: dist.RoundInput) -> int:
    _ran(tag, s)
    raise ValueError("not lost work")


def _columns_of(shard: dist.Shard, s: int, tag: dist.RoundInput) -> int:
    _ran(tag, s)
    return int(shard.X.shape[1])


def _placed(client: Client, retries: int) -> dist.DaskShards:
    X, Y = _data(12)
    return dist.place_shards(client, (dist.Shard(X[:, :8], Y[:, :8]), dist.Shard(X[:, 8:], Y[:, 8:])), retries=retries)


def _tag(name: str) -> dist.RoundInput:
    return cast(dist.RoundInput, name)  # the tasks below read no round input: a tag instead


def test_a_round_whose_work_was_lost_runs_again_and_gives_the_shards_results(client: Client) -> None:
    placed = _placed(client, retries=1)
    results, waiting = placed.map(_lost_once, _tag("lost once"))
    assert results == [8, 4]
    assert sorted(_CALLS["lost once"]) == [0, 0, 1, 1]  # both tasks sent again
    assert placed.replaced == 0  # no worker was lost: no shard sent again
    assert 0 < waiting < 60


def test_a_round_lost_more_often_than_its_retries_raises_naming_the_attempts_and_the_last_error(client: Client) -> None:
    for retries in (0, 2):
        placed = _placed(client, retries=retries)
        with pytest.raises(RuntimeError, match=rf"^a round failed {retries + 1} times as workers were lost; last: shard 0 lost \({retries + 1}\)$") as raised:
            placed.map(_always_lost, _tag(f"always lost {retries}"))
        assert isinstance(raised.value.__cause__, OSError)
        assert str(raised.value.__cause__) in str(raised.value)
        assert _CALLS[f"always lost {retries}"].count(0) == retries + 1


def test_an_error_that_is_not_lost_work_is_raised_at_once_without_a_retry(client: Client) -> None:
    placed = _placed(client, retries=2)
    with pytest.raises(ValueError, match="^not lost work$"):
        placed.map(_wrong, _tag("wrong"))
    deadline = time.monotonic() + 5
    while len(_CALLS.get("wrong", [])) < 2 and time.monotonic() < deadline:  # the other task may still run, once
        time.sleep(0.01)
    assert sorted(_CALLS["wrong"]) in ([0], [1], [0, 1])  # one attempt: none sent again


def test_a_shard_whose_data_was_lost_is_sent_again_from_the_drivers_copy_before_the_round(client: Client) -> None:
    placed = _placed(client, retries=0)  # no retry needed: the loss is found before any task is sent
    client.cancel([placed.futures[1]])  # type: ignore[no-untyped-call]  # distributed's partial types
    results, _ = placed.map(_columns_of, _tag("columns of"))
    assert results == [8, 4]
    assert placed.replaced == 1 and sorted(_CALLS["columns of"]) == [0, 1]
    assert placed.futures[1].status == "finished"


def _holding(shard: dist.Shard, s: int, tag: dist.RoundInput, lock: object = None) -> int:
    return s


def test_a_task_that_cannot_be_sent_raises_dasks_own_error_at_once(client: Client) -> None:
    # the error raised while the round's tasks are submitted, before any future exists: not
    # a NameError from the handler that cancels them (the mutant without `futures = []`)
    placed = _placed(client, retries=2)
    with pytest.raises(TypeError, match="^\\('Could not serialize object") as raised:
        placed.map(functools.partial(_holding, lock=threading.Lock()), _tag("holding"))
    assert "cannot pickle '_thread.lock' object" in str(raised.value.__cause__)
    assert placed.replaced == 0 and "holding" not in _CALLS


def test_a_round_sending_more_than_ten_megabytes_of_parameters_warns_of_nothing(client: Client) -> None:
    # Dask warns of a graph over 10 MB ("Sending large graph"), and warnings are errors here:
    # parameters of 1,320,012 float64 (10.6 MB) travel with each task, the same as this process gives
    X = np.random.default_rng(3).standard_normal((1200, 6))
    Y = one_hot(np.arange(6) % 3, 3)
    params = initialize_parameters((1200, 1100, 3), np.random.default_rng(4))
    shards = dist.split_shards(X, Y, 2)
    common = dict(activations=ACTIVATIONS, loss=LOSS, rounds=1, learning_rate=0.1)
    there = list(dist.train_rounds(dist.place_shards(client, shards), params, **common))[-1]  # type: ignore[arg-type]
    here = list(dist.train_rounds(shards, params, **common))[-1]  # type: ignore[arg-type]
    for key in params:
        np.testing.assert_allclose(there.params[key], here.params[key], rtol=1e-12, atol=0)
