r"""Where a training step's time goes: the fold's step run by hand, each piece timed.

``train_epochs`` runs each step of a mini-batch epoch as a fixed sequence of calls
(``functional_nn.training.run_epoch``): gather the batch and divide its ``uint8`` pixels by
255, distort it (``--augment``), ``forward`` (products, biases, activations, dropout), the
cost, the predicted labels for the accuracy, ``backward``, the optimizer's in-place update,
and max-norm (``--max-norm``). This script makes the same calls with the same arguments in
the same order, drawing from the same generator, and times each with ``time.perf_counter``.
It then trains as many epochs with ``train_epochs`` itself and checks that both end with the
same parameters, bit for bit: the pieces timed are those of the real step. Last, it times
each of the step's matrix products alone, in a loop, each into an output allocated once (as
``scripts/benchmark.py`` times its ceiling), with its GFLOP/s.

Per epoch it prints the microseconds a step spends in each piece, then the medians over the
epochs; the last line printed is one JSON object with every figure. It calls
``keep_freed_memory()`` and ``fused.warm_up()`` first, as ``train_mnist.py`` does, so
neither the allocator's returned pages nor Numba's compilation land in a step. The network
is ``train_mnist.py``'s kind: ReLU hidden layers, a softmax output, cross-entropy, He
initialisation, float32. The small pieces of a step (softmax, the cost, Adam's update) take
longer there than the same calls alone in a loop (``docs/speed.md``).

    python scripts/step_breakdown.py                     # the speed issue's old main configuration
    python scripts/step_breakdown.py --keep-prob 1 --augment affine          # train_mnist.py's default run
    python scripts/step_breakdown.py --hidden 1024,1024,1024 --keep-prob 0.5 --max-norm 3.5   # the old --preset best
    python scripts/step_breakdown.py --samples 2000 --epochs 2 --hidden 32    # seconds
    python scripts/step_breakdown.py --hidden 4 --keep-prob 1 --optimizer sgd --threads 1   # the floor: calls, checks, gather

The images are MNIST's 50,000 training images when they are cached (nothing is downloaded;
``scripts/train_mnist.py`` caches them), else random ``uint8`` pixels of that shape.
"""

from __future__ import annotations

import sys

import _threads  # scripts/_threads.py: imports nothing heavy

if __name__ == "__main__":  # before NumPy loads; without --threads, every core (the BLAS's default)
    _threads.pin_blas_threads(_threads.threads_from_argv(sys.argv[1:]))

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from typing import NamedTuple  # noqa: E402

import numpy as np  # noqa: E402

import _cli  # noqa: E402  (scripts/_cli.py: a user's mistakes as one error line)
import benchmark  # noqa: E402  (scripts/benchmark.py: its data, optimizers, and the step's products as its ceiling times them)
import train_mnist  # noqa: E402  (scripts/train_mnist.py: its augmentations, by name)
from functional_nn import fused  # noqa: E402
from functional_nn.activations import RELU, SOFTMAX  # noqa: E402
from functional_nn.allocator import keep_freed_memory  # noqa: E402
from functional_nn.data import one_hot  # noqa: E402
from functional_nn.data.digit_files import UInt8Array  # noqa: E402
from functional_nn.data.augmentation import Augmentation  # noqa: E402
from functional_nn.data.mnist import load_mnist_pixels  # noqa: E402
from functional_nn.data.preparation import _minibatches  # noqa: E402  (the fold's own batches)
from functional_nn.initializers import initialize_parameters  # noqa: E402
from functional_nn.losses import CATEGORICAL_CROSS_ENTROPY  # noqa: E402
from functional_nn.optimizers import Optimizer, _apply_max_norm, writeable_copies  # noqa: E402
from functional_nn.propagation import backward, forward, labels_from_output  # noqa: E402
from functional_nn.training import train_epochs  # noqa: E402
from functional_nn.types import ActivationFunction, FloatArray, IntArray  # noqa: E402

PIXEL_DIVISOR = 255.0  # train_mnist.py's input_divisor
PIECES = ("gather", "augment", "forward", "cost", "labels", "backward", "update", "max-norm")


class Pixels(NamedTuple):
    X: UInt8Array  # (784, m) whose transpose is C-ordered, as train_mnist.py hands it to train
    labels: IntArray  # (m,)
    source: str


def load_pixels(source: str, samples: int | None, rng: np.random.Generator) -> Pixels:
    """MNIST's ``uint8`` training images when cached (``source`` "auto" or "mnist"), else random ones."""
    cached = benchmark.cached_mnist(source)  # the benchmark's --data, and its refusal
    if cached is not None:
        pixels = load_mnist_pixels()
        m = pixels.X_train.shape[1] if samples is None else min(samples, pixels.X_train.shape[1])
        return Pixels(pixels.X_train[:, :m], pixels.y_train[:m], f"MNIST ({cached})")
    m = 50_000 if samples is None else samples
    X = rng.integers(0, 256, size=(m, 784), dtype=np.uint8).T  # a row per image, transposed
    return Pixels(X, rng.integers(0, 10, m), "random, MNIST-shaped")


class Run(NamedTuple):
    """One configuration, as both the hand-run steps and ``train_epochs`` see it."""

    X: UInt8Array  # (784, m)
    labels: IntArray
    Y: FloatArray  # (10, m) one-hot float32
    params: dict[str, FloatArray]
    keep_probs: tuple[float, ...] | None
    augmentation: Augmentation | None
    optimizer: Optimizer
    max_norm: float | None
    batch_size: int
    seed: int


def timed_epochs(run: Run, epochs: int) -> tuple[list[dict[str, float]], dict[str, FloatArray]]:
    """``epochs`` epochs of ``run_epoch``'s calls, each piece's µs a step per epoch, and the last parameters."""
    activations = _activations(run)
    kernel = fused.check_kernel(None)  # train_epochs' default
    rng = np.random.default_rng(run.seed)
    params, state = dict(run.params), run.optimizer.init(run.params)
    update_in_place = run.optimizer.update_in_place
    assert update_in_place is not None  # sgd and adam have one
    m = run.X.shape[1]
    pieces = _pieces(run)
    per_epoch = []
    for _ in range(epochs):
        seconds = dict.fromkeys(PIECES, 0.0)
        # the copies the fold's in-place updates write, made by the fold at an epoch's first
        # update: here before the epoch, untimed (once an epoch, a few µs a step)
        params, state = writeable_copies(params, state)
        steps = 0
        correct = 0
        start = now = time.perf_counter()
        batches = _minibatches(run.X, run.Y, run.batch_size, rng.permutation(m), PIXEL_DIVISOR, kernel)
        for X_batch, Y_batch, indices in batches:
            now = _lap(seconds, "gather", now)
            if run.augmentation is not None:
                X_batch = run.augmentation(X_batch, rng)
                now = _lap(seconds, "augment", now)
            AL, caches = forward(X_batch, params, activations, run.keep_probs, rng, None, kernel)
            now = _lap(seconds, "forward", now)
            CATEGORICAL_CROSS_ENTROPY.cost(AL, Y_batch)
            now = _lap(seconds, "cost", now)
            correct += int(np.count_nonzero(labels_from_output(AL, SOFTMAX) == run.labels[indices]))  # the epoch's accuracy
            now = _lap(seconds, "labels", now)
            grads = backward(AL, Y_batch, caches, CATEGORICAL_CROSS_ENTROPY, 0.0, kernel)
            now = _lap(seconds, "backward", now)
            params, state = update_in_place(grads, state, params)
            now = _lap(seconds, "update", now)
            if run.max_norm is not None:
                params = _apply_max_norm(params, run.max_norm, in_place=True)
                now = _lap(seconds, "max-norm", now)
            steps += 1
        step = {piece: 1e6 * seconds[piece] / steps for piece in pieces}
        step["step"] = 1e6 * (now - start) / steps
        per_epoch.append(step)
    return per_epoch, params


def _pieces(run: Run) -> tuple[str, ...]:
    """The pieces ``run``'s step has: no augmentation or max-norm unless asked for."""
    absent = {"augment": run.augmentation is None, "max-norm": run.max_norm is None}
    return tuple(piece for piece in PIECES if not absent.get(piece, False))


def _activations(run: Run) -> tuple[ActivationFunction, ...]:
    return (RELU,) * (len(run.params) // 2 - 1) + (SOFTMAX,)  # ReLU hidden layers, a softmax output


def _lap(seconds: dict[str, float], piece: str, since: float) -> float:
    now = time.perf_counter()
    seconds[piece] += now - since
    return now


def same_as_train_epochs(run: Run, epochs: int, params: dict[str, FloatArray]) -> bool:
    """Whether ``train_epochs`` on ``run`` ends ``epochs`` epochs with ``params``, bit for bit."""
    states = train_epochs(
        run.X, run.Y, run.params, activations=_activations(run),
        loss="categorical_cross_entropy", epochs=epochs, optimizer=run.optimizer, batch_size=run.batch_size,
        rng=np.random.default_rng(run.seed), keep_probs=run.keep_probs, max_norm=run.max_norm,
        augmentation=run.augmentation, input_divisor=PIXEL_DIVISOR,
    )  # fmt: skip
    *_, last = states
    return last.params.keys() == params.keys() and all(last.params[k].tobytes() == params[k].tobytes() for k in params)


class Product(NamedTuple):
    name: str
    microseconds: float
    gflops: float


def timed_products(sizes: Sequence[int], batch_size: int, rng: np.random.Generator, min_seconds: float) -> list[Product]:
    """Each product of a step alone, timed as ``benchmark.time_products`` times them all."""
    names = benchmark.step_products(sizes, batch_size).products
    products = []
    for name, (a, b) in zip(names, benchmark.matmul_operands(sizes, batch_size, rng), strict=True):
        seconds = benchmark.time_products([(a, b)], min_seconds)
        flops = 2 * a.shape[0] * a.shape[1] * b.shape[1]
        products.append(Product(name, 1e6 * seconds, flops / seconds / 1e9))
    return products


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    # no abbreviations: --threads is read before NumPy loads, by its full name only
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None, allow_abbrev=False)
    parser.add_argument("--hidden", type=_cli.positive_ints, default="512,256", help="hidden layer sizes (default 512,256)")
    parser.add_argument("--keep-prob", type=float, default=0.8, help="dropout: the probability of keeping a hidden unit (default 0.8; 1 for none)")
    parser.add_argument("--augment", choices=list(train_mnist.AUGMENT), default="none", help="distort each batch as train_mnist.py does (default none)")
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default="adam", help="as the benchmark's: adam (1e-3, default) or sgd (0.1)")
    parser.add_argument("--max-norm", type=_cli.positive_float, default=None, help="cap each unit's incoming weights' norm (default: no cap)")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs (default 3)")
    parser.add_argument("--samples", type=int, default=None, help="images an epoch (default: all 50,000)")
    parser.add_argument("--batch-size", type=int, default=128, help="images a step (default 128)")
    parser.add_argument("--data", choices=("auto", "mnist", "random"), default="auto", help="auto: MNIST when cached, else random (default auto)")
    parser.add_argument("--seed", type=_cli.seed, default=0, help="seed of the generators (default 0)")
    parser.add_argument("--threads", type=int, default=None, help=f"BLAS threads (default: every core; {_cli.per_core_help()})")
    parser.add_argument("--product-seconds", type=_cli.positive_float, default=0.2, help="time spent timing each product (default 0.2)")
    args = parser.parse_args(list(argv))
    args.sizes = args.hidden
    if not 0 < args.keep_prob <= 1:
        parser.error(f"--keep-prob must be in (0, 1], got {args.keep_prob}")
    _cli.check_at_least_one(parser, args, "epochs", "batch_size", "samples", "threads")
    _cli.check_per_core(parser, "threads", args.threads)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return _cli.run_main(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    rng = np.random.default_rng(args.seed)
    pixels = load_pixels(args.data, args.samples, rng)
    sizes = (784, *args.sizes, 10)
    batch = min(args.batch_size, pixels.X.shape[1])  # what every step gets when --batch-size exceeds the images
    hidden_layers = len(args.sizes)
    run = Run(
        pixels.X, pixels.labels, one_hot(pixels.labels, 10, dtype=np.float32),
        initialize_parameters(sizes, rng, scheme="he", dtype=np.float32),
        None if args.keep_prob == 1 else (args.keep_prob,) * hidden_layers, train_mnist.AUGMENT[args.augment],
        benchmark.our_optimizer(args.optimizer), args.max_norm, args.batch_size, args.seed,
    )  # fmt: skip
    keep_freed_memory()
    if fused.AVAILABLE:
        fused.warm_up()
    max_norm = "no max-norm" if args.max_norm is None else f"max-norm {args.max_norm:g}"
    whole = "" if batch == args.batch_size else f" (every image: --batch-size {args.batch_size} is more)"
    print(
        f"{'-'.join(map(str, sizes))}, {args.optimizer}, dropout keeping {args.keep_prob:g}, augmentation {args.augment}, "
        f"{max_norm}; batch {batch}{whole}, {pixels.X.shape[1]:,} {pixels.source} images; kernel {fused.check_kernel(None)}; "
        "µs a step",
        flush=True,
    )
    shown = _pieces(run)
    with _threads.pinned_threads(args.threads):  # run as a script, the environment has pinned them already
        per_epoch, params = timed_epochs(run, args.epochs)
        same = same_as_train_epochs(run, args.epochs, params)
        products = timed_products(sizes, batch, rng, args.product_seconds)  # the products of the steps timed above
    for epoch, step in enumerate(per_epoch, start=1):
        print(f"  epoch {epoch}: " + ", ".join(f"{p} {step[p]:,.0f}" for p in shown) + f"; the step {step['step']:,.0f}")
    medians = {p: statistics.median(step[p] for step in per_epoch) for p in (*shown, "step")}
    print("  medians: " + ", ".join(f"{p} {medians[p]:,.0f}" for p in shown) + f"; the step {medians['step']:,.0f}")
    print(f"train_epochs ends with the same parameters, bit for bit: {'yes' if same else 'NO'}")
    print("each product alone: " + ", ".join(f"{p.name} {p.microseconds:,.1f} µs ({p.gflops:.0f} GFLOP/s)" for p in products))
    total = sum(p.microseconds for p in products)
    print(f"all {len(products)} products {total:,.0f} µs, {100 * total / medians['step']:.0f}% of the median step")
    print(json.dumps({
        "sizes": sizes, "optimizer": args.optimizer, "keep_prob": args.keep_prob, "augment": args.augment,
        "max_norm": args.max_norm, "batch_size": batch, "samples": int(pixels.X.shape[1]), "data": pixels.source,
        "kernel": fused.check_kernel(None), "threads": args.threads, "epochs": per_epoch, "medians": medians,
        "same_as_train_epochs": same, "products": [p._asdict() for p in products], "products_microseconds": total,
    }))  # fmt: skip
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
