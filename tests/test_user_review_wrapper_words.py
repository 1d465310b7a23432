"""User review of error messages seen through a wrapper: a setting refused by the core is named
as the wrapper's user wrote it (the estimator's parameter, the RunSettings field), not by the
core's inner names (``params' W1``, ``W1 expects``), which that user never wrote."""

from __future__ import annotations

import numpy as np
import pytest

from functional_nn import initialize_parameters, sgd, train
from functional_nn import distributed as dist
from functional_nn.sklearn import MLPClassifier, MLPRegressor
from functional_nn.types import FloatArray


def test_the_estimators_name_hidden_layer_sizes_and_activation_for_a_one_unit_softmax(rng: np.random.Generator) -> None:
    X = rng.normal(size=(20, 3))
    y = np.array([0, 1] * 10)
    with pytest.raises(ValueError, match=r"^hidden layer 1 has 1 unit \(hidden_layer_sizes\[0\] is 1\) but activation is 'softmax'"):
        MLPClassifier(hidden_layer_sizes=(1,), activation="softmax", epochs=1).fit(X, y)
    with pytest.raises(ValueError, match=r"^hidden layer 2 has 1 unit \(hidden_layer_sizes\[1\] is 1\) but activation is 'softmax'"):
        MLPRegressor(hidden_layer_sizes=(4, 1), activation="softmax", epochs=1).fit(X, rng.normal(size=20))
    MLPClassifier(hidden_layer_sizes=(2,), activation="softmax", epochs=1).fit(X, y)  # two units are a softmax


def _data(rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    X = rng.normal(size=(3, 12))
    Y = np.eye(2)[:, rng.integers(0, 2, 12)]
    return X, Y


def test_run_settings_name_layer_sizes_for_a_one_unit_softmax(rng: np.random.Generator) -> None:
    X, Y = _data(rng)
    hidden = dist.RunSettings((3, 1, 2), ("softmax", "softmax"), "categorical_cross_entropy", sgd(0.1), epochs=1)
    with pytest.raises(ValueError, match=r"^settings\[0\]: hidden layer 1 has 1 unit \(layer_sizes\[1\] is 1\) but activations\[0\] is 'softmax'"):
        dist.sweep([hidden], X, Y)
    output = dist.RunSettings((3, 4, 1), ("relu", "softmax"), "categorical_cross_entropy", sgd(0.1), epochs=1)
    with pytest.raises(ValueError, match=r"^the output layer has 1 unit \(layer_sizes\[2\] is 1\) but activations\[1\] is 'softmax'"):
        dist.run_settings(output, dist.SweepData(X, Y[:1]))


def test_run_settings_name_layer_sizes_when_the_input_layer_does_not_fit_the_data(rng: np.random.Generator) -> None:
    X, Y = _data(rng)
    wide = dist.RunSettings((5, 4, 2), ("relu", "softmax"), "categorical_cross_entropy", sgd(0.1), epochs=1)
    with pytest.raises(ValueError, match=r"^settings\[0\]: layer_sizes\[0\] is 5, the input layer, but X has 3 rows \(features\)"):
        dist.sweep([wide], X, Y)
    with pytest.raises(ValueError, match=r"^layer_sizes\[0\] is 5, the input layer, but dev\[0\] has 3 rows \(features\)"):
        dist.run_settings(wide, dist.SweepData(np.zeros((5, 12)), Y, (X, Y)))
    short = wide._replace(layer_sizes=(3, 4, 4, 2))
    with pytest.raises(ValueError, match=r"^activations must name one activation per layer: layer_sizes \(3, 4, 4, 2\) has 3 layers, got 2"):
        dist.run_settings(short, dist.SweepData(X, Y))


def test_the_core_still_names_its_own_arguments(rng: np.random.Generator) -> None:
    X, Y = _data(rng)
    params = initialize_parameters((3, 1, 2), rng)
    with pytest.raises(ValueError, match=r"^hidden layer 1 has 1 unit \(params' W1 has 1 row\) but its activation \(activations\[0\]\) is 'softmax'"):
        train(X, Y, params, activations=("softmax", "softmax"), loss="categorical_cross_entropy", epochs=1, optimizer=sgd(0.1))
