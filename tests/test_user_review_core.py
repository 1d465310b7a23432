"""Found by a user review of the core API: two refusals that did not say what came.

A hand-written loop that asks for input dropout only (``input_keep_prob=0.8``) and forgets
``rng`` was told that dropout masks are drawn "when keep_probs < 1", an argument it never
gave, and not what came instead of a generator. ``train`` names the argument that draws
and what came; ``forward_propagation`` now does too.

``train(..., dev=(X_dev, Y_dev, y_dev))`` was told "dev must be a tuple", which it is: the
message now says what came, a tuple of 3 (or a list), as ``distributed``'s does.

``load_parameters`` given a training checkpoint (a likely mix-up: the last epoch's file of a
run) said only that it was not a parameter file; it now says where its parameters are.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from functional_nn import averaged_params, forward_propagation, initialize_parameters, load_parameters, train
from functional_nn.averaging import ema
from functional_nn.optimizers import sgd
from functional_nn.checkpoints import latest_checkpoint, load_checkpoint


@pytest.mark.parametrize(
    ("dropout", "given", "dropping", "came"),
    [
        ({"input_keep_prob": 0.8}, None, "input_keep_prob", "None"),
        ({"keep_probs": 0.5, "input_keep_prob": 0.8}, 7, "keep_probs", "int 7: to draw from seed 7, pass np.random.default_rng(7)"),
    ],
)
def test_dropout_without_a_generator_names_the_argument_that_draws_and_what_came(
    rng: np.random.Generator, dropout: dict[str, float], given: object, dropping: str, came: str
) -> None:
    X = rng.standard_normal((2, 5))
    params = initialize_parameters([2, 3, 1], rng)
    expected = (
        f"rng must be a numpy.random.Generator such as np.random.default_rng(seed) for dropout ({dropping} < 1), "
        f"which draws from it, got {came}"
    )
    with pytest.raises(TypeError, match=f"^{re.escape(expected)}$"):
        forward_propagation(X, params, ("tanh", "sigmoid"), rng=given, **dropout)  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "got"), [(tuple, "a tuple of 3"), (list, "list")])
def test_a_dev_that_is_not_a_pair_is_told_what_came(rng: np.random.Generator, kind: type, got: str) -> None:
    X = rng.standard_normal((2, 6))
    Y = (X[:1] > 0).astype(np.float64)
    dev: object = (X, Y, Y) if kind is tuple else [X, Y]
    with pytest.raises(TypeError, match=f"^{re.escape(f'dev must be a tuple (X_dev, Y_dev), got {got}')}$"):
        train(X, Y, initialize_parameters([2, 3, 1], rng), activations=("tanh", "sigmoid"), loss="binary_cross_entropy",
              epochs=1, learning_rate=0.1, dev=dev)  # type: ignore[arg-type]  # fmt: skip


def test_a_checkpoint_given_to_load_parameters_is_named_with_where_its_parameters_are(
    rng: np.random.Generator, tmp_path: Path
) -> None:
    X = rng.standard_normal((2, 6))
    Y = (X[:1] > 0).astype(np.float64)
    result = train(X, Y, initialize_parameters([2, 3, 1], rng), activations=("tanh", "sigmoid"),
                   loss="binary_cross_entropy", epochs=2, optimizer=ema(sgd(0.1), 0.5), checkpoint_dir=tmp_path)  # fmt: skip
    checkpoint = latest_checkpoint(tmp_path)
    assert checkpoint is not None
    expected = (
        f"{checkpoint} is a training checkpoint, not a parameter file: with state = "
        "functional_nn.checkpoints.load_checkpoint(path).state, the parameters to predict with are "
        "state.best_params if early stopping kept them, else averaged_params(state.optimizer_state, "
        "state.params) (the ema average, if any; the last step's state.params otherwise)"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        load_parameters(checkpoint)
    state = load_checkpoint(checkpoint).state
    averaged = averaged_params(result.optimizer_state, result.params)  # what train's dev figures were of
    for key, value in averaged.items():
        assert not np.array_equal(value, result.params[key])
        np.testing.assert_array_equal(averaged_params(state.optimizer_state, state.params)[key], value)
