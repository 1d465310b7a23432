"""Exact values of the picture folders, the toy sets, the plotted numbers and the scripts' figures.

Each test pins a number worked out by hand (or by a path independent of the code under test)
where the other tests only check shapes or ranges.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from functional_nn.data.images import load_image_folder
from functional_nn.data.toy import make_circles
from functional_nn.diagnostics import LayerStatistics, StepStatistics
from functional_nn.fold_state import BatchProgress
from functional_nn.plots import (
    ActivationSnapshot,
    HistogramColumn,
    LayerSeries,
    plot_activation_histograms,
    plot_decision_boundary,
    plot_layer_series,
)
from functional_nn.types import FloatArray
from test_scripts_pictures import capture_figures

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import vanishing_gradients  # noqa: E402  (the scripts folder is not a package)


# --------------------------------------------------------------------------------------------
# load_image_folder


def _write_gray(path: Path, pixels: list[list[int]], exif_orientation: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    picture = Image.fromarray(np.array(pixels, dtype=np.uint8), mode="L")
    if exif_orientation is None:
        picture.save(path)
    else:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation  # the EXIF Orientation tag
        picture.save(path, exif=exif)


def test_resizing_is_bilinear_by_hand(tmp_path: Path) -> None:
    """A 1x2 row [0, 200] stretched to 1x4: bilinear samples at x = -0.25, 0.25, 0.75, 1.25 of the
    source (clamped at its edges) give 0, 50, 150, 200; nearest neighbour would give 0, 0, 200, 200."""
    _write_gray(tmp_path / "a" / "row.png", [[0, 200]])
    _write_gray(tmp_path / "b" / "flat.png", [[7, 7]])
    folder = load_image_folder(tmp_path, size=(1, 4), dtype=np.float64)
    np.testing.assert_allclose(folder.X[:, 0], np.array([0.0, 50.0, 150.0, 200.0]) / 255, atol=1e-12)
    np.testing.assert_allclose(folder.X[:, 1], np.full(4, 7.0 / 255), atol=1e-12)


def test_exif_orientation_turns_the_picture_upright(tmp_path: Path) -> None:
    """Orientation 6: stored row 0 is the visual right-hand side, so the picture shown is the
    stored one turned a quarter clockwise (np.rot90(stored, -1)); 3 high, 2 wide, no resize."""
    stored = [[10, 20, 30], [40, 50, 60]]  # 2 high, 3 wide as stored
    _write_gray(tmp_path / "a" / "turned.png", stored, exif_orientation=6)
    _write_gray(tmp_path / "b" / "plain.png", [[1, 2], [3, 4], [5, 6]])
    folder = load_image_folder(tmp_path, size=(3, 2), dtype=np.float64)
    upright = np.array([[40, 10], [50, 20], [60, 30]], dtype=np.float64)
    np.testing.assert_array_equal(upright, np.rot90(np.array(stored), -1))
    np.testing.assert_allclose(folder.X[:, 0], upright.ravel() / 255, atol=1e-12)
    np.testing.assert_allclose(folder.X[:, 1], np.arange(1.0, 7.0) / 255, atol=1e-12)


def test_class_folders_are_sorted_by_code_point_so_upper_case_comes_first(tmp_path: Path) -> None:
    """"B" < "a" in Python's sort: the labels must not depend on a case-folding order."""
    _write_gray(tmp_path / "a" / "x.png", [[1]])
    _write_gray(tmp_path / "B" / "x.png", [[2]])
    folder = load_image_folder(tmp_path, size=(1, 1), dtype=np.float64)
    assert folder.class_names == ("B", "a")
    assert folder.y.tolist() == [0, 1]
    np.testing.assert_allclose(folder.X[0], [2 / 255, 1 / 255])


# --------------------------------------------------------------------------------------------
# toy sets


def test_circles_angles_are_evenly_spaced_without_repeating_the_start() -> None:
    """4 points per circle over [0, 2 pi): angles 0, pi/2, pi, 3 pi/2, so (1, 0), (0, 1), (-1, 0), (0, -1)."""
    X, y = make_circles(8, np.random.default_rng(3), noise=0.0, factor=0.5)
    expected = {(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0)}
    for label, radius in ((0, 1.0), (1, 0.5)):
        points = {(round(float(a) / radius, 9) + 0.0, round(float(b) / radius, 9) + 0.0) for a, b in X[:, y == label].T}
        assert points == expected


# --------------------------------------------------------------------------------------------
# the numbers the plots draw


def test_decision_boundary_grid_and_surface_by_hand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """X spans [0, 1] x [0, 10]; margin 0.25 pads each axis by a quarter of its own span."""
    import matplotlib.axes

    seen: list[FloatArray] = []
    drawn: list[tuple[Any, ...]] = []
    original = matplotlib.axes.Axes.contourf

    def recording(self: Any, *args: Any, **kwargs: Any) -> Any:
        drawn.append(args[:3])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "contourf", recording)

    def probability(G: FloatArray) -> FloatArray:
        seen.append(G.copy())
        surface: FloatArray = (1.0 / (1.0 + np.exp(-(G[0] - 0.5) * 3 - (G[1] - 5.0) * 0.1 * G[0])))[np.newaxis, :]
        return surface

    X = np.array([[0.0, 1.0, 0.5], [0.0, 10.0, 2.0]])
    plot_decision_boundary(probability, X, np.array([0, 1, 0]), tmp_path / "b.png", resolution=5)
    xs, ys = np.linspace(-0.25, 1.25, 5), np.linspace(-2.5, 12.5, 5)
    expected_G = np.array([[x for _ in ys for x in xs], [yv for yv in ys for _ in xs]])
    np.testing.assert_allclose(seen[0], expected_G, atol=1e-12)
    grid_x, grid_y, surface = drawn[0]
    for i in range(5):
        for j in range(5):
            x, yv = float(grid_x[i, j]), float(grid_y[i, j])
            assert (x, yv) == pytest.approx((xs[j], ys[i]))
            assert surface[i, j] == pytest.approx(1.0 / (1.0 + math.exp(-(x - 0.5) * 3 - (yv - 5.0) * 0.1 * x)))


def test_layer_series_smoothing_is_a_centred_moving_average(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Window 3 over 1, 2, 3, 4, 5 with the ends repeated: (1+1+2)/3, 2, 3, 4, (4+5+5)/3."""
    figures = capture_figures(monkeypatch)
    values = np.array([[1.0], [2.0], [3.0], [4.0], [5.0]])
    plot_layer_series([LayerSeries("p", np.arange(5.0), values)], tmp_path / "s.png", ylabel="v", log_scale=False, smooth=3)
    (line,) = [ln for ln in figures[-1].axes[0].get_lines() if ln.get_label() == "layer 1"]
    np.testing.assert_allclose(line.get_ydata(), [4 / 3, 2.0, 3.0, 4.0, 14 / 3])


def test_histogram_range_of_an_unbounded_activation_ends_at_the_99_5th_percentile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Values 0..999: the 99.5th percentile interpolates at position 0.995 * 999 = 994.005."""
    figures = capture_figures(monkeypatch)
    A = np.arange(1000.0).reshape(1, 1000)
    plot_activation_histograms([HistogramColumn("relu", [ActivationSnapshot("epoch 0", (A,))])], tmp_path / "h.png", bins=10)
    (patch,) = figures[-1].axes[0].patches
    counts, edges = patch.get_data()[0], patch.get_data()[1]
    assert edges[0] == 0.0
    assert edges[-1] == pytest.approx(994.005)
    assert counts[-1] == pytest.approx((1000 - 895) / 1000)  # 894.6045.. up to the clipped tail: 895..999


# --------------------------------------------------------------------------------------------
# scripts/vanishing_gradients.py


def _layer(l: int, gradient_norm: float, saturated: float) -> LayerStatistics:
    return LayerStatistics(l, "sigmoid", 0.0, 1.0, 0.5, 0.1, saturated, saturated / 2, 1.0, gradient_norm, 0.01)


def test_summary_ratio_is_layer_1_over_the_last_hidden_layer_and_fractions_are_the_last_steps() -> None:
    progress = BatchProgress(1, 1, 4, 8, 0.5)
    first = StepStatistics(progress, (_layer(1, 0.02, 0.1), _layer(2, 0.1, 0.2), _layer(3, 0.5, 0.3), _layer(4, 2.0, 0.0)))
    last = StepStatistics(progress._replace(step=4), (_layer(1, 0.04, 0.6), _layer(2, 0.2, 0.7), _layer(3, 1.0, 0.8), _layer(4, 3.0, 0.0)))
    result = vanishing_gradients.Result(
        vanishing_gradients.NETWORKS[0], np.array([1.0, 4.0]), np.zeros((2, 4)), (first, last), (), 0.75
    )
    summary = vanishing_gradients.summary_of(result)
    assert summary["layer_1_over_layer_3_first"] == pytest.approx(0.02 / 0.5)
    assert summary["saturated_fraction_first"] == [0.1, 0.2, 0.3]
    assert summary["saturated_fraction_last"] == [0.6, 0.7, 0.8]
    assert summary["dead_fraction_last"] == [0.3, 0.35, 0.4]
    assert summary["gradient_norm_last"] == [0.04, 0.2, 1.0, 3.0]


def test_histogram_snapshots_are_the_hidden_outputs_on_the_test_samples(capsys: pytest.CaptureFixture[str]) -> None:
    """Epoch 0's snapshot: sigmoid(W1 X_test + b1) with the network's N(0, 1) parameters drawn from
    default_rng(seed + 1) in the order W1, b1, W2, b2 (one standard_normal call each)."""
    rng = np.random.default_rng(11)
    X, X_test = rng.normal(size=(2, 20)).astype(np.float32), rng.normal(size=(2, 6)).astype(np.float32) + 3
    data = vanishing_gradients.Data(X, np.arange(20) % 2, X_test, np.arange(6) % 2, 2, "toy")
    args = argparse.Namespace(width=3, layers=1, seed=5, histogram_epochs=[0], every=None, epochs=1, learning_rate=0.1, batch_size=10)
    result = vanishing_gradients.run_network(vanishing_gradients.NETWORKS[0], data, args)
    capsys.readouterr()
    draws = np.random.default_rng(6)
    W1 = draws.standard_normal((3, 2))
    b1 = draws.standard_normal((3, 1))
    expected = 1.0 / (1.0 + np.exp(-(W1 @ X_test.astype(np.float64) + b1)))
    ((epoch, (A1,)),) = result.snapshots
    assert epoch == 0
    np.testing.assert_allclose(A1, expected, rtol=1e-5)
