"""``scripts/sweep.py``: what the mutation audit of it found unpinned, run on the real code.

Pins the two ways a sweep stops with one ``error:`` line and writes nothing: an MNIST file
in the data folder that is not MNIST (``ChecksumError``, before any run), and a running
cluster whose worker cannot import the library (``WorkerEnvironmentError``, a
``RuntimeError``, before any task is sent). Also the help's words for the options it names.

Nothing is stood in for: the MNIST file is bytes written into the data folder the tests
point ``FUNCTIONAL_NN_DATA`` at, and the cluster is a one-thread ``LocalCluster`` started
here on loopback, whose worker shares this process and so cannot import ``functional_nn``
once ``sys.modules`` holds ``None`` for it (as the test of a missing matplotlib does).
``tests/test_sweep_program.py`` pins each row, the best run, the summary and the cluster runs;
``tests/test_neuron_basics.py`` pins ``layer_output`` on whole numbers.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from distributed import LocalCluster

from functional_nn.data.mnist import MNIST_SHA256
from conftest import WriteMNISTCache
from test_scripts_mnist import _small_mnist

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import sweep  # noqa: E402  (the scripts folder is not a package)


def test_an_mnist_file_that_is_not_mnist_is_one_error_line_before_any_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("FUNCTIONAL_NN_DATA", str(data))
    placed = data / "mnist.pkl.gz"
    placed.write_bytes(b"not mnist")
    digest = hashlib.sha256(b"not mnist").hexdigest()
    out = tmp_path / "out"
    assert sweep.main(["--sequential", "--epochs", "1", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # not even the line announcing the runs
    assert captured.err == (
        f"error: {placed} has sha256 {digest} (9 bytes), expected {MNIST_SHA256}: "
        "it is not the MNIST file this library knows, so it was not unpickled and nothing was cached\n"
    )
    assert not out.exists()
    assert [p.name for p in data.iterdir()] == ["mnist.pkl.gz"]


def test_a_cluster_whose_worker_cannot_import_the_library_is_one_error_line_and_writes_nothing(
    tmp_path: Path, mnist_cache: WriteMNISTCache, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mnist_cache(_small_mnist(np.random.default_rng(3), 40, 10, 10))
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    out = tmp_path / "out"
    with LocalCluster(  # type: ignore[no-untyped-call]  # Dask's LocalCluster is untyped
        processes=False, n_workers=1, threads_per_worker=1, host="127.0.0.1", protocol="tcp://", dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        with monkeypatch.context() as lacking:
            lacking.setitem(sys.modules, "functional_nn", None)  # `import functional_nn` now fails, on the worker too
            status = sweep.main(["--scheduler", address, "--subset", "20", "--epochs", "1", "--out", str(out)])
    assert status == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # the check comes before the line announcing the runs
    (line,) = captured.err.splitlines()
    pattern = (
        r"error: cannot import functional_nn on worker tcp://127\.0\.0\.1:\d+ \(host .+, Python .+\): "
        r"install the library there \(.+\) or put it on the workers' path"
    )
    assert re.fullmatch(pattern, line), line
    assert not out.exists()


def test_the_help_names_the_schedulers_address_and_says_what_each_switch_does(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as stopped:
        sweep.parse_args(["--help"])
    assert stopped.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines to the terminal's width
    assert "[--workers WORKERS | --scheduler ADDRESS | --sequential]" in text
    assert "--scheduler ADDRESS a running Dask scheduler, e.g. tcp://HOST:8786" in text
    assert "--sequential run every setting in this process, one after another" in text
    assert "--dashboard serve the local cluster's dashboard on port 8787" in text
    assert "--overwrite replace the outputs of an earlier sweep in --out" in text

