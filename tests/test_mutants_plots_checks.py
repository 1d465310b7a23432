"""Behaviour of the pictures, the checks, the allocator calls and the records' defaults that the
rest of the suite left unpinned, found by mutation testing.

Each test fails on at least one mutant of ``plots``, ``_validation``, ``allocator``, ``types`` or ``_mxcsr``
(a flipped comparison, a changed constant or default, a dropped statement) that the tests
exercising that module let pass. The figures are read back from the ``matplotlib`` ``Figure``
objects the functions draw (Agg, nothing shown): the numbers plotted, the limits, the labels.
"""

from __future__ import annotations

import math
import mmap
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import functional_nn.plots as plots
from functional_nn import _validation as check
from functional_nn import allocator
from functional_nn.fold_state import EpochRecord
from functional_nn.plots import (
    ActivationSnapshot,
    HistogramColumn,
    LayerSeries,
    animate_training,
    plot_activation_histograms,
    plot_curves,
    plot_decision_boundary,
    plot_hidden_units,
    plot_image_grid,
    plot_layer_series,
)
from functional_nn.types import Activation, ActivationFunction, FloatArray, LossFunction
from test_scripts_pictures import capture_figures as capture_drawn_figures

SIGMOIDS: tuple[Activation, Activation] = ("sigmoid", "sigmoid")

# --------------------------------------------------------------------------------------------
# allocator: the documented calls on glibc, seen through stand-ins for its functions


def _recording_glibc(monkeypatch: pytest.MonkeyPatch, returns: int) -> list[tuple[str, tuple[int, ...]]]:
    """Replace the C library's functions with recorders returning ``returns``; the calls made."""
    calls: list[tuple[str, tuple[int, ...]]] = []

    def function(name: str) -> Callable[..., int]:
        def call(*arguments: int) -> int:
            calls.append((name, arguments))
            return returns

        return call

    monkeypatch.setattr(allocator, "_glibc_function", function)
    return calls


def test_keep_freed_memory_sets_glibcs_mmap_then_trim_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    # <malloc.h>: M_TRIM_THRESHOLD is -1, M_MMAP_THRESHOLD is -3; 32 MB and 1 GB as documented
    calls = _recording_glibc(monkeypatch, returns=1)
    assert allocator.keep_freed_memory() is True
    assert calls == [("mallopt", (-3, 32 * 2**20)), ("mallopt", (-1, 2**30))]
    assert (allocator.MMAP_THRESHOLD, allocator.TRIM_THRESHOLD) == (33_554_432, 1_073_741_824)


def test_without_glibc_the_calls_do_nothing_and_say_false(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(allocator, "_glibc_function", lambda name: None)
    assert allocator.keep_freed_memory() is False
    assert allocator.hand_back_freed_memory() is False


def test_hand_back_freed_memory_trims_with_no_padding(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _recording_glibc(monkeypatch, returns=0)  # malloc_trim's result (nothing released) does not matter
    assert allocator.hand_back_freed_memory() is True
    assert calls == [("malloc_trim", (0,))]


def _probe_with_faults(monkeypatch: pytest.MonkeyPatch, faults: int) -> tuple[bool | None, list[str]]:
    """``freed_memory_returned`` with ``faults`` minor page faults counted over its measured
    blocks; also the order of its blocks ("block") and counts ("count")."""
    events: list[str] = []
    counts = iter([1000, 1000 + faults])

    def getrusage(who: int) -> SimpleNamespace:
        assert who == -123
        events.append("count")
        return SimpleNamespace(ru_minflt=next(counts))

    def empty(size: int, dtype: Any) -> Any:
        assert (size, dtype) == (2 * 2**20, np.uint8)
        events.append("block")
        return np.empty(size, dtype=dtype)

    monkeypatch.setitem(sys.modules, "resource", SimpleNamespace(getrusage=getrusage, RUSAGE_SELF=-123))
    monkeypatch.setattr(allocator, "np", SimpleNamespace(empty=empty, uint8=np.uint8))
    return allocator.freed_memory_returned(), events


def test_freed_memory_returned_is_more_faults_than_one_probe_blocks_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    pages = 2 * 2**20 // mmap.PAGESIZE
    assert allocator.PROBE_BYTES == 2 * 2**20
    assert _probe_with_faults(monkeypatch, pages + 1) == (True, ["block"] * 3 + ["count"] + ["block"] * 2 + ["count"])
    assert _probe_with_faults(monkeypatch, pages)[0] is False


def test_freed_memory_returned_is_none_without_the_resource_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "resource", None)  # as on Windows: the import fails
    assert allocator.freed_memory_returned() is None


# --------------------------------------------------------------------------------------------
# types: the records' documented defaults


def test_a_records_defaults_are_an_unbounded_range_and_no_probability() -> None:
    identity = ActivationFunction("mine", lambda Z: Z, lambda dA, Z, A: dA)
    assert identity.output_range == (-math.inf, math.inf)
    assert identity.backward_in_place is None
    loss = LossFunction("mine", lambda AL, Y: 0.0, lambda AL, Y: AL)
    assert (loss.probability_output, loss.fused_activation, loss.decision_threshold) == (False, None, None)


# --------------------------------------------------------------------------------------------
# _validation: accept and refuse


def test_params_missing_the_last_layers_bias_or_weights_are_refused_naming_it() -> None:
    W1, b1, W2, b2 = np.ones((2, 2)), np.zeros((2, 1)), np.ones((1, 2)), np.zeros((1, 1))
    with pytest.raises(ValueError, match=r"^params is missing \['b2'\] \(has \['W1', 'W2', 'b1'\]\)$"):
        check.check_params({"W1": W1, "b1": b1, "W2": W2})
    with pytest.raises(ValueError, match=r"^params is missing \['W2'\]"):
        check.check_params({"W1": W1, "b1": b1, "b2": b2})


def test_the_integer_hint_is_given_for_integers_and_bools_only() -> None:
    with pytest.raises(TypeError, match=r"^X must have dtype float32 or float64, got float16 \(convert it first: X\.astype\(np\.float32\)\)$"):
        check.check_float_array("X", np.zeros((2, 2), dtype=np.float16))
    with pytest.raises(TypeError, match=r"^X must have dtype float32 or float64, got complex128$"):
        check.check_float_array("X", np.zeros((2, 2), dtype=np.complex128))
    with pytest.raises(TypeError, match=r"got bool \(convert it first, e\.g\. scale_pixels"):
        check.check_float_array("X", np.zeros((2, 2), dtype=np.bool_))
    with pytest.raises(TypeError, match=r"got uint8 \(convert it first"):
        check.check_float_array("X", np.zeros((2, 2), dtype=np.uint8))


# --------------------------------------------------------------------------------------------
# plots: what the figures hold


def capture_figures(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every figure the plotting functions make from now on, to read back what they drew; the
    figures are not written (``save_figure`` is tested elsewhere), which keeps these tests fast."""
    made = capture_drawn_figures(monkeypatch)
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: Path(path))
    return made


def _contours(ax: Any) -> list[tuple[bool, Any]]:
    """``(filled, levels)`` of each contour set drawn on ``ax``."""
    from matplotlib.contour import ContourSet

    return [(bool(c.filled), [float(v) for v in c.levels]) for c in ax.collections if isinstance(c, ContourSet)]


# A 2-2-1 network whose first layer's lines are x1 = 0.5 and 2 x2 + 1 = 0 (x2 = -0.5), over data
# whose box, widened by a quarter of its extent, runs over [-0.25, 1.25] x [-1.5, 1.5].
UNITS = {
    "W1": np.array([[1.0, 0.0], [0.0, 2.0]]), "b1": np.array([[-0.5], [1.0]]),
    "W2": np.array([[1.0, -1.0]]), "b2": np.array([[0.0]]),
}  # fmt: skip
X_UNITS = np.array([[0.0, 1.0, 0.5], [-1.0, 1.0, 0.0]])
Y_UNITS = np.array([0, 1, 0])
HALF_LENGTH = 2 * math.hypot(1.5, 3.0)  # twice the box's diagonal, each way from the nearest point


def test_hidden_units_draw_each_units_line_through_the_box_with_its_arrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    plot_hidden_units(UNITS, SIGMOIDS, X_UNITS, Y_UNITS, tmp_path / "units.png", resolution=5, title="t")
    assert figures[-1].get_suptitle() == "t"
    units, boundary = figures[-1].axes
    # the nearest points to the box's centre (0.5, 0): (0.5, 0) on x1 = 0.5, (0.5, -0.5) on x2 = -0.5
    expected = {
        "unit 1": [[0.5, -HALF_LENGTH], [0.5, HALF_LENGTH]],
        "unit 2": [[0.5 + HALF_LENGTH, -0.5], [0.5 - HALF_LENGTH, -0.5]],
    }
    for ax in (units, boundary):
        drawn = {line.get_label(): np.asarray(line.get_xydata()) for line in ax.get_lines()}
        assert sorted(drawn) == ["unit 1", "unit 2"]
        for label, ends in expected.items():
            np.testing.assert_allclose(drawn[label], ends, rtol=1e-12, atol=1e-12)
        assert ax.get_xlim() == pytest.approx((-0.25, 1.25)) and ax.get_ylim() == pytest.approx((-1.5, 1.5))
    assert [t.get_text() for t in units.get_legend().get_texts()] == ["unit 1", "unit 2"]
    # arrows from the nearest point towards z > 0, 0.08 of the diagonal long; none on the right
    arrows = np.array([[a.xy, a.xyann] for a in units.texts], dtype=np.float64)
    step = 0.08 * math.hypot(1.5, 3.0)
    np.testing.assert_allclose(arrows, [[[0.5 + step, 0.0], [0.5, 0.0]], [[0.5, -0.5 + step], [0.5, -0.5]]], rtol=1e-12, atol=1e-12)
    assert len(boundary.texts) == 0
    assert [(ax.get_xlabel(), ax.get_ylabel()) for ax in (units, boundary)] == [("$x_1$", "$x_2$")] * 2
    for ax in (units, boundary):  # the samples of each class, (x1, x2) each
        assert [np.asarray(c.get_offsets()).tolist() for c in ax.collections if type(c).__name__ == "PathCollection"] == [
            [[0.0, -1.0], [0.5, 0.0]], [[1.0, 1.0]],
        ]  # fmt: skip
    assert boundary.get_title() == "the network: $P(y = 1 \\mid x)$ and its 0.5 contour"
    assert units.get_title() == "hidden units: where $w_j \\cdot x + b_j = 0$ (sigmoid output 0.5)"
    assert _contours(units) == []
    assert _contours(boundary) == [(True, pytest.approx(np.linspace(0.0, 1.0, 21).tolist())), (False, [0.5])]


def test_decision_boundary_limits_the_axes_to_the_widened_box_and_names_the_classes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    # x1 is constant: its box is 1e-3 times its size (2) wide, widened by a quarter of that each side
    X = np.array([[2.0, 2.0, 2.0], [0.0, 1.0, 4.0]])

    def probability(G: FloatArray) -> FloatArray:
        surface: FloatArray = np.clip(G[1:] / 4.0, 0.0, 1.0)
        return surface

    plot_decision_boundary(probability, X, np.array([0, 1, 1]), tmp_path / "b.png", class_names=["cat", "dog"], resolution=5, title="t")
    plot_decision_boundary(probability, X, np.array([0, 1, 1]), tmp_path / "c.png", class_names=["cat"], resolution=5)
    named_one = figures[-1].axes
    assert [t.get_text() for t in named_one[0].get_legend().get_texts()] == ["cat", "1"]  # unnamed: its number
    assert named_one[1].get_ylabel() == "P(y = 1 | x)"
    # a constant feature at 0: a box 1e-3 wide (the floor of 1), widened by a quarter each side
    plot_decision_boundary(probability, np.array([[0.0, 0.0], [0.0, 4.0]]), np.array([0, 1]), tmp_path / "d.png", resolution=2)
    assert figures[-1].axes[0].get_xlim() == pytest.approx((-0.00075, 0.00075), rel=1e-12)
    # a feature spanning 0.5 at 1000: widened to 1e-3 times its largest magnitude, 1000.5
    plot_decision_boundary(probability, np.array([[1000.0, 1000.5], [0.0, 4.0]]), np.array([0, 1]), tmp_path / "e.png", resolution=2, margin=0.0)
    assert figures[-1].axes[0].get_xlim() == pytest.approx((1000.25 - 1.0005 / 2, 1000.25 + 1.0005 / 2), rel=1e-12)
    ax, colorbar = figures[0].axes
    assert ax.get_xlim() == pytest.approx((2.0 - 0.0015, 2.0 + 0.0015), rel=1e-12)
    assert ax.get_ylim() == pytest.approx((-1.0, 5.0), rel=1e-12)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["cat", "dog"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("$x_1$", "$x_2$", "t")
    assert colorbar.get_ylabel() == "P(y = dog | x)"
    np.testing.assert_allclose(colorbar.get_yticks(), [0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert [np.asarray(c.get_offsets()).tolist() for c in ax.collections[2:]] == [[[2.0, 0.0]], [[2.0, 1.0], [2.0, 4.0]]]
    assert _contours(ax) == [(True, pytest.approx(np.linspace(0.0, 1.0, 21).tolist())), (False, [0.5])]


def test_animation_frames_draw_the_costs_so_far_and_mark_the_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    costs = [0.9, 0.6, 0.5]
    snapshots = [(0, UNITS), (2, UNITS)]
    # margin 0 is accepted (the box is the data's own)
    animate_training(snapshots, costs, SIGMOIDS, X_UNITS, Y_UNITS, tmp_path / "a.gif", title="run", resolution=4, margin=0.0, dpi=8)
    first, last = (fig.axes for fig in figures)
    assert first[0].get_xlim() == pytest.approx((0.0, 1.0)) and first[0].get_ylim() == pytest.approx((-1.0, 1.0))
    assert [np.asarray(line.get_xydata()).tolist() for line in first[1].get_lines()] == [[]]
    assert [np.asarray(line.get_xydata()).tolist() for line in last[1].get_lines()] == [[[1.0, 0.9], [2.0, 0.6]], [[2.0, 0.6]]]
    assert last[1].get_title() == "cost 0.6000"
    assert last[1].get_xlim() == (0.0, 3.0)
    assert last[1].get_ylim() == pytest.approx((0.5 * 0.9, 0.9 * 1.05))
    assert (last[1].get_xlabel(), last[1].get_ylabel()) == ("epoch", "cost")
    assert [fig.get_suptitle() for fig in figures] == ["run", "run"]
    assert first[1].get_title() == "cost"
    assert [fig.axes[0].get_title() for fig in figures] == [f"epoch {e}: boundary (black) and hidden units' lines" for e in (0, 2)]
    for fig in figures:  # the network's probability, its units' lines and the samples, as plot_hidden_units draws them
        assert [np.asarray(c.get_offsets()).tolist() for c in fig.axes[0].collections if type(c).__name__ == "PathCollection"] == [
            [[0.0, -1.0], [0.5, 0.0]], [[1.0, 1.0]],
        ]  # fmt: skip
        assert _contours(fig.axes[0])[0] == (True, pytest.approx(np.linspace(0.0, 1.0, 21).tolist()))
        assert [line.get_label() for line in fig.axes[0].get_lines()] == ["unit 1", "unit 2"]
    assert [len(fig.axes[0].texts) for fig in figures] == [0, 0]  # the units' lines, without arrows


def test_image_shape_with_two_channels_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^image_shape must be \(h, w\) or \(h, w, c\) of positive sizes with c in \(1, 3\)"):
        plot_image_grid(np.full((8, 1), 0.5), (2, 2, 2), tmp_path / "g.png", predicted=np.array([0]))
    with pytest.raises(ValueError, match=r"^image_shape must be \(h, w\) or \(h, w, c\)"):
        plot_image_grid(np.full((4, 1), 0.5), (1, 2, 2, 1), tmp_path / "g.png", predicted=np.array([0]))  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_layer_series_smoothed_over_two_steps_draws_the_raw_values_faintly_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    values = np.array([[1.0, 8.0], [2.0, 8.0], [4.0, 6.0]])
    plot_layer_series([LayerSeries("p", np.array([0, 5, 10]), values)], tmp_path / "s.png", ylabel="v", log_scale=False, smooth=2)
    raw, smoothed, raw_2, smoothed_2 = figures[-1].axes[0].get_lines()
    assert np.asarray(raw.get_xydata()).tolist() == [[0.0, 1.0], [5.0, 2.0], [10.0, 4.0]]
    assert np.asarray(smoothed.get_xydata()).tolist() == [[0.0, 1.0], [5.0, 1.5], [10.0, 3.0]]  # edge-padded on the left
    assert (smoothed.get_label(), list(raw_2.get_ydata()), list(smoothed_2.get_ydata())) == ("layer 1", [8.0, 8.0, 6.0], [8.0, 8.0, 7.0])


def test_probabilities_of_another_length_than_the_pictures_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^probabilities must have shape \(2,\), got \(3,\)$"):
        plot_image_grid(np.full((4, 2), 0.5), (2, 2), tmp_path / "g.png", predicted=np.array([0, 1]), probabilities=np.full(3, 0.5))


def test_histograms_refuse_no_columns_and_snapshots_of_different_depths(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^columns must be a non-empty sequence of HistogramColumn"):
        plot_activation_histograms([], tmp_path / "h.png")
    with pytest.raises(ValueError, match=r"^columns must be a non-empty sequence of HistogramColumn"):
        plot_activation_histograms([HistogramColumn("a", [])], tmp_path / "h.png")
    with pytest.raises(ValueError, match=r"^columns must be a non-empty sequence of HistogramColumn"):
        plot_activation_histograms([("a", [ActivationSnapshot("e", (np.ones((1, 1)),))])], tmp_path / "h.png")  # type: ignore[list-item]
    one, two = ActivationSnapshot("e1", (np.ones((2, 3)),)), ActivationSnapshot("e2", (np.ones((2, 3)), np.ones((1, 3))))
    with pytest.raises(ValueError, match=r"^every snapshot must hold the same number of layers \(at least one\), got \[1, 2\]$"):
        plot_activation_histograms([HistogramColumn("a", [one, two])], tmp_path / "h.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("draw", ["plot_hidden_units", "animate_training"])
def test_a_network_in_the_plane_refuses_x_of_three_rows_and_labels_of_another_length(draw: str, tmp_path: Path) -> None:
    def call(X: FloatArray, y: Any) -> Path:
        if draw == "plot_hidden_units":
            return plot_hidden_units(UNITS, SIGMOIDS, X, y, tmp_path / "u.png", resolution=3)
        return animate_training([(0, UNITS)], [0.5], SIGMOIDS, X, y, tmp_path / "a.gif", resolution=3)

    with pytest.raises(ValueError, match=r"^X must have 2 rows \(features\) to be drawn in the plane, got shape \(3, 3\)$"):
        call(np.zeros((3, 3)), Y_UNITS)
    with pytest.raises(ValueError, match=r"^y must have shape \(3,\), one class per column of X, got \(2,\)$"):
        call(X_UNITS, np.array([0, 1]))
    assert list(tmp_path.iterdir()) == []


def test_an_animation_of_no_snapshots_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^snapshots must hold at least one \(epoch, params\) pair$"):
        animate_training([], [0.5], SIGMOIDS, X_UNITS, Y_UNITS, tmp_path / "a.gif")


def test_without_matplotlib_the_output_path_check_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.backend_bases", None)
    with pytest.raises(ImportError, match=r'^plotting needs matplotlib, which comes with the scripts extra: pip install -e "\.\[scripts\]"$'):
        plots.check_output_path(tmp_path / "a.png")


class _Stop(Exception):
    """Raised by a stand-in once it has seen what it was called with: nothing is drawn."""


@pytest.mark.parametrize(("draw", "expected"), [("plot_decision_boundary", (200, 0.25)), ("plot_hidden_units", (200, 0.25)), ("animate_training", (90, 0.25))])
def test_the_grids_default_resolution_and_margin(draw: str, expected: tuple[int, float], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, float]] = []

    def plane(X: FloatArray, resolution: int, margin: float) -> Any:
        seen.append((resolution, margin))
        raise _Stop

    monkeypatch.setattr(plots, "_plane", plane)
    with pytest.raises(_Stop):
        if draw == "plot_decision_boundary":
            plot_decision_boundary(lambda G: G[:1], X_UNITS, Y_UNITS, tmp_path / "b.png")
        elif draw == "plot_hidden_units":
            plot_hidden_units(UNITS, SIGMOIDS, X_UNITS, Y_UNITS, tmp_path / "u.png")
        else:
            animate_training([(0, UNITS)], [0.5], SIGMOIDS, X_UNITS, Y_UNITS, tmp_path / "a.gif")
    assert seen == [expected]


def test_a_grid_of_two_by_two_points_is_accepted_everywhere(tmp_path: Path) -> None:
    seen: list[tuple[int, ...]] = []

    def probability(G: FloatArray) -> FloatArray:
        seen.append(G.shape)
        return np.full((1, G.shape[1]), 0.25)

    plot_decision_boundary(probability, X_UNITS, Y_UNITS, tmp_path / "b.png", resolution=2)
    assert seen == [(2, 4)]
    assert plot_hidden_units(UNITS, SIGMOIDS, X_UNITS, Y_UNITS, tmp_path / "u.png", resolution=2).exists()
    assert animate_training([(0, UNITS)], [0.5], SIGMOIDS, X_UNITS, Y_UNITS, tmp_path / "a.gif", resolution=2, dpi=8).exists()
    with pytest.raises(ValueError, match=r"^resolution must be >= 2, got 1$"):
        plot_hidden_units(UNITS, SIGMOIDS, X_UNITS, Y_UNITS, tmp_path / "v.png", resolution=1)
    with pytest.raises(ValueError, match=r"^resolution must be >= 2, got 1$"):
        plot_decision_boundary(probability, X_UNITS, Y_UNITS, tmp_path / "c.png", resolution=1)


def test_an_animations_default_frames_are_120_ms_at_80_dpi(tmp_path: Path) -> None:
    from PIL import Image, ImageSequence

    path = animate_training([(0, UNITS), (1, UNITS)], [0.5], SIGMOIDS, X_UNITS, Y_UNITS, tmp_path / "a.gif", resolution=3)
    with Image.open(path) as gif:
        assert gif.size == (720, 304)  # 9 x 3.8 inches at 80 dpi
        assert gif.info["loop"] == 0  # for ever
        durations = [frame.info["duration"] for frame in ImageSequence.Iterator(gif)]
    assert durations == [120, 1000]  # the last held a second


def test_histograms_default_to_40_bins_over_the_datas_range(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    A = np.array([[-2.0, 0.0, 2.0]])
    plot_activation_histograms([HistogramColumn("linear", [ActivationSnapshot("e", (A,))])], tmp_path / "h.png")
    (patch,) = figures[-1].axes[0].patches
    counts, edges = patch.get_data()[0], patch.get_data()[1]
    assert len(edges) == 41 and edges[0] == -2.0
    assert edges[-1] == pytest.approx(np.percentile([-2.0, 0.0, 2.0], 99.5))
    assert counts.sum() == pytest.approx(1.0)
    plot_activation_histograms([HistogramColumn("sigmoid", [ActivationSnapshot("e", (np.array([[0.2]]),))], (0.0, 1.0))], tmp_path / "one.png", bins=2)
    (patch,) = figures[-1].axes[0].patches
    assert patch.get_data()[0].tolist() == [1.0, 0.0]  # the share of one value


def test_layer_series_default_to_a_log_axis_and_one_unsmoothed_line_per_layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    values = np.array([[0.3, 0.0, 1.0], [0.7, 20.0, 2.0], [0.1, 40.0, 3.0]])  # not smoothed: not through exp(log(.)) either
    plot_layer_series([LayerSeries("p", np.arange(3.0), values)], tmp_path / "s.png", ylabel="norm", title="t")
    ax = figures[-1].axes[0]
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "norm" and ax.get_xlabel() == "training step"
    assert [(line.get_label(), list(line.get_ydata())) for line in ax.get_lines()] == [
        ("layer 1", [0.3, 0.7, 0.1]), ("layer 2", [0.0, 20.0, 40.0]), ("layer 3", [1.0, 2.0, 3.0]),
    ]  # fmt: skip
    from matplotlib import colormaps

    viridis = colormaps["viridis"]
    assert [line.get_color() for line in ax.get_lines()] == [viridis(0.0), viridis(0.45), viridis(0.9)]  # dark to light
    assert figures[-1].get_suptitle() == "t" and ax.get_title() == "p"


def test_layer_series_share_the_legend_of_the_last_panel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    panels = [LayerSeries("a", np.arange(2.0), np.ones((2, 2))), LayerSeries("b", np.arange(2.0), np.ones((2, 2)))]
    plot_layer_series(panels, tmp_path / "s.png", ylabel="v")
    first, last = figures[-1].axes
    assert first.get_legend() is None and [t.get_text() for t in last.get_legend().get_texts()] == ["layer 1", "layer 2"]
    from matplotlib import colormaps

    assert [line.get_color() for line in last.get_lines()] == [colormaps["viridis"](0.0), colormaps["viridis"](0.9)]


def test_decision_boundary_of_several_classes_colours_each_cell_by_its_winner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)

    def probability(G: FloatArray) -> FloatArray:  # class 0 left of x1 = 0.5, 2 right of it, 1 nowhere
        right = (G[0] > 0.5).astype(np.float64)
        return np.stack([1.0 - right, np.zeros_like(right), right])

    plot_decision_boundary(probability, X_UNITS, Y_UNITS, tmp_path / "b.png", resolution=2, margin=0.0)
    (ax,) = figures[-1].axes
    (mesh,) = [c for c in ax.collections if type(c).__name__ == "QuadMesh"]
    np.testing.assert_array_equal(np.asarray(mesh.get_array()).reshape(2, 2), [[0, 2], [0, 2]])
    assert mesh.get_clim() == (-0.5, 2.5)
    assert ax.get_xlim() == (0.0, 1.0) and ax.get_ylim() == (-1.0, 1.0)


def test_decision_boundary_takes_a_box_ending_at_the_largest_float32(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    top = float(np.finfo(np.float32).max)
    X = np.array([[-top, top], [0.0, 1.0]], dtype=np.float32)
    plot_decision_boundary(lambda G: np.full((1, G.shape[1]), 0.25), X, np.array([0, 1]), tmp_path / "b.png", resolution=2, margin=0.0)
    assert figures[-1].axes[0].get_xlim() == (-top, top)
    # a quarter more past its upper end only: refused
    with pytest.raises(ValueError, match=r"^margin=0.25 is too large for X"):
        plot_decision_boundary(lambda G: np.full((1, G.shape[1]), 0.25), np.abs(X), np.array([0, 1]), tmp_path / "c.png", resolution=2)


def test_image_grid_draws_one_channel_pictures_in_grey_from_0_to_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    X = np.array([[0.0], [0.25], [0.5], [1.0]])
    plot_image_grid(X, (2, 2, 1), tmp_path / "g.png", predicted=np.array([1]))  # one picture: a 1 x 1 grid
    (ax,) = figures[-1].axes
    (image,) = ax.images
    np.testing.assert_array_equal(image.get_array(), [[0.0, 0.25], [0.5, 1.0]])
    assert image.get_cmap().name == "gray" and image.get_clim() == (0.0, 1.0)
    assert ax.get_title() == "1"


def test_image_grid_draws_three_channel_pictures_in_colour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    X = np.linspace(0.0, 1.0, 12).reshape(12, 1)
    plot_image_grid(X, (2, 2, 3), tmp_path / "g.png", predicted=np.array([0]), title="t")
    assert figures[-1].get_suptitle() == "t"
    (image,) = figures[-1].axes[0].images
    np.testing.assert_array_equal(image.get_array(), X[:, 0].reshape(2, 2, 3))


@pytest.mark.parametrize(("epochs", "marker"), [(30, "o"), (31, "None")])
def test_curves_mark_their_points_up_to_30_epochs(epochs: int, marker: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    plot_curves([EpochRecord(e, 1.0 / e, None) for e in range(1, epochs + 1)], tmp_path / "c.png")
    (line,) = figures[-1].axes[0].get_lines()
    assert line.get_marker() == marker


def test_curves_mark_the_chosen_epoch_on_every_panel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    history = [EpochRecord(1, 0.9, 0.5, 1.0, 0.4), EpochRecord(2, 0.5, 0.75, 0.8, 0.5), EpochRecord(3, 0.4, 0.8, 0.7, 0.6)]
    plot_curves(history, tmp_path / "c.png", mark_epoch=2, title="t")
    assert figures[-1].get_suptitle() == "t"
    from matplotlib.ticker import MaxNLocator

    for ax in figures[-1].axes:
        (mark,) = [line for line in ax.get_lines() if line.get_label() == "epoch 2"]
        assert list(mark.get_xdata()) == [2, 2] and mark.get_linestyle() == ":"
        assert [(line.get_label(), line.get_linestyle()) for line in ax.get_lines()] == [("train", "-"), ("dev", "--"), ("epoch 2", ":")]
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "dev", "epoch 2"]
        assert ax.get_xlabel() == "epoch"
        locator = ax.xaxis.get_major_locator()
        assert isinstance(locator, MaxNLocator)
        assert all(float(tick).is_integer() for tick in locator.tick_values(1, 3))  # whole epochs on the axis


def test_histogram_of_equal_values_spans_one_unit_from_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    A = np.full((2, 3), 0.5)
    plot_activation_histograms([HistogramColumn("linear", [ActivationSnapshot("e", (A,))])], tmp_path / "h.png", bins=4)
    (patch,) = figures[-1].axes[0].patches
    counts, edges = patch.get_data()[0], patch.get_data()[1]
    assert edges.tolist() == [0.5, 0.75, 1.0, 1.25, 1.5]
    assert figures[-1].axes[0].get_ylabel() == "layer 1\nshare"
    assert counts.tolist() == [1.0, 0.0, 0.0, 0.0]


def test_a_model_of_no_output_rows_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^probability must map a \(2, n\) grid to an array of shape \(k, n\), k >= 1, got \(0, 4\) for n = 4$"):
        plot_decision_boundary(lambda G: np.zeros((0, G.shape[1])), X_UNITS, Y_UNITS, tmp_path / "b.png", resolution=2)


def test_arrows_are_drawn_for_lines_whose_nearest_point_lies_in_the_box_edges_included(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    # box [0, 1] x [10, 11] (margin 0); lines x1 = 0.5 (inside), x1 = 0 and x1 = 1 (its edges), x1 = 2
    # and x2 = 20 (outside), x2 = 10 and x2 = 11 (its lower and upper edges)
    params = {"W1": np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]),
              "b1": np.array([[-0.5], [0.0], [-1.0], [-2.0], [-20.0], [-10.0], [-11.0]]), "W2": np.ones((1, 7)),
              "b2": np.zeros((1, 1))}  # fmt: skip
    plot_hidden_units(params, SIGMOIDS, np.array([[0.0, 1.0], [10.0, 11.0]]), np.array([0, 1]), tmp_path / "u.png", resolution=3, margin=0.0)
    units = figures[-1].axes[0]
    assert [tuple(a.xyann) for a in units.texts] == [(0.5, 10.5), (0.0, 10.5), (1.0, 10.5), (0.5, 10.0), (0.5, 11.0)]


@pytest.mark.parametrize("sign", [-1.0, 1.0])
def test_no_boundary_is_drawn_where_the_output_only_reaches_one_half(sign: float, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    # relu(x1 - 0.5) then sigmoid(sign * a): exactly 0.5 left of x1 = 0.5, below (above) it on the right
    params = {"W1": np.array([[1.0, 0.0]]), "b1": np.array([[-0.5]]), "W2": np.array([[sign]]), "b2": np.zeros((1, 1))}
    plot_hidden_units(params, ("relu", "sigmoid"), X_UNITS, Y_UNITS, tmp_path / "u.png", resolution=5)
    assert _contours(figures[-1].axes[1]) == [(True, pytest.approx(np.linspace(0.0, 1.0, 21).tolist()))]


def test_a_series_of_one_step_is_drawn_as_it_is_whatever_the_smoothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    plot_layer_series([LayerSeries("p", np.array([4.0]), np.array([[0.0, 0.3]]))], tmp_path / "s.png", ylabel="v", smooth=3)
    smoothed = [line for line in figures[-1].axes[0].get_lines() if line.get_label().startswith("layer")]
    assert [list(line.get_ydata()) for line in smoothed] == [[0.0], [0.3]]  # not through exp(log(max(x, tiny)))
    plot_layer_series([LayerSeries("p", np.arange(2.0), np.array([[1.0], [3.0]]))], tmp_path / "t.png", ylabel="v", log_scale=False, smooth=2)
    assert list(figures[-1].axes[0].get_lines()[1].get_ydata()) == [1.0, 2.0]  # two steps are smoothed


def test_histograms_label_layers_on_the_first_column_and_networks_on_the_first_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    snapshot = ActivationSnapshot("e", (np.ones((2, 3)), np.zeros((1, 3))))
    columns = [HistogramColumn("a", [snapshot], (0.0, 1.0)), HistogramColumn("b", [snapshot], (0.0, 1.0))]
    plot_activation_histograms(columns, tmp_path / "h.png", bins=2, title="t")
    axes = figures[-1].axes
    assert [[t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else None for ax in axes] == [["e"], ["e"], None, None]
    assert [(ax.get_ylabel(), ax.get_title()) for ax in axes] == [("layer 1\nshare", "a"), ("", "b"), ("layer 2\nshare", ""), ("", "")]
    assert figures[-1].get_suptitle() == "t"


def test_an_animation_refuses_a_snapshot_that_is_not_a_pair_and_a_one_point_grid(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"^snapshots\[0\] must be an \(epoch, params\) pair, got tuple$"):
        animate_training([(0, UNITS, 1)], [0.5], SIGMOIDS, X_UNITS, Y_UNITS, tmp_path / "a.gif")  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"^resolution must be >= 2, got 1$"):
        animate_training([(0, UNITS)], [0.5], SIGMOIDS, X_UNITS, Y_UNITS, tmp_path / "a.gif", resolution=1)
    assert list(tmp_path.iterdir()) == []


def test_an_animation_of_zero_costs_spans_a_twentieth_each_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    animate_training([(1, UNITS)], [0.0, 0.0], SIGMOIDS, X_UNITS, Y_UNITS, tmp_path / "a.gif", resolution=3, dpi=8)
    assert figures[-1].axes[1].get_ylim() == pytest.approx((-0.05, 0.05))
    # negative costs (a loss of one's own): a twentieth of their span below and above
    animate_training([(1, UNITS)], [-1.0, -3.0], SIGMOIDS, X_UNITS, Y_UNITS, tmp_path / "b.gif", resolution=3, dpi=8)
    assert figures[-1].axes[1].get_ylim() == pytest.approx((-3.1, -0.9))


def test_a_model_output_of_another_number_of_columns_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^probability must map a \(2, n\) grid to an array of shape \(k, n\), k >= 1, got \(1, 3\) for n = 4$"):
        plot_decision_boundary(lambda G: np.full((1, 3), 0.5), X_UNITS, Y_UNITS, tmp_path / "b.png", resolution=2)


def test_histograms_of_one_bin_and_costs_that_are_not_a_list_are_refused(tmp_path: Path) -> None:
    column = HistogramColumn("a", [ActivationSnapshot("e", (np.ones((1, 2)),))])
    with pytest.raises(ValueError, match=r"^bins must be >= 2, got 1$"):
        plot_activation_histograms([column], tmp_path / "h.png", bins=1)
    with pytest.raises(ValueError, match=r"^costs must be a non-empty sequence of finite numbers, one per epoch, got shape \(1, 1\)$"):
        animate_training([(0, UNITS)], [[0.5]], SIGMOIDS, X_UNITS, Y_UNITS, tmp_path / "a.gif")  # type: ignore[list-item]
    assert list(tmp_path.iterdir()) == []


def test_a_network_without_a_hidden_layer_is_refused_in_the_plane(tmp_path: Path) -> None:
    params = {"W1": np.ones((1, 2)), "b1": np.zeros((1, 1))}
    with pytest.raises(ValueError, match=r"^the network must have 2 inputs, a hidden layer and 1 output unit to be drawn in the plane, got layer sizes \(2, 1\)$"):
        plot_hidden_units(params, ("sigmoid",), X_UNITS, Y_UNITS, tmp_path / "u.png")


def test_layer_series_on_a_log_axis_are_smoothed_geometrically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    plot_layer_series([LayerSeries("p", np.arange(3.0), np.array([[1.0], [4.0], [16.0]]))], tmp_path / "s.png", ylabel="v", smooth=3)
    smoothed = figures[-1].axes[0].get_lines()[1]
    # the mean of the logarithms over 1, 1, 4 / 1, 4, 16 / 4, 16, 16 (the ends repeated)
    np.testing.assert_allclose(smoothed.get_ydata(), [4.0 ** (1 / 3), 4.0, (4.0 * 16 * 16) ** (1 / 3)], rtol=1e-12)


def test_layer_series_take_values_that_are_not_finite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    plot_layer_series([LayerSeries("p", np.arange(2.0), np.array([[np.nan], [np.inf]]))], tmp_path / "s.png", ylabel="v")
    np.testing.assert_array_equal(figures[-1].axes[0].get_lines()[0].get_ydata(), [np.nan, np.inf])  # a diverged run, drawn as far as it goes


# --------------------------------------------------------------------------------------------
# _mxcsr: compiled without Numba's on-disk cache where there is no writable cache directory


def test_mxcsr_functions_compile_uncached_when_numba_cannot_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    numba = pytest.importorskip("numba")
    from functional_nn import _mxcsr

    njit = numba.njit

    def refusing_cache(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("cache"):
            raise RuntimeError("cannot cache function: no locator available")  # Numba's words, with nowhere to write
        return njit(*args, **kwargs)

    monkeypatch.setattr(numba, "njit", refusing_cache)

    def seven() -> int:
        return 7

    assert _mxcsr._jit(seven)() == 7
