"""Classify pictures of handwritten digits with a network saved by ``train_mnist.py``, or Kaggle's test.csv.

    python scripts/predict_digit.py runs/mnist-20260101-120000/params.npz seven.png three.jpg
    python scripts/predict_digit.py runs/mnist-20260101-120000/params.npz --csv test.csv --submission submission.csv

Each picture (PNG, JPEG, any size) is turned upright by its EXIF orientation, as a phone's photo is
shown, and into an MNIST-like input: grayscale, inverted
when its background is lighter than the digit (MNIST digits are white on black; a pencil
digit on grey paper is inverted too, though its paper is darker than mid-grey), cropped to the ink,
scaled so its longer side is 20 pixels, and centred by its centre of mass in a 28x28 frame,
as the MNIST images were made. Prints the most probable classes with their probabilities.

Pictures as people have them: a transparent background is composited onto the colour
opposite the digit's (a dark digit on transparency reads as dark on white); 16-bit images
are scaled by their format's range (0..65535), not clipped to 8 bits. A picture that cannot
be read, is above Pillow's decompression-bomb limit, or holds no digit (blank, or too small)
is reported on its own line and the others go on; the exit status is then 1. A network
whose output is one sigmoid unit is read as P(class 1); one whose output is not a
probability (linear, ReLU, tanh) is refused.

With ``--csv``, the rows of a Kaggle digit-recognizer ``test.csv`` (header
``pixel0,...,pixel783``, no label column; read by ``load_digits_csv``) are classified instead,
their pixels scaled by 255 into the network's dtype as ``train_mnist.py --csv`` scaled its
training rows, and ``--submission`` is written as Kaggle asks: the header ``ImageId,Label``,
then one row per image in the file's order, ImageId counting from 1. The file is written
whole or not at all (``atomic_write``: an error or Ctrl-C leaves no half of it), an existing
one is replaced only with ``--overwrite``, and one line says what was written. A file with
a label column (``train.csv``), or a network that does not take the file's 784 pixels, is
refused.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

import _cli  # scripts/_cli.py: a user's mistakes as one error line
from functional_nn.data import scale_pixels
from functional_nn.data.digit_files import load_digits_csv
from functional_nn.data.images import open_picture
from functional_nn.propagation import predict, predict_proba
from functional_nn.serialization import atomic_write, load_parameters
from functional_nn.types import ActivationFunction, FloatArray, Params

MIN_SIDE: Final = 3
"""Pictures narrower or shorter than this many pixels cannot show a digit."""


class NoDigitError(ValueError):
    """The picture holds no digit: it is blank, or too small to show one."""


def read_gray(path: Path) -> npt.NDArray[np.float64]:
    """The picture at ``path`` as grayscale ``(height, width)`` in ``[0, 1]`` (1 is white),
    turned upright by its EXIF orientation, as a photo is shown.

    Alpha is composited onto the background colour that contrasts with the opaque pixels;
    16-bit (and 32-bit integer) images are scaled by their format's range, floats by their
    maximum; a float picture with a NaN or infinite pixel is refused with a ``ValueError``.
    Pillow's decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``) is enforced for every
    picture, as a ``ValueError``.
    """
    try:
        from PIL import Image, ImageOps
    except ImportError:
        raise ImportError(f"predict_digit needs pillow: {_cli.SCRIPTS_EXTRA}") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with open_picture(path) as image:  # not opened by path: see open_picture
                upright = ImageOps.exif_transpose(image)  # a phone's photo as it is shown, not as stored
                upright.load()
                return _to_gray(upright)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ValueError(f"too large for a digit: {error}") from None


def _to_gray(image: Any) -> npt.NDArray[np.float64]:  # Any: a PIL.Image.Image (Pillow is optional)
    mode: str = image.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        values = np.asarray(image, dtype=np.float64)
        if not np.isfinite(values).all():  # a float picture (TIFF, say) with NaN or infinite pixels: no shade to read
            raise ValueError(f"{int(np.count_nonzero(~np.isfinite(values)))} of its {values.size} pixels are NaN or infinite")
        if mode == "F":
            top = float(values.max()) if values.size and values.max() > 1 else 1.0
        elif mode == "I" and values.size and values.max() > 65535:
            top = float(2**32 - 1)
        elif mode == "I" and values.size and values.max() <= 255:
            top = 255.0  # 8-bit values in a 32-bit container
        else:
            top = 65535.0  # the 16-bit range, so a light background stays light
        gray: npt.NDArray[np.float64] = np.clip(values / top, 0.0, 1.0)
        return gray
    if "A" in image.getbands() or "transparency" in image.info:
        rgba = image.convert("RGBA")
        gray = np.asarray(rgba.convert("L"), dtype=np.float64) / 255.0
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float64) / 255.0
        weight = float(alpha.sum())
        if weight == 0:
            return np.ones_like(gray)  # fully transparent: nothing drawn
        opaque_mean = float((gray * alpha).sum()) / weight
        background = 1.0 if opaque_mean < 0.5 else 0.0  # dark ink on white, light ink on black
        composited: npt.NDArray[np.float64] = gray * alpha + background * (1.0 - alpha)
        return composited
    plain: npt.NDArray[np.float64] = np.asarray(image.convert("L"), dtype=np.float64) / 255.0
    return plain


def digit_pixels(path: Path, *, dtype: type[np.float32] | type[np.float64] = np.float32) -> FloatArray:
    """The picture at ``path`` as one MNIST-like column of shape ``(784, 1)`` in ``[0, 1]``.

    The background is the median of the border pixels; when the picture's darkest pixel lies
    further below it than its lightest lies above (a dark digit on lighter paper, whatever
    the paper's shade), the picture is inverted so that the digit is bright on dark.

    Raises
    ------
    NoDigitError
        The picture is blank (no ink above 5% of the range) or smaller than ``MIN_SIDE``
        pixels on a side.
    OSError, ValueError
        The file cannot be read as a picture, or is above the decompression-bomb limit.
    """
    gray = read_gray(path)
    if min(gray.shape) < MIN_SIDE:
        raise NoDigitError(f"the picture is {gray.shape[1]}x{gray.shape[0]} pixels: too small to hold a digit")
    background = float(np.median(_border(gray)))
    if background - float(gray.min()) > float(gray.max()) - background:  # the digit is the darker side
        gray = 1.0 - gray
    ink = np.clip(gray - np.median(_border(gray)), 0.0, None)  # the background becomes 0
    column = np.zeros((784, 1), dtype=dtype)
    if ink.max() <= 0.05:
        raise NoDigitError("no digit found: the picture is blank (one flat colour)")
    rows = np.flatnonzero(ink.max(axis=1) > 0.2 * ink.max())
    cols = np.flatnonzero(ink.max(axis=0) > 0.2 * ink.max())
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    from PIL import Image  # read_gray made sure it is there

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


def ranked_classes(probabilities: FloatArray, output: ActivationFunction, top: int) -> list[tuple[int, float]]:
    """The ``top`` most probable ``(class, probability)`` pairs of one output column ``(n_L,)``.

    A softmax gives a distribution over its ``n_L`` classes; one sigmoid unit (or any one
    unit with outputs in [0, 1]) gives P(class 1), so class 0 has ``1 - p``; several such
    units are independent probabilities, one per class.
    """
    if output.name != "softmax" and probabilities.shape[0] == 1:
        p = float(probabilities[0])
        pairs = [(1, p), (0, 1.0 - p)]
        return sorted(pairs, key=lambda pair: -pair[1])[:top]
    best = np.argsort(-probabilities, kind="stable")[:top]
    return [(int(k), float(probabilities[k])) for k in best]


def main(argv: Sequence[str] | None = None, *, custom_activations: Mapping[str, ActivationFunction] | None = None) -> int:
    """Run the command line; ``custom_activations`` resolves the names of activations of your own
    that the network was saved with (a script wrapping this one passes its records here). A
    user's mistake is one ``error:`` line and status 2; a bad picture gets its own line."""
    return _cli.run_main(lambda arguments: _main(arguments, custom_activations), argv)


def _main(argv: Sequence[str] | None, custom_activations: Mapping[str, ActivationFunction] | None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("params", type=_cli.path, help="a params.npz written by train_mnist.py")
    parser.add_argument("images", type=_cli.path, nargs="*", help="PNG or JPEG pictures of single digits")
    parser.add_argument("--top", type=int, help="how many classes to show for each picture (default 3)")
    kaggle = parser.add_argument_group("Kaggle's digit recognizer")
    kaggle.add_argument("--csv", type=_cli.path, help="classify the rows of Kaggle's test.csv (no label column) instead of pictures (default: none, the pictures)")
    kaggle.add_argument("--submission", type=_cli.path, metavar="FILE", help="with --csv: write the predictions here as ImageId,Label rows, ImageId from 1 (default: none; --csv needs it)")
    kaggle.add_argument("--overwrite", action="store_true", help="replace an existing --submission file")
    args = parser.parse_intermixed_args(argv)  # pictures before and after the options, as with nargs="+"
    if args.csv is None:
        if not args.images:
            parser.error("give the pictures to classify, or --csv test.csv --submission submission.csv")
        if args.submission is not None or args.overwrite:
            parser.error("--submission and --overwrite go with --csv test.csv (the pictures' classes are printed)")
    else:
        if args.images:
            parser.error(f"give pictures or --csv, not both (got {len(args.images)} picture(s) and --csv {args.csv})")
        if args.submission is None:
            parser.error("--csv needs --submission FILE, the file to write the predictions to (e.g. submission.csv)")
        if args.top is not None:
            parser.error("--top is for pictures: --csv writes each row's one most probable class")
    top_asked = 3 if args.top is None else args.top
    if top_asked < 1:
        parser.error(f"--top must be >= 1, got {args.top}")
    if args.submission is not None:  # before anything is read: a finished submission is not replaced in silence
        _cli.check_output_file(args.submission, overwrite=args.overwrite, flag="--submission")
    params, _, activations = load_parameters(args.params, custom_activations=custom_activations)
    L = len(params) // 2
    n_inputs, n_classes = int(params["W1"].shape[1]), int(params[f"W{L}"].shape[0])
    if n_inputs != 784 and args.csv is None:
        return _cli.fail(f"{args.params} takes {n_inputs} inputs, not the 784 pixels of a 28x28 digit")
    output = activations[-1]
    low, high = output.output_range
    if not (low >= 0 and high <= 1):
        return _cli.fail(
            f"{args.params} ends in a {output.name!r} layer, whose outputs (in [{low:g}, {high:g}]) are not probabilities: "
            "predict_digit needs a network trained with a softmax (or sigmoid) output, as train_mnist.py writes"
        )
    if output.name == "softmax" and n_classes < 2:
        return _cli.fail(f"{args.params} has a softmax over {n_classes} unit: its output is always 1, not a classifier")
    dtype = np.float32 if params["W1"].dtype == np.float32 else np.float64
    if args.csv is not None:
        assert args.submission is not None  # refused above without it
        return write_submission(args.csv, args.submission, args.params, params, activations, dtype)
    top = min(top_asked, max(n_classes, 2))
    status = 0
    for path in args.images:
        try:
            X = digit_pixels(path, dtype=dtype)
        except NoDigitError as error:
            print(f"{path}: {error}", file=sys.stderr)
            status = 1
            continue
        except (OSError, ValueError) as error:  # one picture's failure; the others go on
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            print(f"{path}: error: cannot read the picture ({reason})", file=sys.stderr)
            status = 1
            continue
        ranked = ranked_classes(predict_proba(X, params, activations)[:, 0], output, top)
        print(f"{path}: " + "  ".join(f"{k} ({p:.3f})" for k, p in ranked))
    return status


def write_submission(
    csv: Path, submission: Path, params_path: Path, params: Params, activations: Sequence[ActivationFunction],
    dtype: type[np.float32] | type[np.float64],
) -> int:
    """Classify the rows of the unlabelled ``csv`` and write ``submission`` as Kaggle's
    ``ImageId,Label`` file, atomically; the pixels are scaled as ``train_mnist.py --csv`` did."""
    _cli.check_file_to_read("--csv", csv, "the CSV file itself (Kaggle's test.csv)")
    X = load_digits_csv(csv, labelled=False).X
    n_inputs, n_outputs = int(params["W1"].shape[1]), int(params[f"W{len(activations)}"].shape[0])
    if X.shape[0] != n_inputs:
        return _cli.fail(f"{csv} has {X.shape[0]} pixel columns, but {params_path} takes {n_inputs} inputs: it was not trained on these images")
    if n_outputs != 10:
        return _cli.fail(f"{params_path} has {n_outputs} output unit(s), not the ten digits Kaggle's Label column holds")
    labels = predict(scale_pixels(X, dtype=dtype), params, activations)
    rows = "".join(f"{image_id},{label}\n" for image_id, label in enumerate(labels.tolist(), start=1))
    with atomic_write(submission) as handle:  # whole or not at all, on an error or Ctrl-C too
        handle.write(("ImageId,Label\n" + rows).encode())
    print(f"wrote {submission}: {labels.size} predictions (ImageId 1 to {labels.size}) of {csv} by {params_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
