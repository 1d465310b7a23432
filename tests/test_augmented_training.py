"""Augmentation, input dropout and weight averaging in the fold: against loops written by
hand (bitwise), dev figures untouched by augmentation, and checkpoints that resume bitwise."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest

from functional_nn.averaging import AVERAGE_SLOT, averaged_params, ema
from functional_nn.checkpoints import CheckpointError, latest_checkpoint, load_checkpoint
from functional_nn.data import minibatches, one_hot
from functional_nn.data.augmentation import compose, elastic_distortion, random_affine, random_shift
from functional_nn.initializers import initialize_parameters
from functional_nn.losses import compute_cost
from functional_nn.optimizers import adam, momentum, sgd
from functional_nn.propagation import backward_propagation, forward_propagation, predict_proba
from functional_nn.training import EarlyStopping, TrainResult, train, train_epochs
from functional_nn.types import Activation, FloatArray, Loss

SHAPE = (4, 5)
LOSS: Loss = "categorical_cross_entropy"
ACTIVATIONS: tuple[Activation, ...] = ("relu", "relu", "softmax")
SHIFT = functools.partial(random_shift, image_shape=SHAPE, max_shift=1)
DISTORT = compose(SHIFT, functools.partial(random_affine, image_shape=SHAPE), functools.partial(elastic_distortion, image_shape=SHAPE, alpha=3.0, sigma=1.0))


def problem(dtype: type[np.floating] = np.float32) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, dict[str, FloatArray]]:
    """20-pixel 'images' of two classes, Fortran-ordered like the loaders' X."""
    rng = np.random.default_rng(0)
    X = rng.random((20, 90)).astype(dtype)
    y = (X[:10].sum(axis=0) > X[10:].sum(axis=0)).astype(np.int64)
    Y = one_hot(y, 2, dtype=dtype)
    params = initialize_parameters([20, 12, 8, 2], rng, dtype=dtype)
    return np.asfortranarray(X[:, :70]), Y[:, :70], np.asfortranarray(X[:, 70:]), Y[:, 70:], params


def test_one_epoch_equals_the_loop_written_by_hand() -> None:
    X, Y, X_dev, Y_dev, params = problem()
    activations = ACTIVATIONS
    optimizer = ema(adam(1e-2), decay=0.9)
    result = train(
        X, Y, params, activations=activations, loss=LOSS, epochs=2, optimizer=optimizer, batch_size=16,
        rng=np.random.default_rng(5), dev=(X_dev, Y_dev), keep_probs=0.7, input_keep_prob=0.8, augmentation=DISTORT,
    )  # fmt: skip
    rng = np.random.default_rng(5)
    p, state = dict(params), optimizer.init(params)
    for _ in range(2):
        for X_b, Y_b, _ in minibatches(X, Y, 16, rng):
            X_b = DISTORT(X_b, rng)
            AL, caches = forward_propagation(X_b, p, activations, keep_probs=0.7, input_keep_prob=0.8, rng=rng)
            grads = backward_propagation(AL, Y_b, caches, LOSS)
            p, state = optimizer.update(grads, state, p)
    for key in p:
        assert result.params[key].tobytes() == p[key].tobytes()
        assert result.optimizer_state.slots[AVERAGE_SLOT][key].tobytes() == state.slots[AVERAGE_SLOT][key].tobytes()
    # the dev figures are the average's, on the dev set as given (never augmented)
    average = averaged_params(state, p)
    AL_dev = predict_proba(X_dev, average, activations)
    assert result.history[-1].dev_cost == compute_cost(AL_dev, Y_dev, LOSS)
    assert result.history[-1].dev_accuracy == float(np.mean(AL_dev.argmax(axis=0) == Y_dev.argmax(axis=0)))
    assert compute_cost(predict_proba(X_dev, p, activations), Y_dev, LOSS) != result.history[-1].dev_cost


def test_the_augmentation_sees_each_training_batch_once_and_never_the_dev_set() -> None:
    X, Y, X_dev, Y_dev, params = problem()
    seen: list[tuple[int, ...]] = []

    def recording(X_batch: FloatArray, rng: np.random.Generator) -> FloatArray:
        seen.append(X_batch.shape)
        return SHIFT(X_batch, rng)

    states = list(
        train_epochs(
            X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=3, optimizer=adam(1e-2),
            batch_size=32, rng=np.random.default_rng(1), dev=(X_dev, Y_dev), augmentation=recording,
        )
    )  # fmt: skip
    assert seen == [(20, 32), (20, 32), (20, 6)] * 3
    plain = train(
        X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=3, optimizer=adam(1e-2),
        batch_size=32, rng=np.random.default_rng(1), dev=(X_dev, Y_dev),
    )  # fmt: skip
    assert states[-1].history != plain.history  # the batches were distorted ...
    AL_dev = predict_proba(X_dev, states[-1].params, ACTIVATIONS)
    assert states[-1].history[-1].dev_cost == compute_cost(AL_dev, Y_dev, LOSS)  # ... the dev set was not


def test_input_dropout_keeps_pixels_with_the_probability_and_rescales(rng: np.random.Generator) -> None:
    X = np.ones((400, 50), dtype=np.float32)
    params = initialize_parameters([400, 30, 3], rng, dtype=np.float32)
    _, caches = forward_propagation(X, params, ("relu", "softmax"), input_keep_prob=0.8, rng=np.random.default_rng(3))
    dropped = caches[0].A_prev
    assert dropped.dtype == np.float32
    # the documented draw, 16 bits a pixel, the input first
    kept = np.random.default_rng(3).integers(0, 2**16, (400, 50), dtype=np.uint16) < math.ceil(0.8 * 2**16)
    np.testing.assert_array_equal(dropped, np.where(kept, np.float32(1 / 0.8), 0).astype(np.float32))
    assert abs(kept.mean() - 0.8) < 0.01
    # with hidden dropout too, the hidden masks come after the input's
    _, both = forward_propagation(X, params, ("relu", "softmax"), keep_probs=0.5, input_keep_prob=0.8, rng=np.random.default_rng(3))
    replay = np.random.default_rng(3)
    replay.integers(0, 2**16, (400, 50), dtype=np.uint16)
    hidden = replay.integers(0, 2**16, (30, 50), dtype=np.uint16) < 2**15
    assert both[0].dropout_mask is not None  # layer 1's mask is the hidden one; the input's is not cached
    np.testing.assert_array_equal(both[0].A_prev, dropped)
    np.testing.assert_array_equal(both[1].A_prev, both[0].A * np.where(hidden, np.float32(2.0), 0))
    # 1 and None drop nothing and draw nothing
    quiet = np.random.default_rng(3)
    _, none = forward_propagation(X, params, ("relu", "softmax"), input_keep_prob=1.0, rng=quiet)
    assert none[0].A_prev is X and quiet.bit_generator.state == np.random.default_rng(3).bit_generator.state


def test_input_dropout_gradient_matches_finite_differences(rng: np.random.Generator) -> None:
    X = rng.standard_normal((5, 7))
    Y = one_hot(rng.integers(0, 3, 7), 3)
    params = initialize_parameters([5, 4, 3], rng)
    AL, caches = forward_propagation(X, params, ("tanh", "softmax"), input_keep_prob=0.6, rng=np.random.default_rng(9))
    grads = backward_propagation(AL, Y, caches, LOSS)
    eps = 1e-6
    for key in ("W1", "b1"):
        for index in np.ndindex(params[key].shape):
            h = np.zeros_like(params[key])
            h[index] = eps
            costs = [
                compute_cost(forward_propagation(X, {**params, key: params[key] + s * h}, ("tanh", "softmax"),
                             input_keep_prob=0.6, rng=np.random.default_rng(9))[0], Y, LOSS)
                for s in (1, -1)
            ]  # fmt: skip
            numerical = (costs[0] - costs[1]) / (2 * eps)
            assert abs(numerical - grads["d" + key][index]) <= 1e-7 * max(1.0, abs(numerical))


def run(epochs: int, checkpoint_dir: Path | None, resume: bool = False, augmentation: object = DISTORT) -> TrainResult:
    X, Y, X_dev, Y_dev, params = problem()
    return train(
        X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=epochs,
        optimizer=ema(momentum(0.05), decay=0.95), batch_size=16, rng=np.random.default_rng(2), dev=(X_dev, Y_dev),
        keep_probs=0.8, input_keep_prob=0.8, augmentation=augmentation,  # type: ignore[arg-type]
        early_stopping=EarlyStopping(patience=50), checkpoint_dir=checkpoint_dir, resume=resume,
    )  # fmt: skip


def test_resume_with_augmentation_input_dropout_and_averaging_is_bitwise(tmp_path: Path) -> None:
    uninterrupted = run(5, None)
    run(2, tmp_path)
    saved = load_checkpoint(latest_checkpoint(tmp_path))  # type: ignore[arg-type]
    assert AVERAGE_SLOT in saved.state.optimizer_state.slots
    assert saved.run["augmentation"].startswith("_composed(augmentations=(random_shift(image_shape=(4, 5), max_shift=1)")
    assert saved.run["input_keep_prob"] == 0.8 and saved.run["optimizer"] == "ema(momentum)"
    resumed = run(5, tmp_path, resume=True)
    assert resumed.history == uninterrupted.history
    for name, slot in uninterrupted.optimizer_state.slots.items():
        for key, value in slot.items():
            assert resumed.optimizer_state.slots[name][key].tobytes() == value.tobytes()
    for key, value in uninterrupted.params.items():
        assert resumed.params[key].tobytes() == value.tobytes()
    # early stopping keeps the averaged parameters, whose dev figure it tracked: those of the
    # epoch with the lowest dev cost, as the same fold yields them epoch by epoch
    assert uninterrupted.best_params is not None and uninterrupted.best_epoch is not None
    dev_costs = [r.dev_cost for r in uninterrupted.history if r.dev_cost is not None]
    assert len(dev_costs) == 5 and uninterrupted.best_epoch == 1 + dev_costs.index(min(dev_costs))
    X, Y, X_dev, Y_dev, params = problem()
    (at_best,) = (
        state for state in train_epochs(
            X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=5, optimizer=ema(momentum(0.05), decay=0.95),
            batch_size=16, rng=np.random.default_rng(2), dev=(X_dev, Y_dev), keep_probs=0.8, input_keep_prob=0.8,
            augmentation=DISTORT,
        )
        if state.epoch == uninterrupted.best_epoch
    )  # fmt: skip
    average = averaged_params(at_best.optimizer_state, at_best.params)
    for key, value in average.items():
        assert uninterrupted.best_params[key].tobytes() == value.tobytes()
        assert value.tobytes() != at_best.params[key].tobytes()  # the average, not the last step's parameters


def test_resuming_with_another_augmentation_is_refused(tmp_path: Path) -> None:
    run(1, tmp_path)
    with pytest.raises(CheckpointError, match=r"augmentation: checkpoint '_composed.*now 'random_shift\(image_shape=\(4, 5\), max_shift=1\)'"):
        run(3, tmp_path, resume=True, augmentation=SHIFT)


def test_ema_keeps_the_debiased_moving_average_and_leaves_the_updates_alone(rng: np.random.Generator) -> None:
    params = initialize_parameters([3, 4, 2], rng, dtype=np.float32)
    inner, wrapped = adam(0.1), ema(adam(0.1), decay=0.8)
    s_inner, s_wrapped = inner.init(params), wrapped.init(params)
    p_inner, p_wrapped = dict(params), dict(params)
    history = []
    for _ in range(6):
        grads = {"d" + k: rng.standard_normal(v.shape).astype(np.float32) for k, v in params.items()}
        p_inner, s_inner = inner.update(grads, s_inner, p_inner)
        p_wrapped, s_wrapped = wrapped.update(grads, s_wrapped, p_wrapped)
        history.append(p_wrapped)
        for key in params:
            assert p_wrapped[key].tobytes() == p_inner[key].tobytes()
            assert s_wrapped.slots["m"][key].tobytes() == s_inner.slots["m"][key].tobytes()
    assert s_wrapped.step == 6 and wrapped.name == "ema(adam)" and wrapped.hyperparameters[-1] == ("ema_decay", 0.8)
    weights = np.array([0.2 * 0.8 ** (6 - t) for t in range(1, 7)]) / (1 - 0.8**6)  # sum to 1
    for key in params:
        expected = sum(w * h[key].astype(np.float64) for w, h in zip(weights, history))
        average = s_wrapped.slots[AVERAGE_SLOT][key]
        assert average.dtype == np.float32 and not average.flags.writeable
        np.testing.assert_allclose(average, expected, rtol=1e-5, atol=1e-6)
    assert averaged_params(s_wrapped, p_wrapped)["W1"] is s_wrapped.slots[AVERAGE_SLOT]["W1"]
    assert averaged_params(s_inner, p_inner) is p_inner


def test_ema_with_decay_zero_is_the_last_parameters_and_averages_a_noisy_parabola(rng: np.random.Generator) -> None:
    params = {"W1": np.array([[4.0, -3.0]]), "b1": np.array([[2.0]])}
    last = ema(sgd(0.1), decay=0.0)
    state = last.init(params)
    p = params
    for _ in range(3):
        p, state = last.update({"dW1": p["W1"], "db1": p["b1"]}, state, p)
        assert all(np.array_equal(state.slots[AVERAGE_SLOT][k], p[k]) for k in p)
    # SGD with noisy gradients of |theta|^2 / 2 hovers around 0 (variance 1/3 per entry at
    # rate 0.5); averaged over about 100 steps, it stays far closer
    averaging = ema(sgd(0.5), decay=0.99)
    state, p = averaging.init(params), params
    noise = np.random.default_rng(0)
    raw, averaged = [], []
    for t in range(2000):
        grads = {"dW1": p["W1"] + noise.standard_normal((1, 2)), "db1": p["b1"] + noise.standard_normal((1, 1))}
        p, state = averaging.update(grads, state, p)
        if t >= 1000:
            raw.append(float(np.mean(p["W1"] ** 2)))
            averaged.append(float(np.mean(state.slots[AVERAGE_SLOT]["W1"] ** 2)))
    assert 0.25 < np.mean(raw) < 0.45 and np.mean(averaged) < np.mean(raw) / 20


def test_bad_averaging_and_input_dropout_arguments_are_refused() -> None:
    X, Y, _, _, params = problem()
    with pytest.raises(TypeError, match="optimizer must be an Optimizer"):
        ema("adam")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"decay must be in \[0, 1\)"):
        ema(adam(), decay=1.0)
    with pytest.raises(ValueError, match="cannot be wrapped in ema twice"):
        ema(ema(adam())).init(params)
    with pytest.raises(ValueError, match="has no 'average' slot"):
        ema(adam()).update({}, adam().init(params), params)
    with pytest.raises(TypeError, match="optimizer_state must be an OptimizerState"):
        averaged_params({}, params)  # type: ignore[arg-type]
    common = dict(activations=ACTIVATIONS, loss=LOSS, epochs=1, optimizer=adam())
    with pytest.raises(ValueError, match=r"input_keep_prob must be in \(0, 1\], got 0.0"):
        train(X, Y, params, input_keep_prob=0.0, rng=np.random.default_rng(0), **common)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="input_keep_prob must be a number"):
        forward_propagation(X, params, ACTIVATIONS, input_keep_prob="0.8", rng=np.random.default_rng(0))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^rng must be a numpy\.random\.Generator such as np\.random\.default_rng\(seed\) for augmentation, which draws from it, got None$"):
        train(X, Y, params, augmentation=SHIFT, **common)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^rng must be a numpy\.random\.Generator such as np\.random\.default_rng\(seed\) for dropout \(input_keep_prob < 1\), which draws from it, got None$"):
        train(X, Y, params, input_keep_prob=0.5, **common)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="augmentation must be a function"):
        train(X, Y, params, augmentation="shift", rng=np.random.default_rng(0), **common)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"augmentation must return an array shaped and typed like its batch \(float32 \(20, 70\)\), got float64"):
        train(X, Y, params, augmentation=lambda B, r: B.astype(np.float64), rng=np.random.default_rng(0), **common)  # type: ignore[arg-type]


def test_the_average_starts_at_the_parameters_it_is_given() -> None:
    # read before any update (epochs=0, or a dev evaluation of the starting point) the average
    # is the parameters themselves, bit for bit, in their own arrays
    _, _, _, _, params = problem()
    state = ema(adam(1e-2), decay=0.9).init(params)
    average = averaged_params(state, params)
    for key, value in params.items():
        assert average[key].tobytes() == value.tobytes() and average[key].dtype == value.dtype
        assert not np.shares_memory(average[key], value)
