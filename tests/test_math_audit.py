"""From an audit of the maths: a user's record whose function returns another shape or dtype
is refused by name where it is called, not broadcast into wrong gradients or a float64
network; the L2 penalty of float32 weights past 1.8e19 is finite; an output with no units
is refused. Warnings are errors."""

from __future__ import annotations

import numpy as np
import pytest

from functional_nn import (
    ActivationFunction,
    LossFunction,
    backward_propagation,
    check_loss,
    compute_cost,
    forward_propagation,
    initialize_parameters,
    one_hot,
    predict_proba,
    train,
)
from functional_nn.activations import tanh, tanh_backward
from functional_nn.types import FloatArray
from user_records import SOFTSIGN, softsign


def _float32_network(rng: np.random.Generator) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
    X = rng.standard_normal((2, 6)).astype(np.float32)
    Y = one_hot(rng.integers(0, 2, 6), 2).astype(np.float32)
    return X, Y, initialize_parameters([2, 3, 2], rng, dtype=np.float32)


def test_a_forward_of_another_dtype_is_refused_not_carried_into_a_float64_network(rng: np.random.Generator) -> None:
    X, Y, params = _float32_network(rng)
    upcast = SOFTSIGN._replace(name="upcast", forward=lambda Z: softsign(Z).astype(np.float64))
    message = (
        r"layer 1's activation 'upcast': forward returned float64 \(3, 6\) for Z of float32 \(3, 6\); it must return "
        r"an array of Z's shape and dtype \(check_activation\(record\) checks a record before training\)"
    )
    with pytest.raises(TypeError, match=message):  # was a float64 AL, and float64 gradients
        forward_propagation(X, params, (upcast, "softmax"))
    with pytest.raises(TypeError, match=message):
        predict_proba(X, params, (upcast, "softmax"))
    with pytest.raises(TypeError, match=message):  # was "grads['dW1'] is float64 (3, 2) but params['W1'] is float32"
        train(X, Y, params, activations=(upcast, "softmax"), loss="categorical_cross_entropy", epochs=1, learning_rate=0.1)


def test_a_backward_of_another_shape_is_refused_not_turned_into_gradients_of_another_shape(rng: np.random.Generator) -> None:
    X, Y, params = _float32_network(rng)
    summed = SOFTSIGN._replace(name="summed", backward=lambda dA, Z, A: SOFTSIGN.backward(dA, Z, A).sum(axis=0, keepdims=True))
    AL, caches = forward_propagation(X, params, (summed, "softmax"))
    # was {"dW1": (1, 2), "db1": (1, 1), ...}, which update_parameters would broadcast into W1 (3, 2)
    with pytest.raises(ValueError, match=r"layer 1's activation 'summed': backward returned float32 \(1, 6\) for Z of float32 \(3, 6\)"):
        backward_propagation(AL, Y, caches, "categorical_cross_entropy")


def test_an_in_place_backward_that_returns_nothing_is_named(rng: np.random.Generator) -> None:
    X, Y, params = _float32_network(rng)

    def tanh_backward_in_place(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
        dA *= 1 - A * A
        return None  # type: ignore[return-value]  # the mistake is the test

    in_place = ActivationFunction("my_tanh", tanh, tanh_backward, (-1.0, 1.0), tanh_backward_in_place)
    AL, caches = forward_propagation(X, params, (in_place, "softmax"))
    # was "unsupported operand type(s) for @: 'NoneType' and 'numpy.ndarray'" from inside the kernel
    with pytest.raises(TypeError, match="layer 1's activation 'my_tanh': backward_in_place returned NoneType for Z of float32"):
        backward_propagation(AL, Y, caches, "categorical_cross_entropy")


def test_a_loss_gradient_of_another_shape_is_refused_not_broadcast_into_wrong_gradients(rng: np.random.Generator) -> None:
    X = rng.standard_normal((2, 5))
    Y = rng.standard_normal((2, 5))
    params = initialize_parameters([2, 2], rng)

    def squares(AL: FloatArray, Y: FloatArray) -> float:
        return float(np.sum((AL - Y) ** 2) / AL.shape[1])

    def column_sums(AL: FloatArray, Y: FloatArray) -> FloatArray:  # the units summed: (1, m), not (2, m)
        gradient: FloatArray = 2 * (AL - Y).sum(axis=0, keepdims=True)
        return gradient

    AL, caches = forward_propagation(X, params, ("tanh",))
    # was gradients of the parameters' shapes and wrong values: the (1, 5) row broadcast over both units
    with pytest.raises(ValueError, match=r"loss 'summed_squares': gradient returned float64 \(1, 5\) for AL of float64 \(2, 5\).*check_loss\(record\)"):
        backward_propagation(AL, Y, caches, LossFunction("summed_squares", squares, column_sums))
    scalar = LossFunction("scalar", squares, lambda AL, Y: 1.0)  # type: ignore[arg-type, return-value]  # the mistake is the test
    with pytest.raises(TypeError, match=r"loss 'scalar': gradient returned float for AL of float64 \(2, 5\)"):
        backward_propagation(AL, Y, caches, scalar)


def test_the_l2_penalty_of_float32_weights_whose_squares_overflow_float32_is_finite() -> None:
    # 1e20 squared is 1e40, beyond float32's 3.4e38 but far inside float64, where the cost is summed.
    big = float(np.float32(1e20))
    params = {"W1": np.full((1, 2), big, dtype=np.float32), "b1": np.zeros((1, 1), dtype=np.float32)}
    AL = np.full((1, 3), 0.5, dtype=np.float32)
    Y = np.ones((1, 3), dtype=np.float32)
    cost = compute_cost(AL, Y, "binary_cross_entropy", lambd=0.1, params=params)  # was inf, with an overflow warning
    assert cost == pytest.approx(np.log(2) + 0.1 / (2 * 3) * 2 * big**2, rel=1e-12)


@pytest.mark.parametrize("loss", ["binary_cross_entropy", "categorical_cross_entropy", "mean_squared_error", "hinge"])
def test_an_output_with_no_units_is_refused(loss: str) -> None:
    # was NumPy's "zero-size array to reduction operation minimum" or a cost of 0.0
    with pytest.raises(ValueError, match=r"^AL has no output units: shape \(0, 3\) has n_L = 0 rows$"):
        compute_cost(np.zeros((0, 3)), np.zeros((0, 3)), loss)  # type: ignore[arg-type]  # parametrized names


def test_a_loss_gradient_that_returns_its_targets_leaves_them_untouched(rng: np.random.Generator) -> None:
    # The critic's loss mean(y a): its gradient is Y itself, and check_loss passes it.
    X = rng.standard_normal((2, 4))
    Y = np.array([[1.0, -1.0, 1.0, -1.0]])
    Y.flags.writeable = False
    critic = LossFunction("critic", lambda AL, Y: float(np.sum(AL * Y) / AL.shape[1]), lambda AL, Y: Y)
    assert check_loss(critic) < 1e-7
    params = initialize_parameters([2, 1], rng)
    AL, caches = forward_propagation(X, params, ("linear",))
    grads = backward_propagation(AL, Y, caches, critic)  # was "output array is read-only" (a writable Y: divided by m)
    np.testing.assert_array_equal(Y, [[1.0, -1.0, 1.0, -1.0]])
    np.testing.assert_allclose(grads["dW1"], Y @ X.T / 4, rtol=1e-15)
    np.testing.assert_allclose(grads["db1"], [[0.0]], atol=1e-16)
    writable = Y.copy()
    result = train(X, writable, params, activations=("linear",), loss=critic, epochs=3, learning_rate=0.1)
    np.testing.assert_array_equal(writable, Y)  # was divided by m = 4 at every step: 1/64 after three
    np.testing.assert_allclose(result.params["W1"], params["W1"] - 3 * 0.1 * Y @ X.T / 4, rtol=1e-14)
