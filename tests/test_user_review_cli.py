"""A user moving between the scripts: the same mistake is said the same way, naming the option
and what it takes, and a value the parser accepts does not end in a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from functional_nn.initializers import initialize_parameters
from functional_nn.serialization import save_parameters

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import benchmark  # noqa: E402  (the scripts folder is not a package)
import inspect_network  # noqa: E402
import predict_digit  # noqa: E402
import train_mnist  # noqa: E402
from test_scripts_arguments import _refused  # noqa: E402


def test_train_mnist_batch_size_below_zero_says_zero_is_allowed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # --batch-size 0 is full-batch gradient descent (its --help says so): "must be >= 1" is untrue
    line = _refused(capsys, lambda: train_mnist.main(["--batch-size", "-1", "--out", str(tmp_path / "out")]))
    assert line.endswith("error: --batch-size must be >= 0 (0: full-batch gradient descent), got -1")
    assert not (tmp_path / "out").exists()


def _run_dir(tmp_path: Path) -> Path:
    """A folder as train_mnist.py leaves one: a small network's params.npz."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    params = initialize_parameters([784, 4, 10], np.random.default_rng(0), dtype=np.float32)
    save_parameters(run_dir / "params.npz", params, metadata={"activations": ["relu", "softmax"]})
    return run_dir


def test_inspect_network_names_csv_when_it_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # train_mnist.py and sweep.py say "--csv DIR is a folder"; inspect_network.py said the loader's "path DIR"
    run_dir = _run_dir(tmp_path)
    folder = tmp_path / "digits"
    folder.mkdir()
    assert inspect_network.main([str(run_dir), "--csv", str(folder), "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: --csv {folder} is a folder: give the CSV file itself (Kaggle's train.csv)\n"
    assert not (tmp_path / "out").exists()


def test_a_missing_csv_is_said_of_csv_in_every_script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the system's own words named the file alone: "error: nope.csv: No such file or directory"
    run_dir = _run_dir(tmp_path)
    missing = tmp_path / "nope.csv"
    runs: list[tuple[Callable[[Sequence[str] | None], int], list[str], str]] = [
        (train_mnist.main, ["--csv", str(missing), "--out", str(tmp_path / "out")], "train.csv"),
        (inspect_network.main, [str(run_dir), "--csv", str(missing), "--out", str(tmp_path / "out")], "train.csv"),
        (predict_digit.main, [str(run_dir / "params.npz"), "--csv", str(missing), "--submission", str(tmp_path / "s.csv")], "test.csv"),
    ]
    for main, argv, wanted in runs:
        assert main(argv) == 2
        said = capsys.readouterr().err
        assert said == f"error: --csv {missing} does not exist: give the CSV file itself (Kaggle's {wanted})\n", said
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run"]


def test_benchmark_refuses_a_settle_pause_longer_than_sleep_takes(capsys: pytest.CaptureFixture[str]) -> None:
    # accepted by the parser, it ended in time.sleep's OverflowError traceback at the first pause
    argv = ["--data", "random", "--samples", "64", "--hidden", "4", "--optimizers", "sgd", "--contenders", "functional_nn",
            "--repeats", "1", "--warmup", "0", "--ceiling-seconds", "0.01", "--settle-seconds", "1e10"]  # fmt: skip
    line = _refused(capsys, lambda: benchmark.main(argv))
    assert "error: --settle-seconds 1e+10 is more than the longest sleep" in line
