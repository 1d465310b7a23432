"""A user's own activation and loss taken where the library goes: what a wrong or
untravelled piece of one's own is told (found by a user review of custom pieces)."""

from __future__ import annotations

import functools
import json
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from distributed import Client

from functional_nn import (
    ActivationFunction,
    LossFunction,
    compute_cost,
    forward_propagation,
    gradient_check,
    initialize_parameters,
    one_hot,
    save_parameters,
    train,
)
from functional_nn import distributed as dist
from functional_nn.optimizers import sgd
from functional_nn.types import FloatArray
from test_distributed import client  # noqa: F401  # fixture
from test_scripts_mnist import _kaggle_csv

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import inspect_network  # noqa: E402  (the scripts folder is not a package)


def _per_sample_cost(AL: FloatArray, Y: FloatArray) -> FloatArray:
    """The mistake: each column's loss, not their mean."""
    cost: FloatArray = np.sum((AL - Y) ** 2, axis=0)
    return cost


def _mean_cost(AL: FloatArray, Y: FloatArray) -> FloatArray:
    """The mean, but as a 0-d array, as ``np.mean(..., keepdims=False)`` of an array can be."""
    cost: FloatArray = np.asarray(np.sum((AL - Y) ** 2) / AL.shape[1])
    return cost


def _squares_gradient(AL: FloatArray, Y: FloatArray) -> FloatArray:
    gradient: FloatArray = 2 * (AL - Y)
    return gradient


PER_SAMPLE = LossFunction("per_sample", _per_sample_cost, _squares_gradient)  # type: ignore[arg-type]  # the mistake
ZERO_D = LossFunction("zero_d", _mean_cost, _squares_gradient)  # type: ignore[arg-type]  # a 0-d array: taken


def _softsign(Z: FloatArray) -> FloatArray:
    A: FloatArray = Z / (1 + np.abs(Z))
    return A


def _softsign_backward(dA: FloatArray, Z: FloatArray, A: FloatArray, lock: object = None) -> FloatArray:
    dZ: FloatArray = dA / (1 + np.abs(Z)) ** 2
    return dZ


SOFTSIGN = ActivationFunction("softsign", _softsign, _softsign_backward, (-1.0, 1.0))


def test_a_cost_of_ones_own_that_returns_an_array_is_refused_naming_the_loss(rng: np.random.Generator) -> None:
    X = rng.standard_normal((3, 7))
    Y = one_hot(rng.integers(0, 2, 7), 2)
    params = initialize_parameters([3, 4, 2], rng)
    expected = r"^loss 'per_sample': cost returned an array of shape \(7,\) for AL of shape \(2, 7\); it must return one number"
    with pytest.raises(TypeError, match=expected):
        compute_cost(X[:2], Y, PER_SAMPLE)
    with pytest.raises(TypeError, match=expected):
        train(X, Y, params, activations=("tanh", "linear"), loss=PER_SAMPLE, epochs=1, learning_rate=0.1)
    with pytest.raises(TypeError, match=r"^loss 'per_sample': cost returned an array of shape \(7,\)"):
        gradient_check(X, Y, params, ("tanh", "linear"), PER_SAMPLE)
    # a 0-d array is one number: taken, as a Python float of the hand-computed mean
    cost = compute_cost(X[:2], Y, ZERO_D)
    assert type(cost) is float and cost == float(np.sum((X[:2] - Y) ** 2) / 7)


def test_sweep_refuses_a_setting_whose_piece_cannot_travel_naming_it(rng: np.random.Generator, client: Client) -> None:  # noqa: F811
    X = rng.standard_normal((3, 12))
    Y = one_hot(rng.integers(0, 2, 12), 2)
    locked = SOFTSIGN._replace(backward=functools.partial(_softsign_backward, lock=threading.Lock()))
    settings = [
        dist.RunSettings((3, 4, 2), (SOFTSIGN, "softmax"), "categorical_cross_entropy", sgd(0.1), 1),
        dist.RunSettings((3, 4, 2), (locked, "softmax"), "categorical_cross_entropy", sgd(0.1), 1),
    ]
    assert len(dist.sweep(settings, X, Y)) == 2  # in this process nothing travels
    with pytest.raises(TypeError, match=r"^settings\[1\]\.activations must pickle to travel to the workers .* cannot pickle '_thread\.lock' object"):
        dist.sweep(settings, X, Y, client=client)
    # the record of one's own that pickles runs on the cluster as in this process, bit for bit
    there = dist.sweep(settings[:1], X, Y, client=client)[0]
    here = dist.run_settings(settings[0], dist.SweepData(X, Y))
    assert all(np.array_equal(there.params[key], here.params[key]) for key in here.params)


def test_inspect_network_reads_a_network_with_an_activation_of_ones_own(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    csv = _kaggle_csv(tmp_path / "digits.csv", rng, 30)
    params = initialize_parameters([784, 6, 10], rng, dtype=np.float32)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    save_parameters(run_dir / "params.npz", params, metadata={"activations": [SOFTSIGN, "softmax"]})
    # as predict_digit.main, a script wrapping this one passes its records
    assert inspect_network.main([str(run_dir), "--csv", str(csv), "--tiles", "4"], custom_activations={"softsign": SOFTSIGN}) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    X = np.loadtxt(csv, delimiter=",", skiprows=1, dtype=np.float32)
    AL, _ = forward_propagation((X[:, 1:] / 255).T, params, (SOFTSIGN, "softmax"))
    assert summary["samples"] == 30 and summary["accuracy"] == pytest.approx(float(np.mean(AL.argmax(axis=0) == X[:, 0])))
