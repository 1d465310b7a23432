"""train_mnist.py's --augment, --input-keep-prob and --ema against the fold run by hand, and
augmentation_report.py's picture and cost table."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from functional_nn.averaging import averaged_params, ema
from functional_nn.data import one_hot, scale_pixels
from functional_nn.data.mnist import MNIST, MNISTPixels
from functional_nn.initializers import initialize_parameters
from functional_nn.optimizers import adam
from functional_nn.propagation import predict
from functional_nn.schedules import cosine_decay
from functional_nn.serialization import load_parameters
from functional_nn.training import train_epochs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import augmentation_report  # noqa: E402  (the scripts folder is not a package)
import train_mnist  # noqa: E402
from conftest import WriteMNISTCache, blas_threads  # noqa: E402
from test_scripts_mnist import _digits, _kaggle_csv, _small_mnist  # noqa: E402


def test_augmented_averaged_run_equals_the_fold_by_hand(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _kaggle_csv(tmp_path / "train.csv", rng, 60)
    out = tmp_path / "run"
    argv = [
        "--csv", str(csv), "--dev-size", "20", "--epochs", "2", "--hidden", "16", "--batch-size", "16",
        "--optimizer", "adam", "--learning-rate", "0.001", "--schedule", "constant", "--keep-prob", "0.9",
        "--augment", "affine+elastic", "--input-keep-prob", "0.8", "--ema", "0.9", "--out", str(out),
    ]  # fmt: skip
    assert train_mnist.main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "affine+elastic augmentation, input dropout keeping 0.8, weights averaged (decay 0.9)" in lines[0]
    saved, metadata, _ = load_parameters(out / "params.npz")
    config = metadata["config"]
    assert isinstance(config, dict) and config["augment"] == "affine+elastic" and config["ema"] == 0.9
    # by hand: the split, the initial parameters, then the fold with the same pieces
    pixels, labels = _digits(np.random.default_rng(0), 60)
    split_rng = np.random.default_rng(0)
    order = split_rng.permutation(60)
    start = initialize_parameters([784, 16, 10], split_rng, dtype=np.float32)
    X, y = scale_pixels(pixels[order[20:]].T, dtype=np.float32), labels[order[20:]]
    X_dev, y_dev = scale_pixels(pixels[order[:20]].T, dtype=np.float32), labels[order[:20]]
    *_, last = train_epochs(
        X, one_hot(y, 10, dtype=np.float32), start, activations=("relu", "softmax"), loss="categorical_cross_entropy",
        epochs=2, optimizer=ema(adam(1e-3), 0.9), batch_size=16, rng=split_rng,
        dev=(X_dev, one_hot(y_dev, 10, dtype=np.float32)), keep_probs=0.9, input_keep_prob=0.8,
        augmentation=train_mnist.AUGMENT["affine+elastic"],
    )  # fmt: skip
    average = averaged_params(last.optimizer_state, last.params)
    for key in saved:  # the script keeps (and scores) the average
        np.testing.assert_array_equal(saved[key], average[key])
        assert not np.array_equal(saved[key], last.params[key])


def test_with_averaging_the_summary_gives_the_test_accuracy_without_it(
    rng: np.random.Generator, tmp_path: Path, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache
) -> None:
    (train, y_train), (test, y_test) = (_digits(rng, m) for m in (60, 30))
    mnist_cache(MNISTPixels(train.T, y_train, test.T, y_test, test.T, y_test))  # read by the real loader
    out = tmp_path / "run"
    argv = ["--epochs", "2", "--hidden", "12", "--batch-size", "16", "--augment", "shift", "--ema", "0.5", "--out", str(out)]
    assert train_mnist.main(argv) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    history = json.loads((out / "history.json").read_text())
    assert summary["test_accuracy"] == history["epochs"][-1]["dev_accuracy"]  # dev = test here: the average's figure
    assert summary["test_errors"] == round(30 * (1 - summary["test_accuracy"]))
    # by hand: the default preset's He init from the seed, then Adam with its cosine decay over
    # the run's 2 x ceil(60 / 16) = 8 steps, wrapped in the average, on the pixels as loaded
    split_rng = np.random.default_rng(0)  # MNIST is not split: the seed's first draws are the parameters
    start = initialize_parameters([784, 12, 10], split_rng, dtype=np.float32)
    X_test = scale_pixels(test.T, dtype=np.float32)
    *_, last = train_epochs(
        train.T, one_hot(y_train, 10, dtype=np.float32), start, activations=("relu", "softmax"),
        loss="categorical_cross_entropy", epochs=2, optimizer=ema(adam(cosine_decay(1e-3, decay_steps=8)), 0.5),
        batch_size=16, rng=split_rng, dev=(X_test, one_hot(y_test, 10, dtype=np.float32)), keep_probs=1.0,
        augmentation=train_mnist.AUGMENT["shift"], input_divisor=255,
    )  # fmt: skip
    saved, _, _ = load_parameters(out / "params.npz")
    average = averaged_params(last.optimizer_state, last.params)
    for key in saved:  # the script keeps the average ...
        np.testing.assert_array_equal(saved[key], average[key])
    # ... and reports the test accuracy of the parameters the training itself reached
    unaveraged = float(np.mean(predict(X_test, last.params, ("relu", "softmax")) == y_test))
    assert summary["test_accuracy_unaveraged"] == unaveraged
    assert summary["test_accuracy"] == float(np.mean(predict(X_test, average, ("relu", "softmax")) == y_test))


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--input-keep-prob", "0"], "--input-keep-prob must be in (0, 1]"),
        (["--ema", "1"], "--ema must be in [0, 1)"),
        (["--augment", "rotate"], "invalid choice: 'rotate'"),
        (["--workers", "2", "--input-keep-prob", "0.8"], "training on a cluster drops no input pixels"),
    ],
)
def test_bad_flags_are_one_error_line_and_status_2(flags: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        train_mnist.main(flags)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_the_report_draws_the_grid_and_measures_each_augmentation(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache
) -> None:
    mnist_cache(_small_mnist(rng, 40, 12, 12))
    picture = tmp_path / "grid.png"
    argv = ["--hidden", "8", "--batch-size", "16", "--repeats", "1", "--samples", "32", "--digits", "4", "--out", str(picture)]
    assert augmentation_report.main(argv) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(summary["milliseconds"]) == {"step", "shift", "affine", "elastic", "affine+elastic"}
    assert summary["network"] == "784-8-10" and summary["milliseconds"]["step"] > 0
    assert all(summary["ratio"][name] == value / summary["milliseconds"]["step"] for name, value in summary["milliseconds"].items() if name != "step")
    # every augmentation's calls were timed inside its epochs: one per step, each taking some time
    assert set(summary["call_milliseconds"]) == {"shift", "affine", "elastic", "affine+elastic"}
    assert all(value > 0 for value in summary["call_milliseconds"].values())


# --------------------------------------------------------------------------------------------
# augmentation_report.py's command line: its mistakes in one line, its picture never lost


def _no_data(**kwargs: object) -> MNIST:
    raise AssertionError("the data must not be loaded before the command line and --out are checked")


REPORT_RUN = ["--hidden", "4", "--batch-size", "16", "--repeats", "1", "--samples", "16", "--digits", "2"]


def test_the_report_refuses_a_negative_seed_naming_it(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(augmentation_report, "load_mnist_pixels", _no_data)
    with pytest.raises(SystemExit) as exit_info:
        augmentation_report.main(["--seed", "-1", "--no-picture"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().endswith("error: argument --seed: must be >= 0, got -1")


def test_the_report_refuses_an_empty_layer_size(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(augmentation_report, "load_mnist_pixels", _no_data)
    with pytest.raises(SystemExit) as exit_info:
        augmentation_report.main(["--hidden", "512,,10", "--no-picture"])
    assert exit_info.value.code == 2
    assert "error: argument --hidden: expected comma-separated integers >= 1 such as 512,256, got '512,,10'" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["a folder", "under /proc", "under a file"])
def test_the_report_checks_its_picture_before_loading_the_data(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(augmentation_report, "load_mnist_pixels", _no_data)
    (tmp_path / "file").write_text("not a folder")
    out, message = {
        "a folder": (tmp_path, f"--out {tmp_path} is a folder: give the path of the file to write"),
        "under /proc": (Path("/proc/nope/x.png"), "--out /proc/nope/x.png: cannot create /proc/nope in /proc (No such file or directory)"),
        "under a file": (tmp_path / "file" / "x.png", f"--out {tmp_path / 'file' / 'x.png'} cannot be created: {tmp_path / 'file'} is a file, not a folder"),
    }[case]  # fmt: skip
    assert augmentation_report.main([*REPORT_RUN, "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"error: {message}\n"
    assert (tmp_path / "file").read_text() == "not a folder"


def test_the_report_replaces_an_earlier_picture_only_with_overwrite(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    mnist_cache: WriteMNISTCache,
) -> None:
    picture = tmp_path / "grid.png"
    picture.write_bytes(b"earlier")
    with monkeypatch.context() as patch:  # refused before any data is loaded
        patch.setattr(augmentation_report, "load_mnist_pixels", _no_data)
        assert augmentation_report.main([*REPORT_RUN, "--out", str(picture)]) == 2
        assert capsys.readouterr().err == f"error: --out {picture} already exists: choose another --out, or pass --overwrite to replace it\n"
        assert picture.read_bytes() == b"earlier"
        picture.chmod(0o444)  # read-only: refused even with --overwrite, as atomic_write would at the end
        assert augmentation_report.main([*REPORT_RUN, "--out", str(picture), "--overwrite"]) == 2
        assert capsys.readouterr().err == f"error: --out {picture} is read-only: make it writable, or choose another --out\n"
    picture.chmod(0o644)  # now the data is loaded: from a small cache, by the real loader
    mnist_cache(_small_mnist(rng, 20, 4, 4))
    assert augmentation_report.main([*REPORT_RUN, "--out", str(picture), "--overwrite"]) == 0
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]
    capsys.readouterr()


def test_the_report_creates_the_pictures_folder_only_when_it_draws(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache
) -> None:
    mnist_cache(_small_mnist(rng, 20, 4, 4))
    picture = tmp_path / "new" / "folder" / "grid.png"
    assert augmentation_report.main([*REPORT_RUN, "--out", str(picture)]) == 0
    assert picture.is_file()
    capsys.readouterr()


def test_the_report_pins_the_blas_to_threads_when_main_is_called_from_python(
    rng: np.random.Generator, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # run as a script, the environment pins it before NumPy loads; from Python, NumPy is loaded already
    mnist_cache(_small_mnist(rng, 40, 12, 12))
    seen: list[int] = []
    measure = augmentation_report.measure

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(blas_threads())
        return measure(*args, **kwargs)

    monkeypatch.setattr(augmentation_report, "measure", watched)
    before = blas_threads()
    assert augmentation_report.main([*REPORT_RUN, "--no-picture", "--threads", "1"]) == 0
    assert seen == [1] and blas_threads() == before  # pinned for the measurement, then as it was
