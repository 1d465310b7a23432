"""The MNIST tutorial reproduced: the library's run equals the tutorial's own functions to 1e-9.

The tutorial trains a 784-10-10 network, ReLU then softmax, on Kaggle's digit-recognizer CSV:
it shuffles the rows, holds out the first ones as a dev set, scales the pixels to [0, 1] by
dividing by 255, draws every weight and bias uniformly in [-0.5, 0.5), and makes full-batch
gradient-descent steps at alpha = 0.10, printing the training accuracy every 10 iterations
(of the forward pass that iteration's step used); at the end it scores the dev set. Its
functions are written out here from scratch, as the tutorial writes them, with nothing from the
library: one example per column, ``dZ2 = A2 - one_hot(Y)``, ``dW = dZ A^T / m``,
``dZ1 = W2^T dZ2 * (Z1 > 0)``. Where the tutorial's global ``np.random`` draws, a
``default_rng(seed)`` draws the same way (the shuffle, then W1, b1, W2, b2).

One line differs from the tutorial as it is often copied: ``db = 1/m * np.sum(dZ)`` there sums
every entry of ``dZ`` into one number given to every unit (for the softmax layer that number is
0: each column of ``A2 - Y`` sums to 0). The gradient of the cost with respect to ``b`` is the sum
over the samples for each unit, ``np.sum(dZ, axis=1, keepdims=True) / m``, as the library
computes it, and that is what is written here.

The digits are made up (a bright block at a class's own place, plus noise) and written as a
small CSV in Kaggle's format; the library reads it with its CSV loader, through
``scripts/train_mnist.py --preset tutorial`` and through the API.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from functional_nn import initialize_parameters, train
from functional_nn.data import one_hot, scale_pixels, train_dev_split
from functional_nn.data.digit_files import load_digits_csv
from functional_nn.serialization import load_parameters
from functional_nn.types import FloatArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import train_mnist  # noqa: E402  (the scripts folder is not a package)
from test_scripts_mnist import _kaggle_csv  # noqa: E402

Array = FloatArray  # float64 here, as in the tutorial
Labels = npt.NDArray[np.int64]
TutorialParams = dict[str, Array]

ALPHA = 0.10
ROWS, DEV_ROWS, ITERATIONS = 150, 30, 60


# ---- the tutorial, from scratch -------------------------------------------------------------
def tutorial_read(path: Path, dev_rows: int, rng: np.random.Generator) -> tuple[Array, Labels, Array, Labels]:
    """``X_train, Y_train, X_dev, Y_dev``: the CSV's rows shuffled, the first ``dev_rows`` held
    out, transposed to a sample per column, the label row split off, the pixels divided by 255."""
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64)  # (m, 785): label, 784 pixels
    rng.shuffle(data)
    data_dev = data[0:dev_rows].T
    Y_dev = data_dev[0]
    X_dev = data_dev[1:] / 255.0
    data_train = data[dev_rows:].T
    Y_train = data_train[0]
    X_train = data_train[1:] / 255.0
    return X_train, Y_train, X_dev, Y_dev


def tutorial_init(rng: np.random.Generator) -> TutorialParams:
    W1 = rng.random((10, 784)) - 0.5
    b1 = rng.random((10, 1)) - 0.5
    W2 = rng.random((10, 10)) - 0.5
    b2 = rng.random((10, 1)) - 0.5
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def tutorial_relu(Z: Array) -> Array:
    return np.maximum(Z, 0)


def tutorial_softmax(Z: Array) -> Array:
    A: Array = np.exp(Z) / np.sum(np.exp(Z), axis=0)
    return A


def tutorial_forward(p: TutorialParams, X: Array) -> tuple[Array, Array, Array, Array]:
    Z1 = p["W1"] @ X + p["b1"]
    A1 = tutorial_relu(Z1)
    Z2 = p["W2"] @ A1 + p["b2"]
    A2 = tutorial_softmax(Z2)
    return Z1, A1, Z2, A2


def tutorial_one_hot(Y: Labels) -> Array:
    one_hot_Y = np.zeros((Y.size, 10))
    one_hot_Y[np.arange(Y.size), Y] = 1
    return one_hot_Y.T


def tutorial_backward(Z1: Array, A1: Array, A2: Array, p: TutorialParams, X: Array, Y: Labels) -> TutorialParams:
    m = Y.size
    dZ2 = A2 - tutorial_one_hot(Y)
    dW2 = 1 / m * dZ2 @ A1.T
    db2 = 1 / m * np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = p["W2"].T @ dZ2 * (Z1 > 0)
    dW1 = 1 / m * dZ1 @ X.T
    db1 = 1 / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def tutorial_update(p: TutorialParams, g: TutorialParams, alpha: float) -> TutorialParams:
    return {k: p[k] - alpha * g["d" + k] for k in p}


def tutorial_cost(A2: Array, Y: Labels) -> float:
    """The cross-entropy the gradients above belong to: the mean of -log of each sample's true-class probability."""
    return float(-np.sum(tutorial_one_hot(Y) * np.log(A2)) / Y.size)


def tutorial_accuracy(A2: Array, Y: Labels) -> float:
    predictions = np.argmax(A2, 0)
    return float(np.sum(predictions == Y) / Y.size)


class TutorialRun:
    """What the tutorial's gradient descent leaves: the parameters, and per iteration the cost
    and accuracy of the forward pass its step used and the dev accuracy after its step."""

    def __init__(self, X: Array, Y: Labels, X_dev: Array, Y_dev: Labels, p: TutorialParams, alpha: float, iterations: int) -> None:
        self.costs: list[float] = []
        self.accuracies: list[float] = []
        self.dev_accuracies: list[float] = []
        for _ in range(iterations):
            Z1, A1, _, A2 = tutorial_forward(p, X)
            p = tutorial_update(p, tutorial_backward(Z1, A1, A2, p, X, Y), alpha)
            self.costs.append(tutorial_cost(A2, Y))
            self.accuracies.append(tutorial_accuracy(A2, Y))
            self.dev_accuracies.append(tutorial_accuracy(tutorial_forward(p, X_dev)[3], Y_dev))
        self.params = p


def tutorial_minibatch_descent(
    X: Array, Y: Labels, p: TutorialParams, alpha: float, epochs: int, batch_size: int, rng: np.random.Generator
) -> TutorialParams:
    """The mini-batch variant: each epoch a fresh order of the samples, then a step per
    ``batch_size`` consecutive ones of it (the last batch shorter), ``m`` the batch's size."""
    m = Y.size
    for _ in range(epochs):
        order = rng.permutation(m)
        for start in range(0, m, batch_size):
            columns = order[start : start + batch_size]
            X_b, Y_b = X[:, columns], Y[columns]
            Z1, A1, _, A2 = tutorial_forward(p, X_b)
            p = tutorial_update(p, tutorial_backward(Z1, A1, A2, p, X_b, Y_b), alpha)
    return p


# ---- the comparison -------------------------------------------------------------------------
def test_the_split_and_the_uniform_start_are_the_tutorials_draws(tmp_path: Path, rng: np.random.Generator) -> None:
    csv = _kaggle_csv(tmp_path / "train.csv", rng, ROWS)
    tutorial_rng, library_rng = np.random.default_rng(7), np.random.default_rng(7)
    X_train, Y_train, X_dev, Y_dev = tutorial_read(csv, DEV_ROWS, tutorial_rng)
    start = tutorial_init(tutorial_rng)
    digits = load_digits_csv(csv)
    assert digits.y is not None
    split = train_dev_split(digits.X, digits.y, DEV_ROWS, library_rng)
    params = initialize_parameters([784, 10, 10], library_rng, scheme="uniform")
    np.testing.assert_array_equal(split.y_train, Y_train)
    np.testing.assert_array_equal(split.y_dev, Y_dev)
    np.testing.assert_array_equal(scale_pixels(split.X_train), X_train)  # p / 255 both ways
    np.testing.assert_array_equal(scale_pixels(split.X_dev), X_dev)
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_array_equal(params[key], start[key])
    assert start["W1"].min() >= -0.5 and start["W1"].max() < 0.5


def test_train_mnist_tutorial_preset_equals_the_tutorial_to_1e_9(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _kaggle_csv(tmp_path / "train.csv", rng, ROWS)
    out = tmp_path / "run"
    argv = ["--preset", "tutorial", "--csv", str(csv), "--epochs", str(ITERATIONS), "--dev-size", str(DEV_ROWS), "--out", str(out)]
    assert train_mnist.main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])

    tutorial_rng = np.random.default_rng(0)  # the preset's seed
    X_train, Y_train, X_dev, Y_dev = tutorial_read(csv, DEV_ROWS, tutorial_rng)
    tutorial = TutorialRun(X_train, Y_train, X_dev, Y_dev, tutorial_init(tutorial_rng), ALPHA, ITERATIONS)
    assert tutorial.costs[-1] < tutorial.costs[0] and tutorial.accuracies[-1] > tutorial.accuracies[0]  # it learns: not vacuous

    params, metadata, _ = load_parameters(out / "params.npz")
    assert metadata["layer_sizes"] == [784, 10, 10] and metadata["dtype"] == "float64"
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(params[key], tutorial.params[key], rtol=0, atol=1e-9)
    records = json.loads((out / "history.json").read_text())["iterations"]
    np.testing.assert_allclose([r["cost"] for r in records], tutorial.costs, rtol=0, atol=1e-9)
    assert [r["accuracy"] for r in records] == tutorial.accuracies
    assert [r["dev_accuracy"] for r in records] == tutorial.dev_accuracies
    # the accuracy printed every 10 iterations, counted from 0 as the tutorial counts them
    printed = [line for line in lines if line.startswith("iteration")]
    assert [line.split(":")[0] for line in printed] == [f"iteration {i:>3}" for i in (*range(0, ITERATIONS, 10), ITERATIONS - 1)]
    for line, i in zip(printed, (*range(0, ITERATIONS, 10), ITERATIONS - 1)):
        assert f"train accuracy {tutorial.accuracies[i]:.4f}" in line and f"dev accuracy {tutorial.dev_accuracies[i]:.4f}" in line
    # the summary: the final parameters on the training and the dev set
    assert summary["dev_accuracy"] == tutorial.dev_accuracies[-1]
    assert summary["train_accuracy"] == tutorial_accuracy(tutorial_forward(tutorial.params, X_train)[3], Y_train)


def test_minibatch_gradient_descent_through_the_api_equals_the_tutorials_loop_to_1e_9(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    csv = _kaggle_csv(tmp_path / "train.csv", rng, ROWS)
    digits = load_digits_csv(csv)
    assert digits.y is not None
    library_rng = np.random.default_rng(5)
    split = train_dev_split(digits.X, digits.y, DEV_ROWS, library_rng)
    params = initialize_parameters([784, 10, 10], library_rng, scheme="uniform")
    result = train(
        scale_pixels(split.X_train), one_hot(split.y_train, 10), params, activations=("relu", "softmax"),
        loss="categorical_cross_entropy", epochs=4, learning_rate=ALPHA, batch_size=32, rng=library_rng,
    )  # fmt: skip

    tutorial_rng = np.random.default_rng(5)
    X_train, Y_train, _, _ = tutorial_read(csv, DEV_ROWS, tutorial_rng)
    start = tutorial_init(tutorial_rng)
    ours = tutorial_minibatch_descent(X_train, Y_train, start, ALPHA, epochs=4, batch_size=32, rng=tutorial_rng)
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(result.params[key], ours[key], rtol=0, atol=1e-9)
        assert not np.allclose(ours[key], start[key])  # 4 epochs of 4 steps moved every array
