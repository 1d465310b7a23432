"""Forward and backward propagation: hand-worked values, shapes, dtypes, and refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from functional_nn import (
    accuracy,
    backward_propagation,
    forward_propagation,
    initialize_parameters,
    one_hot,
    predict,
    predict_proba,
    update_parameters,
)
from functional_nn.propagation import dropout_keeps, float32_bits
from functional_nn.types import FloatDType


def test_one_layer_by_hand() -> None:
    params = {"W1": np.array([[1.0, -1.0], [0.5, 2.0]]), "b1": np.array([[0.5], [-1.0]])}
    X = np.array([[1.0, 0.0], [2.0, 1.0]])
    AL, caches = forward_propagation(X, params, ("relu",))
    # Z = [[1 - 2 + 0.5, 0 - 1 + 0.5], [0.5 + 4 - 1, 0 + 2 - 1]] = [[-0.5, -0.5], [3.5, 1]]
    np.testing.assert_array_equal(caches[0].Z, [[-0.5, -0.5], [3.5, 1.0]])
    np.testing.assert_array_equal(AL, [[0.0, 0.0], [3.5, 1.0]])
    Y = np.array([[0.0, 0.0], [3.0, 2.0]])
    grads = backward_propagation(AL, Y, caches, "mean_squared_error")
    # dA = 2 (AL - Y) = [[0, 0], [1, -2]]; relu passes row 2 only; dW = dZ X^T / 2
    np.testing.assert_allclose(grads["dW1"], [[0.0, 0.0], [0.5, 0.0]])
    np.testing.assert_allclose(grads["db1"], [[0.0], [-0.5]])


def test_two_layer_sigmoid_by_hand() -> None:
    params = {
        "W1": np.array([[0.1, 0.2]]),
        "b1": np.array([[0.0]]),
        "W2": np.array([[2.0]]),
        "b2": np.array([[-1.0]]),
    }
    X = np.array([[1.0], [2.0]])
    AL, caches = forward_propagation(X, params, ("sigmoid", "sigmoid"))
    a1 = 1 / (1 + np.exp(-0.5))
    a2 = 1 / (1 + np.exp(-(2 * a1 - 1)))
    np.testing.assert_allclose(AL, [[a2]], rtol=1e-15)
    grads = backward_propagation(AL, np.array([[1.0]]), caches, "binary_cross_entropy")
    dz2 = a2 - 1
    np.testing.assert_allclose(grads["dW2"], [[dz2 * a1]], rtol=1e-14)
    np.testing.assert_allclose(grads["db2"], [[dz2]], rtol=1e-14)
    dz1 = 2 * dz2 * a1 * (1 - a1)
    np.testing.assert_allclose(grads["dW1"], [[dz1 * 1, dz1 * 2]], rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shapes_and_dtypes_everywhere(dtype: FloatDType, rng: np.random.Generator) -> None:
    params = initialize_parameters([6, 5, 4, 3], rng, dtype=dtype)
    X = rng.standard_normal((6, 7)).astype(params["W1"].dtype)
    Y = one_hot(rng.integers(0, 3, 7), 3, dtype=dtype)
    AL, caches = forward_propagation(X, params, ("relu", "tanh", "softmax"), keep_probs=0.5, rng=rng)
    assert AL.shape == (3, 7) and AL.dtype == dtype
    for l, cache in enumerate(caches, start=1):
        for array in (cache.A_prev, cache.Z, cache.A):
            assert array.dtype == dtype
        assert cache.Z.shape == (params[f"W{l}"].shape[0], 7)
    grads = backward_propagation(AL, Y, caches, "categorical_cross_entropy", lambd=0.1)
    assert list(grads) == ["dW1", "db1", "dW2", "db2", "dW3", "db3"]
    for key, value in params.items():
        assert grads["d" + key].shape == value.shape and grads["d" + key].dtype == dtype
    updated = update_parameters(params, grads, 0.1)
    assert all(updated[k].dtype == dtype for k in updated)


def test_predict_rules(rng: np.random.Generator) -> None:
    params = initialize_parameters([3, 4, 1], rng)
    X = rng.standard_normal((3, 9))
    proba = predict_proba(X, params, ("relu", "sigmoid"))
    np.testing.assert_array_equal(predict(X, params, ("relu", "sigmoid")), (proba[0] >= 0.5).astype(int))
    params3 = initialize_parameters([3, 4, 3], rng)
    proba3 = predict_proba(X, params3, ("relu", "softmax"))
    np.testing.assert_array_equal(predict(X, params3, ("relu", "softmax")), proba3.argmax(axis=0))
    with pytest.raises(ValueError, match="use predict_proba for regression"):
        predict(X, params, ("relu", "linear"))


def test_accuracy_and_one_hot_by_hand() -> None:
    assert accuracy(np.array([0, 1, 2, 1]), np.array([0, 2, 2, 1])) == 0.75
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), [[0, 1], [0, 0], [1, 0]])
    with pytest.raises(ValueError, match=r"labels must lie in 0..2"):
        one_hot(np.array([3]), 3)
    with pytest.raises(ValueError, match=r"argmax"):
        accuracy(np.zeros((2, 3), dtype=int), np.zeros(3, dtype=int))


def test_refusals_name_the_argument(rng: np.random.Generator) -> None:
    params = initialize_parameters([3, 2, 1], rng)
    X = rng.standard_normal((3, 4))
    with pytest.raises(ValueError, match=r"X has 4 rows \(features\) but W1 \(2, 3\) expects 3"):
        forward_propagation(X.T, params, ("relu", "sigmoid"))
    with pytest.raises(ValueError, match="one activation per layer: the params have 2 layers, got 1"):
        forward_propagation(X, params, ("relu",))
    with pytest.raises(ValueError, match="did you mean 'sigmoid'"):
        forward_propagation(X, params, ("relu", "sigmod"))  # type: ignore[arg-type]  # the typo is the test
    with pytest.raises(ValueError, match=r"missing \['b2'\]"):
        forward_propagation(X, {k: v for k, v in params.items() if k != "b2"}, ("relu", "sigmoid"))
    with pytest.raises(ValueError, match=r"params\['W2'\] has shape \(1, 5\)"):
        forward_propagation(X, {**params, "W2": np.zeros((1, 5))}, ("relu", "sigmoid"))
    with pytest.raises(TypeError, match="X has dtype float32 but params\\['W1'\\] is float64"):
        forward_propagation(X.astype(np.float32), params, ("relu", "sigmoid"))
    with pytest.raises(TypeError, match="dtype float32 or float64, got int64"):
        forward_propagation(np.ones((3, 4), dtype=np.int64), params, ("relu", "sigmoid"))
    with pytest.raises(ValueError, match="X must be 2-D"):
        forward_propagation(X[:, 0], params, ("relu", "sigmoid"))
    X_nan = X.copy()
    X_nan[1, 2] = np.nan
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        forward_propagation(X_nan, params, ("relu", "sigmoid"))
    with pytest.raises(TypeError, match=r"^rng must be a numpy\.random\.Generator such as np\.random\.default_rng\(seed\) for dropout \(keep_probs < 1\), which draws from it, got None$"):
        forward_propagation(X, params, ("relu", "sigmoid"), keep_probs=0.5)
    AL, caches = forward_propagation(X, params, ("relu", "linear"))
    with pytest.raises(ValueError, match="'binary_cross_entropy' needs outputs in \\[0, 1\\].*use 'sigmoid'"):
        backward_propagation(AL, np.zeros((1, 4)), caches, "binary_cross_entropy")
    with pytest.raises(ValueError, match=r"Y must have the shape of AL \(1, 4\), got \(1, 3\)"):
        backward_propagation(AL, np.zeros((1, 3)), caches, "mean_squared_error")
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0, got 0"):
        update_parameters(params, {"d" + k: v for k, v in params.items()}, 0)
    with pytest.raises(ValueError, match=r"grads must have exactly the keys"):
        update_parameters(params, {"dW1": params["W1"]}, 0.1)
    with pytest.raises(ValueError, match="looks like a grads dict"):
        update_parameters({"d" + k: v for k, v in params.items()}, params, 0.1)


@pytest.mark.parametrize("size", [0, 1, 2, 3, 8, 11])
@pytest.mark.parametrize("pending_draws", [0, 1, 2, 3])  # earlier float32 draws: odd counts leave a half buffered
def test_float32_bits_are_the_integers_behind_rng_random(size: int, pending_draws: int) -> None:
    ours, theirs = np.random.default_rng(7), np.random.default_rng(7)
    for _ in range(pending_draws):
        ours.random(1, dtype=np.float32), theirs.random(1, dtype=np.float32)
    bits = float32_bits(ours, size)
    assert bits is not None and bits.dtype == np.uint32 and bits.shape == (size,)
    expected = theirs.random(size, dtype=np.float32)
    np.testing.assert_array_equal((bits >> 8).astype(np.float32) * np.float32(2.0**-24), expected)
    assert ours.bit_generator.state == theirs.bit_generator.state  # the 32-bit buffer too
    assert float32_bits(np.random.Generator(np.random.MT19937(7)), 4) is None  # another bit generator: rng.random's job


@pytest.mark.parametrize("shape", [(64, 128), (5, 7), (1, 2), (3, 1), (0, 4)])
@pytest.mark.parametrize("keep", [0.8, 0.5, 1 / 3, 0.999999999])
@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.MT19937])
def test_dropout_draws_are_16_bit_integers_below_keep_bit_for_bit(
    shape: tuple[int, int], keep: float, bit_generator: type[np.random.BitGenerator]
) -> None:
    for pending_half in (False, True):  # a float32 draw of odd length leaves half a raw output buffered
        ours, theirs = (np.random.Generator(bit_generator(42)) for _ in range(2))
        if pending_half:
            ours.random(1, dtype=np.float32), theirs.random(1, dtype=np.float32)
        kept = dropout_keeps(ours, shape, keep)
        expected = theirs.integers(0, 2**16, size=shape, dtype=np.uint16) < math.ceil(keep * 2**16)
        assert kept.shape == shape and kept.dtype == np.bool_
        np.testing.assert_array_equal(kept, expected)
        np.testing.assert_equal(ours.bit_generator.state, theirs.bit_generator.state)  # left alike, the 32-bit buffer too
        # and the generator goes on exactly as rng.integers leaves it
        np.testing.assert_array_equal(ours.random(9, dtype=np.float32), theirs.random(9, dtype=np.float32))
        np.testing.assert_array_equal(ours.random(3), theirs.random(3))


def test_dropout_keeps_units_with_probability_keep_on_a_16_bit_grid() -> None:
    """Kept with probability ceil(keep 2^16) / 2^16: e.g. 1/3 -> 21846 / 65536 = 0.333344."""
    rng = np.random.default_rng(0)
    m = 2_000_000
    for keep in (1 / 3, 0.8):
        fraction = float(np.mean(dropout_keeps(rng, (m,), keep)))
        # Binomial(m, p) / m: standard deviation below 3.5e-4
        assert abs(fraction - math.ceil(keep * 2**16) / 2**16) < 1.5e-3
    assert dropout_keeps(rng, (1000,), 1 - 2**-20).all()  # rounds up to 1: every unit kept
    assert dropout_keeps(rng, (100_000,), 2**-20).sum() < 10  # one grid step: kept only when k = 0, 1.5 expected


@pytest.mark.parametrize(("network", "output"), [(np.float32, np.float64), (np.float64, np.float32)])
def test_backward_refuses_an_output_of_another_dtype_than_the_caches(
    network: FloatDType, output: FloatDType, rng: np.random.Generator
) -> None:
    """A float64 AL for a float32 network made float64 grads (and a float32 AL a mixed dict)."""
    params = initialize_parameters([3, 4, 2], rng, dtype=network)
    X = rng.standard_normal((3, 5)).astype(network)
    Y = one_hot(np.array([0, 1, 1, 0, 1]), 2).astype(network)
    AL, caches = forward_propagation(X, params, ("relu", "softmax"))
    grads = backward_propagation(AL, Y, caches, "categorical_cross_entropy")
    assert {grad.dtype for grad in grads.values()} == {np.dtype(network)}
    message = rf"AL has dtype {np.dtype(output).name} but the caches' last layer's A is {np.dtype(network).name}"
    with pytest.raises(TypeError, match=message):
        backward_propagation(AL.astype(output), Y, caches, "categorical_cross_entropy")


def test_predict_gives_class_1_at_the_threshold_itself() -> None:
    # zero weights and biases: every output is sigmoid(0) = 0.5 exactly, which is class 1 (>= 0.5)
    params = {"W1": np.zeros((3, 2)), "b1": np.zeros((3, 1)), "W2": np.zeros((1, 3)), "b2": np.zeros((1, 1))}
    X = np.array([[1.0, -2.0, 0.0], [0.5, 3.0, -1.0]])
    assert predict(X, params, ("relu", "sigmoid")).tolist() == [1, 1, 1]
    # after a hinge loss the threshold is 0: a linear output of exactly 0 is class 1, just below it 0
    from functional_nn.activations import LINEAR
    from functional_nn.propagation import labels_from_output

    assert labels_from_output(np.array([[0.0, -1e-300, 2.0]]), LINEAR, threshold=0.0).tolist() == [1, 0, 1]
