"""User review of early stopping: a dev figure that is NaN on the first epoch must not stay
the best for the rest of the run."""

from __future__ import annotations

import math

import numpy as np

from functional_nn import EarlyStopping, train


def test_a_nan_first_dev_cost_is_beaten_by_the_first_number() -> None:
    # A 1-1-1 linear network trained on zeros: only the L2 penalty moves it, halving W1 every
    # epoch (4 -> 2 -> 1 -> ...); W2 stays 0. The dev sample 1e308 makes the hidden unit
    # overflow while W1 > 1.8, and 0 * inf is NaN: dev costs NaN, 0, 0, 0.
    params = {"W1": np.array([[4.0]]), "b1": np.zeros((1, 1)), "W2": np.array([[0.0]]), "b2": np.zeros((1, 1))}
    X, Y = np.zeros((1, 2)), np.zeros((1, 2))
    dev = (np.array([[1e308]]), np.zeros((1, 1)))
    with np.errstate(over="ignore", invalid="ignore"):  # the dev forward pass overflows on purpose
        result = train(
            X, Y, params, activations=("linear", "linear"), loss="mean_squared_error", epochs=6,
            learning_rate=0.5, lambd=2.0, dev=dev, early_stopping=EarlyStopping(patience=2),
        )  # fmt: skip
    dev_costs = [record.dev_cost for record in result.history]
    assert dev_costs[0] is not None and math.isnan(dev_costs[0]) and dev_costs[1:] == [0.0, 0.0, 0.0]
    # epoch 2 is the best (0 beats NaN); epochs 3 and 4 do not improve on 0, so patience 2 ends the run at 4
    assert (result.best_epoch, result.best_value, result.epoch, result.stopped) == (2, 0.0, 4, True)
    assert result.best_params is not None
    np.testing.assert_array_equal(result.best_params["W1"], [[1.0]])
