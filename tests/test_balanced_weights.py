"""``balanced_weights`` and ``cats_vs_dogs.py --balance``: every class counts alike, so the
weighted accuracy is the mean of the classes' recalls."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sklearn.utils.class_weight import compute_sample_weight

from functional_nn import initialize_parameters, predict, train
from functional_nn.sample_weights import balanced_weights

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import cats_vs_dogs  # noqa: E402  (the scripts folder is not a package)


def test_balanced_weights_are_scikit_learn_s() -> None:
    y = np.random.default_rng(0).integers(0, 4, 50)
    np.testing.assert_allclose(balanced_weights(y), compute_sample_weight("balanced", y), rtol=1e-15)
    assert balanced_weights([0, 0, 0, 1]).tolist() == [2 / 3, 2 / 3, 2 / 3, 2.0]
    assert balanced_weights(np.array([3, 3, 7], dtype=np.uint8)).tolist() == [0.75, 0.75, 1.5]  # classes absent count for nothing


@pytest.mark.parametrize("labels", [[], [[0, 1]], [-1, 0], [0.5, 1.0]])
def test_balanced_weights_refuses_what_are_not_class_indices(labels: list[Any]) -> None:
    with pytest.raises(ValueError, match="labels must be class indices, a non-empty 1-D array of integers >= 0, got"):
        balanced_weights(labels)


def test_the_balanced_history_accuracy_is_the_mean_of_the_recalls() -> None:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2, 40))
    y = (X[0] > 1.0).astype(np.int64)  # about one sample in six is class 1
    params = initialize_parameters((2, 3, 1), rng)
    result = train(
        X, y[np.newaxis, :].astype(np.float64), params, activations=("relu", "sigmoid"), loss="binary_cross_entropy",
        epochs=1, learning_rate=0.1, sample_weight=balanced_weights(y),
    )  # fmt: skip
    predicted = predict(X, params, ("relu", "sigmoid"))  # the first epoch's figures are of the starting parameters
    recalls = [float(np.mean(predicted[y == c] == c)) for c in (0, 1)]
    assert result.history[0].accuracy == pytest.approx(np.mean(recalls), rel=1e-12)
    assert result.history[0].accuracy != pytest.approx(float(np.mean(predicted == y)))  # plain accuracy differs here


def _folder(root: Path, counts: dict[str, int]) -> Path:
    rng = np.random.default_rng(0)
    for name, count in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(rng.integers(0, 256, size=(4, 4), dtype=np.uint8), mode="L").save(root / name / f"{i:03d}.png")
    return root


@pytest.mark.parametrize("balance", [False, True])
def test_cats_vs_dogs_balance_weighs_each_class_by_its_count(balance: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _folder(tmp_path / "pictures", {"cats": 30, "dogs": 10})
    argv = [str(root), "--size", "4", "--hidden", "2", "--epochs", "2", "--out", str(tmp_path / "out")]
    assert cats_vs_dogs.main(argv + (["--balance"] if balance else [])) == 0
    out = capsys.readouterr().out
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["balanced"] is balance
    found = re.search(r"balanced: a picture of cats weighs (\S+), a picture of dogs weighs (\S+)\n", out)
    assert (found is not None) is balance
    assert ("dev balanced accuracy" in out) is balance
    if found is not None:
        split = re.search(r"split with seed 0: (\d+) training", out)
        assert split is not None
        m = int(split.group(1))
        # the script's own split: count the classes of its training set from the weights printed
        cats_weight, dogs_weight = float(found.group(1)), float(found.group(2))
        n_cats = round(m / (2 * cats_weight))
        assert n_cats + round(m / (2 * dogs_weight)) == m
        assert n_cats > m / 2  # cats are three in four pictures, so they weigh less
