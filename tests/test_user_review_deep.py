"""A user's review of deep networks, 12 layers: keys "W1" .. "W12", whose string order puts
"W10" before "W2". A mismatch between the params and grads or an optimizer state of such a
network was reported as two lists of two dozen string-sorted names, leaving the reader to
find the one or two that differ; the messages now name them, in the network's order."""

from __future__ import annotations

import numpy as np
import pytest

from functional_nn import adam, averaged_params, backward_propagation, ema, forward_propagation, initialize_parameters, sgd, train
from functional_nn.types import Activation

SIZES = [4, 6, 5, 6, 5, 6, 5, 6, 5, 6, 5, 6, 3]  # 12 layers
ACTIVATIONS: tuple[Activation, ...] = ("relu", "tanh", "sigmoid", "leaky_relu", "elu", "gelu", "silu", "softplus", "linear", "tanh", "relu", "softmax")


def _eleven_layers(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {key: value for key, value in params.items() if key not in ("W12", "b12")}


@pytest.mark.parametrize(
    ("change", "named"),
    [("drop dW11", r"\(missing \['dW11'\]\)$"), ("add dW13", r"\(unexpected \['dW13'\]\)$")],
)
def test_an_optimizer_update_names_the_gradient_that_differs(rng: np.random.Generator, change: str, named: str) -> None:
    params = initialize_parameters(SIZES, rng)
    X, Y = rng.standard_normal((4, 5)), np.eye(3)[:, rng.integers(0, 3, 5)]
    AL, caches = forward_propagation(X, params, ACTIVATIONS)
    grads = backward_propagation(AL, Y, caches, "categorical_cross_entropy")
    if change == "drop dW11":
        del grads["dW11"]
    else:
        grads["dW13"] = np.zeros((3, 3))
    optimizer = adam()
    with pytest.raises(ValueError, match=r"^grads must have one entry per parameter .*" + named):
        optimizer.update(grads, optimizer.init(params), params)


def test_train_names_the_layers_an_optimizer_state_of_another_depth_lacks(rng: np.random.Generator) -> None:
    params = initialize_parameters(SIZES, rng)
    X, Y = rng.standard_normal((4, 5)), np.eye(3)[:, rng.integers(0, 3, 5)]
    state = adam().init(_eleven_layers(params))
    with pytest.raises(ValueError, match=r"\(missing \['W12', 'b12'\]\): the state belongs to another network$"):
        train(X, Y, params, activations=ACTIVATIONS, loss="categorical_cross_entropy", epochs=1, optimizer=adam(), optimizer_state=state)


def test_averaged_params_names_the_layers_the_average_lacks(rng: np.random.Generator) -> None:
    params = initialize_parameters(SIZES, rng)
    state = ema(sgd(0.1), 0.5).init(_eleven_layers(params))
    with pytest.raises(ValueError, match=r"initialise the state from these params \(missing \['W12', 'b12'\]\)$"):
        averaged_params(state, params)
