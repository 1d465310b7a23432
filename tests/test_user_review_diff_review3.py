"""User review of a diff: what an interrupted or repeated sweep leaves in ``--out``, and a GIF's title.

- A sweep stopped by Ctrl-C once its last run had finished (as the cluster closed, or as the
  table, parameters and picture were written) kept nothing of them, or with ``--overwrite``
  left the earlier sweep's ``sweep.png`` beside the new rows, and its error line said neither:
  it keeps the finished runs as a sweep stopped before its last does.
- ``sweep.py --overwrite`` with a folder where one of its files goes (``best_params.npz``)
  loaded the data and trained every run, then failed at the end, having replaced
  ``sweep.csv`` with the new rows beside the earlier sweep's ``sweep.png``: the folder is
  refused before anything is loaded, as a read-only output is.
- ``animate_training`` with a title holding a lone surrogate (a file name not in UTF-8, as
  Python reads it) failed with the font renderer's TypeError, where ``save_figure`` draws one
  as U+FFFD: the frames are drawn by ``animate_training`` itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from functional_nn import initialize_parameters
from functional_nn.plots import animate_training
from conftest import WriteMNISTCache
from test_scripts_mnist import _small_mnist

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import sweep  # noqa: E402  (the scripts folder is not a package)


def test_a_folder_where_the_sweep_writes_a_file_is_refused_before_the_runs(
    tmp_path: Path, mnist_cache: WriteMNISTCache, capsys: pytest.CaptureFixture[str]
) -> None:
    mnist_cache(_small_mnist(np.random.default_rng(5), 40, 10, 10))  # never read once refused, but no download if it were
    out = tmp_path / "out"
    out.mkdir()
    (out / "sweep.csv").write_text("an earlier sweep's")
    (out / "sweep.png").write_text("an earlier sweep's")
    (out / "best_params.npz").mkdir()
    status = sweep.main(["--sequential", "--subset", "40", "--batch-size", "8", "--epochs", "1", "--out", str(out), "--overwrite"])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""  # no "12 runs of ...": nothing was loaded or trained
    assert captured.err == f"error: --out {out} holds a folder best_params.npz where this run writes a file: move it away, or choose another --out\n"
    assert (out / "sweep.csv").read_text() == (out / "sweep.png").read_text() == "an earlier sweep's"


def test_a_sweep_interrupted_after_its_last_run_keeps_every_run_and_no_earlier_picture(tmp_path: Path, mnist_cache: WriteMNISTCache) -> None:
    mnist_cache(_small_mnist(np.random.default_rng(5), 40, 10, 10))
    out = tmp_path / "out"
    out.mkdir()
    earlier = "an earlier sweep's"
    for name in sweep.OUTPUTS:
        (out / name).write_text(earlier)
    argv = [sys.executable, str(SCRIPTS / "sweep.py"), "--sequential", "--subset", "40", "--batch-size", "8", "--epochs", "1", "--out", str(out), "--overwrite"]
    environment = {**os.environ, "PYTHONPATH": str(SCRIPTS.parent)}  # FUNCTIONAL_NN_DATA: the cache, set by mnist_cache
    with open(tmp_path / "stderr", "wb") as stderr:
        child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr, env=environment, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        # every run finished: the new table and parameters are in, the picture is being drawn
        while earlier in ((out / "sweep.csv").read_text(), (out / "best_params.npz").read_bytes().decode(errors="replace")):
            assert child.poll() is None, (tmp_path / "stderr").read_text()
            assert time.monotonic() < deadline, "the sweep wrote no table within a minute"
            time.sleep(0.001)
        child.send_signal(signal.SIGINT)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 130
    said = (tmp_path / "stderr").read_text()
    assert said == f"error: interrupted (Ctrl-C) after 12 of 12 runs: the 12 finished are in {out / 'sweep.csv'} and {out / 'best_params.npz'}\n"
    assert sorted(path.name for path in out.iterdir()) == ["best_params.npz", "sweep.csv"]  # no earlier picture beside the rows
    assert len((out / "sweep.csv").read_text().splitlines()) == 1 + 12


def test_a_lone_surrogate_in_an_animations_title_is_drawn_as_the_replacement_character(tmp_path: Path, rng: np.random.Generator) -> None:
    X = rng.standard_normal((2, 12))
    y = (X[0] > 0).astype(np.int64)
    params = initialize_parameters((2, 3, 1), rng)
    snapshots = [(0, params), (1, params)]
    name = os.fsdecode(b"tr\xe9in.csv")  # a Latin-1 file name, as Python reads it
    drawn = animate_training(snapshots, [0.5], ("relu", "sigmoid"), X, y, tmp_path / "a.gif", title=name, resolution=5)
    replaced = animate_training(snapshots, [0.5], ("relu", "sigmoid"), X, y, tmp_path / "b.gif", title="tr\ufffdin.csv", resolution=5)
    assert drawn.read_bytes() == replaced.read_bytes()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.gif", "b.gif"]
