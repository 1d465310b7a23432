"""A user's review of the writers: the sweep's data folder takes its path as every other writer does,
and two sweeps sharing a data_dir each train on their own data."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from functional_nn import distributed as dist
from functional_nn.optimizers import sgd


def _sweep_data(rng: np.random.Generator) -> dist.SweepData:
    return dist.SweepData(rng.standard_normal((3, 5)), rng.random((1, 5)))


def _refused(path: Path, blocking: Path) -> str:
    return "^" + re.escape(f"path {path} cannot hold the sweep's data: {blocking} exists and is not a directory") + "$"


def test_save_sweep_data_refuses_an_empty_path_rather_than_writing_into_the_current_folder(
    rng: np.random.Generator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"^path is an empty path: name a folder \(or '\.' for the current one\)$"):
        dist.save_sweep_data("", _sweep_data(rng))
    assert list(tmp_path.iterdir()) == []  # no X.npy, Y.npy in whatever folder the user was in
    with pytest.raises(ValueError, match=r"^path is an empty path"):
        dist.load_sweep_data("")


def test_save_sweep_data_names_its_path_when_it_is_no_path_or_a_file(rng: np.random.Generator, tmp_path: Path) -> None:
    data = _sweep_data(rng)
    with pytest.raises(TypeError, match=r"^path must be a str or an os\.PathLike such as pathlib\.Path\('sweep-data'\), got int 3$"):
        dist.save_sweep_data(3, data)  # type: ignore[arg-type]
    file = tmp_path / "notes.txt"
    file.write_text("mine\n")
    with pytest.raises(ValueError, match=_refused(file, file)):
        dist.save_sweep_data(file, data)
    assert file.read_text() == "mine\n"
    with pytest.raises(ValueError, match=_refused(file / "data", file)):
        dist.save_sweep_data(file / "data", data)


_WORKER_BUSY = threading.Event()
_RELEASE_WORKER = threading.Event()


def _hold_the_worker() -> None:
    """A task that keeps a worker thread of an in-process cluster until the test releases it."""
    _WORKER_BUSY.set()
    _RELEASE_WORKER.wait(60)


def test_two_sweeps_at_once_in_one_data_dir_each_train_on_their_own_data(rng: np.random.Generator, tmp_path: Path) -> None:
    """Each sweep writes a folder of its own: the second one's data never replaces the first's."""
    X, Y = rng.standard_normal((4, 40)), np.eye(2)[:, rng.integers(0, 2, 40)]
    ours, theirs = dist.SweepData(X, Y), dist.SweepData(X[::-1] * 2, Y[::-1])  # shaped alike
    settings = [dist.RunSettings((4, 3, 2), ("relu", "softmax"), "categorical_cross_entropy", sgd(0.1), epochs=2, seed=s) for s in (0, 1)]
    outcome: dict[str, object] = {}

    def sweep(name: str, data: dist.SweepData) -> None:
        try:
            outcome[name] = dist.sweep(settings, data.X, data.Y, client=client, data_dir=tmp_path)
        except Exception as error:  # noqa: BLE001 - handed to the test's thread
            outcome[name] = error

    def queued(tasks: int) -> None:
        deadline = time.monotonic() + 30
        while len(client.futures) < tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    _WORKER_BUSY.clear()
    _RELEASE_WORKER.clear()
    with dist.cluster_client(n_workers=1, processes=False) as client:
        holding = client.submit(_hold_the_worker, pure=False)  # the one worker thread: both sweeps' runs wait
        sweeps = [threading.Thread(target=sweep, args=("ours", ours)), threading.Thread(target=sweep, args=("theirs", theirs))]
        try:
            assert _WORKER_BUSY.wait(30)
            sweeps[0].start()
            queued(1 + len(settings))  # our data written, our runs queued
            sweeps[1].start()
            queued(1 + 2 * len(settings))  # their data written into the same data_dir, their runs queued
        finally:
            _RELEASE_WORKER.set()
        for thread in sweeps:
            thread.join(60)
        holding.result()
    for name, data in (("ours", ours), ("theirs", theirs)):
        results = outcome[name]
        assert isinstance(results, list), results
        for setting, result in zip(settings, results):
            np.testing.assert_array_equal(result.params["W1"], dist.run_settings(setting, data).params["W1"])
    assert list((tmp_path / "sweep-data").iterdir()) == []
