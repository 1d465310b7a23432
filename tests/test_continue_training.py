"""Continuing a run from a given optimizer state: chained runs equal one longer run bitwise,
and a state that does not fit the params or the optimizer is refused."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from functional_nn.data import one_hot
from functional_nn.initializers import initialize_parameters
from functional_nn.optimizers import Optimizer, OptimizerState, adam, momentum, sgd
from functional_nn.schedules import cosine_decay
from functional_nn.training import TrainResult, train
from functional_nn.types import Activation, FloatArray, Params

ACTIVATIONS: tuple[Activation, ...] = ("relu", "softmax")


def data(dtype: type[np.floating]) -> tuple[FloatArray, FloatArray]:
    draw = np.random.default_rng(1)
    labels = draw.integers(0, 3, 50)
    X = draw.standard_normal((4, 50)).astype(dtype) + labels.astype(dtype)
    return X, one_hot(labels, 3, dtype=dtype)


def run(
    X: FloatArray, Y: FloatArray, params: Params, optimizer: Optimizer, rng: np.random.Generator, epochs: int,
    state: OptimizerState | None = None,
) -> TrainResult:
    return train(
        X, Y, params, activations=ACTIVATIONS, loss="categorical_cross_entropy", epochs=epochs, optimizer=optimizer,
        batch_size=16, keep_probs=0.8, rng=rng, optimizer_state=state,
    )  # fmt: skip


OPTIMIZERS: dict[str, Callable[[], Optimizer]] = {
    "adam": lambda: adam(0.01),
    "momentum+cosine": lambda: momentum(cosine_decay(0.05, decay_steps=20)),
    "sgd": lambda: sgd(0.1),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_two_chained_epochs_equal_one_two_epoch_run_bitwise(dtype: type[np.floating], name: str) -> None:
    optimizer = OPTIMIZERS[name]()
    X, Y = data(dtype)
    params = initialize_parameters([4, 6, 3], np.random.default_rng(0), dtype=dtype)
    whole = run(X, Y, params, optimizer, np.random.default_rng(7), 2)
    rng = np.random.default_rng(7)
    first = run(X, Y, params, optimizer, rng, 1)
    second = run(X, Y, first.params, optimizer, rng, 1, first.optimizer_state)
    assert second.optimizer_state.step == whole.optimizer_state.step == 2 * 4  # 50 samples in batches of 16
    for key in params:
        np.testing.assert_array_equal(second.params[key], whole.params[key])
        assert second.params[key].dtype == dtype
    for slot_name, slot in whole.optimizer_state.slots.items():
        for key in params:
            np.testing.assert_array_equal(second.optimizer_state.slots[slot_name][key], slot[key])
    # Without the state the second run restarts the optimizer (moments, schedule) and differs.
    if name != "sgd":
        restarted = run(X, Y, first.params, optimizer, np.random.default_rng(7), 1)
        assert not np.array_equal(restarted.params["W1"], whole.params["W1"])


def test_a_state_that_does_not_fit_is_refused() -> None:
    X, Y = data(np.float64)
    params = initialize_parameters([4, 6, 3], np.random.default_rng(0))
    other = initialize_parameters([4, 5, 3], np.random.default_rng(0))
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"optimizer_state.slots\['m'\]\['W1'\] is float64 \(5, 4\) but params\['W1'\] is float64 \(6, 4\)"):
        run(X, Y, params, adam(0.01), rng, 1, adam(0.01).init(other))
    with pytest.raises(ValueError, match=r"optimizer_state has the slots \['velocity'\] but adam keeps \['m', 'v'\]"):
        run(X, Y, params, adam(0.01), rng, 1, momentum(0.1).init(params))
    float32 = {k: v.astype(np.float32) for k, v in params.items()}
    with pytest.raises(ValueError, match=r"float32 \(6, 4\) but params\['W1'\] is float64"):
        run(X, Y, params, adam(0.01), rng, 1, adam(0.01).init(float32))
    not_a_state: object = (0, {})
    with pytest.raises(TypeError, match="optimizer_state must be an OptimizerState"):
        run(X, Y, params, adam(0.01), rng, 1, not_a_state)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="optimizer_state.step must be >= 0"):
        run(X, Y, params, sgd(0.1), rng, 1, OptimizerState(-1, {}))
