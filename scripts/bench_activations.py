"""Time every built-in activation's forward and backward pass, side by side in one run.

    python scripts/bench_activations.py --shape 1024 256 --repeats 50

Also times two other ways to get GELU's erf, for the README's choice: ``np.frompyfunc``
over ``math.erf`` (exact, one Python call per element) and the tanh approximation (another
function). Prints the median milliseconds per call and the ratio to ``relu``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np

import _cli  # scripts/_cli.py: the command line's value types
from functional_nn.activations import ACTIVATIONS
from functional_nn.types import FloatArray

_ERF = np.frompyfunc(math.erf, 1, 1)  # an object-array ufunc


def gelu_frompyfunc(Z: FloatArray) -> FloatArray:
    # asarray: NumPy 2.5's stubs type a frompyfunc ufunc's result as a scalar or an object array
    erf: FloatArray = np.asarray(_ERF(Z * (1 / math.sqrt(2)))).astype(Z.dtype)
    return Z * 0.5 * (1 + erf)


def gelu_tanh_approximation(Z: FloatArray) -> FloatArray:
    inner = Z * Z
    inner *= 0.044715
    inner += 1
    inner *= Z
    inner *= math.sqrt(2 / math.pi)
    np.tanh(inner, out=inner)
    inner += 1
    inner *= Z
    inner *= 0.5
    return inner


def median_ms(function: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the program; a user's mistake or Ctrl-C is one ``error:`` line, never a traceback."""
    return _cli.run_main(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", type=_cli.positive_int, nargs=2, default=(1024, 256), metavar=("N_L", "M"), help="(n_l, m) of Z (default 1024 256)")
    parser.add_argument("--repeats", type=_cli.positive_int, default=30, help="calls timed per function (default 30)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float64", help="default: float64")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    Z = rng.standard_normal(tuple(args.shape)).astype(args.dtype)
    dA = rng.standard_normal(tuple(args.shape)).astype(args.dtype)
    rows: list[tuple[str, float, float | None]] = []  # backward None: a forward-only alternative
    for record in ACTIVATIONS.values():
        A = record.forward(Z)
        rows.append((record.name, median_ms(lambda: record.forward(Z), args.repeats), median_ms(lambda: record.backward(dA, Z, A), args.repeats)))
    rows.append(("gelu via frompyfunc(math.erf)", median_ms(lambda: gelu_frompyfunc(Z), max(3, args.repeats // 10)), None))
    rows.append(("gelu, tanh approximation", median_ms(lambda: gelu_tanh_approximation(Z), args.repeats), None))
    relu = rows[[r[0] for r in rows].index("relu")][1]
    print(f"Z {tuple(args.shape)} {args.dtype}, median of {args.repeats} calls")
    print(f"{'activation':32} {'forward ms':>10} {'x relu':>7} {'backward ms':>11}")
    for label, forward_ms, backward_ms in rows:
        print(f"{label:32} {forward_ms:10.2f} {forward_ms / relu:7.1f} " + (f"{backward_ms:11.2f}" if backward_ms is not None else f"{'-':>11}"))
    print("-: forward only, timed for the choice of erf; the library's gelu above has the backward pass")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
