"""The distributed layer's contract on its inputs: read-only arrays, float32 end to end, early
refusals that name the argument, and a task's failure surfacing as itself, named.

Clusters come from ``test_distributed``'s fixtures (a ``LocalCluster`` of two threads on
127.0.0.1, closed at the end of the module) and every test runs under its watchdog.
"""

from __future__ import annotations

import copy
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from distributed import Client

from functional_nn import distributed as dist
from functional_nn.losses import resolve_loss
from functional_nn.optimizers import OptimizerState, adam, sgd
from functional_nn.propagation import check_activations
from functional_nn.training import TrainingDivergedError
from functional_nn.types import FloatArray
from test_distributed import ACTIVATIONS, LOSS, _assert_bitwise, _data, _last, _params, _scheduler_address, client, deadline  # noqa: F401  # fixtures

COMMON: dict[str, Any] = dict(activations=ACTIVATIONS, loss=LOSS)


def _frozen(*arrays: FloatArray) -> None:
    for array in arrays:
        array.setflags(write=False)


def _same_records(a: dist.RoundState, b: dist.RoundState) -> None:
    """Every figure of the rounds but their clocks."""
    assert [r._replace(seconds=0.0, waiting=0.0) for r in a.history] == [r._replace(seconds=0.0, waiting=0.0) for r in b.history]


# --------------------------------------------------------------------------------------------
# 1. read-only inputs, in this process and on a cluster


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_read_only_inputs_are_accepted_and_left_bitwise_unchanged(
    rng: np.random.Generator, client: Client, tmp_path: Path, dtype: type[np.floating]
) -> None:
    X, Y = _data(rng, m=60, dtype=dtype)
    X_dev, Y_dev = _data(rng, m=20, dtype=dtype)
    params = _params(dtype)
    state = adam(0.01).init(params)  # its slots are read-only already, as optimizers make them
    _frozen(X, Y, X_dev, Y_dev, *params.values())
    inputs = (X, Y, X_dev, Y_dev, params, state)
    before = copy.deepcopy(inputs)

    shards = dist.split_shards(X, Y, 3)
    assert all(not a.flags.writeable for shard in shards for a in shard)
    placed = dist.place_shards(client, shards)
    for local in (None, 2):
        common = dict(COMMON, rounds=3, optimizer=adam(0.01), batch_size=8, local_steps=local, keep_probs=0.9,
                      lambd=0.1, clip_norm=1.0, max_norm=3.0, dev=(X_dev, Y_dev), seed=1)  # fmt: skip
        here = _last(dist.train_rounds(shards, params, **common))
        there = _last(dist.train_rounds(placed, params, **common))
        _assert_bitwise(there.params, here.params)
        for name in here.optimizer_state.slots:
            _assert_bitwise(dict(there.optimizer_state.slots[name]), dict(here.optimizer_state.slots[name]))
        _same_records(there, here)
        saved = _last(dist.train_rounds(shards, params, checkpoint_dir=tmp_path / f"run-{local}", **common))
        _assert_bitwise(saved.params, here.params)
    # the tasks themselves, given read-only parameters and a read-only optimizer state
    task = dist._Task(check_activations(ACTIVATIONS, 2), resolve_loss("loss", LOSS), 0, 8, None, 0.1, None, None, adam(0.01), 2)
    dist.gradient_sum(shards[0], 0, dist.RoundInput(params, OptimizerState(0, {}), 0, task))
    dist.local_steps(shards[1], 1, dist.RoundInput(params, state, 0, task))

    settings = [dist.RunSettings((5, 4, 3), ACTIVATIONS, LOSS, adam(0.01), epochs=2, batch_size=16, keep_probs=0.9)]
    alone = dist.sweep(settings, X, Y, dev=(X_dev, Y_dev))
    for result in (dist.sweep(settings, X, Y, dev=(X_dev, Y_dev), client=client),
                   dist.sweep(settings, X, Y, dev=(X_dev, Y_dev), client=client, data_dir=tmp_path)):  # fmt: skip
        _assert_bitwise(result[0].params, alone[0].params)
    dist.save_sweep_data(tmp_path / "saved", dist.SweepData(X, Y, (X_dev, Y_dev)))

    after = (X, Y, X_dev, Y_dev, params, state)
    for array, copied in zip(after[:4], before[:4]):
        assert not array.flags.writeable and array.dtype == copied.dtype and np.array_equal(array, copied)
    _assert_bitwise(params, before[4])
    assert state.step == before[5].step
    for name in state.slots:
        _assert_bitwise(dict(state.slots[name]), dict(before[5].slots[name]))


# --------------------------------------------------------------------------------------------
# 2. float32 end to end, and mixed dtypes refused


def test_float32_stays_float32_through_rounds_tasks_history_and_sweeps(rng: np.random.Generator, client: Client) -> None:
    X, Y = _data(rng, m=60, dtype=np.float32)
    shards = dist.split_shards(X, Y, 3)
    for local in (None, 2):
        common = dict(COMMON, rounds=3, optimizer=adam(0.01), batch_size=8, local_steps=local, lambd=0.1, dev=_data(rng, 10, np.float32))
        for where in (shards, dist.place_shards(client, shards)):
            state = _last(dist.train_rounds(where, _params(np.float32), **common))
            assert {v.dtype for v in state.params.values()} == {np.dtype(np.float32)}
            assert {v.dtype for slot in state.optimizer_state.slots.values() for v in slot.values()} == {np.dtype(np.float32)}
            for record in state.history:  # plain Python numbers, not NumPy scalars of either width
                assert record.weight is None and all(type(value) in (int, float) for value in record[:-1]), record  # no sample_weight
    task = dist._Task(check_activations(ACTIVATIONS, 2), resolve_loss("loss", LOSS), 0, None, None, 0.0, None, None, sgd(0.1), None)
    result = dist.gradient_sum(shards[0], 0, dist.RoundInput(_params(np.float32), OptimizerState(0, {}), 0, task))
    assert {v.dtype for v in result.grads.values()} == {np.dtype(np.float32)} and type(result.cost) is float
    settings = [dist.RunSettings((5, 4, 3), ACTIVATIONS, LOSS, adam(0.01), epochs=1, batch_size=16)]
    for run in (dist.sweep(settings, X, Y), dist.sweep(settings, X, Y, client=client)):
        assert {v.dtype for v in run[0].params.values()} == {np.dtype(np.float32)}
        assert {v.dtype for slot in run[0].optimizer_state.slots.values() for v in slot.values()} == {np.dtype(np.float32)}


def test_mixed_float_widths_are_refused_before_any_work_naming_the_argument(rng: np.random.Generator, client: Client) -> None:
    X, Y = _data(rng, m=30)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    with pytest.raises(TypeError, match=r"Y has dtype float32 but X is float64"):
        dist.split_shards(X, Y32, 2)
    with pytest.raises(TypeError, match=r"shards\[0\]\.Y has dtype float64 but shards\[0\]\.X is float32"):
        dist.place_shards(client, [dist.Shard(X32, Y)])
    with pytest.raises(TypeError, match=r"shards\[1\]\.X has dtype float32 but shards\[0\]\.X is float64"):
        dist.place_shards(client, [dist.Shard(X, Y), dist.Shard(X32, Y32)])
    with pytest.raises(TypeError, match=r"shards\[0\]\.X has dtype float32 but params\['W1'\] is float64"):
        dist.train_rounds(dist.split_shards(X32, Y32, 2), _params(), **COMMON, rounds=1, learning_rate=0.1)
    with pytest.raises(TypeError, match=r"shards\[0\]\.X has dtype float64 but params\['W1'\] is float32"):
        dist.train_rounds(dist.split_shards(X, Y, 2), _params(np.float32), **COMMON, rounds=1, learning_rate=0.1)
    settings = [dist.RunSettings((5, 4, 3), ACTIVATIONS, LOSS, sgd(0.1), epochs=1)]
    finished: list[int] = []
    with pytest.raises(TypeError, match=r"Y has dtype float64 but X is float32"):
        dist.sweep(settings, X32, Y, on_done=lambda i, _: finished.append(i))
    with pytest.raises(TypeError, match=r"dev\[1\] has dtype float64 but X is float32"):
        dist.sweep(settings, X32, Y32, dev=(X32, Y), on_done=lambda i, _: finished.append(i))
    assert finished == []


# --------------------------------------------------------------------------------------------
# 3. arguments refused early, naming the argument


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"local_steps": 0}, ValueError, r"local_steps must be >= 1, got 0"),
        ({"local_steps": -2}, ValueError, r"local_steps must be >= 1, got -2"),
        ({"local_steps": True}, TypeError, r"local_steps must be an integer, got bool True"),
        ({"rounds": -1}, ValueError, r"rounds must be >= 0, got -1"),
        ({"rounds": True}, TypeError, r"rounds must be an integer, got bool True"),
        ({"batch_size": 0}, ValueError, r"batch_size must be >= 1, got 0"),
        ({"seed": -1}, ValueError, r"seed must be >= 0, got -1"),
        ({"keep_probs": 1e-320}, ValueError, r"keep_probs\[0\] is 1e-320: the kept units are divided by it, and 1/1e-320 overflows float64"),
        ({"resume": "yes"}, TypeError, r"resume must be a bool, got str 'yes'"),
    ],
)
def test_train_rounds_refuses_bad_counts_when_called(rng: np.random.Generator, changes: dict[str, object], error: type[Exception], message: str) -> None:
    X, Y = _data(rng, m=30)
    arguments: dict[str, Any] = {**COMMON, "rounds": 1, "learning_rate": 0.1, **changes}
    with pytest.raises(error, match=message):
        dist.train_rounds(dist.split_shards(X, Y, 2), _params(), **arguments)  # raised by the call: nothing iterated, nothing sent


def test_bad_shards_are_refused_naming_the_shard(rng: np.random.Generator, client: Client) -> None:
    X, Y = _data(rng, m=30)
    with pytest.raises(ValueError, match=r"n_shards must be >= 1, got 0"):
        dist.split_shards(X, Y, 0)
    with pytest.raises(ValueError, match=r"31 shards of 30 samples"):
        dist.split_shards(X, Y, 31)
    with pytest.raises(TypeError, match=r"n_shards must be an integer, got bool True"):
        dist.split_shards(X, Y, True)
    cases: list[tuple[object, type[Exception], str]] = [
        ([], TypeError, r"shards must be a non-empty sequence of Shard"),
        ([dist.Shard(X, Y), dist.Shard(X[:, :0], Y[:, :0])], ValueError, r"shards\[1\] is empty"),
        ([dist.Shard(X, Y), dist.Shard(X[:4], Y)], ValueError, r"shards\[1\] has 4 features, 3 outputs.*shards\[0\] has 5, 3"),
        ([dist.Shard(X, Y), dist.Shard(X, Y[:, :5])], ValueError, r"shards\[1\]\.Y must have one column per sample"),
    ]
    for shards, error, message in cases:
        with pytest.raises(error, match=message):
            dist.train_rounds(shards, _params(), **COMMON, rounds=1, learning_rate=0.1)  # type: ignore[arg-type]
        with pytest.raises(error, match=message):
            dist.place_shards(client, shards)  # type: ignore[arg-type]


def test_a_closed_client_or_no_client_is_refused_by_name(rng: np.random.Generator, client: Client) -> None:
    X, Y = _data(rng, m=30)
    shards = dist.split_shards(X, Y, 2)
    with dist.cluster_client(_scheduler_address(client), timeout=30) as closed:  # closed on leaving the block
        placed = dist.place_shards(closed, shards)
    settings = [dist.RunSettings((5, 4, 3), ACTIVATIONS, LOSS, sgd(0.1), epochs=1)]
    with pytest.raises(ValueError, match=r"client is closed"):
        dist.place_shards(closed, shards)
    with pytest.raises(ValueError, match=r"client is closed"):
        dist.check_workers(closed)
    with pytest.raises(ValueError, match=r"client is closed"):
        dist.sweep(settings, X, Y, client=closed)
    with pytest.raises(ValueError, match=r"shards\.client is closed"):
        dist.train_rounds(placed, _params(), **COMMON, rounds=1, learning_rate=0.1)
    for not_a_client in (None, "tcp://127.0.0.1:8786"):
        with pytest.raises(TypeError, match=r"client must be a distributed\.Client"):
            dist.place_shards(not_a_client, shards)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"client must be a distributed\.Client, .* got str"):
        dist.sweep(settings, X, Y, client="tcp://127.0.0.1:8786")  # type: ignore[arg-type]


def test_sweep_refuses_its_own_arguments_before_any_run(rng: np.random.Generator) -> None:
    X, Y = _data(rng, m=30)
    settings = [dist.RunSettings((5, 4, 3), ACTIVATIONS, LOSS, sgd(0.1), epochs=1)]
    with pytest.raises(TypeError, match=r"on_done must be a function of \(index, result\), got int"):
        dist.sweep(settings, X, Y, on_done=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"data_dir must be a str or an os\.PathLike such as pathlib\.Path\('runs'\), got int"):
        dist.sweep(settings, X, Y, data_dir=3)  # type: ignore[arg-type]


def test_sweep_names_x_not_the_runs_params_for_a_dev_set_of_another_dtype(rng: np.random.Generator) -> None:
    """A sweep's user gives X, Y and dev, never params: the dtype to match is X's."""
    X, Y = _data(rng, m=30)
    settings = [dist.RunSettings((5, 4, 3), ACTIVATIONS, LOSS, sgd(0.1), epochs=1)]
    for j in (0, 1):
        dev = tuple(part.astype(np.float32) if i == j else part for i, part in enumerate(_data(rng, m=6)))
        with pytest.raises(TypeError, match=rf"^dev\[{j}\] has dtype float32 but X is float64: convert one"):
            dist.sweep(settings, X, Y, dev=dev)  # type: ignore[arg-type]


def test_cluster_client_refuses_bad_arguments_before_starting_anything() -> None:
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"address": 8786}, TypeError, r"address must be a scheduler's address such as 'tcp://10\.0\.0\.5:8786', got int"),
        ({"address": ""}, ValueError, r"address must be a scheduler's address such as 'tcp://10\.0\.0\.5:8786', got ''"),
        ({"processes": "no", "n_workers": 0}, TypeError, r"processes must be a bool, got str"),
        ({"dashboard": 1, "n_workers": 0}, TypeError, r"dashboard must be a bool, got int"),
        ({"n_workers": 0}, ValueError, r"n_workers must be >= 1, got 0"),
        ({"n_workers": True}, TypeError, r"n_workers must be an integer, got bool True"),
        ({"timeout": 0}, ValueError, r"timeout must be a finite number > 0"),
    ]
    for arguments, error, message in cases:
        with pytest.raises(error, match=message):
            with dist.cluster_client(**arguments):
                pass


# --------------------------------------------------------------------------------------------
# 4. a task that fails surfaces as itself, named, and the driver does not wait for it


class _ShardFault(Exception):
    """A user's exception with a constructor of its own (not just a message)."""

    def __init__(self, code: int, where: str) -> None:
        super().__init__(code, where)


def _missing_file(X: FloatArray, rng: np.random.Generator) -> FloatArray:
    """An augmentation whose file is missing: an OSError raised by the task, not by a lost worker."""
    with open(os.path.join(os.sep, "nonexistent", "augmentation.npy"), "rb"):
        pass
    return X  # pragma: no cover


def _fault_on_shard_1(X: FloatArray, rng: np.random.Generator) -> FloatArray:
    if X.shape[1] == 10:  # shard 1 of (20, 10)
        raise _ShardFault(7, "shard 1")
    return X


def _notes(error: BaseException) -> list[str]:
    notes: list[str] = getattr(error, "__notes__", [])
    return notes


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        # the synchronous update diverges on the driver, from every shard's gradients at once
        (None, r"training diverged at round \d+: the update made W1 hold a value of magnitude \d\.\d+e\+\d+, beyond the float64 bound 4\.504e\+15 "),
        (2, r"training diverged at round \d+ on shard \d: after its local steps, the parameter W1 holds a value of magnitude \d\.\d+e\+\d+, beyond "),
    ],
)  # fmt: skip
def test_a_diverging_round_raises_training_diverged_naming_round_and_shard_here_and_on_a_cluster(
    rng: np.random.Generator, client: Client, local: int | None, expected: str
) -> None:
    # The softmax layer's logits overflow to inf and it gives its limits, so the cost stays
    # finite (about 500): the weights' bound (1/eps, as train's) is what finds the divergence.
    X, Y = _data(rng, m=40)
    shards = dist.split_shards(X * 1e3, Y, 2)
    common = dict(COMMON, rounds=30, learning_rate=1e6, local_steps=local)
    messages = []
    for where in (shards, dist.place_shards(client, shards)):
        with pytest.raises(TrainingDivergedError, match=expected) as raised:
            _last(dist.train_rounds(where, _params(), **common))  # warnings are errors here: no overflow warning first
        messages.append(str(raised.value))
    assert messages[0] == messages[1]  # the same round and shard, whichever finished first


@pytest.mark.parametrize("local", [None, 2])
def test_an_exception_raised_by_a_task_is_itself_with_round_and_shard_noted(
    rng: np.random.Generator, client: Client, local: int | None
) -> None:
    X, Y = _data(rng, m=30)
    shards = (dist.Shard(X[:, :20], Y[:, :20]), dist.Shard(X[:, 20:], Y[:, 20:]))
    placed = dist.place_shards(client, shards)
    for augmentation, error, note in [
        (_missing_file, FileNotFoundError, "in round 1 on shard 0 (train_rounds)"),
        (_fault_on_shard_1, _ShardFault, "in round 1 on shard 1 (train_rounds)"),
    ]:
        common = dict(COMMON, rounds=2, learning_rate=0.1, local_steps=local, augmentation=augmentation)
        for where in (shards, placed):
            with pytest.raises(error) as raised:
                _last(dist.train_rounds(where, _params(), **common))
            assert type(raised.value) is error and note in _notes(raised.value)
    assert placed.replaced == 0  # no retries: a task's own error is not a lost worker


def test_a_sweep_run_that_fails_is_named_here_and_on_a_cluster(rng: np.random.Generator, client: Client) -> None:
    X, Y = _data(rng, m=30)
    settings = [dist.RunSettings((5, 4, 3), ACTIVATIONS, LOSS, sgd(0.1), epochs=1),
                dist.RunSettings((5, 4, 3), ACTIVATIONS, LOSS, sgd(1e9), epochs=3)]  # fmt: skip
    for where in (None, client):
        with pytest.raises(TrainingDivergedError) as raised:
            dist.sweep(settings, X, Y, client=where)
        assert "in settings[1] (sweep)" in _notes(raised.value)


# --------------------------------------------------------------------------------------------
# 5. what the docstrings say


def test_split_shards_gives_views_cut_as_array_split(rng: np.random.Generator) -> None:
    X, Y = _data(rng, m=61)
    for n_shards in (1, 3, 7, 61):
        shards = dist.split_shards(X, Y, n_shards)
        assert [s.X.shape[1] for s in shards] == [len(c) for c in np.array_split(np.arange(61), n_shards)]
        assert all(np.shares_memory(s.X, X) and np.shares_memory(s.Y, Y) for s in shards)


def test_one_local_step_with_l2_is_the_synchronous_round_with_l2_times_the_shards(rng: np.random.Generator) -> None:
    X, Y = _data(rng)
    shards = dist.split_shards(X, Y, 3)
    common = dict(COMMON, rounds=10, learning_rate=0.3)
    averaged = _last(dist.train_rounds(shards, _params(), lambd=0.5, local_steps=1, **common))
    synchronous = _last(dist.train_rounds(shards, _params(), lambd=1.5, **common))
    for key in averaged.params:
        np.testing.assert_allclose(averaged.params[key], synchronous.params[key], rtol=0, atol=1e-12)
    np.testing.assert_allclose([r.cost for r in averaged.history], [r.cost for r in synchronous.history], rtol=1e-12)
    assert averaged.optimizer_state.step == 10 and not math.isnan(averaged.history[-1].cost)


def test_place_shards_deals_the_shards_round_robin_in_address_order(rng: np.random.Generator, client: Client) -> None:
    X, Y = _data(rng, m=30)
    placed = dist.place_shards(client, dist.split_shards(X, Y, 5))
    workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
    assert placed.holders == [workers[s % len(workers)] for s in range(5)]
