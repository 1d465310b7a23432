"""Train a digit classifier on MNIST and keep what it learnt: parameters, curves and pictures.

    python scripts/train_mnist.py                     # 784-512-256-10, Adam, affine augmentation: >= 99% test accuracy
    python scripts/train_mnist.py --preset tutorial   # the tutorial's 784-10-10 gradient descent
    python scripts/train_mnist.py --preset best       # 2x1024 ReLU, elastic distortions: 50 epochs
    python scripts/train_mnist.py --csv train.csv     # Kaggle's digit-recognizer file instead
    python scripts/train_mnist.py --idx DIR           # the four official IDX files instead
    python scripts/train_mnist.py --checkpoint        # a checkpoint after every epoch ...
    python scripts/train_mnist.py --resume runs/mnist-20261122-050142   # ... to resume from
    python scripts/train_mnist.py --threads 1         # one BLAS thread, on a busy machine
    python scripts/train_mnist.py --workers 2         # data-parallel on 2 local worker processes (Dask)
    python scripts/train_mnist.py --scheduler tcp://HOST:8786 --local-steps 10   # local SGD on a cluster
    python scripts/train_mnist.py --onnx              # also model.onnx, to run with onnxruntime

Training is the lazy fold ``train_epochs``: the script prints a line per epoch from the
states it yields, and its ``on_batch`` reports move a progress bar over the batches. Writes
``params.npz``, ``history.json``, ``curves.png``, ``confusion.png`` and ``mistakes.png`` into
``--out`` (and ``model.onnx`` with ``--onnx``); the last line printed is a JSON summary. With
``--overwrite``, the earlier run's outputs that this run does not write (its ``model.onnx``,
say) are removed, and the line that names the outputs says so. With ``--checkpoint`` the fold also
writes ``checkpoints/`` there, and ``--resume DIR`` continues such a run, with the command
line it was started with (its ``--threads`` too, unless given again; a relative ``--csv`` or
``--idx`` is read from the folder the run was started in, unless given again: where the data
lies now, once the run or the data has moved), from its last complete checkpoint: the result equals the uninterrupted run's bit for bit (with the same number of
BLAS threads). A run that finished and wrote its outputs is left as it is: there is nothing
to continue.

The matrix products use every core by default. ``--threads N`` pins the BLAS (OpenBLAS, MKL,
BLIS or OpenMP) to ``N`` threads, set before NumPy loads: on cores shared with other jobs a
product waits for its slowest thread, and a thread descheduled by another job stalls every
product (measured on 2 busy cores: 24 s an epoch with two threads, 0.8 s with one), so
``--threads 1`` is the choice on a busy machine; and a run is bitwise reproducible only at
the same number of threads.

Random draws, in order, from ``np.random.default_rng(seed)``: the train/dev split (CSV and
IDX only), the initial parameters, then per mini-batch epoch a permutation and, for each
batch, its augmentation's draws and its dropout masks (the input's first).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import _threads  # scripts/_threads.py: imports nothing heavy

COMMAND_FILE = "command.json"  # in --out: the command line of a --checkpoint run, which --resume continues


def threads_of_resumed_run(argv: Sequence[str]) -> int | None:
    """The ``--threads`` that the run named by ``--resume DIR`` in ``argv`` was started with,
    read from its command file; ``None`` without ``--resume``, or if that file says none or
    cannot be read (``parse_args`` reports it later). Light: it runs before NumPy loads."""
    for i, word in enumerate(argv):
        folder = word.split("=", 1)[1] if word.startswith("--resume=") else None
        if word == "--resume" and i + 1 < len(argv):
            folder = argv[i + 1]
        if folder is not None:
            try:
                saved = json.loads((Path(folder) / COMMAND_FILE).read_text())["argv"]
            except (OSError, ValueError, KeyError, TypeError):
                return None
            return _threads.threads_from_argv(saved) if isinstance(saved, list) and all(isinstance(w, str) for w in saved) else None
    return None


if __name__ == "__main__":  # before NumPy loads; without --threads, every core (the BLAS's default)
    # a resumed run keeps the threads it was started with, unless given others now
    _threads.pin_blas_threads(_threads.threads_from_argv(sys.argv[1:]) or threads_of_resumed_run(sys.argv[1:]))

import argparse
import functools
import importlib.util
import math
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, NamedTuple, cast

import numpy as np

import _cli  # scripts/_cli.py: the output folder, and errors as one line
import functional_nn
from functional_nn import plots
from functional_nn.allocator import keep_freed_memory
from functional_nn.data import one_hot, scale_pixels, train_dev_split
from functional_nn.data.digit_files import UInt8Array, find_idx_files, load_digits_csv, load_idx_digits
from functional_nn.data.mnist import ChecksumError, DatasetUnavailableError, load_mnist_pixels
from functional_nn.averaging import averaged_params, ema
from functional_nn.data.augmentation import Augmentation, compose, elastic_distortion, random_affine, random_shift
from functional_nn.initializers import initialize_parameters
from functional_nn.metrics import confusion_matrix
from functional_nn.optimizers import LearningRate, Optimizer, OptimizerState, adam, momentum, rmsprop, sgd
from functional_nn.propagation import predict_proba
from functional_nn.schedules import cosine_decay
from functional_nn.serialization import atomic_write, save_parameters
from functional_nn.checkpoints import CheckpointError, checkpoint_epoch, latest_checkpoint, load_checkpoint
from functional_nn.training import BatchProgress, TrainingDivergedError, TrainState, train_epochs
from functional_nn.types import Activation, FloatArray, FloatDType, InitScheme, IntArray, Loss, Params

LOSS: Loss = "categorical_cross_entropy"
DTYPES: dict[str, FloatDType] = {"float32": np.float32, "float64": np.float64}
OPTIMIZERS = ("adam", "momentum", "rmsprop", "sgd")
ONNX_EXTRA = 'pip install -e ".[onnx]"'
INPUT_DESCRIPTION = "784 = 28x28 grayscale pixels row by row, scaled to [0, 1], white digit (1) on black (0)"


class Settings(NamedTuple):
    """One run, resolved from a preset and the command line."""

    hidden: tuple[int, ...]
    init: InitScheme
    optimizer: str
    learning_rate: float
    schedule: str  # "cosine": decay to 0 over the run; "constant"
    batch_size: int | None  # None: full-batch gradient descent
    keep_prob: float  # dropout on the hidden layers: each unit kept with this probability; 1: none
    epochs: int
    dtype: str
    seed: int
    print_every: int
    max_norm: float | None = None  # cap on the norm of each unit's incoming weights; None: no cap
    augment: str = "none"  # a name in AUGMENT: how each training batch is distorted
    input_keep_prob: float = 1.0  # dropout on the input pixels: each kept with this probability; 1: none
    ema: float = 0.0  # decay of the moving average of the weights used for dev and test figures; 0: none
    mnist_dev_size: int | None = None  # MNIST's last training images held out for dev figures; None: the published 10,000


PRESETS: dict[str, Settings] = {
    # Adam with a cosine-decayed step, each batch randomly rotated, scaled, sheared and moved:
    # 99.10% on the test set in 30 epochs (median of seeds 0-2; input dropout and weight
    # averaging, --input-keep-prob 0.8 --ema 0.999, measured no better and cost time)
    "default": Settings((512, 256), "he", "adam", 1e-3, "cosine", 128, 1.0, 30, "float32", 0, 1, None, "affine"),
    # wider, every batch elastically distorted (Simard et al. 2003), and trained on 59,000 of
    # the 60,000 training images (1,000 held out): 99.46% test in 50 epochs (99.34% on 50,000)
    "best": Settings((1024, 1024), "he", "adam", 1e-3, "cosine", 128, 1.0, 50, "float32", 0, 1, None, "elastic", 1.0, 0.999, 1000),
    # the tutorial: 784-10-10, W and b uniform in [-0.5, 0.5), full batch, alpha = 0.10, 500 iterations
    "tutorial": Settings((10,), "uniform", "sgd", 0.10, "constant", None, 1.0, 500, "float64", 0, 10),
}


IMAGE_SHAPE = (28, 28)
MNIST_TRAINING_IMAGES = 60_000  # the published training set: load_mnist's train and dev together
_AFFINE: Augmentation = functools.partial(random_affine, image_shape=IMAGE_SHAPE)
_ELASTIC: Augmentation = functools.partial(elastic_distortion, image_shape=IMAGE_SHAPE, alpha=34.0, sigma=4.0)
AUGMENT: dict[str, Augmentation | None] = {
    "none": None,
    "shift": functools.partial(random_shift, image_shape=IMAGE_SHAPE, max_shift=2),
    "affine": _AFFINE,  # rotation up to 10 degrees, scale 0.9-1.1, shear up to 10 degrees, moves up to 2 pixels
    "elastic": _ELASTIC,  # Simard et al.'s alpha 34, sigma 4
    "affine+elastic": compose(_AFFINE, _ELASTIC),
}


class Dataset(NamedTuple):
    """Data in column layout: ``X_*`` ``(784, m_*)``, ``y_*`` ``(m_*,)``. The training images
    stay ``uint8`` pixels, which ``train`` divides by 255 batch by batch (``input_divisor``):
    a quarter of the memory of their floats. So do the test images, scaled only when they are
    scored, 1,024 at a time; the dev images, which ``train`` scores every epoch, are scaled."""

    X_train: UInt8Array
    y_train: IntArray
    X_dev: FloatArray
    y_dev: IntArray
    X_test: UInt8Array | None
    y_test: IntArray | None
    source: str


# --------------------------------------------------------------------------------------------
# command line


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, Settings]:
    """The arguments and the run's ``Settings``: a preset's with the options given over them,
    or, with ``--resume DIR``, those of the run in ``DIR``. A mistake is ``parser.error``'s."""
    parser = _argument_parser()
    args = parser.parse_args(argv)
    args.distributed = any(v is not None for v in (args.workers, args.scheduler, args.local_steps, args.shards)) or bool(
        os.environ.get(_cli.SCHEDULER_VARIABLE)
    )
    _check_cluster_options(parser, args)
    if args.resume is not None:
        return _resumed_run(parser, args)
    args.preset = args.preset or "default"
    settings = _preset_with_overrides(args)
    _check_counts(parser, args, settings)
    if args.dev_size is None and args.csv is None and args.idx is None:
        args.dev_size = settings.mnist_dev_size  # the preset's, unless given
    if args.csv is None and args.idx is None:
        check_mnist_dev_size(parser, args.dev_size)
    _check_rates(parser, args, settings)
    return args, settings


def _argument_parser() -> argparse.ArgumentParser:
    """The options, each with its help; their values are checked once parsed."""
    # no abbreviations: --threads is read before NumPy loads, by its full name only
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False
    )
    # no argparse default: --resume must see a --preset given, even --preset default
    parser.add_argument("--preset", choices=sorted(PRESETS), help="the starting settings (default: default)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--csv", type=_cli.path, help="train on a Kaggle digit-recognizer train.csv, which has no test set (default: MNIST)")
    source.add_argument("--idx", type=_cli.path, metavar="DIR", help="train on the official IDX files in DIR (default: MNIST)")
    parser.add_argument("--dev-size", type=int, help="held-out images: for MNIST the last N of its 60,000 training images (default: the preset's, "
                        "10000; best 1000), "
                        "for --csv / --idx a random N (default 1000 / 10000)")
    parser.add_argument("--epochs", type=int, help="passes over the data, full batch: iterations (default: the preset's, 30; best 50; tutorial 500)")
    parser.add_argument("--hidden", type=_cli.positive_ints, help="hidden layer sizes, e.g. 256,128 (default: the preset's, 512,256; best 1024,1024; tutorial 10)")
    parser.add_argument("--batch-size", type=int, help="mini-batch size; 0 for full-batch gradient descent (default: the preset's, 128; tutorial 0)")
    parser.add_argument("--learning-rate", type=_cli.positive_float, help="the (peak) learning rate (default: the preset's, 1e-3; tutorial 0.1)")
    parser.add_argument("--keep-prob", type=float, help="dropout: the probability of keeping a hidden unit; 1 for none (default: 1)")
    parser.add_argument("--max-norm", type=_cli.non_negative_float, help="cap the norm of each unit's incoming weights; 0 for no cap (default: 0)")
    parser.add_argument("--augment", choices=list(AUGMENT), help="distort each training batch: shifts of up to 2 pixels, "
                        "random affine maps, elastic distortions (alpha 34, sigma 4), or affine then elastic "
                        "(default: the preset's, affine; best elastic; tutorial none)")
    parser.add_argument("--input-keep-prob", type=float, help="dropout on the input: the probability of keeping a pixel; 1 for none (default: 1)")
    parser.add_argument("--ema", type=float, metavar="DECAY", help="evaluate and keep a moving average of the weights with this decay; 0 for none "
                        "(default: the preset's, 0; best 0.999)")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, help="default: the preset's, adam; tutorial sgd")
    parser.add_argument("--schedule", choices=("cosine", "constant"), help="cosine: decay the rate to 0 over the run (default: the preset's, cosine; tutorial constant)")
    parser.add_argument("--seed", type=_cli.seed, help="seed of the one generator, an integer >= 0 (default: 0)")
    parser.add_argument("--dtype", choices=sorted(DTYPES), help="default: the preset's, float32; tutorial float64")
    parser.add_argument("--out", type=_cli.path, help="output directory (default runs/mnist-<timestamp>, with -2, -3, ... if another run took it)")
    parser.add_argument("--checkpoint", action="store_true", help="write a checkpoint after every epoch into OUT/checkpoints, keeping the last two")
    parser.add_argument("--resume", type=_cli.path, metavar="DIR", help="continue the checkpointed run in DIR, with its own settings; "
                        "--csv or --idx with it say where its data lies now, if moved (default: a new run)")
    cluster = parser.add_argument_group("data-parallel training on a Dask cluster (functional_nn.distributed)")
    cluster.add_argument("--workers", type=int, help=f"start a local cluster of N worker processes (default: one per core; {_cli.per_core_help()})")
    cluster.add_argument("--scheduler", metavar="ADDRESS", help="use the running cluster at ADDRESS (default: DASK_SCHEDULER_ADDRESS if set)")
    cluster.add_argument("--local-steps", type=int, metavar="K", help="local SGD: K steps per worker per round (default: synchronous)")
    cluster.add_argument("--shards", type=int, help="data shards (default: one per worker); fixes the result whatever the workers")
    cluster.add_argument("--dashboard", action="store_true", help="serve the local cluster's dashboard on port 8787")
    parser.add_argument("--overwrite", action="store_true", help="replace the outputs of an earlier run in --out")
    parser.add_argument(
        "--threads", type=int, metavar="N",
        help=f"BLAS threads for the matrix products (default: every core; {_cli.per_core_help()}); 1 on a machine busy with other jobs",
    )  # fmt: skip
    parser.add_argument("--onnx", action="store_true", help=f"also write model.onnx beside params.npz ({ONNX_EXTRA})")
    parser.set_defaults(distributed=False)  # set by parse_args from the cluster options; not an option itself
    return parser


def _check_cluster_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse cluster options that contradict each other or the environment, or a cluster run
    with ``--checkpoint`` or ``--resume``."""
    _cli.check_at_least_one(parser, args, "workers", "local_steps", "shards")
    _cli.check_per_core(parser, "workers", args.workers)
    if args.workers is not None and args.scheduler is not None:
        parser.error("give --workers (a local cluster) or --scheduler (a running one), not both")
    _cli.check_scheduler(parser, args.scheduler)
    if args.workers is not None:
        _cli.check_local_cluster(parser, f"--workers {args.workers}", instead=", or leave out --workers to train on that cluster")
    if args.dashboard and (not args.distributed or args.scheduler is not None or os.environ.get(_cli.SCHEDULER_VARIABLE)):
        parser.error("--dashboard serves the dashboard of a local cluster: give it with --workers N, not alone or with --scheduler")
    if args.distributed and (args.checkpoint or args.resume is not None):
        parser.error("--checkpoint and --resume apply to single-process runs (the library's train_rounds checkpoints rounds)")


def _resumed_run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[argparse.Namespace, Settings]:
    """``--resume DIR``: the arguments and settings of the run in ``DIR``, which takes no other
    option but ``--threads`` and where its ``--csv`` or ``--idx`` data lies now."""
    given = [  # the thread count is the machine's, not the run's: it may change on resuming; so is where the data lies
        _flag(parser, dest) for dest, value in vars(args).items()
        if dest not in ("resume", "threads", "csv", "idx") and value != parser.get_default(dest)
    ]  # fmt: skip
    if given:
        parser.error(f"--resume continues the run in {args.resume} with the settings it was started with: drop {', '.join(given)}")
    _check_threads(parser, args)  # given now: this machine's count, not the one the run was started with
    return _resumed_args(parser, args.resume, threads=args.threads, csv=args.csv, idx=args.idx)


def _preset_with_overrides(args: argparse.Namespace) -> Settings:
    """The settings of ``args.preset``, with those given on the command line in their place."""
    overrides: dict[str, Any] = {
        "hidden": args.hidden, "optimizer": args.optimizer, "learning_rate": args.learning_rate,
        "schedule": args.schedule, "keep_prob": args.keep_prob, "epochs": args.epochs, "dtype": args.dtype, "seed": args.seed,
        "augment": args.augment, "input_keep_prob": args.input_keep_prob, "ema": args.ema,
    }  # fmt: skip
    settings = PRESETS[args.preset]._replace(**{key: value for key, value in overrides.items() if value is not None})
    # 0 means "none" for these two, so they are applied after the None-filter above.
    if args.batch_size is not None:
        settings = settings._replace(batch_size=args.batch_size or None)
    if args.max_norm is not None:
        settings = settings._replace(max_norm=args.max_norm or None)
    return settings


def _check_counts(parser: argparse.ArgumentParser, args: argparse.Namespace, settings: Settings) -> None:
    """Refuse a negative batch size, and fewer than one epoch, held-out image or thread."""
    if settings.batch_size is not None and settings.batch_size < 0:  # 0 is full batch: not "must be >= 1"
        parser.error(f"--batch-size must be >= 0 (0: full-batch gradient descent), got {settings.batch_size}")
    for name, value in (("epochs", settings.epochs), ("dev_size", 1 if args.dev_size is None else args.dev_size)):
        if value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    _check_threads(parser, args)


def _check_threads(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse a ``--threads`` below 1 or above ``_cli.per_core_bound()``."""
    _cli.check_at_least_one(parser, args, "threads")
    _cli.check_per_core(parser, "threads", args.threads)


def _check_rates(parser: argparse.ArgumentParser, args: argparse.Namespace, settings: Settings) -> None:
    """Refuse a learning rate, keep probability or averaging decay out of its range, and input
    dropout on a cluster."""
    if not settings.learning_rate > 0:
        parser.error(f"--learning-rate must be > 0, got {settings.learning_rate}")
    if not 0 < settings.keep_prob <= 1:
        parser.error(f"--keep-prob must be in (0, 1], got {settings.keep_prob}")
    if not 0 < settings.input_keep_prob <= 1:
        parser.error(f"--input-keep-prob must be in (0, 1], got {settings.input_keep_prob}")
    if args.distributed and settings.input_keep_prob < 1:  # the rounds draw no input masks
        parser.error("training on a cluster drops no input pixels: leave out --input-keep-prob")
    if not 0 <= settings.ema < 1:
        parser.error(f"--ema must be in [0, 1) (0: no averaging), got {settings.ema}")


def _resumed_args(
    parser: argparse.ArgumentParser, run_dir: Path, *, threads: int | None = None, csv: Path | None = None, idx: Path | None = None
) -> tuple[argparse.Namespace, Settings]:
    """The arguments a checkpointed run in ``run_dir`` was started with, to continue it; its
    relative ``--csv`` or ``--idx`` are read from the folder it was started in (``"cwd"``),
    unless ``csv`` or ``idx`` is given now: where the run's data lies now, on another machine
    or after a move (the checkpoint's digest of the data refuses any other data).
    ``threads``, given now, replaces the run's own ``--threads`` before that is checked: a run
    started with more than this machine takes (``_cli.check_per_core``) resumes with fewer."""
    if not run_dir.is_dir():  # a mistyped folder: said as such, not as a missing command file
        parser.error(f"--resume {run_dir}: no such folder" if not run_dir.exists() else f"--resume {run_dir}: not a folder")
    try:
        command = json.loads((run_dir / COMMAND_FILE).read_text())
        saved = command["argv"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        parser.error(f"--resume {run_dir}: not a run started with --checkpoint (cannot read its {COMMAND_FILE}: {error})")
    started_in = command.get("cwd")  # absent from the command files of earlier versions
    if started_in is not None and not isinstance(started_in, str):
        parser.error(f"--resume {run_dir}: its {COMMAND_FILE} must hold \"cwd\", a folder, got {started_in!r}")
    if not isinstance(saved, list) or not all(isinstance(word, str) for word in saved):
        parser.error(f"--resume {run_dir}: its {COMMAND_FILE} must hold \"argv\", a list of strings, got {saved!r}")
    if "--resume" in {word.split("=")[0] for word in saved}:
        parser.error(f"--resume {run_dir}: its {COMMAND_FILE} must not hold --resume, got {saved}")
    try:
        now = [] if threads is None else [f"--threads={threads}"]  # the last --threads wins
        args, settings = parse_args([*saved, "--out", str(run_dir), "--checkpoint", *now])
    except SystemExit:  # argparse said what is wrong; say where it came from
        print(f"error: (in {run_dir / COMMAND_FILE}, the command line the run was started with: {saved})", file=sys.stderr)
        started_with = None if threads is not None else _threads.threads_from_argv(saved)
        if started_with is not None and started_with > _cli.per_core_bound():  # refused by check_per_core, or will be
            print(
                f"error: to resume it on this machine, pass --threads N now, N at most {_cli.per_core_bound()} "
                f"(every core: --resume {run_dir} --threads {_threads.usable_cores()}); "
                f"the results may then differ in their last bits from those of --threads {started_with}",
                file=sys.stderr,
            )
        raise
    args.resume = run_dir
    given_flag = "--csv" if csv is not None else "--idx" if idx is not None else None
    source = "--csv" if args.csv is not None else "--idx" if args.idx is not None else "MNIST"
    if given_flag is not None and given_flag != source:
        parser.error(f"--resume {run_dir}: the run was started on {source}, not {given_flag}: with --resume, {given_flag} only says where the run's own {given_flag} data lies now")
    for flag, here, recorded in (("--csv", csv, args.csv), ("--idx", idx, args.idx)):
        if here is None and recorded is not None and started_in is not None:
            found = Path(started_in) / recorded
            if not found.exists():  # moved with the run, or the run moved to another machine
                parser.error(
                    f"--resume {run_dir}: the run read {flag} {recorded} in {started_in}, the folder it was started in "
                    f"(its {COMMAND_FILE}), and {found} is not there: give its place now, --resume {run_dir} {flag} PATH"
                )
            here = found
        setattr(args, flag[2:], here if here is not None else recorded)
    return args, settings


def _flag(parser: argparse.ArgumentParser, dest: str) -> str:
    """The option string of ``dest``, as the user types it."""
    return next((a.option_strings[0] for a in parser._actions if a.dest == dest and a.option_strings), dest)


def check_mnist_dev_size(parser: argparse.ArgumentParser, dev_size: int | None) -> None:
    """Refuse a ``--dev-size`` that would hold out all of MNIST's 60,000 training images."""
    if dev_size is not None and dev_size >= MNIST_TRAINING_IMAGES:
        parser.error(f"--dev-size {dev_size} leaves nothing to train on: MNIST has {MNIST_TRAINING_IMAGES:,} training images")


# --------------------------------------------------------------------------------------------
# data


def load_data(args: argparse.Namespace, dtype: FloatDType, rng: np.random.Generator, say: Callable[[str], None]) -> Dataset:
    """MNIST (50k / 10k / 10k), or a Kaggle CSV or IDX files split with ``rng``."""
    if args.csv is not None:
        _cli.check_file_to_read("--csv", args.csv, "the CSV file itself (Kaggle's train.csv)")
        digits = load_digits_csv(args.csv, labelled=True)  # Kaggle's test.csv is refused by name
        assert digits.y is not None
        split = train_dev_split(digits.X, digits.y, _dev_size(args, 1000, digits.y.size), rng)
        return Dataset(
            split.X_train, split.y_train, scale_pixels(split.X_dev, dtype=dtype), split.y_dev,
            None, None, f"{args.csv} ({digits.X.shape[1]} rows)",
        )  # fmt: skip
    if args.idx is not None:
        if not args.idx.is_dir():
            raise _cli.UsageError(f"--idx {args.idx} is not a folder: give the folder that holds the four IDX files")
        train = load_idx_digits(*find_idx_files(args.idx, "train"))
        assert train.y is not None
        split = train_dev_split(train.X, train.y, _dev_size(args, 10_000, train.y.size), rng)
        test = load_idx_digits(*find_idx_files(args.idx, "test"))
        return Dataset(
            split.X_train, split.y_train, scale_pixels(split.X_dev, dtype=dtype), split.y_dev,
            test.X, test.y, f"IDX files in {args.idx}",
        )  # fmt: skip
    mnist = load_mnist_pixels(log=say)
    X_test = mnist.X_test
    dev_size = mnist.y_dev.size if args.dev_size is None else args.dev_size
    images = mnist.y_train.size + mnist.y_dev.size  # 60,000, unless the cache holds other pixels
    if dev_size >= images:  # else the split below would cut from the end and say nothing
        raise _cli.UsageError(f"--dev-size {dev_size} leaves nothing to train on: MNIST has {images:,} training images")
    if dev_size == mnist.y_dev.size:
        X_dev = scale_pixels(mnist.X_dev, dtype=dtype)
        return Dataset(mnist.X_train, mnist.y_train, X_dev, mnist.y_dev, X_test, mnist.y_test, "MNIST")
    # the 60,000 training images in their published order, of which the last dev_size are held
    # out (the usual 50,000 / 10,000 split is dev_size 10,000); stacked as rows, so that the
    # transposed result keeps a sample per contiguous column
    X = np.concatenate([mnist.X_train.T, mnist.X_dev.T]).T
    y = np.concatenate([mnist.y_train, mnist.y_dev])
    cut = y.size - dev_size
    return Dataset(X[:, :cut], y[:cut], scale_pixels(X[:, cut:], dtype=dtype), y[cut:], X_test, mnist.y_test, "MNIST")


def _dev_size(args: argparse.Namespace, default: int, m: int) -> int:
    size: int = default if args.dev_size is None else args.dev_size
    if size >= m:
        given = f"--dev-size {size}" if args.dev_size is not None else f"the default --dev-size {size}"
        raise _cli.UsageError(f"{given} leaves nothing to train on: the file has {m} rows; give a smaller --dev-size")
    return size


# --------------------------------------------------------------------------------------------
# training


def make_optimizer(settings: Settings, steps: int) -> Optimizer:
    """The optimizer named in ``settings``, its rate decayed over ``steps`` updates if asked."""
    rate: LearningRate = settings.learning_rate
    if settings.schedule == "cosine":
        rate = cosine_decay(settings.learning_rate, decay_steps=max(steps, 1))
    makers: dict[str, Callable[[LearningRate], Optimizer]] = {"adam": adam, "momentum": momentum, "rmsprop": rmsprop, "sgd": sgd}
    optimizer = makers[settings.optimizer](rate)
    return ema(optimizer, settings.ema) if settings.ema > 0 else optimizer


class ProgressBar:
    """A tqdm bar over one epoch's batches (or the ``unit`` counted) showing the running loss, or nothing without tqdm."""

    def __init__(self, total: int, description: str, enabled: bool, *, unit: str = "batch") -> None:
        self._bar: Any = None  # Any: tqdm ships no type information
        if enabled and total > 1:
            try:
                from tqdm import tqdm
            except ImportError:
                return
            self._bar = tqdm(total=total, desc=description, unit=unit, leave=False, file=sys.stderr, dynamic_ncols=True)

    def update(self, running_loss: float) -> None:
        if self._bar is not None:
            self._bar.set_postfix(loss=f"{running_loss:.4f}", refresh=False)
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


class BatchBar:
    """Follows ``train_epochs``' ``on_batch`` reports with one ``ProgressBar`` per epoch."""

    def __init__(self, epochs: int, enabled: bool) -> None:
        self._epochs = epochs
        self._enabled = enabled
        self._bar: ProgressBar | None = None

    def __call__(self, progress: BatchProgress) -> None:
        if progress.step == 1:
            self.close()
            self._bar = ProgressBar(progress.steps, f"epoch {progress.epoch}/{self._epochs}", self._enabled)
        if self._bar is not None:
            self._bar.update(progress.cost)
        if progress.step == progress.steps:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def as_floats(X: FloatArray | UInt8Array, dtype: FloatDType) -> FloatArray:
    """``X`` itself if it holds floats, else its pixels scaled by ``scale_pixels``."""
    if X.dtype == np.uint8:
        return scale_pixels(cast(UInt8Array, X), dtype=dtype)
    return cast(FloatArray, X)


def accuracy_of(
    X: FloatArray | UInt8Array, y: IntArray, params: Params, activations: Sequence[Activation], dtype: FloatDType
) -> tuple[float, IntArray, FloatArray]:
    """Accuracy, predicted classes ``(m,)`` and output probabilities ``(10, m)``; ``uint8``
    images are scaled and scored 1,024 at a time, never all at once: their floats would take
    four times their bytes."""
    if X.dtype == np.uint8:
        parts = [predict_proba(as_floats(X[:, i : i + 1024], dtype), params, activations) for i in range(0, X.shape[1], 1024)]
        AL = np.concatenate(parts, axis=1)
    else:
        AL = predict_proba(as_floats(X, dtype), params, activations)
    predicted: IntArray = np.argmax(AL, axis=0)
    return float(np.mean(predicted == y)), predicted, AL


# --------------------------------------------------------------------------------------------
# pictures


def readable_on(background: Sequence[float] | FloatArray) -> str:
    """``"black"`` or ``"white"``, whichever contrasts more with ``background`` (RGB or RGBA in
    [0, 1]) by WCAG 2's relative luminance: at least 4.58:1 on any colour, above WCAG's 4.5:1
    for text. A threshold on the cell's share of the scale gave white on Blues' mid blues, down
    to 3.3:1."""
    srgb = np.asarray(background, dtype=np.float64)[:3]
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    luminance = float(linear @ np.array([0.2126, 0.7152, 0.0722]))
    return "black" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "white"


def plot_confusion(path: Path, counts: IntArray, title: str) -> Path:
    """The 10x10 confusion matrix, true classes down, predicted across, counts in the cells."""
    figure = plots.new_figure(6.2, 5.6)
    axis = figure.subplots()
    shade = np.log1p(counts)  # a log scale, or the diagonal hides every mistake
    image = axis.imshow(shade, cmap="Blues")
    cells = np.asarray(image.cmap(image.norm(shade)), dtype=np.float64)  # each cell's colour as drawn
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            if counts[i, j]:
                colour = readable_on(cells[i, j])
                axis.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=8, color=colour)
    axis.set_xticks(range(10))
    axis.set_yticks(range(10))
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title)
    return plots.save_figure(figure, path)


def plot_mistakes(path: Path, X: FloatArray | UInt8Array, y: IntArray, predicted: IntArray, AL: FloatArray, title: str) -> int:
    """Up to 60 mistakes, the most confident first, as a grid; returns how many are shown."""
    wrong = np.flatnonzero(predicted != y)
    if wrong.size == 0:
        return 0
    shown = wrong[np.argsort(-AL[predicted[wrong], wrong], kind="stable")][:60]
    plots.plot_image_grid(
        as_floats(X[:, shown], np.float32), (28, 28), path, predicted=predicted[shown], labels=y[shown],
        probabilities=AL[predicted[shown], shown], columns=10, title=title,
    )  # fmt: skip
    return int(shown.size)


def _write_text(path: Path, text: str) -> None:
    with atomic_write(path) as handle:  # the usual mode; never half a file
        handle.write(text.encode())


def remove_stale_outputs(out: Path, written: set[str]) -> str:
    """Remove the files of ``OUTPUTS`` in ``out`` that this run did not write (an earlier run's,
    replaced with ``--overwrite``): none of them then describes another network. Returns
    ``"; removed the earlier run's ..."`` for the line that names the outputs, or ``""``."""
    stale = [name for name in OUTPUTS if name not in written and (out / name).is_file()]
    for name in stale:
        (out / name).unlink()
    return f"; removed the earlier run's {', '.join(stale)}" if stale else ""


def matplotlib_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# the run


OUTPUTS = ("params.npz", "model.onnx", "history.json", "curves.png", "confusion.png", "mistakes.png", "checkpoints", COMMAND_FILE)


def main(argv: Sequence[str] | None = None) -> int:
    """Train; a user's mistake is one ``error:`` line and status 2, and leaves no empty folder."""
    return _cli.run_main(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    args, settings = parse_args(argv)
    with _threads.pinned_threads(args.threads):  # when main is called from Python; None pins nothing
        return run(args, settings, argv)


def finished_checkpoint(out: Path, settings: Settings, *, onnx: bool) -> Path | None:
    """The last checkpoint in ``out`` if it is the run's last epoch and the run then wrote its
    outputs (the pictures too, when matplotlib can draw them); else ``None``: there is work left."""
    latest = latest_checkpoint(out / "checkpoints")
    if latest is None:
        return None
    expected = ["params.npz", "history.json", *(["model.onnx"] if onnx else []), *(["curves.png", "confusion.png"] if matplotlib_available() else [])]
    if not all((out / name).is_file() for name in expected) or load_checkpoint(latest).state.epoch < settings.epochs:
        return None
    return latest


class _Network(NamedTuple):
    """The layers of the run: ``sizes`` ``(784, *hidden, 10)``, ReLU hidden layers under a softmax."""

    sizes: tuple[int, ...]
    activations: tuple[Activation, ...]

    @classmethod
    def of(cls, n_x: int, hidden: tuple[int, ...]) -> _Network:
        """``n_x`` inputs, then the ``hidden`` layers, then the 10 classes."""
        relu: Activation = "relu"
        softmax: Activation = "softmax"
        return cls((n_x, *hidden, 10), (relu,) * len(hidden) + (softmax,))


class _Trained(NamedTuple):
    """What following the fold's states leaves."""

    state: TrainState  # the last: parameters, optimizer state and the history of every epoch
    seconds: dict[int, float]  # since training started, by epoch, for the epochs this process ran
    training_seconds: float


class _Scored(NamedTuple):
    """The accuracies of the summary, and the set the pictures show: test if there is one, else dev."""

    summary: dict[str, object]
    name: str  # "test" or "dev"
    X: FloatArray | UInt8Array
    y: IntArray
    predicted: IntArray  # (m,)
    AL: FloatArray  # (10, m)
    accuracy: float


def _epoch_unit(settings: Settings) -> str:
    """What the run counts: ``"iteration"`` for full-batch gradient descent, else ``"epoch"``."""
    return "iteration" if settings.batch_size is None else "epoch"


def run(args: argparse.Namespace, settings: Settings, argv: Sequence[str] | None) -> int:
    """Check the output folder, load the data, train while printing the epochs, then score the
    network and write its outputs; returns the exit status."""
    started = time.perf_counter()
    out = _output_folder(args)
    if args.resume is not None and (finished := finished_checkpoint(out, settings, onnx=args.onnx)) is not None:
        # rewriting it would only lose its timings: the fold has nothing left to run
        _say(f"{out} finished its {_cli.counted(settings.epochs, _epoch_unit(settings))} ({finished.name}) and holds its outputs: nothing to continue, nothing rewritten")
        return 0
    if args.onnx and importlib.util.find_spec("onnx") is None:  # say so now, not after training
        raise _cli.UsageError(f"--onnx needs the onnx package: {ONNX_EXTRA}")
    dtype = DTYPES[settings.dtype]
    rng = np.random.default_rng(settings.seed)
    try:
        data = load_data(args, dtype, rng, _say)
    except (DatasetUnavailableError, ChecksumError) as error:
        return _cli.fail(str(error))
    # from here on every step's fresh arrays reuse the last step's freed memory instead of
    # faulting new pages in (after the data: a first run's conversion hands its memory back)
    keep_freed_memory()
    network = _Network.of(data.X_train.shape[0], settings.hidden)
    m = data.X_train.shape[1]
    if args.shards is not None and args.shards > m:  # said of --shards, and before a cluster is started
        raise _cli.UsageError(f"--shards {args.shards} exceeds the {m} training samples: each shard needs one; give at most --shards {m}")
    batches_per_epoch = 1 if settings.batch_size is None else math.ceil(m / settings.batch_size)
    optimizer = make_optimizer(settings, settings.epochs * batches_per_epoch)
    _say(_banner(data, network, settings))
    params = initialize_parameters(network.sizes, rng, scheme=settings.init, dtype=dtype)
    Y_train = one_hot(data.y_train, 10, dtype=dtype)
    Y_dev = one_hot(data.y_dev, 10, dtype=dtype)
    checkpoint_dir = out / "checkpoints" if args.checkpoint else None
    bar = BatchBar(settings.epochs, enabled=sys.stderr.isatty() and settings.batch_size is not None)
    waited: list[float] = []  # seconds waiting on the cluster, per round
    try:
        states, workers = _epoch_states(args, settings, data, network, params, Y_train, Y_dev, optimizer, rng, bar, checkpoint_dir, waited)
    except (ValueError, CheckpointError, ImportError, ConnectionError, RuntimeError) as error:
        # a checkpoint directory in use or another run's; a cluster that cannot be reached or lacks the library
        return _cli.fail(str(error))
    _cli.make_output_dir(out)  # only now, everything validated; removed again if the run fails before writing
    if checkpoint_dir is not None and args.resume is None:
        _write_command_file(out, argv)
    try:
        trained = _follow_states(states, params, settings, bar, checkpoint_dir, out)
    except TrainingDivergedError as error:
        print(f"error: {str(error).replace('a smaller learning rate', 'a smaller --learning-rate')}", file=sys.stderr)
        return 1
    final = averaged_params(trained.state.optimizer_state, trained.state.params)  # with --ema, the average
    train_accuracy, _, _ = accuracy_of(data.X_train, data.y_train, final, network.activations, dtype)
    data = data._replace(X_train=np.empty((data.X_train.shape[0], 0), np.uint8))  # not needed again: freed before the pictures
    scored = _score_held_out(data, final, trained.state.params, network.activations, dtype, train_accuracy)
    _write_outputs(out, args, settings, data.source, network, final, trained, scored)
    summary = _summary(scored, trained, out, args, started=started, samples=m, workers=workers, waited=waited)
    print(json.dumps(summary), flush=True)
    return 0


def _output_folder(args: argparse.Namespace) -> Path:
    """``--out``, or a new folder ``runs/mnist-<date>-<time>``; refused now if it holds what
    the run would write, before the data and the training: a run is never lost to its output
    folder at the end."""
    out: Path = args.out if args.out is not None else Path("runs") / f"mnist-{datetime.now():%Y%m%d-%H%M%S}"
    # before check_output_dir, whose advice (--overwrite) a folder of checkpoints does not take
    if args.resume is None and (earlier := latest_checkpoint(out / "checkpoints")) is not None:
        raise _cli.UsageError(f"--out {out} holds an earlier run's checkpoints ({earlier.name}): continue it with --resume {out}, or choose another --out")
    _cli.check_output_dir(out, () if args.resume is not None else OUTPUTS, overwrite=args.overwrite, folders=("checkpoints",))
    if args.out is None:  # a folder of its own: a run started in the same second may have taken this one
        out = _cli.make_new_output_dir(out)
    return out


def _say(line: str) -> None:
    """Print ``line`` at once: a run's lines follow its progress, even into a pipe or a file."""
    print(line, flush=True)


def _epoch_states(
    args: argparse.Namespace, settings: Settings, data: Dataset, network: _Network, params: Params, Y_train: FloatArray, Y_dev: FloatArray,
    optimizer: Optimizer, rng: np.random.Generator, bar: BatchBar, checkpoint_dir: Path | None, waited: list[float],
) -> tuple[Iterator[TrainState], int]:  # fmt: skip
    """The lazy fold of the run's epochs, and the number of workers (0: this process alone).

    ``train_epochs`` here, or rounds on a Dask cluster, which connects now and keeps
    ``waited`` up to date with the seconds each round waited on it (``_cluster_training``).
    """
    if args.distributed:
        import _cluster_training  # scripts/_cluster_training.py, here: a single-process run needs no Dask

        return _cluster_training.epoch_states(
            args, settings, scale_pixels(data.X_train, dtype=DTYPES[settings.dtype]), Y_train, (data.X_dev, Y_dev), params, network.activations,
            LOSS, make_optimizer, waited, _say, AUGMENT[settings.augment],
        )  # fmt: skip
    states = train_epochs(
        data.X_train, Y_train, params, activations=network.activations, loss=LOSS, epochs=settings.epochs,
        optimizer=optimizer, batch_size=settings.batch_size, rng=rng, dev=(data.X_dev, Y_dev),
        keep_probs=settings.keep_prob, max_norm=settings.max_norm, on_batch=bar, checkpoint_dir=checkpoint_dir,
        resume=args.resume is not None, augmentation=AUGMENT[settings.augment],
        input_keep_prob=settings.input_keep_prob if settings.input_keep_prob < 1 else None, input_divisor=255,
    )  # fmt: skip
    return states, 0


def _write_command_file(out: Path, argv: Sequence[str] | None) -> None:
    """Keep the command line and its folder in ``out``, for ``--resume`` to continue the run with."""
    command = {"argv": list(sys.argv[1:] if argv is None else argv), "cwd": os.getcwd()}
    _write_text(out / COMMAND_FILE, json.dumps(command) + "\n")


def _banner(data: Dataset, network: _Network, settings: Settings) -> str:
    """The run's first line: the data, the network and how it is trained."""
    return (
        f"{data.source}: {data.X_train.shape[1]} train, {data.X_dev.shape[1]} dev"
        + (f", {data.X_test.shape[1]} test" if data.X_test is not None else "")
        + f" | {'-'.join(map(str, network.sizes))} {'/'.join(network.activations[-2:])}, {settings.init} init, {settings.optimizer}"
        + f" {settings.learning_rate:g} ({settings.schedule}), "
        + (f"dropout keeping {settings.keep_prob:g}, " if settings.keep_prob < 1 else "")
        + (f"max-norm {settings.max_norm:g}, " if settings.max_norm is not None else "")
        + (f"{settings.augment} augmentation, " if settings.augment != "none" else "")
        + (f"input dropout keeping {settings.input_keep_prob:g}, " if settings.input_keep_prob < 1 else "")
        + (f"weights averaged (decay {settings.ema:g}), " if settings.ema > 0 else "")
        + ("full batch" if settings.batch_size is None else f"batches of {settings.batch_size}")
        + f", {_cli.counted(settings.epochs, _epoch_unit(settings))}, {settings.dtype}, seed {settings.seed}"
    )


def _follow_states(
    states: Iterator[TrainState], params: dict[str, FloatArray], settings: Settings, bar: BatchBar,
    checkpoint_dir: Path | None, out: Path,
) -> _Trained:  # fmt: skip
    """Run the lazy fold ``states``, saying every ``print_every``-th epoch and the last.

    A fold resumed from a checkpoint says so first; one that had already finished yields
    nothing, and its state is then the checkpoint's. ``TrainingDivergedError`` and Ctrl-C
    close the progress bar and propagate, Ctrl-C with how to continue a checkpointed run.
    """
    unit = _epoch_unit(settings)
    seconds: dict[int, float] = {}
    state = TrainState(0, params, OptimizerState(0, {}), ())
    resumed: Path | None = None  # the checkpoint a resumed fold starts from
    if checkpoint_dir is not None and (resumed := latest_checkpoint(checkpoint_dir)) is not None:
        _say(f"resuming from {resumed} after {unit} {checkpoint_epoch(resumed)}")  # from its name: the fold loads it
    training_started = time.perf_counter()
    try:
        for state in states:
            seconds[state.epoch] = time.perf_counter() - training_started
            r = state.history[-1]
            # the tutorial counts iterations from 0 and prints at 0, 10, 20, ...
            number = r.epoch - 1 if settings.batch_size is None else r.epoch
            if number % settings.print_every == 0 or r.epoch >= settings.epochs:  # local SGD's last round may end past it
                _say(
                    f"{unit} {number:>3}: cost {r.cost:.4f}, train accuracy {r.accuracy:.4f}, "
                    f"dev cost {r.dev_cost:.4f}, dev accuracy {r.dev_accuracy:.4f}, {seconds[r.epoch]:.1f} s"
                )
    except TrainingDivergedError:
        bar.close()
        raise
    except KeyboardInterrupt:  # Ctrl-C: _cli says so in one line; with checkpoints, also how to go on
        bar.close()
        if checkpoint_dir is not None:  # its command file is written: --resume continues from the last checkpoint, or the start
            latest = latest_checkpoint(checkpoint_dir)
            when = f"after {unit} {checkpoint_epoch(latest)} of {settings.epochs}" if latest is not None else f"before the first {unit}'s checkpoint"
            raise KeyboardInterrupt(f"{when}: continue the run with --resume {out}") from None
        raise
    training_seconds = time.perf_counter() - training_started
    if resumed is not None and not seconds:  # the fold had finished and yielded nothing: it stays there
        state = load_checkpoint(resumed).state
    return _Trained(state, seconds, training_seconds)


def _score_held_out(
    data: Dataset, final: Params, trained: Params, activations: Sequence[Activation], dtype: FloatDType, train_accuracy: float
) -> _Scored:
    """The accuracies of ``final`` on the dev and test sets (and of the ``trained`` parameters,
    when ``final`` is their average), and the predictions of the set the pictures show."""
    dev_accuracy, dev_predicted, dev_AL = accuracy_of(data.X_dev, data.y_dev, final, activations, dtype)
    summary: dict[str, object] = {"train_accuracy": train_accuracy, "dev_accuracy": dev_accuracy}
    if data.X_test is None or data.y_test is None:
        return _Scored(summary, "dev", data.X_dev, data.y_dev, dev_predicted, dev_AL, dev_accuracy)
    test_accuracy, predicted, AL = accuracy_of(data.X_test, data.y_test, final, activations, dtype)
    summary["test_accuracy"] = test_accuracy
    summary["test_errors"] = int(np.count_nonzero(predicted != data.y_test))
    if final is not trained:  # averaging leaves the training itself unchanged: this is the run without it
        summary["test_accuracy_unaveraged"] = accuracy_of(data.X_test, data.y_test, trained, activations, dtype)[0]
    return _Scored(summary, "test", data.X_test, data.y_test, predicted, AL, test_accuracy)


def _write_outputs(
    out: Path, args: argparse.Namespace, settings: Settings, source: str, network: _Network, final: Params, trained: _Trained, scored: _Scored
) -> None:
    """Write ``params.npz`` (``final``, with the run's settings and accuracies), ``model.onnx``
    if asked, ``history.json`` and, with matplotlib, the pictures; remove an earlier run's
    outputs this run does not replace, and say what was written."""
    config = {**settings._asdict(), "preset": args.preset, "data": source, "layer_sizes": list(network.sizes)}
    save_parameters(
        out / "params.npz", final,
        metadata={
            "activations": list(network.activations), "loss": LOSS, "config": config, **scored.summary,
            "input": INPUT_DESCRIPTION,
        },
    )  # fmt: skip
    written = "params.npz"
    kept = {"params.npz", "history.json", "checkpoints", *([COMMAND_FILE] if args.checkpoint else [])}
    if args.onnx:  # the same network, runnable by onnxruntime: input "X" (batch, 784), output (batch, 10)
        functional_nn.export_onnx(final, network.activations, out / "model.onnx", metadata={"input": INPUT_DESCRIPTION})
        written = "params.npz, model.onnx"
        kept.add("model.onnx")
    history = {
        "config": config,
        _epoch_unit(settings) + "s": [{**r._asdict(), "seconds": trained.seconds.get(r.epoch)} for r in trained.state.history],
        "summary": {**scored.summary, "training_seconds": trained.training_seconds},
    }
    _write_text(out / "history.json", json.dumps(history, indent=1) + "\n")
    counts = confusion_matrix(scored.predicted, scored.y, 10)
    curve_title = "-".join(map(str, network.sizes)) + ", " + (
        "one epoch = one full-batch iteration" if settings.batch_size is None else f"batches of {settings.batch_size}"
    )
    if matplotlib_available():
        plots.plot_curves(trained.state.history, out / "curves.png", title=f"{source}: {curve_title}")
        plot_confusion(out / "confusion.png", counts, f"{scored.name} set: accuracy {scored.accuracy:.4f}")
        n_shown = plot_mistakes(
            out / "mistakes.png", scored.X, scored.y, scored.predicted, scored.AL,
            f"{scored.name} mistakes, most confident first ({int(np.count_nonzero(scored.predicted != scored.y))} in all)",
        )  # fmt: skip
        pictures = "curves.png, confusion.png" + (f", mistakes.png ({n_shown} digits)" if n_shown else " (no mistakes to show)")
        kept.update(("curves.png", "confusion.png", *(["mistakes.png"] if n_shown else [])))
        removed = remove_stale_outputs(out, kept)
        _say(f"wrote {written}, history.json, {pictures} to {out}" + removed)
    else:
        removed = remove_stale_outputs(out, kept)
        _say(f"wrote {written} and history.json to {out}{removed}; matplotlib is missing, so no pictures ({_cli.SCRIPTS_EXTRA})")


def _summary(
    scored: _Scored, trained: _Trained, out: Path, args: argparse.Namespace, *, started: float, samples: int, workers: int, waited: Sequence[float]
) -> dict[str, object]:
    """The run's last line, as JSON: the accuracies, the seconds since ``started`` and in
    training, the pace, the cluster's figures, the library's version and the threads."""
    summary = {**scored.summary, "seconds": round(time.perf_counter() - started, 2), "training_seconds": round(trained.training_seconds, 2), "out": str(out)}
    summary["samples_per_second"] = round(samples * len(trained.seconds) / trained.training_seconds) if trained.training_seconds > 0 else None
    if args.distributed:
        summary.update(workers=workers, cluster_wait_seconds=round(sum(waited), 2), rounds=len(waited))
    summary["library_version"] = functional_nn.__version__
    summary["threads"] = args.threads or _threads.usable_cores()
    return summary


if __name__ == "__main__":
    sys.exit(main())
