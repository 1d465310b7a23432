"""No function writes into its inputs, the same seed gives the same bits, and no global RNG."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from functional_nn import (
    EarlyStopping,
    Observer,
    adam,
    adamw,
    backward_propagation,
    compute_cost,
    ema,
    forward_propagation,
    gradient_check,
    initialize_parameters,
    momentum,
    one_hot,
    predict,
    rmsprop,
    sgd,
    train,
    train_epochs,
    update_parameters,
)
from functional_nn.optimizers import Kernel
from functional_nn.fold_state import StepView
from functional_nn.training import TrainState
from functional_nn.types import Activation, FloatArray, Loss

ROOT = Path(__file__).resolve().parents[1]


def frozen(array: FloatArray) -> FloatArray:
    copy = array.copy()
    copy.flags.writeable = False
    return copy


def test_read_only_inputs_survive_a_whole_minibatch_training(rng: np.random.Generator) -> None:
    params = {k: frozen(v) for k, v in initialize_parameters([5, 8, 3], rng, dtype=np.float32).items()}
    X = frozen(rng.standard_normal((5, 40)).astype(np.float32))
    Y = frozen(one_hot(rng.integers(0, 3, 40), 3, dtype=np.float32))
    before = {k: v.copy() for k, v in params.items()}
    result = train(
        X, Y, params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=3,
        learning_rate=0.1, batch_size=16, rng=rng, dev=(X, Y), lambd=0.01, keep_probs=0.8,
    )  # fmt: skip
    assert result.epoch == 3
    for key in params:
        np.testing.assert_array_equal(params[key], before[key])
        assert not np.shares_memory(result.params[key], params[key])

    AL, caches = forward_propagation(X, params, ("relu", "softmax"))
    grads = backward_propagation(AL, Y, caches, "categorical_cross_entropy", lambd=0.1)
    frozen_grads = {k: frozen(v) for k, v in grads.items()}
    update_parameters(params, frozen_grads, 0.1)
    compute_cost(frozen(AL), Y, "categorical_cross_entropy", lambd=0.1, params=params)
    predict(X, params, ("relu", "softmax"))
    gradient_check(X[:, :4], Y[:, :4], params, ("relu", "softmax"), "categorical_cross_entropy")


def test_same_seed_same_bits() -> None:
    def run(seed: int) -> dict[str, FloatArray]:
        rng = np.random.default_rng(seed)
        params = initialize_parameters([4, 6, 2], rng)
        X = rng.standard_normal((4, 30))
        Y = one_hot(rng.integers(0, 2, 30), 2)
        return train(
            X, Y, params, activations=("relu", "softmax"), loss="categorical_cross_entropy",
            epochs=4, learning_rate=0.1, batch_size=7, rng=rng, keep_probs=0.7,
        ).params  # fmt: skip

    first, second, other = run(11), run(11), run(12)
    for key in first:
        assert first[key].tobytes() == second[key].tobytes()
    assert any(first[key].tobytes() != other[key].tobytes() for key in first)


def test_no_global_random_state_anywhere() -> None:
    pattern = re.compile(r"np\.random\.(seed|rand|randn|randint|random_sample|shuffle|permutation|choice)\(")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("functional_nn", "scripts")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line)
    ]
    assert offenders == []


def snapshot(state: TrainState) -> dict[str, bytes]:
    """Every array a yielded state holds, as bytes: params, best params and optimizer slots."""
    arrays = {f"params[{k}]": v for k, v in state.params.items()}
    arrays.update({f"best[{k}]": v for k, v in (state.best_params or {}).items()})
    arrays.update({f"{name}[{k}]": v for name, slot in state.optimizer_state.slots.items() for k, v in slot.items()})
    return {name: array.tobytes() for name, array in arrays.items()}


@pytest.mark.parametrize("kernel", ["numpy", "numba"])
@pytest.mark.parametrize("optimizer_name", ["sgd", "adam", "adamw", "ema_adam", "momentum", "rmsprop"])
def test_the_fold_never_writes_an_array_it_has_handed_out(optimizer_name: str, kernel: Kernel, rng: np.random.Generator) -> None:
    # The fold updates its own copies in place within an epoch: every state it yields, and
    # every input, must keep its values to the end of the run.
    optimizer = {
        "sgd": sgd(0.1, kernel=kernel), "adam": adam(1e-2, kernel=kernel), "adamw": adamw(1e-2, kernel=kernel),
        "ema_adam": ema(adam(1e-2, kernel=kernel), 0.9, kernel=kernel),
        "momentum": momentum(0.05, nesterov=True, kernel=kernel), "rmsprop": rmsprop(1e-2, kernel=kernel),
    }[optimizer_name]  # fmt: skip
    params = {k: frozen(v) for k, v in initialize_parameters([5, 8, 6, 3], rng, dtype=np.float32).items()}
    X = frozen(rng.standard_normal((5, 50)).astype(np.float32))
    Y = frozen(one_hot(rng.integers(0, 3, 50), 3, dtype=np.float32))
    inputs = {k: v.tobytes() for k, v in params.items()}
    kept: list[tuple[TrainState, dict[str, bytes]]] = []
    for state in train_epochs(
        X, Y, params, activations=("relu", "relu", "softmax"), loss="categorical_cross_entropy", epochs=4,
        optimizer=optimizer, batch_size=16, rng=rng, keep_probs=0.8, max_norm=2.0, dev=(X, Y),
        early_stopping=EarlyStopping(patience=10),
    ):  # fmt: skip
        kept.append((state, snapshot(state)))
    assert len(kept) == 4
    for state, before in kept:
        assert snapshot(state) == before, f"epoch {state.epoch}'s state was written after it was handed out"
        for slot in state.optimizer_state.slots.values():
            assert all(not array.flags.writeable for array in slot.values())
    assert {k: v.tobytes() for k, v in params.items()} == inputs
    for (first, _), (second, _) in zip(kept, kept[1:]):
        for key in params:
            assert not np.shares_memory(first.params[key], second.params[key])
            assert not np.shares_memory(second.params[key], params[key])
    # the fold's in-place updates give the pure update's values: train with a twin generator
    twin = np.random.default_rng(0)
    ref = train(
        X, Y, params, activations=("relu", "relu", "softmax"), loss="categorical_cross_entropy", epochs=2,
        optimizer=optimizer._replace(update_in_place=None), batch_size=16, rng=twin, keep_probs=0.8, max_norm=1.0,
    )  # fmt: skip
    fast = train(
        X, Y, params, activations=("relu", "relu", "softmax"), loss="categorical_cross_entropy", epochs=2,
        optimizer=optimizer, batch_size=16, rng=np.random.default_rng(0), keep_probs=0.8, max_norm=1.0,
    )  # fmt: skip
    for key in params:
        assert ref.params[key].tobytes() == fast.params[key].tobytes()
        for name, slot in ref.optimizer_state.slots.items():  # ema's average among them
            assert slot[key].tobytes() == fast.optimizer_state.slots[name][key].tobytes(), (name, key)


def test_gradients_handed_out_are_never_overwritten_by_a_later_call(rng: np.random.Generator) -> None:
    params = {k: frozen(v) for k, v in initialize_parameters([5, 8, 3], rng, dtype=np.float32).items()}
    batches = [frozen(rng.standard_normal((5, 20)).astype(np.float32)) for _ in range(2)]
    Y = frozen(one_hot(rng.integers(0, 3, 20), 3, dtype=np.float32))
    AL, caches = forward_propagation(batches[0], params, ("relu", "softmax"))
    first = backward_propagation(AL, Y, caches, "categorical_cross_entropy")
    kept = {k: v.tobytes() for k, v in first.items()}
    for X in batches[1:]:
        AL, caches = forward_propagation(X, params, ("relu", "softmax"), keep_probs=0.5, rng=rng)
        second = backward_propagation(AL, Y, caches, "categorical_cross_entropy")
        assert all(not np.shares_memory(second[k], first[k]) for k in first)
    assert {k: v.tobytes() for k, v in first.items()} == kept


def test_an_observer_sees_the_weights_before_and_after_the_update_and_they_stay(rng: np.random.Generator) -> None:
    # With an Observer the fold updates into new arrays: the caches' W (the weights the
    # forward pass used) are not overwritten by the update the observer is shown.
    params = initialize_parameters([5, 8, 3], rng, dtype=np.float32)
    X = rng.standard_normal((5, 40)).astype(np.float32)
    Y = one_hot(rng.integers(0, 3, 40), 3, dtype=np.float32)
    seen: list[tuple[StepView, bytes, bytes]] = []
    observer = Observer(lambda view: seen.append((view, view.params["W1"].tobytes(), view.caches[0].W.tobytes())), every=1)
    train(
        X, Y, params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=2,
        optimizer=adam(1e-2), batch_size=16, rng=rng, on_batch=observer,
    )  # fmt: skip
    assert len(seen) == 6
    for view, W1, cached_W1 in seen:
        assert view.params["W1"].tobytes() == W1 and view.caches[0].W.tobytes() == cached_W1
        assert not np.array_equal(view.params["W1"], view.caches[0].W)  # the update moved W1


def test_the_next_epoch_starts_from_the_yielded_params_as_the_caller_left_them(rng: np.random.Generator) -> None:
    X = rng.standard_normal((5, 40))
    Y = one_hot(rng.integers(0, 3, 40), 3)
    activations: tuple[Activation, ...] = ("relu", "softmax")
    loss: Loss = "categorical_cross_entropy"
    optimizer = adam(1e-2)
    states = train_epochs(X, Y, initialize_parameters([5, 6, 3], rng), activations=activations, loss=loss, epochs=2,
                          optimizer=optimizer, batch_size=16, rng=rng)  # fmt: skip
    first = next(states)
    first.params["W1"][:, 0] = 0.0  # the caller prunes the first input's weights
    pruned = {key: value.copy() for key, value in first.params.items()}
    generator_then = np.random.default_rng()
    generator_then.bit_generator.state = rng.bit_generator.state
    second = next(states)
    expected = train(X, Y, pruned, activations=activations, loss=loss, epochs=1, optimizer=optimizer, batch_size=16,
                     rng=generator_then, optimizer_state=first.optimizer_state)  # fmt: skip
    for key in pruned:
        assert second.params[key].tobytes() == expected.params[key].tobytes(), key
        assert first.params[key].tobytes() == pruned[key].tobytes(), key  # the caller's state, not written since
