"""What one synchronous round costs on a local Dask cluster, against parameter count and shard size.

    python scripts/benchmark_rounds.py                 # 2 worker processes, 0.1 / 1 / 10 MB of float64 params
    python scripts/benchmark_rounds.py --workers 2 --shard-sizes 64,512,4096 --rounds 8

For each network 784-h-10 (h chosen for about 0.1, 1 and 10 MB of float64 parameters) and
each shard size ``m_s`` (samples per worker), it times

* ``compute``: one shard's ``gradient_sum`` in this process, one BLAS thread (median of the
  ``--repeats`` after a first one that is dropped, as it may compile the kernels),
* ``round``: a synchronous round on the cluster, one shard per worker (median of the
  rounds' ``waiting`` time: sending the parameters, computing, gathering the sums),

and reports ``overhead = round - compute`` and the shard size at which a round's compute
equals its overhead, ``m* = overhead / (compute / m_s)`` (compute grows linearly with
``m_s``; taken from the largest shard, where the per-sample time is steadiest). The last
line printed is the table as JSON.
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # the workers have one BLAS thread each; so does this process

import argparse
import json
import statistics
import sys
from collections.abc import Sequence

import numpy as np

import _cli  # scripts/_cli.py: the command line's value types
import _threads  # scripts/_threads.py: the load average
from functional_nn import distributed as dist
from functional_nn.data import one_hot
from functional_nn.initializers import initialize_parameters
from functional_nn.types import Activation

HIDDEN_FOR_MB = {0.1: 16, 1.0: 157, 10.0: 1572}  # 784-h-10 in float64: (795 h + 10) * 8 bytes


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help=f"local worker processes (default 2; {_cli.per_core_help()})")
    parser.add_argument("--shard-sizes", type=_cli.positive_ints, default="64,512,4096", help="samples per shard, comma-separated (default 64,512,4096)")
    parser.add_argument("--rounds", type=int, default=8, help="rounds timed per setting, the first two dropped (default 8)")
    parser.add_argument("--repeats", type=int, default=5, help="in-process gradient_sum timings per setting, after one dropped (default 5)")
    args = parser.parse_args(argv)
    if args.rounds < 3:
        parser.error(f"--rounds must be >= 3 (the first two are dropped), got {args.rounds}")
    _cli.check_at_least_one(parser, args, "repeats", "workers")
    _cli.check_per_core(parser, "workers", args.workers)
    _cli.check_local_cluster(parser, "this benchmark")  # it times rounds on a cluster of its own
    twice = _cli.first_repeat(args.shard_sizes)
    if twice is not None:  # it would be timed twice, and count twice in the median overhead
        parser.error(f"--shard-sizes names {twice} twice: each shard size is timed once")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the program; a user's mistake or Ctrl-C is one ``error:`` line, never a traceback."""
    return _cli.run_main(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    args = parse_args(argv)
    relu: Activation = "relu"
    softmax: Activation = "softmax"
    activations = (relu, softmax)
    rng = np.random.default_rng(0)
    rows: list[dict[str, float]] = []
    with dist.cluster_client(n_workers=args.workers) as client:
        load = _threads.load_average()
        print(f"{_cli.counted(args.workers, 'worker')} (local processes); load average {'unknown' if load is None else f'{load:.1f}'} on {os.cpu_count()} cores", flush=True)
        for megabytes, hidden in HIDDEN_FOR_MB.items():
            params = initialize_parameters((784, hidden, 10), rng)
            nbytes = sum(value.nbytes for value in params.values())
            for m_s in args.shard_sizes:
                m = m_s * args.workers
                X = rng.random((784, m))
                Y = one_hot(rng.integers(0, 10, m), 10)
                shards = dist.split_shards(X, Y, args.workers)
                # one shard in this process: a round's waiting time is then its gradient_sum alone; the
                # first is dropped, as the cluster's first rounds are: it may include compiling the kernels
                state = None
                for state in dist.train_rounds(shards[:1], params, activations=activations, loss="categorical_cross_entropy",
                                               rounds=args.repeats + 1, learning_rate=0.01):  # fmt: skip
                    pass
                assert state is not None
                compute = statistics.median(r.waiting for r in state.history[1:])
                placed = dist.place_shards(client, shards)
                state = None
                for state in dist.train_rounds(placed, params, activations=activations, loss="categorical_cross_entropy",
                                               rounds=args.rounds, learning_rate=0.01):  # fmt: skip
                    pass
                assert state is not None
                round_seconds = statistics.median(r.waiting for r in state.history[2:])
                del placed
                row = {"params_mb": round(nbytes / 1e6, 3), "hidden": hidden, "shard_size": m_s,
                       "compute_ms": round(compute * 1e3, 2), "round_ms": round(round_seconds * 1e3, 2),
                       "overhead_ms": round((round_seconds - compute) * 1e3, 2)}  # fmt: skip
                rows.append(row)
                print(json.dumps(row), flush=True)
            largest = [r for r in rows if r["hidden"] == hidden and r["shard_size"] == max(args.shard_sizes)][0]
            per_sample = largest["compute_ms"] / largest["shard_size"]
            overheads = [r["overhead_ms"] for r in rows if r["hidden"] == hidden]
            overhead = statistics.median(overheads)
            print(f"{megabytes:g} MB: overhead {overhead:.1f} ms (median over shard sizes), compute {per_sample * 1e3:.1f} us a sample "
                  f"-> compute equals overhead at about {overhead / per_sample:.0f} samples a shard", flush=True)  # fmt: skip
    print(json.dumps(rows), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
