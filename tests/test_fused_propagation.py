"""The fused ReLU and softmax layers and batches (``kernel="numba"``) give bitwise the arrays of the NumPy passes.

Forward: the bias, ``max(z, 0)``, the dropout mask and the dropped activations; backward: the
mask and ``[a > 0]``; a softmax layer's bias and activation; an integer batch divided. Every comparison is of bytes, special values (NaN, infinities, signed
zeros, subnormals) included, and the generator must end in the same state.
"""

from __future__ import annotations

import functools
from typing import Literal

import numpy as np
import pytest

from functional_nn import adam, backward_propagation, forward_propagation, fused, initialize_parameters, propagation, train
from functional_nn.activations import resolve_activation
from functional_nn.data.preparation import _minibatches
from functional_nn.losses import resolve_loss
from functional_nn.propagation import backward, forward
from functional_nn.types import Activation, Caches, FloatArray, LayerCache

SIZES = (6, 67, 9, 8, 3)  # 67 x m numbers: long enough for the loops' vectorised bodies
ACTIVATIONS: tuple[Activation, ...] = ("relu", "tanh", "relu", "softmax")  # a non-ReLU hidden layer between fused ones
M = 37  # odd: each dropping layer draws an odd number of 16-bit numbers


def assert_same_bytes(a: FloatArray | None, b: FloatArray | None, what: str) -> None:
    assert (a is None) == (b is None), what
    if a is not None and b is not None:
        assert a.dtype == b.dtype and a.shape == b.shape, what
        assert a.tobytes() == b.tobytes(), what


def assert_same_caches(a: Caches, b: Caches) -> None:
    for l, (x, y) in enumerate(zip(a, b, strict=True), start=1):
        for field in ("A_prev", "Z", "A", "dropout_mask"):
            assert_same_bytes(getattr(x, field), getattr(y, field), f"layer {l} {field}")


def both_kernels(X: FloatArray, params: dict[str, FloatArray], keep_probs: float | tuple[float, ...] | None, seed: int = 5) -> dict[str, tuple[FloatArray, Caches, object]]:
    runs: dict[str, tuple[FloatArray, Caches, object]] = {}
    for kernel in fused.KERNELS:
        rng = np.random.default_rng(seed)
        AL, caches = forward_propagation(X, params, ACTIVATIONS, keep_probs=keep_probs, rng=rng, kernel=kernel)
        runs[kernel] = (AL, caches, rng.bit_generator.state)
    return runs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("keep_probs", [None, 0.8, (0.5, 1.0, 0.7)])
def test_forward_and_backward_give_numpys_arrays_bit_for_bit(
    keep_probs: float | tuple[float, ...] | None, dtype: type[np.floating], rng: np.random.Generator, kernels_called: list[str]
) -> None:
    called = kernels_called
    params = initialize_parameters(SIZES, rng, dtype=dtype)
    params = {key: value + dtype(0.01) if key.startswith("b") else value for key, value in params.items()}
    X = rng.standard_normal((SIZES[0], M)).astype(dtype)
    Y = np.eye(SIZES[-1], dtype=dtype)[rng.integers(0, SIZES[-1], M)].T
    runs = both_kernels(X, params, keep_probs)
    (AL, caches, state), (AL_fused, caches_fused, state_fused) = runs["numpy"], runs["numba"]
    assert_same_bytes(AL, AL_fused, "AL")
    assert_same_caches(caches, caches_fused)
    assert state == state_fused  # the same draws, taken the same way
    if keep_probs is not None:
        assert np.count_nonzero(caches[0].dropout_mask == 0) > 0  # something was dropped
    assert 0 < np.count_nonzero(caches[0].A) < caches[0].A.size  # ReLU cut some units, not all
    grads = backward_propagation(AL, Y, caches, "categorical_cross_entropy", kernel="numpy")
    grads_fused = backward_propagation(AL, Y, caches, "categorical_cross_entropy", kernel="numba")
    for key in grads:
        assert_same_bytes(grads[key], grads_fused[key], key)
    assert np.count_nonzero(grads["dW1"]) > 0
    # the fused passes ran for both ReLU layers, each way, and the softmax layer (NumPy's for the tanh layer)
    fused_passes = ["relu_forward", "relu_backward"] if keep_probs is None else ["relu_dropout_forward", "relu_dropout_backward"]
    assert called == [fused_passes[0]] * 2 + ["softmax_shift", "softmax_normalise"] + [fused_passes[1]] * 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values_come_out_as_numpys(dtype: type[np.floating], rng: np.random.Generator) -> None:
    # One input feature and weights of one: Z = x + b exactly, so every special value reaches the kernels.
    tiny = np.finfo(dtype).smallest_subnormal
    row = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, tiny, -tiny, 3.0, -3.0, 1e30], dtype=dtype)
    X = np.tile(row, 5)[None, :]
    biases = np.array([-0.0, 0.0, 1.0, -1.0, -tiny, np.inf], dtype=dtype)
    params = {
        "W1": np.ones((6, 1), dtype), "b1": biases[:, None],
        "W2": rng.standard_normal((4, 6)).astype(dtype), "b2": np.zeros((4, 1), dtype),
    }  # fmt: skip
    records = (resolve_activation("a", "relu"), resolve_activation("a", "linear"))
    for keep in (None, (0.6,)):
        runs = {}
        for kernel in fused.KERNELS:  # the unchecked kernels: the public functions refuse non-finite input
            with np.errstate(all="ignore"):  # inf - inf and the like, on purpose
                runs[kernel] = forward(X, params, records, keep, np.random.default_rng(3), None, kernel)
        (AL, caches), (AL_fused, caches_fused) = runs["numpy"], runs["numba"]
        assert_same_caches(caches, caches_fused)
        Z = caches[0].Z
        assert np.isnan(Z).any() and np.isinf(Z).any() and (np.abs(Z) == tiny).any()
        # backward through the same caches, with special values in dA as well
        dA = np.tile(np.array([np.nan, np.inf, -0.0, 1.0, -2.0, tiny], dtype), (6, X.shape[1] // 6 + 1))[:, : X.shape[1]]
        dA = np.ascontiguousarray(dA)
        relu_cache = caches[0]
        grads = {}
        for kernel in fused.KERNELS:
            identity = np.eye(6, dtype=dtype)
            # a linear output layer with W = I: its W^T dZ brings dA's special values (and the NaNs the
            # product makes of inf * 0) to the ReLU layer's backward pass
            two_layers = (relu_cache, LayerCache(relu_cache.A, identity, dA, dA, resolve_activation("a", "linear"), None))
            with np.errstate(all="ignore"):
                grads[kernel] = backward(dA * X.shape[1], dA * X.shape[1] * 0, two_layers, resolve_loss("l", "mean_squared_error"), 0.0, kernel)
        for key in grads["numpy"]:
            assert_same_bytes(grads["numpy"][key], grads["numba"][key], key)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_forward_kernel_turns_negative_zero_into_zero_as_numpy_does(dtype: type[np.floating]) -> None:
    # A product from the BLAS is never -0.0 (its sums start from +0.0), so this goes to the kernel directly.
    Z = np.array([[-0.0, 0.0, -0.0, np.nan, -1.0, 2.0] * 4] * 3, dtype)
    b = np.array([-0.0, 0.0, 0.5], dtype)
    expected_Z = Z + b[:, None]
    expected_A = np.maximum(expected_Z, np.zeros_like(Z))
    assert np.signbit(expected_Z[0, 0]) and not np.signbit(expected_A[0, 0])
    A = np.empty_like(Z)
    fused.kernel("relu_forward")(Z, b, A)
    assert_same_bytes(expected_Z, Z, "Z")
    assert_same_bytes(expected_A, A, "A")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", [1, 2, 10, 17])
def test_the_softmax_layer_gives_numpys_bits_special_values_included(rows: int, dtype: type[np.floating], rng: np.random.Generator) -> None:
    big = np.finfo(dtype).max
    Z = (rng.standard_normal((rows, 40)) * 30).astype(dtype)
    b = rng.standard_normal((rows, 1)).astype(dtype)
    Z[rows // 2, 0] = np.nan  # a NaN anywhere in a column makes the column NaN
    Z[-1, 1], Z[0, 2] = np.inf, -np.inf
    Z[:, 3], Z[:, 4], Z[:, 5] = np.inf, -np.inf, -0.0
    Z[:, 6], Z[0, 6] = big, -big  # the shift overflows to -inf, whose exponential is 0
    Z[:, 7] = np.arange(rows, dtype=dtype) * dtype(-40)  # exponentials that underflow to 0 or subnormals
    expected_Z = Z.copy()
    with np.errstate(all="ignore"):  # overflow and underflow on purpose; infinite columns get softmax's limits
        expected_Z += b
        expected_A = resolve_activation("a", "softmax").forward(expected_Z)
        got_Z = Z.copy()
        got_A = propagation._softmax_layer(got_Z, b)
    assert_same_bytes(expected_Z, got_Z, "Z")
    assert_same_bytes(expected_A, got_A, "A")
    assert np.isnan(got_A[:, 0]).all() and np.isfinite(got_A[:, 8:]).all()
    np.testing.assert_allclose(got_A[:, 8:].sum(axis=0), 1, rtol=float(rows * np.finfo(dtype).eps))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("integers", [np.uint8, np.int64])
@pytest.mark.parametrize("order", ["F", "C"])
def test_batches_of_integers_are_gathered_and_divided_as_numpy_divides_them(
    order: Literal["F", "C"], integers: type[np.integer], dtype: type[np.floating], rng: np.random.Generator
) -> None:
    high = 256 if integers is np.uint8 else 2**40  # above 2**24: the cast to float32 rounds
    X = np.asarray(rng.integers(0, high, (30, 70), dtype=integers), order=order)
    Y = np.eye(3, dtype=dtype)[rng.integers(0, 3, 70)].T
    permutation = rng.permutation(70)
    runs = {kernel: list(_minibatches(X, Y, 32, permutation, 255.0, kernel)) for kernel in fused.KERNELS}
    assert [len(run) for run in runs.values()] == [3, 3]
    for (X_B, Y_B, indices), (X_fused, Y_fused, indices_fused) in zip(runs["numpy"], runs["numba"], strict=True):
        expected = np.divide(X[:, indices], dtype(255), dtype=dtype)
        assert_same_bytes(expected, X_B, "X_B")
        assert_same_bytes(expected, X_fused, "X_B fused")
        assert X_B.flags.f_contiguous and X_fused.flags.f_contiguous  # laid out alike: a sample's features together
        assert_same_bytes(Y_B, Y_fused, "Y_B")
        assert np.array_equal(indices, indices_fused)


def test_backward_takes_numpys_passes_for_caches_it_cannot_fuse(rng: np.random.Generator) -> None:
    params = initialize_parameters(SIZES, rng, dtype=np.float32)
    X = rng.standard_normal((SIZES[0], M)).astype(np.float32)
    Y = np.eye(SIZES[-1], dtype=np.float32)[rng.integers(0, SIZES[-1], M)].T
    AL, caches = forward_propagation(X, params, ACTIVATIONS, keep_probs=0.8, rng=rng, kernel="numpy")
    fortran = tuple(c._replace(A=np.asfortranarray(c.A), dropout_mask=None if c.dropout_mask is None else np.asfortranarray(c.dropout_mask)) for c in caches)
    assert not fortran[0].A.flags.c_contiguous
    expected = backward_propagation(AL, Y, fortran, "categorical_cross_entropy", kernel="numpy")
    got = backward_propagation(AL, Y, fortran, "categorical_cross_entropy", kernel="numba")
    for key in expected:
        assert_same_bytes(expected[key], got[key], key)


def test_read_only_inputs_are_read_and_never_written(rng: np.random.Generator) -> None:
    params = initialize_parameters(SIZES, rng, dtype=np.float32)
    X = rng.standard_normal((SIZES[0], M)).astype(np.float32)
    Y = np.eye(SIZES[-1], dtype=np.float32)[rng.integers(0, SIZES[-1], M)].T
    AL, caches = forward_propagation(X, params, ACTIVATIONS, keep_probs=0.8, rng=np.random.default_rng(1), kernel="numpy")
    expected = backward_propagation(AL, Y, caches, "categorical_cross_entropy", kernel="numpy")
    for array in (X, Y, AL, *params.values(), *(a for c in caches for a in (c.A_prev, c.Z, c.A, c.dropout_mask) if a is not None)):
        array.flags.writeable = False
    copies = [c.A.copy() for c in caches]
    AL_fused, _ = forward_propagation(X, params, ACTIVATIONS, keep_probs=0.8, rng=np.random.default_rng(1), kernel="numba")
    got = backward_propagation(AL, Y, caches, "categorical_cross_entropy", kernel="numba")
    assert_same_bytes(AL, AL_fused, "AL")
    for key in expected:
        assert_same_bytes(expected[key], got[key], key)
    for cache, copy in zip(caches, copies, strict=True):
        assert cache.A.tobytes() == copy.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_is_bitwise_the_same_with_either_kernel(
    dtype: type[np.floating], rng: np.random.Generator, kernels_called: list[str]
) -> None:
    m = 300
    pixels = rng.integers(0, 256, (m, SIZES[0]), dtype=np.uint8).T  # a row per image, as the loaders give them
    Y = np.eye(SIZES[-1], dtype=dtype)[rng.integers(0, SIZES[-1], m)].T
    params = initialize_parameters(SIZES, rng, dtype=dtype)
    called: dict[str, set[str]] = {}
    results = {}
    for kernel in fused.KERNELS:
        kernels_called.clear()
        results[kernel] = train(
            pixels, Y, params, activations=ACTIVATIONS, loss="categorical_cross_entropy", epochs=2, optimizer=adam(1e-2),
            batch_size=64, rng=np.random.default_rng(4), keep_probs=(0.8, 1.0, 0.6), input_divisor=255, kernel=kernel,
        )  # fmt: skip
        called[kernel] = set(kernels_called)
    # the two runs took different paths, else the comparison below would be NumPy against itself;
    # Adam's arithmetic is the optimizer's own choice (its default, Numba's), not train's kernel
    assert called["numpy"] == {"adam_in_place"}
    assert called["numba"] == {
        "gather_divided", "relu_dropout_forward", "softmax_shift", "softmax_normalise", "relu_dropout_backward",
        "adam_in_place",
    }  # fmt: skip  (both ReLU layers drop units: keep_probs 0.8 and 0.6)
    assert results["numpy"].history == results["numba"].history
    for key in params:
        assert_same_bytes(results["numpy"].params[key], results["numba"].params[key], key)
        assert not np.array_equal(results["numpy"].params[key], params[key]), key  # training moved it


def test_the_kernel_argument_is_checked(monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator) -> None:
    params = initialize_parameters((2, 3, 1), rng)
    X, Y = rng.standard_normal((2, 4)), np.ones((1, 4))
    fit = functools.partial(train, X, Y, params, activations=("relu", "sigmoid"), loss="binary_cross_entropy", epochs=1, learning_rate=0.1)
    with pytest.raises(ValueError, match=r"unknown kernel 'numbaa'.*did you mean 'numba'"):
        fit(kernel="numbaa")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="kernel must be one of"):
        forward_propagation(X, params, ("relu", "sigmoid"), kernel=1)  # type: ignore[arg-type]
    monkeypatch.setattr(fused, "AVAILABLE", False)
    with pytest.raises(ImportError, match=r'pip install -e "\.\[fast\]"'):
        fit(kernel="numba")
    caches = forward_propagation(X, params, ("relu", "sigmoid"), kernel="numpy")[1]
    with pytest.raises(ImportError, match=r'pip install -e "\.\[fast\]"'):
        backward_propagation(np.full((1, 4), 0.5), Y, caches, "binary_cross_entropy", kernel="numba")
    assert fit().epoch == 1  # the default falls back to NumPy without Numba
