r"""The pictures people look at: decision boundaries, grids of predictions, training curves.

Every function draws one figure and writes it to ``path`` atomically (into a temporary file
in the same directory, then ``os.replace``), so a reader never sees half a picture, and
returns the path. Nothing is shown on screen and no global ``pyplot`` state is touched: the
figures are ``matplotlib.figure.Figure`` objects rendered by the Agg canvas, so this works on
a machine without a display and from several threads.

Matplotlib belongs to the ``scripts`` extra and is imported only when a function is called;
without it the functions raise an ``ImportError`` that says ``pip install -e ".[scripts]"``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from functional_nn import _validation as check
from functional_nn.metrics import check_labels
from functional_nn.fold_state import EpochRecord
from functional_nn.serialization import atomic_write
from functional_nn.types import FloatArray, IntArray

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_CORRECT, _WRONG = "#1a7f37", "#cf222e"
_CLASS_COLOURS = ("#2166ac", "#b2182b", "#1b7837", "#e08214", "#762a83", "#35978f", "#8c510a", "#c51b7d")


def new_figure(width: float, height: float) -> Figure:
    """A blank figure of ``width`` x ``height`` inches, outside ``pyplot``'s global state."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            'plotting needs matplotlib, which comes with the scripts extra: pip install -e ".[scripts]"'
        ) from exc
    return Figure(figsize=(width, height), layout="constrained")


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` atomically; the format follows the suffix (``.png`` by default).

    The directory must exist. On any error the temporary file is removed and ``path`` is
    left as it was.
    """
    target = Path(path)
    if not target.parent.is_dir():
        raise FileNotFoundError(f"cannot write {target}: the directory {target.parent} does not exist")
    fmt = target.suffix.lstrip(".").lower() or "png"
    with atomic_write(target) as stream:  # the usual file mode, symlinks followed, stale temporaries cleaned
        fig.savefig(stream, format=fmt, dpi=dpi)
    return target


def _class_name(names: Sequence[str] | None, k: int) -> str:
    return names[k] if names is not None and 0 <= k < len(names) else str(k)


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
        Maps a grid ``G`` of shape ``(2, n)`` in ``X``'s dtype to outputs of shape ``(1, n)``
        or ``(k, n)``; e.g. ``lambda G: predict_proba(G, params, activations)``.
    X : ndarray of shape (2, m)
        The samples, one per column.
    y : ndarray of int, shape (m,)
        Their classes, for the colour of each point.
    path : path-like
        Where to write the picture.
    title : str, optional
    class_names : sequence of str, optional
        The legend's names for the classes ``0, 1, ...``.
    resolution : int >= 2, default 200
    margin : float >= 0, default 0.25

    Returns
    -------
    path : pathlib.Path
    """
    X = check.check_float_array("X", X)
    if X.shape[0] != 2:
        raise ValueError(f"X must have 2 rows (features) to be drawn in the plane, got shape {X.shape}")
    m = check.check_samples("X", X)
    y = check_labels("y", y)
    if y.shape != (m,):
        raise ValueError(f"y must have shape ({m},), one class per column of X, got {y.shape}")
    resolution = check.check_positive_int("resolution", resolution, minimum=2)
    margin = check.check_positive_float("margin", margin, allow_zero=True)
    low: FloatArray = X.min(axis=1)
    high: FloatArray = X.max(axis=1)
    pad = np.maximum(high - low, 1e-3) * margin
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    G = np.stack([grid_x.ravel(), grid_y.ravel()]).astype(X.dtype)
    out = np.asarray(probability(G))
    if out.ndim != 2 or out.shape[1] != G.shape[1]:
        raise ValueError(f"probability must map a (2, n) grid to an array of shape (k, n), got {out.shape} for n = {G.shape[1]}")
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
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="best", framealpha=0.9)
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


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

    A picture's title is green when the prediction is right and red when it is wrong.

    Parameters
    ----------
    X : ndarray of shape (h * w * c, n)
        One flattened picture per column with values in [0, 1], in ``(h, w, c)`` order as
        ``load_image_folder`` makes them (a picture is ``X[:, j].reshape(image_shape)``).
    image_shape : (h, w) or (h, w, c) with c in {1, 3}
    path : path-like
    predicted : ndarray of int, shape (n,)
    labels : ndarray of int, shape (n,), optional
        The true classes.
    probabilities : ndarray of shape (n,), optional
        The probability the model gives its prediction, shown after the class.
    class_names : sequence of str, optional
    columns : int, optional
        Pictures per row; by default about the square root of ``n``.
    title : str, optional

    Returns
    -------
    path : pathlib.Path
    """
    X = check.check_float_array("X", X)
    n = check.check_samples("X", X)
    shape = tuple(int(s) for s in image_shape)
    if len(shape) not in (2, 3) or (len(shape) == 3 and shape[2] not in (1, 3)) or math.prod(shape) != X.shape[0]:
        raise ValueError(f"image_shape must be (h, w) or (h, w, c) with c in (1, 3) and h*w*c = {X.shape[0]} rows of X, got {image_shape}")
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
        if j >= n:
            continue
        picture = np.clip(X[:, j], 0.0, 1.0).reshape(shape)
        if picture.ndim == 3 and picture.shape[2] == 1:
            picture = picture[:, :, 0]
        ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0.0, vmax=1.0, interpolation="nearest")
        text = _class_name(class_names, int(predicted[j]))
        if probabilities is not None:
            text += f" ({float(probabilities[j]):.2f})"
        colour = "black"
        if labels is not None:
            text += f"\ntrue: {_class_name(class_names, int(labels[j]))}"
            colour = _CORRECT if predicted[j] == labels[j] else _WRONG
        ax.set_title(text, fontsize=8, color=colour)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


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
        cost panel only.
    path : path-like
    title : str, optional
    mark_epoch : int, optional
        An epoch to mark with a dashed line, e.g. the best one on the dev set.

    Returns
    -------
    path : pathlib.Path
    """
    records = tuple(history)
    if not records or not all(isinstance(r, EpochRecord) for r in records):
        raise ValueError("history must be a non-empty sequence of EpochRecord, as train(...).history holds")
    epochs = [r.epoch for r in records]
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
    return save_figure(fig, path)
