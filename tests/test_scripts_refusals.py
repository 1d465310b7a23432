"""What the scripts refuse rather than quietly do otherwise: a picture an earlier run left that
this run did not make, an option that has no effect, a count larger than what there is, a
learning rate for an optimizer that does not run, and an abbreviated option that the thread
count read before NumPy loads would not see."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from functional_nn.data.mnist import MNIST, DatasetUnavailableError

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import _threads  # noqa: E402  (the scripts folder is not a package)
import augmentation_report  # noqa: E402
import benchmark  # noqa: E402
import binary_classification  # noqa: E402
import compare_optimizers  # noqa: E402
import step_breakdown  # noqa: E402
import sweep  # noqa: E402
import train_mnist  # noqa: E402
import vanishing_gradients  # noqa: E402
from conftest import WriteMNISTCache  # noqa: E402
from test_scripts_arguments import _refused  # noqa: E402
from test_scripts_mnist import _small_mnist  # noqa: E402

# --------------------------------------------------------------------------------------------
# binary_classification.py: no training.gif that this run did not make

TUTORIAL_RUN = ["--samples", "30", "--epochs", "3", "--print-every", "1"]


def test_binary_classification_refuses_an_earlier_animation_without_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "training.gif").write_bytes(b"earlier")
    assert binary_classification.main([*TUTORIAL_RUN, "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"error: --out {tmp_path} already holds training.gif from an earlier run: choose another --out, "
        "or pass --overwrite to replace them\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["training.gif"]  # nothing trained, nothing drawn
    assert (tmp_path / "training.gif").read_bytes() == b"earlier"


def test_binary_classification_with_overwrite_removes_an_earlier_animation_it_does_not_redraw(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("decision_boundary.png", "hidden_units.png", "training.gif"):
        (tmp_path / name).write_bytes(b"earlier")
    (tmp_path / "notes.txt").write_text("not an output")
    (tmp_path / "decision_boundary.png").chmod(0o444)  # refused before training: the animation stays
    assert binary_classification.main([*TUTORIAL_RUN, "--out", str(tmp_path), "--overwrite"]) == 2
    assert capsys.readouterr().err == f"error: --out {tmp_path} holds read-only decision_boundary.png: make it writable, or choose another --out\n"
    assert (tmp_path / "training.gif").read_bytes() == b"earlier"
    (tmp_path / "decision_boundary.png").chmod(0o644)
    assert binary_classification.main([*TUTORIAL_RUN, "--out", str(tmp_path), "--overwrite"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == (
        f"wrote {tmp_path / 'decision_boundary.png'} and {tmp_path / 'hidden_units.png'}; removed the earlier run's training.gif"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decision_boundary.png", "hidden_units.png", "notes.txt"]
    assert (tmp_path / "decision_boundary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------------------------
# sweep.py --data-dir: only a cluster's workers read it, and it is a folder


def _no_data(*args: object, **kwargs: object) -> MNIST:
    raise AssertionError("the data must not be loaded before the command line is checked")


@pytest.mark.parametrize("where", ["a folder", "a file", "nowhere yet"])
def test_sweep_refuses_data_dir_with_sequential(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train_mnist, "load_data", _no_data)
    data_dir = {"a folder": tmp_path, "a file": tmp_path / "data.npy", "nowhere yet": tmp_path / "new"}[where]
    if where == "a file":
        data_dir.write_bytes(b"not a folder")
    line = _refused(capsys, lambda: sweep.main(["--sequential", "--data-dir", str(data_dir), "--out", str(tmp_path / "out")]))
    assert line.endswith(
        "error: --data-dir has no effect with --sequential: every run then trains in this process on the data in memory, "
        "and only a cluster's workers read --data-dir; leave out one of the two"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", [[], ["--workers", "2"], ["--scheduler", "tcp://127.0.0.1:1"]], ids=["default", "workers", "scheduler"])
def test_sweep_refuses_a_data_dir_that_is_a_file(
    where: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train_mnist, "load_data", _no_data)
    data_file = tmp_path / "data.npy"
    data_file.write_bytes(b"not a folder")
    line = _refused(capsys, lambda: sweep.main([*where, "--data-dir", str(data_file), "--out", str(tmp_path / "out")]))
    assert line.endswith(f"error: --data-dir {data_file} is a file, not a folder: give a folder every worker can read")
    assert data_file.read_bytes() == b"not a folder" and not (tmp_path / "out").exists()


def test_sweep_still_takes_a_data_dir_folder_for_a_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert sweep.parse_args(["--workers", "2", "--data-dir", str(tmp_path)]).data_dir == tmp_path
    assert sweep.parse_args(["--data-dir", str(tmp_path / "new")]).data_dir == tmp_path / "new"  # the driver creates it
    with pytest.raises(SystemExit):
        sweep.parse_args(["--help"])
    assert "not with --sequential, whose runs read the data in memory" in " ".join(capsys.readouterr().out.split())


# --------------------------------------------------------------------------------------------
# augmentation_report.py --digits: no more than the test digits there are


def test_augmentation_report_refuses_more_digits_than_there_are_before_drawing(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache
) -> None:
    mnist_cache(_small_mnist(rng, 20, 4, 4))  # 4 test digits
    picture = tmp_path / "pictures" / "grid.png"
    argv = ["--hidden", "4", "--batch-size", "16", "--repeats", "1", "--samples", "16", "--digits", "5", "--out", str(picture)]
    line = _refused(capsys, lambda: augmentation_report.main(argv))
    assert line.endswith("error: --digits 5 exceeds the 4 test digits available: give at most --digits 4")
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no picture, no folder for it
    assert augmentation_report.main([*argv, "--no-picture"]) == 0  # nothing drawn: --digits plays no part
    capsys.readouterr()


# --------------------------------------------------------------------------------------------
# vanishing_gradients.py --samples: no more than the training images there are


def test_vanishing_gradients_refuses_more_samples_than_there_are_before_writing(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache
) -> None:
    mnist_cache(_small_mnist(rng, 20, 4, 4))  # 20 training digits; it used to train on 20 and say so
    out = tmp_path / "run"
    argv = ["--data", "mnist", "--samples", "21", "--epochs", "1", "--width", "4", "--layers", "2", "--out", str(out)]
    assert vanishing_gradients.main(argv) == 2
    assert capsys.readouterr().err == "error: --samples 21 exceeds the 20 MNIST training images: give at most --samples 20\n"
    assert not out.exists()
    # --quick's 2,000 samples are a cap the user never typed: on a smaller cache it trains on them all
    quick = ["--data", "mnist", "--quick", "--epochs", "1", "--width", "4", "--layers", "2", "--out", str(out)]
    assert vanishing_gradients.main(quick) == 0
    assert capsys.readouterr().err == ""
    assert sorted(p.name for p in out.iterdir()) == sorted(vanishing_gradients.OUTPUTS)


# --------------------------------------------------------------------------------------------
# compare_optimizers.py --lr: only for an optimizer that runs


def _offline(**kwargs: object) -> MNIST:
    raise DatasetUnavailableError("no MNIST here")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--optimizers", "sgd,adam", "--lr", "nesterov=0.05"],
         "--lr nesterov=0.05: nesterov is not among the optimizers selected (--optimizers sgd,adam), so its rate would be "
         "ignored: add nesterov to --optimizers, or leave this --lr out"),
        (["--optimizers", "sgd", "--reg-epochs", "0", "--lr", "sgd=0.2", "--lr", "adam=0.002"],
         "--lr adam=0.002: adam is not among the optimizers selected (--optimizers sgd), so its rate would be "
         "ignored: add adam to --optimizers, or leave this --lr out"),
        (["--preset", "best", "--lr", "nesterov=0.05"],
         "--lr nesterov=0.05: --preset best takes its learning rate from --best-lr, not --lr"),
    ],
    ids=["not selected", "adam without its --reg-epochs run", "preset best"],
)  # fmt: skip
def test_compare_optimizers_refuses_a_rate_no_run_uses_before_the_data(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compare_optimizers, "load_mnist", _no_data)
    assert compare_optimizers.main(arguments) == 2
    assert capsys.readouterr().err == f"error: {message}\n"


@pytest.mark.parametrize(
    "arguments",
    [
        ["--optimizers", "sgd,adam", "--lr", "adam=0.002"],
        ["--optimizers", "sgd", "--lr", "adam=0.002"],  # the plain Adam run of the --reg-epochs experiment takes it
    ],
)
def test_compare_optimizers_takes_a_rate_a_run_uses(
    arguments: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compare_optimizers, "load_mnist", _offline)  # past every check: then the data is missing
    assert compare_optimizers.main(arguments) == 2
    assert capsys.readouterr().err == "error: no MNIST here\n"


# --------------------------------------------------------------------------------------------
# --threads: spelt out in full, as _threads reads it before NumPy loads


PARSERS: dict[str, Callable[[Sequence[str]], object]] = {
    "augmentation_report": augmentation_report.parse_args,
    "benchmark": benchmark.parse_arguments,
    "step_breakdown": step_breakdown.parse_arguments,
    "train_mnist": train_mnist.parse_args,  # with its Settings: the arguments come first
}


def _threads_of(script: str, argv: Sequence[str]) -> int:
    parsed = PARSERS[script](argv)
    args = parsed[0] if isinstance(parsed, tuple) else parsed
    assert isinstance(args, argparse.Namespace)
    threads: int = args.threads
    return threads


def test_every_script_with_threads_is_listed_here() -> None:
    having = sorted(path.stem for path in SCRIPTS.glob("*.py") if '"--threads"' in path.read_text() and path.stem != "_threads")
    assert having == sorted(PARSERS)


@pytest.mark.parametrize("script", sorted(PARSERS))
@pytest.mark.parametrize("abbreviated", [["--thread", "1"], ["--thr", "1"], ["--thread=1"]])
def test_an_abbreviated_threads_is_refused(script: str, abbreviated: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert _threads.threads_from_argv(abbreviated) is None  # not pinned before NumPy loads: so not accepted either
    line = _refused(capsys, lambda: PARSERS[script](abbreviated))
    assert line.endswith(f"error: unrecognized arguments: {' '.join(abbreviated)}")
    assert _threads_of(script, ["--threads", "1"]) == _threads_of(script, ["--threads=1"]) == 1  # in full: taken
