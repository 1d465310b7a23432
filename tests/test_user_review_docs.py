"""Found by a user review of the docstrings: two refusals whose words misled.

A name spelt as papers and other libraries write it (``"ReLU"``, ``"GELU"``, ``"He"``) was
refused with no hint, and ``"Relu"`` with the hint ``'elu'``: the names were compared as
given, case and all. The hint now compares them folded to lower case (and ``-`` to ``_``),
so it names ``'relu'``; the names themselves are still taken only as written.

``train``'s divergence check compares an epoch's cost with the first epoch's, floored at
1. A first cost below 1 was reported as "the first epoch's 1", a cost the run never had;
the message now gives the first cost and says that it counts as 1.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from functional_nn import (
    TrainingDivergedError,
    forward_propagation,
    initialize_parameters,
    train,
)
from functional_nn.sklearn import MLPClassifier


@pytest.mark.parametrize(("given", "meant"), [("Relu", "relu"), ("ReLU", "relu"), ("GELU", "gelu"), ("Leaky-ReLU", "leaky_relu")])
def test_an_activation_spelt_as_papers_spell_it_is_hinted_by_its_name(rng: np.random.Generator, given: str, meant: str) -> None:
    X = rng.standard_normal((3, 4))
    params = initialize_parameters([3, 2, 2], rng)
    with pytest.raises(ValueError, match=rf"unknown activations\[0\] '{given}': .*; did you mean '{meant}'\?$"):
        forward_propagation(X, params, (given, "softmax"))  # type: ignore[arg-type]  # the spelling is the test


def test_an_init_scheme_and_an_optimizer_in_capitals_are_hinted(rng: np.random.Generator) -> None:
    with pytest.raises(ValueError, match=r"unknown scheme 'He': .*; did you mean 'he'\?$"):
        initialize_parameters([2, 2], rng, scheme="He")  # type: ignore[arg-type]  # the spelling is the test
    X, y = rng.standard_normal((6, 2)), np.array([0, 1, 0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"unknown optimizer 'SGD': .*; did you mean 'sgd'\?$"):
        MLPClassifier((2,), optimizer="SGD", epochs=1).fit(X, y)  # type: ignore[arg-type]  # the spelling is the test


def test_divergence_after_a_first_cost_below_1_names_that_cost() -> None:
    # y = x, fitted from w = 0.9 at 3x the stable rate: the error triples each epoch, from a cost of 0.01
    X = np.array([[1.0, -1.0]])
    params = {"W1": np.array([[0.9]]), "b1": np.zeros((1, 1))}
    Y = X.copy()
    first = train(X, Y, params, activations=("linear",), loss="mean_squared_error", epochs=1, learning_rate=2.0).history[0].cost
    assert first < 1
    expected = f"more than 10000 times 1 (the first epoch's cost, {first:.4g}, counts as 1); try a smaller learning rate"
    with pytest.raises(TrainingDivergedError, match=re.escape(expected)):
        train(X, Y, params, activations=("linear",), loss="mean_squared_error", epochs=30, learning_rate=2.0)
