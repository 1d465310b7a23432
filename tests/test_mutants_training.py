"""Behaviour of the optimizers, propagation, the training fold and the fused kernels that no
other test pinned: each test here fails on a mutant of the library (an operator flipped, a
constant changed, a statement dropped) that the rest of the suite let through."""

from __future__ import annotations

import math
import platform
from typing import Any

import numpy as np
import pytest

from functional_nn import fused
from functional_nn.fold_state import BatchProgress, EarlyStopping, EpochRecord, Monitor, Observer, StepView, TrainState
from functional_nn.losses import resolve_loss
from functional_nn.optimizers import OptimizerState, adamw, rmsprop, sgd
from functional_nn.propagation import dropout_draws
from functional_nn.training import (
    DIVERGENCE_FACTOR,
    TrainingDivergedError,
    _check_divergence,
    _track_best,
    classification_labels,
    diverged_parameter,
    train,
    weight_bound,
)
from functional_nn.types import FloatArray


def _dev_state(epoch: int, figure: float) -> TrainState:
    params = {"W1": np.full((1, 1), float(epoch)), "b1": np.zeros((1, 1))}
    # the one figure stands for the dev cost and the dev accuracy alike
    history = tuple(EpochRecord(e, 0.0, None, 1.0, 1.0) for e in range(1, epoch)) + (EpochRecord(epoch, 0.0, None, figure, figure),)
    return TrainState(epoch, params, OptimizerState(0, {}), history)


# Early stopping and the fold's starting state


def test_by_default_early_stopping_counts_any_decrease_as_an_improvement() -> None:
    rule = EarlyStopping(patience=1)  # min_delta left at its default, 0
    first = _track_best(rule, TrainState(0, {}, OptimizerState(0, {}), ()), _dev_state(1, 1.0))
    second = _track_best(rule, first, _dev_state(2, 0.999))
    assert second.best_epoch == 2 and second.best_value == 0.999 and not second.stopped


@pytest.mark.parametrize(
    ("monitor", "min_delta", "best", "value"),
    [("dev_cost", 0.0, 1.0, 1.0), ("dev_cost", 0.25, 1.0, 0.75), ("dev_accuracy", 0.25, 0.5, 0.75), ("dev_accuracy", 0.25, 0.5, 0.625)],
)
def test_a_dev_figure_improves_only_by_more_than_min_delta(monitor: Monitor, min_delta: float, best: float, value: float) -> None:
    rule = EarlyStopping(patience=2, monitor=monitor, min_delta=min_delta)
    first = _track_best(rule, TrainState(0, {}, OptimizerState(0, {}), ()), _dev_state(1, best))
    second = _track_best(rule, first, _dev_state(2, value))  # a tie, exactly min_delta better, or less
    assert second.best_epoch == 1 and second.best_value == best and second.epochs_since_best == 1
    assert second.best_params is first.best_params and not second.stopped


def test_the_starting_state_has_no_epochs_since_a_best() -> None:
    X = np.array([[0.0, 1.0]])
    params = {"W1": np.array([[0.5]]), "b1": np.zeros((1, 1))}
    start = train(X, X, params, activations=("linear",), loss="mean_squared_error", epochs=0, learning_rate=0.1)
    assert start.epoch == 0 and start.history == ()
    assert start.epochs_since_best == 0 and not start.stopped and start.best_epoch is None


def test_an_observer_every_k_steps_counts_the_steps_of_the_whole_run() -> None:
    seen: list[tuple[int, int]] = []

    def observe(view: StepView) -> None:
        seen.append((view.progress.epoch, view.progress.step))

    X = np.array([[0.0, 1.0, 2.0, 3.0]])
    params = {"W1": np.array([[0.5]]), "b1": np.zeros((1, 1))}
    train(
        X, X, params, activations=("linear",), loss="mean_squared_error", epochs=3, learning_rate=0.1, batch_size=2,
        rng=np.random.default_rng(0), on_batch=Observer(observe, every=3),
    )  # fmt: skip
    assert seen == [(2, 1), (3, 2)]  # steps 3 and 6 of the run, two to an epoch


def test_a_full_batch_epoch_is_one_step_of_one() -> None:
    reports: list[BatchProgress] = []
    views: list[StepView] = []
    X = np.array([[0.0, 1.0, 2.0, 3.0]])
    params = {"W1": np.array([[0.5]]), "b1": np.zeros((1, 1))}
    common: dict[str, Any] = {"activations": ("linear",), "loss": "mean_squared_error", "epochs": 2, "learning_rate": 0.1}
    result = train(X, X, params, on_batch=reports.append, **common)
    assert reports == [BatchProgress(e, 1, 1, 4, r.cost) for e, r in zip((1, 2), result.history)]
    train(X, X, params, on_batch=Observer(views.append), **common)  # every=None: the last step of each epoch
    assert [(v.progress.epoch, v.progress.step, v.progress.steps) for v in views] == [(1, 1, 1), (2, 1, 1)]


# Divergence


def _params(value: float, dtype: type[np.floating] = np.float64) -> dict[str, FloatArray]:
    return {"W1": np.array([[value]], dtype=dtype), "b1": np.zeros((1, 1), dtype=dtype)}


def test_divergence_is_a_cost_past_1e4_times_the_first_epochs_floored_at_1() -> None:
    params = _params(0.5)
    # a first epoch's cost below 1 counts as 1: 9,999 is not past 1e4 * max(0.1, 1)
    _check_divergence(2, 9_999.0, 0.1, params)
    _check_divergence(2, DIVERGENCE_FACTOR, 0.1, params)  # exactly the factor is not past it
    with pytest.raises(TrainingDivergedError, match="epoch 2: the cost is 1\\.5e\\+04"):
        _check_divergence(2, 15_000.0, 0.1, params)
    _check_divergence(3, 2e4, 2.0, params)  # a first cost above 1 is the reference itself
    with pytest.raises(TrainingDivergedError):
        _check_divergence(3, 2.1e4, 2.0, params)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_weight_exactly_at_the_bound_has_not_diverged(dtype: type[np.floating]) -> None:
    bound = weight_bound(np.dtype(dtype))
    assert bound == 2.0 ** (23 if dtype == np.float32 else 52)
    assert diverged_parameter(_params(-bound, dtype)) is None
    past = np.nextafter(dtype(bound), dtype(np.inf))
    assert diverged_parameter(_params(float(past), dtype)) == (
        "W1", f"a value of magnitude {float(past):.4g}, beyond the {np.dtype(dtype)} bound {bound:.4g} (1/eps, where the spacing of its numbers reaches 1)"
    )


# Classification labels behind the history's accuracy


def test_one_output_units_class_is_1_from_a_target_of_one_half_up() -> None:
    Y = np.array([[0.0, 0.49, 0.5, 0.51, 1.0]])
    labels = classification_labels(Y, resolve_loss("loss", "binary_cross_entropy"))
    assert labels is not None
    assert labels.tolist() == [0, 0, 1, 1, 1]


def test_a_one_layer_classifiers_accuracy_is_that_of_the_parameters_the_epoch_starts_from() -> None:
    # one layer: run_epoch's p.activations[-1] read as [1] or [2] would fail here
    X = np.array([[-2.0, -1.0, 1.0, 2.0, 3.0]])
    Y = np.array([[0.0, 1.0, 1.0, 1.0, 0.0]])
    params = {"W1": np.array([[1.0]]), "b1": np.zeros((1, 1))}  # sigmoid(x) >= 0.5 where x >= 0
    result = train(X, Y, params, activations=("sigmoid",), loss="binary_cross_entropy", epochs=1, learning_rate=1e-9)
    assert result.history[0].accuracy == 3 / 5  # predicted 0, 0, 1, 1, 1 against 0, 1, 1, 1, 0


# Learning-rate schedules' values


@pytest.mark.parametrize("returned", [True, "0.1"])
def test_a_schedule_returning_a_bool_or_a_string_is_refused(returned: object) -> None:
    opt = sgd(lambda step: returned)  # type: ignore[arg-type,return-value]  # the wrong type is the point
    params = _params(0.5)
    with pytest.raises(TypeError, match="the learning-rate schedule returned .* at step 0: expected a float"):
        opt.update({"dW1": np.ones((1, 1)), "db1": np.ones((1, 1))}, opt.init(params), params)


def test_rmsprops_defaults_are_a_rate_of_1e_3_rho_of_0_9_and_epsilon_of_1e_8() -> None:
    opt = rmsprop()
    assert opt.hyperparameters == (("learning_rate", 1e-3), ("rho", 0.9), ("epsilon", 1e-8))
    params = _params(1.0)
    new, _ = opt.update({"dW1": np.array([[2.0]]), "db1": np.zeros((1, 1))}, opt.init(params), params)
    s = (1 - 0.9) * 2.0**2
    np.testing.assert_allclose(new["W1"], [[1.0 - 1e-3 * 2.0 / (math.sqrt(s) + 1e-8)]], rtol=1e-14, atol=0)
    assert new["b1"][0, 0] == 0.0


def test_adamw_decaying_a_weight_by_its_whole_value_leaves_minus_the_adam_step() -> None:
    # rate * weight_decay = 1: the decay factor is 0, and W_1 = 0 * W_0 - step
    opt = adamw(1.0, weight_decay=1.0, kernel="numpy")
    params = _params(3.0)
    new, _ = opt.update({"dW1": np.array([[2.0]]), "db1": np.zeros((1, 1))}, opt.init(params), params)
    m_hat, v_hat = (0.1 * 2.0) / (1 - 0.9), (0.001 * 2.0**2) / (1 - 0.999)
    np.testing.assert_allclose(new["W1"], [[-m_hat / (math.sqrt(v_hat) + 1e-8)]], rtol=1e-12, atol=0)
    assert new["b1"][0, 0] == 0.0


# Dropout's draws with another bit generator than PCG64


def test_dropout_draws_of_another_bit_generator_are_its_16_bit_integers_from_0() -> None:
    ours, theirs = (np.random.Generator(np.random.MT19937(3)) for _ in range(2))
    # many draws: NumPy's bounded integers from 1 agree with those from 0 but for rare draws
    draws = dropout_draws(ours, 2**17 + 1)
    np.testing.assert_array_equal(draws, theirs.integers(0, 2**16, size=2**17 + 1, dtype=np.uint16))
    assert draws.dtype == np.uint16


# The fused kernels against NumPy's arithmetic


@pytest.mark.skipif(not fused.AVAILABLE, reason="the fused kernels need Numba")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_dropout_forward_kernel_turns_negative_zero_into_zero_as_numpy_does(dtype: type[np.floating]) -> None:
    Z = np.array([[-0.0, 0.0, -0.0, np.nan, -1.0, 2.0] * 2] * 3, dtype)
    b = np.array([-0.0, 0.0, 0.5], dtype)
    draws = (np.arange(Z.size) * 5000 % 2**16).astype(np.uint16)  # kept where below the limit 32768
    limit, scale = 32768, dtype(2)
    expected_Z = Z + b[:, None]
    expected_A = np.maximum(expected_Z, np.zeros_like(Z))
    expected_mask = np.where(draws.reshape(Z.shape) < limit, scale, dtype(0)).astype(dtype)
    A, mask, dropped = np.empty_like(Z), np.empty_like(Z), np.empty_like(Z)
    fused.kernel("relu_dropout_forward")(Z, b, draws, limit, scale, A, mask, dropped)
    for expected, got in ((expected_Z, Z), (expected_A, A), (expected_mask, mask), (expected_A * expected_mask, dropped)):
        assert got.tobytes() == expected.tobytes()
    assert not np.signbit(A[0, 0]) and not np.signbit(dropped[0, 0])


# Subnormal flushing


@pytest.mark.skipif(
    not (fused.AVAILABLE and platform.machine().lower() in ("x86_64", "amd64")), reason="flushing is x86-64's, with Numba"
)
def test_subnormals_are_flushed_on_x86_64_with_numba() -> None:
    assert fused.FLUSHES_SUBNORMALS
    tiny = np.finfo(np.float32).tiny
    with fused.subnormals_flushed():
        halved = np.array([tiny], dtype=np.float32) * np.float32(0.5)
    assert halved[0] == 0
