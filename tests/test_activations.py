"""Activations: hand values, properties, the registry, and stability at extreme logits."""

from __future__ import annotations

from typing import get_args

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from functional_nn.activations import ACTIVATIONS, leaky_relu, relu, sigmoid, softmax, tanh
from functional_nn.types import Activation, FloatArray, FloatDType

DTYPES: list[FloatDType] = [np.float32, np.float64]


def float_matrices(dtype: FloatDType) -> st.SearchStrategy[FloatArray]:
    return hnp.arrays(
        dtype,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
        elements=st.floats(-1e3, 1e3, allow_nan=False, width=32 if dtype == np.float32 else 64),
    )


def test_registry_covers_every_activation_name() -> None:
    assert set(ACTIVATIONS) == set(get_args(Activation))


def test_hand_values() -> None:
    Z = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(relu(Z), [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(leaky_relu(Z), [[-0.02, 0.0, 3.0]])
    np.testing.assert_allclose(sigmoid(Z), [[1 / (1 + np.e**2), 0.5, 1 / (1 + np.e**-3)]], rtol=1e-15)
    np.testing.assert_allclose(tanh(Z), np.tanh(Z))
    column = np.array([[1.0], [2.0], [3.0]])
    expected = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    np.testing.assert_allclose(softmax(column)[:, 0], expected, rtol=1e-15)


@pytest.mark.parametrize("name", get_args(Activation))
@pytest.mark.parametrize("dtype", DTYPES)
def test_shape_dtype_and_no_warning_at_extreme_logits(name: Activation, dtype: FloatDType) -> None:
    Z = np.array([[-1e4, -1000.0, -50.0, 0.0, 50.0, 1000.0, 1e4]] * 3, dtype=dtype)
    Z.flags.writeable = False
    with np.errstate(all="raise"):
        A = ACTIVATIONS[name].forward(Z)
        dZ = ACTIVATIONS[name].backward(np.ones_like(Z), Z, A)
    assert A.shape == Z.shape and A.dtype == dtype
    assert dZ.shape == Z.shape and dZ.dtype == dtype
    assert np.isfinite(A).all() and np.isfinite(dZ).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_saturated_limits(dtype: FloatDType) -> None:
    Z = np.array([[-1000.0, 1000.0]], dtype=dtype)
    np.testing.assert_array_equal(sigmoid(Z), [[0.0, 1.0]])
    np.testing.assert_array_equal(softmax(np.array([[1000.0], [-1000.0]], dtype=dtype)), [[1.0], [0.0]])


@given(st.sampled_from(DTYPES).flatmap(float_matrices))
def test_sigmoid_lies_in_unit_interval(Z: FloatArray) -> None:
    A = sigmoid(Z)
    assert ((A >= 0) & (A <= 1)).all()


@given(st.sampled_from(DTYPES).flatmap(float_matrices))
def test_softmax_columns_sum_to_one(Z: FloatArray) -> None:
    A = softmax(Z)
    assert A.dtype == Z.dtype
    np.testing.assert_allclose(A.sum(axis=0), 1, rtol=0, atol=10 * Z.shape[0] * np.finfo(Z.dtype).eps)


@given(st.sampled_from(DTYPES).flatmap(float_matrices))
def test_relu_is_idempotent(Z: FloatArray) -> None:
    np.testing.assert_array_equal(relu(relu(Z)), relu(Z))


@pytest.mark.parametrize("name", get_args(Activation))
def test_backward_matches_finite_differences(name: Activation, rng: np.random.Generator) -> None:
    Z = rng.standard_normal((4, 5))
    Z[np.abs(Z) < 1e-3] = 0.5  # keep away from relu's kink
    dA = rng.standard_normal((4, 5))
    forward = ACTIVATIONS[name].forward
    numeric = np.zeros_like(Z)
    eps = 1e-6
    for index in np.ndindex(Z.shape):
        shift = np.zeros_like(Z)
        shift[index] = eps
        numeric[index] = np.sum(dA * (forward(Z + shift) - forward(Z - shift))) / (2 * eps)
    np.testing.assert_allclose(ACTIVATIONS[name].backward(dA, Z, forward(Z)), numeric, rtol=1e-6, atol=1e-8)
