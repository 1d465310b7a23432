r"""Activation functions :math:`A = g(Z)` and their backward passes :math:`dZ = dA \odot g'(Z)`.

Every function keeps the shape and dtype of its input and never writes into it. The backward
pass takes the forward pass's ``Z`` and ``A`` so that nothing is computed twice: the sigmoid's
derivative is :math:`A(1 - A)`, the tanh's :math:`1 - A^2`. Softmax couples the units of a
column, so its backward pass is the Jacobian-vector product
:math:`dZ = A \odot (dA - \mathbf{1}\,\mathbf{1}^\top (A \odot dA))`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final, get_args

import numpy as np

from functional_nn import _validation as check
from functional_nn.types import Activation, ActivationFunction, FloatArray, LossFunction

LEAKY_RELU_SLOPE: Final = 0.01



def linear(Z: FloatArray) -> FloatArray:
    r""":math:`g(z) = z`. Returns ``Z`` itself: arrays are never written in place here."""
    return Z


def relu(Z: FloatArray) -> FloatArray:
    r""":math:`g(z) = \max(z, 0)`, elementwise; shape and dtype of ``Z``."""
    # max against an array of zeros, not the scalar 0: NumPy vectorises the array-array loop
    # only, which makes this several times faster on the hidden layers of a training step.
    A = np.zeros_like(Z)
    np.maximum(Z, A, out=A)  # A is a fresh temporary
    return A


def leaky_relu(Z: FloatArray) -> FloatArray:
    r""":math:`g(z) = z` for :math:`z > 0`, else :math:`0.01\,z`.

    Computed as :math:`\max(z, 0.01\,z)`, which is the same for a slope in (0, 1).
    """
    A = Z * LEAKY_RELU_SLOPE
    np.maximum(Z, A, out=A)  # A is a fresh temporary
    return A


def sigmoid(Z: FloatArray) -> FloatArray:
    r""":math:`\sigma(z) = 1 / (1 + e^{-z})`, computed without overflow for any finite ``z``.

    With :math:`e = e^{-|z|} \in (0, 1]`: :math:`\sigma(z) = 1/(1+e)` for :math:`z \ge 0` and
    :math:`e/(1+e)` for :math:`z < 0`, so ``exp`` never sees a large positive argument.
    """
    # Far in the tails e^{-|z|} falls below the smallest normal number: rounding it to zero
    # is the right answer, not an error, even for a caller running under errstate(all="raise").
    with np.errstate(under="ignore"):
        e = np.abs(Z)
        np.negative(e, out=e)
        np.exp(e, out=e)  # e is a fresh temporary, written in place from here on
        denominator = e + 1
        # The numerator, 1 for z >= 0 and e for z < 0, as max(e, [z >= 0]) since 0 < e <= 1:
        # a vectorised max instead of a masked copy, which NumPy runs element by element.
        A = (Z >= 0).astype(Z.dtype)
        np.maximum(A, e, out=A)
        A /= denominator
    return A


def tanh(Z: FloatArray) -> FloatArray:
    r""":math:`g(z) = \tanh z`."""
    return np.tanh(Z)


def softmax(Z: FloatArray) -> FloatArray:
    r"""Softmax over each column: :math:`a_{ij} = e^{z_{ij} - \max_k z_{kj}} / \sum_k e^{z_{kj} - \max_k z_{kj}}`.

    Subtracting each column's maximum keeps every exponent :math:`\le 0`, so nothing overflows
    and each column sums to 1 within the dtype's precision.
    """
    column_max: FloatArray = Z.max(axis=0, keepdims=True)
    # Logits more than the dtype's range apart make Z - max overflow to -inf, and e^-inf = 0
    # is the right answer; tiny exponentials likewise round to 0.
    with np.errstate(over="ignore", under="ignore"):
        E = Z - column_max
        np.exp(E, out=E)  # E is a fresh temporary
    column_sum: FloatArray = E.sum(axis=0, keepdims=True)
    E /= column_sum
    return E


# Backward passes. Each ``*_backward`` leaves ``dA`` untouched; each ``*_backward_in_place``
# computes the same values but may overwrite ``dA`` and return it, which the propagation
# kernel uses on the fresh ``W^T dZ`` it has just made, saving an array per layer.


def linear_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    return dA


def _relu_mask(A: FloatArray) -> FloatArray:
    """1 where :math:`a > 0` (for relu's output: where :math:`z > 0`), else 0, in ``A``'s dtype."""
    # A float mask: multiplying by it runs the vectorised float loop, not a bool-to-float cast.
    return (A > 0).astype(A.dtype)


def relu_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    dZ = _relu_mask(A)
    dZ *= dA  # dZ is a fresh temporary
    return dZ


def relu_backward_in_place(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    dA *= _relu_mask(A)
    return dA


def _leaky_relu_slopes(Z: FloatArray) -> FloatArray:
    """:math:`g'(z)`: 1 where :math:`z > 0`, else the slope, in ``Z``'s dtype."""
    slopes = np.full_like(Z, LEAKY_RELU_SLOPE)
    np.maximum(slopes, _relu_mask(Z), out=slopes)  # max(slope, [z > 0]), slope < 1
    return slopes


def leaky_relu_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    dZ = _leaky_relu_slopes(Z)
    dZ *= dA  # dZ is a fresh temporary
    return dZ


def leaky_relu_backward_in_place(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    dA *= _leaky_relu_slopes(Z)
    return dA


def sigmoid_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    r""":math:`dZ = dA \odot a (1 - a)`."""
    dZ = 1 - A
    with np.errstate(under="ignore"):
        dZ *= A  # dZ is a fresh temporary
        dZ *= dA
    return dZ


def tanh_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    r""":math:`dZ = dA \odot (1 - a^2)`."""
    dZ = A * A
    np.subtract(1, dZ, out=dZ)  # dZ is a fresh temporary
    dZ *= dA
    return dZ


def softmax_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    with np.errstate(under="ignore"):
        dZ = A * dA
        weighted: FloatArray = dZ.sum(axis=0, keepdims=True)
        np.subtract(dA, weighted, out=dZ)  # dZ is a fresh temporary
        dZ *= A
    return dZ


# The built-ins are records of the public type, so a user's activation is read the same way.
LINEAR: Final = ActivationFunction("linear", linear, linear_backward, (-math.inf, math.inf), linear_backward)
RELU: Final = ActivationFunction("relu", relu, relu_backward, (0.0, math.inf), relu_backward_in_place)
LEAKY_RELU: Final = ActivationFunction(
    "leaky_relu", leaky_relu, leaky_relu_backward, (-math.inf, math.inf), leaky_relu_backward_in_place
)
SIGMOID: Final = ActivationFunction("sigmoid", sigmoid, sigmoid_backward, (0.0, 1.0), sigmoid_backward)
TANH: Final = ActivationFunction("tanh", tanh, tanh_backward, (-1.0, 1.0), tanh_backward)
SOFTMAX: Final = ActivationFunction("softmax", softmax, softmax_backward, (0.0, 1.0), softmax_backward)

ACTIVATIONS: Final[Mapping[Activation, ActivationFunction]] = {
    "linear": LINEAR,
    "relu": RELU,
    "leaky_relu": LEAKY_RELU,
    "sigmoid": SIGMOID,
    "tanh": TANH,
    "softmax": SOFTMAX,
}

ACTIVATION_NAMES: Final[tuple[Activation, ...]] = get_args(Activation)


def resolve_activation(argument: str, value: object) -> ActivationFunction:
    """The record for ``value``, a built-in name or an ``ActivationFunction``; raise naming ``argument``.

    A record is checked for its form (a name, callables, a closed range), not its maths:
    ``check_activation`` does that. A record may not borrow a built-in's name.
    """
    if isinstance(value, str):
        return ACTIVATIONS[check.check_name(argument, value, ACTIVATION_NAMES)]
    if not isinstance(value, ActivationFunction):
        raise TypeError(
            f"{argument} must be one of {list(ACTIVATION_NAMES)} or an ActivationFunction record, "
            f"got {type(value).__name__} {value!r}"
        )
    check_record_name(argument, value, ACTIVATIONS)
    for field in ("forward", "backward"):
        if not callable(getattr(value, field)):
            raise TypeError(f"{argument} {value.name!r}: {field} must be a function, got {getattr(value, field)!r}")
    if value.backward_in_place is not None and not callable(value.backward_in_place):
        raise TypeError(f"{argument} {value.name!r}: backward_in_place must be a function or None")
    bounds: object = value.output_range
    if (
        not isinstance(bounds, tuple)
        or len(bounds) != 2
        or not all(isinstance(b, (int, float)) and not math.isnan(b) for b in bounds)
        or bounds[0] > bounds[1]
    ):
        raise ValueError(f"{argument} {value.name!r}: output_range must be (low, high) with low <= high, got {bounds!r}")
    return value


def check_record_name(argument: str, record: ActivationFunction | LossFunction, built_ins: Mapping[Any, object]) -> None:
    """Refuse a record without a name, or one named like a built-in that it is not."""
    name: object = record.name
    if not isinstance(name, str) or not name:
        raise ValueError(f"{argument} must have a non-empty str name, got {name!r}")
    if name in built_ins and built_ins[name] != record:
        raise ValueError(
            f"{argument} is named {record.name!r} like the built-in but is another function: give it a name "
            "of its own, so that saved parameters and checkpoints cannot mistake one for the other"
        )
