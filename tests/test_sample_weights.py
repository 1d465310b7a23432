"""Sample weights in the core (functional_nn.sample_weights): compute_cost and backward_propagation
against finite differences, train's weighted batches against repeated and dropped columns, the
history's and the dev set's weighted figures by hand, checkpoints, and the errors."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from functional_nn import (
    EarlyStopping,
    LossFunction,
    RecordCheckError,
    TrainingDivergedError,
    adam,
    backward_propagation,
    check_loss,
    compute_cost,
    forward_propagation,
    initialize_parameters,
    minibatches,
    one_hot,
    train,
    train_epochs,
    update_parameters,
)
from functional_nn.checkpoints import CheckpointError
from functional_nn.types import Activation, FloatArray, Loss, Params

LOSS: Loss = "binary_cross_entropy"
ACTIVATIONS: tuple[Activation, ...] = ("relu", "sigmoid")


def _data(rng: np.random.Generator, m: int = 8) -> tuple[FloatArray, FloatArray, Params]:
    """A 3-4-1 float64 network and m samples of two classes (both present)."""
    X = rng.standard_normal((3, m))
    Y = (np.arange(m) % 2).astype(np.float64).reshape(1, m)
    return X, Y, initialize_parameters([3, 4, 1], rng)


def _same_bits(a: Params, b: Params) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype and a[key].tobytes() == b[key].tobytes(), key


# --------------------------------------------------------------------------------------------
# backward_propagation is the gradient of compute_cost, weighted


def _targets(loss: str, shape: tuple[int, int], rng: np.random.Generator) -> FloatArray:
    n, m = shape
    if loss == "mean_squared_error":
        return rng.standard_normal(shape)
    Y = np.zeros(shape)
    Y[rng.permutation(np.arange(m) % n), np.arange(m)] = 1.0
    return Y


@pytest.mark.parametrize(
    ("loss", "output"),
    [
        ("binary_cross_entropy", "sigmoid"),  # fused
        ("binary_cross_entropy", "softmax"),  # not fused: the loss's own gradient
        ("categorical_cross_entropy", "softmax"),  # fused
        ("categorical_cross_entropy", "sigmoid"),
        ("mean_squared_error", "linear"),
        ("hinge", "tanh"),  # |a| < 1: every margin 1 - t a is positive, no kink
    ],
)
def test_backward_propagation_is_the_gradient_of_the_weighted_cost(loss: Loss, output: Activation, rng: np.random.Generator) -> None:
    X = rng.standard_normal((3, 5))
    params = initialize_parameters([3, 4, 2], rng)
    Y = _targets(loss, (2, 5), rng)
    weights = np.array([0.5, 3.0, 0.0, 1.25, 2.0])
    activations: tuple[Activation, ...] = ("tanh", output)
    lambd = 0.7
    AL, caches = forward_propagation(X, params, activations)
    grads = backward_propagation(AL, Y, caches, loss, lambd=lambd, sample_weight=weights)

    def cost(at: Params) -> float:
        return compute_cost(forward_propagation(X, at, activations)[0], Y, loss, lambd=lambd, params=at, sample_weight=weights)

    epsilon = 1e-6
    for key, value in params.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            plus, minus = value.copy(), value.copy()
            plus[index] += epsilon
            minus[index] -= epsilon
            numeric[index] = (cost({**params, key: plus}) - cost({**params, key: minus})) / (2 * epsilon)
        np.testing.assert_allclose(grads[f"d{key}"], numeric, rtol=1e-6, atol=1e-8, err_msg=key)
    # the weights count: the unweighted gradient is another one
    unweighted = backward_propagation(AL, Y, caches, loss, lambd=lambd)
    assert not np.allclose(unweighted["dW1"], grads["dW1"])


def test_weighted_backward_and_cost_keep_float32(rng: np.random.Generator) -> None:
    params = initialize_parameters([3, 4, 2], rng, dtype=np.float32)
    X = rng.standard_normal((3, 5)).astype(np.float32)
    Y = _targets("categorical_cross_entropy", (2, 5), rng).astype(np.float32)
    weights = np.array([1.0, 2.0, 0.0, 4.0, 0.5])
    for output in ("softmax", "sigmoid"):  # fused and not
        AL, caches = forward_propagation(X, params, ("relu", output))
        grads = backward_propagation(AL, Y, caches, "categorical_cross_entropy", lambd=0.1, sample_weight=weights)
        assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}
        cost = compute_cost(AL, Y, "categorical_cross_entropy", lambd=0.1, params=params, sample_weight=weights)
        assert type(cost) is float
        # against the float64 weighted mean of the float32 outputs' losses, by hand
        by_hand = -np.sum(Y.astype(np.float64) * np.log(AL.astype(np.float64)), axis=0) @ weights / weights.sum()
        penalty = 0.1 / (2 * weights.sum()) * sum(float(np.sum(params[k].astype(np.float64) ** 2)) for k in ("W1", "W2"))
        assert cost == pytest.approx(by_hand + penalty, rel=1e-6)


# --------------------------------------------------------------------------------------------
# train: weights against repeated and dropped columns


def test_integer_weights_train_as_the_columns_repeated(rng: np.random.Generator) -> None:
    X, Y, params = _data(rng)
    weights = np.array([1, 2, 0, 3, 1, 1, 2, 1])
    repeated = np.repeat(np.arange(8), weights)
    settings: dict[str, Any] = {"activations": ACTIVATIONS, "loss": LOSS, "epochs": 5, "learning_rate": 0.1, "lambd": 0.3}
    weighted = train(X, Y, params, sample_weight=weights, **settings)
    copies = train(X[:, repeated], Y[:, repeated], params, **settings)
    for key in params:  # measured: at most 1.1e-16 apart (the sums' order differs)
        np.testing.assert_allclose(weighted.params[key], copies.params[key], rtol=0, atol=1e-14)
    for a, b in zip(weighted.history, copies.history, strict=True):
        assert a.cost == pytest.approx(b.cost, rel=1e-14) and a.accuracy == pytest.approx(b.accuracy, rel=1e-14)


def test_samples_of_weight_0_train_as_if_dropped_bitwise(rng: np.random.Generator) -> None:
    X, Y, params = _data(rng, m=11)
    weights = np.array([1.0, 0.0, 2.5, 1.0, 0.0, 0.5, 3.0, 1.0, 0.0, 2.0, 1.0])
    kept = weights > 0
    settings: dict[str, Any] = {
        "activations": ACTIVATIONS, "loss": LOSS, "epochs": 3, "optimizer": adam(0.05), "batch_size": 3, "lambd": 0.2,
    }  # fmt: skip
    zeros = train(X, Y, params, rng=np.random.default_rng(7), sample_weight=weights, **settings)
    dropped = train(X[:, kept], Y[:, kept], params, rng=np.random.default_rng(7), sample_weight=weights[kept], **settings)
    _same_bits(zeros.params, dropped.params)
    assert zeros.history == dropped.history


def test_weights_all_1_train_as_no_weights(rng: np.random.Generator) -> None:
    X, Y, params = _data(rng, m=10)
    for dtype in (np.float64, np.float32):
        typed: Params = {k: v.astype(dtype) for k, v in params.items()}
        X_typed: FloatArray = X.astype(dtype)
        Y_typed: FloatArray = Y.astype(dtype)
        settings: dict[str, Any] = {
            "activations": ACTIVATIONS, "loss": LOSS, "epochs": 3, "optimizer": adam(0.05), "batch_size": 4, "lambd": 0.2,
            "dev": (X_typed, Y_typed),
        }  # fmt: skip
        ones = train(X_typed, Y_typed, typed, rng=np.random.default_rng(1), sample_weight=np.ones(10), dev_sample_weight=np.ones(10), **settings)
        plain = train(X_typed, Y_typed, typed, rng=np.random.default_rng(1), **settings)
        _same_bits(ones.params, plain.params)
        for a, b in zip(ones.history, plain.history, strict=True):
            assert a.cost == pytest.approx(b.cost, rel=1e-14) and a.dev_cost == pytest.approx(b.dev_cost, rel=1e-14)
            assert a.accuracy == b.accuracy and a.dev_accuracy == b.dev_accuracy


def test_a_constant_weight_trains_as_no_weights_with_the_penalty_divided_by_it(rng: np.random.Generator) -> None:
    """J = sum(c l) / (c m) + lambd / (2 c m) |W|^2: the data term is unchanged, the penalty is
    lambd / c's (as scikit-learn's MLP, whose penalty is alpha / (2 S_B) |W|^2)."""
    X, Y, params = _data(rng)
    settings: dict[str, Any] = {"activations": ACTIVATIONS, "loss": LOSS, "epochs": 4, "learning_rate": 0.1}
    c = 5.0
    for lambd in (0.0, 0.3):
        constant = train(X, Y, params, sample_weight=np.full(8, c), lambd=lambd, **settings)
        plain = train(X, Y, params, lambd=lambd / c, **settings)
        for key in params:
            np.testing.assert_allclose(constant.params[key], plain.params[key], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose([r.cost for r in constant.history], [r.cost for r in plain.history], rtol=1e-13)
    penalised = train(X, Y, params, sample_weight=np.full(8, c), lambd=0.3, **settings)
    assert not np.allclose(penalised.params["W1"], train(X, Y, params, lambd=0.3, **settings).params["W1"])


# --------------------------------------------------------------------------------------------
# the history's figures are weighted means


def test_the_history_holds_weighted_means_of_the_epoch(rng: np.random.Generator) -> None:
    X, Y, params = _data(rng, m=6)
    weights = np.array([0.5, 2.0, 1.0, 0.0, 3.0, 1.5])
    X_dev, Y_dev = rng.standard_normal((3, 5)), np.array([[1.0, 0.0, 0.0, 1.0, 1.0]])
    dev_weights = np.array([2.0, 0.0, 1.0, 0.25, 4.0])
    result = train(
        X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=1, learning_rate=0.5, lambd=0.4, sample_weight=weights,
        dev=(X_dev, Y_dev), dev_sample_weight=dev_weights,
    )  # fmt: skip
    record = result.history[0]
    AL = forward_propagation(X, params, ACTIVATIONS)[0]  # the starting parameters': the one batch's cost
    assert record.cost == pytest.approx(compute_cost(AL, Y, LOSS, lambd=0.4, params=params, sample_weight=weights), rel=1e-14)
    losses = -(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))[0]
    penalty = 0.4 / (2 * 8.0) * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    assert record.cost == pytest.approx(losses @ weights / 8.0 + penalty, rel=1e-12)
    right = (AL[0] >= 0.5) == (Y[0] == 1)
    assert record.accuracy == pytest.approx(weights @ right / 8.0, rel=1e-15)
    assert record.accuracy != pytest.approx(right.mean())  # not the plain mean
    AL_dev = forward_propagation(X_dev, result.params, ACTIVATIONS)[0]  # the dev set: the parameters after the epoch
    dev_losses = -(Y_dev * np.log(AL_dev) + (1 - Y_dev) * np.log(1 - AL_dev))[0]
    assert record.dev_cost == pytest.approx(dev_losses @ dev_weights / dev_weights.sum(), rel=1e-12)  # no penalty
    dev_right = (AL_dev[0] >= 0.5) == (Y_dev[0] == 1)
    assert record.dev_accuracy == pytest.approx(dev_weights @ dev_right / dev_weights.sum(), rel=1e-15)


def test_early_stopping_watches_the_weighted_dev_cost(rng: np.random.Generator) -> None:
    """The dev set is training sample 0 (weighed 10 in training) and its mislabelled twin: training
    lowers the first's loss and raises the second's, so the dev weights alone decide whether the
    dev cost falls or rises."""
    X, Y, params = _data(rng, m=6)
    X_dev, Y_dev = X[:, [0, 0]], np.array([[0.0, 1.0]])  # sample 0 is of class 0
    settings: dict[str, Any] = {
        "activations": ACTIVATIONS, "loss": LOSS, "epochs": 8, "learning_rate": 0.5, "dev": (X_dev, Y_dev),
        "early_stopping": EarlyStopping(patience=2), "sample_weight": [10, 1, 1, 1, 1, 1],
    }  # fmt: skip
    falling = train(X, Y, params, dev_sample_weight=[1.0, 0.0], **settings)
    rising = train(X, Y, params, dev_sample_weight=[0.0, 1.0], **settings)
    assert falling.epoch == 8 and not falling.stopped and falling.best_epoch == 8
    assert rising.epoch == 3 and rising.stopped and rising.best_epoch == 1
    assert rising.best_value == rising.history[0].dev_cost and rising.best_params is not None
    _same_bits(rising.best_params, train(X, Y, params, **{**settings, "epochs": 1, "early_stopping": None}).params)


# --------------------------------------------------------------------------------------------
# checkpoints


def test_a_checkpoint_resumes_only_with_its_own_sample_weights(rng: np.random.Generator, tmp_path: Path) -> None:
    X, Y, params = _data(rng, m=9)
    weights = np.array([1.0, 2.0, 0.0, 1.0, 3.0, 1.0, 0.5, 1.0, 2.0])
    settings: dict[str, Any] = {"activations": ACTIVATIONS, "loss": LOSS, "learning_rate": 0.1, "batch_size": 4}
    whole = train(X, Y, params, epochs=3, rng=np.random.default_rng(2), sample_weight=weights, **settings)
    train(X, Y, params, epochs=1, rng=np.random.default_rng(2), sample_weight=weights, checkpoint_dir=tmp_path, **settings)
    for other in (None, weights * 2, np.ones(9)):
        with pytest.raises(CheckpointError, match="sample_weight"):
            train(X, Y, params, epochs=3, rng=np.random.default_rng(2), sample_weight=other, checkpoint_dir=tmp_path, resume=True, **settings)
    resumed = train(
        X, Y, params, epochs=3, rng=np.random.default_rng(2), sample_weight=weights.tolist(), checkpoint_dir=tmp_path, resume=True, **settings
    )  # fmt: skip
    _same_bits(resumed.params, whole.params)
    assert resumed.history == whole.history


def test_a_checkpoint_without_weights_resumes_a_run_without_weights(rng: np.random.Generator, tmp_path: Path) -> None:
    X, Y, params = _data(rng)
    settings: dict[str, Any] = {"activations": ACTIVATIONS, "loss": LOSS, "learning_rate": 0.1, "batch_size": 3, "dev": (X, Y)}
    whole = train(X, Y, params, epochs=2, rng=np.random.default_rng(4), **settings)
    train(X, Y, params, epochs=1, rng=np.random.default_rng(4), checkpoint_dir=tmp_path, **settings)
    with pytest.raises(CheckpointError, match="sample_weight"):
        train(X, Y, params, epochs=2, rng=np.random.default_rng(4), sample_weight=np.ones(8), checkpoint_dir=tmp_path, resume=True, **settings)
    with pytest.raises(CheckpointError, match="dev_sample_weight"):
        train(X, Y, params, epochs=2, rng=np.random.default_rng(4), dev_sample_weight=np.ones(8), checkpoint_dir=tmp_path, resume=True, **settings)
    resumed = train(X, Y, params, epochs=2, rng=np.random.default_rng(4), checkpoint_dir=tmp_path, resume=True, **settings)
    _same_bits(resumed.params, whole.params)


# --------------------------------------------------------------------------------------------
# errors, and the caller's array


@pytest.mark.parametrize(
    ("weights", "error", "message"),
    [
        (np.ones(7), ValueError, r"sample_weight must have shape \(8,\), one weight for each of X's 8 columns, got shape \(7,\)"),
        (np.ones((8, 1)), ValueError, r"sample_weight must have shape \(8,\).*got shape \(8, 1\)"),
        ([1, 1, 1, -2, 1, 1, 1, 1], ValueError, r"sample_weight must hold finite weights >= 0, got .*-2.* at index 3"),
        ([1, 1, 1, 1, 1, np.nan, 1, 1], ValueError, r"sample_weight must hold finite weights >= 0, got .*nan.* at index 5"),
        ([1, 1, 1, 1, 1, 1, np.inf, 1], ValueError, r"sample_weight must hold finite weights >= 0, got .*inf.* at index 6"),
        (np.zeros(8), ValueError, "sample_weight is 0 for every sample: at least one must count"),
        ("12345678", TypeError, "sample_weight must be an array of 8 weights, one per sample, got str"),
        (2.0, TypeError, "sample_weight must be an array of 8 weights, one per sample, got float"),
        (np.ones(8, dtype=bool), TypeError, r"sample_weight must hold real numbers .* got dtype bool: give weights as numbers"),
        (["1"] * 8, TypeError, r"sample_weight must hold real numbers .* got dtype <U1"),
    ],
    ids=["short", "2-D", "negative", "NaN", "inf", "all zero", "string", "scalar", "bool", "strings"],
)
def test_bad_sample_weights_are_refused_by_name(weights: Any, error: type[Exception], message: str, rng: np.random.Generator) -> None:
    X, Y, params = _data(rng)
    with pytest.raises(error, match=message):
        train(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=1, learning_rate=0.1, sample_weight=weights)
    AL, caches = forward_propagation(X, params, ACTIVATIONS)
    columns = message.replace("X's", "AL's")
    with pytest.raises(error, match=columns):
        compute_cost(AL, Y, LOSS, sample_weight=weights)
    with pytest.raises(error, match=columns):
        backward_propagation(AL, Y, caches, LOSS, sample_weight=weights)


def test_bad_dev_sample_weights_are_refused_by_name(rng: np.random.Generator) -> None:
    X, Y, params = _data(rng)
    settings: dict[str, Any] = {"activations": ACTIVATIONS, "loss": LOSS, "epochs": 1, "learning_rate": 0.1}
    with pytest.raises(ValueError, match=r"dev_sample_weight weighs the dev set's samples: pass dev=\(X_dev, Y_dev\) too"):
        train(X, Y, params, dev_sample_weight=np.ones(8), **settings)
    with pytest.raises(ValueError, match=r"dev_sample_weight must have shape \(3,\), one weight for each of dev\[0\]'s 3 columns"):
        train(X, Y, params, dev=(X[:, :3], Y[:, :3]), dev_sample_weight=np.ones(8), **settings)
    with pytest.raises(ValueError, match="dev_sample_weight is 0 for every sample"):
        train(X, Y, params, dev=(X[:, :3], Y[:, :3]), dev_sample_weight=np.zeros(3), **settings)


def _squares(AL: FloatArray, Y: FloatArray) -> float:
    return float(np.mean(np.sum((AL - Y) ** 2, axis=0)))


def _squares_gradient(AL: FloatArray, Y: FloatArray) -> FloatArray:
    gradient: FloatArray = 2 * (AL - Y)
    return gradient


def test_a_loss_of_ones_own_needs_right_sample_costs(rng: np.random.Generator) -> None:
    X, Y, params = _data(rng)
    settings: dict[str, Any] = {"activations": ACTIVATIONS, "epochs": 1, "learning_rate": 0.1, "sample_weight": np.ones(8)}
    without = LossFunction("squares", _squares, _squares_gradient)
    with pytest.raises(ValueError, match="sample_weight needs each sample's loss, but loss 'squares' has no sample_costs"):
        train(X, Y, params, loss=without, **settings)
    with pytest.raises(ValueError, match="dev_sample_weight needs each sample's loss, but loss 'squares' has no sample_costs"):
        train(X, Y, params, loss=without, **{**settings, "sample_weight": None, "dev": (X, Y), "dev_sample_weight": np.ones(8)})
    AL = forward_propagation(X, params, ACTIVATIONS)[0]
    with pytest.raises(ValueError, match="sample_weight needs each sample's loss, but loss 'squares' has no sample_costs"):
        compute_cost(AL, Y, without, sample_weight=np.ones(8))
    rows = LossFunction("rows", _squares, _squares_gradient, sample_costs=lambda AL, Y: (AL - Y) ** 2)  # (1, m), not (m,)
    with pytest.raises(TypeError, match=r"loss 'rows': sample_costs returned float64 \(1, 8\) for AL of shape \(1, 8\); it must return the 8 per-column losses"):
        train(X, Y, params, loss=rows, **settings)
    right = LossFunction("right", _squares, _squares_gradient, sample_costs=lambda AL, Y: np.sum((AL - Y) ** 2, axis=0))
    assert check_loss(right, shape=(1, 6)) < 1e-5
    weights = np.arange(8.0)
    assert compute_cost(AL, Y, right, sample_weight=weights) == pytest.approx(compute_cost(AL, Y, "mean_squared_error", sample_weight=weights), rel=1e-15)


def test_check_loss_refuses_sample_costs_that_are_not_the_costs_terms() -> None:
    halved = LossFunction("halved", _squares, _squares_gradient, sample_costs=lambda AL, Y: np.sum((AL - Y) ** 2, axis=0) / 2)
    with pytest.raises(RecordCheckError, match=r"loss 'halved': the mean of sample_costs is .* but cost is .*: sample_costs must give each column's loss"):
        check_loss(halved)
    summed = LossFunction("summed", _squares, _squares_gradient, sample_costs=lambda AL, Y: np.sum((AL - Y) ** 2, axis=0)[:1])
    with pytest.raises(RecordCheckError, match=r"loss 'summed': sample_costs must return an array of shape \(5,\), one loss per column, got float32 \(1,\)"):
        check_loss(summed)


def test_the_callers_weights_are_neither_written_nor_held(rng: np.random.Generator) -> None:
    X, Y, params = _data(rng)
    weights = np.array([1.0, 2.0, 0.0, 1.0, 3.0, 1.0, 0.5, 1.0])
    kept = weights.copy()
    weights.flags.writeable = False  # a write would raise
    settings: dict[str, Any] = {"activations": ACTIVATIONS, "loss": LOSS, "epochs": 3, "learning_rate": 0.1, "dev": (X, Y)}
    expected = train(X, Y, params, sample_weight=kept, dev_sample_weight=kept, **settings)
    mine = kept.copy()
    fold = train_epochs(X, Y, params, sample_weight=mine, dev_sample_weight=mine, **settings)
    first = next(fold)
    mine[:] = 100.0  # after the run began: nothing changes
    mine[2] = 0.0
    last = list(fold)[-1]
    assert first.history == expected.history[:1]
    _same_bits(last.params, expected.params)
    assert last.history == expected.history
    train(X, Y, params, sample_weight=weights, dev_sample_weight=weights, **settings)
    assert weights.tobytes() == kept.tobytes()


# --------------------------------------------------------------------------------------------
# bugs: weights near float64's largest


def test_weights_whose_sum_overflows_give_the_clear_error_whatever_numpys_error_state(rng: np.random.Generator) -> None:
    """The sum overflowing raised NumPy's FloatingPointError under errstate(all="raise") (and
    warned otherwise) before the check could say what is wrong."""
    X, Y, params = _data(rng)
    message = "sample_weight sums beyond float64's range: scale the weights down"
    with np.errstate(all="raise"), pytest.raises(ValueError, match=message):
        train(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=1, learning_rate=0.1, sample_weight=np.full(8, 1e308))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=message):
            compute_cost(np.full((1, 8), 0.5), Y, LOSS, sample_weight=np.full(8, 1e308))


def test_large_weights_the_check_accepts_give_the_finite_weighted_mean() -> None:
    """Weights of 1e307 sum to a finite 4e307, which the check accepts, but the weighted sum of
    the losses overflowed: compute_cost gave inf (and train 'diverged') for a mean of 4950.25."""
    AL, Y = np.full((1, 4), 0.5), np.array([[0.0, 100.0, 0.0, 100.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cost = compute_cost(AL, Y, "mean_squared_error", sample_weight=np.full(4, 1e307))
    assert cost == compute_cost(AL, Y, "mean_squared_error") == 4950.25


def test_large_weights_the_check_accepts_give_the_finite_history(rng: np.random.Generator) -> None:
    """The epoch's sums of cost times batch weight overflowed too: a history cost of inf, no error."""
    X = rng.standard_normal((3, 8))
    Y = 100 * (np.arange(8) % 2).astype(np.float64).reshape(1, 8)
    params = initialize_parameters([3, 4, 1], rng)
    settings: dict[str, Any] = {"activations": ("relu", "linear"), "loss": "mean_squared_error", "epochs": 1, "learning_rate": 1e-4}
    for batch_size in (None, 3):
        rngs: dict[str, Any] = {"rng": np.random.default_rng(1)} if batch_size else {}
        large = train(X, Y, params, batch_size=batch_size, sample_weight=np.full(8, 1e307), **settings, **rngs)
        rngs = {"rng": np.random.default_rng(1)} if batch_size else {}
        plain = train(X, Y, params, batch_size=batch_size, **settings, **rngs)
        assert large.history[0].cost == pytest.approx(plain.history[0].cost, rel=1e-14)
        assert plain.history[0].cost > 4000


def test_a_nan_of_ones_own_sample_costs_is_named_as_sample_costs(rng: np.random.Generator) -> None:
    """Under weights the cost comes of sample_costs: the divergence message blamed 'its cost',
    which is right here, and sent the user looking at the wrong function."""
    X, Y, params = _data(rng)

    def rooted(AL: FloatArray, Y: FloatArray) -> FloatArray:
        costs: FloatArray = np.sqrt(np.sum(AL - Y, axis=0))  # NaN wherever AL < Y
        return costs

    loss = LossFunction("rooted", _squares, _squares_gradient, sample_costs=rooted)
    with pytest.raises(TrainingDivergedError, match=r"loss 'rooted' gave it for finite outputs AL in \[.*\]: its sample_costs, not"):
        train(X, Y, params, activations=ACTIVATIONS, loss=loss, epochs=1, learning_rate=0.1, sample_weight=np.ones(8))


def test_a_hand_written_loop_over_minibatches_with_the_batches_weights_is_train_bitwise(rng: np.random.Generator) -> None:
    """``minibatches``' indices pick each batch's weights: the loop the README's "own training
    loop" builds, weighted, reproduces ``train(sample_weight=...)`` bit for bit, float32."""
    X = rng.standard_normal((4, 70)).astype(np.float32)
    Y = one_hot(rng.integers(0, 3, 70), 3, dtype=np.float32)
    w = rng.uniform(0.1, 4.0, 70)  # all above 0: train leaves none out
    params = initialize_parameters((4, 6, 3), rng, dtype=np.float32)
    activations: tuple[Activation, ...] = ("relu", "softmax")
    by_train = train(
        X, Y, params, activations=activations, loss="categorical_cross_entropy", epochs=3, learning_rate=0.3,
        batch_size=16, rng=np.random.default_rng(5), lambd=0.2, sample_weight=w,
    )  # fmt: skip
    loop_rng, own = np.random.default_rng(5), dict(params)
    for _ in range(3):
        for X_B, Y_B, indices in minibatches(X, Y, 16, loop_rng):
            AL, caches = forward_propagation(X_B, own, activations)
            grads = backward_propagation(AL, Y_B, caches, "categorical_cross_entropy", lambd=0.2, sample_weight=w[indices])
            own = update_parameters(own, grads, 0.3)
    for key in params:
        assert own[key].dtype == np.float32
        np.testing.assert_array_equal(own[key], by_train.params[key])
