"""The distributed layer's promises as an audit checked them: bitwise equality stated with its
condition (the BLAS threads) and tested on worker processes, failures that cancel the work
they leave, and arguments refused by name before anything reaches a cluster.

Clusters come from ``test_distributed``'s fixtures (a ``LocalCluster`` of two threads on
127.0.0.1, closed at the end of the module), but for the one test that needs worker
processes, which starts and closes its own; every test runs under the module's watchdog.
"""

from __future__ import annotations

import functools
import math
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask.config
import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from distributed import Client

from functional_nn import distributed as dist
from functional_nn.fold_state import RoundState
from functional_nn.initializers import initialize_parameters
from functional_nn.optimizers import adam, sgd
from functional_nn.training import TrainingDivergedError
from functional_nn.types import FloatArray
from test_distributed import ACTIVATIONS, LOSS, _assert_bitwise, _data, _last, _params, _scheduler_address, client, deadline  # noqa: F401  # fixtures

COMMON: dict[str, Any] = dict(activations=ACTIVATIONS, loss=LOSS)


def _settings(**changes: Any) -> dist.RunSettings:
    return dist.RunSettings(**{**dict(layer_sizes=(5, 4, 3), activations=ACTIVATIONS, loss=LOSS, optimizer=sgd(0.1), epochs=1), **changes})


# --------------------------------------------------------------------------------------------
# 1. bit for bit: the same shards and settings with as many BLAS threads


def test_worker_processes_give_this_processs_bits_when_it_has_one_blas_thread_too() -> None:
    """The documented equality, on the default cluster (worker processes, one BLAS thread
    each): products large enough that a BLAS with more threads splits them."""
    rng = np.random.default_rng(0)
    m = 1024
    X = rng.standard_normal((200, m)).astype(np.float32)
    Y = np.eye(10, dtype=np.float32)[:, rng.integers(0, 10, m)]
    params = initialize_parameters((200, 128, 10), np.random.default_rng(1), dtype=np.float32)
    shards = dist.split_shards(X, Y, 2)
    common = dict(activations=("relu", "softmax"), loss=LOSS, rounds=2, optimizer=adam(1e-3), batch_size=256, seed=1)
    settings = [dist.RunSettings((200, 128, 10), ("relu", "softmax"), LOSS, adam(1e-3), epochs=1, batch_size=256, seed=1)]
    with threadpool_limits(1, user_api="blas"):
        here = {local: _last(dist.train_rounds(shards, params, local_steps=local, **common)) for local in (None, 2)}  # type: ignore[arg-type]
        alone = dist.run_settings(settings[0], dist.SweepData(X, Y))
    with dist.cluster_client(n_workers=2, processes=True, timeout=30) as c:
        pools = [pool for found in c.run(threadpool_info).values() for pool in found if pool["user_api"] == "blas"]
        assert {pool["num_threads"] for pool in pools} == {1}  # WORKER_ENV: one BLAS thread each
        placed = dist.place_shards(c, shards)
        for local, expected in here.items():
            _assert_bitwise(_last(dist.train_rounds(placed, params, local_steps=local, **common)).params, expected.params)  # type: ignore[arg-type]
        (swept,) = dist.sweep(settings, X, Y, client=c)
    _assert_bitwise(swept.params, alone.params)


# --------------------------------------------------------------------------------------------
# 2. a failure cancels the rest of its work


def _busy(dask_worker: Any) -> int:  # Any: a distributed.Worker; run by client.run on each
    """The tasks a worker is still running, cancelled ones included (they hold its thread)."""
    return sum(1 for task in dask_worker.state.tasks.values() if task.state in ("executing", "long-running", "cancelled"))


def _wait_until_idle(c: Client, seconds: float) -> dict[str, int]:
    limit = time.monotonic() + seconds
    while True:
        busy: dict[str, int] = c.run(_busy)
        if not any(busy.values()) or time.monotonic() > limit:
            return busy
        time.sleep(0.05)


def _fail_at_first(i: int, result: object) -> None:
    raise RuntimeError("on_done failed")


@pytest.mark.parametrize("failure", ["a run diverges", "on_done raises"])
def test_a_failing_sweep_cancels_its_other_runs_and_keeps_nothing_on_the_cluster(
    rng: np.random.Generator, client: Client, failure: str
) -> None:
    X, Y = _data(rng, m=60)
    # Runs of a minute or more (60 one-sample steps an epoch), started after the first run, as
    # its estimated work (epochs x samples x weights, the task's priority) is larger.
    long_runs = [_settings(epochs=20_000, batch_size=1, seed=seed) for seed in range(3)]
    raised: type[Exception]
    if failure == "a run diverges":
        first, on_done, raised = _settings(layer_sizes=(5, 256, 3), optimizer=sgd(1e9), epochs=600), None, TrainingDivergedError
    else:
        first, on_done, raised = _settings(layer_sizes=(5, 256, 3), epochs=600), _fail_at_first, RuntimeError
    before = set(client.futures)
    with pytest.raises(raised):
        dist.sweep([first, *long_runs], X, Y, client=client, on_done=on_done)
    assert set(client.futures) <= before  # neither the runs nor the data sent are held
    # the runs already started stop at the end of their epoch, not a minute later
    assert not any(_wait_until_idle(client, 20).values())
    (result,) = dist.sweep([_settings()], X, Y, client=client)
    _assert_bitwise(result.params, dist.run_settings(_settings(), dist.SweepData(X, Y)).params)


def _slow_on_shard_0(X: FloatArray, rng: np.random.Generator) -> FloatArray:
    if X.shape[1] == 20:  # shard 0 of (20, 10): still running when shard 1 fails
        time.sleep(0.5)
        return X
    raise ValueError("shard 1's augmentation failed")


def test_a_failing_round_keeps_none_of_its_tasks_on_the_cluster(rng: np.random.Generator, client: Client) -> None:
    X, Y = _data(rng, m=30)
    placed = dist.place_shards(client, (dist.Shard(X[:, :20], Y[:, :20]), dist.Shard(X[:, 20:], Y[:, 20:])))
    before = set(client.futures)
    with pytest.raises(ValueError, match="shard 1's augmentation failed"):
        _last(dist.train_rounds(placed, _params(), **COMMON, rounds=2, learning_rate=0.1, augmentation=_slow_on_shard_0))
    assert set(client.futures) <= before  # the shards' own futures, and nothing of the round
    assert all(future.status == "finished" for future in placed.futures)


# --------------------------------------------------------------------------------------------
# 3. check_workers' own arguments


def test_check_workers_refuses_bad_packages_and_timeouts_before_asking_the_workers(client: Client) -> None:
    cases: list[tuple[object, object, type[Exception], str]] = [
        ("numpy", 60.0, TypeError, r"packages must be a list of module names, not a str: pass \['numpy'\]"),
        ([""], 60.0, ValueError, r"packages\[0\] must be a module name such as 'numpy' or 'scipy\.sparse', got ''"),
        (["numpy", "a..b"], 60.0, ValueError, r"packages\[1\] must be a module name"),
        (["numpy", 3], 60.0, TypeError, r"packages\[1\] must be a module name \(a str\) such as 'numpy', got int 3"),
        (None, 60.0, TypeError, r"packages must be a list of module names such as \['numpy', 'functional_nn'\], got NoneType"),
        (["numpy"], -1, ValueError, r"timeout must be a finite number > 0, got -1"),
        (["numpy"], math.inf, ValueError, r"timeout must be a finite number > 0, got inf"),
        (["numpy"], "x", TypeError, r"timeout must be a number, got str 'x'"),
    ]
    for packages, timeout, error, message in cases:
        with pytest.raises(error, match=message):
            dist.check_workers(client, packages, timeout=timeout)  # type: ignore[arg-type]


def test_a_missing_submodule_is_named_like_a_missing_package(client: Client) -> None:
    with pytest.raises(dist.WorkerEnvironmentError, match=r"cannot import no_such_package_x\.sub, numpy\.no_such_module on worker tcp://"):
        dist.check_workers(client, ["numpy.linalg", "no_such_package_x.sub", "numpy.no_such_module"])
    assert len(dist.check_workers(client, ["numpy.linalg", "functional_nn.distributed"])) == 2


# --------------------------------------------------------------------------------------------
# 4. sweep's data_dir and on_done


def test_sweep_refuses_a_data_dir_that_cannot_hold_its_data_before_any_run(
    rng: np.random.Generator, client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, Y = _data(rng, m=30)
    monkeypatch.chdir(tmp_path)  # where Path("") would have put the data
    afile = tmp_path / "afile"
    afile.write_text("x")
    cases: list[tuple[object, type[Exception], str]] = [
        ("", ValueError, r"data_dir is an empty path"),
        (afile, ValueError, rf"data_dir's folder {re.escape(str(afile))}/sweep-data cannot hold the sweep's data: {re.escape(str(afile))} exists"),
        (3, TypeError, r"data_dir must be a str or an os\.PathLike such as pathlib\.Path\('runs'\), got int 3"),
        (b"bytes", TypeError, r"data_dir must be a str or an os\.PathLike .*, got bytes"),
        ("runs\0", ValueError, r"data_dir holds a NUL byte"),
    ]
    for data_dir, error, message in cases:
        for where in (client, None):
            with pytest.raises(error, match=message):
                dist.sweep([_settings()], X, Y, client=where, data_dir=data_dir)  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_sweep_refuses_an_on_done_that_cannot_take_index_and_result_before_any_run(rng: np.random.Generator) -> None:
    X, Y = _data(rng, m=30)
    started: list[int] = []
    settings = [_settings(), _settings(seed=1)]
    for on_done in (lambda i: started.append(i), lambda i, result, extra: None, lambda i, *, result: None):
        with pytest.raises(TypeError, match=r"on_done must take two positional arguments \(index, result\), got <lambda>\("):
            dist.sweep(settings, X, Y, on_done=on_done)  # type: ignore[arg-type]
    assert not started
    dist.sweep(settings, X, Y, on_done=lambda i, result, *more: started.append(i))  # more may follow, with defaults
    dist.sweep(settings, X, Y, on_done=functools.partial(lambda tag, i, result: started.append(i), "tag"))
    assert started == [0, 1, 0, 1]


# --------------------------------------------------------------------------------------------
# 5. cluster_client's address


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("tcp://127.0.0.1:99999", r"the port must be a number from 1 to 65535, got '99999'"),
        ("tcp://127.0.0.1:0", r"the port must be a number from 1 to 65535, got '0'"),
        ("tcp://127.0.0.1:http", r"the port must be a number from 1 to 65535, got 'http'"),
        ("tcp://127.0.0.1", r"no port"),
        ("garbage", r"no port"),
        ("inproc://x", r"the scheme must be one of tcp://, tls://, got 'inproc'"),
        ("http://127.0.0.1:8786", r"the scheme must be one of tcp://, tls://, got 'http'"),
        ("  tcp://127.0.0.1:8786", r"the scheme must be one of tcp://, tls://, got '  tcp'"),
        ("tcp://:8786", r"no host name or IP address"),
        ("tcp://::1:8786", r"an IPv6 host goes in brackets"),
    ],
)
def test_cluster_client_refuses_a_malformed_address_at_once_naming_it(
    address: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    distributed: Any = dist._import_distributed()  # Any: the module object

    def no_client(*args: object, **kwargs: object) -> None:
        raise AssertionError("a connection was tried")

    monkeypatch.setattr(distributed, "Client", no_client)
    with pytest.raises(ValueError, match=rf"^address must be a scheduler's address such as 'tcp://10\.0\.0\.5:8786', got {address!r}: {message}"):
        with dist.cluster_client(address, timeout=30):
            pass
    with dask.config.set({"scheduler-address": address}):
        with pytest.raises(ValueError, match=r"^Dask's scheduler-address setting must be a scheduler's address"):
            with dist.cluster_client(timeout=30):
                pass


def test_cluster_client_refuses_tls_without_dasks_tls_settings() -> None:
    with pytest.raises(ValueError, match=r"address 'tls://127\.0\.0\.1:8786' is reached over TLS, but Dask's TLS settings are missing"):
        with dist.cluster_client("tls://127.0.0.1:8786", timeout=1):
            pass


# --------------------------------------------------------------------------------------------
# 6. train_rounds: a closed client each round, pieces that cannot travel


def test_rounds_read_after_their_client_closed_are_refused_by_name(rng: np.random.Generator, client: Client) -> None:
    X, Y = _data(rng, m=30)
    shards = dist.split_shards(X, Y, 2)
    with dist.cluster_client(_scheduler_address(client), timeout=30) as own:
        placed = dist.place_shards(own, shards)
        started = dist.train_rounds(placed, _params(), **COMMON, rounds=3, learning_rate=0.1)
        assert next(started).round == 1
        unstarted = dist.train_rounds(placed, _params(), **COMMON, rounds=3, learning_rate=0.1)
    for rounds in (started, unstarted):
        with pytest.raises(ValueError, match=r"shards\.client is closed \(status 'closed'\): place the shards again"):
            next(rounds)


def _noisy(X: FloatArray, rng: np.random.Generator, lock: object = None) -> FloatArray:
    noise: FloatArray = X + rng.standard_normal(X.shape) * 0.01
    return noise


def _locked_rate(step: int, lock: object = None) -> float:
    return 0.1


def test_an_augmentation_or_schedule_that_cannot_travel_is_refused_when_the_rounds_are_asked_for(rng: np.random.Generator, client: Client) -> None:
    X, Y = _data(rng, m=30)
    shards = dist.split_shards(X, Y, 2)
    locked = functools.partial(_noisy, lock=threading.Lock())
    common = dict(COMMON, rounds=2, learning_rate=0.1, augmentation=locked)
    assert _last(dist.train_rounds(shards, _params(), **common)).round == 2  # in this process nothing travels
    placed = dist.place_shards(client, shards)
    with pytest.raises(TypeError, match=r"augmentation must pickle to travel to the workers .* cannot pickle '_thread\.lock' object"):
        dist.train_rounds(placed, _params(), **common)
    schedule = functools.partial(_locked_rate, lock=threading.Lock())
    with pytest.raises(TypeError, match=r"learning_rate must pickle to travel to the workers"):
        dist.train_rounds(placed, _params(), **dict(common, augmentation=None, learning_rate=schedule))
    with pytest.raises(TypeError, match=r"optimizer must pickle to travel to the workers"):
        dist.train_rounds(placed, _params(), **dict(common, augmentation=None, learning_rate=None, optimizer=sgd(schedule)))
    # what cloudpickle takes, Dask sends: a lambda, a partial of a module-level function
    for augmentation in (lambda X, rng: X, functools.partial(_noisy, lock=None)):
        assert _last(dist.train_rounds(placed, _params(), **dict(common, augmentation=augmentation))).round == 2


def test_train_rounds_refuses_a_checkpoint_dir_that_is_not_a_path_as_train_does(
    rng: np.random.Generator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, Y = _data(rng, m=30)
    monkeypatch.chdir(tmp_path)  # where Path("") would have put the checkpoints
    common = dict(COMMON, rounds=1, learning_rate=0.1)
    with pytest.raises(ValueError, match=r"checkpoint_dir is an empty path"):
        dist.train_rounds(dist.split_shards(X, Y, 2), _params(), checkpoint_dir="", **common)
    with pytest.raises(TypeError, match=r"checkpoint_dir must be a str or an os\.PathLike .*, got int 3"):
        dist.train_rounds(dist.split_shards(X, Y, 2), _params(), checkpoint_dir=3, **common)  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------------------------
# 7. epoch_states' arguments


def test_epoch_states_refuses_what_is_not_rounds_and_activations_unlike_the_rounds_layers(rng: np.random.Generator) -> None:
    X, Y = _data(rng, m=30)
    shards = dist.split_shards(X, Y, 2)

    def rounds() -> Iterator[RoundState]:
        return dist.train_rounds(shards, _params(), **COMMON, rounds=2, learning_rate=0.1)

    with pytest.raises(TypeError, match=r"states\[0\] must be a RoundState, such as train_rounds\(\.\.\.\) yields, got int"):
        dist.epoch_states([1, 2], **COMMON)  # type: ignore[list-item]
    for states in (None, _last(rounds())):
        with pytest.raises(TypeError, match=r"states must be an iterable of RoundState, such as train_rounds\(\.\.\.\) returns, got"):
            dist.epoch_states(states, **COMMON)  # type: ignore[arg-type]
    read = dist.epoch_states(iter([_last(rounds()), "round"]), **COMMON)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"states\[1\] must be a RoundState"):
        list(read)
    with pytest.raises(TypeError, match=r"activations must be a sequence of names or ActivationFunction records"):
        dist.epoch_states(rounds(), activations=3, loss=LOSS)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"activations is empty"):
        dist.epoch_states(rounds(), activations=(), loss=LOSS)
    with pytest.raises(ValueError, match=r"loss 'categorical_cross_entropy' needs outputs in \[0, 1\]"):
        dist.epoch_states(rounds(), activations=("relu", "relu"), loss=LOSS)
    three = dist.epoch_states(rounds(), activations=("relu", "relu", "softmax"), loss=LOSS)  # no dev: told by the first round
    with pytest.raises(ValueError, match=r"the params have 2 layers, got 3 names"):
        next(three)
    assert [state.epoch for state, _ in dist.epoch_states(rounds(), **COMMON)] == [1, 2]


def test_a_max_norm_that_float32_rounds_to_zero_is_refused_as_train_refuses_it(rng: np.random.Generator) -> None:
    # float32(1e-50) is 0: an all-zero row's scale would be 0 / 0, NaN, as in train before the check
    shards = dist.split_shards(*_data(rng, dtype=np.float32), 2)
    message = re.escape("max_norm must be a number > 0 in the params' dtype, got 1e-50, which float32 rounds to 0")
    with pytest.raises(ValueError, match=f"^{message}$"):
        next(dist.train_rounds(shards, _params(np.float32), **COMMON, rounds=1, learning_rate=0.1, max_norm=1e-50))
    wide = dist.split_shards(*_data(rng, dtype=np.float64), 2)  # float64 holds 1e-50
    assert _last(dist.train_rounds(wide, _params(np.float64), **COMMON, rounds=1, learning_rate=0.1, max_norm=1e-50)).round == 1
