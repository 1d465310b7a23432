"""Behaviour of the maths modules that the rest of the suite left unpinned, found by mutation testing.

Each test fails on at least one mutant of ``losses``, ``metrics``, ``schedules``, ``averaging`` or
``gradient_check`` (a flipped comparison, a changed constant or default, a dropped ``dtype=`` or
check) that the tests exercising that module let pass, and asserts a value computed by hand, a
documented default or bound, or a message.
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Any

import numpy as np
import pytest

from functional_nn.activations import LINEAR
from functional_nn.averaging import AVERAGE_SLOT, averaged_params, ema
from functional_nn.gradient_check import RecordCheckError, check_activation, check_loss, gradient_check, numerical_gradient
from functional_nn.losses import LOSSES, l2_penalty
from functional_nn.metrics import f1_score, log_loss, precision, recall
from functional_nn.optimizers import Optimizer, OptimizerState, sgd
from functional_nn.schedules import cosine_decay
from functional_nn.types import ActivationFunction, FloatArray, FloatDType, Grads, LossFunction, Params


def test_cosine_decay_warmup_scales_with_the_peak() -> None:
    schedule = cosine_decay(0.4, decay_steps=2, warmup_steps=4)
    assert [schedule(t) for t in range(4)] == pytest.approx([0.1, 0.2, 0.3, 0.4], rel=1e-15)


def test_cosine_decay_accepts_final_equal_to_peak_as_a_constant_rate() -> None:
    schedule = cosine_decay(0.3, decay_steps=5, warmup_steps=1, final=0.3)
    assert [schedule(t) for t in range(8)] == pytest.approx([0.3] * 8, rel=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_cross_entropy_gradient_divides_by_a_down_to_tiny(dtype: FloatDType) -> None:
    # -y / max(a, tiny): an output below eps is divided by as it is (a mutant clipped at eps)
    a = 1e-20 if dtype == np.float32 else 1e-300
    AL = np.array([[a, 0.0]], dtype=dtype)
    Y = np.ones((1, 2), dtype=dtype)
    gradient = LOSSES["binary_cross_entropy"].gradient(AL, Y)
    assert gradient.dtype == dtype
    assert gradient[0, 0] == pytest.approx(-1 / float(dtype(a)), rel=1e-6)
    assert gradient[0, 1] == pytest.approx(-1 / float(np.finfo(dtype).tiny), rel=1e-6)


def test_l2_penalty_with_lambda_zero_is_zero_even_for_weights_whose_squares_overflow() -> None:
    # the early return: 0 * inf would be NaN (and an overflow warning, an error here)
    params = {"W1": np.array([[1e200, -1e200]]), "b1": np.zeros((1, 1))}
    assert l2_penalty(params, 0.0, 3) == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_categorical_cross_entropy_gradient_divides_by_a_down_to_tiny(dtype: FloatDType) -> None:
    a = 1e-20 if dtype == np.float32 else 1e-300
    AL = np.array([[a, 0.0], [1 - a, 1.0]], dtype=dtype)
    Y = np.array([[1.0, 1.0], [0.0, 0.0]], dtype=dtype)
    gradient = LOSSES["categorical_cross_entropy"].gradient(AL, Y)
    assert gradient.dtype == dtype
    assert gradient[0, 0] == pytest.approx(-1 / float(dtype(a)), rel=1e-6)
    assert gradient[0, 1] == pytest.approx(-1 / float(np.finfo(dtype).tiny), rel=1e-6)
    assert gradient[1, 0] == 0 and gradient[1, 1] == 0


def test_l2_penalty_with_lambda_one_by_hand() -> None:
    params = {"W1": np.array([[1.0, -2.0]]), "b1": np.array([[9.0]]), "W2": np.array([[3.0]]), "b2": np.array([[9.0]])}
    assert l2_penalty(params, 1.0, 2) == pytest.approx(1 / 4 * (1 + 4 + 9), rel=1e-15)


def test_l2_penalty_of_float32_weights_is_summed_in_float64() -> None:
    # squares 2**24, 1, 1: summed in float32 each 1 is lost to rounding
    params = {"W1": np.array([[4096.0, 1.0, 1.0]], dtype=np.float32), "b1": np.zeros((1, 1), dtype=np.float32)}
    assert l2_penalty(params, 2.0, 1) == 2.0**24 + 2


def test_hinge_of_float32_outputs_is_summed_in_float64() -> None:
    # margins 2**24, 1, 1: a float32 sum loses both ones
    AL = np.array([[-(2.0**24 - 1), 0.0, 0.0]], dtype=np.float32)
    Y = np.ones((1, 3), dtype=np.float32)
    assert LOSSES["hinge"].cost(AL, Y) == (2.0**24 + 2) / 3


def test_log_loss_of_no_samples_is_refused_by_name() -> None:
    # not NumPy's "zero-size array to reduction operation minimum"
    with pytest.raises(ValueError, match=r"^probabilities has no samples: shape has m = 0 columns$"):
        log_loss(np.zeros((2, 0)), np.zeros(0, dtype=np.int64))


def test_binary_average_still_checks_num_classes() -> None:
    predictions, labels = np.array([0, 1, 1]), np.array([1, 1, 0])
    for metric in (precision, recall, f1_score):
        with pytest.raises(ValueError, match=r"class index 1 found, but num_classes is 1"):
            metric(predictions, labels, num_classes=1)
    assert precision(predictions, labels, num_classes=2) == 0.5


def test_log_loss_of_one_sample_by_hand() -> None:
    assert log_loss(np.array([[0.25]]), np.array([1])) == -math.log(0.25)


def test_log_loss_labels_all_of_class_one_and_negative_labels() -> None:
    assert log_loss(np.array([[0.5, 0.25]]), np.array([1, 1])) == pytest.approx(-(math.log(0.5) + math.log(0.25)) / 2, rel=1e-15)
    # -1 would index the last row of probabilities
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.1 .*got -1\.\.0"):
        log_loss(np.array([[0.5, 0.5], [0.5, 0.5]]), np.array([-1, 0]))


def test_log_loss_column_sum_tolerance_depends_on_the_dtype() -> None:
    # off by 1e-4: within float32's 1e-3, beyond float64's 1e-6
    P = np.array([[0.5001], [0.5]])
    with pytest.raises(ValueError, match="must sum to 1"):
        log_loss(P, np.array([1]))
    assert log_loss(P.astype(np.float32), np.array([1])) == -math.log(0.5)
    # off by 1e-7 in float64: accepted
    assert log_loss(np.array([[0.5000001], [0.5]]), np.array([1])) == -math.log(0.5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_loss_of_a_certain_right_prediction_is_clipped_at_one_minus_eps(dtype: FloatDType) -> None:
    # exactly -log(1 - eps), about 1e-16 in float64: pytest.approx's abs=1e-12 could not tell it from 0
    eps = float(np.finfo(dtype).eps)
    expected = pytest.approx(-math.log(1 - eps), rel=1e-9, abs=0)
    assert log_loss(np.array([[1.0, 0.0]], dtype=dtype), np.array([1, 0])) == expected
    assert log_loss(np.array([[0.0], [1.0]], dtype=dtype), np.array([1])) == expected


@pytest.mark.parametrize(("dtype", "tolerance"), [(np.float32, 1e-3), (np.float64, 1e-6)])
def test_log_loss_column_sum_tolerance_is_the_documented_one(dtype: FloatDType, tolerance: float) -> None:
    within = np.array([[0.5 + 0.8 * tolerance], [0.5]], dtype=dtype)
    assert log_loss(within, np.array([1])) == -math.log(0.5)
    beyond = np.array([[0.5 + 1.5 * tolerance], [0.5]], dtype=dtype)
    with pytest.raises(ValueError, match="must sum to 1"):
        log_loss(beyond, np.array([1]))


def test_log_loss_sums_float32_columns_in_float64() -> None:
    # 0.9985 and 51725 entries of 2.9e-8 sum to 1; in float32, row after row, every 2.9e-8
    # (below half a float32 ulp of 0.9985) is lost and the column sums to 0.9985: refused
    P = np.full((51726, 2), 2.9e-8, dtype=np.float32)
    P[0] = 0.9985
    assert log_loss(P, np.array([0, 0])) == pytest.approx(-math.log(float(np.float32(0.9985))), rel=1e-12)


def test_log_loss_refuses_negative_probabilities() -> None:
    with pytest.raises(ValueError, match=r"probabilities must lie in \[0, 1\], got values in \[-0.5, 0.5\]"):
        log_loss(np.array([[-0.5, 0.5]]), np.array([0, 1]))


def test_ema_default_decay_is_0_999_by_hand() -> None:
    # theta_1 = 1 - 0.5 = 0.5, theta_2 = 0; eta_1 = 1, eta_2 = (1 - b) / (1 - b**2) = 1 / (1 + b)
    params: Params = {"W1": np.ones((1, 1)), "b1": np.zeros((1, 1))}
    grads: Grads = {"dW1": np.full((1, 1), 5.0), "db1": np.zeros((1, 1))}
    opt = ema(sgd(0.1))
    assert opt.hyperparameters == (("learning_rate", 0.1), ("ema_decay", 0.999))
    state = opt.init(params)
    for _ in range(2):
        params, state = opt.update(grads, state, params)
    assert params["W1"][0, 0] == 0.0
    assert state.slots[AVERAGE_SLOT]["W1"][0, 0] == pytest.approx(0.5 - 0.5 / 1.999, rel=1e-12)


def test_ema_init_checks_the_params_when_the_wrapped_init_does_not() -> None:
    def init(params: Params) -> OptimizerState:
        return OptimizerState(0, {})

    def update(grads: Grads, state: OptimizerState, params: Params) -> tuple[dict[str, np.ndarray], OptimizerState]:
        return dict(params), state

    with pytest.raises(ValueError, match=r"params is missing \['b1'\]"):
        ema(Optimizer(init, update, "mine")).init({"W1": np.ones((2, 3))})


def test_averaged_params_without_an_average_returns_a_dict_even_of_non_finite_params() -> None:
    # a diverged run's params are still returned (only their structure is checked), as a dict
    params = {"W1": np.array([[np.nan, 1.0]]), "b1": np.array([[np.inf]])}
    state = sgd(0.1).init({"W1": np.zeros((1, 2)), "b1": np.zeros((1, 1))})
    result = averaged_params(state, MappingProxyType(params))
    assert type(result) is dict and result.keys() == params.keys()
    assert all(result[k] is params[k] for k in params)


def _small_problem() -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((2, 4))
    Y = rng.standard_normal((1, 4))
    return X, Y, {"W1": rng.standard_normal((1, 2)), "b1": rng.standard_normal((1, 1))}


def test_numerical_gradient_and_gradient_check_defaults_are_epsilon_1e_7_without_l2() -> None:
    # bitwise: the centred differences' rounding noise depends on epsilon
    X, Y, params = _small_problem()
    explicit = numerical_gradient(X, Y, params, ["tanh"], "mean_squared_error", epsilon=1e-7, lambd=0.0)
    default = numerical_gradient(X, Y, params, ["tanh"], "mean_squared_error")
    assert all(np.array_equal(default[k], explicit[k]) for k in explicit)
    other = numerical_gradient(X, Y, params, ["tanh"], "mean_squared_error", epsilon=2e-7)
    assert not all(np.array_equal(other[k], explicit[k]) for k in explicit)
    assert gradient_check(X, Y, params, ["tanh"], "mean_squared_error") == gradient_check(
        X, Y, params, ["tanh"], "mean_squared_error", epsilon=1e-7, lambd=0.0
    )


def test_gradient_check_is_relative_for_a_nonzero_gradient() -> None:
    # a backward pass twice the true one: |2g - g| / (|2g| + |g|) = 1/3, whatever |g| is
    doubled = ActivationFunction("doubled_linear", lambda Z: Z, lambda dA, Z, A: 2 * dA, (-math.inf, math.inf))
    X, Y, params = _small_problem()
    assert gradient_check(X, Y, params, [doubled], "mean_squared_error") == pytest.approx(1 / 3, rel=1e-6)


def _scaled_linear(c: float) -> ActivationFunction:
    """The identity, with a backward pass off by a factor 1 + c: relative difference c / (2 + c)."""
    return ActivationFunction(f"linear_off_by_{c}", lambda Z: Z, lambda dA, Z, A: dA * (1 + c), (-math.inf, math.inf))


def _scaled_squares(c: float) -> LossFunction:
    """Mean squared error with a gradient off by a factor 1 + c."""
    return LossFunction(
        f"mse_off_by_{c}",
        lambda AL, Y: float(np.sum((AL - Y) ** 2) / AL.shape[1]),
        lambda AL, Y: 2 * (AL - Y) * (1 + c),
    )


def test_check_activation_reports_the_relative_difference_against_the_default_tolerance_1e_5() -> None:
    assert check_activation(_scaled_linear(1.4e-5)) == pytest.approx(1.4e-5 / (2 + 1.4e-5), rel=1e-4)
    with pytest.raises(RecordCheckError, match=r"by a relative 1\.4e-05 \(tolerance 1e-05\)"):
        check_activation(_scaled_linear(2.8e-5))
    with pytest.raises(RecordCheckError, match=r"by a relative 0\.333 "):
        check_activation(_scaled_linear(1.0))


def test_check_loss_reports_the_relative_difference_against_the_default_tolerance_1e_5() -> None:
    assert check_loss(_scaled_squares(1.4e-5)) == pytest.approx(1.4e-5 / (2 + 1.4e-5), rel=1e-3)
    with pytest.raises(RecordCheckError, match=r"by a relative 1\.4e-05 \(tolerance 1e-05\)"):
        check_loss(_scaled_squares(2.8e-5))


def test_record_checks_pass_at_a_tolerance_equal_to_their_worst_difference_and_default_their_epsilon() -> None:
    worst = check_activation("sigmoid")
    assert check_activation("sigmoid", tolerance=worst) == worst == check_activation("sigmoid", epsilon=1e-5, tolerance=1e-5)
    for loss in ("mean_squared_error", "binary_cross_entropy"):  # without and with a fused activation
        worst = check_loss(loss)
        assert check_loss(loss, tolerance=worst) == worst == check_loss(loss, epsilon=1e-6)


def test_check_activation_refuses_a_backward_pass_that_changes_the_dtype() -> None:
    upcast = ActivationFunction("upcast_backward", np.tanh, lambda dA, Z, A: (dA * (1 - A * A)).astype(np.float64), (-1.0, 1.0))
    with pytest.raises(RecordCheckError, match=r"backward must keep the shape and dtype of its input \(4, 6\) float32"):
        check_activation(upcast)


def test_check_loss_takes_what_training_takes_from_a_cost_and_refuses_a_gradient_that_changes_the_dtype() -> None:
    squares = _scaled_squares(0.0)

    def numpy_mean(AL: FloatArray, Y: FloatArray) -> Any:  # np.mean: an np.float32 for float32 inputs, as train takes it
        return np.mean(np.sum((AL - Y) ** 2, axis=0))

    assert check_loss(squares._replace(name="numpy_mean", cost=numpy_mean)) < 1e-7

    def per_column(AL: FloatArray, Y: FloatArray) -> Any:  # one cost per sample, not their mean
        return np.sum((AL - Y) ** 2, axis=0)

    with pytest.raises(RecordCheckError, match=r"cost must return one finite number, the mean over the columns \(a float or a NumPy scalar\), got ndarray"):
        check_loss(squares._replace(name="per_column", cost=per_column))
    upcast = squares._replace(name="upcast_gradient", gradient=lambda AL, Y: (2 * (AL - Y)).astype(np.float64))
    with pytest.raises(RecordCheckError, match=r"gradient must keep the shape and dtype of its input \(3, 5\) float32"):
        check_loss(upcast)


@pytest.mark.parametrize(("c", "expected"), [(1e-12, 1e-4), (1e-6, 1.0)])
def test_check_activation_compares_absolutely_below_1e_8(c: float, expected: float) -> None:
    # forward is constant, so the differences are 0 and backward's c is all the error:
    # c / max(c, 1e-8) is 1e-4 below the floor and 1 (relative) above it
    flat = ActivationFunction(f"flat_{c}", np.zeros_like, lambda dA, Z, A: np.full_like(dA, c), (0.0, 0.0))
    assert check_activation(flat, tolerance=1.0) == pytest.approx(expected, rel=1e-9)


def test_check_activation_draws_z_as_twice_a_standard_normal_from_default_rng_0() -> None:
    # backward off by a factor 1 + c|z|: the worst relative difference c M / (2 + c M) reveals M = max |z|
    c = 1e-3
    growing = ActivationFunction("off_by_abs_z", lambda Z: Z, lambda dA, Z, A: dA * (1 + c * np.abs(Z)), (-math.inf, math.inf))
    M = 2 * float(np.abs(np.random.default_rng(0).standard_normal((4, 6))).max())
    assert check_activation(growing, tolerance=1.0) == pytest.approx(c * M / (2 + c * M), rel=1e-6)


def test_record_checks_check_the_float64_outputs_dtype_too() -> None:
    single = ActivationFunction("single_backward", np.tanh, lambda dA, Z, A: (dA * (1 - A * A)).astype(np.float32), (-1.0, 1.0))
    with pytest.raises(RecordCheckError, match=r"backward must keep the shape and dtype of its input \(4, 6\) float64"):
        check_activation(single)
    squares = _scaled_squares(0.0)
    single_loss = squares._replace(name="single_gradient", gradient=lambda AL, Y: (2 * (AL - Y)).astype(np.float32))
    with pytest.raises(RecordCheckError, match=r"gradient must keep the shape and dtype of its input \(3, 5\) float64"):
        check_loss(single_loss)


def test_check_loss_draws_outputs_of_either_sign_unless_the_loss_needs_probabilities() -> None:
    # a gradient off by a factor 1 + c for negative outputs only: seen in N(0, 1) draws, not in (0.05, 0.95)
    c = 1e-3
    squares = _scaled_squares(0.0)
    wrong_below_zero = squares._replace(name="wrong_below_zero", gradient=lambda AL, Y: 2 * (AL - Y) * (1 + c * (AL < 0).astype(AL.dtype)))
    assert check_loss(wrong_below_zero, tolerance=1.0) == pytest.approx(c / (2 + c), rel=1e-5)
    assert check_loss(wrong_below_zero._replace(probability_output=True), tolerance=1.0) < 1e-8


def test_numerical_gradient_of_a_float32_network_is_taken_in_float64() -> None:
    # bitwise the float64 network holding the same values
    X, Y, params = _small_problem()
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    P32 = {k: v.astype(np.float32) for k, v in params.items()}
    P64 = {k: v.astype(np.float64) for k, v in P32.items()}
    single = numerical_gradient(X32, Y32, P32, ["tanh"], "mean_squared_error")
    double = numerical_gradient(X32.astype(np.float64), Y32.astype(np.float64), P64, ["tanh"], "mean_squared_error")
    assert all(single[k].dtype == np.float64 and np.array_equal(single[k], double[k]) for k in double)


def _linear_in_place_off_by(r: float) -> ActivationFunction:
    def in_place(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
        dA *= 1 + r
        return dA

    return ActivationFunction(f"linear_in_place_off_by_{r}", lambda Z: Z, lambda dA, Z, A: dA, (-math.inf, math.inf), in_place)


def test_check_activation_holds_backward_in_place_to_a_relative_1e_12() -> None:
    assert check_activation(_linear_in_place_off_by(0.7e-12)) < 1e-9
    with pytest.raises(RecordCheckError, match="backward_in_place gives other values than backward"):
        check_activation(_linear_in_place_off_by(1.5e-12))


def test_check_loss_reports_the_largest_difference_of_a_wrong_fused_pairing() -> None:
    # cost (a - y)^2 / 2 + c (a - y)^3 / 3 has gradient (a - y) + c (a - y)^2 (right), but a fused
    # linear output's dZ is not a - y: off by a relative c|a - y| / (2 + c|a - y|), which varies
    c = 0.1
    cubic = LossFunction(
        "cubic",
        lambda AL, Y: float(np.sum(0.5 * (AL - Y) ** 2 + c / 3 * (AL - Y) ** 3) / AL.shape[1]),
        lambda AL, Y: (AL - Y) + c * (AL - Y) ** 2,
        fused_activation=LINEAR,
    )
    with pytest.raises(RecordCheckError, match=r"declares fused_activation 'linear', but AL - Y differs .* by a relative 0\.106"):
        check_loss(cubic)
    assert check_loss(cubic, tolerance=1.0) == pytest.approx(0.1063003, rel=1e-5)
