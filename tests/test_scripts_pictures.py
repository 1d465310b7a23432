"""The picture scripts end to end on small data made here, and the plotting helpers they use."""

from __future__ import annotations

import json
import sys
from typing import Any
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from functional_nn import initialize_parameters, predict, predict_proba, train
from functional_nn.plots import plot_curves, plot_decision_boundary, plot_image_grid
from functional_nn.data.toy import TOY_DATASETS, ToyName, blob_centers, make_blobs, make_moons
from functional_nn.training import EpochRecord
from functional_nn.types import FloatArray
from test_images import write_stripes_folder

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import binary_classification  # noqa: E402  (the scripts folder is not a package)
import cats_vs_dogs  # noqa: E402

SMALL_RUN = ["--size", "16", "--hidden", "16", "--epochs", "25", "--batch-size", "16", "--learning-rate", "3e-3"]


def assert_png(path: Path, min_size: tuple[int, int] = (200, 150)) -> None:
    assert path.is_file()
    with Image.open(path) as picture:
        assert picture.format == "PNG"
        assert picture.size[0] >= min_size[0] and picture.size[1] >= min_size[1]
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]  # no temporary file left behind


def test_cats_vs_dogs_learns_the_stripes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_stripes_folder(tmp_path / "pictures", 60, np.random.default_rng(0))
    out = tmp_path / "out"
    assert cats_vs_dogs.main([str(root), *SMALL_RUN, "--seed", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] >= 0.9
    assert metrics["pictures"] == {"train": 84, "dev": 18, "test": 18, "skipped": 2}
    assert metrics["class_names"] == ["horizontal", "vertical"] and metrics["positive_class"] == "vertical"
    confusion = np.array(metrics["test"]["confusion"])
    assert confusion.shape == (2, 2) and confusion.sum() == 18
    assert metrics["test"]["accuracy"] == pytest.approx(np.trace(confusion) / 18)
    for word in ("accuracy", "precision", "recall", "F1", "log loss", "confusion matrix", "skipped 2", "broken.png"):
        assert word in printed
    assert_png(out / "predictions.png")
    assert_png(out / "curves.png")


def test_cats_vs_dogs_is_reproducible(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_stripes_folder(tmp_path / "pictures", 20, np.random.default_rng(1), size=8)
    runs = []
    for name in ("a", "b"):
        cats_vs_dogs.main([str(root), *SMALL_RUN, "--size", "8", "--epochs", "3", "--out", str(tmp_path / name)])
        runs.append(json.loads((tmp_path / name / "metrics.json").read_text()))
    assert runs[0] == runs[1]
    capsys.readouterr()


def test_cats_vs_dogs_needs_two_classes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_stripes_folder(tmp_path / "pictures", 10, np.random.default_rng(2), size=8)
    (root / "zigzag").mkdir()
    Image.new("L", (8, 8), color=9).save(root / "zigzag" / "z.png")
    assert cats_vs_dogs.main([str(root), *SMALL_RUN, "--size", "8", "--epochs", "1", "--out", str(tmp_path)]) == 2
    assert "pick two with --classes" in capsys.readouterr().err
    chosen = ["--classes", "vertical,horizontal", "--epochs", "1", "--out", str(tmp_path / "chosen")]
    assert cats_vs_dogs.main([str(root), *SMALL_RUN, "--size", "8", *chosen]) == 0
    assert json.loads((tmp_path / "chosen" / "metrics.json").read_text())["positive_class"] == "horizontal"
    capsys.readouterr()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--hidden", "16,x"], "argument --hidden: expected comma-separated integers >= 1 such as 512,256, got '16,x'"),
        (["--test-fraction", "0.6", "--dev-fraction", "0.5"], "--test-fraction + --dev-fraction must leave pictures to train on"),
    ],
)
def test_cats_vs_dogs_refuses_bad_options(flags: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cats_vs_dogs.parse_args([str(tmp_path), *flags])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(f"error: {message}")


@pytest.mark.parametrize("data", ["moons", "circles", "xor", "spirals", "blobs"])
def test_binary_classification_script_on_every_toy_set(data: ToyName, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--data", data, "--epochs", "200", "--print-every", "100", "--samples", "60", "--out", str(tmp_path)]
    assert binary_classification.main(argv) == 0
    printed = capsys.readouterr().out
    assert f"on 60 '{data}' samples" in printed
    # the run by hand, in the script's documented order of draws: the training set, the N(0, 1)
    # parameters, the 1,000 held-out samples (of the blobs the training set was drawn from: the
    # centres make_blobs drew first, drawn again from a generator of the same seed); then 200
    # full-batch steps at rate 1.0
    rng = np.random.default_rng(0)
    X, y = TOY_DATASETS[data](60, rng)
    params = initialize_parameters([2, 3, 1], rng, scheme="standard_normal")
    if data == "blobs":
        X_held_out, y_held_out = make_blobs(1000, rng, centers=blob_centers(np.random.default_rng(0)))
    else:
        X_held_out, y_held_out = TOY_DATASETS[data](1000, rng)
    state = train(X, y[np.newaxis, :].astype(np.float64), params, activations=("sigmoid", "sigmoid"),
                  loss="binary_cross_entropy", epochs=200, learning_rate=1.0)  # fmt: skip
    for record in (state.history[0], state.history[99], state.history[199]):
        assert f"epoch {record.epoch:6d}   cost {record.cost:.6f}   accuracy {record.accuracy:.3f}" in printed
    on_train = float(np.mean(predict(X, state.params, ("sigmoid", "sigmoid")) == y))
    held_out = float(np.mean(predict(X_held_out, state.params, ("sigmoid", "sigmoid")) == y_held_out))
    assert f"final accuracy: {on_train:.3f} on the training set, {held_out:.3f} on 1000 new samples" in printed
    assert_png(tmp_path / "decision_boundary.png")


@pytest.mark.parametrize("seed", [0, 1])
def test_binary_classification_holds_out_samples_of_the_training_blobs(seed: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """make_blobs draws new centres at every call: a held-out set drawn by a second call came from
    other blobs, and a network that fitted the training set scored about chance on it."""
    argv = ["--data", "blobs", "--epochs", "300", "--print-every", "1000", "--seed", str(seed), "--out", str(tmp_path)]
    run = binary_classification.run(binary_classification.parse_args(argv))
    assert run.train_accuracy >= 0.9
    assert run.held_out_accuracy >= run.train_accuracy - 0.05
    capsys.readouterr()


def test_binary_classification_default_run_learns_the_moons(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = binary_classification.run(binary_classification.parse_args(["--out", str(tmp_path)]))
    assert run.train_accuracy >= 0.97 and run.held_out_accuracy >= 0.95
    assert run.costs[-1] < 0.1 < run.costs[0]
    assert len(run.costs) == 5000
    capsys.readouterr()


def test_decision_boundary_for_several_classes_and_bad_input(tmp_path: Path) -> None:
    X, y = make_blobs(60, np.random.default_rng(0), centers=3)

    def nearest_centre(G: FloatArray) -> FloatArray:  # (2, n) -> (3, n) one-hot of the nearest blob mean
        means = np.stack([X[:, y == c].mean(axis=1) for c in range(3)], axis=1)
        distances: FloatArray = ((G[:, None, :] - means[:, :, None]) ** 2).sum(axis=0)
        closest: FloatArray = distances.min(axis=0)
        one_hot: FloatArray = (distances == closest).astype(np.float64)
        return one_hot

    assert_png(plot_decision_boundary(nearest_centre, X, y, tmp_path / "regions.png", class_names=["a", "b", "c"]))
    with pytest.raises(ValueError, match="2 rows"):
        plot_decision_boundary(nearest_centre, np.zeros((3, 4)), np.zeros(4, dtype=np.int64), tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"y must have shape \(60,\)"):
        plot_decision_boundary(nearest_centre, X, y[:10], tmp_path / "x.png")
    with pytest.raises(ValueError, match="shape \\(k, n\\)"):
        plot_decision_boundary(lambda G: G[0], X, y, tmp_path / "x.png")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plot_decision_boundary(nearest_centre, X, y, tmp_path / "missing" / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_a_failed_write_leaves_the_old_picture(tmp_path: Path) -> None:
    X, y = make_moons(20, np.random.default_rng(0))
    params = {"W1": np.ones((1, 2)), "b1": np.zeros((1, 1))}
    target = tmp_path / "boundary.png"
    plot_decision_boundary(lambda G: predict_proba(G, params, ("sigmoid",)), X, y, target)
    before = target.read_bytes()

    def broken(G: FloatArray) -> FloatArray:
        raise RuntimeError("model failed")

    with pytest.raises(RuntimeError, match="model failed"):
        plot_decision_boundary(broken, X, y, target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["boundary.png"]


def test_image_grid_checks_its_input(tmp_path: Path) -> None:
    X = np.random.default_rng(0).random((12, 5))  # five 2x2 RGB pictures
    predicted = np.array([0, 1, 1, 0, 1])
    assert_png(
        plot_image_grid(X, (2, 2, 3), tmp_path / "grid.png", predicted=predicted, labels=np.array([0, 1, 0, 0, 1]),
                        probabilities=np.full(5, 0.8), class_names=["cat", "dog"]),  # fmt: skip
        min_size=(100, 100),
    )
    with pytest.raises(ValueError, match="h\\*w\\*c = 12"):
        plot_image_grid(X, (3, 3), tmp_path / "g.png", predicted=predicted)
    with pytest.raises(ValueError, match=r"predicted must have shape \(5,\)"):
        plot_image_grid(X, (2, 2, 3), tmp_path / "g.png", predicted=predicted[:2])
    with pytest.raises(ValueError, match=r"labels must have shape \(5,\)"):
        plot_image_grid(X, (2, 2, 3), tmp_path / "g.png", predicted=predicted, labels=predicted[:3])


def test_curves_with_and_without_accuracy(tmp_path: Path) -> None:
    classification = [EpochRecord(e, 1.0 / e, 0.5 + e / 20, 1.2 / e, 0.5 + e / 25) for e in range(1, 9)]
    assert_png(plot_curves(classification, tmp_path / "curves.png", title="t", mark_epoch=5))
    regression = [EpochRecord(e, 1.0 / e, None) for e in range(1, 4)]
    assert_png(plot_curves(regression, tmp_path / "regression.png"))
    with pytest.raises(ValueError, match="non-empty sequence of EpochRecord"):
        plot_curves([], tmp_path / "none.png")


def test_missing_matplotlib_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r'pip install -e "\.\[scripts\]"'):
        plot_curves([EpochRecord(1, 1.0, None)], tmp_path / "c.png")


def capture_figures(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every figure the plotting helpers make from now on, to read what they drew."""
    import functional_nn.plots as plots

    made: list[Any] = []
    original = plots.new_figure

    def recording(width: float, height: float) -> Any:
        made.append(original(width, height))
        return made[-1]

    monkeypatch.setattr(plots, "new_figure", recording)
    return made


def test_image_grid_titles_say_the_classes_and_colour_right_and_wrong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    X = np.linspace(0.0, 1.0, 12).reshape(4, 3)
    plot_image_grid(X, (2, 2), tmp_path / "grid.png", predicted=np.array([0, 1, 1]), labels=np.array([0, 0, 1]),
                    probabilities=np.array([0.9, 0.456, 0.5]), class_names=["cat", "dog"])  # fmt: skip
    axes = figures[-1].axes
    assert [a.get_title() for a in axes] == ["cat (0.90)\ntrue: cat", "dog (0.46)\ntrue: cat", "dog (0.50)\ntrue: dog", ""]
    assert [a.title.get_color() for a in axes[:3]] == ["#0072b2", "#cf222e", "#0072b2"]
    np.testing.assert_array_equal(axes[1].images[0].get_array(), X[:, 1].reshape(2, 2))  # column j, row by row


def test_curves_draw_the_recorded_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    history = [EpochRecord(1, 0.9, 0.5, 1.0, 0.4), EpochRecord(2, 0.5, 0.75, None, None), EpochRecord(3, 0.2, 1.0, 0.3, 0.8)]
    plot_curves(history, tmp_path / "curves.png")
    cost, accuracy = figures[-1].axes
    drawn = {(ax.get_ylabel(), line.get_label()): (list(line.get_xdata()), list(line.get_ydata()))
             for ax in (cost, accuracy) for line in ax.get_lines()}  # fmt: skip
    assert drawn == {
        ("cost", "train"): ([1, 2, 3], [0.9, 0.5, 0.2]),
        ("cost", "dev"): ([1, 3], [1.0, 0.3]),
        ("accuracy", "train"): ([1, 2, 3], [0.5, 0.75, 1.0]),
        ("accuracy", "dev"): ([1, 3], [0.4, 0.8]),
    }


@pytest.mark.parametrize("costs", [[0.0, 0.0], [-2.0, -1.0], [-1.0, -1.0], [0.5, 0.25]])
def test_the_animations_cost_axis_holds_every_cost(costs: list[float], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Costs of 0 gave identical limits (a warning) and negative ones (a loss of one's own) were cut off."""
    from functional_nn.plots import animate_training

    figures = capture_figures(monkeypatch)
    params = {"W1": np.eye(2), "b1": np.array([[-1.0], [0.0]]), "W2": np.array([[1.0, 1.0]]), "b2": np.zeros((1, 1))}
    X, y = np.array([[0.0, 1, 2, 3], [0, 1, 0, 1]]), np.array([0, 1, 0, 1])
    animate_training([(0, params), (2, params)], costs, ("sigmoid", "sigmoid"), X, y, tmp_path / "a.gif", resolution=5)
    assert (tmp_path / "a.gif").is_file()
    for figure in figures:
        low, high = figure.axes[1].get_ylim()
        assert low < min(costs) <= max(costs) < high
