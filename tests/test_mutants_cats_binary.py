"""Behaviour of ``scripts/cats_vs_dogs.py`` and ``scripts/binary_classification.py`` that the
rest of the suite left unpinned, found by mutation testing of those two scripts: the options'
defaults and refusals, how few pictures are too few to split, which outputs an earlier run
must not lose, the confusion matrix's layout, which parameters are evaluated after early
stopping, what the picture grid is given, and the scripts run as programs.

Each test fails on at least one mutant of those scripts that the tests exercising them let
pass. The scripts run in-process through their ``main(argv)`` on small picture folders made
here (one subprocess per script checks the ``__main__`` guard); nothing reaches the network.
Where a test needs what the script hands the library (the parameters evaluated, the epoch the
curves mark, the pictures drawn), it wraps that function to note its arguments and then calls
it: the real training, prediction and drawing still run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import functional_nn.plots
from functional_nn import FloatArray, initialize_parameters, predict, predict_proba, train, train_epochs
from functional_nn.data.toy import make_moons
from functional_nn.training import TrainState
from test_scripts_arguments import _refused
from test_user_edges import _one_error_line

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import binary_classification  # noqa: E402  (the scripts folder is not a package)
import cats_vs_dogs  # noqa: E402


def _picture_folder(root: Path, counts: dict[str, int], rng: np.random.Generator, size: int = 4) -> Path:
    """``root/<class>/`` holding ``counts[class]`` grey noise PNGs of ``size`` x ``size``."""
    for name, count in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            pixels = rng.integers(0, 256, size=(size, size), dtype=np.uint8)
            Image.fromarray(pixels, mode="L").save(root / name / f"{name}_{i:03d}.png")
    return root


TINY_RUN = ["--size", "4", "--hidden", "2", "--epochs", "1"]

# --------------------------------------------------------------------------------------------
# cats_vs_dogs.py: the options


def test_cats_vs_dogs_defaults_are_the_documented_ones(tmp_path: Path) -> None:
    args = cats_vs_dogs.parse_args([str(tmp_path)])
    assert (args.root, args.classes, args.size, args.color) == (tmp_path, None, 64, "grayscale")
    assert (args.hidden, args.epochs, args.patience, args.batch_size) == ((128, 32), 60, 10, 64)
    assert (args.learning_rate, args.lambd, args.test_fraction, args.dev_fraction) == (1e-3, 0.0, 0.15, 0.15)
    assert (args.seed, args.out, args.overwrite) == (0, Path("."), False)


@pytest.mark.parametrize("flag", ["--size", "--epochs", "--patience", "--batch-size"])
def test_cats_vs_dogs_refuses_a_count_below_1_and_takes_1(flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _refused(capsys, lambda: cats_vs_dogs.parse_args([str(tmp_path), flag, "0"])).endswith(f"error: {flag} must be >= 1, got 0")
    assert getattr(cats_vs_dogs.parse_args([str(tmp_path), flag, "1"]), flag[2:].replace("-", "_")) == 1


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--test-fraction", "0"], "--test-fraction must lie in (0, 1), got 0.0"),
        (["--test-fraction", "1"], "--test-fraction must lie in (0, 1), got 1.0"),
        (["--dev-fraction", "0"], "--dev-fraction must lie in (0, 1), got 0.0"),
        (["--dev-fraction", "1"], "--dev-fraction must lie in (0, 1), got 1.0"),
        (["--test-fraction", "0.5", "--dev-fraction", "0.5"], "--test-fraction + --dev-fraction must leave pictures to train on"),
    ],
)
def test_cats_vs_dogs_refuses_fractions_outside_0_1_or_leaving_nothing(
    flags: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _refused(capsys, lambda: cats_vs_dogs.parse_args([str(tmp_path), *flags])).endswith(f"error: {message}")


def test_cats_vs_dogs_refuses_a_colour_it_does_not_know(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "error: argument --color: invalid choice: 'sepia'" in _refused(capsys, lambda: cats_vs_dogs.parse_args([str(tmp_path), "--color", "sepia"]))
    assert cats_vs_dogs.parse_args([str(tmp_path), "--color", "rgb"]).color == "rgb"


def test_cats_vs_dogs_takes_fractions_just_inside_the_bounds(tmp_path: Path) -> None:
    args = cats_vs_dogs.parse_args([str(tmp_path), "--test-fraction", "0.49", "--dev-fraction", "0.5"])
    assert (args.test_fraction, args.dev_fraction) == (0.49, 0.5)


# --------------------------------------------------------------------------------------------
# cats_vs_dogs.py: what is refused before training, and what an earlier run leaves


@pytest.mark.parametrize("name", ["predictions.png", "curves.png", "metrics.json"])
def test_cats_vs_dogs_refuses_each_output_of_an_earlier_run(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_text("an earlier run's\n")
    assert cats_vs_dogs.main([str(tmp_path / "no pictures here"), "--out", str(out)]) == 2
    assert _one_error_line(capsys.readouterr().err) == (
        f"error: --out {out} already holds {name} from an earlier run: choose another --out, or pass --overwrite to replace them"
    )
    assert (out / name).read_text() == "an earlier run's\n"


def test_cats_vs_dogs_names_a_root_that_is_a_file_without_the_keyword(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pictures"
    root.write_text("x")
    assert cats_vs_dogs.main([str(root), "--out", str(tmp_path / "out")]) == 2
    assert _one_error_line(capsys.readouterr().err) == f"error: {root} is not a folder: expected one sub-folder of pictures per class"


def test_cats_vs_dogs_with_three_classes_stops_before_reading_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _picture_folder(tmp_path / "pictures", {"bird": 2, "cat": 2, "dog": 2}, np.random.default_rng(0))
    assert cats_vs_dogs.main([str(root), *TINY_RUN, "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert _one_error_line(captured.err) == f"error: {root} has 3 classes ['bird', 'cat', 'dog']; pick two with --classes a,b"
    assert captured.out == ""
    assert not (tmp_path / "out").exists()


def test_cats_vs_dogs_splits_3_pictures_and_refuses_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 3 pictures: one each for training, dev and test (round(0.15 * 3) = 0 is raised to 1)
    root = _picture_folder(tmp_path / "pictures", {"cat": 2, "dog": 1}, np.random.default_rng(0))
    for i in range(6):  # six files that are no pictures: the first five are named
        (root / "dog" / f"note{i}.txt").write_text("not a picture\n")
    assert cats_vs_dogs.main([str(root), *TINY_RUN, "--out", str(tmp_path / "three")]) == 0
    metrics = json.loads((tmp_path / "three" / "metrics.json").read_text())
    assert metrics["pictures"] == {"train": 1, "dev": 1, "test": 1, "skipped": 6}
    assert "\nskipped 6 unreadable or non-picture file(s): note0.txt, note1.txt, note2.txt, note3.txt, note4.txt, ...\n" in capsys.readouterr().out
    (root / "dog" / "note5.txt").unlink()  # five: all named
    assert cats_vs_dogs.main([str(root), *TINY_RUN, "--out", str(tmp_path / "three"), "--overwrite"]) == 0
    assert "\nskipped 5 unreadable or non-picture file(s): note0.txt, note1.txt, note2.txt, note3.txt, note4.txt\n" in capsys.readouterr().out
    (root / "cat" / "cat_001.png").unlink()  # 2 pictures: nothing left to train on
    assert cats_vs_dogs.main([str(root), *TINY_RUN, "--out", str(tmp_path / "two")]) == 2
    assert _one_error_line(capsys.readouterr().err) == "error: 2 pictures are too few to split into training, dev and test sets"
    assert not (tmp_path / "two").exists()


# --------------------------------------------------------------------------------------------
# cats_vs_dogs.py: what is evaluated, drawn and written


def test_cats_vs_dogs_confusion_matrix_layout() -> None:
    # columns 8 wide at least, else the longest name + 2; the row names 2 in, left-aligned
    assert cats_vs_dogs.format_confusion([[3, 1], [0, 2]], ("cat", "dog")) == (
        "confusion matrix (rows: true class, columns: predicted class)\n"
        "               cat     dog\n"
        "  cat            3       1\n"
        "  dog            0       2"
    )
    assert cats_vs_dogs.format_confusion([[3, 1], [0, 12]], ("horizontal", "vertical")) == (
        "confusion matrix (rows: true class, columns: predicted class)\n"
        "                horizontal    vertical\n"
        "  horizontal             3           1\n"
        "  vertical               0          12"
    )


def test_cats_vs_dogs_majority_baseline_of_mostly_class_0() -> None:
    # the other test of evaluate has mostly class 1: here the larger class is class 0
    probability = np.array([[0.9, 0.2, 0.3, 0.1]], dtype=np.float64)
    labels = np.array([0, 0, 0, 1], dtype=np.int64)
    result = cats_vs_dogs.evaluate(probability, labels)
    assert result.majority_accuracy == 0.75
    assert result.accuracy == 0.5 and result.confusion == [[2, 1], [1, 0]]


def test_cats_vs_dogs_evaluates_the_best_epochs_parameters_not_the_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    states: list[TrainState] = []
    evaluated: list[dict[str, FloatArray]] = []

    def recording_train_epochs(*args: Any, **kwargs: Any) -> Iterator[TrainState]:
        for state in train_epochs(*args, **kwargs):
            states.append(state)
            yield state

    def recording_predict_proba(X: FloatArray, params: dict[str, FloatArray], *args: Any) -> FloatArray:
        evaluated.append(params)
        return predict_proba(X, params, *args)

    monkeypatch.setattr(cats_vs_dogs, "train_epochs", recording_train_epochs)
    monkeypatch.setattr(cats_vs_dogs, "predict_proba", recording_predict_proba)
    marked: list[object] = []
    plot_curves = functional_nn.plots.plot_curves

    def recording_curves(history: Any, path: Path, **kwargs: Any) -> Path:  # notes the epoch marked, then draws as ever
        marked.append(kwargs.get("mark_epoch"))
        return plot_curves(history, path, **kwargs)

    monkeypatch.setattr(functional_nn.plots, "plot_curves", recording_curves)
    # noise with random labels: the training set is memorised and the dev cost soon rises
    root = _picture_folder(tmp_path / "pictures", {"cat": 20, "dog": 20}, np.random.default_rng(3), size=8)
    argv = [str(root), "--size", "8", "--hidden", "32", "--epochs", "30", "--patience", "3", "--learning-rate", "0.05", "--out", str(tmp_path / "out")]
    assert cats_vs_dogs.main(argv) == 0
    printed = capsys.readouterr().out
    last = states[-1]
    assert [line[:10] for line in printed.splitlines() if line.startswith("epoch")] == [f"epoch {e:4d}" for e in range(1, last.epoch + 1)]
    assert last.best_epoch is not None and last.best_params is not None
    assert last.stopped and last.best_epoch == last.epoch - 3 < last.epoch
    assert len(evaluated) == 1 and evaluated[0] is last.best_params
    assert marked == [last.best_epoch]  # the curves mark the epoch kept
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert (metrics["best_epoch"], metrics["epochs_run"]) == (last.best_epoch, last.epoch)
    text = (tmp_path / "out" / "metrics.json").read_text()
    assert text.startswith('{\n  "class_names": [\n    "cat",\n    "dog"\n  ],\n  "positive_class": "dog",\n') and text.endswith("\n}\n")


def test_cats_vs_dogs_advice_names_lambd_of_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # any --lambd above 0 can make training run away, not only one above 1
    root = _picture_folder(tmp_path / "pictures", {"cat": 4, "dog": 4}, np.random.default_rng(5))
    argv = [str(root), "--size", "4", "--hidden", "2", "--epochs", "2", "--lambd", "1", "--learning-rate", "1e300", "--out", str(tmp_path / "out")]
    assert cats_vs_dogs.main(argv) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "error: training diverged at epoch 1: W1 holds NaN or infinite values after the last step; try a smaller --learning-rate or --lambd"
    )


def test_cats_vs_dogs_draws_the_first_24_test_pictures_with_the_predicted_class_probability(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    drawn: list[dict[str, Any]] = []
    probabilities: list[FloatArray] = []

    def recording_predict_proba(*args: Any) -> FloatArray:
        probabilities.append(predict_proba(*args))
        return probabilities[-1]

    plot_image_grid = functional_nn.plots.plot_image_grid

    def recording_grid(X: FloatArray, image_shape: tuple[int, int] | tuple[int, int, int], path: Path, **kwargs: Any) -> Path:  # notes, then draws
        drawn.append({"X": X, "image_shape": image_shape, **kwargs})
        return plot_image_grid(X, image_shape, path, **kwargs)

    monkeypatch.setattr(cats_vs_dogs, "predict_proba", recording_predict_proba)
    monkeypatch.setattr(functional_nn.plots, "plot_image_grid", recording_grid)
    root = _picture_folder(tmp_path / "pictures", {"cat": 30, "dog": 30}, np.random.default_rng(4))
    assert cats_vs_dogs.main([str(root), *TINY_RUN, "--color", "rgb", "--test-fraction", "0.5", "--out", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    (grid,) = drawn
    p = probabilities[0][0, :24]
    assert p.shape == (24,) and grid["X"].shape == (48, 24) and grid["image_shape"] == (4, 4, 3)
    assert grid["X"].dtype == np.float32
    predicted = (p >= 0.5).astype(np.int64)
    np.testing.assert_array_equal(grid["predicted"], predicted)
    np.testing.assert_allclose(grid["probabilities"], np.where(predicted == 1, p, 1 - p), rtol=1e-6)
    assert np.all(grid["probabilities"] >= 0.5)  # the probability of the class shown, never below a half
    assert len(grid["labels"]) == 24 and grid["class_names"] == ("cat", "dog") and grid["columns"] == 6



def test_cats_vs_dogs_confusion_matrix_is_2_by_2_when_one_class_is_never_seen() -> None:
    # every label and every prediction class 0: the row and column of class 1 are there, empty
    result = cats_vs_dogs.evaluate(np.array([[0.1, 0.4, 0.2]], dtype=np.float64), np.array([0, 0, 0], dtype=np.int64))
    assert result.confusion == [[3, 0], [0, 0]] and result.accuracy == 1.0 and result.majority_accuracy == 1.0

# --------------------------------------------------------------------------------------------
# binary_classification.py


def test_binary_classification_defaults_are_the_documented_ones() -> None:
    args = binary_classification.parse_args([])
    assert (args.data, args.samples, args.noise, args.hidden, args.epochs) == ("moons", 200, None, 3, 5000)
    assert (args.learning_rate, args.print_every, args.seed, args.out) == (1.0, 500, 0, Path("."))
    assert (args.overwrite, args.animate, args.frames) == (False, False, 50)


def test_binary_classification_takes_only_the_libraries_toy_data_sets(capsys: pytest.CaptureFixture[str]) -> None:
    line = _refused(capsys, lambda: binary_classification.parse_args(["--data", "checkerboard"]))
    assert "error: argument --data: invalid choice: 'checkerboard' (choose from " in line
    for name in ("moons", "circles", "xor", "spirals", "blobs"):
        assert binary_classification.parse_args(["--data", name]).data == name


@pytest.mark.parametrize("flag", ["--samples", "--hidden", "--epochs", "--print-every", "--frames"])
def test_binary_classification_refuses_a_count_below_1_and_takes_1(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _refused(capsys, lambda: binary_classification.parse_args([flag, "0"])).endswith(f"error: {flag} must be >= 1, got 0")
    assert getattr(binary_classification.parse_args([flag, "1"]), flag[2:].replace("-", "_")) == 1


def test_binary_classification_animation_epochs_by_hand() -> None:
    # frame i of n: epoch round(1 + (epochs - 1) (i / (n - 1))^2), pushed on past the one before
    assert binary_classification.animation_epochs(101, 5) == [1, 7, 26, 57, 101]  # 1 + 100 x (0, 1/16, 1/4, 9/16, 1)
    assert binary_classification.animation_epochs(10, 5) == [1, 2, 3, 6, 10]  # 1 + 9 x (0, 1/16, ...): 1.56 -> 2, 3.25 -> 3, 6.06 -> 6
    assert binary_classification.animation_epochs(6, 6) == [1, 2, 3, 4, 5, 6]  # 1, 1.2, 1.8, 2.8, 4.2, 6: each pushed on
    assert binary_classification.animation_epochs(3, 50) == [1, 2, 3]
    assert binary_classification.animation_epochs(7, 1) == [7]


def test_binary_classification_makes_its_output_folder_and_overwrites_no_earlier_animation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "a" / "b"  # --overwrite with no training.gif to remove: nothing removed, nothing said
    assert binary_classification.main(["--samples", "20", "--epochs", "2", "--overwrite", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["decision_boundary.png", "hidden_units.png"]
    assert capsys.readouterr().out.endswith(f"wrote {out / 'decision_boundary.png'} and {out / 'hidden_units.png'}\n")


def test_binary_classification_says_removed_only_when_it_removed_an_animation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pictures = f"wrote {tmp_path / 'decision_boundary.png'} and {tmp_path / 'hidden_units.png'}"
    assert binary_classification.main(["--samples", "20", "--epochs", "2", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.endswith(pictures + "\n")
    (tmp_path / "training.gif").write_bytes(b"an earlier run's")
    # animating again with --overwrite: the animation is replaced, not removed
    assert binary_classification.main(["--samples", "20", "--epochs", "2", "--animate", "--frames", "2", "--overwrite", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert pictures + "\n" in printed and "removed" not in printed
    assert f"wrote {tmp_path / 'training.gif'} (2 frames, " in printed
    assert (tmp_path / "training.gif").read_bytes()[:6] == b"GIF89a"
    assert binary_classification.main(["--samples", "20", "--epochs", "2", "--animate", "--frames", "1", "--overwrite", "--out", str(tmp_path)]) == 0
    assert f"wrote {tmp_path / 'training.gif'} (1 frame, " in capsys.readouterr().out  # not "1 frames"


@pytest.mark.parametrize("name", ["decision_boundary.png", "hidden_units.png", "training.gif"])
def test_binary_classification_refuses_each_output_of_an_earlier_run(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / name).write_text("an earlier run's\n")
    assert binary_classification.main(["--epochs", "1", "--out", str(tmp_path)]) == 2
    assert _one_error_line(capsys.readouterr().err) == (
        f"error: --out {tmp_path} already holds {name} from an earlier run: choose another --out, or pass --overwrite to replace them"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_binary_classification_draws_both_sets_with_the_noise_asked_for(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--samples", "30", "--epochs", "3", "--noise", "0.05", "--out", str(tmp_path)]  # not 0, which float() also gives
    run = binary_classification.run(binary_classification.parse_args(argv))
    capsys.readouterr()
    rng = np.random.default_rng(0)  # by hand: the training set, the parameters, the held-out set
    X, y = make_moons(30, rng, noise=0.05)
    params = initialize_parameters([2, 3, 1], rng, scheme="standard_normal")
    X_held_out, y_held_out = make_moons(1000, rng, noise=0.05)
    state = train(X, y[np.newaxis, :].astype(np.float64), params, activations=("sigmoid", "sigmoid"),
                  loss="binary_cross_entropy", epochs=3, learning_rate=1.0)  # fmt: skip
    assert run.costs == tuple(r.cost for r in state.history)
    assert run.held_out_accuracy == float(np.mean(predict(X_held_out, state.params, ("sigmoid", "sigmoid")) == y_held_out))
    noisy = binary_classification.run(binary_classification.parse_args(["--samples", "30", "--epochs", "3", "--out", str(tmp_path / "noisy")]))
    capsys.readouterr()
    assert noisy.costs[0] != run.costs[0]  # the maker's own noise is not 0.05


# --------------------------------------------------------------------------------------------
# both scripts run as programs


def test_cats_vs_dogs_runs_as_a_program(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / "cats_vs_dogs.py"), str(tmp_path), "--epochs", "0"], capture_output=True, text=True, timeout=60
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].endswith("error: --epochs must be >= 1, got 0")


def test_binary_classification_runs_as_a_program() -> None:
    done = subprocess.run([sys.executable, str(SCRIPTS / "binary_classification.py"), "--frames", "0"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].endswith("error: --frames must be >= 1, got 0")
