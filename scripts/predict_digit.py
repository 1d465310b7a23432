"""Classify pictures of handwritten digits with a network saved by ``train_mnist.py``.

    python scripts/predict_digit.py runs/mnist-20260101-120000/params.npz seven.png three.jpg

Each picture (PNG, JPEG, any size) is turned into an MNIST-like input: grayscale, inverted
when its background is light (MNIST digits are white on black), cropped to the ink,
scaled so its longer side is 20 pixels, and centred by its centre of mass in a 28x28 frame,
as the MNIST images were made. Prints the most probable classes with their probabilities.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from functional_nn.propagation import predict_proba
from functional_nn.serialization import load_parameters
from functional_nn.types import ActivationFunction, FloatArray

SCRIPTS_EXTRA = 'pip install -e ".[scripts]"'


def digit_pixels(path: Path, *, dtype: type[np.float32] | type[np.float64] = np.float32) -> FloatArray:
    """The picture at ``path`` as one MNIST-like column of shape ``(784, 1)`` in ``[0, 1]``.

    Light backgrounds (the mean of the border pixels above one half) are inverted so that
    the digit is bright on dark; a blank picture gives a column of zeros.
    """
    try:
        from PIL import Image
    except ImportError:
        raise SystemExit(f"predict_digit needs pillow: {SCRIPTS_EXTRA}") from None
    with Image.open(path) as image:
        gray = np.asarray(image.convert("L"), dtype=np.float64) / 255.0
    if _border(gray).mean() > 0.5:
        gray = 1.0 - gray
    ink = np.clip(gray - np.median(_border(gray)), 0.0, None)  # the background becomes 0
    column = np.zeros((784, 1), dtype=dtype)
    if ink.max() <= 0.05:
        return column
    rows = np.flatnonzero(ink.max(axis=1) > 0.2 * ink.max())
    cols = np.flatnonzero(ink.max(axis=0) > 0.2 * ink.max())
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = 20.0 / max(crop.shape)
    height, width = max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale))
    resized = Image.fromarray((crop / crop.max() * 255).astype(np.uint8)).resize((width, height), Image.Resampling.LANCZOS)
    small = np.asarray(resized, dtype=np.float64) / 255.0
    frame = np.zeros((28, 28))
    top, left = (28 - height) // 2, (28 - width) // 2
    frame[top : top + height, left : left + width] = small
    total = frame.sum()
    if total > 0:
        ys, xs = np.indices(frame.shape)
        shift_y = int(round(13.5 - float((ys * frame).sum() / total)))
        shift_x = int(round(13.5 - float((xs * frame).sum() / total)))
        frame = _shift(frame, shift_y, shift_x)
    column[:, 0] = frame.ravel()
    return column


def _border(image: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    edges: npt.NDArray[np.float64] = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    return edges


def _shift(frame: npt.NDArray[np.float64], dy: int, dx: int) -> npt.NDArray[np.float64]:
    """``frame`` moved by ``(dy, dx)`` pixels, filling with zeros (no wrap-around)."""
    shifted = np.zeros_like(frame)
    h, w = frame.shape
    dy, dx = max(-h, min(h, dy)), max(-w, min(w, dx))
    shifted[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = frame[
        max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)
    ]
    return shifted


def main(argv: Sequence[str] | None = None, *, custom_activations: Mapping[str, ActivationFunction] | None = None) -> int:
    """Run the command line; ``custom_activations`` resolves the names of activations of your own
    that the network was saved with (a script wrapping this one passes its records here)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("params", type=Path, help="a params.npz written by train_mnist.py")
    parser.add_argument("images", type=Path, nargs="+", help="PNG or JPEG pictures of single digits")
    parser.add_argument("--top", type=int, default=3, help="how many classes to show (default 3)")
    args = parser.parse_args(argv)
    try:
        params, _, activations = load_parameters(args.params, custom_activations=custom_activations)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    L = len(params) // 2
    n_inputs, n_classes = int(params["W1"].shape[1]), int(params[f"W{L}"].shape[0])
    if n_inputs != 784:
        print(f"error: {args.params} takes {n_inputs} inputs, not the 784 pixels of a 28x28 digit", file=sys.stderr)
        return 2
    dtype = np.float32 if params["W1"].dtype == np.float32 else np.float64
    top = max(1, min(args.top, n_classes))
    status = 0
    for path in args.images:
        try:
            X = digit_pixels(path, dtype=dtype)
        except (OSError, ValueError) as error:
            print(f"{path}: error: cannot read the picture ({error})", file=sys.stderr)
            status = 1
            continue
        probabilities = predict_proba(X, params, activations)[:, 0]
        best = np.argsort(-probabilities, kind="stable")[:top]
        ranked = "  ".join(f"{int(k)} ({float(probabilities[k]):.3f})" for k in best)
        print(f"{path}: {ranked}")
    return status


if __name__ == "__main__":
    sys.exit(main())
