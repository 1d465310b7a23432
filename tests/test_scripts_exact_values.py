"""Exact values of the scripts' figures, computed by hand or by an independent path.

Each test guards one piece of arithmetic or bookkeeping whose mistake the other script tests
would let through (found by mutating the scripts one line at a time).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from functional_nn import distributed as dist
from functional_nn.activations import resolve_activation
from functional_nn.fold_state import TrainState
from functional_nn.serialization import load_parameters
from test_scripts_mnist import _kaggle_csv, _run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import _cli  # noqa: E402  (the scripts folder is not a package)
import benchmark  # noqa: E402
import benchmark_revisions  # noqa: E402
import cats_vs_dogs  # noqa: E402
import predict_digit  # noqa: E402
import sweep  # noqa: E402
import train_mnist  # noqa: E402


def test_samples_per_second_counts_every_epochs_samples_over_the_training_time(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    # guards: samples_per_second = train samples x epochs run / training seconds (not one epoch's samples)
    csv_file = _kaggle_csv(tmp_path / "train.csv", rng, 50)
    out = tmp_path / "run"
    _, summary = _run(capsys, ["--csv", str(csv_file), "--epochs", "3", "--hidden", "4", "--batch-size", "10", "--dev-size", "10", "--out", str(out)])
    training_seconds = json.loads((out / "history.json").read_text())["summary"]["training_seconds"]  # unrounded
    assert summary["samples_per_second"] == round(40 * 3 / training_seconds)


@pytest.mark.parametrize("text", ["0", "0.0", "-0.0", "-1e-9"])
def test_positive_float_refuses_zero_which_non_negative_float_takes(text: str) -> None:
    # guards: positive_float is strictly > 0 (a learning rate or radius of 0 is a mistake), unlike non_negative_float
    with pytest.raises(argparse.ArgumentTypeError, match="must be a finite number > 0"):
        _cli.positive_float(text)
    assert _cli.positive_float("1e-300") == 1e-300
    if not text.startswith("-1"):
        assert _cli.non_negative_float(text) == 0.0


def _pair(old_seconds: float, new_seconds: float) -> benchmark_revisions.Pair:
    return benchmark_revisions.Pair(0.0, benchmark_revisions.Run(old_seconds, None, 1024), benchmark_revisions.Run(new_seconds, None, 2048))


def test_revision_summary_takes_the_median_ratio_and_counts_ratios_equal_to_the_target() -> None:
    # guards: summarize's median (not mean) of new / old, and "at or below" counting a ratio equal to the target
    pairs = [_pair(10.0, 2.0), _pair(10.0, 4.0), _pair(10.0, 9.0)]  # ratios 0.2, 0.4, 0.9: mean 0.5, median 0.4
    summary = benchmark_revisions.summarize(pairs, target=0.4)
    assert summary["ratios"] == [0.2, 0.4, 0.9]
    assert summary["median_ratio"] == 0.4 and summary["min_ratio"] == 0.2 and summary["max_ratio"] == 0.9
    assert summary["at_or_below_target"] == 2  # 0.2 and 0.4 itself


def test_sweep_grid_runs_learning_rates_outermost_then_widths_then_dropout() -> None:
    # guards: the grid's (and so sweep.csv's) row order, learning rate slowest and keep probability fastest
    rows = [sweep.describe(setting) for setting in sweep.grid(epochs=2, batch_size=16, seed=5)]
    expected = [(rate, width, keep) for rate in (3e-4, 1e-3, 3e-3) for width in (64, 256) for keep in (1.0, 0.8)]
    assert [(r["learning_rate"], r["hidden"], r["keep_prob"]) for r in rows] == expected
    assert all(r["epochs"] == 2 and r["seed"] == 5 for r in rows)


def test_sweep_keeps_the_first_of_runs_tied_for_the_best_dev_accuracy(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # guards: the best run's tie-break, the earliest in grid order, in the summary, the table and best_params.npz
    real_sweep = dist.sweep
    kept: list[TrainState] = []

    def tied(*args: object, **kwargs: object) -> list[TrainState]:
        results: list[TrainState] = real_sweep(*args, **kwargs)  # type: ignore[arg-type]
        for i, result in enumerate(results):  # runs 3 and 7 tie for the best dev accuracy
            last = result.history[-1]._replace(dev_accuracy=0.9 if i in (3, 7) else 0.1)
            kept.append(result._replace(history=(*result.history[:-1], last)))
        return kept

    monkeypatch.setattr(dist, "sweep", tied)
    out = tmp_path / "out"
    argv = ["--sequential", "--csv", str(_kaggle_csv(tmp_path / "train.csv", rng, 30)), "--dev-size", "10", "--epochs", "1",
            "--batch-size", "20", "--out", str(out)]  # fmt: skip
    assert sweep.main(argv) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["best"] == 3 and summary["best_dev_accuracy"] == 0.9
    with open(out / "sweep.csv", newline="") as handle:
        assert [float(row["dev_accuracy"]) for row in csv.DictReader(handle)] == [0.9 if i in (3, 7) else 0.1 for i in range(12)]
    params, metadata, _ = load_parameters(out / "best_params.npz")
    config = metadata["config"]
    assert isinstance(config, dict)
    assert config["learning_rate"] == 3e-4 and config["hidden"] == 256 and config["keep_prob"] == 0.8
    for key, value in kept[3].params.items():
        np.testing.assert_array_equal(params[key], value)


def test_cats_vs_dogs_evaluation_figures_by_hand() -> None:
    # guards: a probability of exactly 0.5 is class 1, precision vs recall, and the majority baseline of either class
    probability = np.array([[0.9, 0.5, 0.3, 0.2, 0.1]], dtype=np.float64)
    labels = np.array([1, 1, 1, 0, 1], dtype=np.int64)  # predicted 1, 1, 0, 0, 0: TP 2, FP 0, FN 2, TN 1
    result = cats_vs_dogs.evaluate(probability, labels)
    assert result.accuracy == pytest.approx(3 / 5)
    assert result.precision == pytest.approx(1.0) and result.recall == pytest.approx(0.5)
    assert result.f1 == pytest.approx(2 / 3)
    assert result.confusion == [[1, 0], [2, 2]]  # rows: true class
    assert result.majority_accuracy == pytest.approx(0.8)  # four of the five are class 1
    assert result.log_loss == pytest.approx(-sum(math.log(p) for p in (0.9, 0.5, 0.3, 0.8, 0.1)) / 5)


def test_predict_digit_ranks_tied_classes_by_class_number() -> None:
    # guards: the stable sort of ranked_classes, so that classes of equal probability are listed lowest first
    probabilities = np.array([0.1, 0.1, 0.15, 0.15, 0.05, 0.05, 0.15, 0.15, 0.05, 0.05])
    ranked = predict_digit.ranked_classes(probabilities, resolve_activation("output", "softmax"), 6)
    assert ranked == [(2, 0.15), (3, 0.15), (6, 0.15), (7, 0.15), (0, 0.1), (1, 0.1)]


def test_benchmark_ceiling_figures_follow_from_a_fixed_product_time(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # guards: the ceiling's GFLOP/s (FLOPs per step / batch x samples/s) and its per-round epoch time (step time x m / batch)
    monkeypatch.setattr(benchmark, "time_products", lambda pairs, min_seconds, clock: 0.002)  # seconds per step's products
    argv = ["--data", "random", "--samples", "300", "--repeats", "1", "--warmup", "0", "--hidden", "8", "--batch-size", "100",
            "--optimizers", "sgd", "--contenders", "functional_nn", "--threads", "1", "--settle-seconds", "0.001"]  # fmt: skip
    assert benchmark.main(argv) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["results"]["784-8-10"]["sgd"]
    flops = 2 * 100 * (2 * 784 * 8 + 3 * 8 * 10)  # 2,556,800 per step of 100 samples
    assert figures["step_mflop"] == 2.56 and figures["ceiling_samples_per_s"] == 50_000
    assert figures["ceiling_gflops"] == round(flops / 0.002 / 1e9, 1) == 1.3
    # one round: the ceiling's time for the epoch's 300 samples is 3 steps, so by round = ratio of medians
    assert figures["ceiling_fraction_by_round"] == figures["ceiling_fraction"]


def test_a_kaggle_csv_holds_out_1000_rows_for_dev_by_default(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    # guards: train_mnist's default --dev-size for a CSV, 1,000 rows
    csv_file = _kaggle_csv(tmp_path / "train.csv", rng, 1012)
    lines, _ = _run(capsys, ["--csv", str(csv_file), "--epochs", "1", "--hidden", "2", "--batch-size", "12", "--out", str(tmp_path / "run")])
    assert lines[0].startswith(f"{csv_file} (1012 rows): 12 train, 1000 dev |")
