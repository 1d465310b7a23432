"""A Kaggle Digit Recognizer user's round trip: train_mnist.py --csv train.csv, then
predict_digit.py --csv test.csv --submission submission.csv, on tiny files of Kaggle's layout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from functional_nn.data.digit_files import load_digits_csv
from functional_nn.initializers import initialize_parameters
from functional_nn.propagation import forward_propagation
from functional_nn.serialization import load_parameters, save_parameters

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import train_mnist  # noqa: E402  (the scripts folder is not a package)

HEADER = ",".join(f"pixel{i}" for i in range(784))


def _pixels(rng: np.random.Generator, m: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """``m`` images as rows ``(m, 784)``: class k is a bright 6x6 block at its own place, on noise."""
    labels = np.arange(m, dtype=np.int64) % 10
    images = rng.integers(0, 60, size=(m, 28, 28)).astype(np.uint8)
    for j, k in enumerate(labels):
        images[j, 3 + 12 * (k // 5) : 9 + 12 * (k // 5), 1 + 5 * (k % 5) : 7 + 5 * (k % 5)] = 255
    return images.reshape(m, 784), labels


def _write_csv(path: Path, pixels: npt.NDArray[np.uint8], labels: npt.NDArray[np.int64] | None, *, newline: str = "\n", final: bool = True) -> Path:
    """Kaggle's train.csv (with ``labels``) or test.csv (without)."""
    header = HEADER if labels is None else "label," + HEADER
    rows = [",".join(map(str, ([] if labels is None else [int(labels[j])]) + pixels[j].tolist())) for j in range(len(pixels))]
    path.write_bytes((newline.join([header, *rows]) + (newline if final else "")).encode())
    return path


def _predict(*arguments: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SCRIPTS.parent)}
    argv = [sys.executable, str(SCRIPTS / "predict_digit.py"), *map(str, arguments)]
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False)


@pytest.mark.parametrize(
    ("preset", "newline", "final"),
    [(["--epochs", "5"], "\n", True), (["--epochs", "3", "--dtype", "float32"], "\r\n", False)],
    ids=["float64", "float32-crlf-no-final-newline"],
)
def test_the_submission_holds_the_saved_networks_own_predictions(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], preset: list[str], newline: str, final: bool
) -> None:
    train_pixels, train_labels = _pixels(rng, 60)
    _write_csv(tmp_path / "train.csv", train_pixels, train_labels)
    argv = ["--preset", "tutorial", "--csv", str(tmp_path / "train.csv"), "--dev-size", "10", "--out", str(tmp_path / "run"), *preset]
    assert train_mnist.main(argv) == 0
    capsys.readouterr()
    test_pixels, _ = _pixels(rng, 23)
    _write_csv(tmp_path / "test.csv", test_pixels, None, newline=newline, final=final)

    done = _predict("run/params.npz", "--csv", "test.csv", "--submission", "submission.csv", cwd=tmp_path)

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "wrote submission.csv: 23 predictions (ImageId 1 to 23) of test.csv by run/params.npz\n"
    params, metadata, activations = load_parameters(tmp_path / "run" / "params.npz")
    dtype = np.dtype(str(metadata["dtype"]))
    assert dtype == np.dtype("float32" if "float32" in preset else "float64")
    # the pixels scaled as the training scaled them (each divided by 255 in the network's dtype)
    AL, _ = forward_propagation(test_pixels.T.astype(dtype) / dtype.type(255), params, activations)
    expected = np.argmax(AL, axis=0)
    assert (tmp_path / "submission.csv").read_text() == "ImageId,Label\n" + "".join(f"{i + 1},{k}\n" for i, k in enumerate(expected.tolist()))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "submission.csv", "test.csv", "train.csv"]  # no temporary file left


def test_the_reader_refuses_a_label_column_where_none_is_expected_and_the_reverse(tmp_path: Path, rng: np.random.Generator) -> None:
    pixels, labels = _pixels(rng, 4)
    train = _write_csv(tmp_path / "train.csv", pixels, labels)
    test = _write_csv(tmp_path / "test.csv", pixels, None)
    with pytest.raises(ValueError, match=r"train\.csv has a label column \(its header starts 'label'\): expected a file with no label column, Kaggle's test\.csv"):
        load_digits_csv(train, labelled=False)
    with pytest.raises(ValueError, match=r"test\.csv has no label column \(its header starts 'pixel0'\): expected a file with a label column, Kaggle's train\.csv"):
        load_digits_csv(test, labelled=True)
    with pytest.raises(TypeError, match="labelled must be a bool or None, got str"):
        load_digits_csv(test, labelled="no")  # type: ignore[arg-type]
    np.testing.assert_array_equal(load_digits_csv(test, labelled=False).X, pixels.T)
    np.testing.assert_array_equal(load_digits_csv(train, labelled=True).y, labels)


def test_predicting_refuses_train_csv_and_a_network_of_other_inputs_naming_both(tmp_path: Path, rng: np.random.Generator) -> None:
    pixels, labels = _pixels(rng, 4)
    _write_csv(tmp_path / "train.csv", pixels, labels)
    _write_csv(tmp_path / "test.csv", pixels, None)
    save_parameters(tmp_path / "digits.npz", initialize_parameters([784, 5, 10], rng), metadata={"activations": ["relu", "softmax"]})
    save_parameters(tmp_path / "small.npz", initialize_parameters([100, 5, 10], rng), metadata={"activations": ["relu", "softmax"]})

    labelled = _predict("digits.npz", "--csv", "train.csv", "--submission", "submission.csv", cwd=tmp_path)
    assert labelled.returncode == 2
    assert labelled.stderr == (
        "error: train.csv has a label column (its header starts 'label'): expected a file with no label column, "
        "Kaggle's test.csv, 'pixel0,...,pixel783'\n"
    )
    other = _predict("small.npz", "--csv", "test.csv", "--submission", "submission.csv", cwd=tmp_path)
    assert (other.returncode, other.stderr) == (2, "error: test.csv has 784 pixel columns, but small.npz takes 100 inputs: it was not trained on these images\n")
    # a softmax over twelve classes would write labels 10 and 11, which no digit has
    save_parameters(tmp_path / "twelve.npz", initialize_parameters([784, 5, 12], rng), metadata={"activations": ["relu", "softmax"]})
    twelve = _predict("twelve.npz", "--csv", "test.csv", "--submission", "submission.csv", cwd=tmp_path)
    assert (twelve.returncode, twelve.stderr) == (2, "error: twelve.npz has 12 output unit(s), not the ten digits Kaggle's Label column holds\n")
    assert not (tmp_path / "submission.csv").exists()


def test_an_existing_submission_stays_whole_when_not_asked_to_go_or_when_the_run_fails(tmp_path: Path, rng: np.random.Generator) -> None:
    pixels, _ = _pixels(rng, 3)
    _write_csv(tmp_path / "test.csv", pixels, None)
    (tmp_path / "bad.csv").write_text(HEADER + "\n" + ",".join(["0"] * 783 + ["256"]) + "\n")
    save_parameters(tmp_path / "digits.npz", initialize_parameters([784, 5, 10], rng), metadata={"activations": ["relu", "softmax"]})
    (tmp_path / "submission.csv").write_text("ImageId,Label\n1,7\n")

    kept = _predict("digits.npz", "--csv", "test.csv", "--submission", "submission.csv", cwd=tmp_path)
    assert (kept.returncode, kept.stderr) == (2, "error: --submission submission.csv already exists: choose another --submission, or pass --overwrite to replace it\n")
    failed = _predict("digits.npz", "--csv", "bad.csv", "--submission", "submission.csv", "--overwrite", cwd=tmp_path)
    assert failed.returncode == 2 and "bad.csv: line 2, column 784 ('pixel783'): pixel values must lie in 0..255, got 256" in failed.stderr
    assert (tmp_path / "submission.csv").read_text() == "ImageId,Label\n1,7\n"
    replaced = _predict("digits.npz", "--csv", "test.csv", "--submission", "submission.csv", "--overwrite", cwd=tmp_path)
    assert replaced.returncode == 0 and (tmp_path / "submission.csv").read_text().count("\n") == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "digits.npz", "submission.csv", "test.csv"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--csv", "test.csv"], "--csv needs --submission FILE, the file to write the predictions to (e.g. submission.csv)"),
        (["seven.png", "--csv", "test.csv", "--submission", "s.csv"], "give pictures or --csv, not both (got 1 picture(s) and --csv test.csv)"),
        (["--submission", "s.csv", "seven.png"], "--submission and --overwrite go with --csv test.csv (the pictures' classes are printed)"),
        ([], "give the pictures to classify, or --csv test.csv --submission submission.csv"),
    ],
)
def test_the_command_line_says_what_goes_with_csv(tmp_path: Path, arguments: list[str], message: str) -> None:
    done = _predict("params.npz", *arguments, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == f"predict_digit.py: error: {message}"


def test_pictures_still_come_before_or_after_the_options(tmp_path: Path, rng: np.random.Generator) -> None:
    save_parameters(tmp_path / "digits.npz", initialize_parameters([784, 5, 10], rng), metadata={"activations": ["relu", "softmax"]})
    done = _predict("digits.npz", "--top", "2", "seven.png", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (1, "seven.png: error: cannot read the picture (No such file or directory)\n")
