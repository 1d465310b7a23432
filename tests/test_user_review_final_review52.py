"""Final review of the session's change: L-BFGS's divergence advice and its public vector helpers.

A run of L-BFGS that ends at a weight past its dtype's bound was told to "try a smaller
learning rate", which L-BFGS has none of (the estimators ignore ``learning_rate`` with
``optimizer="lbfgs"``), and the estimators could not say it in their settings' names
(``coefs_[0]``, ``dtype='float64'``). ``unflatten_params`` refused a (1, n) vector of the right
size with "the vector holds 3 numbers but the parameters 3", and ``flatten_params`` left out a
layer whose bias was missing, silently."""

from __future__ import annotations

import re

import numpy as np
import pytest

from functional_nn.lbfgs import flatten_params, objective, train_lbfgs, unflatten_params
from functional_nn.sklearn import MLPRegressor
from functional_nn.training import TrainingDivergedError


def test_lbfgs_ending_past_the_float32_bound_advises_no_learning_rate() -> None:
    # a linear unit whose least-squares weight is 1e8, past float32's bound 1/eps = 8.4e6
    X = np.linspace(-1.0, 1.0, 20, dtype=np.float32).reshape(1, -1)
    Y = np.float32(1e8) * X
    params = {"W1": np.zeros((1, 1), np.float32), "b1": np.zeros((1, 1), np.float32)}
    with pytest.raises(TrainingDivergedError) as caught:
        train_lbfgs(X, Y, params, activations=["linear"], loss="mean_squared_error")
    message = str(caught.value)
    assert "learning rate" not in message
    assert re.match(r"L-BFGS ended at iteration \d+ \(.+\) where W1 holds a value of magnitude 1e\+08, beyond the float32 bound", message)
    assert message.endswith("rescale the data or use float64 params (bound 4.504e+15)")


def test_the_lbfgs_estimator_says_its_divergence_in_its_settings_names() -> None:
    X = np.linspace(-1.0, 1.0, 20).reshape(-1, 1)
    regressor = MLPRegressor((), activation="linear", optimizer="lbfgs", dtype="float32", random_state=0)
    with pytest.raises(TrainingDivergedError) as caught:
        regressor.fit(X, 1e8 * X[:, 0])
    message = str(caught.value)
    assert "learning_rate" not in message and "W1" not in message
    assert "coefs_[0] (the weights into the output layer) holds a value of magnitude 1e+08" in message
    assert message.endswith("rescale X and y or fit with dtype='float64' (bound 4.504e+15)")


def test_unflatten_params_names_the_vector_shape_it_wants() -> None:
    like = {"W1": np.zeros((1, 2)), "b1": np.zeros((1, 1))}
    with pytest.raises(ValueError, match=r"vector must have shape \(3,\), one number for each of the parameters, got shape \(1, 3\)"):
        unflatten_params(np.array([[1.0, 2.0, 3.0]]), like)
    function, start = objective(np.ones((2, 3)), np.ones((1, 3)), like, activations=["sigmoid"], loss="binary_cross_entropy")
    assert start.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match=r"vector must have shape \(3,\).*got shape \(1, 3\)"):
        function(start.reshape(1, 3))


def test_flatten_params_refuses_a_layer_without_its_bias() -> None:
    params = {"W1": np.ones((1, 2)), "b1": np.ones((1, 1)), "W2": np.ones((1, 1))}
    with pytest.raises(ValueError, match=r"params is missing \['b2'\]"):
        flatten_params(params)
    with pytest.raises(ValueError, match=r"like is missing \['b2'\]"):
        unflatten_params(np.zeros(4), params)
