"""Where freed memory goes: two explicit calls on the C library's allocator (glibc's), and a measurement.

Every training step of the pure functions makes fresh arrays (``Z``, ``A``, the gradients,
an augmented batch) and frees the last step's. glibc serves blocks above its mmap threshold
(128 kB at first, raised up to 32 MB as such blocks are freed) with fresh pages from the
system, and hands the top of its heap back once more than its trim threshold (twice the
mmap threshold) lies free there; either way the next step's arrays fault their pages in
again, each page zeroed by the kernel. For ``scripts/train_mnist.py --preset best``
(784-1024-1024-10, whose ``dW`` are 3-4 MB) that was 230,000-400,000 page faults an epoch.

Both calls change the whole process, so the library makes them only in processes it starts
for training: a script does, where it knows what the process will do
(``scripts/train_mnist.py`` calls ``keep_freed_memory`` after loading its data), and so does
``distributed.dask_setup`` in the worker processes of ``distributed.local_cluster`` (or of
workers started with ``--preload functional_nn.distributed``). Elsewhere than glibc (macOS, Windows, musl)
they do nothing and return ``False``. ``freed_memory_returned`` measures which way a process
goes, without changing it.
"""

from __future__ import annotations

import ctypes
import mmap
from typing import Any, Final

import numpy as np

_M_TRIM_THRESHOLD: Final = -1  # mallopt's parameter numbers, from glibc's <malloc.h>
_M_MMAP_THRESHOLD: Final = -3

MMAP_THRESHOLD: Final = 32 * 2**20
"""Blocks up to this size come from the heap (32 MB: glibc's own ceiling for the threshold)."""

TRIM_THRESHOLD: Final = 2**30
"""Free memory the heap keeps at its top before handing it back (1 GB: in effect, all of it)."""


def _glibc_function(name: str) -> Any | None:
    try:
        return getattr(ctypes.CDLL(None), name)  # the process's own C library
    except (OSError, AttributeError, TypeError):  # not glibc: no such function
        return None


def keep_freed_memory() -> bool:
    """Keep freed blocks of up to 32 MB in the process for the next step's arrays, instead of
    returning their pages to the system and faulting them in again; ``True`` if the C library
    took the settings (glibc's ``mallopt``: mmap threshold ``MMAP_THRESHOLD``, trim threshold
    ``TRIM_THRESHOLD``).

    What it costs: memory freed by the process stays resident (the peak does not change, the
    resident size no longer falls after it); ``hand_back_freed_memory`` still returns it on
    demand. What it buys, measured here: ``train_mnist.py --preset best`` went from 466,000 and
    815,000 page faults in two epochs to 63,000, and its epochs from 5.0-5.5 s to 4.6-4.8 s
    (the whole 50 epochs, another day-time run each: 195 s against 239 s); the 784-512-256-10
    main job, whose largest fresh array is 1.6 MB, faulted 40% less and ran no faster. Process-wide and permanent: call it from a script, or
    in a process started for training, not from library code that runs in the user's process.
    """
    mallopt = _glibc_function("mallopt")
    if mallopt is None:
        return False
    # mallopt returns 1 on success; setting either value fixes both for the process
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


PROBE_BYTES: Final = 2 * 2**20
"""The block ``freed_memory_returned`` makes and frees: 2 MiB, a hidden layer's ``W`` or a batch's activations."""


def freed_memory_returned() -> bool | None:
    """Whether this process's C library hands a freed 2 MiB block back to the system at once,
    so that the next such array faults its pages in again; ``None`` where the process cannot
    count its page faults (no ``resource`` module, as on Windows).

    Measured, not inferred from settings: an array of ``PROBE_BYTES`` is made, written and
    freed three times (glibc's own thresholds learn from the first frees to keep such blocks),
    then twice more while the process's minor page faults are counted: about two blocks' pages
    when each comes back fresh from the system, next to none when the freed block is reused;
    more than one block's means the memory goes back. That is what Dask's nannies
    cause by starting workers with ``MALLOC_TRIM_THRESHOLD_=65536``: measured here, a sweep on
    such workers took 7.35-8.95 s against 5.78-6.68 s on the same workers started without it.
    ``distributed.check_workers`` runs this on every worker and warns. It sets nothing; like
    any array of that size, its blocks may move glibc's own adaptive thresholds.
    """
    try:
        import resource
    except ImportError:  # not a Unix: no page-fault counts
        return None

    def written_and_freed() -> None:
        block = np.empty(PROBE_BYTES, dtype=np.uint8)
        block.fill(1)  # every page touched, so a fresh one faults in

    for _ in range(3):
        written_and_freed()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(2):
        written_and_freed()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    return faults > PROBE_BYTES // mmap.PAGESIZE


def hand_back_freed_memory() -> bool:
    """Return the memory that freed blocks still hold to the system, where the C library can
    (glibc's ``malloc_trim``); ``True`` if it could.

    glibc keeps freed blocks of up to 32 MB inside the process, and up to 64 MB of them at the
    top of its heap, for reuse. Converting MNIST frees the pickle's float arrays (the dev and
    test sets are 31 MB each): measured here, a first ``load_mnist_pixels`` left 203 MB
    resident, 90 MB after this call. Without it the first run's training would carry them.
    Nothing is changed but where freed memory lives.
    """
    trim = _glibc_function("malloc_trim")
    if trim is None:
        return False
    trim(0)
    return True
