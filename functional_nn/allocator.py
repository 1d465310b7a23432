"""Where freed memory goes: two explicit calls on the C library's allocator (glibc's).

Every training step of the pure functions makes fresh arrays (``Z``, ``A``, the gradients,
an augmented batch) and frees the last step's. glibc serves blocks above its mmap threshold
(128 kB at first, raised up to 32 MB as such blocks are freed) with fresh pages from the
system, and hands the top of its heap back once more than its trim threshold (twice the
mmap threshold) lies free there; either way the next step's arrays fault their pages in
again, each page zeroed by the kernel. For ``scripts/train_mnist.py --preset best``
(784-1024-1024-10, whose ``dW`` are 3-4 MB) that was 230,000-400,000 page faults an epoch.

Both calls change the whole process, so nothing in the library makes them: a script does,
where it knows what the process will do (``scripts/train_mnist.py`` calls
``keep_freed_memory`` after loading its data). Elsewhere than glibc (macOS, Windows, musl)
they do nothing and return ``False``.
"""

from __future__ import annotations

import ctypes
from typing import Any, Final

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
    main job, whose largest fresh array is 1.6 MB, faulted 40% less and ran no faster. Process-wide and permanent: call it from a script, not from library code.
    """
    mallopt = _glibc_function("mallopt")
    if mallopt is None:
        return False
    # mallopt returns 1 on success; setting either value fixes both for the process
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


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
