"""Mutation review of the sample-weight commits: tests that kill mutants the other tests let live
(mini-batch weights, on_batch's running cost, sample_costs' checks, float16 weights, and
cats_vs_dogs.py --balance's dev figures), each expected value computed here by NumPy."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from functional_nn import backward_propagation, compute_cost, forward_propagation, train
from functional_nn import distributed as dist
from functional_nn.fold_state import BatchProgress
from functional_nn.gradient_check import RecordCheckError, check_loss
from functional_nn.types import FloatArray, LossFunction, Params

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import cats_vs_dogs  # noqa: E402  (the scripts folder is not a package)


def _logistic_case() -> tuple[FloatArray, FloatArray, Params, FloatArray]:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3, 8))
    Y = (rng.random((1, 8)) < 0.5).astype(np.float64)
    params: Params = {"W1": rng.standard_normal((1, 3)), "b1": np.array([[0.2]])}
    weights = np.array([1.0, 3.0, 0.5, 2.0, 4.0, 1.5, 0.25, 2.5])
    return X, Y, params, weights


def _numpy_losses(X: FloatArray, Y: FloatArray, params: Params) -> tuple[FloatArray, FloatArray]:
    """Each column's binary cross-entropy and whether it is classified right, by NumPy alone."""
    a = 1 / (1 + np.exp(-(params["W1"] @ X + params["b1"])))
    losses = -(Y * np.log(a) + (1 - Y) * np.log(1 - a)).ravel()
    right = ((a >= 0.5) == (Y == 1)).ravel()
    return losses, right


def test_weighted_mini_batches_give_the_epochs_weighted_mean_and_on_batch_its_running_mean() -> None:
    # a learning rate too small to move the parameters: every batch's cost is of the starting ones,
    # so the epoch's cost is the weighted mean of all the samples' losses, whatever the batches
    X, Y, params, weights = _logistic_case()
    losses, right = _numpy_losses(X, Y, params)
    progress: list[BatchProgress] = []

    def on_batch(p: BatchProgress, *_: object) -> None:
        progress.append(p)

    result = train(
        X, Y, params, activations=("sigmoid",), loss="binary_cross_entropy", epochs=1, learning_rate=1e-300,
        batch_size=3, rng=np.random.default_rng(0), sample_weight=weights, on_batch=on_batch,
    )  # fmt: skip
    expected_cost = float(np.sum(weights * losses) / np.sum(weights))
    expected_accuracy = float(np.sum(weights * right) / np.sum(weights))
    assert result.history[0].cost == pytest.approx(expected_cost, rel=1e-12)
    assert result.history[0].accuracy == pytest.approx(expected_accuracy, rel=1e-12)
    assert [p.samples for p in progress] == [3, 6, 8]
    assert progress[-1].cost == pytest.approx(expected_cost, rel=1e-12)  # the running mean is weighted too


def test_a_non_function_sample_costs_is_refused_by_name() -> None:
    def cost(AL: FloatArray, Y: FloatArray) -> float:
        return float(np.sum((AL - Y) ** 2) / AL.shape[1])

    def gradient(AL: FloatArray, Y: FloatArray) -> FloatArray:
        return 2 * (AL - Y)

    record = LossFunction("squares", cost, gradient, sample_costs=5)  # type: ignore[arg-type]
    AL, Y = np.array([[0.5, 1.0]]), np.array([[0.0, 1.0]])
    with pytest.raises(TypeError, match=r"loss 'squares': sample_costs must be a function, got 5"):
        compute_cost(AL, Y, record, sample_weight=[1.0, 2.0])


def test_check_loss_refuses_sample_costs_with_a_nan() -> None:
    def cost(AL: FloatArray, Y: FloatArray) -> float:
        return float(np.sum((AL - Y) ** 2) / AL.shape[1])

    def gradient(AL: FloatArray, Y: FloatArray) -> FloatArray:
        return 2 * (AL - Y)

    def sample_costs(AL: FloatArray, Y: FloatArray) -> FloatArray:
        costs: FloatArray = np.sum((AL - Y) ** 2, axis=0)
        costs[0] = np.nan  # a NaN's mean compares with nothing: only the finiteness check can see it
        return costs

    with pytest.raises(RecordCheckError, match="sample_costs returned non-finite values"):
        check_loss(LossFunction("squares", cost, gradient, sample_costs=sample_costs), rng=np.random.default_rng(0))


def test_float16_weights_are_refused_as_documented() -> None:
    AL, Y = np.array([[0.25, 0.75]]), np.array([[0.0, 1.0]])
    refused = r"sample_weight must hold real numbers \(integers or float32/float64\), got dtype float16"
    with pytest.raises(TypeError, match=refused):
        compute_cost(AL, Y, "binary_cross_entropy", sample_weight=np.array([1.0, 2.0], dtype=np.float16))


def test_cats_vs_dogs_balance_weighs_the_dev_accuracy_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # every picture the same grey: the network gives every picture the same class, whose balanced
    # accuracy over both classes is 1/2 exactly, where the plain accuracy is that class's share
    root = tmp_path / "pictures"
    for name, count in {"cats": 36, "dogs": 12}.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(np.full((4, 4), 128, dtype=np.uint8), mode="L").save(root / name / f"{i:03d}.png")
    argv = [str(root), "--size", "4", "--hidden", "2", "--epochs", "2", "--out", str(tmp_path / "out"), "--balance"]
    assert cats_vs_dogs.main(argv) == 0
    out = capsys.readouterr().out
    dev = re.findall(r"dev balanced accuracy (\S+)", out)
    train_figures = re.findall(r"  balanced accuracy (\S+)", out)
    assert len(dev) == 2 and len(train_figures) == 2
    assert dev == ["0.500", "0.500"]
    assert train_figures == ["0.500", "0.500"]


def test_local_sgd_rounds_give_the_weighted_accuracy_of_their_samples() -> None:
    # one local step per shard from the starting parameters, too small to move them: the round's
    # accuracy is the weighted share of the samples those parameters classify right
    X, Y, params, weights = _logistic_case()
    _, right = _numpy_losses(X, Y, params)
    assert 0 < right.sum() < right.size  # some right, some wrong: weights change the share
    shards = [dist.Shard(X[:, :4], Y[:, :4]), dist.Shard(X[:, 4:], Y[:, 4:])]
    states = list(
        dist.train_rounds(shards, params, activations=("sigmoid",), loss="binary_cross_entropy", rounds=1,
                          learning_rate=1e-300, local_steps=1, sample_weight=weights)
    )  # fmt: skip
    assert states[-1].history[0].accuracy == pytest.approx(float(np.sum(weights * right) / np.sum(weights)), rel=1e-12)


def test_a_refused_weight_is_the_first_bad_one() -> None:
    AL, Y = np.array([[0.25, 0.75, 0.5]]), np.array([[0.0, 1.0, 1.0]])
    with pytest.raises(ValueError, match=r"got -1\.0 at index 1 \(2 such weight\(s\)\)"):
        compute_cost(AL, Y, "binary_cross_entropy", sample_weight=[1.0, -1.0, np.nan])


def test_float32_weighted_gradients_stay_float32() -> None:
    X, Y, params, weights = _logistic_case()
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    params32: Params = {key: value.astype(np.float32) for key, value in params.items()}
    AL, caches = forward_propagation(X32, params32, ("sigmoid",))
    grads = backward_propagation(AL, Y32, caches, "binary_cross_entropy", sample_weight=weights)
    assert {key: value.dtype for key, value in grads.items()} == {"dW1": np.float32, "db1": np.float32}
    # and their values, by NumPy in float64: dZ's column j is (a_j - y_j) w_j / S
    a = 1 / (1 + np.exp(-(params["W1"] @ X + params["b1"])))
    dZ = (a - Y) * weights / np.sum(weights)
    np.testing.assert_allclose(grads["dW1"], dZ @ X.T, rtol=1e-5)
    np.testing.assert_allclose(grads["db1"], dZ.sum(axis=1, keepdims=True), rtol=1e-5)
    result = train(X32, Y32, params32, activations=("sigmoid",), loss="binary_cross_entropy", epochs=1, learning_rate=0.1,
                   sample_weight=weights)  # fmt: skip
    assert {key: value.dtype for key, value in result.params.items()} == {"W1": np.float32, "b1": np.float32}
    # a loss fused with no activation: its gradient is scaled, and a linear layer passes it on as it is
    AL, caches = forward_propagation(X32, params32, ("linear",))
    grads = backward_propagation(AL, Y32, caches, "mean_squared_error", sample_weight=weights)
    assert {key: value.dtype for key, value in grads.items()} == {"dW1": np.float32, "db1": np.float32}
    dZ = 2 * (params["W1"] @ X + params["b1"] - Y) * weights / np.sum(weights)
    np.testing.assert_allclose(grads["dW1"], dZ @ X.T, rtol=1e-5)
    np.testing.assert_allclose(grads["db1"], dZ.sum(axis=1, keepdims=True), rtol=1e-5)


# --------------------------------------------------------------------------------------------
# findings: weights the shared check let through or left to NumPy's words


def test_masked_weights_are_refused_as_masked_data_is() -> None:
    # the masked weight's data, 5, would count: the mask is dropped by np.asarray
    AL, Y = np.array([[0.25, 0.75]]), np.array([[0.0, 0.0]])
    weights = np.ma.masked_array([1.0, 5.0], mask=[False, True])
    refused = r"sample_weight is a numpy\.ma\.MaskedArray, which is not supported \(its mask would be ignored\)"
    with pytest.raises(TypeError, match=refused):
        compute_cost(AL, Y, "binary_cross_entropy", sample_weight=weights)


def test_ragged_weights_are_refused_by_name() -> None:
    X, Y, params, _ = _logistic_case()
    with pytest.raises(ValueError, match=r"^sample_weight must be a 1-D sequence of 8 weights, one per sample: "):
        train(X, Y, params, activations=("sigmoid",), loss="binary_cross_entropy", epochs=1, learning_rate=0.1,
              sample_weight=[[1.0, 2.0], [3.0]] + [1.0] * 6)  # fmt: skip
