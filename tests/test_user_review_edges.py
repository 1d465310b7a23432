"""Degenerate sizes, tried as a user would: a softmax over a single output unit.

A softmax over one unit is exactly 1 for every input, so its gradient is 0: such a network
trains without a word, its cost never moves, and ``predict`` says class 1 for every sample.
``train`` (and ``train_epochs``, ``distributed.train_rounds``) refuse it before any training,
naming the fix, as ``predict_digit.py`` already does for a saved network of that shape.
A softmax over one hidden unit is as constant, and refused the same way.
"""

from __future__ import annotations

from typing import Any

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


HIDDEN_ONE_UNIT_SOFTMAX = (
    r"hidden layer 1 has 1 unit \(params' W1 has 1 row\) but its activation \(activations\[0\]\) is 'softmax', "
    r"whose output over one unit is always 1, so the layers after it would see a constant"
)


def test_a_one_unit_softmax_hidden_layer_feeds_a_constant_forward(rng: np.random.Generator) -> None:
    """Why the refusal: the output is the same for every input, whatever the first layer's weights."""
    params = initialize_parameters((2, 1, 3), rng)
    AL, _ = forward_propagation(rng.standard_normal((2, 6)) * 100, params, ("softmax", "sigmoid"))
    assert np.array_equal(AL, np.repeat(AL[:, :1], 6, axis=1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_train_train_epochs_and_train_rounds_refuse_a_softmax_over_one_hidden_unit(
    rng: np.random.Generator, dtype: type[np.floating]
) -> None:
    params = initialize_parameters((2, 1, 1), rng, dtype=dtype)
    X = rng.standard_normal((2, 4)).astype(dtype)
    Y = np.array([[0.0, 1.0, 1.0, 0.0]], dtype=dtype)
    network: dict[str, Any] = {"activations": ("softmax", "sigmoid"), "loss": "binary_cross_entropy", "learning_rate": 0.1}
    with pytest.raises(ValueError, match=HIDDEN_ONE_UNIT_SOFTMAX):
        train(X, Y, params, epochs=1, **network)
    with pytest.raises(ValueError, match=HIDDEN_ONE_UNIT_SOFTMAX):
        train_epochs(X, Y, params, epochs=1, **network)
    with pytest.raises(ValueError, match=HIDDEN_ONE_UNIT_SOFTMAX):
        train_rounds(split_shards(X, Y, 2), params, rounds=1, **network)


def test_a_softmax_over_two_hidden_units_still_trains(rng: np.random.Generator) -> None:
    X = rng.standard_normal((2, 4))
    Y = np.array([[0.0, 1.0, 1.0, 0.0]])
    result = train(X, Y, initialize_parameters((2, 2, 1), rng), activations=("softmax", "sigmoid"),
                   loss="binary_cross_entropy", epochs=2, learning_rate=0.5)  # fmt: skip
    assert result.history[1].cost < result.history[0].cost


def test_train_rounds_refuses_it_before_any_round(rng: np.random.Generator) -> None:
    params = initialize_parameters((2, 3, 1), rng)
    shards = split_shards(rng.standard_normal((2, 4)), np.array([[0.0, 1.0, 1.0, 0.0]]), 2)
    with pytest.raises(ValueError, match=ONE_UNIT_SOFTMAX):
        train_rounds(shards, params, activations=("relu", "softmax"), loss="binary_cross_entropy", rounds=1, learning_rate=0.1)
