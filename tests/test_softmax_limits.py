"""Softmax at infinite logits takes its limits, never NaN; finite columns keep their bits.

A column whose maximum is +inf gives its k entries equal to +inf 1/k each and the others 0;
a column of -inf only is uniform (the limit of equal logits); a column holding NaN stays
NaN. ``activations.softmax``, the NumPy and the Numba softmax layers of
``forward_propagation`` all do so, bitwise alike, and the backward pass and the
categorical cross-entropy then stay finite.
"""

from __future__ import annotations

import numpy as np
import pytest

from functional_nn import backward_propagation, compute_cost, forward_propagation, fused, propagation
from functional_nn.activations import softmax, softmax_backward
from functional_nn.losses import categorical_cross_entropy_gradient
from functional_nn.types import Caches, FloatArray, FloatDType

DTYPES: list[FloatDType] = [np.float32, np.float64]
INF, NAN = np.inf, np.nan


def old_softmax(Z: FloatArray) -> FloatArray:
    """Softmax as it was written before the limits: the reference for finite columns' bits."""
    column_max: FloatArray = Z.max(axis=0, keepdims=True)
    with np.errstate(all="ignore"):
        E = Z - column_max
        np.exp(E, out=E)
    column_sum: FloatArray = E.sum(axis=0, keepdims=True)
    E /= column_sum
    return E


def assert_same_bytes(expected: FloatArray, got: FloatArray) -> None:
    assert expected.dtype == got.dtype and expected.shape == got.shape
    assert expected.tobytes() == got.tobytes(), (expected, got)


# Columns of three logits and their limits, worked by hand.
LIMITS: list[tuple[list[float], list[float]]] = [
    ([INF, 1.0, INF], [0.5, 0.0, 0.5]),
    ([INF, -INF, 5.0], [1.0, 0.0, 0.0]),
    ([-7.0, INF, -INF], [0.0, 1.0, 0.0]),
    ([INF, INF, INF], [1 / 3, 1 / 3, 1 / 3]),
    ([-INF, -INF, -INF], [1 / 3, 1 / 3, 1 / 3]),
]
FINITE: list[list[float]] = [
    [1.0, 2.0, 3.0],
    [1000.0, -1000.0, 0.0],
    [-INF, 2.0, -INF],  # a finite maximum: e^-inf = 0, as before
    [-1e-3, 0.0, 1e-3],
]


def logits(dtype: FloatDType) -> tuple[FloatArray, FloatArray]:
    """``Z`` of shape (3, 10): the limit columns, then finite ones (the last with a shift that overflows)."""
    big = float(np.finfo(dtype).max)
    columns = [z for z, _ in LIMITS] + FINITE + [[big, -big, 0.0]]
    Z = np.array(columns, dtype=dtype).T.copy()
    expected = np.array([a for _, a in LIMITS], dtype=np.float64).T.astype(dtype)
    return Z, expected


def hand_limits(dtype: FloatDType) -> FloatArray:
    """The limit columns' values, each a quotient 1/k computed in ``dtype`` as the division rounds it."""
    one = dtype(1)
    return np.array([[one / 2, 0, one / 2], [1, 0, 0], [0, 1, 0], [one / 3] * 3, [one / 3] * 3], dtype=dtype).T


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_takes_the_limits_at_infinite_logits(dtype: FloatDType) -> None:
    Z, expected = logits(dtype)
    Z.flags.writeable = False
    with np.errstate(all="raise"):  # no inf - inf, no 0 / 0, nothing flagged
        A = softmax(Z)
    assert A.dtype == dtype and A.shape == Z.shape
    n_limits = len(LIMITS)
    np.testing.assert_array_equal(A[:, :n_limits], expected)
    assert_same_bytes(hand_limits(dtype), np.ascontiguousarray(A[:, :n_limits]))
    # the finite columns keep the old formula's bits, computed with the limit columns beside them or alone
    assert_same_bytes(old_softmax(Z)[:, n_limits:], A[:, n_limits:])
    assert_same_bytes(old_softmax(Z[:, n_limits:].copy()), np.ascontiguousarray(A[:, n_limits:]))
    assert np.isfinite(A).all()
    np.testing.assert_array_equal(A.sum(axis=0, dtype=np.float64).round(6), 1.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_row_and_nan_columns(dtype: FloatDType) -> None:
    row = np.array([[INF, -INF, 0.0, NAN, -3.0]], dtype=dtype)
    with np.errstate(all="ignore"):
        A_row = softmax(row)
    assert A_row.dtype == dtype
    np.testing.assert_array_equal(A_row, np.array([[1, 1, 1, NAN, 1]], dtype=dtype))  # NaNs compare equal here
    Z = np.array([[NAN, NAN, INF, -INF], [INF, -INF, NAN, NAN], [1.0, -INF, 2.0, -INF]], dtype=dtype)
    with np.errstate(all="ignore"):  # what NaN input flags is not this test's business
        A = softmax(Z)
    assert A.dtype == dtype
    assert np.isnan(A).all()  # NaN in, NaN out: the column's maximum is NaN


def test_a_large_column_of_infinities_shares_its_mass_exactly() -> None:
    Z = np.full((10, 4), 3.0)
    Z[[0, 2, 3, 9], 0] = INF  # k = 4
    Z[:, 1] = -INF
    Z[7, 2] = INF  # k = 1
    Z[:, 3] = INF  # k = n
    Z[5, 3] = -INF
    A = softmax(Z)
    expected = np.zeros((10, 4))
    expected[[0, 2, 3, 9], 0] = 0.25
    expected[:, 1] = 0.1
    expected[7, 2] = 1.0
    expected[:, 3] = 1 / 9
    expected[5, 3] = 0.0
    np.testing.assert_array_equal(A, expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows", [1, 2, 3, 10, 17])
def test_the_fused_softmax_layer_takes_the_same_limits_bit_for_bit(rows: int, dtype: FloatDType, rng: np.random.Generator) -> None:
    Z = (rng.standard_normal((rows, 40)) * 30).astype(dtype)
    b = rng.standard_normal((rows, 1)).astype(dtype)
    Z[:, 0] = INF
    Z[:, 1] = -INF
    Z[rows // 2, 2] = INF  # k = 1
    Z[::2, 3] = INF  # k = ceil(rows / 2)
    Z[1::3, 4] = -INF  # a finite maximum unless every entry is -inf
    Z[0, 5], Z[-1, 5] = INF, NAN  # NaN last: with one row it is the only entry
    Z[:, 6] = -INF
    Z[0, 6] = NAN
    expected_Z = Z.copy()
    expected_Z += b
    expected_A = softmax(expected_Z)
    got_Z = Z.copy()
    got_A = propagation._softmax_layer(got_Z, b)
    assert_same_bytes(expected_Z, got_Z)
    assert_same_bytes(expected_A, got_A)
    one = dtype(1)
    np.testing.assert_array_equal(got_A[:, 0], np.full(rows, one / dtype(rows)))
    np.testing.assert_array_equal(got_A[:, 1], np.full(rows, one / dtype(rows)))
    np.testing.assert_array_equal(got_A[:, 2], np.eye(rows, dtype=dtype)[rows // 2])
    k = len(range(0, rows, 2))
    np.testing.assert_array_equal(got_A[::2, 3], np.full(k, one / dtype(k)))
    np.testing.assert_array_equal(got_A[1::2, 3], 0)
    assert np.isnan(got_A[:, 5:7]).all()
    assert np.isfinite(got_A[:, :5]).all() and np.isfinite(got_A[:, 7:]).all()
    finite = np.r_[4, 7:40]  # column 4's row 0 is finite: its maximum is
    assert_same_bytes(old_softmax(expected_Z)[:, finite], got_A[:, finite])


def overflowing_network(dtype: FloatDType) -> tuple[FloatArray, dict[str, FloatArray]]:
    """One softmax layer of three units over one feature, whose products ``W x + b`` overflow.

    With ``big`` the dtype's largest number, ``W = (big, big/4, big/2)`` and ``b = (0, -big, 0)``,
    the columns of ``X`` give these logits:

    - x = 4: (inf, 0, inf)                     -> (1/2, 0, 1/2)
    - x = 1.5: (inf, 3/8 big - big, 3/4 big)   -> (1, 0, 0)
    - x = -4: (-inf, -inf, -inf)               -> (1/3, 1/3, 1/3)
    - x = -1.5: (-inf, -inf, -3/4 big)         -> (0, 0, 1), a finite maximum
    - x = 1, 0, 1e-3, -2e-3: finite logits, some with shifts that overflow to -inf
    """
    big = np.finfo(dtype).max
    params = {"W1": np.array([[big], [big / 4], [big / 2]], dtype=dtype), "b1": np.array([[0], [-big], [0]], dtype=dtype)}
    X = np.array([[4.0, 1.5, -4.0, -1.5, 1.0, 0.0, 1e-3, -2e-3]], dtype=dtype)
    return X, params


def expected_limits(dtype: FloatDType) -> FloatArray:
    one = dtype(1)
    return np.array([[one / 2, 0, one / 2], [1, 0, 0], [one / 3] * 3, [0, 0, 1]], dtype=dtype).T


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel", ["numpy", "numba"])
def test_forward_propagation_takes_the_limits_when_the_logits_overflow(kernel: fused.Kernel, dtype: FloatDType) -> None:
    X, params = overflowing_network(dtype)
    with np.errstate(over="ignore"):  # W x + b overflows on purpose
        AL, caches = forward_propagation(X, params, ("softmax",), kernel=kernel)
    Z = caches[0].Z
    assert np.isposinf(Z[:, 0]).sum() == 2 and np.isneginf(Z[:, 2]).all()  # the products did overflow
    assert AL.dtype == dtype
    assert_same_bytes(expected_limits(dtype), np.ascontiguousarray(AL[:, :4]))
    assert_same_bytes(old_softmax(Z[:, 3:].copy()), np.ascontiguousarray(AL[:, 3:]))
    assert np.isfinite(AL).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_both_kernels_give_the_same_bits_and_finite_gradients_and_costs(dtype: FloatDType) -> None:
    X, params = overflowing_network(dtype)
    runs: dict[str, tuple[FloatArray, Caches]] = {}
    for kernel in fused.KERNELS:
        with np.errstate(over="ignore"):
            runs[kernel] = forward_propagation(X, params, ("softmax",), kernel=kernel)
    (AL, caches), (AL_fused, caches_fused) = runs["numpy"], runs["numba"]
    assert_same_bytes(AL, AL_fused)
    assert_same_bytes(caches[0].Z, caches_fused[0].Z)
    assert_same_bytes(caches[0].A, caches_fused[0].A)
    # Targets on the mass and off it: the cost is finite (log of a clipped 0), and so are the gradients.
    Y = np.eye(3, dtype=dtype)[[0, 1, 2, 2, 0, 0, 1, 2]].T
    cost = compute_cost(AL, Y, "categorical_cross_entropy")
    assert np.isfinite(cost) and cost > 0
    for kernel in fused.KERNELS:
        grads = backward_propagation(AL, Y, caches, "categorical_cross_entropy", kernel=kernel)
        for key, value in grads.items():
            assert value.dtype == dtype and np.isfinite(value).all(), key
    dZ = AL - Y
    np.testing.assert_array_equal(dZ[:, 0], np.array([-0.5, 0, 0.5], dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_backward_through_the_limits_is_finite(dtype: FloatDType) -> None:
    Z, _ = logits(dtype)
    A = softmax(Z)
    Y = np.eye(3, dtype=dtype)[[0, 1, 1, 2, 0, 2, 0, 1, 2, 1]].T
    dA = categorical_cross_entropy_gradient(A, Y)  # -y / max(a, tiny): finite at a = 0
    dZ = softmax_backward(dA, Z, A)
    assert dZ.dtype == dtype and np.isfinite(dZ).all()
    # Where the target sits on the mass, the chain rule gives a - y as the fused pairing does.
    np.testing.assert_allclose(dZ[:, 0], (A - Y)[:, 0], rtol=0, atol=float(np.finfo(dtype).eps))
    dZ_ones = softmax_backward(np.ones_like(Z), Z, A)  # a constant dA: a shift of the logits, no gradient
    np.testing.assert_allclose(dZ_ones[:, :5], 0, rtol=0, atol=float(np.finfo(dtype).eps))
