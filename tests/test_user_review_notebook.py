"""Interactive use, as a learner in a notebook: what a cell shows when its last line is a
record of the library. NumPy prints an array of up to 1,000 entries in full, one row per
line, so a record holding a network's biases and moments printed thousands of lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from functional_nn import (
    adam,
    forward_propagation,
    initialize_parameters,
    load_parameters,
    one_hot,
    save_parameters,
    train,
)


def test_a_train_result_shows_its_arrays_as_dtype_and_shape_on_one_line(rng: np.random.Generator) -> None:
    """``train(...)`` as a cell's last line: 2,437 lines for the README's 784-512-256-10
    network after three epochs of Adam (each (512, 1) bias and moment in full)."""
    params = initialize_parameters([784, 512, 10], rng, dtype=np.float32)
    X = rng.random((784, 8), dtype=np.float32)
    Y = one_hot(rng.integers(0, 10, 8), 10, dtype=np.float32)
    result = train(X, Y, params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=1, optimizer=adam(1e-3))
    text = repr(result)
    assert "\n" not in text
    assert text.startswith("TrainState(epoch=1, params={'W1': <float32 array of shape (512, 784)>, 'b1': <float32 array of shape (512, 1)>")
    assert "optimizer_state=OptimizerState(step=1, slots={'m': {'W1': <float32 array of shape (512, 784)>" in text
    assert f"history=({result.history[0]!r},), best_params=None" in text
    assert repr(result.optimizer_state) in text


def test_a_long_history_shows_its_first_and_last_epochs(rng: np.random.Generator) -> None:
    params = initialize_parameters([2, 3, 1], rng)
    X = rng.random((2, 6))
    Y = (X[:1] > 0.5).astype(np.float64)
    result = train(X, Y, params, activations=("tanh", "sigmoid"), loss="binary_cross_entropy", epochs=10, learning_rate=0.1)
    first, second, third, *_, ninth, tenth = result.history
    assert f"history=({first!r}, {second!r}, {third!r}, ... 5 more ..., {ninth!r}, {tenth!r})" in repr(result)


def test_loaded_parameters_and_caches_show_their_arrays_as_dtype_and_shape(rng: np.random.Generator, tmp_path: Path) -> None:
    params = initialize_parameters([784, 512, 10], rng, dtype=np.float32)
    save_parameters(tmp_path / "params.npz", params, metadata={"activations": ["relu", "softmax"]})
    text = repr(load_parameters(tmp_path / "params.npz"))
    assert "\n" not in text
    assert text.startswith("SavedParameters(params={'W1': <float32 array of shape (512, 784)>, 'b1': <float32 array of shape (512, 1)>")
    _, caches = forward_propagation(rng.random((784, 2), dtype=np.float32), params, ("relu", "softmax"))
    text = repr(caches[0])
    assert "\n" not in text
    assert text.startswith("LayerCache(A_prev=<float32 array of shape (784, 2)>, W=<float32 array of shape (512, 784)>")
