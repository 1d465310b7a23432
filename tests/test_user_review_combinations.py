"""Features used together (found by a user review of combinations): a network with two
activations of one's own that share a name, where a parameters file or a checkpoint keeps
activations by name and would take one for the other."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from functional_nn import (
    Activation,
    ActivationFunction,
    initialize_parameters,
    load_parameters,
    one_hot,
    predict_proba,
    save_parameters,
    train,
)
from functional_nn.distributed import split_shards, train_rounds
from functional_nn.types import FloatArray


def _mish(Z: FloatArray) -> FloatArray:
    A: FloatArray = Z * np.tanh(np.logaddexp(0, Z))
    return A


def _mish_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    t = np.tanh(np.logaddexp(0, Z))
    sigma = 0.5 * (1 + np.tanh(Z / 2))
    dZ: FloatArray = dA * (t + Z * sigma * (1 - t * t))
    return dZ


def _scaled_tanh(Z: FloatArray) -> FloatArray:
    A: FloatArray = 2 * np.tanh(Z)
    return A


def _scaled_tanh_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    dZ: FloatArray = dA * (2 - A * A / 2)
    return dZ


MISH = ActivationFunction("mish", _mish, _mish_backward, output_range=(-0.31, np.inf))
# Another function under the same name: a second version of one's "mish", say.
OTHER = ActivationFunction("mish", _scaled_tanh, _scaled_tanh_backward, output_range=(-2.0, 2.0))
ACTIVATIONS: tuple[Activation | ActivationFunction, ...] = (MISH, OTHER, "softmax")
NAMED_TWICE = r"activations\[0\] and activations\[1\] are different activations both named 'mish'"


def _network(rng: np.random.Generator) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
    X = rng.standard_normal((2, 12)).astype(np.float32)
    Y = one_hot(rng.integers(0, 2, 12), 2, dtype=np.float32)
    return X, Y, initialize_parameters([2, 3, 3, 2], rng, dtype=np.float32)


def test_save_parameters_refuses_two_activations_under_one_name(rng: np.random.Generator, tmp_path: Path) -> None:
    X, _, params = _network(rng)
    # The file keeps names: loaded, both layers would be MISH, and the predictions another network's.
    with pytest.raises(ValueError, match=r"metadata\['activations'\]\[0\] and metadata\['activations'\]\[1\] are different activations both named 'mish'"):
        save_parameters(tmp_path / "params.npz", params, metadata={"activations": ACTIVATIONS})
    assert not (tmp_path / "params.npz").exists()
    # one record used in two layers is one activation: saved, loaded and predicting as trained
    same: tuple[Activation | ActivationFunction, ...] = (MISH, MISH, "softmax")
    path = save_parameters(tmp_path / "same.npz", params, metadata={"activations": same})
    saved = load_parameters(path, custom_activations={"mish": MISH})
    assert np.array_equal(predict_proba(X, saved.params, saved.activations), predict_proba(X, params, same))


def test_train_with_checkpoints_refuses_two_activations_under_one_name(rng: np.random.Generator, tmp_path: Path) -> None:
    X, Y, params = _network(rng)
    with pytest.raises(ValueError, match=NAMED_TWICE + r": a checkpoint keeps activations by name"):
        train(X, Y, params, activations=ACTIVATIONS, loss="categorical_cross_entropy", epochs=1, learning_rate=0.1,
              checkpoint_dir=tmp_path / "run")  # fmt: skip
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())
    # without checkpoints nothing is kept by name: the network trains
    result = train(X, Y, params, activations=ACTIVATIONS, loss="categorical_cross_entropy", epochs=1, learning_rate=0.1)
    assert result.params["W1"].dtype == np.float32


def test_train_rounds_with_checkpoints_refuses_two_activations_under_one_name(rng: np.random.Generator, tmp_path: Path) -> None:
    X, Y, params = _network(rng)
    with pytest.raises(ValueError, match=NAMED_TWICE + r": a checkpoint keeps activations by name"):
        train_rounds(split_shards(X, Y, 2), params, activations=ACTIVATIONS, loss="categorical_cross_entropy", rounds=1,
                     learning_rate=0.1, checkpoint_dir=tmp_path / "rounds")  # fmt: skip
