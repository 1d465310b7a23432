"""Regularisation: L2 by hand and by finite differences, inverted dropout (masks from the rng,
expectation kept, never at prediction, gradient check with fixed masks, reproducible runs),
max-norm and gradient clipping by global norm."""

from __future__ import annotations

import math

import numpy as np
import pytest

from functional_nn.data import one_hot
from functional_nn.gradient_check import gradient_check, numerical_gradient
from functional_nn.initializers import initialize_parameters
from functional_nn.losses import compute_cost
from functional_nn.optimizers import adam, apply_max_norm, clip_by_global_norm, global_norm
from functional_nn.propagation import backward_propagation, forward_propagation, predict_proba
from functional_nn.training import train
from functional_nn.types import Activation, FloatArray


def frozen(arrays: dict[str, FloatArray]) -> dict[str, FloatArray]:
    out = {key: value.copy() for key, value in arrays.items()}
    for value in out.values():
        value.flags.writeable = False
    return out


# --- L2 ---------------------------------------------------------------------------------------


def test_l2_cost_by_hand() -> None:
    params = {
        "W1": np.array([[1.0, 2.0]]),
        "b1": np.array([[100.0]]),  # biases are not penalised
        "W2": np.array([[3.0]]),
        "b2": np.array([[-7.0]]),
    }
    AL = np.array([[0.8, 0.4]])
    Y = np.array([[1.0, 0.0]])
    cross_entropy = -(math.log(0.8) + math.log(0.6)) / 2
    # lambd / (2 m) * (1 + 4 + 9) with lambd = 0.5, m = 2
    assert compute_cost(AL, Y, "binary_cross_entropy", lambd=0.5, params=params) == pytest.approx(
        cross_entropy + 1.75, rel=1e-15
    )
    assert compute_cost(AL, Y, "binary_cross_entropy") == pytest.approx(cross_entropy, rel=1e-15)


def test_l2_gradient_adds_lambda_over_m_times_the_weights(rng: np.random.Generator) -> None:
    params = initialize_parameters([3, 4, 2], rng)
    X = rng.standard_normal((3, 5))
    Y = one_hot(rng.integers(0, 2, 5), 2)
    AL, caches = forward_propagation(X, params, ("tanh", "softmax"))
    plain = backward_propagation(AL, Y, caches, "categorical_cross_entropy")
    with_l2 = backward_propagation(AL, Y, caches, "categorical_cross_entropy", lambd=0.3)
    for l in (1, 2):
        np.testing.assert_allclose(with_l2[f"dW{l}"] - plain[f"dW{l}"], 0.3 / 5 * params[f"W{l}"], rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(with_l2[f"db{l}"], plain[f"db{l}"])


def test_l2_gradient_check(rng: np.random.Generator) -> None:
    params = initialize_parameters([3, 5, 4, 1], rng)
    X = rng.standard_normal((3, 6))
    Y = (rng.random((1, 6)) < 0.5).astype(np.float64)
    assert gradient_check(X, Y, params, ("relu", "tanh", "sigmoid"), "binary_cross_entropy", lambd=1.3) < 1e-7


# --- dropout ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_masks_come_from_the_rng(rng: np.random.Generator, dtype: type[np.floating]) -> None:
    params = initialize_parameters([3, 5, 4, 2], rng, dtype=dtype)
    X = rng.standard_normal((3, 7)).astype(dtype)
    twin = np.random.default_rng(42)
    _, caches = forward_propagation(X, params, ("relu", "relu", "softmax"), keep_probs=(0.5, 0.75), rng=np.random.default_rng(42))
    # one 16-bit draw per unit of each dropping hidden layer, in layer order, below keep 2^16
    expected_1 = (twin.integers(0, 2**16, (5, 7), dtype=np.uint16) < 0.5 * 2**16) / dtype(0.5)
    expected_2 = (twin.integers(0, 2**16, (4, 7), dtype=np.uint16) < 0.75 * 2**16) / dtype(0.75)
    mask_1, mask_2 = caches[0].dropout_mask, caches[1].dropout_mask
    assert mask_1 is not None and mask_2 is not None
    assert caches[2].dropout_mask is None  # the output layer never drops
    np.testing.assert_array_equal(mask_1, expected_1)
    np.testing.assert_array_equal(mask_2, expected_2)
    assert mask_1.dtype == dtype and mask_2.dtype == dtype
    assert set(np.unique(mask_1)) <= {0.0, dtype(2.0)}
    # the next layer saw the dropped, rescaled activations
    np.testing.assert_array_equal(caches[1].A_prev, caches[0].A * mask_1)


def test_inverted_dropout_keeps_the_expectation(rng: np.random.Generator) -> None:
    """E[mask] = keep * (1 / keep) = 1, so the expected input of the next layer is unchanged."""
    n, m, keep = 200, 2000, 0.8
    params = {
        "W1": np.eye(n),
        "b1": np.zeros((n, 1)),
        "W2": np.full((1, n), 1.0 / n),
        "b2": np.zeros((1, 1)),
    }
    X = np.ones((n, m))
    AL, caches = forward_propagation(X, params, ("linear", "linear"), keep_probs=keep, rng=rng)
    mask = caches[0].dropout_mask
    assert mask is not None
    kept = float(np.mean(mask > 0))
    # kept fraction ~ Binomial(4e5, 0.8) / 4e5: standard deviation 6.3e-4
    assert abs(kept - keep) < 4e-3
    assert abs(float(np.mean(mask)) - 1.0) < 5e-3
    # each output is the mean of n kept-and-rescaled ones: mean 1 over the m columns
    assert abs(float(np.mean(AL)) - 1.0) < 5e-3


def test_prediction_never_drops(rng: np.random.Generator) -> None:
    params = initialize_parameters([3, 6, 2], rng)
    X = rng.standard_normal((3, 4))
    no_dropout, caches = forward_propagation(X, params, ("relu", "softmax"))
    assert all(cache.dropout_mask is None for cache in caches)
    np.testing.assert_array_equal(predict_proba(X, params, ("relu", "softmax")), no_dropout)
    # a keep probability of 1 drops nothing and needs no rng
    same, caches_1 = forward_propagation(X, params, ("relu", "softmax"), keep_probs=1.0)
    np.testing.assert_array_equal(same, no_dropout)
    assert caches_1[0].dropout_mask is None


def test_backward_uses_the_masks(rng: np.random.Generator) -> None:
    """With one sample, a dropped hidden unit gets no gradient on its incoming or outgoing weights."""
    params = initialize_parameters([3, 8, 2], rng)
    X = rng.standard_normal((3, 1))
    Y = one_hot(np.array([1]), 2)
    AL, caches = forward_propagation(X, params, ("relu", "softmax"), keep_probs=0.5, rng=rng)
    grads = backward_propagation(AL, Y, caches, "categorical_cross_entropy")
    mask = caches[0].dropout_mask
    assert mask is not None
    dropped = mask[:, 0] == 0
    assert 0 < dropped.sum() < 8
    np.testing.assert_array_equal(grads["dW1"][dropped], 0.0)
    np.testing.assert_array_equal(grads["db1"][dropped], 0.0)
    np.testing.assert_array_equal(grads["dW2"][:, dropped], 0.0)
    assert np.all(grads["dW2"][:, ~dropped & (caches[0].A[:, 0] > 0)] != 0)


def test_dropout_gradient_check_with_fixed_masks(rng: np.random.Generator) -> None:
    params = initialize_parameters([4, 6, 5, 3], rng)
    X = rng.standard_normal((4, 6))
    Y = one_hot(rng.integers(0, 3, 6), 3)
    activations: tuple[Activation, ...] = ("relu", "sigmoid", "softmax")
    state_before = rng.bit_generator.state
    difference = gradient_check(
        X, Y, params, activations, "categorical_cross_entropy", keep_probs=(0.6, 0.7), rng=rng, lambd=0.2
    )
    assert difference < 1e-7
    assert rng.bit_generator.state == state_before  # the check does not advance the rng
    # the masks mattered: other masks give another gradient
    one = numerical_gradient(X, Y, params, activations, "categorical_cross_entropy", keep_probs=(0.6, 0.7), rng=rng)
    other = numerical_gradient(
        X, Y, params, activations, "categorical_cross_entropy", keep_probs=(0.6, 0.7), rng=np.random.default_rng(99)
    )
    assert not np.allclose(one["dW1"], other["dW1"])


def _dropout_run(seed: int) -> dict[str, FloatArray]:
    data = np.random.default_rng(3)
    X = data.standard_normal((5, 40)).astype(np.float32)
    Y = one_hot(data.integers(0, 3, 40), 3, dtype=np.float32)
    rng = np.random.default_rng(seed)
    params = initialize_parameters([5, 16, 16, 3], rng, dtype=np.float32)
    result = train(
        X, Y, params, activations=("relu", "relu", "softmax"), loss="categorical_cross_entropy", epochs=3,
        optimizer=adam(0.01), batch_size=8, rng=rng, keep_probs=(0.7, 0.9),
    )  # fmt: skip
    return result.params


def test_same_seed_gives_bitwise_equal_dropout_runs() -> None:
    a, b, c = _dropout_run(1), _dropout_run(1), _dropout_run(2)
    for key in a:
        assert a[key].dtype == np.float32
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["W1"], c["W1"])


# --- max-norm ---------------------------------------------------------------------------------


def test_max_norm_by_hand() -> None:
    params = frozen(
        {
            "W1": np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]]),  # row norms 5, 0.5, 0
            "b1": np.array([[10.0], [10.0], [10.0]]),
            "W2": np.array([[0.1, 0.2, 0.2]]),  # norm 0.3: untouched
            "b2": np.array([[10.0]]),
        }
    )
    out = apply_max_norm(params, 2.5)
    np.testing.assert_allclose(out["W1"], [[1.5, 2.0], [0.3, 0.4], [0.0, 0.0]], rtol=1e-15)
    assert out["b1"] is params["b1"] and out["b2"] is params["b2"]
    assert out["W2"] is params["W2"]  # nothing to shrink: nothing copied
    np.testing.assert_array_equal(params["W1"], [[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]])


def test_max_norm_keeps_float32_and_bounds_every_row(rng: np.random.Generator) -> None:
    params = initialize_parameters([30, 20, 10], rng, scheme="standard_normal", dtype=np.float32)
    out = apply_max_norm(params, 1.5)
    for l in (1, 2):
        assert out[f"W{l}"].dtype == np.float32
        norms = np.linalg.norm(out[f"W{l}"].astype(np.float64), axis=1)
        assert norms.max() <= 1.5 * (1 + 1e-6)
        np.testing.assert_allclose(norms, 1.5, rtol=1e-6)  # every row was longer than 1.5


def test_train_with_max_norm_keeps_rows_in_the_ball(rng: np.random.Generator) -> None:
    X = rng.standard_normal((4, 32))
    Y = one_hot(rng.integers(0, 2, 32), 2)
    params = initialize_parameters([4, 8, 2], rng)
    result = train(
        X, Y, params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=5,
        optimizer=adam(0.5), batch_size=8, rng=rng, max_norm=0.7,
    )  # fmt: skip
    for l in (1, 2):
        assert np.linalg.norm(result.params[f"W{l}"], axis=1).max() <= 0.7 * (1 + 1e-12)


def test_max_norm_refuses_bad_arguments(rng: np.random.Generator) -> None:
    params = initialize_parameters([2, 2, 1], rng)
    with pytest.raises(ValueError, match="max_norm must be a finite number > 0"):
        apply_max_norm(params, 0.0)
    with pytest.raises(ValueError, match="unexpected key 'dW1'"):
        apply_max_norm({"dW1": params["W1"]}, 1.0)


# --- gradient clipping ------------------------------------------------------------------------


def test_clip_by_global_norm_by_hand() -> None:
    grads = frozen({"dW1": np.array([[3.0]]), "db1": np.array([[0.0]]), "dW2": np.array([[4.0, 0.0]])})
    assert global_norm(grads) == 5.0
    clipped = clip_by_global_norm(grads, 1.0)
    np.testing.assert_allclose(clipped["dW1"], [[0.6]], rtol=1e-15)
    np.testing.assert_allclose(clipped["dW2"], [[0.8, 0.0]], rtol=1e-15)
    np.testing.assert_array_equal(clipped["db1"], [[0.0]])
    assert global_norm(clipped) == pytest.approx(1.0, rel=1e-15)
    untouched = clip_by_global_norm(grads, 5.0)
    assert all(untouched[key] is grads[key] for key in grads)


def test_clip_by_global_norm_float32_and_huge_values() -> None:
    grads = {"dW1": np.full((2, 2), 3e19, dtype=np.float32), "db1": np.zeros((2, 1), dtype=np.float32)}
    # the squares overflow float32; the norm (6e19) must not
    assert global_norm(grads) == pytest.approx(6e19, rel=1e-6)
    clipped = clip_by_global_norm(grads, 2.0)
    assert clipped["dW1"].dtype == np.float32
    np.testing.assert_allclose(clipped["dW1"], 1.0, rtol=1e-6)


def test_clip_by_global_norm_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="max_norm"):
        clip_by_global_norm({"dW1": np.ones((1, 1))}, -1.0)
    with pytest.raises(ValueError, match=r"grads\['dW1'\] contains 1 NaN"):
        clip_by_global_norm({"dW1": np.array([[np.nan]])}, 1.0)
    with pytest.raises(ValueError, match="grads is empty"):
        clip_by_global_norm({}, 1.0)
    with pytest.raises(TypeError, match="grads must be a non-empty mapping"):
        clip_by_global_norm([], 1.0)  # type: ignore[arg-type]


def test_keep_probs_accept_numpy_numbers_and_refuse_the_rest(rng: np.random.Generator) -> None:
    params = initialize_parameters([3, 4, 4, 2], rng)
    X = rng.standard_normal((3, 5))
    activations: tuple[Activation, ...] = ("relu", "relu", "softmax")
    _, caches = forward_propagation(X, params, activations, keep_probs=np.float32(0.5), rng=np.random.default_rng(0))  # type: ignore[arg-type]  # accepted at run time, not typed
    _, same = forward_propagation(X, params, activations, keep_probs=(0.5, 0.5), rng=np.random.default_rng(0))
    for a, b in zip(caches[:2], same[:2]):
        assert a.dropout_mask is not None and b.dropout_mask is not None
        np.testing.assert_array_equal(a.dropout_mask, b.dropout_mask)
    with pytest.raises(TypeError, match=r"keep_probs\[1\] must be a number"):
        forward_propagation(X, params, activations, keep_probs=(0.5, "0.5"), rng=rng)  # type: ignore[arg-type]  # the error is the point
    with pytest.raises(TypeError, match="keep_probs must be a number or a sequence of 2 numbers"):
        forward_propagation(X, params, activations, keep_probs="0.5", rng=rng)  # type: ignore[arg-type]  # the error is the point
    with pytest.raises(ValueError, match=r"keep_probs\[0\] must be in \(0, 1\], got 0.0"):
        forward_propagation(X, params, activations, keep_probs=0.0, rng=rng)
    with pytest.raises(ValueError, match="one probability per hidden layer"):
        forward_propagation(X, params, activations, keep_probs=(0.5,), rng=rng)


def test_max_norm_below_one_shrinks_rows_whose_norm_lies_between_c_and_1() -> None:
    # c = 0.7: a row of norm 0.8 lies outside the ball (0.64 > c^2 = 0.49), though its squared
    # norm is below c itself
    params = {"W1": np.array([[0.8, 0.0], [0.3, 0.4]]), "b1": np.zeros((2, 1))}
    out = apply_max_norm(params, 0.7)
    np.testing.assert_allclose(out["W1"], [[0.7, 0.0], [0.3, 0.4]], rtol=1e-15)
