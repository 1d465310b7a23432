"""Show the augmentations on test digits, and measure what they cost against a training step.

    python scripts/augmentation_report.py --overwrite              # redraws docs/images/mnist-augmented.png + the cost table
    python scripts/augmentation_report.py --hidden 1024,1024 --no-picture   # the cost against the best preset's network
    python scripts/augmentation_report.py --no-picture --repeats 9

The picture is a grid: a row of test digits, then the same digits shifted (up to 2 pixels),
affinely transformed, elastically distorted (alpha 34, sigma 4), and both, as
``scripts/train_mnist.py --augment`` applies them, drawn from ``default_rng(seed)``.

The cost: ``train`` runs one epoch over the first ``--samples`` training digits in batches of
``--batch-size``, as ``scripts/train_mnist.py`` trains the default network (``--hidden``, Adam,
no dropout, every core unless ``--threads N``), once without augmentation and once with each,
interleaved, ``--repeats`` times. An augmentation's cost is the median extra time it adds to a
training step, and its share is that over the plain step's median: the share of an epoch's
time it adds, measured in the fold itself, where it shares the cores with the BLAS's threads.
Each augmentation's calls are also timed inside those epochs: the median call over the plain
step is the same share without the epochs' noise (and without any effect the call has on the
step around it, which the first figure includes).
The last line printed is JSON with every figure. The picture's ``--out`` is checked before the
data are loaded, and an existing picture is replaced only with ``--overwrite``; a ``--digits``
larger than the test set is refused once the data are loaded, before anything is drawn.
"""

from __future__ import annotations

import sys

import _threads  # scripts/_threads.py: imports nothing heavy

if __name__ == "__main__":  # before NumPy loads; without --threads, every core, as train_mnist.py
    _threads.pin_blas_threads(_threads.threads_from_argv(sys.argv[1:]))

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from functional_nn import plots
from functional_nn.data import one_hot, scale_pixels
from functional_nn.data.mnist import load_mnist_pixels
from functional_nn.initializers import initialize_parameters
from functional_nn.data.augmentation import Augmentation
from functional_nn.optimizers import adam
from functional_nn.training import train
from functional_nn.types import Activation, FloatArray

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _cli  # noqa: E402  # scripts/_cli.py: the output checks, and errors as one line
from train_mnist import AUGMENT, IMAGE_SHAPE  # noqa: E402  # the very augmentations the runs use

PICTURE = Path("docs/images/mnist-augmented.png")


def make_parser() -> argparse.ArgumentParser:
    """The command line; ``parse_args`` reads it, and ``_main`` refuses with it what only the data can tell."""
    # no abbreviations: --threads is read before NumPy loads, by its full name only
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False
    )
    parser.add_argument("--hidden", type=_cli.positive_ints, default=(512, 256), help="hidden layer sizes of the step to compare with (default 512,256)")
    parser.add_argument("--batch-size", type=int, default=128, help="images a step (default 128)")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds of measurement, the median taken (default 7)")
    parser.add_argument("--samples", type=int, default=6400, help="training digits an epoch (default 6400: 50 steps)")
    parser.add_argument("--threads", type=int, metavar="N", help=f"BLAS threads (default: every core, as train_mnist.py; {_cli.per_core_help()})")
    parser.add_argument("--digits", type=int, default=10, help="test digits in the picture, at most the test set's (default 10)")
    parser.add_argument("--seed", type=_cli.seed, default=0, help="seed of the generator (default 0)")
    parser.add_argument("--out", type=_cli.path, default=PICTURE, help=f"the picture (default {PICTURE})")
    parser.add_argument("--overwrite", action="store_true", help="replace the picture an earlier run left at --out")
    parser.add_argument("--no-picture", action="store_true", help="only measure")
    return parser


def parse_args(argv: Sequence[str] | None, parser: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    """The arguments, checked; ``parser`` is ``make_parser()``'s, made here if not given."""
    parser = make_parser() if parser is None else parser
    args = parser.parse_args(argv)
    _cli.check_at_least_one(parser, args, "batch_size", "repeats", "samples", "digits", "threads")
    _cli.check_per_core(parser, "threads", args.threads)
    return args


def draw(path: Path, X: FloatArray, rng: np.random.Generator) -> Path:
    """Rows: the digits, then each augmentation of them."""
    rows = [("test digits", X)] + [(name, f(X, rng)) for name, f in AUGMENT.items() if f is not None]
    n = X.shape[1]
    figure = plots.new_figure(0.9 * n + 1.2, 1.0 * len(rows))
    axes = figure.subplots(len(rows), n, squeeze=False)
    for r, (name, images) in enumerate(rows):
        for c in range(n):
            axis = axes[r, c]
            axis.imshow(images[:, c].reshape(IMAGE_SHAPE), cmap="gray", vmin=0, vmax=1)
            axis.set_xticks([])
            axis.set_yticks([])
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    return plots.save_figure(figure, path)


class Costs(NamedTuple):
    """Median milliseconds: the plain step, what each augmentation adds to a step, and its call alone."""

    step: float
    added: dict[str, float]
    call: dict[str, float]


def measure(args: argparse.Namespace, X: FloatArray, y: np.ndarray, rng: np.random.Generator) -> Costs:
    """Train epochs without and with each augmentation, interleaved; each call timed inside the fold too."""
    m = min(args.samples, X.shape[1])
    X_epoch = np.asfortranarray(X[:, :m])
    Y_epoch = one_hot(y[:m], 10, dtype=np.float32)
    relu: Activation = "relu"
    softmax: Activation = "softmax"
    activations = (relu,) * len(args.hidden) + (softmax,)
    params = initialize_parameters((X.shape[0], *args.hidden, 10), rng, dtype=np.float32)
    steps = -(-m // args.batch_size)
    calls: list[float] = []

    def timed(augmentation: Augmentation) -> Augmentation:
        def call(batch: FloatArray, generator: np.random.Generator) -> FloatArray:
            started = time.perf_counter()
            result = augmentation(batch, generator)
            calls.append(time.perf_counter() - started)
            return result

        return call

    def epoch(augmentation: Augmentation | None) -> None:
        train(
            X_epoch, Y_epoch, params, activations=activations, loss="categorical_cross_entropy", epochs=1,
            optimizer=adam(1e-3), batch_size=args.batch_size, rng=np.random.default_rng(args.seed), augmentation=augmentation,
        )  # fmt: skip

    tasks: dict[str, Augmentation | None] = {"step": None, **{name: timed(f) for name, f in AUGMENT.items() if f is not None}}
    times: dict[str, list[float]] = {name: [] for name in tasks}
    call_times: dict[str, list[float]] = {name: [] for name in tasks if name != "step"}
    epoch(None)  # warm up
    for _ in range(args.repeats):
        for name, augmentation in tasks.items():
            calls.clear()
            started = time.perf_counter()
            epoch(augmentation)
            times[name].append((time.perf_counter() - started) / steps * 1e3)
            if name != "step":
                call_times[name].extend(1e3 * t for t in calls)
    step = float(np.median(times["step"]))
    added = {name: float(np.median(values)) - step for name, values in times.items() if name != "step"}
    return Costs(step, added, {name: float(np.median(values)) for name, values in call_times.items()})


def main(argv: Sequence[str] | None = None) -> int:
    """Draw and measure; a user's mistake is one ``error:`` line and status 2."""
    return _cli.run_main(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = make_parser()
    args = parse_args(argv, parser)
    if not args.no_picture:  # before the data: a mistake in --out costs nothing
        _cli.check_output_file(args.out, overwrite=args.overwrite)
        _cli.check_plotting()
    mnist = load_mnist_pixels()  # scaled below, only the digits used: not all 70,000 in float32 (220 MB)
    available = int(mnist.X_test.shape[1])
    if not args.no_picture and args.digits > available:  # before the picture's folder is made: nothing written
        parser.error(f"--digits {args.digits} exceeds the {available} test digits available: give at most --digits {available}")
    rng = np.random.default_rng(args.seed)
    summary: dict[str, object] = {}
    if not args.no_picture:
        _cli.make_output_dir(args.out.parent)
        summary["picture"] = str(draw(args.out, scale_pixels(mnist.X_test[:, : args.digits], dtype=np.float32), rng))
        print(f"wrote {args.out}")
    with _threads.pinned_threads(args.threads):  # run as a script, the environment has pinned them already
        costs = measure(args, scale_pixels(mnist.X_train[:, : args.samples], dtype=np.float32), mnist.y_train, rng)
    step = costs.step
    network = "-".join(map(str, (784, *args.hidden, 10)))
    m = min(args.samples, mnist.X_train.shape[1])  # as measure trains: no more digits than there are
    batch = min(args.batch_size, m)
    print(f"one training step of {network} on {batch} digits: {step:.2f} ms (median of {_cli.counted(args.repeats, 'epoch')} of {m} digits)")
    for name, value in costs.added.items():
        call = costs.call[name]
        print(f"  {name:>15}: {value:+6.2f} ms a step ({100 * value / step:5.1f}% of the step); "
              f"the call itself {call:5.2f} ms ({100 * call / step:5.1f}%)")  # fmt: skip
    summary.update(network=network, batch_size=batch, samples=m, milliseconds={"step": step, **costs.added},
                   ratio={name: value / step for name, value in costs.added.items()},
                   call_milliseconds=costs.call, call_ratio={name: value / step for name, value in costs.call.items()},
                   load_average=_threads.load_average())  # fmt: skip
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
