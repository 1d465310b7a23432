"""``scripts/sweep.py`` stopped by Ctrl-C (SIGINT) or SIGTERM keeps the runs that finished.

The sweep runs for real in a child process (``--sequential``, a few dozen random digits
cached as MNIST). Its stderr is a terminal (a pseudo-terminal opened here), so the progress
bar counts the finished runs: the signal goes once it shows one, and the table and best
parameters then written must hold exactly those runs, as an uninterrupted sweep of the same
settings writes them. A signal before any run finished leaves nothing, as before.
"""

from __future__ import annotations

import csv
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from functional_nn import distributed as dist
from functional_nn import one_hot, scale_pixels
from functional_nn.data.mnist import MNISTPixels
from functional_nn.serialization import load_parameters
from test_sweep_program import small  # noqa: F401  # a fixture: 40 training, 10 dev and 10 test digits cached as MNIST

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import sweep  # noqa: E402  (the scripts folder is not a package)

# 40 digits, batches of 8, 30 epochs: a run takes some 50 ms, the 12 of them most of a second,
# time enough to see the bar count one and send the signal before the last has finished
FLAGS = ["--sequential", "--subset", "40", "--batch-size", "8", "--epochs", "30", "--seed", "2"]


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SCRIPTS.parent)}  # FUNCTIONAL_NN_DATA: the cache, set by mnist_cache


def _read(fd: int, seconds: float) -> bytes:
    """What the terminal's other end shows within ``seconds``: b"" once the child has closed it."""
    ready, _, _ = select.select([fd], [], [], seconds)
    if not ready:
        return b""
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: every copy of the child's end is closed
        return b""


def _interrupted_after_runs(tmp_path: Path, flags: list[str], signum: signal.Signals, after: int) -> tuple[int, int, str]:
    """Run the sweep with its stderr on a terminal, send ``signum`` once the bar counts ``after``
    finished runs; return the runs the bar had counted, the status and the last line of stderr."""
    parent, child_end = pty.openpty()
    termios.tcsetwinsize(child_end, (24, 100))  # the bar's width
    argv = [sys.executable, str(SCRIPTS / "sweep.py"), *FLAGS, *flags]
    with open(tmp_path / "stdout", "wb") as stdout:
        child = subprocess.Popen(argv, stdout=stdout, stderr=child_end, env=_environment(), cwd=tmp_path)
    os.close(child_end)
    shown = b""
    try:
        deadline = time.monotonic() + 60  # a second or two: Python, NumPy, the data and one run
        counted: list[int] = []
        while not counted:
            assert child.poll() is None, shown.decode(errors="replace")
            assert time.monotonic() < deadline, f"the bar counted no {after} finished runs within a minute"
            shown += _read(parent, 0.01)
            counted = [int(n) for n in re.findall(rb"\b(\d+)/12\b", shown) if int(n) >= after]
        child.send_signal(signum)
        child.wait(timeout=60)
        while (chunk := _read(parent, 1.0)) and time.monotonic() < deadline + 60:  # the rest, till the child's end closes
            shown += chunk
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        os.close(parent)
    # the terminal ends lines with \r\n; the bar redraws itself after a \r
    last = shown.decode().replace("\r\n", "\n").rstrip("\n").split("\n")[-1].split("\r")[-1]
    assert "Traceback" not in shown.decode()
    return counted[0], child.returncode, last


def _table(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _typed(row: dict[str, str]) -> dict[str, float | int]:
    """A row of the table with the numbers the sweep wrote (a float written by csv reads back as the same float)."""
    return {name: int(value) if name in ("hidden", "epochs", "seed") else float(value) for name, value in row.items()}


@pytest.mark.parametrize(
    ("signum", "said", "status", "after", "earlier"),
    [
        (signal.SIGINT, "interrupted (Ctrl-C)", 130, 1, False),
        # and over an earlier sweep's outputs (--overwrite): its picture is not left beside these rows
        (signal.SIGTERM, "terminated (SIGTERM)", 143, 3, True),
    ],
)
def test_an_interrupted_sweep_keeps_the_finished_runs_as_the_whole_sweep_writes_them(
    signum: signal.Signals, said: str, status: int, after: int, earlier: bool, tmp_path: Path, small: MNISTPixels
) -> None:
    out = tmp_path / "out"
    flags = ["--out", str(out)]
    if earlier:
        out.mkdir()
        for name in sweep.OUTPUTS:
            (out / name).write_bytes(b"an earlier sweep's")
        flags.append("--overwrite")
    seen, returncode, line = _interrupted_after_runs(tmp_path, flags, signum, after)
    assert returncode == status
    rows = _table(out / "sweep.csv")
    kept = len(rows)
    assert after <= seen <= kept < 12, "the signal came after the last run: make the runs longer"
    which = "the 1 finished is" if kept == 1 else f"the {kept} finished are"
    assert line == f"error: {said} after {kept} of 12 runs: {which} in {out / 'sweep.csv'} and {out / 'best_params.npz'}"
    assert sorted(p.name for p in out.iterdir()) == ["best_params.npz", "sweep.csv"]  # no picture, no temporary file
    assert (tmp_path / "stdout").read_text() == "12 runs of 30 epochs on 40 samples, in this process\n"

    whole = tmp_path / "whole"  # the same sweep uninterrupted, with the child's one BLAS thread
    with threadpool_limits(1, user_api="blas"):
        assert sweep.main([*FLAGS, "--out", str(whole)]) == 0
    every = _table(whole / "sweep.csv")
    assert (out / "sweep.csv").read_text().splitlines() == (whole / "sweep.csv").read_text().splitlines()[: kept + 1]
    assert rows == every[:kept]  # the sequential sweep finishes its runs in grid order

    accuracies = [float(row["dev_accuracy"]) for row in rows]
    best = accuracies.index(max(accuracies))  # the first of those tied for the best, as the whole sweep chooses
    params, metadata, _ = load_parameters(out / "best_params.npz")
    assert metadata["config"] == _typed(rows[best]) and metadata["dev_accuracy"] == accuracies[best]
    assert metadata["activations"] == ["relu", "softmax"] and metadata["loss"] == "categorical_cross_entropy"
    # that run's parameters: its setting of the grid trained alone on the same data, as the sweep trains it
    data = dist.SweepData(
        scale_pixels(small.X_train, dtype=np.float32), one_hot(small.y_train, 10, dtype=np.float32),
        (scale_pixels(small.X_dev, dtype=np.float32), one_hot(small.y_dev, 10, dtype=np.float32)),
    )  # fmt: skip
    with threadpool_limits(1, user_api="blas"):
        alone = dist.run_settings(sweep.grid(30, 8, 2)[best], data)
    assert alone.history[-1].dev_accuracy == accuracies[best]
    assert params.keys() == alone.params.keys()
    for name, value in alone.params.items():
        np.testing.assert_array_equal(params[name], value, strict=True)


@pytest.mark.parametrize(("signum", "said", "status"), [(signal.SIGINT, "interrupted (Ctrl-C)", 130), (signal.SIGTERM, "terminated (SIGTERM)", 143)])
def test_a_sweep_interrupted_before_any_run_finished_writes_nothing(
    signum: signal.Signals, said: str, status: int, tmp_path: Path, small: MNISTPixels
) -> None:
    out = tmp_path / "runs" / "out"
    # a first run of 100,000 epochs: the signal comes long before it ends
    argv = [sys.executable, str(SCRIPTS / "sweep.py"), "--sequential", "--subset", "40", "--epochs", "100000", "--out", str(out)]
    with open(tmp_path / "stdout", "wb") as stdout, open(tmp_path / "stderr", "wb") as stderr:
        child = subprocess.Popen(argv, stdout=stdout, stderr=stderr, env=_environment(), cwd=tmp_path)
        try:
            deadline = time.monotonic() + 60
            while not (tmp_path / "stdout").read_text():  # "12 runs of ...": the runs start
                assert child.poll() is None, (tmp_path / "stderr").read_text()
                assert time.monotonic() < deadline, "the sweep did not start within a minute"
                time.sleep(0.01)
            child.send_signal(signum)
            child.wait(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert child.returncode == status
    assert (tmp_path / "stderr").read_text() == f"error: {said}\n"
    assert not (tmp_path / "runs").exists()
