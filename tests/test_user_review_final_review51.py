"""Final review of the sample-weight change: an estimator's weights whose sum overflows are
refused whole, naming the argument typed, with or without early stopping; train_rounds names a
loss's sample_costs, not its cost, when sample_costs made the NaN (as train does); sweep with
dev_sample_weight and a dev that is not a tuple says so, not "pass dev"."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from functional_nn.distributed import RunSettings, split_shards, sweep, train_rounds
from functional_nn.initializers import initialize_parameters
from functional_nn.losses import mean_squared_error, mean_squared_error_gradient
from functional_nn.optimizers import sgd
from functional_nn.sklearn import MLPClassifier
from functional_nn.training import TrainingDivergedError, train
from functional_nn.types import FloatArray, LossFunction


@pytest.mark.parametrize("early_stopping", [False, True])
def test_estimator_weights_summing_beyond_float64_are_refused_as_sample_weight(
    rng: np.random.Generator, early_stopping: bool
) -> None:
    # two weights of 1e308 sum to inf: refused without early stopping; with it, the split left
    # both parts finite (fitted on) or named the held-out part's dev_sample_weight, never typed
    X = rng.normal(size=(20, 3))
    y = (X[:, 0] > 0).astype(int)
    for i in range(19):
        weights = np.ones(20)
        weights[[i, i + 1]] = 1e308
        estimator = MLPClassifier(
            hidden_layer_sizes=(4,), epochs=1, early_stopping=early_stopping, validation_fraction=0.1, random_state=0
        )
        with pytest.raises(ValueError, match=r"^sample_weight sums beyond float64's range"):
            estimator.fit(X, y, sample_weight=weights)


def _nan_below_targets(AL: FloatArray, Y: FloatArray) -> npt.NDArray[np.float64]:
    """Per-column costs that are NaN where AL < Y (the square root of a negative number)."""
    with np.errstate(invalid="ignore"):
        costs: npt.NDArray[np.float64] = np.sqrt(np.sum(AL - Y, axis=0, dtype=np.float64))
    return costs


def test_train_rounds_names_sample_costs_that_made_the_nan_as_train_does(rng: np.random.Generator) -> None:
    loss = LossFunction("my_loss", mean_squared_error, mean_squared_error_gradient, sample_costs=_nan_below_targets)
    X, Y = rng.normal(size=(2, 8)), rng.normal(size=(1, 8))
    params = initialize_parameters((2, 3, 1), rng)
    weights = np.ones(8)
    message = r"loss 'my_loss' gave it for finite outputs AL in .*: its sample_costs, not the learning rate"
    with pytest.raises(TrainingDivergedError, match=message):
        train(X, Y, params, activations=("relu", "linear"), loss=loss, epochs=1, learning_rate=0.1, sample_weight=weights)
    shards = split_shards(X, Y, 2)
    with pytest.raises(TrainingDivergedError, match=r"on shard 0: its cost is nan; " + message):
        list(train_rounds(shards, params, activations=("relu", "linear"), loss=loss, rounds=1, learning_rate=0.1, sample_weight=weights))


def test_sweep_with_dev_sample_weight_and_a_dev_list_says_dev_must_be_a_tuple(rng: np.random.Generator) -> None:
    # dev was given (as a list): "pass dev too" named a missing argument; train's words say what came
    X = rng.normal(size=(2, 10))
    Y = (X[:1] > 0).astype(np.float64)
    settings = [RunSettings((2, 3, 1), ("relu", "sigmoid"), "binary_cross_entropy", sgd(0.1), epochs=1)]
    with pytest.raises(TypeError, match=r"dev must be a tuple \(X_dev, Y_dev\), got list"):
        sweep(settings, X, Y, dev=[X, Y], dev_sample_weight=np.ones(10))  # type: ignore[arg-type]  # the mistake tested
    with pytest.raises(ValueError, match=r"dev_sample_weight weighs the dev set's samples: pass dev=\(X_dev, Y_dev\) too"):
        sweep(settings, X, Y, dev_sample_weight=np.ones(10))
