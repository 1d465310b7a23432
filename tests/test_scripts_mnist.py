"""train_mnist.py and predict_digit.py end to end on small digit files made here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from functional_nn.data import one_hot, scale_pixels
from functional_nn.data.mnist import MNISTPixels
from functional_nn.initializers import initialize_parameters
from functional_nn.propagation import predict, predict_proba
from functional_nn.serialization import load_parameters, save_parameters
from functional_nn.types import ActivationFunction, FloatArray
from functional_nn.training import train_epochs
from conftest import WriteMNISTCache

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import predict_digit  # noqa: E402  (the scripts folder is not a package)
import _threads  # noqa: E402
import train_mnist  # noqa: E402

PIXELS = 784


def _digits(rng: np.random.Generator, m: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """``m`` 28x28 pictures, row per picture: class k is a bright 6x6 block at its own place, plus noise."""
    labels = np.arange(m, dtype=np.int64) % 10
    images = rng.integers(0, 60, size=(m, 28, 28)).astype(np.uint8)
    for j, k in enumerate(labels):
        top, left = 3 + 12 * (k // 5), 1 + 5 * (k % 5)
        images[j, top : top + 6, left : left + 6] = 255
    return images.reshape(m, PIXELS), labels


def _kaggle_csv(path: Path, rng: np.random.Generator, m: int) -> Path:
    pixels, labels = _digits(rng, m)
    header = "label," + ",".join(f"pixel{i}" for i in range(PIXELS))
    rows = [",".join(map(str, [int(labels[j]), *pixels[j].tolist()])) for j in range(m)]
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[list[str], dict[str, object]]:
    assert train_mnist.main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    assert isinstance(summary, dict)
    return lines, summary


def test_train_on_a_kaggle_csv_writes_everything(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _kaggle_csv(tmp_path / "train.csv", rng, 120)
    out = tmp_path / "run"
    argv = ["--csv", str(csv), "--epochs", "3", "--hidden", "16", "--batch-size", "32", "--dev-size", "20", "--out", str(out)]
    lines, summary = _run(capsys, argv)
    names = {p.name for p in out.iterdir()}
    assert {"confusion.png", "curves.png", "history.json", "params.npz"} <= names
    assert ("mistakes.png" in names) == (summary["dev_accuracy"] != 1.0)  # CSV: the pictures are of the dev set
    assert {"train_accuracy", "dev_accuracy", "seconds", "out"} <= set(summary) and "test_accuracy" not in summary
    assert summary["out"] == str(out)
    assert [line.split(":")[0] for line in lines if line.startswith("epoch")] == ["epoch   1", "epoch   2", "epoch   3"]
    params, metadata, _ = load_parameters(out / "params.npz")
    assert metadata["activations"] == ["relu", "softmax"] and metadata["layer_sizes"] == [784, 16, 10]
    assert metadata["dtype"] == "float32" and all(v.dtype == np.float32 for v in params.values())
    assert metadata["dev_accuracy"] == summary["dev_accuracy"]
    history = json.loads((out / "history.json").read_text())
    assert [r["epoch"] for r in history["epochs"]] == [1, 2, 3]
    assert history["epochs"][-1]["dev_accuracy"] == summary["dev_accuracy"]  # the last epoch's params are kept
    for picture in out.glob("*.png"):
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_csv_split_holds_out_dev_size_rows_and_accuracies_are_real(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _kaggle_csv(tmp_path / "train.csv", rng, 100)
    out = tmp_path / "run"
    _, summary = _run(capsys, ["--csv", str(csv), "--epochs", "4", "--hidden", "8", "--batch-size", "10", "--dev-size", "30", "--seed", "3", "--out", str(out)])
    # redo the split the script made (the seed's first draw) and score the saved network on it
    pixels, labels = _digits(np.random.default_rng(0), 100)  # the same rows: the fixture's generator starts at seed 0
    order = np.random.default_rng(3).permutation(100)
    params, _, _ = load_parameters(out / "params.npz")
    X_dev = scale_pixels(pixels[order[:30]].T, dtype=np.float32)
    dev_accuracy = float(np.mean(predict(X_dev, params, ("relu", "softmax")) == labels[order[:30]]))
    assert summary["dev_accuracy"] == dev_accuracy
    X_train = scale_pixels(pixels[order[30:]].T, dtype=np.float32)
    assert summary["train_accuracy"] == float(np.mean(predict(X_train, params, ("relu", "softmax")) == labels[order[30:]]))


def test_the_tutorial_preset_is_full_batch_gradient_descent_printing_every_10_iterations(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _kaggle_csv(tmp_path / "train.csv", rng, 60)
    out = tmp_path / "run"
    lines, summary = _run(capsys, ["--preset", "tutorial", "--csv", str(csv), "--epochs", "21", "--dev-size", "20", "--out", str(out)])
    assert [line.split(":")[0] for line in lines if line.startswith("iteration")] == [
        "iteration   0", "iteration  10", "iteration  20",
    ]  # fmt: skip
    assert "784-10-10 relu/softmax, uniform init, sgd 0.1 (constant), full batch, 21 iterations, float64" in lines[0]
    params, metadata, _ = load_parameters(out / "params.npz")
    assert metadata["layer_sizes"] == [784, 10, 10] and metadata["dtype"] == "float64"
    history = json.loads((out / "history.json").read_text())
    assert len(history["iterations"]) == 21
    # the same run by hand: split, uniform init, 21 steps of plain gradient descent
    pixels, labels = _digits(np.random.default_rng(0), 60)
    split_rng = np.random.default_rng(0)
    order = split_rng.permutation(60)
    start = initialize_parameters([784, 10, 10], split_rng, scheme="uniform")
    X, y = scale_pixels(pixels[order[20:]].T), labels[order[20:]]
    *_, last = train_epochs(X, one_hot(y, 10), start, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=21, learning_rate=0.1)
    for key in params:
        np.testing.assert_array_equal(params[key], last.params[key])


def _small_mnist(rng: np.random.Generator, train: int, dev: int, test: int) -> MNISTPixels:
    """What load_mnist_pixels returns, with random digits: ``train``, ``dev`` and ``test`` of them."""
    (X_train, y_train), (X_dev, y_dev), (X_test, y_test) = (_digits(rng, m) for m in (train, dev, test))
    return MNISTPixels(X_train.T, y_train, X_dev.T, y_dev, X_test.T, y_test)


def _run_on_small_mnist(
    flags: list[str], out: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache
) -> tuple[MNISTPixels, list[str], dict[str, object], dict[str, FloatArray]]:
    """The script on 80 / 20 / 30 random digits cached as MNIST, read by the real loader: the
    digits, its lines, its summary and its params."""
    small = _small_mnist(rng, 80, 20, 30)
    mnist_cache(small)
    lines, summary = _run(capsys, [*flags, "--hidden", "12", "--batch-size", "16", "--out", str(out)])
    params, _, _ = load_parameters(out / "params.npz")
    return small, lines, summary, params


def test_on_mnist_it_reports_the_test_accuracy(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache
) -> None:
    small, lines, summary, params = _run_on_small_mnist(["--epochs", "2"], tmp_path / "run", rng, capsys, mnist_cache)
    assert lines[0].startswith("MNIST: 80 train, 20 dev, 30 test")  # the cached splits, as published (no --dev-size)
    X_test = scale_pixels(small.X_test, dtype=np.float32)
    assert summary["test_accuracy"] == float(np.mean(predict(X_test, params, ("relu", "softmax")) == small.y_test))
    assert (tmp_path / "run" / "confusion.png").is_file()


def test_on_mnist_dev_size_holds_out_the_last_training_images(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache
) -> None:
    flags = ["--epochs", "1", "--dev-size", "5", "--ema", "0"]
    small, lines, summary, params = _run_on_small_mnist(flags, tmp_path / "run", rng, capsys, mnist_cache)
    assert any("95 train, 5 dev, 30 test" in line for line in lines)  # the published 100, the last 5 held out
    held_out = predict(scale_pixels(small.X_dev[:, -5:], dtype=np.float32), params, ("relu", "softmax"))
    assert summary["dev_accuracy"] == float(np.mean(held_out == small.y_dev[-5:]))


def test_without_the_scripts_extra_it_still_trains(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in ("matplotlib", "tqdm"):
        monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    csv = _kaggle_csv(tmp_path / "train.csv", rng, 40)
    out = tmp_path / "run"
    lines, summary = _run(capsys, ["--csv", str(csv), "--epochs", "1", "--hidden", "4", "--dev-size", "10", "--out", str(out)])
    assert sorted(p.name for p in out.iterdir()) == ["history.json", "params.npz"]
    assert any('no pictures (pip install -e ".[scripts]")' in line for line in lines)
    bar = train_mnist.ProgressBar(10, "epoch 1/1", enabled=True)  # no tqdm: a bar that does nothing
    bar.update(0.5)
    bar.close()


def test_a_checkpointed_run_resumes_to_the_uninterrupted_result(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _kaggle_csv(tmp_path / "train.csv", rng, 120)
    common = ["--csv", str(csv), "--epochs", "3", "--hidden", "16", "--batch-size", "32", "--dev-size", "20"]
    _run(capsys, [*common, "--out", str(tmp_path / "whole")])
    interrupted = tmp_path / "interrupted"
    _run(capsys, [*common, "--out", str(interrupted), "--checkpoint"])
    assert sorted(p.name for p in (interrupted / "checkpoints").iterdir()) == ["checkpoint-000002.npz", "checkpoint-000003.npz"]
    (interrupted / "checkpoints" / "checkpoint-000003.npz").unlink()  # as if killed during epoch 3
    (interrupted / "params.npz").unlink()
    lines, summary = _run(capsys, ["--resume", str(interrupted)])
    assert any("resuming from" in line and "after epoch 2" in line for line in lines)
    assert summary["out"] == str(interrupted)
    whole, resumed = load_parameters(tmp_path / "whole" / "params.npz"), load_parameters(interrupted / "params.npz")
    for key in whole.params:
        assert resumed.params[key].tobytes() == whole.params[key].tobytes()
    history = json.loads((interrupted / "history.json").read_text())["epochs"]
    assert [e["epoch"] for e in history] == [1, 2, 3] and history[0]["seconds"] is None and history[2]["seconds"] > 0


def test_resume_refuses_a_run_without_checkpoints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        train_mnist.main(["--resume", str(tmp_path)])
    assert "not a run started with --checkpoint" in capsys.readouterr().err


def test_bad_sources_end_in_a_message(tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]) -> None:
    assert train_mnist.main(["--csv", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "a")]) == 2
    assert "missing.csv" in capsys.readouterr().err
    pixels, _ = _digits(rng, 5)
    header = ",".join(f"pixel{i}" for i in range(PIXELS))
    (tmp_path / "test.csv").write_text(header + "\n" + "\n".join(",".join(map(str, row)) for row in pixels.tolist()) + "\n")
    assert train_mnist.main(["--csv", str(tmp_path / "test.csv"), "--out", str(tmp_path / "b")]) == 2
    assert "has no label column" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        train_mnist.main(["--hidden", "0,3"])
    assert refused.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
        "error: argument --hidden: expected comma-separated integers >= 1 such as 512,256, got '0,3'"
    )
    with pytest.raises(SystemExit) as refused:
        train_mnist.main(["--dev-size", "60000"])
    assert refused.value.code == 2
    assert "--dev-size 60000 leaves nothing to train on: MNIST has 60,000 training images" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# predict_digit


def _draw_one(path: Path, size: tuple[int, int] = (90, 140)) -> Path:
    """A black vertical stroke on a white page, off centre, like a photographed "1"."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).rectangle((20, 30, 32, 110), fill="black")
    image.save(path)
    return path


def test_digit_pixels_makes_an_mnist_like_column(tmp_path: Path) -> None:
    X = predict_digit.digit_pixels(_draw_one(tmp_path / "one.png"))
    assert X.shape == (784, 1) and X.dtype == np.float32
    picture = X[:, 0].reshape(28, 28)
    assert picture.min() == 0 and picture.max() == pytest.approx(1.0, abs=0.02)  # inverted: white on black
    assert picture[0].max() == 0 and picture[:, 0].max() == 0  # the page around the digit is background
    rows = np.flatnonzero(picture.max(axis=1) > 0.5)
    assert rows[-1] - rows[0] + 1 == 20  # the longer side scaled to 20 pixels, as in MNIST
    ys, xs = np.indices(picture.shape)
    assert abs(float((ys * picture).sum() / picture.sum()) - 13.5) <= 0.5  # centred by mass
    assert abs(float((xs * picture).sum() / picture.sum()) - 13.5) <= 0.5
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("L", (30, 30), 255).save(blank)
    with pytest.raises(predict_digit.NoDigitError, match="blank"):
        predict_digit.digit_pixels(blank)


def test_predict_digit_prints_the_top_classes(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _kaggle_csv(tmp_path / "train.csv", rng, 40)
    out = tmp_path / "run"
    _run(capsys, ["--csv", str(csv), "--epochs", "1", "--hidden", "8", "--dev-size", "10", "--out", str(out)])
    picture = _draw_one(tmp_path / "one.png")
    assert predict_digit.main([str(out / "params.npz"), str(picture), "--top", "4"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{picture}: ")
    shown = [(int(part.split()[0]), float(part.split()[1].strip("()"))) for part in line.split(": ", 1)[1].split("  ")]
    params, _, _ = load_parameters(out / "params.npz")
    probabilities = predict_proba(predict_digit.digit_pixels(picture), params, ("relu", "softmax"))[:, 0]
    best = np.argsort(-probabilities, kind="stable")[:4]
    assert [k for k, _ in shown] == best.tolist()
    assert [p for _, p in shown] == [round(float(probabilities[k]), 3) for k in best]


def test_predict_digit_resolves_an_activation_of_ones_own(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    softsign = ActivationFunction("softsign", lambda Z: Z / (1 + np.abs(Z)), lambda dA, Z, A: dA / (1 + np.abs(Z)) ** 2)
    params = initialize_parameters([784, 6, 10], rng, dtype=np.float32)
    path = save_parameters(tmp_path / "own.npz", params, metadata={"activations": [softsign, "softmax"]})
    picture = _draw_one(tmp_path / "one.png")
    assert predict_digit.main([str(path), str(picture)]) == 2  # the name alone cannot be resolved
    assert "uses the activation(s) ['softsign']" in capsys.readouterr().err
    assert predict_digit.main([str(path), str(picture), "--top", "1"], custom_activations={"softsign": softsign}) == 0
    probabilities = predict_proba(predict_digit.digit_pixels(picture), params, (softsign, "softmax"))[:, 0]
    best = int(np.argmax(probabilities))
    assert capsys.readouterr().out.strip() == f"{picture}: {best} ({float(probabilities[best]):.3f})"


def test_predict_digit_refuses_what_it_cannot_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.savez(tmp_path / "foreign.npz", weights=np.zeros(3))
    assert predict_digit.main([str(tmp_path / "foreign.npz"), str(tmp_path / "x.png")]) == 2
    assert "not one written by save_parameters" in capsys.readouterr().err


def test_train_on_idx_files(tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]) -> None:
    import gzip

    drawn = {}
    for split, m in (("train", 60), ("t10k", 20)):
        pixels, labels = _digits(rng, m)
        drawn[split] = pixels, labels
        images = bytes([0, 0, 8, 3]) + np.array([m, 28, 28], dtype=">u4").tobytes() + pixels.tobytes()
        (tmp_path / f"{split}-images-idx3-ubyte.gz").write_bytes(gzip.compress(images))
        (tmp_path / f"{split}-labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1]) + np.array([m], dtype=">u4").tobytes() + labels.astype(np.uint8).tobytes())
    out = tmp_path / "run"
    lines, summary = _run(capsys, ["--idx", str(tmp_path), "--dev-size", "15", "--epochs", "1", "--hidden", "8", "--out", str(out)])
    assert lines[0].startswith(f"IDX files in {tmp_path}: 45 train, 15 dev, 20 test")
    # redo the split (the seed's first draw) and score the saved network on each part
    params, _, _ = load_parameters(out / "params.npz")
    (pixels, labels), (test_pixels, test_labels) = drawn["train"], drawn["t10k"]
    order = np.random.default_rng(0).permutation(60)
    for name, X, y in (
        ("train", pixels[order[15:]], labels[order[15:]]),
        ("dev", pixels[order[:15]], labels[order[:15]]),
        ("test", test_pixels, test_labels),
    ):
        predicted = predict(scale_pixels(X.T, dtype=np.float32), params, ("relu", "softmax"))
        assert summary[f"{name}_accuracy"] == float(np.mean(predicted == y)), name
    assert summary["test_errors"] == int(np.count_nonzero(predicted != test_labels))


def test_zero_means_none_for_batch_size_and_max_norm() -> None:
    _, settings = train_mnist.parse_args(["--batch-size", "0"])
    assert settings.batch_size is None  # full-batch gradient descent
    best_args, best = train_mnist.parse_args(["--preset", "best"])
    assert best.hidden == (1024, 1024) and best.augment == "elastic" and best.max_norm is None
    assert best_args.dev_size == 1000  # trains on 59,000 of MNIST's 60,000 training images
    assert train_mnist.parse_args(["--preset", "best", "--dev-size", "5000"])[0].dev_size == 5000
    assert train_mnist.parse_args([])[0].dev_size is None  # the default run: the published 50,000 / 10,000
    _, capped = train_mnist.parse_args(["--preset", "best", "--max-norm", "3.5"])
    assert capped.max_norm == 3.5
    _, uncapped = train_mnist.parse_args(["--preset", "best", "--max-norm", "0"])
    assert uncapped.max_norm is None


def test_max_norm_caps_every_unit_of_the_trained_network(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _kaggle_csv(tmp_path / "train.csv", rng, 80)
    out = tmp_path / "capped"
    lines, _ = _run(capsys, ["--csv", str(csv), "--epochs", "2", "--hidden", "16", "--dev-size", "20", "--max-norm", "0.5", "--learning-rate", "0.05", "--ema", "0", "--out", str(out)])  # the average of capped weights' predecessors is not capped
    assert "max-norm 0.5" in lines[0]
    params, _, _ = load_parameters(out / "params.npz")
    for key in ("W1", "W2"):
        assert np.linalg.norm(params[key], axis=1).max() <= 0.5 * (1 + 1e-6)


def test_threads_are_read_before_numpy_loads_and_pin_the_blas(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _threads.threads_from_argv(["--epochs", "2", "--threads", "3"]) == 3
    assert _threads.threads_from_argv(["--threads=1"]) == 1
    assert _threads.threads_from_argv(["--epochs", "2"]) is None  # every core: the BLAS's default
    csv = _kaggle_csv(tmp_path / "train.csv", rng, 60)
    argv = ["--csv", str(csv), "--epochs", "1", "--hidden", "8", "--dev-size", "10", "--threads", "1", "--out", str(tmp_path / "run")]
    _, summary = _run(capsys, argv)
    assert summary["threads"] == 1
    with pytest.raises(SystemExit) as refused:
        train_mnist.main(["--threads", "0"])
    assert refused.value.code == 2


def test_a_dark_digit_on_grey_paper_is_inverted_like_one_on_white(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image, ImageDraw

    # a pencil "1" photographed on grey paper: the background (100 of 255) is darker than one
    # half, yet lighter than the digit, which is what makes it the background to invert
    grey = Image.new("L", (90, 140), 100)
    ImageDraw.Draw(grey).rectangle((20, 30, 32, 110), fill=0)
    grey.save(tmp_path / "grey.png")
    np.testing.assert_array_equal(predict_digit.digit_pixels(tmp_path / "grey.png"), predict_digit.digit_pixels(_draw_one(tmp_path / "one.png")))
    # and a light digit on a darker grey is read as it is
    chalk = Image.new("L", (90, 140), 100)
    ImageDraw.Draw(chalk).rectangle((20, 30, 32, 110), fill=255)
    chalk.save(tmp_path / "chalk.png")
    np.testing.assert_array_equal(predict_digit.digit_pixels(tmp_path / "chalk.png"), predict_digit.digit_pixels(tmp_path / "one.png"))
