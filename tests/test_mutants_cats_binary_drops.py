"""What ``scripts/cats_vs_dogs.py`` evaluates and writes after early stopping, pinned without
stand-ins: the second pass of the cats/binary mutation audit (the argument-drop mutants the
first pass left unrun, then the mutants the suite killed only through tests that replace
``train_epochs``, ``predict_proba``, ``plot_curves`` or ``plot_image_grid``).

The script runs in-process through its ``main(argv)`` on a small picture folder made here; the
expected figures come from the same setting run through the library directly (the same split,
parameters, optimiser and early stopping, drawn from one generator of the same seed), and the
script's ``metrics.json`` is read back. Nothing reaches the network.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from functional_nn import initialize_parameters, predict_proba, train_epochs
from functional_nn.data import train_dev_split
from functional_nn.data.images import load_image_folder
from functional_nn.metrics import accuracy, confusion_matrix, f1_score, log_loss, precision, recall
from functional_nn.optimizers import adam
from functional_nn.training import EarlyStopping, TrainState
from test_mutants_cats_binary import _picture_folder

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import cats_vs_dogs  # noqa: E402  (the scripts folder is not a package)

# noise with random labels: the training set is memorised and the dev cost soon rises
ARGV = ["--size", "8", "--hidden", "32", "--epochs", "30", "--patience", "3", "--learning-rate", "0.05"]


def _trained_alone(root: Path) -> tuple[TrainState, list[TrainState], dict[str, object]]:
    """ARGV's setting through the library: the last state, every state, and the test figures of the best epoch's parameters."""
    data = load_image_folder(root, size=(8, 8), color="grayscale", classes=None, dtype=np.float32)
    m = data.X.shape[1]
    n_test, n_dev = max(1, round(0.15 * m)), max(1, round(0.15 * m))
    rng = np.random.default_rng(0)
    held_out = train_dev_split(data.X, data.y, n_test, rng)
    split = train_dev_split(held_out.X_train, held_out.y_train, n_dev, rng)
    params = initialize_parameters([split.X_train.shape[0], 32, 1], rng, scheme="he", dtype=np.float32)
    states = list(
        train_epochs(
            split.X_train, split.y_train[np.newaxis, :].astype(np.float32), params, activations=("relu", "sigmoid"),
            loss="binary_cross_entropy", epochs=30, optimizer=adam(0.05), batch_size=64, rng=rng,
            dev=(split.X_dev, split.y_dev[np.newaxis, :].astype(np.float32)), early_stopping=EarlyStopping(patience=3),
        )
    )  # fmt: skip
    last = states[-1]
    assert last.best_params is not None
    probability = predict_proba(held_out.X_dev, last.best_params, ("relu", "sigmoid"))
    labels = held_out.y_dev
    predicted = (probability[0] >= 0.5).astype(np.int64)
    figures: dict[str, object] = {
        "accuracy": accuracy(predicted, labels),
        "precision": precision(predicted, labels),
        "recall": recall(predicted, labels),
        "f1": f1_score(predicted, labels),
        "log_loss": log_loss(probability, labels),
        "confusion": confusion_matrix(predicted, labels, num_classes=2).tolist(),
        "majority_accuracy": max(float(np.mean(labels == 0)), float(np.mean(labels == 1))),
    }
    return last, states, figures


def test_cats_vs_dogs_writes_the_test_figures_of_the_best_epochs_parameters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _picture_folder(tmp_path / "pictures", {"cat": 20, "dog": 20}, np.random.default_rng(3), size=8)
    assert cats_vs_dogs.main([str(root), *ARGV, "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    last, states, figures = _trained_alone(root)
    assert last.stopped and last.best_epoch == last.epoch - 3  # stopped early: the best epoch is not the last
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["test"] == figures
    assert (metrics["best_epoch"], metrics["epochs_run"]) == (last.best_epoch, last.epoch)
    assert metrics["pictures"] == {"train": 28, "dev": 6, "test": 6, "skipped": 0}
    assert metrics["class_names"] == ["cat", "dog"] and metrics["positive_class"] == "dog"
    # one line per epoch, the best one starred, then the epoch kept
    epochs = [line for line in printed.splitlines() if line.startswith("epoch")]
    assert [line[:10] for line in epochs] == [f"epoch {s.epoch:4d}" for s in states]
    assert [line.endswith("  *") for line in epochs] == [s.best_epoch == s.epoch for s in states]
    assert f"\nkeeping the parameters of epoch {last.best_epoch}, the lowest dev cost (stopped early)\n" in printed
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["curves.png", "metrics.json", "predictions.png"]
