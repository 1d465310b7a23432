"""User review of L-BFGS: what train_lbfgs reports of the point it ended at, and the estimators' warning when it stops."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

from functional_nn import compute_cost, forward_propagation
from functional_nn.lbfgs import train_lbfgs
from functional_nn.sklearn import MLPClassifier


def test_the_cost_reported_after_a_failed_line_search_is_that_of_the_returned_params() -> None:
    # a logistic regression saturated by inputs of magnitude 1e4: L-BFGS-B's line search fails
    # (ABNORMAL) after 2 iterations, and scipy's result.fun is then a rejected trial's (6.12),
    # while result.x, the params returned, is the iterate before it, whose cost is 118.07
    X = np.array([[11013.0, 3384.0, -5400.0, -12602.0, -18946.0, 186.0], [-8106.0, -8722.0, -2220.0, -518.0, -22768.0, 9251.0]])
    Y = np.array([[0.0, 0.0, 1.0, 0.0, 0.0, 1.0]])
    params = {"W1": np.array([[0.7, 0.1]]), "b1": np.array([[0.0]])}
    result = train_lbfgs(X, Y, params, activations=("sigmoid",), loss="binary_cross_entropy", max_iter=50)
    assert not result.converged
    AL, _ = forward_propagation(X, result.params, ("sigmoid",))
    cost_there = compute_cost(AL, Y, "binary_cross_entropy")
    assert cost_there > 100
    assert result.cost == cost_there
    assert result.history[-1].cost == result.cost


def test_the_convergence_warning_of_a_failed_line_search_says_what_happened_and_what_to_do() -> None:
    # iris at 1e4 times its scale saturates the outputs: scipy's message is only "ABNORMAL: ",
    # which the warning showed as "...: ABNORMAL: , or scale the data"
    X, y = load_iris(return_X_y=True)
    estimator = MLPClassifier((16,), optimizer="lbfgs", epochs=200, random_state=0)
    with pytest.warns(ConvergenceWarning) as caught:
        estimator.fit(X * 1e4, y)
    (warning,) = caught
    message = str(warning.message)
    assert "line search found no lower cost" in message and "outputs saturate" in message, message
    assert ", or scale" not in message and "; scale the data" in message, message


@pytest.mark.parametrize("learning_rate", [-1.0, "constant"])
def test_lbfgs_estimators_still_check_the_unused_learning_rate(learning_rate: Any) -> None:
    """As scikit-learn checks learning_rate_init whatever the solver: a bad one is refused by name."""
    X = np.random.default_rng(0).normal(size=(12, 3))
    with pytest.raises((ValueError, TypeError), match="learning_rate"):
        MLPClassifier((4,), optimizer="lbfgs", learning_rate=learning_rate).fit(X, (X[:, 0] > 0).astype(int))
