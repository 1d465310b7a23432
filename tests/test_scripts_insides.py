"""The scripts that draw the network's insides, end to end on small settings (no window opens)."""

from __future__ import annotations

import inspect
import json
import math
import re
import sys

import numpy as np
from pathlib import Path

from typing import get_args

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import binary_classification  # noqa: E402  (the scripts folder is not a package)
import inspect_network  # noqa: E402
import vanishing_gradients  # noqa: E402
from test_scripts_mnist import _kaggle_csv  # noqa: E402

from functional_nn import adam, initialize_parameters, one_hot, save_parameters, scale_pixels, train  # noqa: E402
from functional_nn.data.digit_files import load_digits_csv  # noqa: E402
from functional_nn.data.toy import TOY_DATASETS, ToyName, blob_centers, make_blobs  # noqa: E402
from functional_nn.diagnostics import layer_statistics  # noqa: E402
from functional_nn.plots import animate_training, save_figure  # noqa: E402
from functional_nn.propagation import backward_propagation, forward_propagation  # noqa: E402

SAVE_DPI: int = inspect.signature(save_figure).parameters["dpi"].default  # every picture but the animation's frames
GIF_DPI: int = inspect.signature(animate_training).parameters["dpi"].default


def pixels(width: float, height: float, dpi: int = SAVE_DPI) -> tuple[int, int]:
    """The size of a ``width`` x ``height`` inch figure (``plots.new_figure``) saved at ``dpi``:
    Agg renders ``inches * dpi`` truncated to whole pixels, a size within 1e-8 pixel below a
    whole number counting as that number (``FigureCanvasBase.get_width_height``: 3.3 * 3 + 0.4
    inches is 1132.9999999999998 pixels at 110 dpi, drawn as 1133)."""
    return int(width * dpi + 1e-8), int(height * dpi + 1e-8)


def png_size(path: Path) -> tuple[int, int]:
    assert path.is_file() and path.stat().st_size > 0
    with Image.open(path) as picture:
        assert picture.format == "PNG"
        return picture.size


def test_vanishing_gradients_on_a_toy_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--data", "moons", "--quick", "--samples", "200", "--width", "8", "--histogram-epochs", "0,2", "--out", str(tmp_path)]
    assert vanishing_gradients.main(argv) == 0
    printed = capsys.readouterr().out
    assert "sigmoid, Xavier weights" in printed and "ReLU, He weights" in printed
    n_networks, hidden_layers = len(vanishing_gradients.NETWORKS), 5  # three networks of the default five hidden layers
    # plot_layer_series: one 4-inch panel per network side by side, 0.6 inch for the legend, 3.9 high
    assert png_size(tmp_path / "vanishing_gradients.png") == pixels(4.0 * n_networks + 0.6, 3.9)
    # plot_activation_histograms: a 3.3-inch column per network, a 1.55-inch row per hidden layer
    assert png_size(tmp_path / "activation_histograms.png") == pixels(3.3 * n_networks + 0.4, 1.55 * hidden_layers + 0.9)
    summary = json.loads((tmp_path / "vanishing_gradients.json").read_text())
    assert summary["layer_sizes"] == "2-8-8-8-8-8-2" and summary["epochs"] == 2
    networks = summary["networks"]
    assert [n["network"] for n in networks] == [n.label for n in vanishing_gradients.NETWORKS]
    for n in networks:
        assert n["first_recorded_step"] == 1 and n["last_recorded_step"] == 14  # 7 batches of 32, 2 epochs
        assert len(n["gradient_norm_first"]) == 6 and all(g > 0 for g in n["gradient_norm_first"])
    # the textbook effect, measured: with sigmoid units and Xavier weights, the first layer's
    # gradient is far smaller than the last hidden layer's
    assert networks[1]["layer_1_over_layer_5_first"] < 0.1
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert vanishing_gradients.main(argv) == 2  # a finished run is not replaced without --overwrite
    assert "already holds vanishing_gradients.png" in capsys.readouterr().err


@pytest.mark.parametrize("data", get_args(ToyName))
def test_vanishing_gradients_tests_on_the_training_sets_distribution(data: ToyName) -> None:
    """The documented draws: the training set, then the test set; for the blobs, the centres once,
    first, so that the test set comes from the training set's blobs (make_blobs draws new
    centres at every call: a second call samples other blobs, and the test accuracy was chance)."""
    loaded = vanishing_gradients.load_data(vanishing_gradients.parse_args(["--data", data, "--samples", "300", "--seed", "3"]))
    rng = np.random.default_rng(3)
    X, y = TOY_DATASETS[data](300, rng)  # a blobs training set as make_blobs draws it, centres and all
    centres = blob_centers(np.random.default_rng(3))
    X_test, y_test = make_blobs(1000, rng, centers=centres) if data == "blobs" else TOY_DATASETS[data](1000, rng)
    np.testing.assert_array_equal(loaded.X, X.astype(np.float32))
    np.testing.assert_array_equal(loaded.X_test, X_test.astype(np.float32))
    np.testing.assert_array_equal(loaded.y, y)
    np.testing.assert_array_equal(loaded.y_test, y_test)
    for c in range(loaded.classes):  # the same distribution: the class means agree (noise 0.1 to 1)
        np.testing.assert_allclose(loaded.X[:, loaded.y == c].mean(axis=1), loaded.X_test[:, loaded.y_test == c].mean(axis=1), atol=0.3)


def test_vanishing_gradients_refuses_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--layers", "0"], ["--histogram-epochs", "0,9", "--epochs", "3"], ["--histogram-epochs", "a"], ["--learning-rate", "0"]):
        with pytest.raises(SystemExit) as exit_info:
            vanishing_gradients.parse_args(argv)
        assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_vanishing_gradients_refuses_no_samples_even_when_quick(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        vanishing_gradients.parse_args(["--quick", "--samples", "0"])  # not "0 or 2000"
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().endswith("error: --samples must be >= 1, got 0")
    assert vanishing_gradients.parse_args(["--quick", "--samples", "500"]).samples == 500
    assert vanishing_gradients.parse_args(["--quick"]).samples == 2000


def test_vanishing_gradients_refuses_an_empty_histogram_epoch(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        vanishing_gradients.parse_args(["--histogram-epochs", "0,,5"])
    assert exit_info.value.code == 2
    assert "error: --histogram-epochs must be epochs such as 0,1,5, got '0,,5'" in capsys.readouterr().err


def test_vanishing_gradients_never_replaces_a_read_only_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in vanishing_gradients.OUTPUTS:
        (tmp_path / name).write_text("earlier")
    summary = tmp_path / "vanishing_gradients.json"
    summary.chmod(0o444)
    argv = ["--data", "moons", "--quick", "--samples", "100", "--width", "4", "--layers", "2", "--out", str(tmp_path), "--overwrite"]
    assert vanishing_gradients.main(argv) == 2  # refused before training, not after the pictures were replaced
    assert capsys.readouterr().err == (
        f"error: --out {tmp_path} holds read-only vanishing_gradients.json: make it writable, or choose another --out\n"
    )
    assert all((tmp_path / name).read_text() == "earlier" for name in vanishing_gradients.OUTPUTS)
    summary.chmod(0o644)  # writable again: replaced, atomically
    assert vanishing_gradients.main(argv) == 0
    assert json.loads(summary.read_text())["layer_sizes"] == "2-4-4-2"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(vanishing_gradients.OUTPUTS)  # no temporary file left


def test_animation_epochs_are_distinct_increasing_and_end_at_the_last() -> None:
    chosen = binary_classification.animation_epochs(5000, 50)
    assert len(chosen) == 50 and chosen[0] == 1 and chosen[-1] == 5000
    assert all(a < b for a, b in zip(chosen, chosen[1:]))
    assert chosen[1] - chosen[0] < chosen[-1] - chosen[-2]  # denser at the start
    assert binary_classification.animation_epochs(10, 50) == list(range(1, 11))
    assert binary_classification.animation_epochs(7, 1) == [7]
    assert binary_classification.animation_epochs(60, 3) == [1, 16, 60]


@pytest.mark.parametrize("data", get_args(ToyName))
def test_the_tutorial_animates_every_toy_set(data: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frames = 4 if data == "moons" else 2
    argv = ["--data", data, "--samples", "40", "--epochs", "30", "--animate", "--frames", str(frames), "--out", str(tmp_path)]
    run = binary_classification.run(binary_classification.parse_args(argv))
    assert run.animation == tmp_path / "training.gif" and f"({frames} frames" in capsys.readouterr().out
    with Image.open(run.animation) as gif:  # animate_training's 9 x 3.8 inch frames, at its own dpi
        assert gif.format == "GIF" and getattr(gif, "n_frames", 1) == frames and gif.size == pixels(9.0, 3.8, GIF_DPI)
    assert run.animation.stat().st_size < 3_000_000
    assert png_size(run.hidden_units) == pixels(11.0, 4.9)  # plot_hidden_units: the units' lines beside the boundary
    assert png_size(run.picture) == pixels(6.4, 5.2)  # plot_decision_boundary
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_the_tutorial_writes_no_animation_unless_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = binary_classification.run(binary_classification.parse_args(["--epochs", "3", "--samples", "30", "--out", str(tmp_path)]))
    assert run.animation is None and not (tmp_path / "training.gif").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decision_boundary.png", "hidden_units.png"]
    capsys.readouterr()


def test_inspect_network_draws_a_trained_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    csv = _kaggle_csv(tmp_path / "digits.csv", rng, 120)
    digits = load_digits_csv(csv)
    assert digits.y is not None
    X = scale_pixels(digits.X, dtype=np.float32)
    # what train_mnist.py keeps of a run, made quickly: params.npz with its activations
    params = initialize_parameters([784, 20, 10], rng, dtype=np.float32)
    state = train(X, one_hot(digits.y, 10, dtype=np.float32), params, activations=("relu", "softmax"),
                  loss="categorical_cross_entropy", epochs=3, optimizer=adam(1e-3), batch_size=16, rng=rng)  # fmt: skip
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    save_parameters(run_dir / "params.npz", state.params, metadata={"activations": ["relu", "softmax"]})
    assert inspect_network.main([str(run_dir), "--csv", str(csv), "--tiles", "16"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["samples"] == 120 and len(summary["per_class_accuracy"]) == 10
    # the accuracy is the mean of the per-class accuracies weighted by the 12 samples of each class
    assert summary["accuracy"] == pytest.approx(sum(summary["per_class_accuracy"]) / 10, abs=1e-5)
    assert [layer["units"] for layer in summary["layers"]] == [20, 10]
    # the dead and saturated shares are layer_statistics' on the 120 samples (one forward pass)
    AL, caches = forward_propagation(X, state.params, ("relu", "softmax"))
    grads = backward_propagation(AL, one_hot(digits.y, 10, dtype=np.float32), caches, "categorical_cross_entropy")
    statistics = layer_statistics(caches, grads, state.params)
    for layer, figures in zip(summary["layers"], statistics):
        assert (layer["dead_fraction"], layer["saturated_fraction"]) == (figures.dead_fraction, figures.saturated_fraction)
    # ReLU units that output 0 for every sample, counted by hand
    assert summary["layers"][0]["dead_fraction"] == float(np.mean((caches[0].A <= 0).all(axis=1)))
    # inspect_network's figures: 16 tiles on a 4 x 4 grid of 1-inch cells (at least 6 inches wide,
    # for the title), a 3.4 x 2.9 inch panel per layer, and two 6.4-inch-wide plots
    side = math.ceil(math.sqrt(16))
    assert png_size(run_dir / "weights.png") == pixels(max(1.0 * side + 0.3, 6.0), 1.0 * side + 0.5)
    assert png_size(run_dir / "activations.png") == pixels(3.4 * 2, 2.9)
    assert png_size(run_dir / "confidence.png") == pixels(6.4, 3.8)
    assert png_size(run_dir / "per_class.png") == pixels(6.4, 3.6)
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]
    assert inspect_network.main([str(run_dir), "--csv", str(csv)]) == 2
    assert "already holds weights.png" in capsys.readouterr().err
    assert inspect_network.main([str(run_dir), "--csv", str(csv), "--tiles", "4", "--overwrite"]) == 0
    assert png_size(run_dir / "weights.png") == pixels(max(1.0 * 2 + 0.3, 6.0), 1.0 * 2 + 0.5)  # 4 tiles, 2 x 2


def test_inspect_network_reports_a_missing_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert inspect_network.main([str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path} holds no params.npz")


def test_the_pictures_refuse_what_they_cannot_draw(tmp_path: Path) -> None:
    from functional_nn.plots import LayerSeries, animate_training, plot_hidden_units, plot_layer_series

    with pytest.raises(ValueError, match=r"steps must have shape \(3,\)"):
        plot_layer_series([LayerSeries("a", np.arange(2.0), np.ones((3, 2)))], tmp_path / "a.png", ylabel="norm")
    with pytest.raises(ValueError, match="LayerSeries"):
        plot_layer_series([], tmp_path / "a.png", ylabel="norm")
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((2, 20)), (np.arange(20) % 2).astype(np.int64)
    three_inputs = initialize_parameters([3, 4, 1], rng)
    with pytest.raises(ValueError, match=r"2 inputs, a hidden layer and 1 output unit.*\(3, 4, 1\)"):
        plot_hidden_units(three_inputs, ("sigmoid", "sigmoid"), X, y, tmp_path / "h.png")
    params = initialize_parameters([2, 3, 1], rng)
    for epochs in ([1, 3], [2, 1]):
        with pytest.raises(ValueError, match=re.escape(f"epochs must never decrease and must lie in 0..2 (the epochs in costs), got {epochs}")):
            animate_training([(e, params) for e in epochs], [0.7, 0.6], ("sigmoid", "sigmoid"), X, y, tmp_path / "t.gif")
    with pytest.raises(ValueError, match="costs must be a non-empty sequence of finite numbers"):
        animate_training([(1, params)], [float("nan")], ("sigmoid", "sigmoid"), X, y, tmp_path / "t.gif")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        animate_training([(1, params)], [0.7], ("sigmoid", "sigmoid"), X, y, tmp_path / "missing" / "t.gif")
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing half-written


def test_inspect_network_has_no_accuracy_for_a_digit_without_samples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    csv = _kaggle_csv(tmp_path / "digits.csv", rng, 30)
    lines = csv.read_text().splitlines()
    csv.write_text("\n".join([lines[0], *(line for line in lines[1:] if int(line.split(",")[0]) < 5)]) + "\n")  # digits 0-4 only
    digits = load_digits_csv(csv)
    assert digits.y is not None
    params = initialize_parameters([784, 6, 10], rng, dtype=np.float32)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    save_parameters(run_dir / "params.npz", params, metadata={"activations": ["relu", "softmax"]})
    assert inspect_network.main([str(run_dir), "--csv", str(csv), "--tiles", "4"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    AL, _ = forward_propagation(scale_pixels(digits.X, dtype=np.float32), params, ("relu", "softmax"))
    right = np.argmax(AL, axis=0) == digits.y
    assert summary["per_class_accuracy"] == [round(float(np.mean(right[digits.y == k])), 6) for k in range(5)] + [None] * 5
    assert summary["accuracy"] == float(np.mean(right)) and summary["samples"] == 15
    assert png_size(run_dir / "per_class.png") == pixels(6.4, 3.6)
