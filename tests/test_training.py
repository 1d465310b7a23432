"""The training fold: ``train`` against a loop written by hand (bitwise), laziness of
``train_epochs``, the history, early stopping, divergence and bad arguments."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from functional_nn.data import minibatches, one_hot
from functional_nn.initializers import initialize_parameters
from functional_nn.losses import compute_cost
from functional_nn.metrics import accuracy
from functional_nn.optimizers import (
    Optimizer,
    OptimizerState,
    adam,
    adamw,
    apply_max_norm,
    clip_by_global_norm,
    momentum,
    sgd,
    update_parameters,
)
from functional_nn.propagation import backward_propagation, forward_propagation, predict
from functional_nn.schedules import cosine_decay
from functional_nn.training import (
    BatchProgress,
    EarlyStopping,
    TrainingDivergedError,
    TrainState,
    _track_best,
    train,
    train_epochs,
)
from functional_nn.types import Activation, FloatArray, Loss
from conftest import WriteMNISTCache

ACTIVATIONS: tuple[Activation, ...] = ("relu", "tanh", "softmax")
LOSS: Loss = "categorical_cross_entropy"


def blobs(
    seed: int, m: int, dtype: type[np.floating] = np.float64, noise: float = 1.0
) -> tuple[FloatArray, FloatArray, np.ndarray]:
    data = np.random.default_rng(seed)
    labels = data.integers(0, 3, m)
    centres = np.array([[0.0, 2.0, -2.0], [2.0, -1.0, -1.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    X = (centres[:, labels] + noise * data.standard_normal((4, m))).astype(dtype)
    return np.asfortranarray(X), one_hot(labels, 3, dtype=dtype), labels


def hand_loop(
    X: FloatArray,
    Y: FloatArray,
    params: dict[str, FloatArray],
    optimizer: Optimizer,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    keep_probs: Sequence[float] | None,
    lambd: float,
    clip_norm: float | None,
    max_norm: float | None,
) -> tuple[dict[str, FloatArray], OptimizerState]:
    """What a user writes from the public pieces, without ``train``."""
    state = optimizer.init(params)
    for _ in range(epochs):
        for X_batch, Y_batch, _ in minibatches(X, Y, batch_size, rng):
            AL, caches = forward_propagation(X_batch, params, ACTIVATIONS, keep_probs=keep_probs, rng=rng)
            grads = backward_propagation(AL, Y_batch, caches, LOSS, lambd=lambd)
            if clip_norm is not None:
                grads = clip_by_global_norm(grads, clip_norm)
            params, state = optimizer.update(grads, state, params)
            if max_norm is not None:
                params = apply_max_norm(params, max_norm)
    return params, state


CONFIGURATIONS = [
    ("sgd", lambda: sgd(0.1), None, 0.0, None, None),
    ("nesterov+dropout", lambda: momentum(0.05, nesterov=True), (0.7, 0.9), 0.0, None, None),
    ("adam+dropout+l2+clip+max_norm", lambda: adam(cosine_decay(0.01, decay_steps=20, warmup_steps=3)), (0.8, 0.6), 0.1, 0.5, 1.0),
    ("adamw+dropout", lambda: adamw(0.01, weight_decay=0.1), (0.5, 0.5), 0.0, None, 2.0),
]


@pytest.mark.parametrize(("name", "make", "keep_probs", "lambd", "clip_norm", "max_norm"), CONFIGURATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_train_equals_a_hand_written_loop_bitwise(
    name: str,
    make: object,
    keep_probs: tuple[float, float] | None,
    lambd: float,
    clip_norm: float | None,
    max_norm: float | None,
    dtype: type[np.floating],
) -> None:
    assert callable(make)
    X, Y, _ = blobs(0, 50, dtype)
    params = initialize_parameters([4, 12, 6, 3], np.random.default_rng(1), dtype=dtype)
    result = train(
        X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=3, optimizer=make(), batch_size=16,
        rng=np.random.default_rng(2), keep_probs=keep_probs, lambd=lambd, clip_norm=clip_norm, max_norm=max_norm,
    )  # fmt: skip
    by_hand, state = hand_loop(
        X, Y, params, make(), 3, 16, np.random.default_rng(2), keep_probs, lambd, clip_norm, max_norm
    )
    assert result.epoch == 3 and len(result.history) == 3
    assert result.optimizer_state.step == state.step == 3 * 4  # ceil(50 / 16) = 4 steps per epoch
    for key in params:
        assert result.params[key].dtype == dtype
        np.testing.assert_array_equal(result.params[key], by_hand[key])
        assert not np.array_equal(result.params[key], params[key])
    for slot, arrays in state.slots.items():
        for key in params:
            np.testing.assert_array_equal(result.optimizer_state.slots[slot][key], arrays[key])
            assert arrays[key].dtype == dtype


def test_learning_rate_alone_is_full_batch_gradient_descent_by_hand() -> None:
    X, Y, labels = blobs(3, 30)
    params = initialize_parameters([4, 5, 4, 3], np.random.default_rng(4))
    states = list(train_epochs(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=4, learning_rate=0.3))
    same = train(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=4, optimizer=sgd(0.3))
    current = dict(params)
    for state in states:
        record = state.history[-1]
        AL, caches = forward_propagation(X, current, ACTIVATIONS)
        # full batch: the epoch's figures are those of the parameters it started from
        assert record.cost == compute_cost(AL, Y, LOSS)
        assert record.accuracy == accuracy(predict(X, current, ACTIVATIONS), labels)
        current = update_parameters(current, backward_propagation(AL, Y, caches, LOSS), 0.3)
        for key in params:
            np.testing.assert_array_equal(state.params[key], current[key])
    for key in params:
        np.testing.assert_array_equal(same.params[key], current[key])


def test_history_records_train_and_dev_figures() -> None:
    X, Y, _ = blobs(5, 40)
    X_dev, Y_dev, dev_labels = blobs(6, 20)
    params = initialize_parameters([4, 8, 6, 3], np.random.default_rng(7))
    states = list(
        train_epochs(
            X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=3, optimizer=adam(0.01), batch_size=8,
            rng=np.random.default_rng(8), dev=(X_dev, Y_dev),
        )  # fmt: skip
    )
    assert [s.epoch for s in states] == [1, 2, 3]
    assert [r.epoch for r in states[-1].history] == [1, 2, 3]
    for state in states:
        record = state.history[-1]
        assert state.history[:-1] == (states[state.epoch - 2].history if state.epoch > 1 else ())
        AL_dev, _ = forward_propagation(X_dev, state.params, ACTIVATIONS)
        assert record.dev_cost == compute_cost(AL_dev, Y_dev, LOSS)
        assert record.dev_accuracy == accuracy(predict(X_dev, state.params, ACTIVATIONS), dev_labels)
        assert record.cost > 0 and record.accuracy is not None and 0 <= record.accuracy <= 1
        assert state.best_params is None and not state.stopped  # no early stopping asked


def test_train_epochs_is_lazy_and_checks_arguments_at_once() -> None:
    X, Y, _ = blobs(9, 20)
    params = initialize_parameters([4, 5, 4, 3], np.random.default_rng(10))
    rng = np.random.default_rng(11)
    before = rng.bit_generator.state
    states = train_epochs(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=100, learning_rate=0.1, batch_size=4, rng=rng)
    assert rng.bit_generator.state == before  # nothing ran yet
    first = next(states)
    assert first.epoch == 1 and rng.bit_generator.state != before
    assert next(states).epoch == 2
    with pytest.raises(ValueError, match="epochs must be >= 0"):
        train_epochs(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=-1, learning_rate=0.1)
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0"):
        train_epochs(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=1, learning_rate=-0.1)


def test_zero_epochs_return_the_starting_state() -> None:
    X, Y, _ = blobs(12, 10)
    params = initialize_parameters([4, 5, 4, 3], np.random.default_rng(13))
    result = train(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=0, optimizer=adam())
    assert result.epoch == 0 and result.history == () and result.optimizer_state.step == 0
    assert result.params == params and result.params is not params
    assert all(result.params[key] is params[key] for key in params)
    assert list(train_epochs(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=0, learning_rate=0.1)) == []


def test_divergence_names_the_epoch_and_the_step() -> None:
    """w x + b on three identical samples x = 1000, y = 0, one per batch: |w| grows ~2e7 times a step."""
    params = {"W1": np.array([[1.0]]), "b1": np.array([[0.0]])}
    X, Y = np.full((1, 3), 1000.0), np.zeros((1, 3))
    w, b, step = 1.0, 0.0, 0
    weights = [w]  # weights[k]: w after k steps
    while True:  # the same steps in Python floats, to know where the cost overflows
        step += 1
        z = w * 1000.0 + b
        if not math.isfinite(z * z):
            break
        g = 2 * z
        w, b = w - 10.0 * g * 1000.0, b - 10.0 * g
        weights.append(w)
    epoch = (step - 1) // 3 + 1
    assert epoch > 2  # the cost overflows only in a later epoch ...
    # ... but the runaway is caught at the end of the first (3 steps), when |w| passes float64's 1/eps
    bound = 1 / np.finfo(np.float64).eps
    assert abs(weights[2]) <= bound < abs(weights[3])
    message = f"epoch 1: W1 holds a value of magnitude {abs(weights[3]):.4g}, beyond the float64 bound {bound:.4g}"
    with pytest.raises(TrainingDivergedError, match=re.escape(message)):
        train(
            X, Y, params, activations=("linear",), loss="mean_squared_error", epochs=100, learning_rate=10.0,
            batch_size=1, rng=np.random.default_rng(0),
        )  # fmt: skip
    # a cost that overflows within a step is named with its epoch and step: the sample 1e200 squares to inf
    X_huge = np.array([[1.0, 1e200, 1.0]])
    step_of_huge = int(np.flatnonzero(np.random.default_rng(0).permutation(3) == 1)[0]) + 1
    with pytest.raises(TrainingDivergedError, match=f"epoch 1, step {step_of_huge}: the cost is inf"):
        train(
            X_huge, Y, params, activations=("linear",), loss="mean_squared_error", epochs=3, learning_rate=1e-3,
            batch_size=1, rng=np.random.default_rng(0),
        )  # fmt: skip


def _overfitting_run(early_stopping: EarlyStopping | None, epochs: int = 40) -> list[TrainState]:
    X, Y, _ = blobs(14, 24, noise=2.5)
    X_dev, Y_dev, _ = blobs(15, 200, noise=2.5)
    params = initialize_parameters([4, 32, 32, 3], np.random.default_rng(16))
    return list(
        train_epochs(
            X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=epochs, optimizer=adam(0.02), batch_size=8,
            rng=np.random.default_rng(17), dev=(X_dev, Y_dev), early_stopping=early_stopping,
        )  # fmt: skip
    )


def test_early_stopping_keeps_the_best_params_and_stops_after_patience() -> None:
    stopped = _overfitting_run(EarlyStopping(patience=3, monitor="dev_cost"))
    full = _overfitting_run(None)
    last = stopped[-1]
    assert last.stopped and last.epoch < 40
    dev_costs = [float(r.dev_cost) for r in last.history if r.dev_cost is not None]
    assert last.best_epoch == 1 + int(np.argmin(dev_costs))
    assert last.best_value == min(dev_costs)
    assert last.epoch == last.best_epoch + 3 and last.epochs_since_best == 3
    assert not any(s.stopped for s in stopped[:-1])
    # early stopping only watches: the trajectory up to the stop is the same
    for a, b in zip(stopped, full):
        assert a.history == b.history
        for key in a.params:
            np.testing.assert_array_equal(a.params[key], b.params[key])
    assert last.best_params is stopped[last.best_epoch - 1].params
    # train returns the last state, best params included
    X, Y, _ = blobs(14, 24, noise=2.5)
    X_dev, Y_dev, _ = blobs(15, 200, noise=2.5)
    result = train(
        X, Y, initialize_parameters([4, 32, 32, 3], np.random.default_rng(16)), activations=ACTIVATIONS, loss=LOSS,
        epochs=40, optimizer=adam(0.02), batch_size=8, rng=np.random.default_rng(17), dev=(X_dev, Y_dev),
        early_stopping=EarlyStopping(patience=3),
    )  # fmt: skip
    assert result.epoch == last.epoch and result.best_epoch == last.best_epoch
    assert result.best_params is not None
    for key in result.best_params:
        np.testing.assert_array_equal(result.best_params[key], stopped[last.best_epoch - 1].params[key])


def _fake_state(epoch: int, dev_cost: float, dev_accuracy: float) -> TrainState:
    from functional_nn.training import EpochRecord

    params = {"W1": np.full((1, 1), float(epoch)), "b1": np.zeros((1, 1))}
    history = tuple(EpochRecord(e, 0.0, 0.0) for e in range(1, epoch)) + (
        EpochRecord(epoch, 0.0, 0.0, dev_cost, dev_accuracy),
    )
    return TrainState(epoch, params, OptimizerState(0, {}), history)


@pytest.mark.parametrize(
    ("monitor", "values", "min_delta", "best_epochs", "stopped_at"),
    [
        # dev cost: lower is better; 0.89 is not 0.05 below 0.9, 0.7 is
        ("dev_cost", [1.0, 0.9, 0.95, 0.89, 0.7, 0.8, 0.8, 0.8], 0.05, [1, 2, 2, 2, 5, 5, 5, 5], 8),
        ("dev_cost", [1.0, 0.9, 0.95, 0.89, 0.7, 0.8, 0.8, 0.8], 0.0, [1, 2, 2, 4, 5, 5, 5, 5], 8),
        # dev accuracy: higher is better; ties do not count
        ("dev_accuracy", [0.5, 0.6, 0.6, 0.7, 0.65, 0.7, 0.71, 0.7, 0.71, 0.7], 0.0, [1, 2, 2, 4, 4, 4, 7, 7, 7, 7], 10),
    ],
)
def test_early_stopping_bookkeeping_by_hand(
    monitor: str, values: list[float], min_delta: float, best_epochs: list[int], stopped_at: int | None
) -> None:
    rule = EarlyStopping(patience=3, monitor=monitor, min_delta=min_delta)  # type: ignore[arg-type]  # parametrised Literal
    state = TrainState(0, {}, OptimizerState(0, {}), ())
    for epoch, value in enumerate(values, start=1):
        new = _fake_state(epoch, value, value)
        state = _track_best(rule, state, new)
        assert state.best_epoch == best_epochs[epoch - 1]
        assert state.best_params is not None and state.best_params["W1"][0, 0] == state.best_epoch
        assert state.stopped == (epoch == stopped_at)
        if state.stopped:
            break


def test_bad_arguments_are_refused_before_training() -> None:
    X, Y, _ = blobs(18, 10)
    params = initialize_parameters([4, 5, 4, 3], np.random.default_rng(19))
    dev = (X, Y)

    def call(**kwargs: object) -> None:
        arguments: dict[str, object] = {"activations": ACTIVATIONS, "loss": LOSS, "epochs": 1, **kwargs}
        train(X, Y, params, **arguments)  # type: ignore[arg-type]  # bad arguments are the point

    with pytest.raises(ValueError, match="either learning_rate .* or optimizer, not both"):
        call(learning_rate=0.1, optimizer=sgd(0.1))
    with pytest.raises(ValueError, match="not neither"):
        call()
    with pytest.raises(TypeError, match="optimizer must be an Optimizer"):
        call(optimizer="adam")
    with pytest.raises(TypeError, match=r"^rng must be a numpy\.random\.Generator such as np\.random\.default_rng\(seed\) for batch_size, which draws from it, got None$"):
        call(learning_rate=0.1, batch_size=4)
    with pytest.raises(ValueError, match="clip_norm must be a finite number > 0"):
        call(learning_rate=0.1, clip_norm=0.0)
    with pytest.raises(ValueError, match="max_norm must be a finite number > 0"):
        call(learning_rate=0.1, max_norm=-3.0)
    with pytest.raises(ValueError, match="early_stopping watches the dev set"):
        call(learning_rate=0.1, early_stopping=EarlyStopping(3))
    with pytest.raises(ValueError, match="early_stopping.patience must be >= 1"):
        call(learning_rate=0.1, dev=dev, early_stopping=EarlyStopping(0))
    with pytest.raises(ValueError, match="unknown early_stopping.monitor 'dev_acc'.*did you mean 'dev_accuracy'"):
        call(learning_rate=0.1, dev=dev, early_stopping=EarlyStopping(3, "dev_acc"))  # type: ignore[arg-type]  # the error is the point
    with pytest.raises(ValueError, match="early_stopping.min_delta"):
        call(learning_rate=0.1, dev=dev, early_stopping=EarlyStopping(3, min_delta=-1.0))
    with pytest.raises(TypeError, match="early_stopping must be an EarlyStopping"):
        call(learning_rate=0.1, dev=dev, early_stopping=3)
    regression = {"W1": np.ones((1, 4)), "b1": np.zeros((1, 1))}
    with pytest.raises(ValueError, match="'dev_accuracy' needs a classification loss"):
        train(
            X, X[:1], regression, activations=("linear",), loss="mean_squared_error", epochs=1, learning_rate=0.1,
            dev=(X, X[:1]), early_stopping=EarlyStopping(2, "dev_accuracy"),
        )  # fmt: skip


def test_compare_optimizers_script_runs_on_a_small_cached_mnist(
    capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache
) -> None:
    import json
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    try:
        import compare_optimizers
    finally:
        sys.path.pop(0)
    from functional_nn.data import scale_pixels
    from functional_nn.data.mnist import MNISTPixels

    data = np.random.default_rng(20)

    def split(m: int) -> tuple[np.ndarray, np.ndarray]:
        """``m`` faint noisy pictures (784, m), each with one bright pixel at its class's place (learnable),
        laid out as the loader hands them out: the transpose of a picture per row."""
        labels = data.integers(0, 10, m)
        rows = data.integers(0, 26, (m, 784)).astype(np.uint8)
        rows[np.arange(m), labels * 70] = 255
        return rows.T, labels

    pixels = MNISTPixels(*split(60), *split(30), *split(30))
    relu_softmax: tuple[Activation, ...] = ("relu", "softmax")
    mnist_cache(pixels)  # the script loads it with the real load_mnist
    assert compare_optimizers.main(["--epochs", "2", "--reg-epochs", "2", "--hidden", "8", "--batch-size", "16"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    optimizers, regularised = summary["experiments"]
    assert [r["label"] for r in optimizers["runs"]] == ["sgd", "momentum", "nesterov", "adam"]
    assert [r["epochs"] for r in regularised["runs"]] == [2, 2, 2]
    # each run of the first experiment by hand: the same He start from the seed, the script's
    # optimizer at its default rate, the dev accuracy after every epoch, and the test accuracy
    # of the parameters of the best dev epoch
    X_train, X_dev, X_test = (scale_pixels(X, dtype=np.float32) for X in (pixels.X_train, pixels.X_dev, pixels.X_test))
    by_hand = {"sgd": sgd(0.1), "momentum": momentum(0.01, 0.9), "nesterov": momentum(0.01, 0.9, nesterov=True), "adam": adam(1e-3)}
    for run in optimizers["runs"]:
        generator = np.random.default_rng(0)
        start = initialize_parameters([784, 8, 10], generator, scheme="he", dtype=np.float32)
        *_, last = train_epochs(
            X_train, one_hot(pixels.y_train, 10, dtype=np.float32), start, activations=relu_softmax,
            loss="categorical_cross_entropy", epochs=2, optimizer=by_hand[run["label"]], batch_size=16, rng=generator,
            dev=(X_dev, one_hot(pixels.y_dev, 10, dtype=np.float32)), early_stopping=EarlyStopping(2, "dev_accuracy"),
        )  # fmt: skip
        assert last.best_params is not None
        assert run["dev_accuracies"] == [r.dev_accuracy for r in last.history] and run["best_epoch"] == last.best_epoch
        assert run["test_accuracy"] == accuracy(predict(X_test, last.best_params, relu_softmax), pixels.y_test), run["label"]
    # the second experiment starts with the same Adam run, the same epochs: the same figures
    plain_adam, adam_first = regularised["runs"][0], optimizers["runs"][3]
    assert plain_adam["label"] == "adam 0.001"
    for figure in ("dev_accuracies", "best_epoch", "test_accuracy"):
        assert plain_adam[figure] == adam_first[figure]
    assert compare_optimizers.main(["--preset", "best", "--epochs", "2", "--hidden", "8,8", "--batch-size", "16"]) == 0
    (best,) = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["experiments"]
    assert best["runs"][0]["max_norm"] == 3.5 and best["runs"][0]["keep_probs"] == 0.5


def test_learning_rate_may_be_a_schedule() -> None:
    from functional_nn.schedules import step_decay

    X, Y, _ = blobs(21, 20)
    params = initialize_parameters([4, 5, 4, 3], np.random.default_rng(22))
    schedule = step_decay(0.5, decay_rate=0.1, step_size=2)
    a = train(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=3, learning_rate=schedule)
    current = dict(params)
    for step in range(3):  # full batch: one step per epoch, rates 0.5, 0.5, 0.05
        AL, caches = forward_propagation(X, current, ACTIVATIONS)
        current = update_parameters(current, backward_propagation(AL, Y, caches, LOSS), schedule(step))
    for key in params:
        np.testing.assert_array_equal(a.params[key], current[key])
    assert a.optimizer_state.step == 3


def test_on_batch_reports_every_update_and_the_running_cost() -> None:
    rng = np.random.default_rng(4)
    X = rng.standard_normal((3, 10))
    Y = one_hot(rng.integers(0, 2, 10), 2)
    params = initialize_parameters([3, 4, 2], rng)
    reports: list[BatchProgress] = []
    result = train(
        X, Y, params, activations=("tanh", "softmax"), loss="categorical_cross_entropy", epochs=2,
        learning_rate=0.1, batch_size=4, rng=np.random.default_rng(1), on_batch=reports.append,
    )  # fmt: skip
    assert [(r.epoch, r.step, r.steps, r.samples) for r in reports] == [
        (1, 1, 3, 4), (1, 2, 3, 8), (1, 3, 3, 10), (2, 1, 3, 4), (2, 2, 3, 8), (2, 3, 3, 10),
    ]  # fmt: skip
    assert reports[2].cost == pytest.approx(result.history[0].cost, rel=1e-12)
    assert reports[5].cost == pytest.approx(result.history[1].cost, rel=1e-12)
    silent = train(
        X, Y, params, activations=("tanh", "softmax"), loss="categorical_cross_entropy", epochs=2,
        learning_rate=0.1, batch_size=4, rng=np.random.default_rng(1),
    )  # fmt: skip
    for key in params:
        assert silent.params[key].tobytes() == result.params[key].tobytes()
    with pytest.raises(TypeError, match="on_batch must be a function"):
        train(X, Y, params, activations=("tanh", "softmax"), loss="categorical_cross_entropy", epochs=1, learning_rate=0.1, on_batch=3)  # type: ignore[arg-type]  # the wrong type is the test


# Integer inputs: X of uint8 pixels, converted batch by batch (input_divisor)


def pixel_problem(dtype: type[np.floating]) -> tuple[np.ndarray, FloatArray, dict[str, FloatArray]]:
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, size=(12, 90), dtype=np.uint8)
    labels = (pixels[0].astype(int) + pixels[1] > 255).astype(np.int64)
    return np.asfortranarray(pixels), one_hot(labels, 2, dtype=dtype), initialize_parameters([12, 7, 2], rng, dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_size", [16, None])
def test_uint8_inputs_train_bitwise_as_their_scaled_pixels(dtype: type[np.floating], batch_size: int | None) -> None:
    from functional_nn.data import scale_pixels
    from functional_nn.training import train

    pixels, Y, params = pixel_problem(dtype)
    dev = (scale_pixels(pixels[:, :20], dtype=dtype), Y[:, :20])

    def run(X: np.ndarray, divisor: float | None) -> TrainState:
        return train(
            X, Y, params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=3,
            optimizer=adam(1e-2), batch_size=batch_size, rng=np.random.default_rng(2), keep_probs=0.8, dev=dev,
            input_divisor=divisor,
        )  # fmt: skip

    floats = run(scale_pixels(pixels, dtype=dtype), None)
    integers = run(pixels, 255)
    assert integers.history == floats.history
    for key, value in floats.params.items():
        assert integers.params[key].dtype == dtype and integers.params[key].tobytes() == value.tobytes(), key
    assert not np.array_equal(floats.params["W1"], params["W1"])  # it trained


def test_input_divisor_is_checked_before_training() -> None:
    from functional_nn.training import train

    pixels, Y, params = pixel_problem(np.float32)
    common = {"activations": ("relu", "softmax"), "loss": "categorical_cross_entropy", "epochs": 1, "learning_rate": 0.1}
    with pytest.raises(TypeError, match=r"X has dtype uint8: pass input_divisor \(255 for 0..255 pixels\)"):
        train(pixels, Y, params, **common)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"input_divisor is for X of integers .* got float32 \(12, 90\)"):
        train(pixels / np.float32(255), Y, params, input_divisor=255, **common)  # type: ignore[arg-type]
    for bad in (0, -255.0, float("nan")):
        with pytest.raises(ValueError, match="input_divisor"):
            train(pixels, Y, params, input_divisor=bad, **common)  # type: ignore[arg-type]


def test_a_checkpoint_dir_that_is_a_file_is_refused_before_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It used to train a whole epoch, then die in mkdir with a bare FileExistsError."""
    import functional_nn.training as training

    X, Y, _ = blobs(0, 12)
    params = initialize_parameters([4, 5, 3], np.random.default_rng(0))
    file = tmp_path / "not_a_directory"
    file.write_text("mine")

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("training started before checkpoint_dir was checked")

    monkeypatch.setattr(training, "forward", fail)
    common = {"activations": ("relu", "softmax"), "loss": LOSS, "epochs": 2, "learning_rate": 0.1}
    for directory in (file, file / "checkpoints"):
        message = re.escape(f"checkpoint_dir {directory} cannot hold checkpoints: {file} exists and is not a directory")
        with pytest.raises(ValueError, match=message):
            train(X, Y, params, checkpoint_dir=directory, **common)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=message):
            train_epochs(X, Y, params, checkpoint_dir=str(directory), resume=True, **common)  # type: ignore[arg-type]
    assert file.read_text() == "mine"


@pytest.mark.parametrize("optimizer", [sgd(0.1), adam(1e-2)], ids=["sgd", "adam"])
def test_the_fold_checks_the_params_once_not_at_every_update(optimizer: Optimizer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A public update checks its params (6.5 us on 784-256-10); the fold checked them once
    and feeds each update the last one's output, so its steps leave that check out."""
    from functional_nn import _validation

    calls: list[bool] = []
    real = _validation.check_params

    def counted(params: object, argument: str = "params", *, finite: bool = True) -> tuple[int, ...]:
        calls.append(finite)
        return real(params, argument, finite=finite)

    monkeypatch.setattr(_validation, "check_params", counted)
    X, Y, _ = blobs(0, 40)
    params = initialize_parameters([4, 5, 3], np.random.default_rng(0))
    result = train(X, Y, params, activations=("relu", "softmax"), loss=LOSS, epochs=3, optimizer=optimizer,
                   batch_size=4, rng=np.random.default_rng(1))  # fmt: skip
    assert result.optimizer_state.step == 30
    assert calls == [True, True]  # train's arguments, and the optimizer's init
    optimizer.update({"d" + k: v for k, v in result.params.items()}, result.optimizer_state, result.params)
    assert calls == [True, True, False]  # outside the fold, update checks the structure of its params


def test_the_history_of_a_minibatch_epoch_is_the_hand_loops_weighted_cost_and_accuracy(rng: np.random.Generator) -> None:
    """Each batch's cost, its L2 penalty over that batch's b samples, weighted by b, and the
    correct answers of every batch, counted by hand over an epoch whose last batch is short."""
    X = rng.standard_normal((4, 50))
    labels = (X[0] + X[1] > 0).astype(np.int64) + (X[2] > 0.5).astype(np.int64)
    Y = one_hot(labels, 3)
    params = initialize_parameters([4, 6, 3], rng)
    lambd = 0.3
    result = train(
        X, Y, params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=2,
        optimizer=sgd(0.2), batch_size=16, rng=np.random.default_rng(8), lambd=lambd,
    )  # fmt: skip
    p = dict(params)
    hand_rng = np.random.default_rng(8)
    for epoch in range(2):
        weighted_cost, correct, sizes = 0.0, 0, []
        for X_b, Y_b, indices in minibatches(X, Y, 16, hand_rng):
            AL, caches = forward_propagation(X_b, p, ("relu", "softmax"))
            b = X_b.shape[1]
            sizes.append(b)
            weighted_cost += compute_cost(AL, Y_b, "categorical_cross_entropy", lambd=lambd, params=p) * b
            correct += int(np.count_nonzero(AL.argmax(axis=0) == labels[indices]))
            grads = backward_propagation(AL, Y_b, caches, "categorical_cross_entropy", lambd=lambd)
            p = {key: value - 0.2 * grads["d" + key] for key, value in p.items()}
        assert sizes == [16, 16, 16, 2]
        record = result.history[epoch]
        assert record.cost == pytest.approx(weighted_cost / 50, rel=1e-12)
        assert record.accuracy == correct / 50
        assert 0 < correct < 50
