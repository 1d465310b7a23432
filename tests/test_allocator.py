"""functional_nn.allocator: where freed memory goes, measured in this process and in fresh ones."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

from functional_nn import allocator

STEP_PAGES = 3 * 4 * 2**20 // os.sysconf("SC_PAGE_SIZE")
"""The pages of one step's arrays in ``page_faults_of_ten_steps``."""


def page_faults_of_ten_steps() -> int:
    """This process's minor page faults over ten steps of a training step's pattern: three 4 MB
    arrays made, used and freed together (after two steps, past glibc's first adjustments of
    its thresholds). ``test_distributed`` runs it on a worker."""
    import resource

    def step() -> float:
        arrays = [np.ones(2**20, dtype=np.float32) for _ in range(3)]  # three 4 MB arrays, every page written
        return sum(float(a[0]) for a in arrays)

    for _ in range(2):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        step()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


_FAULTS_OF_FRESH_ARRAYS = """
import sys
from functional_nn.allocator import keep_freed_memory
from test_allocator import page_faults_of_ten_steps
if sys.argv[1] == "keep":
    assert keep_freed_memory()
print(page_faults_of_ten_steps())
"""


def _printed_by(script: str, mode: str, **environment: str) -> str:
    """The last line ``script`` prints, run as ``python -c script mode`` in a fresh process
    with ``environment`` and none of glibc's ``MALLOC_`` variables but those given."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", script, mode], capture_output=True, text=True, timeout=120, check=True,
        env={**env, **environment}, cwd=Path(__file__).parent,  # python -c puts the current folder on sys.path: this module imports
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


def _page_faults_of_ten_steps(mode: str) -> int:
    return int(_printed_by(_FAULTS_OF_FRESH_ARRAYS, mode))


def test_keep_freed_memory_stops_the_page_faults_of_fresh_arrays() -> None:
    assert platform.libc_ver()[0] == "glibc"  # the machines this project runs on
    default = _page_faults_of_ten_steps("default")
    kept = _page_faults_of_ten_steps("keep")
    assert default > 2 * STEP_PAGES, default  # glibc hands memory back and faults it in again, step after step (~1 array a step)
    assert kept < STEP_PAGES // 4, kept  # the freed blocks serve the next step


def test_freed_memory_goes_back_to_the_system() -> None:
    def resident_mb() -> float:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    assert platform.libc_ver()[0] == "glibc"
    np.ones(30 * 2**20 // 8)  # a freed 30 MB block raises glibc's mmap threshold: 2 MB blocks come from its heap
    blocks = [np.ones(2 * 2**20 // 8) for _ in range(40)]  # 80 MB, touched
    del blocks[::2]  # 40 MB freed between blocks still in use: glibc keeps them for reuse
    before = resident_mb()
    assert allocator.hand_back_freed_memory()
    assert resident_mb() < before - 30, before  # they are back with the system


_PROBE = """
import sys
from functional_nn import allocator
if sys.argv[1] == "keep":
    assert allocator.keep_freed_memory()
print(allocator.freed_memory_returned())
"""


def _probed(mode: str, **environment: str) -> str:
    return _printed_by(_PROBE, mode, **environment)


def test_freed_memory_returned_tells_dasks_nanny_setting_from_glibcs_own_and_from_keep_freed_memory() -> None:
    assert platform.libc_ver()[0] == "glibc"
    assert _probed("default") == "False"  # glibc's thresholds learn to keep 2 MiB blocks
    # what Dask's nannies set: a fixed mmap threshold of 128 kB, each block mapped afresh
    assert _probed("default", MALLOC_TRIM_THRESHOLD_="65536") == "True"
    # any value fixes the thresholds, so even a large one returns 2 MiB blocks
    assert _probed("default", MALLOC_TRIM_THRESHOLD_=str(2**30)) == "True"
    assert _probed("keep", MALLOC_TRIM_THRESHOLD_="65536") == "False"  # mallopt, later, wins
