"""User review of reproducibility: the same parameters give the same numbers bit for bit,
whatever the order of their dict's keys."""

from __future__ import annotations

import numpy as np

from functional_nn import compute_cost, initialize_parameters, one_hot, train
from functional_nn.types import Activation, FloatArray


def _params_whose_penalty_depends_on_order() -> dict[str, FloatArray]:
    """A 1-2-2-1 network whose squared weights sum to 1, 2^-53 and 2^-53 in layer order: added
    in that order the total is exactly 1 (1 + 2^-53 rounds to 1, twice), added from the last
    layer it is 1 + 2^-52."""
    tiny = 2.0**-27  # its square is 2^-54: two of them make 2^-53
    return {
        "W1": np.array([[1.0], [0.0]]),
        "b1": np.zeros((2, 1)),
        "W2": np.array([[tiny, tiny], [0.0, 0.0]]),
        "b2": np.zeros((2, 1)),
        "W3": np.array([[tiny, tiny]]),
        "b3": np.zeros((1, 1)),
    }


def test_l2_penalty_is_summed_in_layer_order_whatever_the_key_order() -> None:
    params = _params_whose_penalty_depends_on_order()
    AL = np.array([[0.5]])
    # mean squared error of AL = Y is 0, and lambd / (2 m) = 1: the cost is the sum of squares, in layer order
    canonical = compute_cost(AL, AL.copy(), "mean_squared_error", lambd=2.0, params=params)
    assert canonical == 1.0
    for order in (list(reversed(params)), ["W3", "W2", "W1", "b1", "b2", "b3"], ["b1", "W2", "W1", "b2", "W3", "b3"]):
        reordered = {key: params[key] for key in order}
        assert compute_cost(AL, AL.copy(), "mean_squared_error", lambd=2.0, params=reordered) == canonical


def test_training_the_same_parameters_in_another_key_order_gives_the_same_history(rng: np.random.Generator) -> None:
    # a network of 11 layers: a dict sorted by key (W1, W10, W11, W2, ...) holds the same parameters
    params = initialize_parameters([3] + [4] * 10 + [2], rng)
    X = rng.standard_normal((3, 20))
    Y = one_hot(rng.integers(0, 2, 20), 2)
    activations: tuple[Activation, ...] = ("tanh",) * 10 + ("softmax",)
    runs = [
        train(X, Y, given, activations=activations, loss="categorical_cross_entropy", epochs=2, learning_rate=0.1, lambd=0.3, dev=(X, Y))
        for given in (params, dict(sorted(params.items())), {key: params[key] for key in reversed(params)})
    ]
    for run in runs[1:]:
        assert [(r.cost, r.dev_cost) for r in run.history] == [(r.cost, r.dev_cost) for r in runs[0].history]
        assert all(np.array_equal(run.params[key], runs[0].params[key]) for key in params)
