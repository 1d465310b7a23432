"""A binary picture classifier from a folder of two class sub-folders, e.g. cats/ and dogs/.

    python scripts/cats_vs_dogs.py DIR --out results/

DIR holds one sub-folder per class (sorted by name: with ``cats/`` and ``dogs/``, cats are
class 0 and dogs class 1, the positive class of precision and recall). The pictures are
decoded, resized and scaled to [0, 1] by ``load_image_folder``; a seeded generator splits
them into test, dev and training sets; a ReLU network with one sigmoid output is trained
with binary cross-entropy on mini-batches by Adam, keeping the parameters of the epoch with
the lowest dev cost (early stopping); ``--balance`` weighs each class inversely to its number
of pictures, for a folder with many more of one class. The script prints the test set's
accuracy, precision, recall, F1, log loss and confusion matrix, and writes into ``--out``:

- ``predictions.png``: test pictures with their predicted class, its probability and the
  true class (blue when right, red when wrong);
- ``curves.png``: cost and accuracy per epoch on the training and dev sets;
- ``metrics.json``: the printed figures.

A plain MLP sees a photo as a bag of pixel intensities with no notion of shape or position,
so do not expect much on real photos: published MLP results on Kaggle's dogs vs cats with
flattened pixels are around 58-60% accuracy, and about 80% on the 64x64 cat/non-cat course
data with 4 layers. Convolutional networks reach well above 95% on the same photos.

Random draws, in order, from ``np.random.default_rng(seed)``: the test split, the dev split
(one permutation each), the initial parameters, then per epoch one shuffle.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final, NamedTuple, TypeGuard, get_args

import numpy as np

import _cli  # scripts/_cli.py: the output folder, and errors as one line

from functional_nn import Activation, FloatArray, IntArray, initialize_parameters, predict_proba, train_epochs
from functional_nn.data.images import Color, class_folders, load_image_folder
from functional_nn.metrics import accuracy, confusion_matrix, f1_score, log_loss, precision, recall
from functional_nn.optimizers import adam
from functional_nn.sample_weights import balanced_weights
from functional_nn.serialization import atomic_write
from functional_nn.training import EarlyStopping, TrainState

GRID_PICTURES: Final = 24


class Evaluation(NamedTuple):
    """The test set's figures; the positive class is class 1."""

    accuracy: float
    precision: float
    recall: float
    f1: float
    log_loss: float
    confusion: list[list[int]]
    majority_accuracy: float


def is_color(value: str) -> TypeGuard[Color]:
    return value in get_args(Color)


def class_names(text: str) -> tuple[str, ...]:
    """``--classes``: folder names such as ``cats,dogs``; an empty item is a typing mistake, not a class."""
    return tuple(_cli.comma_separated(text, example="cats,dogs"))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("root", type=_cli.path, metavar="DIR", help="folder with one sub-folder of pictures per class")
    parser.add_argument("--classes", type=class_names, default=None, help="the two class folders to use, comma-separated (default: all, sorted)")
    parser.add_argument("--size", type=int, default=64, help="pictures are resized to SIZE x SIZE (default: 64)")
    parser.add_argument("--color", choices=get_args(Color), default="grayscale", help="default: grayscale")
    parser.add_argument("--hidden", type=_cli.positive_ints, default=(128, 32), help="ReLU layer sizes (default: 128,32)")
    parser.add_argument("--epochs", type=int, default=60, help="at most this many epochs (default: 60)")
    parser.add_argument("--patience", type=int, default=10, help="stop after this many epochs without a better dev cost (default: 10)")
    parser.add_argument("--batch-size", type=int, default=64, help="default: 64")
    parser.add_argument("--learning-rate", type=_cli.positive_float, default=1e-3, help="Adam's step (default: 1e-3)")
    parser.add_argument("--lambd", type=_cli.non_negative_float, default=0.0, help="L2 strength (default: 0)")
    parser.add_argument(
        "--balance", action="store_true",
        help="weigh each class's pictures inversely to their number in the training and dev sets, so that the class "
        "with fewer pictures counts as much in the cost (the accuracies printed while training are then balanced ones)",
    )  # fmt: skip
    parser.add_argument("--test-fraction", type=float, default=0.15, help="default: 0.15")
    parser.add_argument("--dev-fraction", type=float, default=0.15, help="default: 0.15")
    parser.add_argument("--seed", type=_cli.seed, default=0, help="seed of the one generator (default: 0)")
    parser.add_argument("--out", type=_cli.path, default=Path("."), help="directory for the pictures and metrics.json (default: .)")
    parser.add_argument("--overwrite", action="store_true", help="replace the outputs of an earlier run in --out")
    args = parser.parse_args(argv)
    _cli.check_at_least_one(parser, args, "size", "epochs", "patience", "batch_size")
    for name in ("test_fraction", "dev_fraction"):
        if not 0 < getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must lie in (0, 1), got {getattr(args, name)}")
    if args.test_fraction + args.dev_fraction >= 1:
        parser.error("--test-fraction + --dev-fraction must leave pictures to train on")
    twice = None if args.classes is None else _cli.first_repeat(args.classes)
    if twice is not None:  # refused here, before --out is checked or any picture read
        parser.error(f"--classes names {twice} twice: give two different class folders")
    if args.classes is not None and len(args.classes) != 2:  # a binary classifier
        parser.error(f"--classes must name two class folders, such as cats,dogs; got {len(args.classes)}: {','.join(args.classes)}")
    return args


def split_in_place(
    X: FloatArray, y: IntArray, n_test: int, n_dev: int, rng: np.random.Generator
) -> tuple[FloatArray, IntArray, FloatArray, IntArray, FloatArray, IntArray]:
    """``(X_train, y_train, X_dev, y_dev, X_test, y_test)``: the arrays and draws of
    ``train_dev_split(X, y, n_test, rng)`` (its dev set is the test set) and then
    ``train_dev_split`` of its training set with ``n_dev``, as views of ``X``, whose columns
    are reordered where they lie. Two splits would hold the pictures three times at once
    (3.4 GB for Kaggle's 25,000 photos at 64x64 RGB), this holds them once.
    """
    first = rng.permutation(y.size)  # train_dev_split's one draw: test set first
    rest = first[n_test:]
    order = np.concatenate([first[:n_test], rest[rng.permutation(rest.size)]])  # then the dev set
    rows = X.T  # C-contiguous: X is the loader's Fortran-ordered array, one picture per row here
    placed = bytearray(order.size)
    held = np.empty_like(rows[0])
    targets = order.tolist()
    for start in range(len(targets)):  # rows[i] = old rows[targets[i]], one cycle of the permutation at a time
        if placed[start]:
            continue
        held[...] = rows[start]
        i = start
        while (j := targets[i]) != start:
            rows[i] = rows[j]
            placed[i] = 1
            i = j
        rows[i] = held
        placed[i] = 1
    y = y[order]
    dev, train = n_test, n_test + n_dev
    return X[:, train:], y[train:], X[:, dev:train], y[dev:train], X[:, :dev], y[:dev]


def evaluate(probability: FloatArray, labels: IntArray) -> Evaluation:
    """Figures of a sigmoid output ``probability`` of shape (1, m) against 0/1 ``labels`` (m,)."""
    predictions: IntArray = (probability[0] >= 0.5).astype(np.int64)
    majority = max(float(np.mean(labels == 0)), float(np.mean(labels == 1)))
    return Evaluation(
        accuracy=accuracy(predictions, labels),
        precision=precision(predictions, labels),
        recall=recall(predictions, labels),
        f1=f1_score(predictions, labels),
        log_loss=log_loss(probability, labels),
        confusion=confusion_matrix(predictions, labels, num_classes=2).tolist(),
        majority_accuracy=majority,
    )


def format_confusion(confusion: list[list[int]], names: Sequence[str]) -> str:
    width = max(max(len(n) for n in names) + 2, 8)
    lines = ["confusion matrix (rows: true class, columns: predicted class)"]
    lines.append(" " * (width + 2) + "".join(f"{n:>{width}}" for n in names))
    for name, row in zip(names, confusion):
        lines.append(f"  {name:<{width}}" + "".join(f"{count:>{width}d}" for count in row))
    return "\n".join(lines)


def write_json(path: Path, content: object) -> None:
    """Write ``content`` as JSON atomically: a temporary file in the same directory, then a rename."""
    with atomic_write(path) as stream:  # the usual file mode, as every other output
        stream.write((json.dumps(content, indent=2) + "\n").encode())


OUTPUTS: Final = ("predictions.png", "curves.png", "metrics.json")


def main(argv: Sequence[str] | None = None) -> int:
    """Train and evaluate; a user's mistake is one ``error:`` line and status 2."""
    return _cli.run_main(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    args = parse_args(argv)
    _cli.check_output_dir(args.out, OUTPUTS, overwrite=args.overwrite)  # before the pictures are read
    _cli.check_plotting()
    color: str = args.color
    assert is_color(color)
    classes: tuple[str, ...] | None = args.classes  # split by class_names
    try:
        names = class_folders(args.root, classes)
        if len(names) != 2:  # before any of its pictures is decoded
            return _cli.fail(f"{args.root} has {len(names)} classes {list(names)}; pick two with --classes a,b")
        data = load_image_folder(args.root, size=(args.size, args.size), color=color, classes=names, dtype=np.float32)
    except (ValueError, FileNotFoundError) as error:  # the library names its keywords; the user typed DIR and a flag
        raise _cli.options_named(error, (("root ", ""), ("classes ", "--classes "))) from None
    counts = np.bincount(data.y, minlength=2).tolist()
    print(f"{data.X.shape[1]} pictures of {data.image_shape}: " + ", ".join(f"{n} {c}" for n, c in zip(counts, names)))
    if data.skipped:
        listed = ", ".join(s.path.name for s in data.skipped[:5]) + (", ..." if len(data.skipped) > 5 else "")
        print(f"skipped {len(data.skipped)} unreadable or non-picture file(s): {listed}")

    m = data.X.shape[1]
    n_test, n_dev = max(1, round(args.test_fraction * m)), max(1, round(args.dev_fraction * m))
    if m - n_test - n_dev < 1:
        return _cli.fail(f"{m} pictures are too few to split into training, dev and test sets")
    rng = np.random.default_rng(args.seed)
    X_train, y_train, X_dev, y_dev, X_test, y_test = split_in_place(data.X, data.y, n_test, n_dev, rng)
    image_shape, skipped = data.image_shape, len(data.skipped)
    del data
    Y_train = y_train[np.newaxis, :].astype(np.float32)  # (1, m): 0/1 targets as a row
    Y_dev = y_dev[np.newaxis, :].astype(np.float32)
    print(f"split with seed {args.seed}: {y_train.size} training, {y_dev.size} dev, {y_test.size} test pictures")

    sizes = [X_train.shape[0], *args.hidden, 1]
    relu: Activation = "relu"
    hidden = (relu,) * len(args.hidden)
    activations: tuple[Activation, ...] = (*hidden, "sigmoid")
    params = initialize_parameters(sizes, rng, scheme="he", dtype=np.float32)
    print(f"network {'-'.join(map(str, sizes))}, {' + '.join(activations)}; Adam, learning rate {args.learning_rate}")
    weights = dev_weights = None
    if args.balance:  # each class's weights sum to half the set's size
        weights, dev_weights = balanced_weights(y_train), balanced_weights(y_dev)
        present = [(c, weights[y_train == i][0]) for i, c in enumerate(names) if (y_train == i).any()]
        print("balanced: " + ", ".join(f"a picture of {c} weighs {weight:.3g}" for c, weight in present))
    accuracy_name = "balanced accuracy" if args.balance else "accuracy"
    state: TrainState | None = None
    with _cli.naming_options("--learning-rate", *(["--lambd"] if args.lambd > 0 else [])):  # L2 can run away too
        for state in train_epochs(
            X_train, Y_train, params, activations=activations, loss="binary_cross_entropy", epochs=args.epochs,
            optimizer=adam(args.learning_rate), batch_size=args.batch_size, rng=rng, dev=(X_dev, Y_dev), lambd=args.lambd,
            early_stopping=EarlyStopping(patience=args.patience, monitor="dev_cost"), sample_weight=weights,
            dev_sample_weight=dev_weights,
        ):  # fmt: skip
            r = state.history[-1]
            print(
                f"epoch {r.epoch:4d}  cost {r.cost:.4f}  {accuracy_name} {r.accuracy:.3f}  "
                f"dev cost {r.dev_cost:.4f}  dev {accuracy_name} {r.dev_accuracy:.3f}" + ("  *" if state.best_epoch == r.epoch else "")
            )
    assert state is not None  # epochs >= 1
    best = state.best_params if state.best_params is not None else state.params
    best_epoch = state.best_epoch if state.best_epoch is not None else state.epoch
    print(f"keeping the parameters of epoch {best_epoch}, the lowest dev cost" + (" (stopped early)" if state.stopped else ""))

    probability = predict_proba(X_test, best, activations)
    result = evaluate(probability, y_test)
    positive = names[1]
    print(f"\ntest set, {y_test.size} pictures (positive class: {positive})")
    print(f"  accuracy   {result.accuracy:.3f}   (always guessing the larger class: {result.majority_accuracy:.3f})")
    print(f"  precision  {result.precision:.3f}   TP / (TP + FP): of the pictures predicted {positive}, the fraction that are {positive}")
    print(f"  recall     {result.recall:.3f}   TP / (TP + FN): of the {positive} pictures, the fraction found")
    print(f"  F1         {result.f1:.3f}")
    print(f"  log loss   {result.log_loss:.4f}")
    print(format_confusion(result.confusion, names))

    from functional_nn.plots import plot_curves, plot_image_grid

    _cli.make_output_dir(args.out)
    shown = min(GRID_PICTURES, y_test.size)
    predicted: IntArray = (probability[0, :shown] >= 0.5).astype(np.int64)
    confidence = np.where(predicted == 1, probability[0, :shown], 1 - probability[0, :shown])
    grid = plot_image_grid(
        X_test[:, :shown], image_shape, args.out / "predictions.png", predicted=predicted, labels=y_test[:shown],
        probabilities=confidence, class_names=names, columns=min(6, shown),
        title=f"test pictures: predicted class (its probability), true class; accuracy {result.accuracy:.1%} on {y_test.size}",
    )  # fmt: skip
    curves = plot_curves(state.history, args.out / "curves.png", title=f"{names[0]} vs {names[1]}", mark_epoch=best_epoch)
    metrics = {
        "class_names": list(names),
        "positive_class": positive,
        "pictures": {"train": int(y_train.size), "dev": int(y_dev.size), "test": int(y_test.size), "skipped": skipped},
        "balanced": bool(args.balance),
        "best_epoch": best_epoch,
        "epochs_run": state.epoch,
        "test": result._asdict(),
    }
    write_json(args.out / "metrics.json", metrics)
    print(f"\nwrote {grid}, {curves} and {args.out / 'metrics.json'}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
