"""Why deep sigmoid networks learn slowly: each layer's gradient norm over training, measured.

Trains the same network with five hidden layers three times, with sigmoid units and N(0, 1)
weights, with sigmoid units and Xavier weights, and with ReLU units and He weights (softmax
output, cross-entropy, plain mini-batch gradient descent), and records ``layer_statistics``
every few steps through a ``layer_statistics_observer``. Writes into ``--out``:

- ``vanishing_gradients.png``: ||dW_l|| per layer over training, the three side by side (the
  figure of chapter 5 of Nielsen's *Neural Networks and Deep Learning*);
- ``activation_histograms.png``: each hidden layer's outputs at the chosen epochs;
- ``vanishing_gradients.json``: the figures behind them.

    python scripts/vanishing_gradients.py                  # MNIST, 784-30-30-30-30-30-10, 5 epochs
    python scripts/vanishing_gradients.py --data spirals --out spirals/   # a toy set instead (2 inputs)
    python scripts/vanishing_gradients.py --quick --out quick/            # a few seconds: 2,000 samples, 2 epochs

The backward pass multiplies by ``W_l^T`` and by ``g'(Z_{l-1})`` at each layer; the sigmoid's
derivative is at most 1/4, so with weights of gain about 1 (Xavier) each layer back gets a
gradient about four times smaller. Large N(0, 1) weights make up for that factor but
saturate the units instead; ReLU's derivative is 1 where it is active, and He's weights keep
the signal's size from layer to layer.

Random draws: a toy set's training samples, then its held-out ones, are drawn once from
``np.random.default_rng(seed)`` and shared by the three networks; the blobs' centres are drawn
first, once, by ``blob_centers`` (the draw ``make_blobs`` would make, so the training samples
are the ones ``make_blobs`` returns), and the held-out samples share them, so that both come
from the same distribution. Each network has a generator of its own,
``np.random.default_rng(seed + 1)``, which draws its parameters, then each epoch's permutation.
The Xavier and He networks draw the same normal numbers for their weights (scaled differently)
and then the same permutations; the N(0, 1) network draws its biases too, so its permutations,
and the order of its batches, differ.
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small products: one thread is faster on busy cores

import argparse
import functools
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final, NamedTuple, TypeGuard, get_args

import numpy as np

import _cli  # scripts/_cli.py: the output folder, and errors as one line

from functional_nn import (
    ACTIVATIONS,
    Activation,
    FloatArray,
    InitScheme,
    IntArray,
    StepStatistics,
    forward_propagation,
    initialize_parameters,
    layer_statistics_observer,
    one_hot,
    predict,
    train_epochs,
)
from functional_nn.data.mnist import load_mnist
from functional_nn.data.toy import TOY_DATASETS, ToyMaker, ToyName, blob_centers, make_blobs
from functional_nn.serialization import atomic_write


class Network(NamedTuple):
    """One of the three networks compared."""

    label: str
    activation: Activation
    init: InitScheme


NETWORKS: Final = (
    Network("sigmoid, N(0, 1) weights", "sigmoid", "standard_normal"),
    Network("sigmoid, Xavier weights", "sigmoid", "xavier"),
    Network("ReLU, He weights", "relu", "he"),
)
DATA_CHOICES: Final = ("mnist", *get_args(ToyName))
HISTOGRAM_SAMPLES: Final = 1000


class Data(NamedTuple):
    X: FloatArray  # (n_0, m)
    y: IntArray  # (m,)
    X_test: FloatArray
    y_test: IntArray
    classes: int
    name: str


class Result(NamedTuple):
    """What one network's run measured."""

    network: Network
    steps: FloatArray  # (n,)
    gradient_norms: FloatArray  # (n, L)
    statistics: tuple[StepStatistics, ...]
    snapshots: tuple[tuple[int, tuple[FloatArray, ...]], ...]  # (epoch, hidden layers' A on fixed samples)
    test_accuracy: float


def is_toy_name(value: str) -> TypeGuard[ToyName]:
    return value in get_args(ToyName)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", choices=DATA_CHOICES, default="mnist", help="data set (default: mnist)")
    parser.add_argument("--samples", type=int, help="training samples (default: all 50,000 of MNIST, 2,000 of a toy set)")
    parser.add_argument("--width", type=int, default=30, help="units in each hidden layer (default: 30)")
    parser.add_argument("--layers", type=int, default=5, help="hidden layers (default: 5)")
    parser.add_argument("--epochs", type=int, default=5, help="epochs (default: 5)")
    parser.add_argument("--batch-size", type=int, default=32, help="mini-batch size (default: 32)")
    parser.add_argument("--learning-rate", type=_cli.positive_float, default=0.1, help="gradient-descent step (default: 0.1)")
    parser.add_argument("--every", type=int, help="record the statistics every this many steps (default: ~200 points)")
    parser.add_argument("--histogram-epochs", help="epochs whose activations are drawn, e.g. 0,1,5 (default: 0, 1 and the last)")
    parser.add_argument("--quick", action="store_true", help="2,000 samples and 2 epochs: a check that everything runs")
    parser.add_argument("--seed", type=_cli.seed, default=0, help="seed of a toy set's draws; each network's generator gets seed + 1 (default: 0)")
    parser.add_argument("--out", type=_cli.path, default=Path("."), help="directory for the pictures and the JSON (default: .)")
    parser.add_argument("--overwrite", action="store_true", help="replace the files an earlier run left in --out")
    args = parser.parse_args(argv)
    _cli.check_at_least_one(parser, args, "samples", "width", "layers", "epochs", "batch_size", "every")
    if args.quick:  # after the checks: --samples 0 is a mistake, not "the default"
        args.samples = min(args.samples or 2000, 2000)
        args.epochs = min(args.epochs, 2)
    if args.histogram_epochs is None:
        args.histogram_epochs = sorted({0, 1, args.epochs})
    else:
        try:
            epochs = sorted({int(part) for part in _cli.comma_separated(args.histogram_epochs, example="0,1,5")})
        except (ValueError, argparse.ArgumentTypeError):
            parser.error(f"--histogram-epochs must be epochs such as 0,1,5, got {args.histogram_epochs!r}")
        if not epochs or epochs[0] < 0 or epochs[-1] > args.epochs:
            parser.error(f"--histogram-epochs must lie in 0..{args.epochs} (the epochs run), got {args.histogram_epochs!r}")
        args.histogram_epochs = epochs
    return args


def load_data(args: argparse.Namespace) -> Data:
    """MNIST (the training images and the 10,000 test images) or a toy set drawn with the seed."""
    if args.data == "mnist":
        mnist = load_mnist(dtype=np.float32)
        available = mnist.X_train.shape[1]
        # else it would quietly train on fewer than asked; --quick's 2,000 samples are a cap, which a small cache may be under
        if args.samples is not None and args.samples > available and not args.quick:
            raise _cli.UsageError(f"--samples {args.samples} exceeds the {available} MNIST training images: give at most --samples {available}")
        m = available if args.samples is None else min(args.samples, available)
        return Data(mnist.X_train[:, :m], mnist.y_train[:m], mnist.X_test, mnist.y_test, 10, "MNIST")
    data: str = args.data
    assert is_toy_name(data)
    rng = np.random.default_rng(args.seed)
    m = args.samples or 2000
    maker: ToyMaker = TOY_DATASETS[data]
    if data == "blobs":  # make_blobs draws new centres at every call: drawn once, the held-out set shares them
        maker = functools.partial(make_blobs, centers=blob_centers(rng))
    try:
        X, y = maker(m, rng)
    except ValueError as error:  # the maker names its n_samples: the user typed --samples
        raise _cli.options_named(error, (("n_samples ", "--samples "),)) from None
    X_test, y_test = maker(1000, rng)
    classes = int(max(y.max(), y_test.max())) + 1
    return Data(X.astype(np.float32), y, X_test.astype(np.float32), y_test, classes, f"'{data}'")


def run_network(network: Network, data: Data, args: argparse.Namespace) -> Result:
    sizes = [data.X.shape[0], *[args.width] * args.layers, data.classes]
    activations: tuple[Activation, ...] = (network.activation,) * args.layers + ("softmax",)
    rng = np.random.default_rng(args.seed + 1)  # each network's own: its parameters, then its permutations
    params = initialize_parameters(sizes, rng, scheme=network.init, dtype=np.float32)
    m = data.X.shape[1]
    steps_per_epoch = -(-m // args.batch_size)
    every = args.every or max(1, steps_per_epoch * args.epochs // 200)
    log: list[StepStatistics] = []
    X_seen = data.X_test[:, :HISTOGRAM_SAMPLES]

    def hidden_outputs(p: dict[str, FloatArray]) -> tuple[FloatArray, ...]:
        _, caches = forward_propagation(X_seen, p, activations)
        return tuple(cache.A for cache in caches[:-1])

    snapshots = [(0, hidden_outputs(params))] if 0 in args.histogram_epochs else []
    state = None
    for state in train_epochs(
        data.X, one_hot(data.y, data.classes, dtype=np.float32), params, activations=activations,
        loss="categorical_cross_entropy", epochs=args.epochs, learning_rate=args.learning_rate,
        batch_size=args.batch_size, rng=rng, on_batch=layer_statistics_observer(log.append, every=every),
    ):  # fmt: skip
        if state.epoch in args.histogram_epochs:
            snapshots.append((state.epoch, hidden_outputs(state.params)))
        print(f"  epoch {state.epoch}: cost {state.history[-1].cost:.4f}, accuracy {state.history[-1].accuracy:.4f}", flush=True)
    assert state is not None
    test_accuracy = float(np.mean(predict(data.X_test, state.params, activations) == data.y_test))
    steps = np.array([(s.progress.epoch - 1) * s.progress.steps + s.progress.step for s in log], dtype=np.float64)
    norms = np.array([[layer.gradient_norm for layer in s.layers] for s in log], dtype=np.float64)
    return Result(network, steps, norms, tuple(log), tuple(snapshots), test_accuracy)


def summary_of(result: Result) -> dict[str, object]:
    """The figures of one run: the gradient norms of layer 1 and of the last hidden layer.

    Their ratio is ``None`` (``null`` in the JSON) when the last hidden layer's first gradient
    is 0, as it is when every one of its ReLU units is dead on that batch.
    """
    first, last = result.statistics[0], result.statistics[-1]
    hidden = len(first.layers) - 1
    below = first.layers[hidden - 1].gradient_norm
    return {
        "network": result.network.label,
        "test_accuracy": result.test_accuracy,
        "first_recorded_step": int(result.steps[0]),
        "last_recorded_step": int(result.steps[-1]),
        "gradient_norm_first": [layer.gradient_norm for layer in first.layers],
        "gradient_norm_last": [layer.gradient_norm for layer in last.layers],
        f"layer_1_over_layer_{hidden}_first": first.layers[0].gradient_norm / below if below > 0 else None,
        "saturated_fraction_first": [layer.saturated_fraction for layer in first.layers[:hidden]],
        "saturated_fraction_last": [layer.saturated_fraction for layer in last.layers[:hidden]],
        "dead_fraction_last": [layer.dead_fraction for layer in last.layers[:hidden]],
    }


OUTPUTS: Final = ("vanishing_gradients.png", "activation_histograms.png", "vanishing_gradients.json")


def main(argv: Sequence[str] | None = None) -> int:
    """Train, measure and draw; a user's mistake is one ``error:`` line and status 2."""
    return _cli.run_main(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    args = parse_args(argv)
    _cli.check_output_dir(args.out, OUTPUTS, overwrite=args.overwrite)  # before training, not after
    _cli.check_plotting()
    started = time.perf_counter()
    data = load_data(args)
    steps = -(-data.X.shape[1] // args.batch_size) * args.epochs
    if args.every is not None and args.every > steps:  # nothing would be recorded: refuse before training
        raise _cli.UsageError(
            f"--every {args.every} exceeds the {_cli.counted(steps, 'step')} of the run ({data.X.shape[1]} samples in batches of "
            f"{args.batch_size}, {_cli.counted(args.epochs, 'epoch')}): nothing would be recorded; give at most --every {steps}"
        )
    _cli.make_output_dir(args.out)
    sizes = "-".join(map(str, [data.X.shape[0], *[args.width] * args.layers, data.classes]))
    print(f"{data.name}: {data.X.shape[1]} training samples, {sizes}, batches of {args.batch_size}, "
          f"learning rate {args.learning_rate:g}, {_cli.counted(args.epochs, 'epoch')}")  # fmt: skip
    results = []
    for network in NETWORKS:
        print(network.label, flush=True)
        with _cli.naming_options("--learning-rate"):
            results.append(run_network(network, data, args))
        print(f"  test accuracy {results[-1].test_accuracy:.4f}", flush=True)

    from functional_nn.plots import ActivationSnapshot, HistogramColumn, LayerSeries, plot_activation_histograms, plot_layer_series

    figure = plot_layer_series(
        [LayerSeries(f"{r.network.label}\ntest accuracy {r.test_accuracy:.1%}", r.steps, r.gradient_norms) for r in results],
        args.out / "vanishing_gradients.png", ylabel="$\\|dW_l\\|$ (Frobenius norm)", smooth=5,
        title=f"Gradient norm per layer while training {sizes} on {data.name}",
    )  # fmt: skip
    histograms = plot_activation_histograms(
        [
            HistogramColumn(
                r.network.label, [ActivationSnapshot(f"epoch {e}", A) for e, A in r.snapshots],
                ACTIVATIONS[r.network.activation].output_range,
            )  # fmt: skip
            for r in results
        ],
        args.out / "activation_histograms.png",
        title=f"Hidden layers' outputs on {HISTOGRAM_SAMPLES} test samples",
    )
    summary = {
        "data": args.data, "layer_sizes": sizes, "epochs": args.epochs, "batch_size": args.batch_size,
        "learning_rate": args.learning_rate, "seconds": round(time.perf_counter() - started, 1),
        "networks": [summary_of(r) for r in results],
    }  # fmt: skip
    summary_path = args.out / "vanishing_gradients.json"
    with atomic_write(summary_path) as handle:  # never half a file; a read-only one is refused
        handle.write((json.dumps(summary, indent=1) + "\n").encode())
    for r in results:
        norms = ", ".join(f"{v:.2g}" for v in r.gradient_norms[0])
        print(f"{r.network.label}: ||dW_l|| at step {int(r.steps[0])} = {norms}; test accuracy {r.test_accuracy:.4f}")
    print(f"wrote {figure}, {histograms} and {summary_path} in {summary['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
