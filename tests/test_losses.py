"""Losses: hand values, the L2 penalty, finiteness at saturated outputs, and refusals."""

from __future__ import annotations

import math
from typing import get_args

import numpy as np
import pytest

from functional_nn import compute_cost
from functional_nn.losses import LOSSES
from functional_nn.types import FloatDType, Loss


def test_registry_covers_every_loss_name() -> None:
    assert set(LOSSES) == set(get_args(Loss))


def test_binary_cross_entropy_by_hand() -> None:
    AL = np.array([[0.9, 0.2, 0.6]])
    Y = np.array([[1.0, 0.0, 0.0]])
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.4)) / 3
    assert compute_cost(AL, Y, "binary_cross_entropy") == pytest.approx(expected, rel=1e-15)


def test_categorical_cross_entropy_by_hand() -> None:
    AL = np.array([[0.7, 0.1], [0.2, 0.3], [0.1, 0.6]])
    Y = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    expected = -(math.log(0.7) + math.log(0.6)) / 2
    assert compute_cost(AL, Y, "categorical_cross_entropy") == pytest.approx(expected, rel=1e-15)


def test_mean_squared_error_by_hand() -> None:
    AL = np.array([[1.0, 2.0], [0.5, -1.0]])
    Y = np.array([[0.0, 2.0], [0.0, 1.0]])
    assert compute_cost(AL, Y, "mean_squared_error") == pytest.approx((1 + 0.25 + 0 + 4) / 2)


def test_l2_penalty_by_hand() -> None:
    params = {
        "W1": np.array([[1.0, -2.0]]),
        "b1": np.array([[5.0]]),
        "W2": np.array([[3.0]]),
        "b2": np.array([[7.0]]),
    }
    AL = np.array([[0.5, 0.5, 0.5, 0.5]])
    Y = np.array([[1.0, 0.0, 1.0, 0.0]])
    base = compute_cost(AL, Y, "binary_cross_entropy")
    with_l2 = compute_cost(AL, Y, "binary_cross_entropy", lambd=0.8, params=params)
    assert with_l2 - base == pytest.approx(0.8 / (2 * 4) * (1 + 4 + 9))


@pytest.mark.parametrize("loss", ["binary_cross_entropy", "categorical_cross_entropy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturated_probabilities_give_finite_cost_without_warnings(loss: Loss, dtype: FloatDType) -> None:
    AL = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=dtype)
    Y = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=dtype)
    with np.errstate(all="raise"):
        cost = compute_cost(AL, Y, loss)
        gradient = LOSSES[loss].gradient(AL, Y)
    assert math.isfinite(cost) and cost > 10
    assert np.isfinite(gradient).all() and gradient.dtype == dtype


def test_perfect_predictions_cost_zero() -> None:
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert compute_cost(Y, Y, "categorical_cross_entropy") == 0.0
    assert compute_cost(Y, Y, "binary_cross_entropy") == pytest.approx(0.0, abs=1e-12)


def test_refusals() -> None:
    AL = np.full((1, 3), 0.5)
    with pytest.raises(ValueError, match="did you mean 'binary_cross_entropy'"):
        compute_cost(AL, AL, "binary_crossentropy")  # type: ignore[arg-type]  # the typo is the test
    with pytest.raises(ValueError, match=r"Y must have the shape of AL \(1, 3\), got \(3, 1\)"):
        compute_cost(AL, AL.T, "mean_squared_error")
    with pytest.raises(ValueError, match="NaN"):
        compute_cost(np.array([[np.nan]]), np.array([[1.0]]), "mean_squared_error")
    with pytest.raises(ValueError, match="needs params"):
        compute_cost(AL, AL, "mean_squared_error", lambd=0.1)
    with pytest.raises(ValueError, match="m = 0"):
        compute_cost(np.zeros((1, 0)), np.zeros((1, 0)), "mean_squared_error")


@pytest.mark.parametrize("loss", ["binary_cross_entropy", "categorical_cross_entropy"])
def test_probability_losses_refuse_outputs_outside_0_1(loss: Loss) -> None:
    """Binary cross-entropy of a = 1.5, y = 1 was -0.09: a negative cost."""
    AL = np.array([[1.5, 0.2], [-0.5, 0.8]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match=rf"AL holds values in \[-0.5, 1.5\] but {loss} needs probabilities in \[0, 1\]"):
        compute_cost(AL, Y, loss)
    with pytest.raises(ValueError, match=r"AL holds values in \[0.2, 1.0000001\]"):
        compute_cost(np.array([[1.0000001, 0.2]], dtype=np.float32), np.array([[1.0, 0.0]], dtype=np.float32), "binary_cross_entropy")
    edges = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert compute_cost(edges, Y, loss) == pytest.approx(0.0, abs=1e-12)  # the bounds themselves are probabilities
    assert compute_cost(AL, Y, "mean_squared_error") == pytest.approx((0.25 + 0.04 + 0.25 + 0.04) / 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mean_squared_error_is_finite_for_any_finite_float32_input(dtype: FloatDType) -> None:
    """In float32 (a - y)^2 overflowed to inf past 1.8e19; the sum is taken in float64."""
    a = float(np.float32(3e19)) if dtype == np.float32 else 1e150
    AL = np.full((2, 3), a, dtype=dtype)
    with np.errstate(all="raise"):
        assert compute_cost(AL, np.zeros_like(AL), "mean_squared_error") == pytest.approx(2 * a * a, rel=1e-15)
        assert compute_cost(AL, -AL, "mean_squared_error") == pytest.approx(8 * a * a, rel=1e-15)
    biggest = np.full((1, 2), np.finfo(np.float32).max, dtype=np.float32)
    assert compute_cost(biggest, -biggest, "mean_squared_error") == pytest.approx(4 * float(np.finfo(np.float32).max) ** 2, rel=1e-15)
    # beyond float64's range the mean itself is not a float: inf, as documented
    with np.errstate(over="ignore"):
        assert compute_cost(np.array([[1e200]]), np.array([[0.0]]), "mean_squared_error") == math.inf


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hinge_by_hand_with_either_label_convention(dtype: FloatDType) -> None:
    AL = np.array([[2.0, 0.5, -0.25, -3.0], [0.0, 1.0, 1.5, -1.0]], dtype=dtype)
    Y01 = np.array([[1.0, 1.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]], dtype=dtype)
    # margins t*a: [2, 0.5, 0.25, -3], [0, 1, 1.5, 1] -> losses [0, 0.5, 0.75, 4], [1, 0, 0, 0]
    expected = (0 + 0.5 + 0.75 + 4 + 1) / 4
    assert compute_cost(AL, Y01, "hinge") == pytest.approx(expected, rel=1e-7)
    assert compute_cost(AL, 2 * Y01 - 1, "hinge") == compute_cost(AL, Y01, "hinge")
    gradient = LOSSES["hinge"].gradient(AL, Y01)
    assert gradient.dtype == dtype
    np.testing.assert_array_equal(gradient, [[0, -1, 1, -1], [1, 0, 0, 0]])  # 0 at the kink t*a = 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hinge_is_finite_without_warnings_at_extreme_outputs(dtype: FloatDType) -> None:
    big = float(np.finfo(dtype).max) / 4
    AL = np.array([[-big, -1e4, 0.0, 1e4, big]] * 2, dtype=dtype)
    Y = np.array([[1.0, 0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0, 1.0]], dtype=dtype)
    with np.errstate(all="raise"):
        cost = compute_cost(AL, Y, "hinge")
        gradient = LOSSES["hinge"].gradient(AL, Y)
    assert math.isfinite(cost) and cost == pytest.approx((1 + big) * 2 / 5 + (1 + 1e4) * 2 / 5 + 2 / 5, rel=1e-6)
    assert gradient.dtype == dtype and np.isfinite(gradient).all()


# The clipping bounds the docstrings state, each at the value that reaches it (an audit's
# mutations of these bounds passed every test before).


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_log_keeps_a_probability_down_to_tiny(dtype: FloatDType) -> None:
    # 1e-20 (1e-30 in float64) lies above tiny: its log is taken as it is, not clipped at eps
    a = 1e-20 if dtype == np.float32 else 1e-300
    AL, Y = np.array([[a]], dtype=dtype), np.array([[1.0]], dtype=dtype)
    expected = -float(np.log(dtype(a)))  # the log in the outputs' dtype, as the loss takes it
    assert compute_cost(AL, Y, "binary_cross_entropy") == pytest.approx(expected, rel=1e-12)
    assert compute_cost(AL, Y, "categorical_cross_entropy") == pytest.approx(expected, rel=1e-12)
    # and zero is clipped at tiny, so the cost stays finite
    zero = np.zeros((1, 1), dtype=dtype)
    assert compute_cost(zero, Y, "binary_cross_entropy") == pytest.approx(-float(np.log(np.finfo(dtype).tiny)), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_one_minus_a_is_clipped_at_epsneg(dtype: FloatDType) -> None:
    # a = 1 with y = 0: log(1 - a) is taken at 1 - a = epsneg, the largest value below 1
    AL, Y = np.ones((1, 1), dtype=dtype), np.zeros((1, 1), dtype=dtype)
    epsneg = np.finfo(dtype).epsneg
    assert compute_cost(AL, Y, "binary_cross_entropy") == pytest.approx(-float(np.log(epsneg)), rel=1e-12)
    # the gradient (1 - y) / (1 - a) is clipped the same way: 1 / epsneg, finite
    gradient = LOSSES["binary_cross_entropy"].gradient(AL, Y)
    assert gradient.dtype == dtype and gradient[0, 0] == pytest.approx(1 / float(epsneg), rel=1e-6)


@pytest.mark.parametrize("loss", ["binary_cross_entropy", "categorical_cross_entropy"])
def test_cross_entropy_of_float32_outputs_is_summed_in_float64(loss: Loss, rng: np.random.Generator) -> None:
    # a million float32 terms: summed in float32 the mean is off by about 6e-8 relative
    m = 1_000_000
    p = rng.uniform(0.01, 0.99, m).astype(np.float32)
    if loss == "binary_cross_entropy":
        AL, Y = p[np.newaxis], np.ones((1, m), np.float32)
    else:
        AL, Y = np.stack([p, 1 - p]), np.stack([np.ones(m, np.float32), np.zeros(m, np.float32)])
    terms = np.log(p)  # float32 logs, as the loss takes them: only the sum is in question
    expected = -math.fsum(terms.astype(np.float64).tolist()) / m
    assert compute_cost(AL, Y, loss) == pytest.approx(expected, rel=1e-12)
