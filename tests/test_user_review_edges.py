"""Degenerate sizes, tried as a user would: a softmax over a single output unit.

A softmax over one unit is exactly 1 for every input, so its gradient is 0: such a network
trains without a word, its cost never moves, and ``predict`` says class 1 for every sample.
``train`` (and ``train_epochs``, ``distributed.train_rounds``) refuse it before any training,
naming the fix, as ``predict_digit.py`` already does for a saved network of that shape.
"""

from __future__ import annotations

import numpy as np
import pytest

from functional_nn import forward_propagation, initialize_parameters, train, train_epochs
from functional_nn.distributed import split_shards, train_rounds
from functional_nn.types import Loss

ONE_UNIT_SOFTMAX = r"output layer has 1 unit .* 'softmax', whose output over one unit is always 1.* use 'sigmoid'"


def test_a_one_unit_softmax_really_is_constant_and_learns_nothing(rng: np.random.Generator) -> None:
    """Why the refusal: the layer's output is 1 whatever its weights and inputs."""
    params = initialize_parameters((2, 3, 1), rng)
    X = rng.standard_normal((2, 5)) * 100
    AL, _ = forward_propagation(X, params, ("relu", "softmax"))
    assert AL.tolist() == [[1.0] * 5]


@pytest.mark.parametrize("loss", ["binary_cross_entropy", "mean_squared_error", "hinge"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_train_refuses_a_softmax_over_one_output_unit(rng: np.random.Generator, loss: Loss, dtype: type[np.floating]) -> None:
    params = initialize_parameters((2, 3, 1), rng, dtype=dtype)
    X = rng.standard_normal((2, 4)).astype(dtype)
    Y = np.array([[0.0, 1.0, 1.0, 0.0]], dtype=dtype)
    with pytest.raises(ValueError, match=ONE_UNIT_SOFTMAX):
        train(X, Y, params, activations=("relu", "softmax"), loss=loss, epochs=1, learning_rate=0.1)
    with pytest.raises(ValueError, match=ONE_UNIT_SOFTMAX):  # checked when called, before the first epoch is asked for
        train_epochs(X, Y, params, activations=("relu", "softmax"), loss=loss, epochs=1, learning_rate=0.1)


def test_train_refuses_it_without_a_hidden_layer_and_with_one_hot_targets_of_one_class(rng: np.random.Generator) -> None:
    """The one case categorical cross-entropy lets through: one class, every column [1]."""
    params = initialize_parameters((1, 1), rng)
    X, Y = rng.standard_normal((1, 3)), np.ones((1, 3))
    with pytest.raises(ValueError, match=ONE_UNIT_SOFTMAX):
        train(X, Y, params, activations=("softmax",), loss="categorical_cross_entropy", epochs=1, learning_rate=0.1)


def test_a_sigmoid_unit_and_a_softmax_over_two_units_still_train(rng: np.random.Generator) -> None:
    X = rng.standard_normal((2, 4))
    labels = np.array([0.0, 1.0, 1.0, 0.0])
    one = train(X, labels[np.newaxis], initialize_parameters((2, 1), rng), activations=("sigmoid",),
                loss="binary_cross_entropy", epochs=2, learning_rate=0.1)  # fmt: skip
    two = train(X, np.stack([1 - labels, labels]), initialize_parameters((2, 2), rng), activations=("softmax",),
                loss="categorical_cross_entropy", epochs=2, learning_rate=0.1)  # fmt: skip
    assert one.history[1].cost < one.history[0].cost and two.history[1].cost < two.history[0].cost


def test_train_rounds_refuses_it_before_any_round(rng: np.random.Generator) -> None:
    params = initialize_parameters((2, 3, 1), rng)
    shards = split_shards(rng.standard_normal((2, 4)), np.array([[0.0, 1.0, 1.0, 0.0]]), 2)
    with pytest.raises(ValueError, match=ONE_UNIT_SOFTMAX):
        train_rounds(shards, params, activations=("relu", "softmax"), loss="binary_cross_entropy", rounds=1, learning_rate=0.1)
