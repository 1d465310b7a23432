"""A user's review of check_activation and check_loss: pieces of one's own that are right
must pass, pieces that are wrong in one place must not."""

from __future__ import annotations

import numpy as np
import pytest

from functional_nn import (
    ActivationFunction,
    FloatArray,
    LossFunction,
    backward_propagation,
    check_activation,
    check_loss,
    forward_propagation,
    initialize_parameters,
)
from functional_nn.gradient_check import RecordCheckError


def test_the_built_in_softmax_passes_over_40_units() -> None:
    # A column's 40 outputs all move with one z: rounding puts about 2.5e-12 into the
    # differences, where the derivative at z = -4.69 is 7.3e-8 (a relative 1.75e-5).
    assert check_activation("softmax", shape=(40, 40), rng=np.random.default_rng(2)) < 1e-5


def test_the_built_in_mean_squared_error_passes_over_20_units_and_40_samples() -> None:
    # m * J is about 800, so the costs' rounding puts about 5e-8 into m times their
    # differences, where the gradient at a = 0.0002, y = 0 is 4e-4 (a relative 6.6e-5).
    assert check_loss("mean_squared_error", shape=(20, 40), rng=np.random.default_rng(1)) < 1e-5


def _steep_sigmoid(Z: FloatArray) -> FloatArray:
    A: FloatArray = 0.5 * (1 + np.tanh(5 * Z))  # sigmoid(10 z), as the README's mish writes the logistic
    return A


def _steep_sigmoid_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    dZ: FloatArray = dA * 10 * A * (1 - A)
    return dZ


def test_a_right_saturating_activation_passes() -> None:
    # At z = 2.73 the derivative is 1.9e-11; the differences of values near 1 carry an ulp over
    # epsilon, about 1e-11, which no backward pass can match to a relative 1e-5.
    steep = ActivationFunction("steep_sigmoid", _steep_sigmoid, _steep_sigmoid_backward, output_range=(0.0, 1.0))
    assert check_activation(steep) < 1e-5
    wrong = steep._replace(name="steep_sigmoid_off", backward=lambda dA, Z, A: _steep_sigmoid_backward(dA, Z, A) * Z.dtype.type(1.01))
    with pytest.raises(RecordCheckError, match=r"activation 'steep_sigmoid_off': backward differs from centred differences"):
        check_activation(wrong)


def _binary_cost(AL: FloatArray, Y: FloatArray) -> float:
    return float(-np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / AL.shape[1])


def _binary_gradient_wrong_for_label_0(AL: FloatArray, Y: FloatArray) -> FloatArray:
    dAL: FloatArray = -Y / AL + 2 * (1 - Y) / (1 - AL)  # the y = 0 term doubled
    return dAL


def test_check_loss_over_one_unit_meets_label_0_too() -> None:
    # shape (1, m), a binary loss's own shape: a one-hot column of one row is always 1
    wrong = LossFunction("binary_off_for_0", _binary_cost, _binary_gradient_wrong_for_label_0, probability_output=True)
    with pytest.raises(RecordCheckError, match=r"loss 'binary_off_for_0': gradient differs from m times the centred differences of cost"):
        check_loss(wrong, shape=(1, 8))
    right = wrong._replace(name="binary", gradient=lambda AL, Y: -Y / AL + (1 - Y) / (1 - AL))
    assert check_loss(right, shape=(1, 8)) < 1e-7
    assert check_loss("categorical_cross_entropy", shape=(1, 8)) < 1e-7  # its fused softmax over one unit: y = 1


class _KeepsItsOutput:
    """A layer in the style of class-based frameworks: backward reads what forward last kept."""

    def __init__(self) -> None:
        self.A: FloatArray = np.zeros((0, 0))

    def forward(self, Z: FloatArray) -> FloatArray:
        self.A = np.tanh(Z)
        return self.A

    def backward(self, dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
        dZ: FloatArray = dA * (1 - self.A * self.A)
        return dZ


def test_a_backward_that_reads_the_last_forward_not_its_arguments_is_refused() -> None:
    # In a network with this record in two layers, layer 1's backward would read layer 2's A.
    layer = _KeepsItsOutput()
    record = ActivationFunction("kept_tanh", layer.forward, layer.backward, output_range=(-1.0, 1.0))
    with pytest.raises(RecordCheckError, match=r"activation 'kept_tanh': backward differs from centred differences"):
        check_activation(record)



def _binary_gradient(AL: FloatArray, Y: FloatArray) -> FloatArray:
    dAL: FloatArray = -Y / AL + (1 - Y) / (1 - AL)
    return dAL


def test_a_fused_activation_given_by_its_name_is_that_built_in(rng: np.random.Generator) -> None:
    # The name "sigmoid" was accepted but kept as a str: check_loss failed with AttributeError
    # ('str' object has no attribute 'forward'), the output-range refusal with another ('name'),
    # and backpropagation silently took the chain rule instead of the declared A_L - Y.
    named = LossFunction("my_binary", _binary_cost, _binary_gradient, probability_output=True, fused_activation="sigmoid")  # type: ignore[arg-type]
    assert check_loss(named) < 1e-7
    X, Y = rng.standard_normal((2, 6)), np.array([[0.0, 1.0, 1.0, 0.0, 1.0, 0.0]])
    params = initialize_parameters([2, 3, 1], rng)
    AL, caches = forward_propagation(X, params, ["relu", "sigmoid"])
    fused = backward_propagation(AL, Y, caches, "binary_cross_entropy")  # A_L - Y
    grads = backward_propagation(AL, Y, caches, named)
    assert all(np.array_equal(grads[key], fused[key]) for key in fused)
    AL, caches = forward_propagation(X, params, ["relu", "relu"])
    with pytest.raises(ValueError, match=r"loss 'my_binary' needs outputs in \[0, 1\], but the output activation 'relu' ranges over \[0\.0, inf\]: use 'sigmoid'"):
        backward_propagation(AL, Y, caches, named)


def test_a_categorical_loss_wrong_for_one_class_only_is_refused_whichever_classes_are_drawn() -> None:
    """check_loss drew each sample's class at random: at shape (10, 10) class 9 never came up, and
    a loss whose gradient is wrong only for it passed. Now every class appears when m >= n."""

    def gradient(AL: FloatArray, Y: FloatArray) -> FloatArray:
        wrong_row: FloatArray = AL - Y
        wrong_row[9] += 0.5 * Y[9]  # wrong only where a sample is of class 9
        return wrong_row

    wrong = LossFunction("mse_wrong_for_class_9", lambda AL, Y: float(np.sum((AL - Y) ** 2) / 2 / AL.shape[1]), gradient)
    with pytest.raises(RecordCheckError):
        check_loss(wrong, shape=(10, 10))
