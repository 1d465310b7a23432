"""Optimizers, dropout, max-norm and learning-rate schedules compared on MNIST.

Every run trains the same network from the same initial parameters (drawn from
``default_rng(seed)``, which then shuffles the mini-batches and draws the dropout masks) on
MNIST's 50,000 training images, watches the 10,000 dev images after every epoch, and keeps
the parameters of its best dev epoch (``EarlyStopping`` with a patience as long as the run,
so it only tracks the best); the test accuracy is measured once, with those parameters.

``--preset compare`` (the default) runs two experiments:

1. SGD vs momentum (heavy ball and Nesterov) vs Adam, the same network and ``--epochs``
   epochs each (default 5): the dev accuracy after the last epoch.
2. Adam, then Adam with a cosine schedule (linear warm-up), then Adam with the schedule and
   dropout on the hidden layers, ``--reg-epochs`` epochs each: the test accuracy of the best
   dev epoch.

``--preset best`` trains one wider, deeper network in the spirit of Srivastava et al. 2014
(3 x 1024 ReLU, dropout, max-norm): ``--epochs`` epochs (default 50), Nesterov momentum
(or ``--best-optimizer adam``) with a cosine schedule. Its dropout acts on hidden layers
only: the paper also dropped 20% of the input pixels, which this script does not do (the
library can: ``input_keep_prob``, as in ``train_mnist.py --input-keep-prob 0.8``).

    python scripts/compare_optimizers.py
    python scripts/compare_optimizers.py --epochs 5 --reg-epochs 20 --hidden 512,256
    python scripts/compare_optimizers.py --preset best --epochs 100

The script prints one line per epoch, a table, and a final line of JSON with every figure.

Measured on a 2-core machine shared with other jobs (seed 0, float32, batch 128; seconds
vary several-fold with the load; 2026-11-22, on the AVX2 kernels the AMD host pins: today's
code gives SGD 96.97% on both kinds of kernels, and on OpenBLAS's SkylakeX kernels momentum 96.97%,
Nesterov 96.98% and Adam 97.66%; the dropout run's masks came from float draws, which 16-bit
draws have since replaced):

- 784-256-128-10, 5 epochs, dev accuracy: SGD 0.1 97.01%, momentum 0.01 96.89%, Nesterov
  0.01 96.97%, Adam 1e-3 97.67%; with ``--lr momentum=0.05 --lr nesterov=0.05``: momentum
  97.70%, Nesterov 97.68% (RMSProp 1e-3 97.67%, AdamW 1e-3 97.55%).
- 15 epochs, test accuracy of the best dev epoch: Adam 97.65%, Adam + cosine 98.25%,
  Adam + cosine + dropout 0.8 98.44% (15 s on a quiet machine).
- ``--preset best``: 98.68% test after 70 epochs (best dev epoch 56; 1,814 s under load),
  98.63% after 100 (960 s), 98.65% with ``--best-optimizer adam`` after 50 (390 s).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from typing import Final, Literal, NamedTuple, TypeGuard, get_args

import numpy as np

import _cli  # scripts/_cli.py: a user's mistakes as one error line

from functional_nn.data import one_hot
from functional_nn.data.mnist import MNIST, load_mnist
from functional_nn.initializers import initialize_parameters
from functional_nn.metrics import accuracy
from functional_nn.optimizers import LearningRate, Optimizer, adam, adamw, momentum, rmsprop, sgd
from functional_nn.propagation import predict
from functional_nn.schedules import cosine_decay
from functional_nn.training import EarlyStopping, train_epochs
from functional_nn.types import Activation, FloatDType

OptimizerName = Literal["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"]
Preset = Literal["compare", "best"]

DEFAULT_LEARNING_RATES: Final[dict[OptimizerName, float]] = {
    "sgd": 0.1,
    "momentum": 0.01,
    "nesterov": 0.01,
    "rmsprop": 1e-3,
    "adam": 1e-3,
    "adamw": 1e-3,
}
"""Momentum's velocity sums gradients, so its 0.01 with beta 0.9 moves like SGD's 0.1."""

N_CLASSES: Final = 10


def is_optimizer_name(value: str) -> TypeGuard[OptimizerName]:
    return value in get_args(OptimizerName)


def make_optimizer(name: OptimizerName, learning_rate: LearningRate) -> Optimizer:
    """The optimizer ``name`` with its default hyperparameters and this learning rate."""
    if name == "sgd":
        return sgd(learning_rate)
    if name == "momentum":
        return momentum(learning_rate, 0.9)
    if name == "nesterov":
        return momentum(learning_rate, 0.9, nesterov=True)
    if name == "rmsprop":
        return rmsprop(learning_rate)
    if name == "adam":
        return adam(learning_rate)
    return adamw(learning_rate, weight_decay=1e-2)


class RunSpec(NamedTuple):
    """One training run of an experiment."""

    label: str
    optimizer: Optimizer
    epochs: int
    rate_option: str  # the option that sets its learning rate, as the advice of a run that diverged names it
    keep_probs: float | None = None
    max_norm: float | None = None


class RunResult(NamedTuple):
    """What a run reached. ``test_accuracy`` is that of the best dev epoch's parameters."""

    label: str
    optimizer: str
    hyperparameters: dict[str, float]
    keep_probs: float | None
    max_norm: float | None
    epochs: int
    seconds: float
    dev_accuracy: float
    best_dev_accuracy: float
    best_epoch: int
    test_accuracy: float
    dev_accuracies: tuple[float, ...]


def run(
    spec: RunSpec,
    data: MNIST,
    hidden: Sequence[int],
    *,
    batch_size: int,
    seed: int,
    dtype: FloatDType,
    log: Callable[[str], None],
) -> RunResult:
    """Train one network on ``data`` as ``spec`` says; time only the training."""
    relu: Activation = "relu"
    softmax: Activation = "softmax"
    activations = (relu,) * len(hidden) + (softmax,)
    rng = np.random.default_rng(seed)
    params = initialize_parameters([data.X_train.shape[0], *hidden, N_CLASSES], rng, scheme="he", dtype=dtype)
    Y = one_hot(data.y_train, N_CLASSES, dtype=dtype)
    Y_dev = one_hot(data.y_dev, N_CLASSES, dtype=dtype)
    start = time.perf_counter()
    state = None
    best_test = math.nan
    for state in train_epochs(
        data.X_train, Y, params, activations=activations, loss="categorical_cross_entropy", epochs=spec.epochs,
        optimizer=spec.optimizer, batch_size=batch_size, rng=rng, dev=(data.X_dev, Y_dev),
        keep_probs=spec.keep_probs, max_norm=spec.max_norm,
        early_stopping=EarlyStopping(patience=spec.epochs, monitor="dev_accuracy"),
    ):  # fmt: skip
        record = state.history[-1]
        if state.best_epoch == state.epoch and state.best_params is not None:
            # logged only, so that a run cut short still tells its figure; selection stays on dev
            best_test = accuracy(predict(data.X_test, state.best_params, activations), data.y_test)
        log(
            f"  {spec.label:<28} epoch {record.epoch:>3}/{spec.epochs}  cost {record.cost:.4f}  "
            f"train acc {record.accuracy:.4f}  dev acc {record.dev_accuracy:.4f}  "
            f"test acc of best dev epoch {state.best_epoch}: {best_test:.4f}  {time.perf_counter() - start:7.1f} s"
        )
    seconds = time.perf_counter() - start
    assert state is not None and state.best_params is not None and state.best_epoch is not None
    test_accuracy = best_test
    dev_accuracies = tuple(float(r.dev_accuracy) for r in state.history if r.dev_accuracy is not None)
    return RunResult(
        label=spec.label,
        optimizer=spec.optimizer.name,
        hyperparameters=dict(spec.optimizer.hyperparameters),
        keep_probs=spec.keep_probs,
        max_norm=spec.max_norm,
        epochs=state.epoch,
        seconds=round(seconds, 1),
        dev_accuracy=dev_accuracies[-1],
        best_dev_accuracy=max(dev_accuracies),
        best_epoch=state.best_epoch,
        test_accuracy=test_accuracy,
        dev_accuracies=dev_accuracies,
    )


def compare_specs(args: argparse.Namespace, steps_per_epoch: int) -> list[tuple[str, list[RunSpec]]]:
    """The two experiments of ``--preset compare``."""
    rates: dict[OptimizerName, float] = args.rates
    first = [RunSpec(name, make_optimizer(name, rates[name]), args.epochs, f"--lr {name}=VALUE") for name in args.optimizers]
    if args.reg_epochs == 0:
        return [(f"optimizers, {_cli.counted(args.epochs, 'epoch')}", first)]
    total = steps_per_epoch * args.reg_epochs
    schedule = cosine_decay(args.peak_lr, decay_steps=total - steps_per_epoch, warmup_steps=steps_per_epoch)
    second = [
        RunSpec(f"adam {rates['adam']:g}", adam(rates["adam"]), args.reg_epochs, "--lr adam=VALUE"),
        RunSpec("adam + cosine", adam(schedule), args.reg_epochs, "--peak-lr"),
        RunSpec(f"adam + cosine + dropout {args.keep_prob:g}", adam(schedule), args.reg_epochs, "--peak-lr", keep_probs=args.keep_prob),
    ]
    return [(f"optimizers, {_cli.counted(args.epochs, 'epoch')}", first), (f"dropout and a schedule, {_cli.counted(args.reg_epochs, 'epoch')}", second)]


def best_specs(args: argparse.Namespace, steps_per_epoch: int) -> list[tuple[str, list[RunSpec]]]:
    """``--preset best``: one long run with dropout, max-norm and a schedule."""
    total = steps_per_epoch * args.epochs
    name = args.best_optimizer
    peak = args.best_lr if args.best_lr is not None else (0.05 if name == "nesterov" else 1e-3)
    schedule = cosine_decay(peak, decay_steps=total - steps_per_epoch, warmup_steps=steps_per_epoch)
    optimizer = make_optimizer(name, schedule)
    label = f"{name} + cosine + dropout {args.keep_prob:g} + max-norm {args.max_norm:g}"
    spec = RunSpec(label, optimizer, args.epochs, "--best-lr", keep_probs=args.keep_prob, max_norm=args.max_norm)
    return [(f"{'x'.join(map(str, args.hidden))} ReLU, {_cli.counted(args.epochs, 'epoch')}", [spec])]


def learning_rates(
    overrides: Sequence[str], optimizers: Sequence[OptimizerName], *, preset: Preset, reg_epochs: int
) -> dict[OptimizerName, float]:
    """The learning rate of every optimizer: the defaults, with ``--lr NAME=VALUE`` in their place.

    A rate no run uses is refused rather than ignored: ``--preset best`` takes its rate from
    ``--best-lr``; ``--preset compare`` uses the rates of ``optimizers`` (``--optimizers``) and,
    when ``reg_epochs > 0``, Adam's for the plain Adam run of the ``--reg-epochs`` experiment.
    """
    rates = dict(DEFAULT_LEARNING_RATES)
    used = set(optimizers) | ({"adam"} if reg_epochs > 0 else set())
    given: dict[str, str] = {}  # name: its --lr, to refuse a second one rather than let the last win
    for item in overrides:
        name, _, value = item.partition("=")
        if not is_optimizer_name(name) or not value:
            raise _cli.UsageError(f"--lr expects NAME=VALUE with NAME in {list(get_args(OptimizerName))}, got {item!r}")
        if name in given:
            raise _cli.UsageError(f"--lr {item}: {name}'s rate is given twice (--lr {given[name]}): give one")
        given[name] = item
        try:
            rates[name] = _cli.positive_float(value)
        except argparse.ArgumentTypeError as error:
            raise _cli.UsageError(f"--lr {item}: {error}") from None
        if preset == "best":
            raise _cli.UsageError(f"--lr {item}: --preset best takes its learning rate from --best-lr, not --lr")
        if name not in used:
            raise _cli.UsageError(
                f"--lr {item}: {name} is not among the optimizers selected (--optimizers {','.join(optimizers)}), "
                f"so its rate would be ignored: add {name} to --optimizers, or leave this --lr out"
            )
    return rates


def optimizer_names(text: str) -> list[OptimizerName]:
    """``--optimizers``: known names, comma-separated, at least one, none empty, none twice."""
    try:
        names = _cli.comma_separated(text, example="sgd,adam")
    except argparse.ArgumentTypeError as error:
        raise _cli.UsageError(f"--optimizers: {error}") from None
    known: list[OptimizerName] = []
    for name in names:
        if not is_optimizer_name(name):
            raise _cli.UsageError(f"--optimizers: unknown optimizer {name!r}; choose from {list(get_args(OptimizerName))}")
        if name in known:  # it would run twice, to the same figures, under the same label
            raise _cli.UsageError(f"--optimizers names {name} twice: each optimizer runs once")
        known.append(name)
    return known


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--preset", choices=get_args(Preset), default="compare", help="experiment (default: compare)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs of the optimizer runs or of --preset best (default: 5; best: 50)")
    parser.add_argument("--reg-epochs", type=int, default=15, help="epochs of the dropout and schedule runs (default: 15; 0: skip them)")
    parser.add_argument("--hidden", type=_cli.positive_ints, default=None, help="hidden sizes (default: 256,128; best: 1024,1024,1024)")
    parser.add_argument("--batch-size", type=int, default=128, help="mini-batch size (default: 128)")
    parser.add_argument("--optimizers", default="sgd,momentum,nesterov,adam", help="optimizers to compare, comma-separated (default: sgd,momentum,nesterov,adam)")
    parser.add_argument(
        "--lr", action="append", default=[], metavar="NAME=VALUE",
        help="learning rate of one optimizer of --optimizers (adam's also sets the plain Adam run of the --reg-epochs experiment); "
        "repeat it for several; not with --preset best, which has --best-lr "
        "(default: sgd=0.1, momentum=0.01, nesterov=0.01, rmsprop=1e-3, adam=1e-3, adamw=1e-3)",
    )  # fmt: skip
    parser.add_argument("--peak-lr", type=float, default=2e-3, help="Adam's peak rate with the cosine schedule (default: 2e-3)")
    parser.add_argument(
        "--best-optimizer", choices=("nesterov", "adam"), default="nesterov", help="optimizer of --preset best (default: nesterov)"
    )
    parser.add_argument("--best-lr", type=float, default=None, help="its peak rate (default: nesterov 0.05, adam 1e-3)")
    parser.add_argument("--keep-prob", type=float, default=None, help="dropout keep probability (default: 0.8; best: 0.5)")
    parser.add_argument("--max-norm", type=float, default=3.5, help="max-norm radius in --preset best (default: 3.5)")
    parser.add_argument("--seed", type=_cli.seed, default=0, help="seed of the one generator of each run (default: 0)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="default: float32")
    args = parser.parse_args(argv)
    best = args.preset == "best"
    refuse_unread_options(parser, args)
    if args.epochs is None:
        args.epochs = 50 if best else 5
    if args.hidden is None:
        args.hidden = (1024, 1024, 1024) if best else (256, 128)
    if args.keep_prob is None:
        args.keep_prob = 0.5 if best else 0.8
    _cli.check_at_least_one(parser, args, "epochs", "batch_size")
    if args.reg_epochs < 0:
        parser.error(f"--reg-epochs must be >= 0 (0: skip the dropout and schedule runs), got {args.reg_epochs}")
    if args.reg_epochs == 1:
        parser.error("--reg-epochs must be 0 or at least 2: the schedule warms up for one epoch, got 1")
    if best and args.epochs < 2:
        parser.error(f"--epochs must be at least 2 with --preset best: the schedule warms up for one epoch, got {args.epochs}")
    if not 0 < args.keep_prob <= 1:
        parser.error(f"--keep-prob must be in (0, 1], got {args.keep_prob}")
    for name in ("peak_lr", "best_lr", "max_norm"):
        value = getattr(args, name)
        if value is not None and not (math.isfinite(value) and value > 0):
            parser.error(f"--{name.replace('_', '-')} must be a finite number > 0, got {value}")
    return args


def refuse_unread_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse an option given a value that no run of the chosen experiment reads (one left at
    its default passes): ``--preset best`` makes one run of its own; ``--preset compare`` has no
    use for the ``--best-*`` options and ``--max-norm``, nor, with ``--reg-epochs 0``, for the
    schedule and dropout of the runs it then skips."""
    def given(*dests: str) -> list[str]:
        return [f"--{dest.replace('_', '-')}" for dest in dests if getattr(args, dest) != parser.get_default(dest)]

    def them(flags: list[str]) -> str:
        return "them" if len(flags) > 1 else "it"

    if args.preset == "best":
        if flags := given("optimizers", "reg_epochs", "peak_lr"):
            parser.error(
                f"{', '.join(flags)} {'have' if len(flags) > 1 else 'has'} no effect with --preset best, "
                f"which makes one --best-optimizer run: leave {them(flags)} out"
            )
        return
    if flags := given("best_optimizer", "best_lr", "max_norm"):
        parser.error(f"{', '.join(flags)} {'apply' if len(flags) > 1 else 'applies'} to --preset best only: add --preset best, or leave {them(flags)} out")
    if args.reg_epochs == 0 and (flags := given("peak_lr", "keep_prob")):
        parser.error(
            f"{', '.join(flags)} {'have' if len(flags) > 1 else 'has'} no effect with --reg-epochs 0, "
            f"which skips the dropout and schedule runs: leave {them(flags)} out"
        )


def table(results: Sequence[RunResult]) -> str:
    header = f"{'run':<40} {'epochs':>6} {'dev acc':>8} {'best dev':>8} {'at':>4} {'test acc':>8} {'seconds':>8}"
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.label:<40} {r.epochs:>6} {r.dev_accuracy:>8.4f} {r.best_dev_accuracy:>8.4f} {r.best_epoch:>4} "
            f"{r.test_accuracy:>8.4f} {r.seconds:>8.1f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, data: MNIST | None = None) -> int:
    """Run the preset; ``data`` replaces MNIST (tests pass a small stand-in). A user's mistake
    is one ``error:`` line and status 2."""
    return _cli.run_main(lambda arguments: _main(arguments, data), argv)


def _main(argv: Sequence[str] | None, data: MNIST | None) -> int:
    args = parse_args(argv)
    args.optimizers = optimizer_names(args.optimizers)  # before the data: a typing mistake costs nothing
    args.rates = learning_rates(args.lr, args.optimizers, preset=args.preset, reg_epochs=args.reg_epochs)
    dtype: FloatDType = np.float32 if args.dtype == "float32" else np.float64

    def log(line: str) -> None:
        print(line, flush=True)

    if data is None:
        data = load_mnist(dtype=dtype, log=log)
    m = data.X_train.shape[1]
    steps_per_epoch = -(-m // args.batch_size)
    experiments = best_specs(args, steps_per_epoch) if args.preset == "best" else compare_specs(args, steps_per_epoch)
    log(f"network 784-{'-'.join(map(str, args.hidden))}-10 ReLU/softmax, batch {args.batch_size}, {args.dtype}, seed {args.seed}")
    summary: list[dict[str, object]] = []
    for title, specs in experiments:
        log(f"\n== {title}")
        results = []
        for spec in specs:
            with _cli.naming_options(spec.rate_option):  # the option of the run that diverged, not every rate option
                results.append(run(spec, data, args.hidden, batch_size=args.batch_size, seed=args.seed, dtype=dtype, log=log))
        log("\n" + table(results))
        summary.append({"experiment": title, "runs": [r._asdict() for r in results]})
    print(
        json.dumps(
            {
                "preset": args.preset,
                "hidden": args.hidden,
                "batch_size": args.batch_size,
                "dtype": args.dtype,
                "seed": args.seed,
                "experiments": summary,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
