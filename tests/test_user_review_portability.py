"""A user review of portability to macOS and Windows, simulated on Linux: what is missing
there (``signal.SIGPIPE``, ``os.getloadavg``) is removed, and Windows' ``os.kill`` is
given its documented meaning.

CPython's documentation: ``signal.SIGPIPE`` and ``os.getloadavg`` are Unix only; on Windows
``os.kill(pid, sig)`` with ``signal.CTRL_C_EVENT`` (whose value is 0) sends a console Ctrl-C
event (``GenerateConsoleCtrlEvent``), and with any other value terminates the process, so
``os.kill(pid, 0)`` is no question whether ``pid`` runs there; and ``os.remove``: "On Windows,
attempting to remove a file that is in use causes an exception to be raised; on Unix, the
directory entry is removed but the storage allocated to the file is not made available until
the original file is no longer in use" (a memory map is such a use).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from functional_nn import distributed as dist
from functional_nn import serialization
from functional_nn.data import one_hot
from functional_nn.optimizers import sgd
from functional_nn.serialization import atomic_write

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import _threads  # noqa: E402  (the scripts folder is not a package)


def test_on_windows_a_leftover_temporary_file_is_never_probed_with_os_kill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a writer of this machine killed mid-write (closing its console, Task Manager) left its temporary file
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    target = tmp_path / "params.npz"
    leftover = tmp_path / f".params.npz.fnn-{finished.pid}-{serialization._HOST}-k2x9_q1a.tmp"
    leftover.write_bytes(b"half")
    signalled: list[tuple[int, int]] = []

    def windows_kill(pid: int, sig: int) -> None:
        # Windows' os.kill: 0 is CTRL_C_EVENT, sent to the console with GenerateConsoleCtrlEvent,
        # which succeeds for a nonzero process group whether or not the process runs
        signalled.append((pid, sig))

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(os, "kill", windows_kill)
    with atomic_write(target) as handle:
        handle.write(b"whole")
    assert target.read_bytes() == b"whole"
    assert signalled == []  # no Ctrl-C sent to the console's processes, the writer's own included


def test_a_reader_leaving_early_ends_a_script_with_status_141_where_signal_has_no_sigpipe(tmp_path: Path) -> None:
    # signal.SIGPIPE gone before _cli is imported, as on Windows, where BROKEN_PIPE_STATUS is
    # read; deleting it later would leave the status _cli read on Linux
    code = (
        "import signal, sys\n"
        "del signal.SIGPIPE\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import _cli\n"
        "def reader_left(argv):\n"
        "    raise BrokenPipeError(32, 'Broken pipe')\n"
        "sys.exit(_cli.run_main(reader_left, []))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(SCRIPTS)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (141, "", "")


def test_the_scripts_load_average_is_none_where_os_has_no_getloadavg(monkeypatch: pytest.MonkeyPatch) -> None:
    # benchmark_rounds.py printed os.getloadavg()[0] once its cluster had started: AttributeError on Windows
    here = _threads.load_average()
    assert isinstance(here, float) and here >= 0.0  # Linux's, as os.getloadavg gives it
    monkeypatch.delattr(os, "getloadavg")  # Windows
    assert _threads.load_average() is None


def test_a_sweeps_workers_map_none_of_its_files_once_it_has_ended(tmp_path: Path, rng: np.random.Generator) -> None:
    # the sweep then removes its folder of data_dir; a file a worker still maps is "in use":
    # Windows refuses to remove it (the folder stayed, and sweep.py's own temporary folder failed
    # to go after every run had trained), and Linux keeps its storage (memory, in /dev/shm)
    X = rng.standard_normal((5, 30))
    Y = one_hot(rng.integers(0, 3, 30), 3)
    settings = [dist.RunSettings((5, 4, 3), ("relu", "softmax"), "categorical_cross_entropy", sgd(0.1), epochs=1)]
    with dist.cluster_client(n_workers=1, processes=False) as client:  # the worker's maps are this process's
        dist.sweep(settings, X, Y, client=client, data_dir=tmp_path)
        mapped = [line for line in Path("/proc/self/maps").read_text().splitlines() if str(tmp_path) in line]
    assert mapped == []  # were X.npy and Y.npy of sweep-data/sweep-*, "(deleted)"
