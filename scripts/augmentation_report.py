"""Show the augmentations on test digits, and measure what they cost against a training step.

    python scripts/augmentation_report.py                          # docs/images/mnist-augmented.png + the cost table
    python scripts/augmentation_report.py --hidden 1024,1024       # the cost against the best preset's network
    python scripts/augmentation_report.py --no-picture --repeats 9

The picture is a grid: a row of test digits, then the same digits shifted (up to 2 pixels),
affinely transformed, elastically distorted (alpha 34, sigma 4), and both, as
``scripts/train_mnist.py --augment`` applies them, drawn from ``default_rng(seed)``.

The cost: on one mini-batch of ``--batch-size`` MNIST training digits, the median time of
each augmentation and of one training step (forward with dropout, backward, Adam update) of
the network ``--hidden`` (the default run's by default), measured interleaved, ``--repeats``
rounds of ``--calls`` calls each, so that a busy machine slows them alike. The ratio is the
augmentation's share of an epoch's training time added to the step's. The last line printed
is JSON with every figure.
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as train_mnist.py trains

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from functional_nn import plots
from functional_nn.data import one_hot
from functional_nn.data.mnist import ChecksumError, DatasetUnavailableError, load_mnist
from functional_nn.initializers import initialize_parameters
from functional_nn.optimizers import adam
from functional_nn.losses import LOSSES
from functional_nn.propagation import backward, check_activations, forward
from functional_nn.types import Activation, FloatArray

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_mnist import AUGMENT, IMAGE_SHAPE, _sizes  # noqa: E402  # the very augmentations the runs use

PICTURE = Path("docs/images/mnist-augmented.png")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hidden", type=_sizes, default=(512, 256), help="hidden layer sizes of the step to compare with")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds of measurement (median taken)")
    parser.add_argument("--calls", type=int, default=20, help="calls per round")
    parser.add_argument("--digits", type=int, default=10, help="test digits in the picture")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=PICTURE, help=f"the picture (default {PICTURE})")
    parser.add_argument("--no-picture", action="store_true", help="only measure")
    args = parser.parse_args(argv)
    for name in ("batch_size", "repeats", "calls", "digits"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
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


def measure(args: argparse.Namespace, X: FloatArray, y: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
    """Median milliseconds per call: one training step, and each augmentation on the same batch."""
    sizes = (X.shape[0], *args.hidden, 10)
    relu: Activation = "relu"
    softmax: Activation = "softmax"
    activations = check_activations((relu,) * len(args.hidden) + (softmax,), len(args.hidden) + 1)  # records, as train's kernels see them
    params = initialize_parameters(sizes, rng, dtype=np.float32)
    optimizer = adam(1e-3)
    state = optimizer.init(params)
    batch = rng.choice(X.shape[1], size=args.batch_size, replace=False)
    X_batch = np.asfortranarray(X[:, batch])
    Y_batch = one_hot(y[batch], 10, dtype=np.float32)
    keeps = (0.8,) * len(args.hidden)

    def step() -> None:
        nonlocal params, state
        AL, caches = forward(X_batch, params, activations, keeps, rng)
        params, state = optimizer.update(backward(AL, Y_batch, caches, LOSSES["categorical_cross_entropy"]), state, params)

    tasks: dict[str, Callable[[], object]] = {"step": step}
    for name, augmentation in AUGMENT.items():
        if augmentation is not None:
            tasks[name] = lambda augmentation=augmentation: augmentation(X_batch, rng)  # type: ignore[misc]
    times: dict[str, list[float]] = {name: [] for name in tasks}
    for task in tasks.values():
        task()  # warm up
    for _ in range(args.repeats):
        for name, task in tasks.items():
            started = time.perf_counter()
            for _ in range(args.calls):
                task()
            times[name].append((time.perf_counter() - started) / args.calls * 1e3)
    return {name: float(np.median(values)) for name, values in times.items()}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        mnist = load_mnist(dtype=np.float32)
    except (DatasetUnavailableError, ChecksumError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    summary: dict[str, object] = {}
    if not args.no_picture:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        summary["picture"] = str(draw(args.out, mnist.X_test[:, : args.digits], rng))
        print(f"wrote {args.out}")
    milliseconds = measure(args, mnist.X_train, mnist.y_train, rng)
    step = milliseconds["step"]
    network = "-".join(map(str, (784, *args.hidden, 10)))
    print(f"one training step of {network} on {args.batch_size} digits: {step:.2f} ms (median of {args.repeats})")
    for name, value in milliseconds.items():
        if name != "step":
            print(f"  {name:>15}: {value:6.2f} ms a batch, {100 * value / step:5.1f}% of the step")
    summary.update(network=network, batch_size=args.batch_size, milliseconds=milliseconds,
                   ratio={name: value / step for name, value in milliseconds.items() if name != "step"},
                   load_average=os.getloadavg()[0] if hasattr(os, "getloadavg") else None)  # fmt: skip
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
