"""An optimizer, a schedule and an augmentation of one's own taken through train and
train_rounds: what a mistake in one of them is told (found by a user review of one's own
optimizer, schedule, augmentation and initialisation)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from functional_nn import Optimizer, OptimizerState, Schedule, adam, one_hot, train
from functional_nn import distributed as dist
from functional_nn.types import Activation, FloatArray, Grads, Loss, Params

ACTIVATIONS: tuple[Activation, ...] = ("relu", "softmax")
LOSS: Loss = "categorical_cross_entropy"


def _lion_init(params: Params) -> OptimizerState:
    return OptimizerState(0, {"m": {key: np.zeros_like(value) for key, value in params.items()}})


def _lion_update(rate: float, grads: Grads, state: OptimizerState, params: Params) -> tuple[dict[str, FloatArray], OptimizerState]:
    """Lion (Chen et al. 2023) without weight decay, beta1 0.9, beta2 0.99: pure."""
    new_params: dict[str, FloatArray] = {}
    m: dict[str, FloatArray] = {}
    for key, value in params.items():
        g, old = grads["d" + key], state.slots["m"][key]
        new_params[key] = value - rate * np.sign(0.9 * old + 0.1 * g)
        m[key] = 0.99 * old + 0.01 * g
    return new_params, OptimizerState(state.step + 1, {"m": m})


def _lion(rate: float = 1e-3) -> Optimizer:
    return Optimizer(_lion_init, functools.partial(_lion_update, rate), "lion", (("learning_rate", rate),))


LION = _lion()


def _in_float64(grads: Grads, state: OptimizerState, params: Params) -> tuple[dict[str, FloatArray], OptimizerState]:
    new_params, new_state = LION.update(grads, state, params)
    return {key: value.astype(np.float64) for key, value in new_params.items()}, new_state


def _flattened_bias(grads: Grads, state: OptimizerState, params: Params) -> tuple[dict[str, FloatArray], OptimizerState]:
    new_params, new_state = LION.update(grads, state, params)
    return {**new_params, "b1": new_params["b1"].ravel()}, new_state


def _params_only(grads: Grads, state: OptimizerState, params: Params) -> dict[str, FloatArray]:
    return LION.update(grads, state, params)[0]


def _in_place(grads: Grads, state: OptimizerState, params: Params) -> tuple[dict[str, FloatArray], OptimizerState]:
    for key, value in params.items():
        value -= 1e-3 * np.sign(grads["d" + key])  # the mistake: writes into the params it is given
    return dict(params), OptimizerState(state.step + 1, state.slots)


def _float64_slots(params: Params) -> OptimizerState:
    return OptimizerState(0, {"m": {key: np.zeros(value.shape) for key, value in params.items()}})


def _erase_in_place(X: FloatArray, rng: np.random.Generator) -> FloatArray:
    X[: int(rng.integers(1, 4))] = 0  # the mistake: writes into the batch it is given
    return X


def _problem(rng: np.random.Generator) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
    X = rng.random((6, 12), dtype=np.float32)
    Y = one_hot(rng.integers(0, 3, 12), 3, dtype=np.float32)
    params = {
        "W1": (0.5 * rng.standard_normal((4, 6))).astype(np.float32), "b1": np.zeros((4, 1), np.float32),
        "W2": (0.5 * rng.standard_normal((3, 4))).astype(np.float32), "b2": np.zeros((3, 1), np.float32),
    }  # fmt: skip
    return X, Y, params


@pytest.mark.parametrize(
    ("optimizer", "error", "message"),
    [
        (
            LION._replace(update=_in_float64), ValueError,
            r"lion's update returned params\['W1'\] as float64 \(4, 6\) but params\['W1'\] is float32 \(4, 6\)",
        ),
        (
            LION._replace(update=_flattened_bias), ValueError,
            r"lion's update returned params\['b1'\] as float32 \(4,\) but params\['b1'\] is float32 \(4, 1\)",
        ),
        (LION._replace(update=_params_only), TypeError,  # type: ignore[arg-type]  # the mistake mypy sees too
         r"lion's update must return \(new_params, new_state\), got dict"),
        (LION._replace(init=_float64_slots), ValueError, r"lion's init state\.slots\['m'\]\['W1'\] is float64 \(4, 6\) but params\['W1'\] is float32"),
    ],
    ids=["float64 params", "flattened bias", "params only", "float64 slots"],
)  # fmt: skip
def test_train_names_an_optimizer_of_ones_own_that_returns_the_wrong_thing(
    rng: np.random.Generator, optimizer: Optimizer, error: type[Exception], message: str
) -> None:
    # today: float64 params (or slots) train on silently in float64, the bias grows to (4**8,) entries, a bare
    # "too many values to unpack"
    X, Y, params = _problem(rng)
    with pytest.raises(error, match=message):
        train(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=2, optimizer=optimizer, batch_size=4, rng=rng)


def test_train_rounds_names_an_update_of_ones_own_returning_float64(rng: np.random.Generator) -> None:
    X, Y, params = _problem(rng)
    rounds = dist.train_rounds(
        dist.split_shards(X, Y, 2), params, activations=ACTIVATIONS, loss=LOSS, rounds=2,
        optimizer=LION._replace(update=_in_float64), local_steps=2,
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"lion's update returned params\['W1'\] as float64"):
        list(rounds)


def test_an_update_writing_into_its_params_is_named_and_leaves_the_callers_alone(rng: np.random.Generator) -> None:
    X, Y, params = _problem(rng)
    before = {key: value.copy() for key, value in params.items()}
    with pytest.raises(ValueError, match=r"lion's update wrote into its arguments"):
        train(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=2, optimizer=LION._replace(update=_in_place))
    for key, value in params.items():
        np.testing.assert_array_equal(value, before[key])  # "params: the starting parameters; not modified"


def test_an_augmentation_writing_into_the_whole_training_set_is_named(rng: np.random.Generator) -> None:
    X, Y, params = _problem(rng)
    before = X.copy()
    with pytest.raises(ValueError, match=r"augmentation wrote into the batch it was given"):
        train(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=2, optimizer=LION, rng=rng, augmentation=_erase_in_place)
    np.testing.assert_array_equal(X, before)  # without batch_size the batch was X itself, erased epoch after epoch


def _one_cycle(peak: float, total: int, step: int) -> float:
    return peak * min(1.0, 0.1 + 1.8 * step / total) if step < total / 2 else peak * max(0.0, 2.0 - 2.0 * step / total)


def test_a_schedule_of_ones_own_is_checked_when_the_optimizer_is_made() -> None:
    # today: the first update fails with "_one_cycle() missing 2 required positional arguments"
    with pytest.raises(TypeError, match=r"learning_rate\.rule must be a function of the step number .* _one_cycle\(peak"):
        adam(Schedule(_one_cycle, "one_cycle"))  # type: ignore[arg-type]  # the mistake mypy sees too
    # today: "not enough values to unpack (expected 2, got 1)" from inside adam
    with pytest.raises(TypeError, match=r"learning_rate\.hyperparameters must be a tuple of \(name, number\) pairs, .*got \('peak', 0\.1\)"):
        adam(Schedule(functools.partial(_one_cycle, 0.1, 100), "one_cycle", ("peak", 0.1)))  # type: ignore[arg-type]


def test_flat_hyperparameters_of_an_optimizer_of_ones_own_are_named(rng: np.random.Generator, tmp_path: Path) -> None:
    X, Y, params = _problem(rng)
    flat = LION._replace(hyperparameters=("learning_rate", 1e-3))  # type: ignore[arg-type]
    # today: "too many values to unpack (expected 2)" from inside the checkpoints' description
    with pytest.raises(TypeError, match=r"hyperparameters of optimizer 'lion' must be a tuple of \(name, number\) pairs"):
        train(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=1, optimizer=flat, checkpoint_dir=tmp_path)
