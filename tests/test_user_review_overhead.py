"""The tutorial's small networks trained for many epochs: what ``train`` keeps per epoch.

``train`` returns only its last state, so it need not copy the whole history into every
state of its fold (at 50,000 epochs of the 2-3-1 network that copying took longer than the
training). These tests hold what it returns to what ``train_epochs`` yields, bit for bit,
with early stopping, with checkpoints and a resumed run, and the divergence check it runs
every epoch to the cases it must catch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from functional_nn import EarlyStopping, initialize_parameters, train, train_epochs
from functional_nn.checkpoints import latest_checkpoint, load_checkpoint
from functional_nn.training import TrainingDivergedError, TrainState, diverged_parameter
from functional_nn.types import FloatArray

ACTIVATIONS = ("sigmoid", "sigmoid")


def tutorial_problem(rng: np.random.Generator, m: int = 40) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
    """The 2-3-1 tutorial network on an XOR-like set of ``m`` samples."""
    X = rng.standard_normal((2, m))
    Y = (X[0:1] * X[1:2] > 0).astype(np.float64)
    return X, Y, initialize_parameters([2, 3, 1], rng, scheme="standard_normal")


def assert_same_state(result: TrainState, expected: TrainState) -> None:
    assert result.epoch == expected.epoch
    assert result.history == expected.history
    assert result.params.keys() == expected.params.keys()
    for key, value in expected.params.items():
        assert result.params[key].tobytes() == value.tobytes(), key
    assert result.optimizer_state.step == expected.optimizer_state.step
    assert (result.best_epoch, result.best_value, result.epochs_since_best, result.stopped) == (
        expected.best_epoch, expected.best_value, expected.epochs_since_best, expected.stopped,
    )  # fmt: skip


def test_train_returns_every_epochs_record_and_train_epochs_last_state_bitwise(rng: np.random.Generator) -> None:
    X, Y, params = tutorial_problem(rng)
    arguments = dict(activations=ACTIVATIONS, loss="binary_cross_entropy", epochs=250, learning_rate=1.0)
    result = train(X, Y, params, **arguments)  # type: ignore[arg-type]
    *_, last = train_epochs(X, Y, params, **arguments)  # type: ignore[arg-type]
    assert_same_state(result, last)
    assert [record.epoch for record in result.history] == list(range(1, 251))
    assert result.history[0].cost > result.history[-1].cost


def test_train_with_early_stopping_keeps_the_whole_history_and_the_best_state(rng: np.random.Generator) -> None:
    X, Y, params = tutorial_problem(rng)
    X_dev, Y_dev, _ = tutorial_problem(np.random.default_rng(1), m=20)
    stopping = EarlyStopping(patience=4, min_delta=0.05)
    arguments = dict(
        activations=ACTIVATIONS, loss="binary_cross_entropy", epochs=400, learning_rate=1.0, dev=(X_dev, Y_dev),
        early_stopping=stopping,
    )  # fmt: skip
    result = train(X, Y, params, **arguments)  # type: ignore[arg-type]
    *_, last = train_epochs(X, Y, params, **arguments)  # type: ignore[arg-type]
    assert result.stopped and result.epoch < 400
    assert_same_state(result, last)
    assert result.best_params is not None and last.best_params is not None
    for key, value in last.best_params.items():
        assert result.best_params[key].tobytes() == value.tobytes(), key
    assert [record.epoch for record in result.history] == list(range(1, result.epoch + 1))


def test_checkpoints_and_a_resumed_train_hold_the_whole_history(rng: np.random.Generator, tmp_path: Path) -> None:
    X, Y, params = tutorial_problem(rng)
    arguments = dict(activations=ACTIVATIONS, loss="binary_cross_entropy", learning_rate=1.0)
    whole = train(X, Y, params, epochs=12, **arguments)  # type: ignore[arg-type]
    train(X, Y, params, epochs=7, checkpoint_dir=tmp_path, **arguments)  # type: ignore[arg-type]
    saved = latest_checkpoint(tmp_path)
    assert saved is not None
    assert load_checkpoint(saved).state.history == whole.history[:7]
    resumed = train(X, Y, params, epochs=12, checkpoint_dir=tmp_path, resume=True, **arguments)  # type: ignore[arg-type]
    assert_same_state(resumed, whole)
    last = latest_checkpoint(tmp_path)
    assert last is not None
    assert load_checkpoint(last).state.history == whole.history


@pytest.mark.parametrize("resumed", [False, True])
def test_divergence_is_still_measured_against_the_first_epoch(rng: np.random.Generator, tmp_path: Path, resumed: bool) -> None:
    """Gradient descent with too large a step on a linear unit: the cost grows about tenfold an
    epoch and passes 1e4 times the first epoch's within a few epochs (measured against a later
    epoch's cost, it would run on until the cost overflowed); ``train`` stops where
    ``train_epochs``, whose states hold the whole history, does. Resumed after epoch 2, the same."""
    X, Y, _ = tutorial_problem(rng)
    params = initialize_parameters([2, 1], rng)
    arguments = dict(activations=("linear",), loss="mean_squared_error", learning_rate=1.5)
    with pytest.raises(TrainingDivergedError, match="more than 10000 times") as expected:
        for _ in train_epochs(X, Y * 4, params, epochs=200, **arguments):  # type: ignore[arg-type]
            pass
    assert "epoch 2:" not in str(expected.value) and "epoch 3:" not in str(expected.value)  # past the trimming
    if resumed:
        train(X, Y * 4, params, epochs=2, checkpoint_dir=tmp_path, **arguments)  # type: ignore[arg-type]
    with pytest.raises(TrainingDivergedError) as raised:
        train(X, Y * 4, params, epochs=200, **arguments, **(dict(checkpoint_dir=tmp_path, resume=True) if resumed else {}))  # type: ignore[arg-type]
    assert str(raised.value) == str(expected.value)


@pytest.mark.parametrize(
    ("value", "dtype", "what"),
    [
        (np.nan, np.float64, "NaN or infinite values"),
        (-np.inf, np.float64, "NaN or infinite values"),
        (-1e16, np.float64, "a value of magnitude 1e+16, beyond the float64 bound 4.504e+15"),
        (9e6, np.float32, "a value of magnitude 9e+06, beyond the float32 bound 8.389e+06"),
    ],
)
def test_the_divergence_check_finds_a_parameter_beyond_its_bound(value: float, dtype: type[np.floating[Any]], what: str) -> None:
    params = initialize_parameters([2, 3, 1], np.random.default_rng(0), dtype=dtype)
    assert diverged_parameter(params) is None
    b2 = params["b2"].copy()
    b2[0, 0] = value
    found = diverged_parameter({**params, "b2": b2})
    assert found is not None
    assert found[0] == "b2"
    assert found[1].startswith(what), found[1]
