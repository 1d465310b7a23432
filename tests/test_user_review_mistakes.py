"""A learner's classic mistakes that did not crash: the output of one forward pass given to
the backward pass of another batch's caches (or the targets given in its place), which made
gradients of no cost at all; the hinge loss after a sigmoid or ReLU output, whose epochs
scored every sample class 1; and three errors whose advice did not fit the mistake."""

from __future__ import annotations

import numpy as np
import pytest

from functional_nn import (
    accuracy,
    backward_propagation,
    forward_propagation,
    initialize_parameters,
    one_hot,
    predict,
    scale_pixels,
    train,
    train_epochs,
)
from functional_nn.data.preparation import train_dev_split
from functional_nn.types import Activation

ACTIVATIONS: tuple[Activation, ...] = ("relu", "sigmoid")
NOT_ITS_OUTPUT = (
    r"^AL is not the output of the forward pass that made these caches: \d+ of its 4 column\(s\) differ from "
    r"caches\[-1\]\.A, .*; pass backward_propagation the AL that forward_propagation returned with these caches "
    r"\(caches kept from another batch, or AL and Y swapped\?\)$"
)


def test_the_caches_of_one_batch_with_the_output_of_another_are_refused(rng: np.random.Generator) -> None:
    params = initialize_parameters([3, 4, 1], rng)
    X = rng.standard_normal((3, 8))
    Y = (X[0:1] > 0).astype(np.float64)
    AL_1, caches_1 = forward_propagation(X[:, :4], params, ACTIVATIONS)
    AL_2, caches_2 = forward_propagation(X[:, 4:], params, ACTIVATIONS)
    # were gradients mixing batch 2's outputs with batch 1's inputs: 0.2 to 0.4 off in dW1, db1, dW2
    with pytest.raises(ValueError, match=NOT_ITS_OUTPUT):
        backward_propagation(AL_2, Y[:, 4:], caches_1, "binary_cross_entropy")
    # the right pairs, and a copy of the right output, still give the gradients
    grads = backward_propagation(AL_2, Y[:, 4:], caches_2, "binary_cross_entropy")
    copied = backward_propagation(AL_2.copy(), Y[:, 4:], caches_2, "binary_cross_entropy")
    for key, value in grads.items():
        np.testing.assert_array_equal(copied[key], value)
    np.testing.assert_allclose(grads["db2"], np.mean(AL_2 - Y[:, 4:], axis=1, keepdims=True), rtol=1e-12)
    assert backward_propagation(AL_1, Y[:, :4], caches_1, "binary_cross_entropy")["dW1"].shape == (4, 3)


def test_the_targets_given_for_the_output_are_refused(rng: np.random.Generator) -> None:
    params = initialize_parameters([3, 4, 1], rng)
    X = rng.standard_normal((3, 4))
    Y = (X[0:1] > 0).astype(np.float64)
    AL, caches = forward_propagation(X, params, ACTIVATIONS)
    with pytest.raises(ValueError, match=NOT_ITS_OUTPUT):  # were the gradients with their signs flipped
        backward_propagation(Y, AL, caches, "binary_cross_entropy")


def test_the_hinge_loss_after_one_output_unit_that_is_never_negative_is_refused(rng: np.random.Generator) -> None:
    X = rng.standard_normal((2, 40))
    Y = np.where(X[0:1] + X[1:2] > 0, 1.0, -1.0)
    params = initialize_parameters([2, 4, 1], rng)
    outputs: tuple[Activation, ...] = ("sigmoid", "relu", "softplus")
    for output in outputs:
        expected = (
            rf"^loss 'hinge' calls a sample class 1 where the one output unit is >= 0, but the output activation "
            rf"'{output}' ranges over \[0\.0, .*\]: every sample would be class 1 whatever the network learns; use "
            r"'linear' or 'tanh' as the last activation with it \(or 'sigmoid' with 'binary_cross_entropy' and 0/1 labels\)$"
        )
        # was trained, each epoch's accuracy the share of +1 labels (0.465 in 200 samples) while predict
        # read 0.99 off the same sigmoid network
        with pytest.raises(ValueError, match=expected):
            train(X, Y, params, activations=("tanh", output), loss="hinge", epochs=1, learning_rate=0.1)
        with pytest.raises(ValueError, match=expected):  # when called, before the first epoch is asked for
            train_epochs(X, Y, params, activations=("tanh", output), loss="hinge", epochs=1, learning_rate=0.1)
    # a linear output is scored by the hinge's own rule, a >= 0 (train's accuracy: the pass before the step)
    result = train(X, Y, params, activations=("tanh", "linear"), loss="hinge", epochs=3, learning_rate=0.1)
    before = train(X, Y, params, activations=("tanh", "linear"), loss="hinge", epochs=2, learning_rate=0.1)
    AL_before, _ = forward_propagation(X, before.params, ("tanh", "linear"))
    assert result.history[-1].accuracy == float(np.mean((AL_before[0] >= 0) == (Y[0] > 0)))
    # several units choose by the largest output, whatever its range: not refused
    two = initialize_parameters([2, 4, 2], rng)
    labels = (Y[0] > 0).astype(np.int64)
    assert train(X, one_hot(labels, 2), two, activations=("tanh", "softmax"), loss="hinge", epochs=1, learning_rate=0.1).epoch == 1


def test_labels_in_a_row_or_a_column_are_told_to_ravel(rng: np.random.Generator) -> None:
    y = rng.integers(0, 3, 6)
    X = rng.standard_normal((2, 6))
    # was "(for one-hot columns pass Y.argmax(axis=0))": of a row of labels that is all zeros, silently
    with pytest.raises(ValueError, match=r"^labels must be 1-D with one label per sample, got shape \(1, 6\) \(a row of labels\? labels\.ravel\(\) makes it 1-D\)$"):
        one_hot(y[None], 3)
    with pytest.raises(ValueError, match=r"^y must be 1-D with one label per sample, got shape \(6, 1\) \(a column of labels\? y\.ravel\(\) makes it 1-D\)$"):
        train_dev_split(X, y[:, None], 2, rng)
    with pytest.raises(ValueError, match=r"got shape \(3, 6\) \(for one-hot columns pass Y\.argmax\(axis=0\)\)$"):
        accuracy(y, one_hot(y, 3).astype(np.int64))
    assert one_hot(y[None].ravel(), 3).shape == (3, 6)


def test_targets_of_one_dimension_are_told_the_layout(rng: np.random.Generator) -> None:
    params = initialize_parameters([3, 4, 1], rng)
    X = rng.standard_normal((3, 5))
    y = (X[0] > 0).astype(np.float64)
    with pytest.raises(
        ValueError,
        match=r"^Y must be 2-D, got shape \(5,\): targets are \(n_L, m\), a column per sample; Y\.reshape\(1, -1\) for one output unit, one_hot\(labels, K\) for K classes$",
    ):
        train(X, y, params, activations=ACTIVATIONS, loss="binary_cross_entropy", epochs=1, learning_rate=0.1)
    state = train(X, y.reshape(1, -1), params, activations=ACTIVATIONS, loss="binary_cross_entropy", epochs=1, learning_rate=0.1)
    assert predict(X, state.params, ACTIVATIONS).shape == (5,)


def test_float_pixels_in_0_to_255_are_not_called_scaled() -> None:
    pixels = np.array([[0.0, 128.0], [255.0, 17.0]])
    with pytest.raises(
        TypeError,
        match=r"^pixels must hold integers in 0\.\.255, got dtype float64 holding values above 1 \(pixels / 255 scales floats in 0\.\.255; pixels\.astype\(np\.uint8\) makes whole ones integers\)$",
    ):
        scale_pixels(pixels)  # the mistake under test (np.array of a list is typed Any)
    with pytest.raises(TypeError, match=r"got dtype float64 \(already scaled\?\)$"):
        scale_pixels(pixels / 255)  # type: ignore[arg-type]  # the mistake under test
    np.testing.assert_array_equal(scale_pixels(pixels.astype(np.uint8)), pixels / 255)
