r"""Activation functions :math:`A = g(Z)` and their backward passes :math:`dZ = dA \odot g'(Z)`.

Every function keeps the shape and dtype of its input and never writes into it. The backward
pass takes the forward pass's ``Z`` and ``A`` so that nothing is computed twice: the sigmoid's
derivative is :math:`A(1 - A)`, the tanh's :math:`1 - A^2`. Softmax couples the units of a
column, so its backward pass is the Jacobian-vector product
:math:`dZ = A \odot (dA - \mathbf{1}\,\mathbf{1}^\top (A \odot dA))`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, NamedTuple, get_args

import numpy as np

from functional_nn.types import Activation, FloatArray

LEAKY_RELU_SLOPE: Final = 0.01



def linear(Z: FloatArray) -> FloatArray:
    r""":math:`g(z) = z`. Returns ``Z`` itself: arrays are never written in place here."""
    return Z


def relu(Z: FloatArray) -> FloatArray:
    r""":math:`g(z) = \max(z, 0)`, elementwise; shape and dtype of ``Z``."""
    return np.maximum(Z, 0)


def leaky_relu(Z: FloatArray) -> FloatArray:
    r""":math:`g(z) = z` for :math:`z > 0`, else :math:`0.01\,z`."""
    return np.where(Z > 0, Z, Z * LEAKY_RELU_SLOPE)


def sigmoid(Z: FloatArray) -> FloatArray:
    r""":math:`\sigma(z) = 1 / (1 + e^{-z})`, computed without overflow for any finite ``z``.

    With :math:`e = e^{-|z|} \in (0, 1]`: :math:`\sigma(z) = 1/(1+e)` for :math:`z \ge 0` and
    :math:`e/(1+e)` for :math:`z < 0`, so ``exp`` never sees a large positive argument.
    """
    # Far in the tails e^{-|z|} falls below the smallest normal number: rounding it to zero
    # is the right answer, not an error, even for a caller running under errstate(all="raise").
    with np.errstate(under="ignore"):
        e = np.exp(-np.abs(Z))
        return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))


def tanh(Z: FloatArray) -> FloatArray:
    r""":math:`g(z) = \tanh z`."""
    return np.tanh(Z)


def softmax(Z: FloatArray) -> FloatArray:
    r"""Softmax over each column: :math:`a_{ij} = e^{z_{ij} - \max_k z_{kj}} / \sum_k e^{z_{kj} - \max_k z_{kj}}`.

    Subtracting each column's maximum keeps every exponent :math:`\le 0`, so nothing overflows
    and each column sums to 1 within the dtype's precision.
    """
    column_max: FloatArray = Z.max(axis=0, keepdims=True)
    with np.errstate(under="ignore"):
        E = np.exp(Z - column_max)
    column_sum: FloatArray = E.sum(axis=0, keepdims=True)
    E /= column_sum  # E is a fresh temporary
    return E


def linear_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    return dA


def relu_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    return np.where(Z > 0, dA, 0)


def leaky_relu_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    return np.where(Z > 0, dA, dA * LEAKY_RELU_SLOPE)


def sigmoid_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    with np.errstate(under="ignore"):
        return dA * A * (1 - A)


def tanh_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    return dA * (1 - A * A)


def softmax_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    with np.errstate(under="ignore"):
        weighted: FloatArray = (A * dA).sum(axis=0, keepdims=True)
        return A * (dA - weighted)


class ActivationFunctions(NamedTuple):
    """An activation and its backward pass ``backward(dA, Z, A) -> dZ``."""

    forward: Callable[[FloatArray], FloatArray]
    backward: Callable[[FloatArray, FloatArray, FloatArray], FloatArray]
    output_range: tuple[float, float]  # closed bounds of g(z) over finite z


ACTIVATIONS: Final[Mapping[Activation, ActivationFunctions]] = {
    "linear": ActivationFunctions(linear, linear_backward, (-np.inf, np.inf)),
    "relu": ActivationFunctions(relu, relu_backward, (0.0, np.inf)),
    "leaky_relu": ActivationFunctions(leaky_relu, leaky_relu_backward, (-np.inf, np.inf)),
    "sigmoid": ActivationFunctions(sigmoid, sigmoid_backward, (0.0, 1.0)),
    "tanh": ActivationFunctions(tanh, tanh_backward, (-1.0, 1.0)),
    "softmax": ActivationFunctions(softmax, softmax_backward, (0.0, 1.0)),
}

ACTIVATION_NAMES: Final[tuple[Activation, ...]] = get_args(Activation)
