"""The 2-3-1 tutorial reproduced: the library's run equals the tutorial's own functions to 1e-9.

The tutorial's functions are written out here from scratch, as the tutorial writes them, with
nothing from the library: a sigmoid, a forward pass, the binary cross-entropy, the backward
pass with dW = dZ A^T / m and db = sum over the samples / m, and the update.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from functional_nn import forward_propagation, initialize_parameters, train
from functional_nn.losses import compute_cost
from functional_nn.types import FloatArray
from functional_nn.data.toy import ToyMaker, make_moons, make_xor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import binary_classification  # noqa: E402  (the scripts folder is not a package)

Array = FloatArray  # float64 here: the tutorial has no float32
TutorialParams = dict[str, Array]


# ---- the tutorial, from scratch -------------------------------------------------------------
def tutorial_sigmoid(z: Array) -> Array:
    return 1 / (1 + np.exp(-z))


def tutorial_init(rng: np.random.Generator, n_x: int = 2, n_h: int = 3, n_y: int = 1) -> TutorialParams:
    W1 = rng.standard_normal((n_h, n_x))
    b1 = rng.standard_normal((n_h, 1))
    W2 = rng.standard_normal((n_y, n_h))
    b2 = rng.standard_normal((n_y, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def tutorial_forward(X: Array, p: TutorialParams) -> tuple[Array, Array]:
    A1 = tutorial_sigmoid(p["W1"] @ X + p["b1"])
    A2 = tutorial_sigmoid(p["W2"] @ A1 + p["b2"])
    return A1, A2


def tutorial_cost(A2: Array, Y: Array) -> float:
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m)


def tutorial_backward(X: Array, Y: Array, p: TutorialParams, A1: Array, A2: Array) -> TutorialParams:
    m = X.shape[1]
    dZ2 = A2 - Y
    dW2 = dZ2 @ A1.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = (p["W2"].T @ dZ2) * A1 * (1 - A1)
    dW1 = dZ1 @ X.T / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def tutorial_update(p: TutorialParams, g: TutorialParams, learning_rate: float) -> TutorialParams:
    return {k: p[k] - learning_rate * g["d" + k] for k in p}


def tutorial_train(X: Array, Y: Array, p: TutorialParams, epochs: int, learning_rate: float) -> tuple[TutorialParams, list[float]]:
    costs = []
    for _ in range(epochs):
        A1, A2 = tutorial_forward(X, p)
        costs.append(tutorial_cost(A2, Y))
        p = tutorial_update(p, tutorial_backward(X, Y, p, A1, A2), learning_rate)
    return p, costs


# ---- the comparison -------------------------------------------------------------------------
def test_initialisation_draws_match_the_tutorial() -> None:
    ours = initialize_parameters([2, 3, 1], np.random.default_rng(42), scheme="standard_normal")
    theirs = tutorial_init(np.random.default_rng(42))
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_array_equal(ours[key], theirs[key])


@pytest.mark.parametrize("maker", [make_moons, make_xor])
def test_library_training_equals_the_tutorial_to_1e_9(maker: ToyMaker) -> None:
    rng = np.random.default_rng(0)
    X, y = maker(200, rng)
    Y = y[np.newaxis, :].astype(np.float64)
    state = rng.bit_generator.state
    params = initialize_parameters([2, 3, 1], rng, scheme="standard_normal")
    rng.bit_generator.state = state  # the tutorial draws the same numbers from the same point
    tutorial_params, tutorial_costs = tutorial_train(X, Y, tutorial_init(rng), epochs=1000, learning_rate=1.0)

    result = train(
        X, Y, params, activations=("sigmoid", "sigmoid"), loss="binary_cross_entropy", epochs=1000,
        learning_rate=1.0, batch_size=None,
    )  # fmt: skip
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(result.params[key], tutorial_params[key], rtol=0, atol=1e-9)
    costs = np.array([record.cost for record in result.history])
    np.testing.assert_allclose(costs, tutorial_costs, rtol=0, atol=1e-9)
    assert costs[-1] < costs[0]  # it learned something, so the comparison is not vacuous


def test_the_script_runs_the_same_computation(tmp_path: Path) -> None:
    run = binary_classification.run(binary_classification.parse_args(["--epochs", "1000", "--seed", "3", "--out", str(tmp_path)]))
    rng = np.random.default_rng(3)
    X, y = make_moons(200, rng)
    Y = y[np.newaxis, :].astype(np.float64)
    tutorial_params, tutorial_costs = tutorial_train(X, Y, tutorial_init(rng), epochs=1000, learning_rate=1.0)
    np.testing.assert_allclose(run.costs, tutorial_costs, rtol=0, atol=1e-9)
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(run.params[key], tutorial_params[key], rtol=0, atol=1e-9)


def test_one_forward_step_by_hand() -> None:
    X = np.array([[1.0], [2.0]])  # one sample, x = (1, 2)
    params = {
        "W1": np.array([[0.1, 0.2], [0.3, -0.1], [0.0, 0.5]]),
        "b1": np.array([[0.0], [0.1], [-0.2]]),
        "W2": np.array([[1.0, -1.0, 0.5]]),
        "b2": np.array([[0.0]]),
    }
    # Z1 = W1 x + b1 = (0.1 + 0.4, 0.3 - 0.2 + 0.1, 0 + 1 - 0.2) = (0.5, 0.2, 0.8)
    # A1 = sigmoid(Z1) = (0.6224593312018546, 0.549833997312478, 0.6899744811276125)
    # Z2 = A1[0] - A1[1] + 0.5 A1[2] = 0.4176125744531829; A2 = sigmoid(Z2) = 0.6029118189946732
    AL, caches = forward_propagation(X, params, ("sigmoid", "sigmoid"))
    np.testing.assert_allclose(caches[0].Z[:, 0], [0.5, 0.2, 0.8], rtol=0, atol=1e-15)
    np.testing.assert_allclose(caches[1].A_prev[:, 0], [0.6224593312018546, 0.549833997312478, 0.6899744811276125], rtol=1e-12)
    np.testing.assert_allclose(caches[1].Z[0, 0], 0.4176125744531829, rtol=1e-12)
    np.testing.assert_allclose(AL[0, 0], 0.6029118189946732, rtol=1e-12)
    # with y = 1 the cost is -log(A2) = 0.5059843301050764
    assert compute_cost(AL, np.array([[1.0]]), "binary_cross_entropy") == pytest.approx(0.5059843301050764, rel=1e-12)
    assert 1 / (1 + math.exp(-0.5)) == pytest.approx(0.6224593312018546, rel=1e-15)  # the literal above

    # and the first gradient-descent step agrees with the tutorial's arithmetic
    step = train(X, np.array([[1.0]]), params, activations=("sigmoid", "sigmoid"), loss="binary_cross_entropy",
                 epochs=1, learning_rate=0.5)  # fmt: skip
    dZ2 = 0.6029118189946732 - 1.0
    A1 = np.array([0.6224593312018546, 0.549833997312478, 0.6899744811276125])
    np.testing.assert_allclose(step.params["W2"][0], params["W2"][0] - 0.5 * dZ2 * A1, rtol=1e-12)
    np.testing.assert_allclose(step.params["b2"][0, 0], -0.5 * dZ2, rtol=1e-12)
    dZ1 = params["W2"][0] * dZ2 * A1 * (1 - A1)
    np.testing.assert_allclose(step.params["W1"], params["W1"] - 0.5 * np.outer(dZ1, [1.0, 2.0]), rtol=1e-12)
    np.testing.assert_allclose(step.params["b1"][:, 0], params["b1"][:, 0] - 0.5 * dZ1, rtol=1e-12)
