"""A user review of the pictures' accessibility: about 1 man in 12 has a red-green colour
vision deficiency, so colours that must be told apart are compared as a deuteranope and a
protanope see them (Machado, Oliveira and Fernandes 2009, severity 1, in linear sRGB), by
their CIELAB distance (CIE76 Delta E*ab; about 2 is a just noticeable difference between
large patches, and marks as small as an 8-point title or a scatter point need far more), and
text is held to WCAG 2's 4.5:1 contrast against the colour it is drawn on."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from matplotlib.colors import to_rgb

from functional_nn import initialize_parameters
from functional_nn.data.toy import make_moons
from functional_nn.plots import plot_decision_boundary, plot_hidden_units, plot_image_grid
from functional_nn.types import FloatArray
from test_scripts_pictures import capture_figures

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import train_mnist  # noqa: E402  (the scripts folder is not a package)

Matrix = npt.NDArray[np.float64]

MACHADO_2009: dict[str, Matrix] = {
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]),
}
SRGB_TO_XYZ: Matrix = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
D65_WHITE: Matrix = np.array([0.95047, 1.0, 1.08883])


def _linear(colour: Any) -> Matrix:
    srgb = np.asarray(to_rgb(colour), dtype=np.float64)
    linear: Matrix = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    return linear


def _lab(linear: Matrix) -> Matrix:
    t = (SRGB_TO_XYZ @ linear) / D65_WHITE
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen_apart(a: Any, b: Any) -> float:
    """The smaller CIELAB distance of colours ``a`` and ``b`` as a deuteranope and as a protanope see them."""
    return min(
        float(np.linalg.norm(_lab(np.clip(M @ _linear(a), 0, 1)) - _lab(np.clip(M @ _linear(b), 0, 1)))) for M in MACHADO_2009.values()
    )


def closest_pair(colours: Sequence[Any]) -> float:
    return min(seen_apart(a, b) for a, b in itertools.combinations(colours, 2))


def contrast(a: Any, b: Any) -> float:
    """WCAG 2's contrast ratio of two colours, 1 to 21."""
    la, lb = (float(_linear(c) @ np.array([0.2126, 0.7152, 0.0722])) for c in (a, b))
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def test_right_and_wrong_titles_are_told_apart_without_red_green(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # green #1a7f37 and red #cf222e were 17.9 apart: both khaki to a deuteranope (8.8 in CAM02-UCS)
    figures = capture_figures(monkeypatch)
    X = np.full((4, 2), 0.5)
    plot_image_grid(X, (2, 2), tmp_path / "grid.png", predicted=np.array([1, 1]), labels=np.array([1, 0]), class_names=["cat", "dog"])
    right, wrong = (ax.title.get_color() for ax in figures[-1].axes)
    assert seen_apart(right, wrong) >= 30
    assert min(contrast(right, "white"), contrast(wrong, "white")) >= 4.5  # text on the white figure


def test_every_class_of_a_decision_boundary_is_told_apart_without_red_green(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # classes 1 and 2 (red #b2182b, green #1b7837) were 12.4 apart, 5.5 in CAM02-UCS: three spirals' two arms looked one
    figures = capture_figures(monkeypatch)
    k = 8
    X = np.stack([np.arange(k, dtype=np.float64), np.arange(k, dtype=np.float64) % 3])
    y = np.arange(k)

    def probability(G: FloatArray) -> FloatArray:
        nearest = np.clip(np.rint(G[0]), 0, k - 1).astype(np.int64)
        return np.eye(k)[:, nearest]

    plot_decision_boundary(probability, X, y, tmp_path / "classes.png", resolution=8)
    points = [c.get_facecolor()[0] for c in figures[-1].axes[0].collections if c.get_label() in {str(label) for label in range(k)}]
    assert len(points) == k
    assert closest_pair(points[:3]) >= 25  # three classes, the usual multi-class toy
    assert closest_pair(points) >= 15


def test_the_hidden_units_lines_are_told_apart_without_red_green(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator) -> None:
    # units 1 and 3 (orange #e66101, green #008837) were 13.5 apart (5.5 in CAM02-UCS under protanopia), in the
    # default 2-3-1 picture and training.gif; units 1 and 8 (dark goldenrod #b8860b) 4.3 (1.6 under deuteranopia)
    figures = capture_figures(monkeypatch)
    X, y = make_moons(40, rng)
    for hidden in (3, 8):
        params = initialize_parameters([2, hidden, 1], rng, scheme="standard_normal")
        plot_hidden_units(params, ("sigmoid", "sigmoid"), X, y, tmp_path / "units.png", resolution=8)
        lines = [line.get_color() for line in figures[-1].axes[0].get_lines() if line.get_label().startswith("unit ")]
        assert len(lines) == hidden
        assert closest_pair(lines) >= (25 if hidden == 3 else 8)


def test_the_confusion_matrix_counts_contrast_with_their_cells(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # white text on Blues' mid blues (a cell at 0.6 to 0.7 of the log scale: 55 to 125 of 1000) was 3.3:1 to 4.5:1
    figures = capture_figures(monkeypatch)
    counts = np.diag(np.full(10, 1000)) + np.diag(np.arange(60, 150, 10)[:9], k=1) + np.diag(np.arange(1, 10), k=-1)
    train_mnist.plot_confusion(tmp_path / "confusion.png", counts.astype(np.int64), "t")
    axis = figures[-1].axes[0]
    image = axis.images[0]
    shade = np.asarray(image.get_array())
    texts = axis.texts
    assert len(texts) == np.count_nonzero(counts)
    worst = min(
        contrast(text.get_color(), image.cmap(image.norm(shade[int(round(text.get_position()[1])), int(round(text.get_position()[0]))])))
        for text in texts
    )
    assert worst >= 4.5
