"""More of the scripts' edges: a mistake is one ``error:`` line naming its option, before any
work, and what a script prints is true of what it ran."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from functional_nn.data.mnist import load_mnist

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import augmentation_report  # noqa: E402  (the scripts folder is not a package)
import benchmark_revisions  # noqa: E402
import cats_vs_dogs  # noqa: E402
import compare_optimizers  # noqa: E402
import vanishing_gradients  # noqa: E402
from conftest import WriteMNISTCache  # noqa: E402
from test_benchmark_revisions import repository  # noqa: E402,F401  (the fixture: a small git repository)
from test_scripts_mnist import _small_mnist  # noqa: E402


def test_vanishing_gradients_refuses_every_beyond_the_run_before_training(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    argv = ["--data", "spirals", "--samples", "20", "--epochs", "1", "--every", "1000", "--out", str(out)]
    assert vanishing_gradients.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        "error: --every 1000 exceeds the 1 step of the run (20 samples in batches of 32, 1 epoch): "
        "nothing would be recorded; give at most --every 1\n"
    )
    assert captured.out == "" and not out.exists()  # nothing trained, nothing made


def test_augmentation_report_prints_the_digits_and_batch_it_measured(
    mnist_cache: WriteMNISTCache, capsys: pytest.CaptureFixture[str]
) -> None:
    mnist_cache(_small_mnist(np.random.default_rng(0), 40, 10, 10))
    m = int(load_mnist(dtype=np.float32).X_train.shape[1])  # fewer than --samples and --batch-size
    assert m < 128
    argv = ["--hidden", "4", "--batch-size", "128", "--repeats", "1", "--samples", "6400", "--no-picture"]
    assert augmentation_report.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    step = next(line for line in lines if line.startswith("one training step"))
    assert step.startswith(f"one training step of 784-4-10 on {m} digits: ")
    assert step.endswith(f"(median of 1 epoch of {m} digits)")
    summary = json.loads(lines[-1])
    assert summary["batch_size"] == m and summary["samples"] == m


def test_benchmark_revisions_refuses_a_run_too_short_to_time(repository: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    status = benchmark_revisions.main(["--repository", str(repository), "--old", "HEAD", "--pairs", "1",
                                       "--old-args", "--seconds 0", "--new-args", "--seconds 2"])  # fmt: skip
    assert status == 2
    assert capsys.readouterr().err == (
        "error: --old-args: the old run reported training_seconds 0, too short to time (train_mnist.py rounds to "
        "0.01 s): give both runs more to train, e.g. more --epochs\n"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--reg-epochs", "1"], "error: --reg-epochs must be 0 or at least 2: the schedule warms up for one epoch, got 1"),
        (["--reg-epochs", "-3"], "error: --reg-epochs must be >= 0 (0: skip the dropout and schedule runs), got -3"),
        (["--preset", "best", "--epochs", "1"],
         "error: --epochs must be at least 2 with --preset best: the schedule warms up for one epoch, got 1"),
        (["--batch-size", "0"], "error: --batch-size must be >= 1, got 0"),
    ],
)  # fmt: skip
def test_compare_optimizers_names_the_option_of_a_mistake(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        compare_optimizers.main(arguments)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(f": {message}")  # after the program's name


def test_cats_vs_dogs_refuses_an_empty_class_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("cats", "dogs"):
        (tmp_path / "pictures" / name).mkdir(parents=True)
    with pytest.raises(SystemExit) as exit_info:
        cats_vs_dogs.main([str(tmp_path / "pictures"), "--classes", "cats,,dogs", "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(
        "error: argument --classes: expected a comma-separated list such as cats,dogs, with no empty item, got 'cats,,dogs'"
    )
    assert not (tmp_path / "out").exists()
