"""Behaviour of the update rules, gradient clipping, max-norm, propagation, the epoch and the
fused kernels' sums that no other test pinned: each test here fails on a mutant of the library
(an operator flipped, a constant changed, a statement dropped) that the rest of the suite let
through."""

from __future__ import annotations

import math

import numpy as np
import pytest

from functional_nn import _fused_kernels, apply_max_norm, clip_by_global_norm, fused, global_norm, predict, train
from functional_nn.optimizers import _clip_by_global_norm, adamw, sgd
from functional_nn.types import Activation, ActivationFunction, FloatArray


def _arrays(**values: list[list[float]]) -> dict[str, FloatArray]:
    return {key: np.array(value) for key, value in values.items()}


# AdamW


def test_adamws_defaults_are_a_rate_of_1e_3_and_a_weight_decay_of_1e_2_on_the_weights_only() -> None:
    opt = adamw()
    assert opt.hyperparameters == (
        ("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8), ("weight_decay", 1e-2), ("decay_biases", 0.0),
    )  # fmt: skip
    params = _arrays(W1=[[1.0]], b1=[[1.0]])
    new, _ = opt.update(_arrays(dW1=[[2.0]], db1=[[2.0]]), opt.init(params), params)
    step = 1e-3 * 2.0 / (math.sqrt(2.0**2) + 1e-8)  # t = 1: m_hat = g, v_hat = g^2
    np.testing.assert_allclose(new["W1"], [[1.0 * (1 - 1e-3 * 1e-2) - step]], rtol=1e-14, atol=0)
    np.testing.assert_allclose(new["b1"], [[1.0 - step]], rtol=1e-14, atol=0)


@pytest.mark.parametrize("kernel", fused.KERNELS)
def test_sgds_update_in_place_refuses_read_only_params_naming_them(kernel: fused.Kernel) -> None:
    optimizer = sgd(0.1, kernel=kernel)
    assert optimizer.update_in_place is not None
    params = _arrays(W1=[[1.0]], b1=[[0.0]])
    params["W1"].flags.writeable = False
    with pytest.raises(ValueError, match=r"sgd's update_in_place overwrites its arguments, but params\['W1'\] is read-only"):
        optimizer.update_in_place(_arrays(dW1=[[1.0]], db1=[[1.0]]), optimizer.init(params), params)
    assert params["W1"][0, 0] == 1.0


# Gradient clipping and max-norm


def test_clipping_float32_gradients_multiplies_them_in_float32_by_c_over_the_norm() -> None:
    # not in float64 then rounded: the scale is a Python float, NumPy's weak scalar
    rng = np.random.default_rng(3)
    grads = {"dW1": rng.standard_normal((3, 4)).astype(np.float32), "db1": rng.standard_normal((3, 1)).astype(np.float32)}
    clipped = clip_by_global_norm(grads, 0.5)
    scale = 0.5 / global_norm(grads)
    for key, value in grads.items():
        assert clipped[key].dtype == np.float32 and clipped[key].tobytes() == (value * scale).tobytes()


def test_an_infinite_gradient_has_an_infinite_norm_and_is_clipped_to_zero_where_finite() -> None:
    # train's unchecked clipping: the public clip_by_global_norm refuses non-finite gradients
    with np.errstate(invalid="ignore"):
        clipped = _clip_by_global_norm({"dW1": np.array([[np.inf, 3.0]])}, 1.0)
    assert np.isnan(clipped["dW1"][0, 0]) and clipped["dW1"][0, 1] == 0.0


def test_a_row_exactly_on_the_max_norm_ball_leaves_the_weights_array_itself() -> None:
    params = _arrays(W1=[[3.0, 4.0], [0.6, 0.8]], b1=[[9.0], [9.0]])
    assert apply_max_norm(params, 5.0)["W1"] is params["W1"]


def test_a_row_beside_one_whose_squares_overflow_is_scaled_as_it_is_alone() -> None:
    # in the dtype by c / norm, not by the overflowing rows' float64 (w / a)(c / r)
    W = (np.random.default_rng(0).standard_normal((4, 5)) * 3).astype(np.float32)
    alone = apply_max_norm({"W1": W, "b1": np.zeros((4, 1), np.float32)}, 1.0)["W1"]
    beside = np.vstack([W, np.full((1, 5), 1e20, np.float32)])
    both = apply_max_norm({"W1": beside, "b1": np.zeros((5, 1), np.float32)}, 1.0)["W1"]
    assert both[:4].tobytes() == alone.tobytes()


def test_a_row_whose_squares_overflow_inside_a_huger_ball_keeps_its_values_beside_one_that_shrinks() -> None:
    params = {"W1": np.array([[1e30, 0.0], [1e20, 0.0]], np.float32), "b1": np.zeros((2, 1), np.float32)}
    assert apply_max_norm(params, 1e25)["W1"].tolist() == [[np.float32(1e25), 0.0], [np.float32(1e20), 0.0]]


def test_rows_whose_squares_overflow_shrink_onto_the_ball_by_c_over_their_norm() -> None:
    # a row longer than c though its largest entry is not: 1e20 sqrt(2) > 1.2e20 > 1e20
    params = {"W1": np.array([[1e20, 0.0], [1e20, 1e20], [0.1, 0.0]], np.float32), "b1": np.zeros((3, 1), np.float32)}
    new = apply_max_norm(params, 1.2e20)["W1"]
    side = np.float32(1.2e20 / math.sqrt(2))
    assert new.tolist() == [[np.float32(1e20), 0.0], [side, side], [np.float32(0.1), 0.0]]
    assert apply_max_norm(params, 1.0)["W1"].tolist() == [[1.0, 0.0], [np.float32(1 / math.sqrt(2))] * 2, [np.float32(0.1), 0.0]]


def test_a_row_whose_squares_overflow_exactly_on_the_ball_leaves_the_weights_array_itself() -> None:
    params = {"W1": np.array([[1e20, 0.0], [0.1, 0.0]], np.float32), "b1": np.zeros((2, 1), np.float32)}
    assert apply_max_norm(params, float(np.float32(1e20)))["W1"] is params["W1"]


# Propagation


def _twice_sigmoid(Z: FloatArray) -> FloatArray:
    return 2 / (1 + np.exp(-Z))


def _unused_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    return dA


@pytest.mark.parametrize(
    "activation", ["tanh", "relu", ActivationFunction("twice_sigmoid", _twice_sigmoid, _unused_backward, (0.0, 2.0))]
)
def test_predict_refuses_one_output_unit_whose_range_is_not_within_0_and_1(activation: Activation | ActivationFunction) -> None:
    params = _arrays(W1=[[1.0]], b1=[[0.0]])
    with pytest.raises(ValueError, match="predict needs a classifier"):
        predict(np.array([[0.5, -0.5]]), params, (activation,))


# The epoch


def test_a_one_layer_classifiers_dev_accuracy_is_that_of_the_epochs_parameters() -> None:
    # one layer: run_epoch's dev p.activations[-1] read as [1] or [-2] would fail here
    X = np.array([[-2.0, -1.0, 1.0, 2.0, 3.0]])
    Y = np.array([[0.0, 1.0, 1.0, 1.0, 0.0]])
    params = {"W1": np.array([[1.0]]), "b1": np.zeros((1, 1))}  # sigmoid(x) >= 0.5 where x >= 0
    result = train(
        X, Y, params, activations=("sigmoid",), loss="binary_cross_entropy", epochs=1, learning_rate=1e-9, dev=(-X, Y)
    )  # fmt: skip
    assert result.history[0].dev_accuracy == 2 / 5  # predicted 1, 1, 0, 0, 0 against 0, 1, 1, 1, 0


def test_divergence_compares_the_epochs_mean_cost_not_its_sum_over_the_samples() -> None:
    # 10,001 samples of a steady cost: their sum is past 1e4 times the first epoch's mean
    X = np.zeros((1, 10_001))
    params = {"W1": np.zeros((1, 1)), "b1": np.zeros((1, 1))}
    result = train(X, X + 2.0, params, activations=("linear",), loss="mean_squared_error", epochs=2, learning_rate=1e-12)
    assert len(result.history) == 2
    np.testing.assert_allclose(result.history[1].cost, result.history[0].cost, rtol=1e-9)


# The fused softmax's column sum of a batch of one: NumPy's pairwise sum


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_fused_softmax_divides_one_column_by_numpys_pairwise_sum_at_every_length(dtype: type[np.floating]) -> None:
    # the runs NumPy sums in order (< 8), by eight partial sums (<= 128) and halves (> 128)
    rng = np.random.default_rng(7)
    for n in [*range(1, 40), 127, 128, 129, 135, 136, 137, 255, 256, 257, 300, 1000, 1031, 4099]:
        E = (rng.random((n, 1)) * rng.choice([1e-3, 1.0, 1e3], (n, 1))).astype(dtype)
        expected = E / np.add.reduce(E[:, 0])
        fused.kernel("softmax_normalise")(E)
        assert E.tobytes() == expected.tobytes(), n


def test_the_fused_softmax_shift_takes_the_limits_when_every_column_has_an_infinite_maximum() -> None:
    # no finite column beside them to set the flag that sends the columns to the limits' loop
    Z = np.array([[np.inf, -np.inf], [1.0, -np.inf], [np.inf, -np.inf]])
    E = np.empty_like(Z)
    fused.kernel("softmax_shift")(Z, np.zeros(3), E)
    assert E.tolist() == [[0.0, 0.0], [-np.inf, 0.0], [0.0, 0.0]]


# The gather of integer samples


def test_gather_divided_returns_the_sum_of_one_entry_per_64_byte_line_of_each_row_it_read() -> None:
    # the sum that keeps the compiler from dropping the first pass's loads
    rows = (np.arange(2 * 130) % 256).astype(np.uint8).reshape(2, 130)  # row 1: 130, 131, ..., 255, 0, 1, ...
    indices = np.array([1, 0, 1])
    out = np.empty((3, 130), np.float32)
    touched = _fused_kernels.gather_divided(rows, indices, np.float32(2.0), out)
    assert touched == (130 + 194 + 2) + (0 + 64 + 128) + (130 + 194 + 2)  # entries 0, 64 and 128 of rows 1, 0, 1
    assert out.tobytes() == (rows[indices].astype(np.float32) / np.float32(2.0)).tobytes()
