"""What an audit of the distributed fold and the pictures found: local SGD rounds that each pass
over the data more than once read as epochs by their number; pictures of one sample or a
constant feature, of weights far from 1, of a first layer of zeros; and arguments that used to
fail inside numpy or Pillow (a negative picture size, a frame longer than a GIF holds) or to be
drawn wrongly (steps that are not numbers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import functional_nn.plots as plots
from functional_nn import distributed as dist
from functional_nn.data import one_hot
from functional_nn.initializers import initialize_parameters
from functional_nn.plots import LayerSeries, animate_training, plot_decision_boundary, plot_hidden_units, plot_image_grid, plot_layer_series
from functional_nn.propagation import predict_proba
from functional_nn.types import Activation, FloatArray, Loss
from test_plots_and_estimators import PARAMS, SIGMOIDS, X2, Y2, exactly, work  # noqa: F401  # work: a fixture

ACTIVATIONS: tuple[Activation, Activation] = ("relu", "softmax")
LOSS: Loss = "categorical_cross_entropy"

# --------------------------------------------------------------------------------------------
# epoch_states: rounds that pass over the data several times


def test_rounds_of_several_epochs_are_numbered_by_the_whole_epochs_seen() -> None:
    X = np.random.default_rng(0).standard_normal((5, 40))
    Y = one_hot((X[0] > 0).astype(np.int64), 2)
    params = initialize_parameters((5, 4, 2), np.random.default_rng(1))
    # two shards of 20; 10 local steps of 5 columns a shard: 100 samples a round, 2.5 epochs of 40
    rounds = list(
        dist.train_rounds(
            dist.split_shards(X, Y, 2), params, activations=ACTIVATIONS, loss=LOSS, rounds=3,
            learning_rate=0.1, batch_size=5, local_steps=10,
        )
    )  # fmt: skip
    assert [state.history[-1].epochs for state in rounds] == [2.5, 5.0, 7.5]
    read = list(dist.epoch_states(iter(rounds), activations=ACTIVATIONS, loss=LOSS))
    # epochs 1 and 2 end in round 1, 3 to 5 in round 2, 6 and 7 in round 3: numbered 2, 5, 7, not 1, 2, 3
    assert [(state.epoch, round_state.round) for state, round_state in read] == [(2, 1), (5, 2), (7, 3)]
    last = read[-1][0]
    assert [record.epoch for record in last.history] == [2, 5, 7]
    assert [record.cost for record in last.history] == [state.history[-1].cost for state in rounds]  # one round each


# --------------------------------------------------------------------------------------------
# the plane of the two-input pictures: never a box of no width


@pytest.mark.parametrize(
    ("X", "margin", "box"),
    [
        # float32 at 1e4: the old absolute 1e-3 vanished there, and the grid was a single point
        (np.array([[1e4], [2e4]], np.float32), 0.25, ((9992.5, 10007.5), (19985.0, 20015.0))),
        # no margin around one sample: the box was the sample itself
        (np.array([[0.5], [-0.25]]), 0.0, ((0.4995, 0.5005), (-0.2505, -0.2495))),
    ],
)
def test_one_sample_gets_a_box_its_own_dtype_can_hold(
    tmp_path: Path, X: FloatArray, margin: float, box: tuple[tuple[float, float], tuple[float, float]]
) -> None:
    params = {k: v.astype(X.dtype) for k, v in PARAMS.items()}
    grids: list[FloatArray] = []

    def probability(G: FloatArray) -> FloatArray:
        grids.append(G)
        return predict_proba(G, params, SIGMOIDS)

    # matplotlib warned of identical limits (an error here) and drew no probability at all
    plot_decision_boundary(probability, X, np.array([1]), tmp_path / "one.png", resolution=5, margin=margin)
    (G,) = grids
    assert G.dtype == X.dtype
    for row, (low, high) in zip(G, box):
        assert (float(row.min()), float(row.max())) == pytest.approx((low, high), rel=1e-12, abs=0)
    plot_hidden_units(params, SIGMOIDS, X, np.array([1]), tmp_path / "units.png", resolution=5, margin=margin)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.png", "units.png"]


# --------------------------------------------------------------------------------------------
# the hidden units' lines


def _unit_lines(W1: FloatArray, b1: FloatArray) -> list[FloatArray]:
    """The ends of each line ``_draw_unit_lines`` draws over a box from -1 to 1, ``(2, 2)`` each."""
    G = np.array([[-1.0, 1.0], [-1.0, 1.0]])
    plane = plots._plane(G, 2, 0.0)
    ax = plots.new_figure(3.0, 3.0).add_subplot()
    plots._draw_unit_lines(ax, W1, b1, plane, arrows=True)
    return [np.asarray(line.get_xydata()) for line in ax.get_lines()]


def test_the_lines_of_huge_and_tiny_weights_are_drawn_where_they_are() -> None:
    # |w|^2 overflowed (1e200) or underflowed (1e-200), and the line was NaN, with numpy's warnings
    W1 = np.array([[1e200, 0.0], [0.0, 1e-200], [3.0, 4.0]])
    b1 = np.array([[0.0], [-5e-201], [5.0]])
    lines = _unit_lines(W1, b1)
    assert len(lines) == 3
    np.testing.assert_array_equal(lines[0][:, 0], [0.0, 0.0])  # x1 = 0
    np.testing.assert_allclose(lines[1][:, 1], [0.5, 0.5], rtol=1e-15)  # x2 = 5e-201 / 1e-200
    np.testing.assert_allclose(lines[2] @ [3.0, 4.0], [-5.0, -5.0], rtol=1e-14)  # 3 x1 + 4 x2 + 5 = 0
    # a line beyond the largest float is left out, not drawn as inf or NaN
    assert _unit_lines(np.array([[1e-310, 0.0]]), np.array([[1.0]])) == []


def test_a_first_layer_of_zeros_or_huge_weights_is_drawn_without_warnings(tmp_path: Path) -> None:
    # no line then, and matplotlib warned of a legend with nothing in it (an error here)
    zeros = {**PARAMS, "W1": np.zeros_like(PARAMS["W1"])}
    assert plot_hidden_units(zeros, SIGMOIDS, X2, Y2, tmp_path / "zeros.png", resolution=5).stat().st_size > 0
    huge = {**PARAMS, "W1": PARAMS["W1"] * 1e200}
    assert plot_hidden_units(huge, SIGMOIDS, X2, Y2, tmp_path / "huge.png", resolution=5).stat().st_size > 0
    assert animate_training([(0, huge)], [0.5], SIGMOIDS, X2, Y2, tmp_path / "huge.gif", resolution=5).stat().st_size > 0


# --------------------------------------------------------------------------------------------
# arguments refused before any work, where numpy or Pillow failed or matplotlib drew them wrong


@pytest.mark.parametrize("shape", [(-4, -4), (-2, -8, 1), (-16, -1)])
def test_a_picture_size_below_1_is_refused_even_when_the_product_fits(tmp_path: Path, work: list[str], shape: tuple[int, ...]) -> None:
    # (-4, -4) multiplies to the 16 rows of X: numpy's reshape failed, "can only specify one unknown dimension"
    message = f"image_shape must be (h, w) or (h, w, c) of positive sizes with c in (1, 3) and h*w*c = 16 rows of X, got {shape}"
    with pytest.raises(ValueError, match=exactly(message)):
        plot_image_grid(np.full((16, 2), 0.5), shape, tmp_path / "grid.png", predicted=np.array([0, 1]))  # type: ignore[arg-type]  # the check under test
    assert work == [] and list(tmp_path.iterdir()) == []


def test_a_frame_longer_than_a_gif_holds_is_refused_before_drawing(tmp_path: Path, work: list[str]) -> None:
    # Pillow failed with "OverflowError: int too big to convert" once every frame was drawn
    message = "frame_ms must be at most 655350 (a GIF holds a frame's time in hundredths of a second, 65535 at most), got 655360"
    with pytest.raises(ValueError, match=exactly(message)):
        animate_training([(0, PARAMS)], [0.5], SIGMOIDS, X2, Y2, tmp_path / "a.gif", frame_ms=655360, resolution=5)
    assert work == [] and list(tmp_path.iterdir()) == []
    path = animate_training([(0, PARAMS)], [0.5], SIGMOIDS, X2, Y2, tmp_path / "a.gif", frame_ms=655350, resolution=5)
    with Image.open(path) as gif:
        assert gif.info["duration"] == 655350


@pytest.mark.parametrize(
    ("steps", "error", "message"),
    [
        (np.array(["a", "b", "c"]), TypeError, "panel 'p': steps must be numbers (int or float), got dtype <U1"),
        (np.array([True, False, True]), TypeError, "panel 'p': steps must be numbers (int or float), got dtype bool"),
        (np.array([0.0, np.nan, 2.0]), ValueError, "panel 'p': steps has 1 NaN or infinite value(s)"),
    ],
)
def test_steps_that_are_not_finite_numbers_are_refused(
    tmp_path: Path, work: list[str], steps: object, error: type[Exception], message: str
) -> None:
    # strings were drawn as categories in the order given, a NaN step's row left out unsaid
    with pytest.raises(error, match=exactly(message)):
        plot_layer_series([LayerSeries("p", steps, np.ones((3, 2)))], tmp_path / "s.png", ylabel="norm")  # type: ignore[arg-type]  # the check under test
    assert work == [] and list(tmp_path.iterdir()) == []
