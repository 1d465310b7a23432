"""functional_nn.allocator: where freed memory goes, measured in this process and in fresh ones."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import numpy as np

from functional_nn import allocator

# A training step's pattern: a few arrays of some MB made, used, and freed together.
_FAULTS_OF_FRESH_ARRAYS = """
import resource, sys
import numpy as np
from functional_nn.allocator import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
def step():
    arrays = [np.ones(2**20, dtype=np.float32) for _ in range(3)]  # three 4 MB arrays
    return sum(float(a[0]) for a in arrays)
step(), step()  # past glibc's first adjustments of its thresholds
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _page_faults_of_ten_steps(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _FAULTS_OF_FRESH_ARRAYS, mode], capture_output=True, text=True, timeout=120, check=True
    )
    return int(done.stdout.strip().splitlines()[-1])


def test_keep_freed_memory_stops_the_page_faults_of_fresh_arrays() -> None:
    assert platform.libc_ver()[0] == "glibc"  # the machines this project runs on
    pages = 3 * 4 * 2**20 // os.sysconf("SC_PAGE_SIZE")  # one step's arrays
    default = _page_faults_of_ten_steps("default")
    kept = _page_faults_of_ten_steps("keep")
    assert default > 2 * pages, default  # glibc hands memory back and faults it in again, step after step (~1 array a step)
    assert kept < pages // 4, kept  # the freed blocks serve the next step


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
    env = {key: value for key, value in os.environ.items() if not key.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, timeout=120, check=True, env={**env, **environment}
    )
    return done.stdout.strip().splitlines()[-1]


def test_freed_memory_returned_tells_dasks_nanny_setting_from_glibcs_own_and_from_keep_freed_memory() -> None:
    assert platform.libc_ver()[0] == "glibc"
    assert _probed("default") == "False"  # glibc's thresholds learn to keep 2 MiB blocks
    # what Dask's nannies set: a fixed mmap threshold of 128 kB, each block mapped afresh
    assert _probed("default", MALLOC_TRIM_THRESHOLD_="65536") == "True"
    # any value fixes the thresholds, so even a large one returns 2 MiB blocks
    assert _probed("default", MALLOC_TRIM_THRESHOLD_=str(2**30)) == "True"
    assert _probed("keep", MALLOC_TRIM_THRESHOLD_="65536") == "False"  # mallopt, later, wins
