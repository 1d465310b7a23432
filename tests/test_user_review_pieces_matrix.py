"""A user's own activation and loss carried through the other features: found by a user review.

Three findings: a piece from a module the Dask workers cannot import, a piece that writes into
its arguments, and a piece that makes NaN of finite numbers (below).

A record whose functions live in the user's own module travels to Dask's workers by
reference, as the module's name. A worker that cannot import that module (a remote one, or
one started before the module was on the path) failed to read the task's message and died,
and the run failed in Dask's words, never naming the piece: a ``KeyError`` of a worker's
address, ``min() arg is an empty sequence``, "the Dask cluster ... has no workers (waited
60 s)", or a sweep's ``FutureCancelledError`` ("already forgotten"). The pieces are now
unpickled on every worker before any task is sent.
"""

from __future__ import annotations

import importlib
import math
import re
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import cloudpickle  # type: ignore[import-untyped]  # untyped; a dependency of Dask's
import numpy as np
import pytest
from distributed import Client

from functional_nn import (
    ActivationFunction,
    LossFunction,
    TrainingDivergedError,
    backward_propagation,
    check_loss,
    compute_cost,
    forward_propagation,
    initialize_parameters,
    train,
)
from functional_nn import distributed as dist
from functional_nn.data import one_hot
from functional_nn.optimizers import sgd
from functional_nn.types import FloatArray

MODULE = "user_pieces_matrix_review"
SOURCE = '''
import numpy as np
from functional_nn import ActivationFunction, LossFunction


def review_relu(Z):
    return np.maximum(Z, 0)


def review_relu_backward(dA, Z, A):
    return dA * (Z > 0)


def review_cross_entropy(AL, Y):
    return float(-np.sum(Y * np.log(np.clip(AL, 1e-12, 1))) / AL.shape[1])


def review_cross_entropy_gradient(AL, Y):
    return -Y / np.clip(AL, 1e-12, 1)


REVIEW_RELU = ActivationFunction("review_relu", review_relu, review_relu_backward, output_range=(0.0, np.inf))
REVIEW_CE = LossFunction("review_ce", review_cross_entropy, review_cross_entropy_gradient, probability_output=True)
'''


@pytest.fixture(scope="module")
def pieces_not_on_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, ModuleType]]:
    """A cluster of one worker process, and the user's module of pieces, which this process
    imports but the worker cannot: the module's folder joins the path after the worker started."""
    with dist.cluster_client(n_workers=1) as client:
        folder = tmp_path_factory.mktemp("user_module")
        (folder / f"{MODULE}.py").write_text(SOURCE)
        sys.path.insert(0, str(folder))
        try:
            yield client, importlib.import_module(MODULE)
        finally:
            sys.path.remove(str(folder))
            sys.modules.pop(MODULE, None)


def _data(rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    X = rng.standard_normal((2, 40))
    return X, one_hot((X[0] * X[1] > 0).astype(np.int64), 2)


def test_rounds_name_a_piece_the_workers_cannot_unpickle(
    pieces_not_on_workers: tuple[Client, ModuleType], rng: np.random.Generator
) -> None:
    client, module = pieces_not_on_workers
    X, Y = _data(rng)
    shards = dist.split_shards(X, Y, 2)
    start = initialize_parameters([2, 4, 2], rng)
    placed = dist.place_shards(client, shards)
    expected = (
        r"activations\[0\] 'review_relu' cannot be unpickled on worker tcp://127\.0\.0\.1:\d+: "
        rf"ModuleNotFoundError: No module named '{MODULE}'\..*register_pickle_by_value"
    )
    with pytest.raises(dist.WorkerEnvironmentError, match=expected):
        dist.train_rounds(placed, start, activations=(module.REVIEW_RELU, "softmax"), loss=module.REVIEW_CE, rounds=2, learning_rate=0.5)
    assert len(client.scheduler_info(n_workers=-1)["workers"]) == 1  # no worker died of it
    # the remedy the message names: the module sent by value, the rounds run, as the built-ins' in this process
    cloudpickle.register_pickle_by_value(module)
    try:
        there = list(dist.train_rounds(placed, start, activations=(module.REVIEW_RELU, "softmax"), loss=module.REVIEW_CE, rounds=2, learning_rate=0.5))[-1]
    finally:
        cloudpickle.unregister_pickle_by_value(module)
    here = list(dist.train_rounds(shards, start, activations=("relu", "softmax"), loss="categorical_cross_entropy", rounds=2, learning_rate=0.5))[-1]
    assert all(np.allclose(there.params[key], here.params[key], rtol=1e-12, atol=1e-15) for key in start)


def test_a_sweep_names_a_piece_the_workers_cannot_unpickle(
    pieces_not_on_workers: tuple[Client, ModuleType], rng: np.random.Generator
) -> None:
    client, module = pieces_not_on_workers
    X, Y = _data(rng)
    settings = [dist.RunSettings((2, 4, 2), (module.REVIEW_RELU, "softmax"), "categorical_cross_entropy", sgd(0.1), epochs=1)]
    expected = re.escape("settings[0].activations cannot be unpickled on worker tcp://127.0.0.1:") + rf"\d+: ModuleNotFoundError: No module named '{MODULE}'"
    with pytest.raises(dist.WorkerEnvironmentError, match=expected):
        dist.sweep(settings, X, Y, client=client)
    assert len(client.scheduler_info(n_workers=-1)["workers"]) == 1


# --------------------------------------------------------------------------------------------
# A piece of one's own that writes into its arguments. check_activation and check_loss refuse
# it, but train, compute_cost, backward_propagation and forward_propagation handed it the
# arrays themselves: a cost that scaled its targets in place halved the caller's Y at each
# full-batch epoch and trained on them, silently; a gradient written into AL, or a forward
# into the cache's Z, gave wrong gradients. Now they get read-only views, and a write is named.


def _halving_cost(AL: FloatArray, Y: FloatArray) -> float:
    """Label smoothing gone wrong: the targets scaled where they lie."""
    Y *= 0.5
    return float(np.sum((AL - Y) ** 2) / AL.shape[1])


def _squares_cost(AL: FloatArray, Y: FloatArray) -> float:
    return float(np.sum((AL - Y) ** 2) / AL.shape[1])


def _gradient_into_AL(AL: FloatArray, Y: FloatArray) -> FloatArray:
    AL -= Y
    AL *= 2
    return AL


def _mse_gradient(AL: FloatArray, Y: FloatArray) -> FloatArray:
    gradient: FloatArray = 2 * (AL - Y)
    return gradient


def _doubling_tanh(Z: FloatArray) -> FloatArray:
    Z *= 2
    A: FloatArray = np.tanh(Z)
    return A


def _tanh_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    dZ: FloatArray = dA * (1 - A * A)
    return dZ


HALVING = LossFunction("halving_mse", _halving_cost, _mse_gradient)
INTO_AL = LossFunction("into_al_mse", _squares_cost, _gradient_into_AL)
DOUBLING = ActivationFunction("doubling_tanh", _doubling_tanh, _tanh_backward, output_range=(-1.0, 1.0))
WRITES = ", which belong to the caller and the network's caches; work on a copy"


def test_train_refuses_a_cost_that_writes_into_the_callers_targets(rng: np.random.Generator) -> None:
    X, Y = _data(rng)
    given = Y.copy()
    params = initialize_parameters([2, 4, 2], rng)
    message = re.escape(f"loss 'halving_mse': cost writes into one of its arguments (output array is read-only){WRITES}")
    with pytest.raises(ValueError, match=message):
        train(X, Y, params, activations=("tanh", "sigmoid"), loss=HALVING, epochs=3, learning_rate=0.5)
    np.testing.assert_array_equal(Y, given)  # was given / 8 after three epochs
    AL, _ = forward_propagation(X, params, ("tanh", "sigmoid"))
    with pytest.raises(ValueError, match=message):
        compute_cost(AL, Y, HALVING)
    np.testing.assert_array_equal(Y, given)


def test_a_gradient_into_AL_and_a_forward_into_Z_are_named(rng: np.random.Generator) -> None:
    X, Y = _data(rng)
    params = initialize_parameters([2, 4, 2], rng)
    AL, caches = forward_propagation(X, params, ("tanh", "sigmoid"))
    output = AL.copy()
    with pytest.raises(ValueError, match=re.escape(f"loss 'into_al_mse': gradient writes into one of its arguments (output array is read-only){WRITES}")):
        backward_propagation(AL, Y, caches, INTO_AL)
    np.testing.assert_array_equal(AL, output)
    with pytest.raises(ValueError, match=re.escape(f"layer 1's activation 'doubling_tanh': forward writes into one of its arguments (output array is read-only){WRITES}")):
        train(X, Y, params, activations=(DOUBLING, "sigmoid"), loss="mean_squared_error", epochs=1, learning_rate=0.5)


# --------------------------------------------------------------------------------------------
# A piece of one's own that makes NaN of finite numbers. Every such run was told "training
# diverged ...: the cost is nan; try a smaller learning rate", which only delays it: an
# unclipped binary cross-entropy (it passes check_loss, whose outputs stay in (0.05, 0.95))
# meets a float32 sigmoid output of exactly 1 sooner or later (epoch 4, 37, 181 at the rates
# 2, 0.5, 0.1 here), where the built-in loss trains on. The piece is named now.


def _unclipped_bce(AL: FloatArray, Y: FloatArray) -> float:
    return float(-np.mean(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)))


def _bce_gradient(AL: FloatArray, Y: FloatArray) -> FloatArray:
    gradient: FloatArray = -Y / AL + (1 - Y) / (1 - AL)
    return gradient


def _log_unit(Z: FloatArray) -> FloatArray:
    """log(1 + z): NaN below z = -1, which its author did not think of."""
    A: FloatArray = np.log1p(Z)
    return A


def _log_unit_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    dZ: FloatArray = dA / (1 + Z)
    return dZ


UNCLIPPED = LossFunction("unclipped_bce", _unclipped_bce, _bce_gradient, probability_output=True, decision_threshold=0.5)
LOG_UNIT = ActivationFunction("log_unit", _log_unit, _log_unit_backward)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning")  # as a script runs
def test_a_cost_of_ones_own_that_gives_nan_is_named_not_the_learning_rate(rng: np.random.Generator) -> None:
    assert check_loss(UNCLIPPED, shape=(1, 6)) < 1e-7
    X = (3 * rng.standard_normal((2, 64))).astype(np.float32)
    Y = (X[0:1] + X[1:2] > 0).astype(np.float32)
    params = initialize_parameters([2, 8, 1], rng, dtype=np.float32)
    settings: dict[str, Any] = {"activations": ("relu", "sigmoid"), "epochs": 300, "learning_rate": 2.0}
    assert math.isfinite(train(X, Y, params, loss="binary_cross_entropy", **settings).history[-1].cost)
    expected = (
        r"training diverged at epoch \d+, step 1: the cost is nan; loss 'unclipped_bce' gave it for finite outputs AL in "
        r"\[[0-9.e-]+, 1\]: its cost, not the learning rate"
    )
    with pytest.raises(TrainingDivergedError, match=expected):
        train(X, Y, params, loss=UNCLIPPED, **settings)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_an_activation_of_ones_own_that_gives_nan_is_named(rng: np.random.Generator) -> None:
    X, Y = _data(rng)
    params = initialize_parameters([2, 8, 2], rng)
    expected = (
        "training diverged at epoch 1, step 1: the cost is nan; layer 1's activation 'log_unit' returned NaN or infinite "
        "values for finite Z: its forward, not the learning rate (check_activation(record) checks it on random Z)"
    )
    with pytest.raises(TrainingDivergedError, match=re.escape(expected)):
        train(X, Y, params, activations=(LOG_UNIT, "softmax"), loss="categorical_cross_entropy", epochs=2, learning_rate=0.1)
