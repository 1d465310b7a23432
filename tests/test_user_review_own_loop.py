"""User review: composing one's own training loop from the public pure functions.

A hand-written loop over ``minibatches`` reproduces ``train`` bit for bit; the helper must
refuse what ``train`` refuses, not hand the loop an epoch of no batches; dropout asked of a
network with no hidden layer is refused, not ignored; a schedule given to ``update_parameters``
is told how a schedule is followed."""

from __future__ import annotations

import re

import numpy as np
import pytest

from functional_nn import forward_propagation, initialize_parameters, minibatches, one_hot, train, update_parameters
from functional_nn.schedules import cosine_decay


def test_minibatches_refuses_data_with_no_samples_as_train_does(rng: np.random.Generator) -> None:
    X = rng.standard_normal((4, 0))
    Y = one_hot(np.zeros(0, dtype=np.int64), 3)
    # before: no error, and iterating yielded nothing, so a hand-written epoch made no update
    with pytest.raises(ValueError, match=r"^X has no samples: shape \(4, 0\) has m = 0 columns$"):
        minibatches(X, Y, 8, rng)


def test_minibatches_still_yields_every_column_of_a_single_sample(rng: np.random.Generator) -> None:
    X = rng.standard_normal((4, 1))
    Y = one_hot(np.array([2]), 3)
    batches = list(minibatches(X, Y, 8, rng))
    assert len(batches) == 1
    np.testing.assert_array_equal(batches[0][0], X)
    np.testing.assert_array_equal(batches[0][1], Y)
    np.testing.assert_array_equal(batches[0][2], [0])


def test_a_scalar_keep_prob_below_1_on_a_network_with_no_hidden_layer_is_refused(rng: np.random.Generator) -> None:
    params = initialize_parameters([3, 2], rng)
    X, Y = rng.standard_normal((3, 5)), one_hot(np.array([0, 1, 1, 0, 1]), 2)
    message = "keep_probs=0.5 drops hidden units, but the network has no hidden layer: pass None (no dropout)"
    # before: both ran without dropping anything
    with pytest.raises(ValueError, match=re.escape(message)):
        forward_propagation(X, params, ["softmax"], keep_probs=0.5, rng=rng)
    with pytest.raises(ValueError, match=re.escape(message)):
        train(X, Y, params, activations=["softmax"], loss="categorical_cross_entropy", epochs=1, learning_rate=0.1, keep_probs=0.5, rng=rng)
    AL, _ = forward_propagation(X, params, ["softmax"], keep_probs=1.0, rng=rng)  # keeping every unit: fine
    Z = params["W1"] @ X + params["b1"]
    np.testing.assert_allclose(AL, np.exp(Z) / np.exp(Z).sum(axis=0), rtol=1e-12)


def test_update_parameters_given_a_schedule_says_how_one_is_followed(rng: np.random.Generator) -> None:
    params = initialize_parameters([3, 2], rng)
    grads = {"dW1": np.ones((2, 3)), "db1": np.ones((2, 1))}
    with pytest.raises(TypeError, match=re.escape("learning_rate must be a number, got the schedule cosine_decay: pass schedule(step)")):
        update_parameters(params, grads, cosine_decay(0.1, decay_steps=10))  # type: ignore[arg-type]
    schedule = cosine_decay(0.1, decay_steps=10)
    stepped = update_parameters(params, grads, schedule(0))  # the first step's rate, the peak
    np.testing.assert_allclose(stepped["W1"], params["W1"] - 0.1, rtol=1e-12)
