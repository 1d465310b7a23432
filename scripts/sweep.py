"""Train a grid of MNIST settings as independent runs on a Dask cluster, and keep the best.

    python scripts/sweep.py                             # a local cluster, one worker process per core
    python scripts/sweep.py --workers 2
    python scripts/sweep.py --scheduler tcp://HOST:8786   # a running cluster (or DASK_SCHEDULER_ADDRESS)
    python scripts/sweep.py --sequential                # the same runs one after another, in this process

The grid is 3 learning rates x 2 hidden widths x 2 dropout settings of a 784-h-10 ReLU
network trained with Adam in batches of 128 (12 runs, 2 epochs each by default). Each run
is one ``train`` call on one worker (``functional_nn.distributed.sweep``); its result is
bitwise the one the same setting gives alone in one process. A progress bar follows the
finished runs. Writes ``sweep.csv`` (one row per run, in grid order), ``sweep.png`` (dev
accuracy against the learning rate, a line per width and dropout) and the best run's
parameters ``best_params.npz`` into ``--out``; the last line printed is a JSON summary.
A sweep stopped by Ctrl-C or SIGTERM keeps the runs that finished: ``sweep.csv`` with their
rows and ``best_params.npz`` with the best of them (no picture), said in its one error line.
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one BLAS thread here, as in each worker: --sequential runs compare like for like

import argparse
import csv
import io
import itertools
import json
import shutil
import sys
import tempfile
import time
import contextlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import _cli  # scripts/_cli.py: the output folder, and errors as one line
import train_mnist
from functional_nn import fused, plots
from functional_nn import distributed as dist
from functional_nn.data import one_hot, scale_pixels
from functional_nn.data.mnist import ChecksumError, DatasetUnavailableError
from functional_nn.fold_state import TrainState
from functional_nn.optimizers import adam
from functional_nn.serialization import atomic_write, save_parameters
from functional_nn.types import Activation, Loss

if TYPE_CHECKING:
    from distributed import Client

LOSS: Loss = "categorical_cross_entropy"
LEARNING_RATES = (3e-4, 1e-3, 3e-3)
WIDTHS = (64, 256)
KEEP_PROBS = (1.0, 0.8)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help=f"local worker processes (default: one per core; {_cli.per_core_help()})")
    where.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://HOST:8786 (default: DASK_SCHEDULER_ADDRESS if set, else a local cluster)")
    where.add_argument("--sequential", action="store_true", help="run every setting in this process, one after another")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per run (default 2)")
    parser.add_argument("--batch-size", type=int, default=128, help="mini-batch size (default 128)")
    parser.add_argument("--seed", type=_cli.seed, default=0, help="every run's seed: initial parameters, batches, dropout (default 0)")
    parser.add_argument("--subset", type=int, help="train on the first N training samples only, at most those there are (default: all)")
    parser.add_argument("--csv", type=_cli.path, help="a Kaggle digit-recognizer train.csv instead of MNIST (default: MNIST)")
    parser.add_argument("--dev-size", type=int, help="held-out images: for MNIST the last N of its 60,000 training images "
                        "(default 10000), for --csv a random N (default 1000)")
    parser.add_argument("--data-dir", type=_cli.path, help="a folder every worker can read: the data goes there once, "
                        "and each worker loads it (default: a temporary one for a local cluster; none for --scheduler); "
                        "not with --sequential, whose runs read the data in memory")
    parser.add_argument("--dashboard", action="store_true", help="serve the local cluster's dashboard on port 8787")
    parser.add_argument("--out", type=_cli.path, help="output directory (default runs/sweep-<timestamp>, with -2, -3, ... if another sweep took it)")
    parser.add_argument("--overwrite", action="store_true", help="replace the outputs of an earlier sweep in --out")
    args = parser.parse_args(argv)
    _cli.check_at_least_one(parser, args, "workers", "epochs", "batch_size", "subset", "dev_size")
    _cli.check_per_core(parser, "workers", args.workers)
    _cli.check_scheduler(parser, args.scheduler)
    if args.workers is not None:
        _cli.check_local_cluster(parser, f"--workers {args.workers}", instead=", or leave out --workers to sweep on that cluster")
    if args.dashboard and (args.sequential or args.scheduler is not None or os.environ.get(_cli.SCHEDULER_VARIABLE)):
        parser.error("--dashboard serves the dashboard of a local cluster: give it alone or with --workers N, not with --sequential or a scheduler")
    if args.data_dir is not None and args.sequential:  # dist.sweep without a client never reads it
        parser.error(
            "--data-dir has no effect with --sequential: every run then trains in this process on the data in memory, "
            "and only a cluster's workers read --data-dir; leave out one of the two"
        )
    if args.data_dir is not None and args.data_dir.exists() and not args.data_dir.is_dir():
        parser.error(f"--data-dir {args.data_dir} is a file, not a folder: give a folder every worker can read")
    if args.csv is None:
        train_mnist.check_mnist_dev_size(parser, args.dev_size)
    args.idx = None  # train_mnist.load_data's other source
    return args


def grid(epochs: int, batch_size: int, seed: int) -> list[dist.RunSettings]:
    relu: Activation = "relu"
    softmax: Activation = "softmax"
    return [
        dist.RunSettings(
            (784, width, 10), (relu, softmax), LOSS, adam(rate), epochs, seed=seed, batch_size=batch_size,
            keep_probs=keep if keep < 1 else None,
        )  # fmt: skip
        for rate, width, keep in itertools.product(LEARNING_RATES, WIDTHS, KEEP_PROBS)
    ]


def describe(setting: dist.RunSettings) -> dict[str, Any]:
    rate = dict(setting.optimizer.hyperparameters)["learning_rate"]
    keep = setting.keep_probs if isinstance(setting.keep_probs, float) else 1.0
    return {"learning_rate": rate, "hidden": setting.layer_sizes[1], "keep_prob": keep, "epochs": setting.epochs, "seed": setting.seed}


def plot_sweep(path: Path, rows: list[dict[str, Any]]) -> Path:
    figure = plots.new_figure(6.4, 4.2)
    axis = figure.subplots()
    for width, keep in itertools.product(WIDTHS, KEEP_PROBS):
        line = [r for r in rows if r["hidden"] == width and r["keep_prob"] == keep]
        axis.plot([r["learning_rate"] for r in line], [r["dev_accuracy"] for r in line], marker="o",
                  label=f"784-{width}-10" + (f", dropout keep {keep:g}" if keep < 1 else ""))  # fmt: skip
    axis.set_xscale("log")
    axis.set_xlabel("Adam learning rate")
    axis.set_ylabel("dev accuracy")
    axis.set_title(f"{_cli.counted(len(rows), 'run')}, {_cli.counted(rows[0]['epochs'], 'epoch')} each")
    axis.legend(fontsize=8)
    return plots.save_figure(figure, path)


OUTPUTS = ("sweep.csv", "sweep.png", "best_params.npz")


def main(argv: Sequence[str] | None = None) -> int:
    """The sweep, with a user's mistakes reported as one ``error:`` line (see ``_cli``)."""
    return _cli.run_main(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    out: Path = args.out if args.out is not None else Path("runs") / f"sweep-{datetime.now():%Y%m%d-%H%M%S}"
    _cli.check_output_dir(out, OUTPUTS, overwrite=args.overwrite)
    if args.out is None:  # a folder of its own: a sweep started in the same second may have taken this one
        out = _cli.make_new_output_dir(out)
    say: Callable[[str], None] = lambda line: print(line, flush=True)  # noqa: E731
    dtype = np.float32
    try:
        data = train_mnist.load_data(args, dtype, np.random.default_rng(args.seed), say)
    except (DatasetUnavailableError, ChecksumError) as error:
        return _cli.fail(str(error))
    pixels, y = data.X_train, data.y_train
    if args.subset is not None:
        if args.subset > y.size:  # else the runs would quietly train on fewer samples than asked
            raise _cli.UsageError(f"--subset {args.subset} exceeds the {y.size} training samples available: give at most --subset {y.size}")
        pixels, y = pixels[:, : args.subset], y[: args.subset]
    X = scale_pixels(pixels, dtype=dtype)  # the workers' runs take floats
    Y = one_hot(y, 10, dtype=dtype)
    dev = (data.X_dev, one_hot(data.y_dev, 10, dtype=dtype))
    settings = grid(args.epochs, args.batch_size, args.seed)
    bar = train_mnist.ProgressBar(len(settings), "runs", enabled=sys.stderr.isatty(), unit="run")
    finished: dict[int, TrainState] = {}  # kept if the sweep is interrupted
    kept: list[str] = []  # what keep_finished said, once it has written them

    def done(index: int, result: TrainState) -> None:
        finished[index] = result
        bar.update(result.history[-1].cost)

    def interrupted() -> KeyboardInterrupt:
        """What ends a sweep stopped by Ctrl-C or SIGTERM once its finished runs are written (once):
        also after the last run, as a cluster closes or the outputs are written."""
        bar.close()
        if finished and not kept:
            kept.append(keep_finished(out, settings, finished, overwrite=args.overwrite))
        return KeyboardInterrupt(*kept)

    workers = 0
    try:
        with contextlib_client(args) as client:
            if client is not None:
                workers = len(dist.check_workers(client))
            say(f"{_cli.counted(len(settings), 'run')} of {_cli.counted(args.epochs, 'epoch')} on {X.shape[1]} samples, "
                + ("in this process" if client is None else f"on {_cli.counted(workers, 'worker')}"))  # fmt: skip
            if client is None and fused.AVAILABLE:
                fused.warm_up()  # as check_workers does on each worker, so both clocks start warm
            sweep_started = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="sweep-data-", dir=memory_directory(X.nbytes + Y.nbytes)) as local:
                # a local cluster's workers read the data from this machine's disk; a remote
                # cluster's get it from the driver unless --data-dir names a shared directory
                data_dir = args.data_dir if args.data_dir is not None else (local if args.scheduler is None else None)
                try:
                    results = dist.sweep(settings, X, Y, dev=dev, client=client, on_done=done, data_dir=data_dir)
                except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the finished runs are written now, before a cluster closes
                    raise interrupted() from None
            sweep_seconds = time.perf_counter() - sweep_started
    except RuntimeError as error:  # a cluster without workers, or whose workers lack the library
        bar.close()
        return _cli.fail(str(error))
    except KeyboardInterrupt:  # also once every run has finished, as the cluster closes; the bar gone before run_main's error line
        raise interrupted() from None
    bar.close()
    try:
        rows, best = write_results(out, settings, dict(enumerate(results)))
        pictures = ""
        if train_mnist.matplotlib_available():
            plot_sweep(out / "sweep.png", rows)
            pictures = ", sweep.png"
    except KeyboardInterrupt:  # the rows and parameters whole, and no earlier sweep's picture left beside them
        raise interrupted() from None
    say(f"best: {json.dumps(rows[best])}")
    say(f"wrote sweep.csv{pictures}, best_params.npz to {out}")
    summary = {
        "runs": len(rows), "best": best, "best_dev_accuracy": rows[best]["dev_accuracy"], "workers": workers,
        "sweep_seconds": round(sweep_seconds, 2), "seconds": round(time.perf_counter() - started, 2), "out": str(out),
    }  # fmt: skip
    print(json.dumps(summary), flush=True)
    return 0


def write_results(out: Path, settings: Sequence[dist.RunSettings], results: Mapping[int, TrainState]) -> tuple[list[dict[str, Any]], int]:
    """Write ``sweep.csv`` (a row per run of ``results``, keyed by its place in ``settings``, in
    grid order) and the best run's ``best_params.npz`` into ``out``, made if missing; return
    the rows and the best one's place among them (the first of those tied for the best)."""
    _cli.make_output_dir(out)
    indices = sorted(results)
    rows = []
    for i in indices:
        last = results[i].history[-1]
        rows.append({**describe(settings[i]), "train_cost": last.cost, "train_accuracy": last.accuracy,
                     "dev_cost": last.dev_cost, "dev_accuracy": last.dev_accuracy})  # fmt: skip
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    with atomic_write(out / "sweep.csv") as handle:  # never half a file, and a read-only one is refused
        handle.write(table.getvalue().encode())
    best = max(range(len(rows)), key=lambda i: (rows[i]["dev_accuracy"], -i))
    save_parameters(
        out / "best_params.npz", results[indices[best]].params,
        metadata={"activations": list(settings[indices[best]].activations), "loss": LOSS, "config": rows[best], "dev_accuracy": rows[best]["dev_accuracy"]},
    )  # fmt: skip
    return rows, best


def keep_finished(out: Path, settings: Sequence[dist.RunSettings], finished: Mapping[int, TrainState], *, overwrite: bool) -> str:
    """Write the outputs of the ``finished`` runs of an interrupted sweep (no picture); return
    what the error line adds to ``interrupted (Ctrl-C)``: how many finished, and where they are."""
    write_results(out, settings, finished)
    if overwrite:  # an earlier sweep's picture would stand beside these rows as if it were theirs
        (out / "sweep.png").unlink(missing_ok=True)
    kept = len(finished)
    which = "the 1 finished is" if kept == 1 else f"the {kept} finished are"
    return f"after {kept} of {len(settings)} runs: {which} in {out / 'sweep.csv'} and {out / 'best_params.npz'}"


def memory_directory(nbytes: int) -> str | None:
    """``/dev/shm`` if this machine has it with room for twice ``nbytes``, else ``None`` (the usual temporary directory).

    Files there live in memory, shared by the workers that map them: writing MNIST there
    took 0.11 s against 0.03-0.6 s into a temporary directory on disk (measured here).
    """
    shared = "/dev/shm"
    try:
        if os.access(shared, os.W_OK) and shutil.disk_usage(shared).free > 2 * nbytes:
            return shared
    except OSError:
        pass
    return None


def contextlib_client(args: argparse.Namespace) -> contextlib.AbstractContextManager[Client | None]:
    """The cluster's client for a ``with`` block, or ``None`` with ``--sequential``."""
    if args.sequential:
        return contextlib.nullcontext(None)
    return dist.cluster_client(args.scheduler, n_workers=args.workers, dashboard=args.dashboard)


if __name__ == "__main__":
    sys.exit(main())
