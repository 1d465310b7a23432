"""A user's review of concurrent use from threads: a web server predicting from a thread
pool and several small networks trained at once in threads. What one thread does must not
reach another: the CPU's subnormal mode of a shared ``subnormals_flushed`` block, and the
process's umask while a file is saved."""

from __future__ import annotations

import os
import stat
import sys
import threading
from pathlib import Path
from types import FrameType

import numpy as np

from functional_nn import fused, initialize_parameters, save_parameters


def _subnormal_product() -> np.float32:
    """``1e-38 * 0.01`` in float32: the subnormal ``1e-40``, or 0 where subnormals are flushed."""
    return np.float32(1e-38) * np.float32(0.01)


def test_one_subnormals_flushed_block_shared_by_two_threads_restores_each_its_own_mode() -> None:
    shared = fused.subnormals_flushed()  # one block, entered again and again, as its stack allows
    flushed = np.float32(0.0) if fused.FLUSHES_SUBNORMALS else np.float32(1e-40)
    x_inside, y_inside, x_left, x_checked = (threading.Event() for _ in range(4))
    seen: dict[str, np.float32] = {}

    def x() -> None:  # the shared block inside a block of its own: flushed until its own block ends
        with fused.subnormals_flushed():
            with shared:
                x_inside.set()
                y_inside.wait(10)
            x_left.set()  # x leaves the shared block first
            seen["x, still inside its own block"] = _subnormal_product()
            x_checked.set()

    def y() -> None:  # enters the shared block after x, leaves it after x
        x_inside.wait(10)
        with shared:
            y_inside.set()
            x_left.wait(10)
        x_checked.wait(10)
        seen["y, after the block"] = _subnormal_product()

    threads = [threading.Thread(target=x), threading.Thread(target=y)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert seen == {"x, still inside its own block": flushed, "y, after the block": np.float32(1e-40)}


def test_saving_parameters_never_changes_the_umask_other_threads_make_files_with(tmp_path: Path, rng: np.random.Generator) -> None:
    """A thread may hand the interpreter to another after any C call: at each one, a file made
    by another thread (here, by the profiler's hook) must get the process's umask, 022."""
    params = initialize_parameters([2, 3, 1], rng)
    probes = tmp_path / "probes"
    probes.mkdir()
    modes: list[int] = []

    def probe(frame: FrameType, event: str, arg: object) -> None:
        if event == "c_return":
            name = probes / str(len(modes))
            os.close(os.open(name, os.O_CREAT | os.O_WRONLY, 0o666))
            modes.append(stat.S_IMODE(name.stat().st_mode))

    previous = os.umask(0o022)
    try:
        sys.setprofile(probe)
        try:
            save_parameters(tmp_path / "model.npz", params, metadata={"activations": ["relu", "sigmoid"]})
        finally:
            sys.setprofile(None)
        assert os.umask(0o022) == 0o022
    finally:
        os.umask(previous)
    assert len(modes) > 10 and {oct(mode) for mode in modes} == {"0o644"}
    assert stat.S_IMODE((tmp_path / "model.npz").stat().st_mode) == 0o644
