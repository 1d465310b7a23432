"""Look inside a trained MNIST network: its first layer's weights, its layers' outputs, its confidence.

    python scripts/inspect_network.py runs/mnist-20261122-050142      # a folder train_mnist.py wrote
    python scripts/inspect_network.py RUN_DIR --csv train.csv --out pictures/

Reads ``params.npz`` from RUN_DIR (``save_parameters``' format, as ``scripts/train_mnist.py``
writes it: a classifier whose last layer gives probabilities, such as softmax), runs the
MNIST test set through the network (or a labelled Kaggle-style CSV with ``--csv``) and writes
into ``--out`` (default: RUN_DIR):

- ``weights.png``: the incoming weights of the first layer's units as 28 x 28 tiles, each
  unit's pixel weights on its own symmetric scale (red: positive, blue: negative), so the
  tile shows the pattern of ink the unit responds to;
- ``activations.png``: each layer's outputs on the test set as a histogram, with the share of
  dead (never active) units and of saturated outputs (see ``functional_nn.diagnostics``);
- ``confidence.png``: the winning probability of right and of wrong answers: a well-trained
  network is sure when it is right and less so when it is wrong;
- ``per_class.png``: the accuracy on each digit (none for a digit the data lacks: no bar,
  and ``null`` in the summary);

and prints a JSON summary as its last line. Nothing random happens here.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, NamedTuple

import numpy as np

import _cli  # scripts/_cli.py: the output folder, and errors as one line

from functional_nn import ActivationFunction, FloatArray, IntArray, forward_propagation, load_parameters
from functional_nn.data import scale_pixels
from functional_nn.data.digit_files import load_digits_csv
from functional_nn.data.mnist import load_mnist_pixels
from functional_nn.diagnostics import flat_level, saturated
from functional_nn.plots import RIGHT_COLOUR, WRONG_COLOUR, new_figure, save_figure

PIXELS: Final = 784
CHUNK: Final = 2000  # test samples per forward pass: bounds the caches held at once


class Inside(NamedTuple):
    """What the network does on the test set."""

    outputs: tuple[FloatArray, ...]  # A_l of every layer, (n_l, m)
    probabilities: FloatArray  # (10, m)
    predicted: IntArray  # (m,)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("run_dir", type=_cli.path, metavar="RUN_DIR", help="a folder written by scripts/train_mnist.py (holds params.npz)")
    parser.add_argument("--csv", type=_cli.path, help="evaluate on a labelled Kaggle-style CSV instead of the MNIST test set (default: MNIST's)")
    parser.add_argument("--tiles", type=int, default=64, help="first-layer units to draw (default: 64)")
    parser.add_argument("--out", type=_cli.path, help="directory for the pictures (default: RUN_DIR)")
    parser.add_argument("--overwrite", action="store_true", help="replace the pictures an earlier inspection left in --out")
    args = parser.parse_args(argv)
    if args.tiles < 1:
        parser.error(f"--tiles must be >= 1, got {args.tiles}")
    return args


def load_network(
    run_dir: Path, custom_activations: Mapping[str, ActivationFunction] | None = None
) -> tuple[dict[str, FloatArray], tuple[ActivationFunction, ...]]:
    if run_dir.is_file():  # predict_digit.py takes the file: said of RUN_DIR, not "params.npz holds no params.npz"
        raise _cli.UsageError(f"RUN_DIR {run_dir} is a file: give the folder that holds it ({run_dir.parent}), the --out of scripts/train_mnist.py")
    path = run_dir / "params.npz"
    if not path.is_file():
        raise _cli.UsageError(f"{run_dir} holds no params.npz: give the folder scripts/train_mnist.py wrote (its --out)")
    saved = load_parameters(path, custom_activations=custom_activations)
    sizes = saved.metadata["layer_sizes"]
    if not isinstance(sizes, list) or sizes[0] != PIXELS or sizes[-1] != 10:
        raise ValueError(f"{path} is a {sizes} network; this script reads MNIST networks: 784 inputs, 10 outputs")
    output = saved.activations[-1]
    low, high = output.output_range
    if low < 0 or high > 1:  # confidence.png and the medians read the outputs as probabilities
        raise ValueError(
            f"{path} ends in a {output.name!r} layer, whose outputs ({low:g} to {high:g}) are not probabilities: "
            "this script reads MNIST classifiers whose last layer gives them, such as 'softmax'"
        )
    return saved.params, saved.activations


def load_test_set(args: argparse.Namespace, dtype: np.dtype[np.floating]) -> tuple[FloatArray, IntArray, str]:
    if args.csv is not None:
        _cli.check_file_to_read("--csv", args.csv, "the CSV file itself (Kaggle's train.csv)")
        digits = load_digits_csv(args.csv)
        if digits.y is None:
            raise ValueError(f"{args.csv} has no label column: give a labelled file such as Kaggle's train.csv")
        return scale_pixels(digits.X, dtype=dtype.type), digits.y, str(args.csv)
    mnist = load_mnist_pixels()  # the test set alone in floats: not the 60,000 training images too
    return scale_pixels(mnist.X_test, dtype=dtype.type), mnist.y_test, "MNIST test set"


def look_inside(X: FloatArray, params: dict[str, FloatArray], activations: tuple[ActivationFunction, ...]) -> Inside:
    """Every layer's outputs on ``X`` ``(784, m)``, a chunk of samples at a time."""
    parts: list[list[FloatArray]] = [[] for _ in activations]
    for start in range(0, X.shape[1], CHUNK):
        _, caches = forward_propagation(X[:, start : start + CHUNK], params, activations, kernel="numpy")
        for l, cache in enumerate(caches):
            parts[l].append(cache.A)
    outputs = tuple(np.concatenate(p, axis=1) for p in parts)
    probabilities = outputs[-1]
    predicted: IntArray = np.argmax(probabilities, axis=0)
    return Inside(outputs, probabilities, predicted)


def plot_weights(path: Path, W1: FloatArray, tiles: int) -> Path:
    """The first ``tiles`` units' incoming weights as 28 x 28 pictures."""
    n = min(tiles, W1.shape[0])
    columns = math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    fig = new_figure(max(1.0 * columns + 0.3, 6.0), 1.0 * rows + 0.5)  # wide enough for the title
    axes = fig.subplots(rows, columns, squeeze=False)
    for j, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if j < n:
            tile = W1[j].reshape(28, 28)
            scale = float(np.abs(tile).max()) or 1.0
            ax.imshow(tile, cmap="RdBu_r", vmin=-scale, vmax=scale, interpolation="nearest")
            ax.set_title(f"{j + 1}", fontsize=6, pad=1)
    fig.suptitle(f"First layer: incoming weights of units 1-{n} of {W1.shape[0]} (red +, blue -)", fontsize=10)
    return save_figure(fig, path)


def plot_activations(path: Path, inside: Inside, activations: tuple[ActivationFunction, ...], source: str) -> tuple[Path, list[dict[str, object]]]:
    """A histogram per layer of its outputs, annotated with its dead and saturated shares."""
    L = len(activations)
    columns = min(L, 4)
    rows = math.ceil(L / columns)
    fig = new_figure(3.4 * columns, 2.9 * rows)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    figures: list[dict[str, object]] = []
    for l, (A, activation) in enumerate(zip(inside.outputs, activations), start=1):
        ax = axes[l - 1]
        mask = saturated(A, activation)
        name = activation.name
        low, high = activation.output_range
        values = A.ravel()
        left = low if math.isfinite(low) else float(values.min())
        right = high if math.isfinite(high) else float(np.percentile(values, 99.5))
        edges = np.linspace(left, right if right > left else left + 1.0, 41)
        counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
        ax.stairs(counts / values.size, edges, fill=True, color="#4393c3", alpha=0.8)
        ax.set_yscale("log")
        ax.set_title(f"layer {l}: {A.shape[0]} {name} units", fontsize=9)
        ax.set_xlabel("output" if math.isfinite(high) else "output (the last bin holds the top 0.5%)", fontsize=8)
        ax.tick_params(labelsize=7)
        entry: dict[str, object] = {"layer": l, "units": int(A.shape[0]), "activation": name}
        if mask is not None:
            dead = float(np.mean(mask.all(axis=1)))
            share = float(np.mean(mask))
            entry.update(dead_fraction=dead, saturated_fraction=share)
            kind = "saturated outputs" if math.isfinite(low) and math.isfinite(high) else f"outputs at {flat_level(activation, A.dtype):g}"
            ax.text(0.97, 0.95, f"dead units {dead:.1%}\n{kind} {share:.1%}", transform=ax.transAxes,
                    ha="right", va="top", fontsize=8, bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0})  # fmt: skip
        figures.append(entry)
    for ax in axes[L:]:
        ax.set_axis_off()
    axes[0].set_ylabel("share of outputs (log)", fontsize=8)
    fig.suptitle(f"Each layer's outputs on {source} ({inside.predicted.size} samples)", fontsize=10)
    return save_figure(fig, path), figures


def plot_confidence(path: Path, inside: Inside, y: IntArray) -> Path:
    """Histograms of the winning probability for right and for wrong answers."""
    winning = inside.probabilities.max(axis=0)
    right = inside.predicted == y
    fig = new_figure(6.4, 3.8)
    ax = fig.subplots()
    edges = np.linspace(0.0, 1.0, 41)
    for chosen, label, colour in ((right, "right", RIGHT_COLOUR), (~right, "wrong", WRONG_COLOUR)):
        values = winning[chosen]
        if values.size:
            counts, _ = np.histogram(values, bins=edges)
            ax.stairs(counts / values.size, edges, color=colour, linewidth=1.8,
                      label=f"{label}: {values.size} answers, median {float(np.median(values)):.2f}")  # fmt: skip
    ax.set_xlabel("probability of the predicted class")
    ax.set_ylabel("share of the answers")
    ax.set_yscale("log")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("How sure the network is when it is right and when it is wrong", fontsize=10)
    return save_figure(fig, path)


def plot_per_class(path: Path, per_class: FloatArray, counts: IntArray, overall: float) -> Path:
    """A bar per digit; a digit without samples (``per_class`` NaN) gets none, and says so."""
    fig = new_figure(6.4, 3.6)
    ax = fig.subplots()
    present = counts > 0
    ax.bar(np.flatnonzero(present), per_class[present], color="#4393c3")
    low = float(per_class[present].min()) if present.any() else 0.0
    for k, (value, n) in enumerate(zip(per_class.tolist(), counts.tolist())):
        if n:
            ax.text(k, value, f"{value:.1%}", ha="center", va="bottom", fontsize=7)
        else:
            ax.text(k, max(0.0, low - (1 - low) * 0.6), "no\nsamples", ha="center", va="bottom", fontsize=6, color="grey")
    ax.axhline(overall, color="black", linestyle=":", linewidth=1, label=f"all digits {overall:.2%}")
    ax.set_xticks(range(10))
    ax.set_xlabel("true digit")
    ax.set_ylabel("accuracy")
    ax.set_ylim(max(0.0, low - (1 - low) * 0.6 - 0.01), 1.0 + (1 - low) * 0.15 + 0.002)
    ax.legend(loc="lower right" if present.all() else "best", fontsize=8)  # clear of the "no samples" notes
    ax.set_title("Accuracy on each digit", fontsize=10)
    return save_figure(fig, path)


OUTPUTS: Final = ("weights.png", "activations.png", "confidence.png", "per_class.png")


def main(argv: Sequence[str] | None = None, *, custom_activations: Mapping[str, ActivationFunction] | None = None) -> int:
    """Look and draw; ``custom_activations`` resolves the names of activations of your own that
    the network was saved with (a script wrapping this one passes its records here), as for
    ``predict_digit.main``. A user's mistake is one ``error:`` line and status 2."""
    return _cli.run_main(lambda arguments: _main(arguments, custom_activations), argv)


def _main(argv: Sequence[str] | None, custom_activations: Mapping[str, ActivationFunction] | None) -> int:
    args = parse_args(argv)
    out: Path = args.out if args.out is not None else args.run_dir
    params, activations = load_network(args.run_dir, custom_activations)
    _cli.check_output_dir(out, OUTPUTS, overwrite=args.overwrite)
    _cli.check_plotting()  # before the test set is read: every output is a picture
    X, y, source = load_test_set(args, params["W1"].dtype)
    described = source if args.csv is not None else f"the {source}"  # a file by its name, not "the train.csv"
    _cli.make_output_dir(out)
    inside = look_inside(X, params, activations)
    right = inside.predicted == y
    accuracy = float(np.mean(right))
    counts = np.bincount(y, minlength=10)
    # no samples of a digit, no accuracy on it: NaN here, null in the summary, no bar
    per_class = np.where(counts > 0, np.bincount(y, weights=right.astype(np.float64), minlength=10) / np.maximum(counts, 1), np.nan)
    sizes = "-".join(str(params[f"W{l}"].shape[0]) for l in range(1, len(activations) + 1))
    print(f"784-{sizes} {'/'.join(a.name for a in activations)} network on {described}: accuracy {accuracy:.4f}")
    plot_weights(out / "weights.png", params["W1"], args.tiles)
    _, layers = plot_activations(out / "activations.png", inside, activations, described)
    plot_confidence(out / "confidence.png", inside, y)
    plot_per_class(out / "per_class.png", per_class, counts, accuracy)
    winning = inside.probabilities.max(axis=0)
    for layer in layers:
        if "dead_fraction" in layer:
            print(f"layer {layer['layer']}: {layer['dead_fraction']:.1%} dead units, {layer['saturated_fraction']:.1%} outputs saturated (at a bound)")
    print(f"wrote weights.png, activations.png, confidence.png and per_class.png to {out}")
    summary = {
        "data": source, "samples": int(y.size), "accuracy": accuracy,
        "per_class_accuracy": [round(float(v), 6) if n else None for v, n in zip(per_class, counts)],
        "median_confidence_right": float(np.median(winning[right])) if right.any() else None,
        "median_confidence_wrong": float(np.median(winning[~right])) if (~right).any() else None,
        "layers": layers,
    }  # fmt: skip
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
