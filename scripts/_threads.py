"""``--threads N`` for the scripts, read before NumPy loads: the BLAS reads its thread
variables once, when it is loaded, so they must be set before ``import numpy``.

This module imports nothing heavy on purpose; a script does, before any other import::

    if __name__ == "__main__":
        _threads.pin_blas_threads(_threads.threads_from_argv(sys.argv[1:]))

Only the full spelling is read here, so such a script's parser takes no abbreviations
(``argparse.ArgumentParser(..., allow_abbrev=False)``): ``--thread 1`` is refused by argparse
rather than taken too late, after NumPy has loaded with every core.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def usable_cores() -> int:
    """The cores this process may run on, the scripts' "every core": its CPU affinity where the
    system keeps one (Linux: ``taskset``, a Slurm job's or a container's cpuset), as OpenBLAS
    counts them (Dask, for a local cluster's workers, also heeds a container's CPU quota),
    else ``os.cpu_count()``; 1 if neither is known. A job given 4 cores of a 64-core node
    gets 4 threads and 4 workers by default, not 64."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        try:
            return len(affinity(0)) or 1
        except OSError:
            pass
    return os.cpu_count() or 1


def load_average() -> float | None:
    """The machine's load average over the last minute, ``None`` where the system keeps none
    (``os.getloadavg`` is Unix only: not on Windows)."""
    getloadavg = getattr(os, "getloadavg", None)
    if getloadavg is None:
        return None
    try:
        return float(getloadavg()[0])
    except OSError:  # "if the load average was unobtainable"
        return None


def threads_from_argv(argv: Sequence[str]) -> int | None:
    """The ``N`` of ``--threads N`` or ``--threads=N`` in ``argv``, the last one given, as
    argparse takes it; ``None`` if absent or not a positive integer (argparse reports a bad
    value later, in the script's own voice)."""
    last: str | None = None
    for i, argument in enumerate(argv):
        if argument.startswith("--threads="):
            last = argument.split("=", 1)[1]
        elif argument == "--threads" and i + 1 < len(argv):
            last = argv[i + 1]
    if last is None:
        return None
    try:
        count = int(last)  # as argparse's type, _cli.positive_int, reads it: "+2" and " 2" are 2
    except ValueError:
        return None
    return count if count > 0 else None


def pin_blas_threads(threads: int | None) -> None:
    """Set every BLAS and OpenMP thread variable to ``threads``; ``None`` leaves them alone
    (the BLAS then uses every core)."""
    if threads is not None:
        for variable in THREAD_VARIABLES:
            os.environ[variable] = str(threads)


def pinned_threads(threads: int | None) -> AbstractContextManager[object]:
    """Pin the loaded BLAS to ``threads`` with threadpoolctl when it is installed, for a ``with``
    block; ``None`` pins nothing.

    Run as a script, the environment variables set before NumPy loaded have pinned it
    already; this also pins it when a script's ``main`` is called from Python, after NumPy is
    loaded. Without threadpoolctl (the ``bench`` extra) that call runs on every core.
    """
    if threads is None:
        return nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext()
    limits: AbstractContextManager[object] = threadpool_limits(limits=threads)
    return limits
