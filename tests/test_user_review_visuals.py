"""A learner's review of the pictures of a network's insides: ``plot_layer_series`` for networks
of different depths, ``plot_activation_histograms`` given snapshots of the wrong kind, and
``scripts/inspect_network.py`` given a network whose outputs are not probabilities.

The layer-series pictures are read back from the SVG that ``plot_layer_series`` itself writes
(text kept as text), so what is checked is what the reader of the file sees."""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from functional_nn.initializers import initialize_parameters
from functional_nn.plots import ActivationSnapshot, HistogramColumn, LayerSeries, plot_activation_histograms, plot_hidden_units, plot_layer_series
from functional_nn.serialization import save_parameters

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import inspect_network  # noqa: E402  (the scripts folder is not a package)
from test_scripts_pictures import capture_figures  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"


def _group(parent: ET.Element, gid: str) -> ET.Element:
    (found,) = [g for g in parent.iter(f"{SVG}g") if g.get("id") == gid]
    return found


def _stroke(line: ET.Element) -> str:
    (path,) = line.iter(f"{SVG}path")
    match = re.search(r"stroke: (#[0-9a-f]{6})", path.get("style", ""))
    assert match is not None
    return match.group(1)


def _data_lines(axes: ET.Element) -> list[str]:
    """The stroke colours of the lines drawn in ``axes``, in order (not its grid nor its ticks)."""
    return [_stroke(g) for g in axes.findall(f"{SVG}g") if g.get("id", "").startswith("line2d_")]


def test_layer_series_of_networks_of_different_depths_colour_each_layer_alike_and_name_every_layer(tmp_path: Path) -> None:
    steps = np.arange(1.0, 4.0)
    panels = [LayerSeries("three layers", steps, np.ones((3, 3))), LayerSeries("two layers", steps, np.full((3, 2), 2.0))]
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        path = plot_layer_series(panels, tmp_path / "depths.svg", ylabel="norm")
    figure = ET.parse(path).getroot()
    deep, shallow = _group(figure, "axes_1"), _group(figure, "axes_2")
    deep_colours, shallow_colours = _data_lines(deep), _data_lines(shallow)
    assert len(set(deep_colours)) == 3
    # layer 2 of the two-layer network is drawn in the colour of layer 2, not of layer 3
    assert shallow_colours == deep_colours[:2]
    legend = _group(shallow, "legend_1")
    assert [t.text for t in legend.iter(f"{SVG}text")] == ["layer 1", "layer 2", "layer 3"]
    assert _data_lines(legend) == deep_colours


def test_layer_series_refuses_a_panel_with_nothing_to_draw(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^panel 'empty' has no values to draw: values has shape \(0, 2\), \(steps, layers\)$"):
        plot_layer_series([LayerSeries("empty", np.zeros(0), np.zeros((0, 2)))], tmp_path / "s.png", ylabel="norm")
    assert list(tmp_path.iterdir()) == []


def test_histogram_snapshot_of_a_bare_array_is_refused_not_drawn_row_by_row(tmp_path: Path) -> None:
    A = np.linspace(0.0, 1.0, 6).reshape(2, 3)  # one layer of 2 units: its rows are not two layers
    bare = HistogramColumn("sigmoid", [ActivationSnapshot("epoch 0", A)], (0.0, 1.0))  # type: ignore[arg-type]
    with pytest.raises(
        TypeError,
        match=r"^columns\[0\]\.snapshots\[0\]\.activations must be a tuple of every layer's outputs \(A_1, \.\.\., A_L\), "
        r"got ndarray; one layer's outputs A are \(A,\)$",
    ):
        plot_activation_histograms([bare], tmp_path / "h.png")
    assert list(tmp_path.iterdir()) == []


def test_histogram_snapshot_that_is_a_plain_pair_is_refused_by_name(tmp_path: Path) -> None:
    pair = HistogramColumn("relu", [("epoch 0", (np.ones((2, 3)),))])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"^columns\[0\]\.snapshots\[0\] must be an ActivationSnapshot\(label, activations\), got tuple$"):
        plot_activation_histograms([pair], tmp_path / "h.png")
    assert list(tmp_path.iterdir()) == []


def test_inspect_network_refuses_outputs_that_are_not_probabilities(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A linear output's winning values run past 1: confidence.png's histogram over [0, 1] would
    leave them out unsaid, and the summary would call them the medians of probabilities."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    params = initialize_parameters([784, 3, 10], np.random.default_rng(0), dtype=np.float32)
    path = save_parameters(run_dir / "params.npz", params, metadata={"activations": ["relu", "linear"]})
    assert inspect_network.main([str(run_dir), "--out", str(tmp_path / "pictures")]) == 2
    expected = (
        f"error: {path} ends in a 'linear' layer, whose outputs (-inf to inf) are not probabilities: "
        "this script reads MNIST classifiers whose last layer gives them, such as 'softmax'"
    )
    assert capsys.readouterr().err.strip().splitlines()[-1] == expected
    assert not (tmp_path / "pictures").exists()


@pytest.mark.parametrize(("hidden", "said"), [("sigmoid", "sigmoid output 0.5"), ("tanh", "tanh output 0"), ("relu", "relu output 0")])
def test_hidden_units_title_names_the_hidden_activation_and_its_value_on_the_line(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch, hidden: str, said: str
) -> None:
    figures = capture_figures(monkeypatch)  # the title is mathtext, drawn as paths in any file: read from the figure
    params = initialize_parameters((2, 3, 1), rng)
    X, y = rng.standard_normal((2, 6)), np.array([0, 1, 0, 1, 1, 0])
    plot_hidden_units(params, (hidden, "sigmoid"), X, y, tmp_path / "units.png", resolution=4)  # type: ignore[arg-type]
    assert figures[-1].axes[0].get_title() == f"hidden units: where $w_j \\cdot x + b_j = 0$ ({said})"
