"""Activations: hand values, properties, the registry, and stability at extreme logits."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from typing import get_args

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from functional_nn.activations import (
    ACTIVATIONS,
    elu,
    gelu,
    leaky_relu,
    normal_cdf,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
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
    # tanh against Python's own, at points from the linear part (1e-8) to saturation (+-20, where it is 1.0)
    points = [-20.0, -2.0, -0.5, 0.0, 1e-8, 0.5, 3.0, 20.0]
    np.testing.assert_allclose(tanh(np.array([points])), [[math.tanh(z) for z in points]], rtol=1e-15, atol=0)
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


def test_new_activations_by_hand() -> None:
    Z = np.array([[-1.0, 0.0, 1.0]])
    # Phi(1) = 0.8413447460685429, from math.erfc: gelu(z) = z Phi(z).
    np.testing.assert_allclose(gelu(Z), [[-0.15865525393145707, 0.0, 0.8413447460685429]], rtol=1e-15)
    np.testing.assert_allclose(silu(Z), [[-1 / (1 + math.e), 0.0, 1 / (1 + math.exp(-1))]], rtol=1e-15)
    np.testing.assert_allclose(elu(Z), [[math.exp(-1) - 1, 0.0, 1.0]], rtol=1e-15)
    np.testing.assert_allclose(softplus(Z), [[math.log1p(math.exp(-1)), math.log(2), 1 + math.log1p(math.exp(-1))]], rtol=1e-15)
    np.testing.assert_array_equal(softplus(np.array([[1000.0, -1000.0]])), [[1000.0, 0.0]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_normal_cdf_against_math_erfc(dtype: FloatDType) -> None:
    z = np.linspace(-38, 38, 20001)
    exact = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in z])
    Phi = normal_cdf(z.astype(dtype))
    assert Phi.dtype == dtype
    if dtype == np.float64:
        # relative accuracy down to the smallest normal numbers (Phi(-37.5) = 5e-309), then
        # what subnormals hold, and to the rounding near the centre
        np.testing.assert_allclose(Phi, exact, rtol=5e-13, atol=1e-321)
        np.testing.assert_allclose(Phi[np.abs(z) < 3], exact[np.abs(z) < 3], rtol=5e-15, atol=0)
    else:
        np.testing.assert_allclose(Phi, exact, rtol=0, atol=2e-7)


def exact_normal_cdf(z: float) -> float:
    """Phi(z) to about 5e-16 (relative) while it is a normal number: ``math.erfc`` at the
    rounded ``x = -z / sqrt(2)``, corrected to first order for that rounding, which alone
    moves erfc by up to 2e-13 far out (d log erfc / dx = -2 e^{-x^2} / (sqrt(pi) erfc x))."""
    x = -z / math.sqrt(2)
    with localcontext() as context:
        context.prec = 50
        rounding = float(Decimal(-z) / Decimal(2).sqrt() - Decimal(x))
    tail = math.erfc(x)
    if tail == 0:
        return 0.0
    return 0.5 * tail * math.exp(-rounding * 2 * math.exp(-x * x) / (math.sqrt(math.pi) * tail))


def test_normal_cdf_within_1e_14_of_the_exact_value_as_documented() -> None:
    """The docstring's claim on a dense grid: relative where Phi is normal (z >= -37.5), absolute below.

    Before Cody's split of the exponent, exp(-x^2) with x^2 ~ 700 rounded was off by 2.6e-13 near z = -37.
    """
    z = np.concatenate([np.linspace(-40, 40, 80001), np.linspace(-37.6, -22, 15601)])
    exact = np.array([exact_normal_cdf(float(v)) for v in z])
    Phi = normal_cdf(z)
    normal = exact >= np.finfo(np.float64).tiny
    assert float(z[normal].min()) == pytest.approx(-37.5, abs=0.02)
    np.testing.assert_allclose(Phi[normal], exact[normal], rtol=1e-14, atol=0)
    np.testing.assert_allclose(Phi[~normal], exact[~normal], rtol=0, atol=1e-321)


def test_gelu_tanh_approximation_differs_as_documented() -> None:
    z = np.linspace(-10, 10, 200001)
    tanh_form = 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z**3)))
    assert 4.6e-4 < float(np.max(np.abs(tanh_form - gelu(z)))) < 4.8e-4


@pytest.mark.parametrize("name", get_args(Activation))
@pytest.mark.parametrize("dtype", DTYPES)
def test_output_range_holds_at_the_dtype_limits(name: Activation, dtype: FloatDType) -> None:
    big = float(np.finfo(dtype).max) / 4
    tiny = float(np.finfo(dtype).smallest_subnormal)
    extremes = [-big, -1e30 if dtype == np.float64 else -1e20, big]
    if name in ("gelu", "silu", "elu", "softplus"):  # the older ones may flag subnormal products
        extremes += [tiny, -tiny, float(np.finfo(dtype).tiny)]
    Z = np.concatenate([np.linspace(-20, 20, 4001), extremes]).astype(dtype)
    Z = np.stack([Z, Z[::-1]])  # two rows: softmax sees columns of two
    with np.errstate(all="raise"):
        A = ACTIVATIONS[name].forward(Z)
        dZ = ACTIVATIONS[name].backward(np.ones_like(Z), Z, A)
    low, high = ACTIVATIONS[name].output_range
    assert A.dtype == dZ.dtype == dtype
    assert np.isfinite(A).all() and np.isfinite(dZ).all()
    assert ((A >= low) & (A <= high)).all()
