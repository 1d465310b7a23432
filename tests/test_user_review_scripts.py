"""A user's review of the scripts and the data path: what it found, as tests.

``plot_layer_series`` on a log axis (``scripts/vanishing_gradients.py`` draws the gradient
norms so, with ``smooth=5``) leaves values of 0 and below undrawn, as its docstring says; its
moving average must leave them out too, rather than average them in as ``log(2.2e-308)``: a
ReLU network whose units all died has gradient norms of exactly 0, and its smoothed lines then
sat at 1e-308 and squeezed the other panels, which share the y axis, into a line at the top.

The toy scripts pass ``--samples`` and ``--noise`` to a maker whose refusal names its own
arguments (``n_samples``, ``noise=``): the user reads of an option they never typed."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from functional_nn.plots import LayerSeries, plot_layer_series
from test_scripts_pictures import capture_figures

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import binary_classification  # noqa: E402
import vanishing_gradients  # noqa: E402


def test_smoothing_on_a_log_axis_leaves_out_a_gradient_norm_of_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    values = np.array([[1e-3, 0.5]] * 5)
    values[2, 0] = 0.0  # one step where no gradient reached layer 1
    plot_layer_series([LayerSeries("p", np.arange(5.0), values)], tmp_path / "s.png", ylabel="v", smooth=3)
    smoothed = [line for line in figures[-1].axes[0].get_lines() if line.get_label() == "layer 1"]
    # the geometric mean of the values drawn in each window: 1e-3 throughout
    np.testing.assert_allclose(smoothed[0].get_ydata(), [1e-3] * 5, rtol=1e-12)


def test_a_dead_network_beside_a_live_one_leaves_the_shared_axis_readable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    steps = np.arange(1.0, 21.0)
    live = np.tile([1e-3, 1e-2, 1e-1], (20, 1))
    dead = np.zeros((20, 3))  # every ReLU unit dead: every gradient norm exactly 0
    plot_layer_series(
        [LayerSeries("sigmoid", steps, live), LayerSeries("relu", steps, dead)], tmp_path / "g.png", ylabel="||dW||", smooth=5
    )
    dead_lines = [line for line in figures[-1].axes[1].get_lines() if str(line.get_label()).startswith("layer")]
    assert all(np.isnan(np.asarray(line.get_ydata(), dtype=np.float64)).all() for line in dead_lines)  # nothing to draw
    low, high = figures[-1].axes[0].get_ylim()
    assert 1e-4 < low < 1e-3 and 1e-1 < high < 1.0


def test_binary_classification_names_its_own_options_when_the_maker_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert binary_classification.main(["--data", "spirals", "--samples", "1", "--out", str(tmp_path / "a")]) == 2
    assert capsys.readouterr().err == "error: --samples must be >= 2 so that each of the 2 classes gets a sample, got 1\n"
    assert binary_classification.main(["--noise", "1e308", "--out", str(tmp_path / "b")]) == 2
    assert capsys.readouterr().err.startswith("error: --noise 1e+308 is too large for float64 data: X would hold ")
    assert list(tmp_path.iterdir()) == []


def test_vanishing_gradients_names_samples_when_the_maker_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert vanishing_gradients.main(["--data", "moons", "--samples", "1", "--out", str(tmp_path / "a")]) == 2
    assert capsys.readouterr().err == "error: --samples must be >= 2 so that each of the 2 classes gets a sample, got 1\n"
    assert list(tmp_path.iterdir()) == []
