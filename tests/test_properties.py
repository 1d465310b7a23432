"""Properties across random architectures, activations, losses, dtypes and batch sizes."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import get_args

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from functional_nn import (
    backward_propagation,
    forward_propagation,
    gradient_check,
    initialize_parameters,
    one_hot,
    predict,
    predict_proba,
    train,
    update_parameters,
)
from functional_nn.activations import ACTIVATIONS
from functional_nn.losses import LOSSES
from functional_nn.propagation import check_loss_pairing
from functional_nn.serialization import load_parameters, save_parameters
from functional_nn.types import Activation, FloatArray, FloatDType, Loss

ACTIVATION_NAMES: tuple[Activation, ...] = get_args(Activation)
LOSS_NAMES: tuple[Loss, ...] = get_args(Loss)
DTYPES: tuple[FloatDType, ...] = (np.float32, np.float64)


def allowed(output: Activation, loss: Loss) -> bool:
    try:
        check_loss_pairing(LOSSES[loss], ACTIVATIONS[output])
    except ValueError:
        return False
    return True


@st.composite
def networks(draw: st.DrawFn, max_width: int = 32) -> tuple[list[int], tuple[Activation, ...], Loss, int]:
    """Layer sizes (1 to 4 layers, widths 1 to max_width), activations, a compatible loss, a seed."""
    L = draw(st.integers(1, 4))
    sizes = draw(st.lists(st.integers(1, max_width), min_size=L + 1, max_size=L + 1))
    loss = draw(st.sampled_from(LOSS_NAMES))
    outputs = [a for a in ACTIVATION_NAMES if allowed(a, loss)]
    output = draw(st.sampled_from(outputs))
    hidden = draw(st.lists(st.sampled_from(ACTIVATION_NAMES), min_size=L - 1, max_size=L - 1))
    for l, activation in enumerate((*hidden, output), start=1):
        if activation == "softmax" and sizes[l] == 1:  # a softmax over one unit is always 1: train refuses it
            sizes[l] = 2
    if sizes[-1] == 1 and loss == "hinge" and ACTIVATIONS[output].output_range[0] >= 0:  # all class 1: train refuses it
        sizes[-1] = 2
    return sizes, (*hidden, output), loss, draw(st.integers(0, 2**32 - 1))


def make_data(sizes: list[int], loss: Loss, m: int, rng: np.random.Generator, dtype: FloatDType) -> tuple[FloatArray, FloatArray]:
    X = rng.standard_normal((sizes[0], m)).astype(dtype)
    n_out = sizes[-1]
    # Several units take one-hot columns under the hinge loss too (one-vs-rest): with 0/1
    # labels drawn per unit, a column of all 0s or all 1s after a softmax makes the hinge
    # loss constant (the outputs sum to 1), its gradient 0, and a relative check meaningless.
    if loss == "categorical_cross_entropy" or (loss == "hinge" and n_out > 1):
        Y = one_hot(rng.integers(0, n_out, m), n_out, dtype=dtype)
    elif loss in ("binary_cross_entropy", "hinge"):  # 0/1 labels: the hinge loss takes labels too
        Y = (rng.random((n_out, m)) < 0.5).astype(dtype)
    else:
        Y = rng.standard_normal((n_out, m)).astype(dtype)
    return X, Y


@settings(max_examples=40, deadline=None)
@given(networks(), st.sampled_from(DTYPES), st.integers(1, 9))
def test_shapes_and_dtypes_of_params_caches_and_grads(
    network: tuple[list[int], tuple[Activation, ...], Loss, int], dtype: FloatDType, m: int
) -> None:
    sizes, activations, loss, seed = network
    rng = np.random.default_rng(seed)
    params = initialize_parameters(sizes, rng, dtype=dtype)
    X, Y = make_data(sizes, loss, m, rng, dtype)
    AL, caches = forward_propagation(X, params, activations)
    assert AL.shape == (sizes[-1], m) and AL.dtype == dtype and np.isfinite(AL).all()
    assert len(caches) == len(sizes) - 1
    for l, cache in enumerate(caches, start=1):
        assert cache.A_prev.shape == (sizes[l - 1], m)
        assert cache.Z.shape == cache.A.shape == (sizes[l], m)
        assert cache.Z.dtype == cache.A.dtype == dtype
    grads = backward_propagation(AL, Y, caches, loss)
    assert set(grads) == {"d" + key for key in params}
    for key, value in params.items():
        assert grads["d" + key].shape == value.shape and grads["d" + key].dtype == dtype


@settings(max_examples=30, deadline=None)
@given(networks(max_width=6), st.integers(1, 6))
def test_gradient_check_in_float64(network: tuple[list[int], tuple[Activation, ...], Loss, int], m: int) -> None:
    sizes, activations, loss, seed = network
    rng = np.random.default_rng(seed)
    params = initialize_parameters(sizes, rng, scheme="xavier")
    # Random biases keep every Z off relu's kink at exactly 0, where no derivative exists:
    # with zero biases a dead unit feeds an exact 0 forward.
    params = {k: v + 0.1 * rng.standard_normal(v.shape) if k[0] == "b" else v for k, v in params.items()}
    X, Y = make_data(sizes, loss, m, rng, np.float64)
    assert gradient_check(X, Y, params, activations, loss, epsilon=1e-6) < 1e-5


@settings(max_examples=25, deadline=None)
@given(networks(), st.sampled_from(DTYPES))
def test_zero_gradients_leave_params_equal(network: tuple[list[int], tuple[Activation, ...], Loss, int], dtype: FloatDType) -> None:
    sizes, _, _, seed = network
    params = initialize_parameters(sizes, np.random.default_rng(seed), dtype=dtype)
    updated = update_parameters(params, {"d" + k: np.zeros_like(v) for k, v in params.items()}, 0.3)
    for key in params:
        np.testing.assert_array_equal(updated[key], params[key])


@settings(max_examples=25, deadline=None)
@given(networks(), st.sampled_from(DTYPES), st.integers(1, 20), st.one_of(st.none(), st.integers(1, 8)))
def test_training_never_mutates_and_zero_epochs_change_nothing(
    network: tuple[list[int], tuple[Activation, ...], Loss, int], dtype: FloatDType, m: int, batch_size: int | None
) -> None:
    sizes, activations, loss, seed = network
    rng = np.random.default_rng(seed)
    params = initialize_parameters(sizes, rng, dtype=dtype)
    X, Y = make_data(sizes, loss, m, rng, dtype)
    for array in (*params.values(), X, Y):
        array.flags.writeable = False
    unchanged = train(X, Y, params, activations=activations, loss=loss, epochs=0, learning_rate=0.01, batch_size=batch_size, rng=rng)
    for key in params:
        assert unchanged.params[key].tobytes() == params[key].tobytes()
    result = train(X, Y, params, activations=activations, loss=loss, epochs=2, learning_rate=0.01, batch_size=batch_size, rng=rng)
    assert result.epoch == 2 and len(result.history) == 2
    assert all(result.params[key].dtype == dtype for key in params)


@settings(max_examples=30, deadline=None)
@given(networks(), st.integers(1, 12))
def test_predict_agrees_with_predict_proba(network: tuple[list[int], tuple[Activation, ...], Loss, int], m: int) -> None:
    sizes, activations, _, seed = network
    rng = np.random.default_rng(seed)
    if sizes[-1] == 1:
        activations = (*activations[:-1], "sigmoid")
    params = initialize_parameters(sizes, rng)
    X = rng.standard_normal((sizes[0], m))
    proba = predict_proba(X, params, activations)
    expected = (proba[0] >= 0.5).astype(int) if sizes[-1] == 1 else proba.argmax(axis=0)
    np.testing.assert_array_equal(predict(X, params, activations), expected)


@given(st.integers(1, 12).flatmap(lambda k: st.tuples(st.just(k), st.lists(st.integers(0, k - 1), max_size=30))))
def test_one_hot_round_trips(case: tuple[int, list[int]]) -> None:
    num_classes, labels = case
    y = np.array(labels, dtype=np.int64)
    Y = one_hot(y, num_classes)
    assert Y.shape == (num_classes, len(labels))
    np.testing.assert_array_equal(Y.sum(axis=0), 1)
    np.testing.assert_array_equal(Y.argmax(axis=0), y)


@settings(max_examples=20, deadline=None)
@given(networks(), st.sampled_from(DTYPES))
def test_save_and_load_round_trip_bitwise(network: tuple[list[int], tuple[Activation, ...], Loss, int], dtype: FloatDType) -> None:
    sizes, activations, loss, seed = network
    params = initialize_parameters(sizes, np.random.default_rng(seed), dtype=dtype)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "params.npz"
        save_parameters(path, params, metadata={"activations": list(activations), "loss": loss})
        loaded = load_parameters(path)
    assert list(loaded.params) == list(params)
    for key, value in params.items():
        assert loaded.params[key].dtype == dtype and loaded.params[key].tobytes() == value.tobytes()
    assert loaded.metadata["activations"] == list(activations) and loaded.metadata["layer_sizes"] == sizes
