"""The 2-3-1 network of the binary-classification tutorial, trained by the library.

Two inputs, three sigmoid hidden units, one sigmoid output; weights and biases drawn from
N(0, 1) (``scheme="standard_normal"``); binary cross-entropy; full-batch gradient descent.
The data is a 2-feature toy set drawn from a seeded generator. The script prints the cost
every few hundred epochs, the final accuracy on the training set and on fresh samples of
the same distribution, and writes ``decision_boundary.png``, the probability surface with
the samples drawn over it, and ``hidden_units.png``, each hidden unit's line (where its
output crosses 0.5) over the data beside the decision boundary. With ``--animate`` it also
writes ``training.gif``: the boundary and the hidden units' lines moving over the epochs,
beside the cost curve, about 50 frames taken from the states of ``train_epochs``. With
``--overwrite``, a ``training.gif`` an earlier ``--animate`` run left in ``--out`` is removed
when this run does not animate, and the line that names the pictures says so.

    python scripts/binary_classification.py
    python scripts/binary_classification.py --data xor --hidden 4 --epochs 10000 --out out/
    python scripts/binary_classification.py --animate --data circles --out circles/

Random draws, in order, from ``np.random.default_rng(seed)``: the training set (see
``functional_nn.data.toy``), the parameters (W1, b1, W2, b2, one ``standard_normal``
call each), then the held-out set. Gradient descent itself draws nothing. The blobs'
centres are drawn once, first, by ``blob_centers`` (the draw ``make_blobs`` would make, so
the training set is the one ``make_blobs`` returns), and the held-out set shares them: it
draws only its noise and its permutation, so that it samples the training set's distribution.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final, NamedTuple, TypeGuard, get_args

import numpy as np

import _cli  # scripts/_cli.py: the output folder, and errors as one line

from functional_nn import Activation, FloatArray, IntArray, accuracy, initialize_parameters, predict, predict_proba, train_epochs
from functional_nn.data.toy import TOY_DATASETS, ToyMaker, ToyName, blob_centers, make_blobs

ACTIVATIONS: Final[tuple[Activation, Activation]] = ("sigmoid", "sigmoid")
N_HELD_OUT: Final = 1000


class Run(NamedTuple):
    """What a run produced: its figures and the picture it wrote."""

    params: dict[str, FloatArray]
    costs: tuple[float, ...]
    train_accuracy: float
    held_out_accuracy: float
    picture: Path
    hidden_units: Path
    animation: Path | None = None


def is_toy_name(value: str) -> TypeGuard[ToyName]:
    return value in get_args(ToyName)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", choices=get_args(ToyName), default="moons", help="toy data set (default: moons)")
    parser.add_argument("--samples", type=int, default=200, help="training samples (default: 200)")
    parser.add_argument("--noise", type=_cli.non_negative_float, default=None, help="noise of the data set (default: the maker's)")
    parser.add_argument("--hidden", type=int, default=3, help="sigmoid hidden units (default: 3)")
    parser.add_argument("--epochs", type=int, default=5000, help="full-batch epochs (default: 5000)")
    parser.add_argument("--learning-rate", type=_cli.positive_float, default=1.0, help="gradient-descent step (default: 1.0)")
    parser.add_argument("--print-every", type=int, default=500, help="print the cost every this many epochs (default: 500)")
    parser.add_argument("--seed", type=_cli.seed, default=0, help="seed of the one generator (default: 0)")
    parser.add_argument("--out", type=_cli.path, default=Path("."), help="directory for the pictures (default: .)")
    parser.add_argument("--overwrite", action="store_true", help="replace pictures an earlier run left in --out "
                        "(and remove its training.gif if this run does not animate)")
    parser.add_argument("--animate", action="store_true", help="also write training.gif, the training as an animation")
    parser.add_argument("--frames", type=int, default=50, help="frames of the animation (default: 50; at most --epochs)")
    args = parser.parse_args(argv)
    _cli.check_at_least_one(parser, args, "samples", "hidden", "epochs", "print_every", "frames")
    return args


def run(args: argparse.Namespace) -> Run:
    data: str = args.data
    assert is_toy_name(data)
    rng = np.random.default_rng(args.seed)
    maker: ToyMaker = TOY_DATASETS[data]
    if data == "blobs":  # make_blobs draws new centres at every call: drawn once, the held-out set shares them
        maker = functools.partial(make_blobs, centers=blob_centers(rng))

    def draw(n_samples: int) -> tuple[FloatArray, IntArray]:
        if args.noise is None:
            return maker(n_samples, rng)
        return maker(n_samples, rng, noise=float(args.noise))

    try:
        X, y = draw(args.samples)
    except ValueError as error:  # the maker names its arguments: the user typed --samples and --noise
        raise _cli.options_named(error, (("n_samples ", "--samples "), ("noise=", "--noise "))) from None
    Y: FloatArray = y[np.newaxis, :].astype(np.float64)  # (1, m): the 0/1 targets as a row
    params = initialize_parameters([2, args.hidden, 1], rng, scheme="standard_normal")
    X_held_out, y_held_out = draw(N_HELD_OUT)

    print(f"2-{args.hidden}-1 sigmoid network on {args.samples} '{data}' samples, learning rate {args.learning_rate}")
    frame_epochs = set(animation_epochs(args.epochs, args.frames)) if args.animate else set()
    snapshots: list[tuple[int, dict[str, FloatArray]]] = []
    state = None
    for state in train_epochs(
        X, Y, params, activations=ACTIVATIONS, loss="binary_cross_entropy", epochs=args.epochs,
        learning_rate=args.learning_rate,
    ):  # fmt: skip
        if state.epoch in frame_epochs:
            snapshots.append((state.epoch, state.params))  # each state holds its own arrays: nothing to copy
        record = state.history[-1]
        if record.epoch == 1 or record.epoch % args.print_every == 0:
            print(f"epoch {record.epoch:6d}   cost {record.cost:.6f}   accuracy {record.accuracy:.3f}")
    assert state is not None  # epochs >= 1
    final = state.params
    train_accuracy = accuracy(predict(X, final, ACTIVATIONS), y)
    held_out_accuracy = accuracy(predict(X_held_out, final, ACTIVATIONS), y_held_out)
    print(f"final accuracy: {train_accuracy:.3f} on the training set, {held_out_accuracy:.3f} on {N_HELD_OUT} new samples")

    _cli.make_output_dir(args.out)
    from functional_nn.plots import animate_training, plot_decision_boundary, plot_hidden_units

    name = f"2-{args.hidden}-1 on {data}"
    picture = plot_decision_boundary(
        lambda G: predict_proba(G, final, ACTIVATIONS), X, y, args.out / "decision_boundary.png",
        title=f"{name}: training accuracy {train_accuracy:.1%}",
    )  # fmt: skip
    hidden_units = plot_hidden_units(final, ACTIVATIONS, X, y, args.out / "hidden_units.png", title=f"{name}: how {args.hidden} sigmoids make the boundary")
    removed = remove_stale_animation(args.out) if args.overwrite and not args.animate else ""
    print(f"wrote {picture} and {hidden_units}{removed}")
    costs = tuple(r.cost for r in state.history)
    animation = None
    if args.animate:
        animation = animate_training(snapshots, costs, ACTIVATIONS, X, y, args.out / ANIMATION, title=f"{name}, learning rate {args.learning_rate:g}")
        print(f"wrote {animation} ({_cli.counted(len(snapshots), 'frame')}, {animation.stat().st_size / 1e6:.2f} MB)")
    return Run(final, costs, train_accuracy, held_out_accuracy, picture, hidden_units, animation)


def animation_epochs(epochs: int, frames: int) -> list[int]:
    """``min(frames, epochs)`` distinct epochs from 1 to ``epochs``, denser at the start.

    The picture changes fastest early in training, so frame ``i`` of ``n`` shows epoch
    ``1 + (epochs - 1) (i / (n - 1))^2``, rounded, pushed on so no epoch repeats.
    """
    n = min(frames, epochs)
    if n == 1:
        return [epochs]
    chosen: list[int] = []
    for i in range(n):
        target = round(1 + (epochs - 1) * (i / (n - 1)) ** 2)
        earliest = chosen[-1] + 1 if chosen else 1
        latest = epochs - (n - 1 - i)  # room left for the frames still to come
        chosen.append(min(max(target, earliest), latest))
    return chosen


OUTPUTS: Final = ("decision_boundary.png", "hidden_units.png")
ANIMATION: Final = "training.gif"


def remove_stale_animation(out: Path) -> str:
    """Remove the ``training.gif`` an earlier ``--animate`` run left in ``out``, replaced with
    ``--overwrite`` by a run that does not animate: it shows another run's training. Returns
    ``"; removed the earlier run's training.gif"`` for the line that names the pictures, or ``""``."""
    if not (out / ANIMATION).is_file():
        return ""
    (out / ANIMATION).unlink()
    return f"; removed the earlier run's {ANIMATION}"


def main(argv: Sequence[str] | None = None) -> int:
    """Train and draw; a user's mistake is one ``error:`` line and status 2."""
    return _cli.run_main(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    args = parse_args(argv)
    # the animation too, even when this run draws none: an earlier run's is replaced only with
    # --overwrite, and then removed once the new pictures are written (see remove_stale_animation)
    _cli.check_output_dir(args.out, (*OUTPUTS, ANIMATION), overwrite=args.overwrite)  # before training, not after
    _cli.check_plotting()
    with _cli.naming_options("--learning-rate"):
        run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
