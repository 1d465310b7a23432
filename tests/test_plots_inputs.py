"""What the pictures refuse before drawing: epochs that are not ints, pictures outside [0, 1],
training records that are not numbers or have no finite cost, a mark on no epoch, and output
paths that are empty, name a folder or a FIFO or hold a NUL; and what they still draw (augmented
pictures, numpy integers)."""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from functional_nn.data.augmentation import elastic_distortion, random_affine, random_shift
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
    save_figure,
)
from functional_nn.types import FloatArray
from test_plots_and_estimators import PARAMS, SIGMOIDS, X2, Y2, exactly, work  # noqa: F401  # work: a fixture

HISTORY = [EpochRecord(e, 1.0 / e, 0.5 + e / 20, 1.2 / e, 0.5 + e / 25) for e in range(1, 5)]


# --------------------------------------------------------------------------------------------
# animate_training: every epoch an int, refused by name before any frame is computed


@pytest.mark.parametrize(
    ("epoch", "shown"),
    [(0.7, "float 0.7"), (1.0, "float 1.0"), (np.float64(1.0), "float64 np.float64(1.0)"), (True, "bool True"),
     ("x", "str 'x'"), ("1", "str '1'"), (None, "NoneType None")],
)  # fmt: skip
def test_an_epoch_that_is_not_an_int_is_refused_naming_the_snapshot(
    tmp_path: Path, work: list[str], epoch: object, shown: str
) -> None:
    snapshots: list[Any] = [(0, PARAMS), (epoch, PARAMS)]
    with pytest.raises(TypeError, match=exactly(f"snapshots[1][0], the epoch, must be an int, got {shown}")):
        animate_training(snapshots, [0.5, 0.4], SIGMOIDS, X2, Y2, tmp_path / "a.gif", resolution=5)
    assert work == [] and list(tmp_path.iterdir()) == []


def test_numpy_integer_epochs_are_drawn(tmp_path: Path) -> None:
    snapshots: list[Any] = [(np.int64(0), PARAMS), (np.int32(2), PARAMS)]
    assert animate_training(snapshots, [0.5, 0.4], SIGMOIDS, X2, Y2, tmp_path / "a.gif", resolution=5).read_bytes()[:6] == b"GIF89a"


def test_costs_that_are_not_numbers_are_refused_by_name(tmp_path: Path, work: list[str]) -> None:
    with pytest.raises(TypeError, match=r"^costs must be a sequence of numbers, one per epoch: could not convert string to float: 'a'$"):
        animate_training([(0, PARAMS)], ["a"], SIGMOIDS, X2, Y2, tmp_path / "a.gif", resolution=5)  # type: ignore[list-item]  # the check under test
    assert work == [] and list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# plot_image_grid: values in [0, 1], refused outside rather than clipped


@pytest.mark.parametrize(
    ("scale", "shift", "shown"), [(255.0, 0.0, "0 to 255"), (1.0, -0.5, "-0.5 to 0.5"), (1.0, 1e-6, "1e-06 to 1.000001")]
)
def test_pictures_outside_0_to_1_are_refused_with_their_range(
    tmp_path: Path, work: list[str], scale: float, shift: float, shown: str
) -> None:
    X = np.linspace(0.0, 1.0, 12).reshape(4, 3) * scale + shift
    message = (
        f"X runs from {shown}, outside [0, 1]: pictures must hold values in [0, 1], as load_image_folder and "
        "scale_pixels give them (np.clip(X, 0, 1) if they overshoot by rounding)"
    )
    with pytest.raises(ValueError, match=exactly(message)):
        plot_image_grid(X, (2, 2), tmp_path / "grid.png", predicted=np.array([0, 1, 1]))
    assert work == [] and list(tmp_path.iterdir()) == []


def test_nan_pictures_are_refused(tmp_path: Path) -> None:
    X = np.full((4, 2), 0.5)
    X[1, 1] = np.nan
    with pytest.raises(ValueError, match=exactly("X contains 1 NaN or infinite value(s)")):
        plot_image_grid(X, (2, 2), tmp_path / "grid.png", predicted=np.array([0, 1]))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_augmented_pictures_stay_in_0_to_1_and_are_drawn(tmp_path: Path, dtype: type[np.floating[Any]]) -> None:
    """The augmentations interpolate between neighbouring pixels (``a + f (b - a)``, ``0 <= f < 1``),
    so their output stays within their input's range: pictures of 0s and 1s, the extremes
    everywhere, give pictures the grid draws."""
    rng = np.random.default_rng(0)
    X = (rng.random((64, 300)) < 0.5).astype(dtype)
    X[:, :100] = 1.0
    augmentations: list[Callable[[FloatArray, np.random.Generator], FloatArray]] = [
        functools.partial(random_affine, image_shape=(8, 8), rotation=30.0, scale=(0.8, 1.2), shear=0.3, translation=1.5),
        functools.partial(elastic_distortion, image_shape=(8, 8)),
        functools.partial(random_shift, image_shape=(8, 8)),
    ]
    for augment in augmentations:
        Y = augment(X, rng)
        assert Y.dtype == dtype and 0.0 <= float(Y.min()) and float(Y.max()) <= 1.0
        shown = Y[:, :6]
        assert plot_image_grid(shown, (8, 8), tmp_path / "grid.png", predicted=np.zeros(6, dtype=np.int64)).read_bytes()[:4] == b"\x89PNG"


# --------------------------------------------------------------------------------------------
# plot_curves: records of numbers, a finite cost, a mark on one of their epochs


@pytest.mark.parametrize(
    ("mark", "error", "message"),
    [
        ("best", TypeError, "mark_epoch must be an int, one of the epochs of history, or None, got str 'best'"),
        (math.nan, TypeError, "mark_epoch must be an int, one of the epochs of history, or None, got float nan"),
        (2.0, TypeError, "mark_epoch must be an int, one of the epochs of history, or None, got float 2.0"),
        (True, TypeError, "mark_epoch must be an int, one of the epochs of history, or None, got bool True"),
        (0, ValueError, "mark_epoch 0 is not an epoch of history, whose epochs run from 1 to 4"),
        (9, ValueError, "mark_epoch 9 is not an epoch of history, whose epochs run from 1 to 4"),
    ],
)
def test_a_mark_on_no_epoch_of_history_is_refused(
    tmp_path: Path, work: list[str], mark: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=exactly(message)):
        plot_curves(HISTORY, tmp_path / "curves.png", mark_epoch=mark)  # type: ignore[arg-type]  # the check under test
    assert work == [] and list(tmp_path.iterdir()) == []


def test_a_numpy_integer_mark_is_drawn(tmp_path: Path) -> None:
    assert plot_curves(HISTORY, tmp_path / "curves.png", mark_epoch=np.int64(3)).read_bytes()[:4] == b"\x89PNG"  # type: ignore[arg-type]  # as a script's argmax gives it


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (EpochRecord(2, "0.5", None), "history[1].cost must be a real number, got str '0.5'"),  # type: ignore[arg-type]
        (EpochRecord(2, None, None), "history[1].cost must be a real number, got NoneType None"),  # type: ignore[arg-type]
        (EpochRecord(2, True, None), "history[1].cost must be a real number, got bool True"),
        (EpochRecord(2, 0.5, "0.9"), "history[1].accuracy must be a real number or None, got str '0.9'"),  # type: ignore[arg-type]
        (EpochRecord(2, 0.5, None, [0.4]), "history[1].dev_cost must be a real number or None, got list [0.4]"),  # type: ignore[arg-type]
        (EpochRecord(2.5, 0.5, None), "history[1].epoch must be an int, got float 2.5"),  # type: ignore[arg-type]
    ],
)
def test_records_that_are_not_numbers_are_refused_by_field(
    tmp_path: Path, work: list[str], record: EpochRecord, message: str
) -> None:
    with pytest.raises(TypeError, match=exactly(message)):
        plot_curves([EpochRecord(1, 0.6, None), record], tmp_path / "curves.png")
    assert work == [] and list(tmp_path.iterdir()) == []


def test_a_history_without_a_finite_cost_is_refused(tmp_path: Path, work: list[str]) -> None:
    history = [EpochRecord(1, math.nan, None), EpochRecord(2, math.nan, None), EpochRecord(3, math.inf, None)]
    with pytest.raises(ValueError, match=exactly("history has no finite cost: all 3 are NaN or infinite, so there is no curve to draw")):
        plot_curves(history, tmp_path / "curves.png")
    assert work == [] and list(tmp_path.iterdir()) == []
    # one finite cost is a curve (the others are left out of the line)
    assert plot_curves([*history, EpochRecord(4, 0.5, None)], tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


# --------------------------------------------------------------------------------------------
# output paths: a file, not a folder nor empty; no NUL


@pytest.mark.parametrize("gif", [False, True])
def test_a_path_ending_in_a_separator_is_refused_as_a_folder(tmp_path: Path, gif: bool) -> None:
    path = str(tmp_path / ("new.gif" if gif else "new")) + os.sep
    with pytest.raises(ValueError, match=exactly(f"path must name a file, got {path!r}, which ends in a separator (a folder)")):
        if gif:
            animate_training([(0, PARAMS)], [0.5], SIGMOIDS, X2, Y2, path, resolution=5)
        else:
            plot_curves(HISTORY, path)
    assert list(tmp_path.iterdir()) == []


def test_a_path_with_a_nul_is_refused_by_name(tmp_path: Path) -> None:
    path = str(tmp_path / "cur\0ves.png")
    with pytest.raises(ValueError, match=exactly(f"path holds a NUL byte, which no path can: {path!r}")):
        plot_curves(HISTORY, path)
    assert list(tmp_path.iterdir()) == []


def test_an_empty_path_is_refused_not_read_as_the_current_directory(work: list[str]) -> None:
    with pytest.raises(ValueError, match=exactly("path is an empty path: name a file")):
        plot_curves(HISTORY, "")
    assert work == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX feature")
def test_a_fifo_is_refused_before_anything_is_drawn(tmp_path: Path, work: list[str]) -> None:
    # atomic_write refuses it (its rename would make it a regular file), but only after the
    # figure was drawn; check_output_path now asks the same before drawing
    fifo = tmp_path / "curves.png"
    os.mkfifo(fifo)
    message = f"cannot write {fifo}: it is not a regular file (a device, FIFO or socket), which a rename would replace"
    with pytest.raises(OSError, match=exactly(message)):
        plot_curves(HISTORY, fifo)
    assert work == [] and fifo.is_fifo()


def test_a_loop_of_symbolic_links_is_refused_before_anything_is_drawn(tmp_path: Path, work: list[str]) -> None:
    (tmp_path / "a.png").symlink_to(tmp_path / "b.png")
    (tmp_path / "b.png").symlink_to(tmp_path / "a.png")
    with pytest.raises(OSError, match=exactly(f"cannot write {tmp_path / 'a.png'}: its symbolic links make a loop")):
        plot_curves(HISTORY, tmp_path / "a.png")
    assert work == [] and (tmp_path / "a.png").is_symlink()


def test_x_beyond_a_float32_networks_range_is_refused_naming_x(tmp_path: Path, work: list[str]) -> None:
    # converted to the params' float32 silently, 1e39 became inf, blamed later on the margin
    from functional_nn.plots import plot_hidden_units

    params32 = {key: value.astype(np.float32) for key, value in PARAMS.items()}
    X = X2.copy()
    X[0, 3] = -1e39
    message = "X holds a value of magnitude 1e+39, beyond the range of the network's float32 (3.403e+38), which it is converted to: rescale X, or use float64 params"
    with pytest.raises(ValueError, match=exactly(message)):
        plot_hidden_units(params32, SIGMOIDS, X, Y2, tmp_path / "units.png", resolution=5)
    assert work == [] and list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# titles and labels: a str (a title may be None), refused before anything is drawn


SERIES = [LayerSeries("weights", np.arange(3.0), np.ones((3, 2)))]
COLUMN = HistogramColumn("relu", [ActivationSnapshot("epoch 1", (np.ones((2, 3)),))])
HALF: Callable[[FloatArray], FloatArray] = lambda G: np.full((1, G.shape[1]), 0.5)

# name: (the suffix it writes, a call with good arguments and the title given)
TITLED: dict[str, tuple[str, Callable[[Path, Any], Path]]] = {
    "plot_decision_boundary": (".png", lambda path, title: plot_decision_boundary(HALF, X2, Y2, path, resolution=5, title=title)),
    "plot_image_grid": (".png", lambda path, title: plot_image_grid(np.full((4, 2), 0.5), (2, 2), path, predicted=np.array([0, 1]), title=title)),
    "plot_curves": (".png", lambda path, title: plot_curves(HISTORY, path, title=title)),
    "plot_layer_series": (".png", lambda path, title: plot_layer_series(SERIES, path, ylabel="norm", title=title)),
    "plot_activation_histograms": (".png", lambda path, title: plot_activation_histograms([COLUMN], path, title=title)),
    "plot_hidden_units": (".png", lambda path, title: plot_hidden_units(PARAMS, SIGMOIDS, X2, Y2, path, resolution=5, title=title)),
    "animate_training": (".gif", lambda path, title: animate_training([(0, PARAMS)], [0.5], SIGMOIDS, X2, Y2, path, resolution=5, title=title)),
}


@pytest.mark.parametrize("name", sorted(TITLED))
@pytest.mark.parametrize(("title", "shown"), [(b"loss", "bytes b'loss'"), (5, "int 5"), (("a", "b"), "tuple ('a', 'b')")])
def test_a_title_that_is_not_a_str_is_refused_before_anything_is_drawn(
    tmp_path: Path, work: list[str], name: str, title: object, shown: str
) -> None:
    suffix, call = TITLED[name]
    with pytest.raises(TypeError, match=exactly(f"title must be a str or None, got {shown}")):
        call(tmp_path / f"picture{suffix}", title)
    assert work == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", sorted(TITLED))
def test_a_str_title_is_drawn(tmp_path: Path, name: str) -> None:
    suffix, call = TITLED[name]
    assert call(tmp_path / f"picture{suffix}", "a title").stat().st_size > 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda path: plot_layer_series([LayerSeries(b"w", np.arange(3.0), np.ones((3, 2)))], path, ylabel="norm"),  # type: ignore[arg-type]  # the check under test
         "panels[0].title must be a str, got bytes b'w'"),
        (lambda path: plot_layer_series([*SERIES, LayerSeries(None, np.arange(3.0), np.ones((3, 2)))], path, ylabel="norm"),  # type: ignore[arg-type]  # the check under test
         "panels[1].title must be a str, got NoneType None"),
        (lambda path: plot_layer_series(SERIES, path, ylabel=None), "ylabel must be a str, got NoneType None"),  # type: ignore[arg-type]  # the check under test
        (lambda path: plot_layer_series(SERIES, path, ylabel="norm", xlabel=3), "xlabel must be a str, got int 3"),  # type: ignore[arg-type]  # the check under test
        (lambda path: plot_activation_histograms([COLUMN, HistogramColumn(7, COLUMN.snapshots)], path),  # type: ignore[arg-type]  # the check under test
         "columns[1].title must be a str, got int 7"),
        (lambda path: plot_activation_histograms([HistogramColumn("relu", [*COLUMN.snapshots, ActivationSnapshot(2, (np.ones((2, 3)),))])], path),  # type: ignore[arg-type]  # the check under test
         "columns[0].snapshots[1].label must be a str, got int 2"),
    ],
)  # fmt: skip
def test_panel_titles_and_labels_that_are_not_str_are_refused_by_name(
    tmp_path: Path, work: list[str], call: Callable[[Path], Path], message: str
) -> None:
    with pytest.raises(TypeError, match=exactly(message)):
        call(tmp_path / "picture.png")
    assert work == [] and list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# save_figure: dpi an int of at least 1, checked before the temporary file is made


@pytest.mark.parametrize(
    ("dpi", "error", "message"),
    [(True, TypeError, "dpi must be an integer, got bool True"), (72.0, TypeError, "dpi must be an integer, got float 72.0"),
     (0, ValueError, "dpi must be >= 1, got 0"), (-100, ValueError, "dpi must be >= 1, got -100")],
)  # fmt: skip
def test_save_figure_refuses_a_dpi_that_is_not_a_positive_int(tmp_path: Path, dpi: object, error: type[Exception], message: str) -> None:
    from matplotlib.figure import Figure

    target = tmp_path / "figure.png"
    target.write_bytes(b"an earlier picture")
    with pytest.raises(error, match=exactly(message)):
        save_figure(Figure(), target, dpi=dpi)  # type: ignore[arg-type]  # the check under test
    assert target.read_bytes() == b"an earlier picture" and list(tmp_path.iterdir()) == [target]


def test_save_figure_writes_the_pixels_its_dpi_asks_for(tmp_path: Path) -> None:
    from matplotlib.figure import Figure
    from PIL import Image

    path = save_figure(Figure(figsize=(2.0, 1.5)), tmp_path / "figure.png", dpi=30)
    with Image.open(path) as picture:
        assert picture.size == (60, 45)


def test_pictures_of_no_pixels_are_refused_by_their_shape(tmp_path: Path, work: list[str]) -> None:
    # their values were checked first, and NumPy's minimum of no values raised in its own words
    message = "image_shape must be (h, w) or (h, w, c) of positive sizes with c in (1, 3) and h*w*c = 0 rows of X, got (0, 4)"
    with pytest.raises(ValueError, match=exactly(message)):
        plot_image_grid(np.zeros((0, 2)), (0, 4), tmp_path / "grid.png", predicted=np.array([0, 1]))
    assert work == [] and list(tmp_path.iterdir()) == []


def test_a_lone_surrogate_in_a_title_a_legend_or_a_text_is_drawn_as_the_replacement_character(tmp_path: Path) -> None:
    """The font renderer refuses a lone surrogate (a file name not in UTF-8, as Python reads it)
    with a TypeError in every format; ``save_figure`` replaces it once a draw has failed so and
    draws again, leaving no temporary file. A TypeError of another cause is raised as it came."""
    from matplotlib.figure import Figure

    name = os.fsdecode(b"tr\xe9in.csv")
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], label=name)
    ax.legend()
    ax.set_title(name)
    fig.text(0.1, 0.1, name)
    for suffix in ("png", "svg"):
        assert save_figure(fig, tmp_path / f"f.{suffix}").stat().st_size > 0
    legend = ax.get_legend()
    assert legend is not None and [text.get_text() for text in legend.get_texts()] == ["tr\ufffdin.csv"]
    assert ax.get_title() == fig.texts[0].get_text() == "tr\ufffdin.csv"
    ax.set_xticks([0, 1], ["a", name])  # made anew from the formatter at each draw: not replaced
    with pytest.raises(TypeError, match="incompatible function arguments"):
        save_figure(fig, tmp_path / "g.png")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["f.png", "f.svg"]
