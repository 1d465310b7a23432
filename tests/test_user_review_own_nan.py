"""User review: a NaN made by a backward pass of one's own is named, not blamed on the learning rate.

``train`` named an activation of one's own whose forward pass, or a loss whose cost, made NaN
of moderate inputs. One whose backward pass did (a derivative of softsign written as
``(A / Z) ** 2``, which is ``1 / (1 + |z|) ** 2`` everywhere but at ``Z = 0`` exactly, where it
is 0/0; ``check_activation``, on random ``Z``, passes it) kept the forward finite and made the
gradients, then the parameters, NaN: the end of the epoch found them NaN ("W1 holds NaN ...;
try a smaller learning rate"), or, with mini-batches, the next step's cost ("the cost is nan;
try a smaller learning rate"). A loss whose cost clips ``AL`` but whose gradient does not did
the same. ``train_rounds`` named no piece of one's own at all, forward or backward. Now each
is named, with its layer, wherever the NaN shows first; built-in pieces, and pieces of one's
own that are right, keep the learning-rate advice word for word.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
from distributed import Client

from functional_nn import ActivationFunction, LossFunction, TrainingDivergedError, adam, check_activation, check_loss, initialize_parameters, sgd, train
from functional_nn import distributed as dist
from functional_nn.types import FloatArray
from test_distributed import client, deadline  # noqa: F401  # fixtures: a LocalCluster of two threads, and a time limit


def _softsign(Z: FloatArray) -> FloatArray:
    A: FloatArray = Z / (1 + np.abs(Z))
    return A


def _softsign_backward_wrong(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    dZ: FloatArray = dA * (A / Z) ** 2  # 1 / (1 + |z|)^2 is (A / Z)^2, but for Z == 0: 0/0
    return dZ


def _softsign_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    dZ: FloatArray = dA / (1 + np.abs(Z)) ** 2
    return dZ


def _softsign_backward_in_place_wrong(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    dA *= (A / Z) ** 2
    return dA


def _log_unit(Z: FloatArray) -> FloatArray:
    A: FloatArray = np.log(1 + Z)  # log1p written by hand, and NaN below Z = -1
    return A


def _log_unit_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    dZ: FloatArray = dA / (1 + Z)
    return dZ


SOFTSIGN = ActivationFunction("softsign", _softsign, _softsign_backward_wrong, (-1.0, 1.0))
RIGHT_SOFTSIGN = ActivationFunction("softsign", _softsign, _softsign_backward, (-1.0, 1.0))
# its backward pass is right; the in-place one the backward kernel calls is the wrong one
SOFTSIGN_IN_PLACE = ActivationFunction("softsign_ip", _softsign, _softsign_backward, (-1.0, 1.0), _softsign_backward_in_place_wrong)
LOG_UNIT = ActivationFunction("log_unit", _log_unit, _log_unit_backward)


def _clipped_bce(AL: FloatArray, Y: FloatArray) -> float:
    P = np.clip(AL, 1e-7, 1 - 1e-7)
    return float(-np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P)))


def _unclipped_gradient(AL: FloatArray, Y: FloatArray) -> FloatArray:
    dAL: FloatArray = (AL - Y) / (AL * (1 - AL))  # the cost clips AL, the gradient does not: x/0 at AL == 1
    return dAL


MY_BCE = LossFunction("my_bce", _clipped_bce, _unclipped_gradient, probability_output=True, decision_threshold=0.5)

BACKWARD_NAMED = (
    "layer {l}'s activation '{name}' returned NaN or infinite values for finite Z (at Z = 0): its backward, not the "
    "learning rate (check_activation(record) checks it on random Z, which can miss a single point such as 0)"
)
LEARNING_RATE = "try a smaller learning rate (or check the data for extreme values)"


def _zero_columns(rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """Half the samples all zeros (a blank image, say): with biases at 0, the first step's Z is
    exactly 0 for them, in every layer whose input is 0 there too."""
    X = rng.normal(size=(2, 8))
    X[:, ::2] = 0.0
    return X, (X[:1] > 0).astype(np.float64)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_a_backward_pass_of_ones_own_that_gives_nan_is_named_at_the_end_of_the_epoch(rng: np.random.Generator) -> None:
    assert check_activation(SOFTSIGN) < 1e-7  # random Z: never exactly 0
    X, Y = _zero_columns(rng)
    params = initialize_parameters((2, 3, 1), rng)
    settings: dict[str, Any] = {"loss": "binary_cross_entropy", "epochs": 3, "learning_rate": 0.1}
    assert math.isfinite(train(X, Y, params, activations=("tanh", "sigmoid"), **settings).history[-1].cost)
    assert math.isfinite(train(X, Y, params, activations=(RIGHT_SOFTSIGN, "sigmoid"), **settings).history[-1].cost)
    expected = "training diverged at epoch 1: W1 holds NaN or infinite values after the last step; " + BACKWARD_NAMED.format(l=1, name="softsign")
    with pytest.raises(TrainingDivergedError, match=f"^{re.escape(expected)}$"):
        train(X, Y, params, activations=(SOFTSIGN, "sigmoid"), **settings)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_with_mini_batches_the_next_steps_nan_cost_names_the_backward_pass_and_its_layer(rng: np.random.Generator) -> None:
    assert check_activation(SOFTSIGN_IN_PLACE) < 1e-7
    X, Y = _zero_columns(rng)
    params = initialize_parameters((2, 3, 3, 1), rng)
    settings: dict[str, Any] = {"loss": "binary_cross_entropy", "epochs": 2, "optimizer": adam(0.01), "batch_size": 4}
    # layer 1's tanh keeps Z = 0 at 0, so layer 2's Z is 0 too: the NaN starts there, and reaches W1 on its way down
    named = BACKWARD_NAMED.format(l=2, name="softsign_ip")
    expected = r"^training diverged at epoch 1, step 2: the cost is nan; " + re.escape(named) + "$"
    with pytest.raises(TrainingDivergedError, match=expected):
        train(X, Y, params, activations=("tanh", SOFTSIGN_IN_PLACE, "sigmoid"), rng=np.random.default_rng(1), **settings)
    expected = "training diverged at epoch 1: W1 holds NaN or infinite values after the last step; " + named
    with pytest.raises(TrainingDivergedError, match=f"^{re.escape(expected)}$"):  # one batch: the epoch's end sees it
        train(X, Y, params, activations=("tanh", SOFTSIGN_IN_PLACE, "sigmoid"), **{**settings, "batch_size": None})


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_a_gradient_of_ones_own_loss_that_gives_nan_is_named(rng: np.random.Generator) -> None:
    assert check_loss(MY_BCE, shape=(1, 6)) < 1e-7
    X = (30 * rng.standard_normal((2, 16))).astype(np.float32)  # float32 sigmoids of such Z round to exactly 1
    Y = (X[0:1] > 0).astype(np.float32)
    params = initialize_parameters((2, 4, 1), rng, dtype=np.float32)
    settings: dict[str, Any] = {"activations": ("relu", "sigmoid"), "epochs": 3, "learning_rate": 1.0}
    assert math.isfinite(train(X, Y, params, loss="binary_cross_entropy", **settings).history[-1].cost)
    named = (
        r"loss 'my_bce' returned NaN or infinite values for finite outputs AL in \[[0-9.e-]+, 1\]: its gradient, not the "
        r"learning rate \(a division by AL or 1 - AL at exactly 0, say: check_loss\(record\) checks it on random AL\)$"
    )
    with pytest.raises(TrainingDivergedError, match=r"^training diverged at epoch 1: W1 holds NaN or infinite values after the last step; " + named):
        train(X, Y, params, loss=MY_BCE, **settings)
    with pytest.raises(TrainingDivergedError, match=r"^training diverged at epoch 1, step 2: the cost is nan; " + named):
        train(X, Y, params, loss=MY_BCE, batch_size=4, rng=np.random.default_rng(1), **settings)


@pytest.mark.parametrize("activation", ["tanh", RIGHT_SOFTSIGN], ids=["built-in", "right own"])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_run_that_diverges_keeps_the_learning_rate_advice(rng: np.random.Generator, activation: str | ActivationFunction) -> None:
    X, _ = _zero_columns(rng)
    params = initialize_parameters((2, 3, 1), rng)
    X32, params32 = X.astype(np.float32), {key: value.astype(np.float32) for key, value in params.items()}
    settings: dict[str, Any] = {"activations": (activation, "linear"), "loss": "mean_squared_error", "epochs": 2}
    huge = np.full((1, 8), 1e17, dtype=np.float32)  # its gradients overflow float32 once the learning rate multiplies them
    expected = "training diverged at epoch 1: W1 holds NaN or infinite values after the last step; try a smaller learning rate"
    with pytest.raises(TrainingDivergedError, match=f"^{re.escape(expected)}$"):
        train(X32, huge, params32, learning_rate=1e25, **settings)
    expected = f"training diverged at epoch 1, step 2: the cost is inf; {LEARNING_RATE}"
    with pytest.raises(TrainingDivergedError, match=f"^{re.escape(expected)}$"):
        train(X, 3 * X[:1] + 1, params, learning_rate=1e300, batch_size=4, rng=np.random.default_rng(1), **settings)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_train_rounds_and_sweep_name_the_piece_as_train_does(rng: np.random.Generator, client: Client) -> None:
    X, Y = _zero_columns(rng)
    params = initialize_parameters((2, 3, 1), rng)
    rounds: dict[str, Any] = {"loss": "binary_cross_entropy", "rounds": 3, "learning_rate": 0.1}
    named = BACKWARD_NAMED.format(l=1, name="softsign")
    for shards in (dist.split_shards(X, Y, 2), dist.place_shards(client, dist.split_shards(X, Y, 2))):
        expected = f"training diverged at round 1 on shard 0: the gradient sum dW1 holds NaN or infinite values; {named}"
        with pytest.raises(TrainingDivergedError, match=f"^{re.escape(expected)}$"):
            list(dist.train_rounds(shards, params, activations=(SOFTSIGN, "sigmoid"), **rounds))
        expected = f"training diverged at round 1 on shard 0: its cost is nan; {named}"  # its second local step's
        with pytest.raises(TrainingDivergedError, match=f"^{re.escape(expected)}$"):
            list(dist.train_rounds(shards, params, activations=(SOFTSIGN, "sigmoid"), local_steps=2, batch_size=2, **rounds))
        # a forward pass of one's own, which train named already: log(1 + Z) of Z below -1
        expected = (
            "training diverged at round 1 on shard 0: its cost is nan; layer 1's activation 'log_unit' returned NaN or "
            "infinite values for finite Z: its forward, not the learning rate (check_activation(record) checks it on random Z)"
        )
        with pytest.raises(TrainingDivergedError, match=f"^{re.escape(expected)}$"):
            list(dist.train_rounds(shards, {**params, "W1": 10 * params["W1"]}, activations=(LOG_UNIT, "sigmoid"), **rounds))
        # built-in pieces, and right ones of one's own, keep the learning-rate advice
        expected = f"training diverged at round 1 on shard 0: its cost is inf; {LEARNING_RATE}"
        for activation in ("tanh", RIGHT_SOFTSIGN):
            with pytest.raises(TrainingDivergedError, match=f"^{re.escape(expected)}$"):
                runaway = {**rounds, "loss": "mean_squared_error", "learning_rate": 1e300, "local_steps": 2, "batch_size": 2}
                list(dist.train_rounds(shards, params, activations=(activation, "linear"), **runaway))
    # a sweep's runs are train's, on the workers
    settings = dist.RunSettings((2, 3, 1), (SOFTSIGN, "sigmoid"), "binary_cross_entropy", sgd(0.1), 3, init="xavier")
    expected = "training diverged at epoch 1: W1 holds NaN or infinite values after the last step; " + named
    with pytest.raises(TrainingDivergedError, match=f"^{re.escape(expected)}\nin settings\\[0\\] \\(sweep\\)$"):  # and sweep's note
        dist.sweep([settings], X, Y, client=client)
