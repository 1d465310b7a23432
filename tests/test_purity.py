"""No function writes into its inputs, the same seed gives the same bits, and no global RNG."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from functional_nn import (
    backward_propagation,
    compute_cost,
    forward_propagation,
    gradient_check,
    initialize_parameters,
    one_hot,
    predict,
    train,
    update_parameters,
)
from functional_nn.types import FloatArray

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
