r"""The pictures people look at: decision boundaries, grids of predictions, training curves.

Every function draws one figure and writes it to ``path`` atomically (into a temporary file
in the same directory, then ``os.replace``), so a reader never sees half a picture, and
returns the path. The path is checked before anything is computed or drawn: its directory
must exist, it must not be a directory or a read-only file, and its suffix must name a format
matplotlib writes (``.png``, ``.pdf``, ``.svg``, ...; no suffix writes PNG). Nothing is shown on screen and no global ``pyplot`` state is touched: the
figures are ``matplotlib.figure.Figure`` objects rendered by the Agg canvas, so this works on
a machine without a display and from several threads.

Matplotlib belongs to the ``scripts`` extra and is imported only when a function is called;
without it the functions raise an ``ImportError`` that says ``pip install -e ".[scripts]"``.
"""

from __future__ import annotations

import io
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from functional_nn import _validation as check
from functional_nn.metrics import check_labels
from functional_nn.fold_state import EpochRecord
from functional_nn.serialization import atomic_write, check_writable_target
from functional_nn.types import Activation, ActivationFunction, FloatArray, IntArray

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Colours told apart by the 1 man in 12 with a red-green colour vision deficiency too (their
# distance in CAM02-UCS, simulated deuteranopia and protanopia by Machado 2009): right and wrong
# are blue and red (green and red, 56.6 apart, were 8.8 apart under deuteranopia: the same
# khaki); classes 0 and 1 keep the RdBu surface's blue and red, the others are Okabe and Ito's
# (the green and red of classes 2 and 1 were 5.5 apart under deuteranopia, now 18.9).
RIGHT_COLOUR, WRONG_COLOUR = "#0072b2", "#cf222e"
"""Right and wrong predictions' colours (``plot_image_grid``'s titles; the scripts' pictures use them too)."""
_CLASS_COLOURS = ("#2166ac", "#b2182b", "#009e73", "#e69f00", "#cc79a7", "#56b4e9", "#f0e442", "#000000")


_NEEDS_MATPLOTLIB = 'plotting needs matplotlib, which comes with the scripts extra: pip install -e ".[scripts]"'


def new_figure(width: float, height: float) -> Figure:
    """A blank figure of ``width`` x ``height`` inches, outside ``pyplot``'s global state."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(_NEEDS_MATPLOTLIB) from exc
    return Figure(figsize=(width, height), layout="constrained")


def _matplotlib_formats() -> list[str]:
    """The formats a figure can be saved in (``"png"``, ``"pdf"``, ...), sorted."""
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError as exc:
        raise ImportError(_NEEDS_MATPLOTLIB) from exc
    return sorted(FigureCanvasBase.get_supported_filetypes())


def check_output_path(path: object, *, gif: bool = False) -> tuple[Path, str]:
    """The file to write and its format, for a picture about to be drawn into ``path``.

    Called first by every function here that writes, so that a path that cannot be written
    is refused before any model is run or anything drawn: ``path`` must be a ``str`` or
    ``os.PathLike`` (else ``TypeError``); it must name a file, not be empty nor end in a
    path separator (a folder), and hold no NUL byte; its suffix must name a format matplotlib
    writes, no suffix meaning PNG (with ``gif``: must be ``.gif``) (else ``ValueError``); and it
    must be writable as ``atomic_write`` will write it: its directory exists
    (``FileNotFoundError``), it is not a directory (``IsADirectoryError``), a device, FIFO or
    socket (``OSError``) nor a read-only file (``PermissionError``).

    Returns
    -------
    target : pathlib.Path
        ``path`` as a ``Path``.
    fmt : str
        The format, ``"png"``, ``"pdf"``, ..., or ``"gif"``.
    """
    given = str(check.check_path("path", path, example="training.gif" if gif else "figure.png", file=True))
    suffix = Path(given).suffix.lower()
    if gif:
        if suffix != ".gif":
            raise ValueError(f"path must end in .gif (animate_training writes a GIF), got {given!r}")
        fmt = "gif"
    else:
        formats = _matplotlib_formats()
        fmt = suffix.lstrip(".") or "png"
        if fmt not in formats:
            listed = ", ".join(f".{name}" for name in formats)
            raise ValueError(f"path must end in a suffix matplotlib writes ({listed}; none writes PNG), got {given!r}")
    check_writable_target(given)
    return Path(given), fmt


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` atomically; the format follows the suffix (``.png`` by default).

    ``path`` is checked as ``check_output_path`` does, then ``dpi``, the pixels per inch: an int
    of at least 1 (else ``TypeError`` or ``ValueError``). On any error the temporary file is
    removed and ``path`` is left as it was. A lone surrogate in the figure's titles, labels,
    legends and texts (a file name that is not UTF-8, as Python reads it) is drawn as U+FFFD,
    the replacement character; tick labels, made anew from their formatter at each draw, are not.
    """
    target, fmt = check_output_path(path)
    dpi = check.check_positive_int("dpi", dpi)
    try:
        with atomic_write(target) as stream:  # the usual file mode, symlinks followed, stale temporaries cleaned
            fig.savefig(stream, format=fmt, dpi=dpi)
    except TypeError:  # the font renderer refuses a lone surrogate so, in every format
        if not _surrogates_replaced(fig):
            raise
        with atomic_write(target) as stream:
            fig.savefig(stream, format=fmt, dpi=dpi)
    return target


def _surrogates_replaced(fig: Figure) -> bool:
    """Whether a text of ``fig`` held a lone surrogate, each now U+FFFD. Looked for only once a
    draw has failed: ``findobj`` makes every axis's ticks (two lines, a grid line and two texts
    at each tick location), for axes never drawn too, which took half the time of a 60-digit
    ``plot_image_grid``."""
    from matplotlib.text import Text

    replaced = False
    for text in fig.findobj(Text):
        shown = text.get_text()
        if _SURROGATE.search(shown):  # a file name not in UTF-8 (a Latin-1 one, untarred) reaches Python so
            text.set_text(_SURROGATE.sub("\ufffd", shown))
            replaced = True
    return replaced


_SURROGATE: Final = re.compile("[\ud800-\udfff]")
"""A lone surrogate, which ``os.fsdecode`` makes of each byte of a file name that is not UTF-8;
``save_figure`` draws it as U+FFFD, the replacement character."""


def _class_name(names: Sequence[str] | None, k: int) -> str:
    return names[k] if names is not None and 0 <= k < len(names) else str(k)


def _check_class_names(class_names: object) -> None:
    """Refuse ``class_names`` unless ``None`` or a sequence of str: a str would name the classes by
    its letters (``"cats"``: ``c``, ``a``, ...), and anything else would be drawn as its ``repr``."""
    if class_names is None:
        return
    if isinstance(class_names, str) or not isinstance(class_names, Sequence):
        raise TypeError(f"class_names must be a sequence of str such as ('cat', 'dog'), got {type(class_names).__name__} {class_names!r}")
    for i, name in enumerate(class_names):
        if not isinstance(name, str):
            raise TypeError(f"class_names[{i}] must be a str, got {type(name).__name__} {name!r}")


def _check_text(argument: str, text: object, *, optional: bool = True) -> None:
    """Refuse a title or label ``text`` that is not a str (or ``None``, where ``optional``):
    matplotlib would draw any other object as its ``str``, a bytes title as ``b'...'``."""
    if isinstance(text, str) or (optional and text is None):
        return
    expected = "a str or None" if optional else "a str"
    raise TypeError(f"{argument} must be {expected}, got {type(text).__name__} {text!r}")


def plot_decision_boundary(
    probability: Callable[[FloatArray], FloatArray],
    X: FloatArray,
    y: IntArray,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    class_names: Sequence[str] | None = None,
    resolution: int = 200,
    margin: float = 0.25,
) -> Path:
    r"""The model's output over the plane, with the samples drawn over it.

    ``probability`` is evaluated on a ``resolution`` x ``resolution`` grid covering the data
    (plus ``margin`` times its range on every side). With one output row (a sigmoid unit)
    the picture is the probability surface :math:`P(y = 1 \mid x)` from blue (0) to red (1)
    with the 0.5 contour, the decision boundary, drawn in black. With several rows it shows
    the region each class wins (the argmax).

    Parameters
    ----------
    probability : callable
        Maps a grid ``G`` of shape ``(2, n)`` in ``X``'s dtype to probabilities (finite, in
        [0, 1]) of shape ``(1, n)`` or ``(k, n)``; e.g.
        ``lambda G: predict_proba(G, params, activations)``. Other outputs are refused with a
        ``ValueError`` before anything is drawn.
    X : ndarray of shape (2, m)
        The samples, one per column.
    y : ndarray of int, shape (m,)
        Their classes, for the colour of each point.
    path : path-like
        Where to write the picture.
    title : str, optional
    class_names : sequence of str, optional
        The legend's names for the classes ``0, 1, ...`` (not a str itself, whose letters
        would name them).
    resolution : int >= 2, default 200
    margin : float >= 0, default 0.25
        Not so large that the widened box overflows ``X``'s dtype (a ``ValueError`` says so).

    Returns
    -------
    path : pathlib.Path
    """
    target, _ = check_output_path(path)
    _check_text("title", title)
    if not callable(probability):
        raise TypeError(
            "probability must be a function of a (2, n) grid, such as lambda G: predict_proba(G, params, activations), "
            f"got {type(probability).__name__} {probability!r}"
        )
    X = check.check_float_array("X", X)
    if X.shape[0] != 2:
        raise ValueError(f"X must have 2 rows (features) to be drawn in the plane, got shape {X.shape}")
    m = check.check_samples("X", X)
    y = check_labels("y", y)
    if y.shape != (m,):
        raise ValueError(f"y must have shape ({m},), one class per column of X, got {y.shape}")
    _check_class_names(class_names)
    resolution = check.check_positive_int("resolution", resolution, minimum=2)
    margin = check.check_positive_float("margin", margin, allow_zero=True)
    grid_x, grid_y, G, xlim, ylim = _plane(X, resolution, margin)
    out = np.asarray(probability(G))
    if out.ndim != 2 or out.shape[0] == 0 or out.shape[1] != G.shape[1]:
        raise ValueError(f"probability must map a (2, n) grid to an array of shape (k, n), k >= 1, got {out.shape} for n = {G.shape[1]}")
    if out.dtype.kind not in "biuf":
        raise TypeError(f"probability must return an array of numbers, got dtype {out.dtype}")
    _check_probabilities(out, f"probability's output on the {G.shape[1]}-point grid", "it must return probabilities in [0, 1]")
    out = out.astype(np.float64, copy=False)
    fig = new_figure(6.4, 5.2)
    ax = fig.add_subplot()
    if out.shape[0] == 1:
        surface = out[0].reshape(grid_x.shape)
        filled = ax.contourf(grid_x, grid_y, surface, levels=np.linspace(0.0, 1.0, 21), cmap="RdBu_r", alpha=0.6)
        ax.contour(grid_x, grid_y, surface, levels=[0.5], colors="black", linewidths=1.5)
        fig.colorbar(filled, ax=ax, label=f"P(y = {_class_name(class_names, 1)} | x)", ticks=np.linspace(0, 1, 6))
    else:
        winners = np.argmax(out, axis=0).reshape(grid_x.shape)
        k = out.shape[0]
        from matplotlib.colors import ListedColormap

        cmap = ListedColormap([_CLASS_COLOURS[c % len(_CLASS_COLOURS)] for c in range(k)])
        ax.pcolormesh(grid_x, grid_y, winners, cmap=cmap, vmin=-0.5, vmax=k - 0.5, alpha=0.3, shading="auto")
    for c in np.unique(y).tolist():
        points = X[:, y == c]
        ax.scatter(
            points[0], points[1], s=20, color=_CLASS_COLOURS[c % len(_CLASS_COLOURS)], edgecolors="black",
            linewidths=0.6, label=_class_name(class_names, c),
        )  # fmt: skip
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="best", framealpha=0.9)
    if title:
        ax.set_title(title)
    return save_figure(fig, target)


def plot_image_grid(
    X: FloatArray,
    image_shape: tuple[int, int] | tuple[int, int, int],
    path: str | os.PathLike[str],
    *,
    predicted: IntArray,
    labels: IntArray | None = None,
    probabilities: FloatArray | None = None,
    class_names: Sequence[str] | None = None,
    columns: int | None = None,
    title: str | None = None,
) -> Path:
    """A grid of pictures, each titled with its predicted class (and the true one).

    A picture's title is blue when the prediction is right and red when it is wrong.

    Parameters
    ----------
    X : ndarray of shape (h * w * c, n)
        One flattened picture per column with values in [0, 1], in ``(h, w, c)`` order as
        ``load_image_folder`` makes them (a picture is ``X[:, j].reshape(image_shape)``).
        Values outside [0, 1] (raw 0..255 pixels, standardised ones) are refused with a
        ``ValueError``, not clipped: drawn, they would be all white or all black. The
        augmentations interpolate between pixels and so stay within their input's range.
    image_shape : (h, w) or (h, w, c) of ints >= 1, with c in {1, 3}
    path : path-like
    predicted : ndarray of int, shape (n,)
    labels : ndarray of int, shape (n,), optional
        The true classes.
    probabilities : ndarray of shape (n,), optional
        The probability the model gives its prediction, shown after the class.
    class_names : sequence of str, optional
        The names of the classes ``0, 1, ...`` (not a str itself, whose letters would name them).
    columns : int, optional
        Pictures per row; by default about the square root of ``n``.
    title : str, optional

    Returns
    -------
    path : pathlib.Path
    """
    target, _ = check_output_path(path)
    _check_text("title", title)
    X = check.check_float_array("X", X)
    n = check.check_samples("X", X)
    given_shape: object = image_shape  # typed, but users pass what they like
    if not isinstance(given_shape, (tuple, list)) or not all(
        isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in given_shape
    ):
        raise TypeError(f"image_shape must be a tuple (h, w) or (h, w, c) of ints, got {image_shape!r}")
    shape = tuple(int(s) for s in given_shape)
    if (
        len(shape) not in (2, 3)
        or (len(shape) == 3 and shape[2] not in (1, 3))
        or math.prod(shape) != X.shape[0]
        or min(shape) < 1  # (-4, -4) multiplies to 16 too, and reshape would refuse it in its own words
    ):
        raise ValueError(
            f"image_shape must be (h, w) or (h, w, c) of positive sizes with c in (1, 3) and h*w*c = {X.shape[0]} rows of X, got {image_shape}"
        )
    # after image_shape: X of no rows (image_shape (0, 4)) has no values to check
    _check_probabilities(
        X, "X", "pictures must hold values in [0, 1], as load_image_folder and scale_pixels give them "
        "(np.clip(X, 0, 1) if they overshoot by rounding)",
    )  # fmt: skip
    _check_class_names(class_names)
    predicted = check_labels("predicted", predicted)
    if predicted.shape != (n,):
        raise ValueError(f"predicted must have shape ({n},), one per column of X, got {predicted.shape}")
    if labels is not None and check_labels("labels", labels).shape != (n,):
        raise ValueError(f"labels must have shape ({n},), one per column of X, got {labels.shape}")
    if probabilities is not None and check.check_float_array("probabilities", probabilities, ndim=1).shape != (n,):
        raise ValueError(f"probabilities must have shape ({n},), got {probabilities.shape}")
    cols = math.ceil(math.sqrt(n)) if columns is None else check.check_positive_int("columns", columns)
    rows = math.ceil(n / cols)
    fig = new_figure(1.6 * cols, 1.75 * rows + (0.3 if title else 0.0))
    axes = fig.subplots(rows, cols, squeeze=False)
    for j, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        ax.xaxis.set_visible(False)  # nor laid out: placing the title made the y axis's ticks
        ax.yaxis.set_visible(False)
        if j >= n:
            continue
        picture = X[:, j].reshape(shape)
        if picture.ndim == 3 and picture.shape[2] == 1:
            picture = picture[:, :, 0]
        ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0.0, vmax=1.0, interpolation="nearest")
        text = _class_name(class_names, int(predicted[j]))
        if probabilities is not None:
            text += f" ({float(probabilities[j]):.2f})"
        colour = "black"
        if labels is not None:
            text += f"\ntrue: {_class_name(class_names, int(labels[j]))}"
            colour = RIGHT_COLOUR if predicted[j] == labels[j] else WRONG_COLOUR
        ax.set_title(text, fontsize=8, color=colour)
    if title:
        fig.suptitle(title)
    return save_figure(fig, target)


def _check_records(records: Sequence[EpochRecord]) -> None:
    """Refuse a record whose figures are not numbers (matplotlib would draw strings as
    categories), and a history without one finite cost (an empty chart)."""
    for i, record in enumerate(records):
        if not check.is_integer(record.epoch):
            raise TypeError(f"history[{i}].epoch must be an int, got {type(record.epoch).__name__} {record.epoch!r}")
        if not check.is_real_number(record.cost):
            raise TypeError(f"history[{i}].cost must be a real number, got {type(record.cost).__name__} {record.cost!r}")
        for field in ("accuracy", "dev_cost", "dev_accuracy"):
            value = getattr(record, field)
            if value is not None and not check.is_real_number(value):
                raise TypeError(f"history[{i}].{field} must be a real number or None, got {type(value).__name__} {value!r}")
    if not any(math.isfinite(r.cost) for r in records):
        raise ValueError(f"history has no finite cost: all {len(records)} are NaN or infinite, so there is no curve to draw")


def _check_sequence(argument: str, value: object, items: str) -> Sequence[object]:
    """``value`` if it is a list or tuple; else a ``TypeError`` naming ``argument``, instead of
    Python's "'int' object is not iterable" or NumPy's "truth value ... is ambiguous"."""
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{argument} must be a list or tuple of {items}, got {type(value).__name__}")
    return value


def plot_curves(
    history: Sequence[EpochRecord],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    mark_epoch: int | None = None,
) -> Path:
    """Cost and accuracy per epoch, for the training set and the dev set when there is one.

    Parameters
    ----------
    history : sequence of EpochRecord
        ``train(...).history``; records whose accuracies are ``None`` (regression) give a
        cost panel only. Every ``epoch`` is an int and every ``cost`` a real number (a NaN
        or infinite one is left out of the line, but at least one must be finite); the
        other figures are real numbers or ``None``.
    path : path-like
    title : str, optional
    mark_epoch : int, optional
        An epoch of ``history`` to mark with a dotted vertical line, e.g. the best one on the dev set.

    Returns
    -------
    path : pathlib.Path
    """
    target, _ = check_output_path(path)
    _check_text("title", title)
    _check_sequence("history", history, "EpochRecord, as train(...).history holds")
    records = tuple(history)
    if not records or not all(isinstance(r, EpochRecord) for r in records):
        raise ValueError("history must be a non-empty sequence of EpochRecord, as train(...).history holds")
    _check_records(records)
    epochs = [int(r.epoch) for r in records]
    if mark_epoch is not None:
        given_mark: object = mark_epoch  # typed, but users pass what they like
        if not check.is_integer(given_mark):
            raise TypeError(f"mark_epoch must be an int, one of the epochs of history, or None, got {type(given_mark).__name__} {given_mark!r}")
        if int(mark_epoch) not in epochs:
            raise ValueError(f"mark_epoch {mark_epoch} is not an epoch of history, whose epochs run from {min(epochs)} to {max(epochs)}")
    has_accuracy = any(r.accuracy is not None for r in records)
    has_dev = any(r.dev_cost is not None for r in records)
    fig = new_figure(10.0 if has_accuracy else 5.5, 3.8)
    panels = fig.subplots(1, 2 if has_accuracy else 1, squeeze=False)[0]
    series: list[tuple[str, str, Callable[[EpochRecord], float | None]]] = [("cost", "train", lambda r: r.cost)]
    if has_dev:
        series.append(("cost", "dev", lambda r: r.dev_cost))
    if has_accuracy:
        series.append(("accuracy", "train", lambda r: r.accuracy))
        if has_dev:
            series.append(("accuracy", "dev", lambda r: r.dev_accuracy))
    for quantity, subset, value in series:
        ax = panels[0] if quantity == "cost" else panels[1]
        points = [(e, v) for e, v in zip(epochs, map(value, records)) if v is not None]
        if points:
            xs, vs = zip(*points)
            style = "-" if subset == "train" else "--"
            ax.plot(xs, vs, style, marker="o" if len(points) <= 30 else None, markersize=3, label=subset)
    from matplotlib.ticker import MaxNLocator

    for ax, quantity in zip(panels, ("cost", "accuracy")):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(quantity)
        ax.grid(alpha=0.3)
        if mark_epoch is not None:
            ax.axvline(mark_epoch, color="grey", linestyle=":", label=f"epoch {mark_epoch}")
        ax.legend()
    if title:
        fig.suptitle(title)
    return save_figure(fig, target)


# --------------------------------------------------------------------------------------------
# the network's insides


class LayerSeries(NamedTuple):
    """One panel of ``plot_layer_series``: a figure per layer (columns) at each step (rows)."""

    title: str
    steps: FloatArray | IntArray  # (n,) the training step of each row: np.arange(n) will do
    values: FloatArray  # (n, L): values[i, l - 1] belongs to layer l at steps[i]


class ActivationSnapshot(NamedTuple):
    """Every layer's outputs at one moment, e.g. ``("epoch 3", (A_1, ..., A_L))``."""

    label: str
    activations: tuple[FloatArray, ...]  # A_l of shape (n_l, m), any m


class HistogramColumn(NamedTuple):
    """One column of ``plot_activation_histograms``: a network's snapshots and its output range.

    Finite bounds of ``value_range`` (an activation's ``output_range``) fix the histograms'
    range, so that a pile at a bound shows; an infinite bound is replaced by the data's
    minimum or its 99.5th percentile, so that a long tail does not squeeze the rest.
    """

    title: str
    snapshots: Sequence[ActivationSnapshot]
    value_range: tuple[float, float] = (-math.inf, math.inf)


def _layer_colours(L: int) -> list[tuple[float, float, float, float]]:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(0.9 * l / max(L - 1, 1)) for l in range(L)]


def _smooth(values: FloatArray, window: int, log: bool) -> FloatArray:
    """A moving average over ``window`` rows (of the logarithms, for a log axis); same shape.

    What the axis does not draw is left out of the average: NaN, and on a log axis 0 and
    below (a gradient norm of exactly 0, say, whose logarithm would drag the line down
    to ~1e-308 and with it the shared axis). A window of none but those is NaN, not drawn."""
    if window <= 1 or values.shape[0] < 2:
        return values
    window = min(window, values.shape[0])
    data = np.log(np.where(values > 0, values, np.nan)) if log else values  # NaN > 0 is False: NaN
    padded = np.pad(data, ((window // 2, window - 1 - window // 2), (0, 0)), mode="edge")
    present = ~np.isnan(padded)
    kernel = np.ones(window)
    columns = range(data.shape[1])
    sums = np.stack([np.convolve(np.where(present[:, j], padded[:, j], 0.0), kernel, mode="valid") for j in columns], axis=1)
    counts = np.stack([np.convolve(present[:, j].astype(np.float64), kernel, mode="valid") for j in columns], axis=1)
    smoothed = np.divide(sums, counts, out=np.full(sums.shape, np.nan), where=counts > 0)
    result: FloatArray = np.exp(smoothed) if log else smoothed
    return result


def plot_layer_series(
    panels: Sequence[LayerSeries],
    path: str | os.PathLike[str],
    *,
    ylabel: str,
    title: str | None = None,
    log_scale: bool = True,
    smooth: int = 1,
    xlabel: str = "training step",
) -> Path:
    """Panels side by side, one line per layer, sharing the y axis so they compare at a glance.

    Drawn for ``scripts/vanishing_gradients.py``: the norm of each layer's gradient over
    training, for several networks. The layers run from dark (layer 1) to light (layer L of
    the deepest panel): layer ``l`` has the same colour in every panel, and the legend names
    the layers of the deepest panel.

    Parameters
    ----------
    panels : sequence of LayerSeries
        Each with ``steps`` of shape ``(n,)`` (finite ints or floats) and ``values`` of shape
        ``(n, L)``, ``n >= 1`` and ``L >= 1``; ``L`` may differ from panel to panel.
    path : path-like
    ylabel : str
    title : str, optional
    log_scale : bool, default True
        A logarithmic y axis (non-positive values are not drawn on it).
    smooth : int >= 1, default 1
        Draw the moving average over this many steps (of the logarithms, on a log axis)
        over the raw values, which are drawn faintly.
    xlabel : str, default "training step"

    Returns
    -------
    path : pathlib.Path
    """
    target, _ = check_output_path(path)
    _check_text("title", title)
    if not _check_sequence("panels", panels, "LayerSeries(title, steps, values)") or not all(isinstance(p, LayerSeries) for p in panels):
        raise ValueError("panels must be a non-empty sequence of LayerSeries(title, steps, values)")
    if not isinstance(log_scale, (bool, np.bool_)):  # "no" or [] would pick a scale by truthiness
        raise TypeError(f"log_scale must be a bool, got {type(log_scale).__name__} {log_scale!r}")
    smooth = check.check_positive_int("smooth", smooth)
    _check_text("ylabel", ylabel, optional=False)
    _check_text("xlabel", xlabel, optional=False)
    for i, p in enumerate(panels):
        _check_text(f"panels[{i}].title", p.title, optional=False)
        values = check.check_float_array(f"the values of panel {p.title!r}", p.values, finite=False)
        steps = np.asarray(p.steps)
        if steps.shape != (values.shape[0],):
            raise ValueError(f"panel {p.title!r}: steps must have shape ({values.shape[0]},), one per row of values, got {steps.shape}")
        if steps.dtype.kind not in "iuf":  # matplotlib would draw strings as categories, in the order given
            raise TypeError(f"panel {p.title!r}: steps must be numbers (int or float), got dtype {steps.dtype}")
        if not np.isfinite(steps).all():  # a row at a NaN step would be left out of its line, unsaid
            raise ValueError(f"panel {p.title!r}: steps has {int(np.count_nonzero(~np.isfinite(steps)))} NaN or infinite value(s)")
        if 0 in values.shape:  # an empty chart, and a legend of nothing
            raise ValueError(f"panel {p.title!r} has no values to draw: values has shape {values.shape}, (steps, layers)")
    # layer l has one colour in every panel, and the legend names the layers of the deepest
    depths = [p.values.shape[1] for p in panels]
    colours = _layer_colours(max(depths))
    fig = new_figure(4.0 * len(panels) + 0.6, 3.9)
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    for ax, p in zip(axes, panels):
        values = np.asarray(p.values, dtype=np.float64)
        L = values.shape[1]
        lines = _smooth(values, smooth, log_scale)
        for l, colour in enumerate(colours[:L]):
            if smooth > 1:
                ax.plot(p.steps, values[:, l], color=colour, alpha=0.15, linewidth=0.7)
            ax.plot(p.steps, lines[:, l], color=colour, linewidth=1.6, label=f"layer {l + 1}")
        if log_scale:
            ax.set_yscale("log")
        ax.set_title(p.title, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3, which="both" if not log_scale else "major")
    axes[0].set_ylabel(ylabel)
    handles, labels = axes[depths.index(max(depths))].get_legend_handles_labels()
    axes[-1].legend(handles, labels, loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    if title:
        fig.suptitle(title)
    return save_figure(fig, target)


def _check_histogram_columns(columns: Sequence[HistogramColumn]) -> int:
    """``L``, the number of layers every snapshot holds, once ``columns`` is checked as
    ``plot_activation_histograms`` takes it: a non-empty list or tuple of ``HistogramColumn``,
    each with a str ``title``, a ``value_range`` of two numbers with ``low < high``, and
    non-empty ``snapshots``, each an ``ActivationSnapshot`` of a str ``label`` and a tuple or
    list of ``L >= 1`` float32 or float64 arrays, finite and not empty, the same ``L`` in
    every snapshot. Else a ``TypeError`` or ``ValueError`` naming the item at fault, such as
    ``columns[0].snapshots[1].activations[2]``."""
    given = _check_sequence("columns", columns, "HistogramColumn(title, non-empty snapshots, value_range)")
    if not given or not all(isinstance(c, HistogramColumn) and len(c.snapshots) for c in given):
        raise ValueError("columns must be a non-empty sequence of HistogramColumn(title, non-empty snapshots, value_range)")
    for c, column in enumerate(columns):
        for i, snapshot in enumerate(column.snapshots):
            if not isinstance(snapshot, ActivationSnapshot):
                raise TypeError(f"columns[{c}].snapshots[{i}] must be an ActivationSnapshot(label, activations), got {type(snapshot).__name__}")
            layers: object = snapshot.activations  # typed, but users pass what they like
            if not isinstance(layers, (tuple, list)):  # an array's rows would be taken for layers
                raise TypeError(
                    f"columns[{c}].snapshots[{i}].activations must be a tuple of every layer's outputs (A_1, ..., A_L), "
                    f"got {type(layers).__name__}; one layer's outputs A are (A,)"
                )
    depths = {len(s.activations) for c in columns for s in c.snapshots}
    if len(depths) != 1 or 0 in depths:
        raise ValueError(f"every snapshot must hold the same number of layers (at least one), got {sorted(depths)}")
    L = depths.pop()
    for c, column in enumerate(columns):
        _check_histogram_column(f"columns[{c}]", column)
    return L


def _check_histogram_column(argument: str, column: HistogramColumn) -> None:
    """Refuse a column (``argument``, such as ``"columns[0]"``) of ``_check_histogram_columns``
    whose title, labels, ``value_range`` or layers' outputs are not as it says."""
    _check_text(f"{argument}.title", column.title, optional=False)
    for i, snapshot in enumerate(column.snapshots):
        _check_text(f"{argument}.snapshots[{i}].label", snapshot.label, optional=False)
    value_range: object = column.value_range  # typed, but users pass what they like
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2 or not all(
        check.is_real_number(v) for v in value_range
    ):
        raise TypeError(f"{argument}.value_range must be a pair of numbers (low, high), got {value_range!r}")
    if not float(value_range[0]) < float(value_range[1]):  # also refuses a NaN bound
        raise ValueError(f"{argument}.value_range must be (low, high) with low < high, got {value_range!r}")
    for i, snapshot in enumerate(column.snapshots):
        for l, values in enumerate(snapshot.activations):
            name = f"{argument}.snapshots[{i}].activations[{l}]"
            # a NaN has no bin, and an infinity would make an open range's edges NaN
            array = check.check_float_array(name, values, ndim=None)
            if array.size == 0:  # a curve of no values is flat at 0, and a range from none has no ends
                raise ValueError(f"{name} is empty, shape {array.shape}: a histogram needs at least one value")


def plot_activation_histograms(
    columns: Sequence[HistogramColumn],
    path: str | os.PathLike[str],
    *,
    bins: int = 40,
    title: str | None = None,
) -> Path:
    """Histograms of each layer's outputs (rows) for each network (columns), one curve per moment.

    Each curve shows the share of the layer's outputs (units x samples) in each bin, so
    curves from different moments compare directly; a pile at 0 and 1 in a sigmoid layer is
    saturation, a pile at 0 in a ReLU layer is silent units.

    Parameters
    ----------
    columns : sequence of HistogramColumn
        A title per column, its snapshots and its range ``(low, high)`` with ``low < high``;
        every snapshot of every column has the same number of layers, and every layer's
        outputs hold at least one value.
    path : path-like
    bins : int >= 2, default 40
    title : str, optional

    Returns
    -------
    path : pathlib.Path
    """
    target, _ = check_output_path(path)
    _check_text("title", title)
    bins = check.check_positive_int("bins", bins, minimum=2)
    L = _check_histogram_columns(columns)
    fig = new_figure(3.3 * len(columns) + 0.4, 1.55 * L + 0.9)
    axes = fig.subplots(L, len(columns), squeeze=False)
    for c, (column_title, snapshots, (range_low, range_high)) in enumerate(columns):
        colours = _layer_colours(len(snapshots))
        for l in range(L):
            ax = axes[l, c]
            layer_values = [np.asarray(s.activations[l], dtype=np.float64).ravel() for s in snapshots]
            every_value = np.concatenate(layer_values)
            low = range_low if math.isfinite(range_low) else float(every_value.min())
            high = range_high if math.isfinite(range_high) else float(np.percentile(every_value, 99.5))
            edges = np.linspace(low, high if high > low else low + 1.0, bins + 1)
            for snapshot, v, colour in zip(snapshots, layer_values, colours):
                counts, _ = np.histogram(np.clip(v, edges[0], edges[-1]), bins=edges)  # the tail in the last bin
                ax.stairs(counts / max(v.size, 1), edges, color=colour, linewidth=1.4, label=snapshot.label)
            ax.tick_params(labelsize=7)
            if c == 0:
                ax.set_ylabel(f"layer {l + 1}\nshare", fontsize=8)
            if l == 0:
                ax.set_title(column_title, fontsize=10)
        axes[0, c].legend(fontsize=7, frameon=False)
    if title:
        fig.suptitle(title)
    return save_figure(fig, target)


# --------------------------------------------------------------------------------------------
# a network of two inputs: its hidden units' lines, its boundary, and training as an animation

_GIF_MAX_FRAME_MS: Final = 655350
"""The longest ``frame_ms`` ``animate_training`` takes: a GIF's frame delay is 16 bits of 1/100 s."""
_GIF_MIN_DPI: Final = 8
"""The smallest ``dpi`` of ``animate_training``: FreeType draws no font below one pixel per em,
and the frames' smallest text, 9 points, is 9 dpi / 72 pixels high."""
# unit 3 told from unit 1 under protanopia (the green #008837 was 5.5 from the orange in CAM02-UCS,
# now 18.9) and unit 8 from unit 1 under deuteranopia (the dark goldenrod #b8860b was 1.6)
_UNIT_COLOURS = ("#e66101", "#5e3c99", "#009e73", "#d01c8b", "#0571b0", "#a6611a", "#4d4d4d", "#cc79a7")


class _Plane(NamedTuple):
    """A grid over the data's box: ``G`` of shape ``(2, r * r)`` in the data's dtype."""

    grid_x: FloatArray  # (r, r)
    grid_y: FloatArray  # (r, r)
    G: FloatArray
    xlim: tuple[float, float]
    ylim: tuple[float, float]


def _plane(X: FloatArray, resolution: int, margin: float) -> _Plane:
    """The data's box, widened by ``margin`` times its extent on every side.

    Where the data has no extent (one sample, a constant feature) the box is given one of
    1e-3 times the values' size (at least 1e-3), even with no margin, so that it is not a
    point, and so that it survives the data's dtype (1e-3 vanishes next to 1e4 in float32):
    a box of no width would draw no probability at all.
    """
    low: FloatArray = X.min(axis=1).astype(np.float64)
    high: FloatArray = X.max(axis=1).astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused below, naming margin
        extent = np.maximum(high - low, 1e-3 * np.maximum(1.0, np.maximum(np.abs(low), np.abs(high))))
        pad = (extent - (high - low)) / 2 + extent * margin  # the data's own extent: extent * margin
        starts, stops = low - pad, high + pad
        spans = stops - starts
    largest = float(np.finfo(X.dtype).max)
    # NaN fails these comparisons too; a grid past the dtype's range would be drawn as nothing
    if not (np.all(np.abs(starts) <= largest) and np.all(np.abs(stops) <= largest) and np.all(np.isfinite(spans))):
        raise ValueError(
            f"margin={margin:g} is too large for X: its box, from {low.tolist()} to {high.tolist()}, widened by margin "
            f"times its extent on every side would run past the largest {X.dtype.name} ({largest:.3g}); choose a smaller "
            "margin (or rescale X)"
        )
    xs = np.linspace(starts[0], stops[0], resolution)
    ys = np.linspace(starts[1], stops[1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    G = np.stack([grid_x.ravel(), grid_y.ravel()]).astype(X.dtype)
    return _Plane(grid_x, grid_y, G, (float(xs[0]), float(xs[-1])), (float(ys[0]), float(ys[-1])))


def _check_plane_network(
    params: Mapping[str, FloatArray],
    activations: Sequence[Activation | ActivationFunction],
    X: object,
    y: object,
    argument: str = "params",
) -> tuple[FloatArray, IntArray, tuple[ActivationFunction, ...]]:
    from functional_nn.propagation import check_activations

    sizes = check.check_params(params, argument)
    names = check_activations(activations, len(sizes) - 1)
    if sizes[0] != 2 or sizes[-1] != 1 or len(sizes) < 3:
        raise ValueError(f"the network must have 2 inputs, a hidden layer and 1 output unit to be drawn in the plane, got layer sizes {sizes}")
    X = check.check_float_array("X", X)
    if X.shape[0] != 2:
        raise ValueError(f"X must have 2 rows (features) to be drawn in the plane, got shape {X.shape}")
    m = check.check_samples("X", X)
    y = check_labels("y", y)
    if y.shape != (m,):
        raise ValueError(f"y must have shape ({m},), one class per column of X, got {y.shape}")
    return check.in_dtype("X", X, params["W1"].dtype, "rescale X"), y, names


def _check_probabilities(values: npt.NDArray[Any], subject: str, remedy: str) -> None:
    """Refuse ``values`` unless finite and in [0, 1]: the colour scale runs from 0 to 1, and
    what lies outside it would be drawn as nothing at all."""
    finite = np.isfinite(values)
    if not finite.all():
        count = int(values.size - np.count_nonzero(finite))
        raise ValueError(f"{subject} has {count} NaN or infinite value(s): {remedy}")
    lowest, highest = float(values.min()), float(values.max())
    if lowest < 0 or highest > 1:
        raise ValueError(f"{subject} runs from {_number(lowest)} to {_number(highest)}, outside [0, 1]: {remedy}")


def _number(value: float) -> str:
    """``value`` in six digits, or all its digits where six would hide it (1.000001 is not 1)."""
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


def _probability_surface(plane: _Plane, params: Mapping[str, FloatArray], names: Sequence[ActivationFunction], context: str = "") -> FloatArray:
    """The network's output over the plane, ``(r, r)``, refused unless it is a probability:
    the colour scale runs from 0 to 1, and what lies outside it would not be drawn at all."""
    from functional_nn.propagation import forward_output

    output = forward_output(plane.G, params, names)[0]
    _check_probabilities(
        output, f"{context}the network's output over the plane",
        "activations must end in a probability, such as 'sigmoid', to be drawn as P(y = 1 | x)",
    )  # fmt: skip
    surface: FloatArray = output.reshape(plane.grid_x.shape)
    return surface


def _draw_unit_lines(ax: Axes, W1: FloatArray, b1: FloatArray, plane: _Plane, *, arrows: bool, linewidth: float = 1.8) -> None:
    r"""Each first-layer unit's line :math:`w_{j1} x_1 + w_{j2} x_2 + b_j = 0`, with an arrow
    pointing to the side where :math:`z_j > 0` (a sigmoid unit's output above 0.5)."""
    (x0, x1), (y0, y1) = plane.xlim, plane.ylim
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    size = math.hypot(x1 - x0, y1 - y0)
    for j in range(W1.shape[0]):
        w = np.asarray(W1[j], dtype=np.float64)
        b = float(b1[j, 0])
        norm = float(np.hypot(w[0], w[1]))
        colour = _UNIT_COLOURS[j % len(_UNIT_COLOURS)]
        if norm == 0:
            continue  # the unit ignores its inputs: no line
        # the point of the line nearest the centre, and the line through it along (-w2, w1); with
        # the unit normal w / |w|, as norm**2 overflows for weights past 1e154 and underflows below 1e-154
        normal = w / norm
        offset = float(normal @ centre) + b / norm  # the centre's signed distance from the line
        if not math.isfinite(offset):
            continue  # a line beyond the largest float (weights of 1e-310, a bias of 1): nowhere near the picture
        nearest = centre - normal * offset
        direction = np.array([-normal[1], normal[0]])
        ends = np.stack([nearest - 2 * size * direction, nearest + 2 * size * direction])
        ax.plot(ends[:, 0], ends[:, 1], color=colour, linewidth=linewidth, label=f"unit {j + 1}")
        if arrows and x0 <= nearest[0] <= x1 and y0 <= nearest[1] <= y1:
            tip = nearest + 0.08 * size * w / norm
            ax.annotate("", xy=(float(tip[0]), float(tip[1])), xytext=(float(nearest[0]), float(nearest[1])),
                        arrowprops={"arrowstyle": "->", "color": colour, "linewidth": linewidth})  # fmt: skip


def _draw_probability(ax: Axes, plane: _Plane, surface: FloatArray, alpha: float = 0.55) -> None:
    ax.contourf(plane.grid_x, plane.grid_y, surface, levels=np.linspace(0.0, 1.0, 21), cmap="RdBu_r", alpha=alpha)
    if float(surface.min()) < 0.5 < float(surface.max()):
        ax.contour(plane.grid_x, plane.grid_y, surface, levels=[0.5], colors="black", linewidths=1.6)


def _draw_samples(ax: Axes, X: FloatArray, y: IntArray, plane: _Plane, size: float = 18) -> None:
    for c in np.unique(y).tolist():
        points = X[:, y == c]
        ax.scatter(points[0], points[1], s=size, color=_CLASS_COLOURS[c % len(_CLASS_COLOURS)], edgecolors="black", linewidths=0.5)
    ax.set_xlim(*plane.xlim)
    ax.set_ylim(*plane.ylim)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")


def plot_hidden_units(
    params: Mapping[str, FloatArray],
    activations: Sequence[Activation | ActivationFunction],
    X: FloatArray,
    y: IntArray,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    resolution: int = 200,
    margin: float = 0.25,
) -> Path:
    r"""How a network of two inputs builds its boundary: each hidden unit's line beside the result.

    A first-layer unit :math:`j` computes :math:`g(w_{j1} x_1 + w_{j2} x_2 + b_j)`, which is
    constant along the lines :math:`w_j \cdot x = c`; on the line :math:`w_j \cdot x + b_j = 0`
    a sigmoid unit's output crosses 0.5 (a tanh's crosses 0, a ReLU's starts rising). The left
    panel draws these lines over the data with an arrow towards the side where the unit's
    output is above its midpoint; the right panel draws the network's probability
    :math:`P(y = 1 \mid x)` with its 0.5 contour, the decision boundary, and the same lines
    faintly, so the reader sees the half-planes the output unit combines.

    Parameters
    ----------
    params : dict of str to ndarray
        A network with ``W1`` of shape ``(n_1, 2)`` and one output unit.
    activations : sequence of str or ActivationFunction, length L
        The last must give a probability in [0, 1] (a sigmoid); other outputs are refused.
    X : ndarray of shape (2, m)
    y : ndarray of int, shape (m,)
    path : path-like
    title : str, optional
    resolution : int >= 2, default 200
    margin : float >= 0, default 0.25

    Returns
    -------
    path : pathlib.Path
    """
    target, _ = check_output_path(path)
    _check_text("title", title)
    X, y, names = _check_plane_network(params, activations, X, y)
    resolution = check.check_positive_int("resolution", resolution, minimum=2)
    margin = check.check_positive_float("margin", margin, allow_zero=True)
    plane = _plane(X, resolution, margin)
    surface = _probability_surface(plane, params, names)
    fig = new_figure(11.0, 4.9)
    units, boundary = fig.subplots(1, 2)
    _draw_samples(units, X, y, plane)
    _draw_unit_lines(units, params["W1"], params["b1"], plane, arrows=True)
    units.set_xlim(*plane.xlim)
    units.set_ylim(*plane.ylim)
    midpoint = float(names[0].forward(np.zeros((1, 1), dtype=params["W1"].dtype))[0, 0])  # g(0): 0.5 for a sigmoid, 0 for tanh
    units.set_title(f"hidden units: where $w_j \\cdot x + b_j = 0$ ({names[0].name} output {midpoint:g})", fontsize=10)
    if units.get_legend_handles_labels()[0]:  # no line to name when no unit looks at its inputs (W1 = 0)
        units.legend(loc="upper right", fontsize=8, framealpha=0.9)
    _draw_probability(boundary, plane, surface)
    _draw_unit_lines(boundary, params["W1"], params["b1"], plane, arrows=False, linewidth=1.0)
    _draw_samples(boundary, X, y, plane)
    boundary.set_title("the network: $P(y = 1 \\mid x)$ and its 0.5 contour", fontsize=10)
    if title:
        fig.suptitle(title)
    return save_figure(fig, target)


def animate_training(
    snapshots: Sequence[tuple[int, Mapping[str, FloatArray]]],
    costs: Sequence[float],
    activations: Sequence[Activation | ActivationFunction],
    X: FloatArray,
    y: IntArray,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    frame_ms: int = 120,
    resolution: int = 90,
    margin: float = 0.25,
    dpi: int = 80,
) -> Path:
    """A GIF of a network of two inputs learning: a frame per snapshot, written atomically.

    Each frame shows the network at one epoch as ``plot_hidden_units`` does (probability,
    decision boundary and the hidden units' lines over the data) beside the cost curve up to
    that epoch, on axes fixed for the whole animation. The last frame is held a second.

    Parameters
    ----------
    snapshots : sequence of (int, dict of str to ndarray)
        ``(epoch, params)`` pairs in training order, e.g. kept from the states of
        ``train_epochs``; one frame each. Every snapshot is the same network (the keys,
        shapes and dtype of the first) and is checked, with its output, before any frame
        is drawn.
    costs : sequence of float
        The cost of every epoch of the run (``[r.cost for r in state.history]``); frame
        ``epoch`` draws ``costs[:epoch]``.
    activations : sequence of str or ActivationFunction, length L
        The last must give a probability in [0, 1] (a sigmoid); other outputs are refused.
    X : ndarray of shape (2, m)
    y : ndarray of int, shape (m,)
    path : path-like
        The ``.gif`` to write (the suffix must be ``.gif``); its directory must exist.
    title : str, optional
        Drawn above every frame; a lone surrogate in it as U+FFFD, as ``save_figure`` draws one.
    frame_ms : int from 1 to 655350, default 120
        How long each frame shows: a GIF holds it in hundredths of a second, 65535 at most.
    resolution : int >= 2, default 90
    margin : float >= 0, default 0.25
    dpi : int >= 8, default 80
        The frames are 9 x 3.8 inches at this resolution (720 x 304 pixels at 80). Below 8,
        the frames' 9-point titles would be less than a pixel high, which the font renderer
        refuses.

    Returns
    -------
    path : pathlib.Path
    """
    target, _ = check_output_path(path, gif=True)
    _check_text("title", title)
    if title is not None:  # the frames are drawn here, not by save_figure, which would replace a lone surrogate so
        title = _SURROGATE.sub("\ufffd", title)
    if not _check_sequence("snapshots", snapshots, "(epoch, params) pairs"):
        raise ValueError("snapshots must hold at least one (epoch, params) pair")
    for i, snapshot in enumerate(snapshots):
        given: object = snapshot  # typed, but users pass what they like
        if not isinstance(given, (tuple, list)) or len(given) != 2:
            raise TypeError(f"snapshots[{i}] must be an (epoch, params) pair, got {type(given).__name__}")
        if not check.is_integer(given[0]):  # int() would truncate 0.7 and fail on "x" without naming it
            raise TypeError(f"snapshots[{i}][0], the epoch, must be an int, got {type(given[0]).__name__} {given[0]!r}")
    try:
        cost_values = np.asarray(costs, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"costs must be a sequence of numbers, one per epoch: {error}") from None
    if cost_values.ndim != 1 or cost_values.size == 0 or not np.isfinite(cost_values).all():
        raise ValueError(f"costs must be a non-empty sequence of finite numbers, one per epoch, got shape {cost_values.shape}")
    epochs = [int(epoch) for epoch, _ in snapshots]
    if any(not 0 <= e <= cost_values.size for e in epochs) or sorted(epochs) != epochs:
        raise ValueError(  # a repeated epoch is a frame held longer
            f"the snapshots' epochs must never decrease and must lie in 0..{cost_values.size} (the epochs in costs), got {epochs}"
        )
    first = snapshots[0][1]
    X, y, names = _check_plane_network(first, activations, X, y, "snapshots[0][1]")
    for i, (_, params) in enumerate(snapshots[1:], start=1):
        check.check_params(params, f"snapshots[{i}][1]")
        check.check_like_params(
            f"snapshots[{i}][1]", params, first, reference="snapshots[0][1]", hint=": every snapshot must be the same network"
        )
    frame_ms = check.check_positive_int("frame_ms", frame_ms)
    if frame_ms > _GIF_MAX_FRAME_MS:  # Pillow would fail only once every frame is drawn, in words naming nothing
        raise ValueError(
            f"frame_ms must be at most {_GIF_MAX_FRAME_MS} (a GIF holds a frame's time in hundredths of a second, "
            f"65535 at most), got {frame_ms}"
        )
    dpi = check.check_positive_int("dpi", dpi, minimum=_GIF_MIN_DPI)
    plane = _plane(X, check.check_positive_int("resolution", resolution, minimum=2), check.check_positive_float("margin", margin, allow_zero=True))
    # every frame's picture before the first is drawn: a bad snapshot wastes no rendering
    surfaces = [_probability_surface(plane, params, names, f"snapshots[{i}] (epoch {epoch}): ") for i, (epoch, params) in enumerate(snapshots)]
    from PIL import Image

    low, high = float(cost_values.min()), float(cost_values.max())
    # Additive margins: scaling by 0.9 and 1.05 would cut off a negative cost (a loss of your
    # own may go below 0) and give identical limits when every cost is 0.
    span = high - low if high > low else max(abs(high), 1.0)
    bottom = low * 0.9 if low > 0 else low - 0.05 * span
    top = high * 1.05 if high > 0 else high + 0.05 * span
    def rendered_frames() -> Iterator[Any]:  # one at a time, as Pillow takes them: not every frame held twice
        for epoch, (_, params), surface in zip(epochs, snapshots, surfaces):
            fig = new_figure(9.0, 3.8)
            plane_ax, cost_ax = fig.subplots(1, 2, width_ratios=(1.15, 1))
            _draw_probability(plane_ax, plane, surface)
            _draw_unit_lines(plane_ax, params["W1"], params["b1"], plane, arrows=False, linewidth=1.3)
            _draw_samples(plane_ax, X, y, plane, size=10)
            plane_ax.set_title(f"epoch {epoch}: boundary (black) and hidden units' lines", fontsize=9)
            cost_ax.plot(np.arange(1, epoch + 1), cost_values[:epoch], color="#2166ac", linewidth=1.6)
            if epoch:
                cost_ax.plot([epoch], [cost_values[epoch - 1]], "o", color="#2166ac", markersize=4)
            cost_ax.set_xlim(0, cost_values.size)
            cost_ax.set_ylim(bottom, top)
            cost_ax.set_xlabel("epoch")
            cost_ax.set_ylabel("cost")
            cost_ax.grid(alpha=0.3)
            cost_ax.set_title("cost" if epoch == 0 else f"cost {cost_values[epoch - 1]:.4f}", fontsize=9)
            if title:
                fig.suptitle(title, fontsize=10)
            rendered = io.BytesIO()
            fig.savefig(rendered, format="png", dpi=dpi)
            rendered.seek(0)
            with Image.open(rendered) as picture:
                yield picture.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    durations = [frame_ms] * len(snapshots)
    durations[-1] = max(frame_ms, 1000)
    frames = rendered_frames()
    with atomic_write(target) as stream:
        next(frames).save(stream, format="GIF", save_all=True, append_images=frames, duration=durations, loop=0, optimize=True)
    return target
