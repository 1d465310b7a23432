"""Extreme logits: forward, cost and backward stay finite and warning-free under errstate(all="raise")."""

from __future__ import annotations

import math

import numpy as np
import pytest

from functional_nn import backward_propagation, compute_cost, forward_propagation
from functional_nn.types import Activation, FloatDType, Loss

PAIRS: list[tuple[Activation, Loss]] = [
    ("sigmoid", "binary_cross_entropy"),
    ("softmax", "categorical_cross_entropy"),
    ("softmax", "binary_cross_entropy"),
    ("sigmoid", "categorical_cross_entropy"),
    ("sigmoid", "mean_squared_error"),
    ("softmax", "mean_squared_error"),
]


@pytest.mark.parametrize(("output", "loss"), PAIRS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [1e3, 1e4, 3e38])
def test_saturated_outputs_stay_finite(output: Activation, loss: Loss, dtype: FloatDType, scale: float) -> None:
    # One linear layer whose logits are +-scale, confidently right in some columns and
    # confidently wrong in others.
    finite_max = float(np.finfo(dtype).max)
    scale = min(scale, finite_max)
    X = np.array([[1.0, -1.0, 1.0, -1.0]], dtype=dtype)
    params = {"W1": np.array([[scale], [-scale]], dtype=dtype), "b1": np.zeros((2, 1), dtype=dtype)}
    Y = np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]], dtype=dtype)
    with np.errstate(all="raise"):
        AL, caches = forward_propagation(X, params, (output,))
        cost = compute_cost(AL, Y, loss)
        grads = backward_propagation(AL, Y, caches, loss)
    assert AL.dtype == dtype and np.isfinite(AL).all()
    assert ((AL >= 0) & (AL <= 1)).all()
    np.testing.assert_array_equal(AL[:, :2], Y[:, :2])  # the saturated limits, exactly
    assert math.isfinite(cost) and cost > 0
    for value in grads.values():
        assert value.dtype == dtype and np.isfinite(value).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_of_huge_equal_logits_is_uniform(dtype: FloatDType) -> None:
    big = float(np.finfo(dtype).max) / 2
    X = np.ones((1, 3), dtype=dtype)
    params = {"W1": np.full((4, 1), big, dtype=dtype), "b1": np.zeros((4, 1), dtype=dtype)}
    with np.errstate(all="raise"):
        AL, _ = forward_propagation(X, params, ("softmax",))
    np.testing.assert_allclose(AL, 0.25, rtol=float(np.finfo(dtype).eps))
