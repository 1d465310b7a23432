"""Moving work between folders and machines: a checkpointed run resumed after its folder (and
its data) moved, a checkpoint directory shared by a group, an augmentation's settings rebuilt
by a new process, and a file name that is not UTF-8 (an untarred Latin-1 one) in a picture."""

from __future__ import annotations

import functools
import os
import shutil
import stat
import sys
from pathlib import Path

import numpy as np
import pytest

from functional_nn import initialize_parameters, one_hot, train, train_epochs
from functional_nn.checkpoints import LOCK_NAME
from functional_nn.plots import plot_curves
from functional_nn.serialization import load_parameters
from functional_nn.training import TrainResult
from functional_nn.types import FloatArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import train_mnist  # noqa: E402  (the scripts folder is not a package)
from test_scripts_mnist import _kaggle_csv, _run  # noqa: E402

FLAGS = ["--csv", "train.csv", "--epochs", "2", "--hidden", "4", "--batch-size", "16", "--dev-size", "10", "--threads", "1"]


def _moved_interrupted_run(tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> bytes:
    """A project folder (train.csv and runs/a, started there with a relative --csv) trained
    for 2 epochs, then moved elsewhere as if killed during epoch 2; the current folder is the
    moved project. Returns the uninterrupted run's W1, as bytes."""
    project = tmp_path / "project"
    project.mkdir()
    _kaggle_csv(project / "train.csv", rng, 40)
    monkeypatch.chdir(project)
    _run(capsys, [*FLAGS, "--out", "runs/a", "--checkpoint"])
    whole = load_parameters(project / "runs" / "a" / "params.npz").params["W1"].tobytes()
    moved = tmp_path / "moved to another disk"
    shutil.move(project, moved)  # mv project "moved to another disk"
    monkeypatch.chdir(moved)
    (moved / "runs" / "a" / "checkpoints" / "checkpoint-000002.npz").unlink()
    (moved / "runs" / "a" / "params.npz").unlink()
    return whole


def test_a_run_moved_with_its_data_resumes_given_where_its_csv_lies_now(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _moved_interrupted_run(tmp_path, rng, capsys, monkeypatch)
    lines, _ = _run(capsys, ["--resume", "runs/a", "--csv", "train.csv"])  # the checkpoint's digest checks the data
    assert any("after epoch 1" in line for line in lines)
    assert load_parameters(Path("runs/a/params.npz")).params["W1"].tobytes() == whole


def test_a_run_moved_with_its_data_says_where_it_looked_and_how_to_point_at_it(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _moved_interrupted_run(tmp_path, rng, capsys, monkeypatch)
    with pytest.raises(SystemExit) as exit_info:
        train_mnist.main(["--resume", "runs/a"])
    started_in = Path(os.path.realpath(tmp_path / "project"))  # as os.getcwd() recorded it
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
        f"error: --resume runs/a: the run read --csv train.csv in {started_in}, the folder it was started in (its command.json), "
        f"and {started_in / 'train.csv'} is not there: give its place now, --resume runs/a --csv PATH"
    )


def test_the_lock_file_takes_the_umask_as_the_checkpoints_do(tmp_path: Path, rng: np.random.Generator) -> None:
    # a group sharing a folder (umask 002): a run killed leaves its lock file, which another
    # member resuming must open for writing, as it replaces the checkpoints (0664)
    X = rng.standard_normal((2, 20))
    Y = one_hot((X[0] > 0).astype(np.int64), 2)
    previous = os.umask(0o002)
    try:
        states = train_epochs(X, Y, initialize_parameters((2, 3, 2), rng), activations=("relu", "softmax"),
                              loss="categorical_cross_entropy", epochs=2, learning_rate=0.1, checkpoint_dir=tmp_path / "ck")  # fmt: skip
        next(states)  # the run holds the directory
        modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in (tmp_path / "ck").iterdir()}
        states.close()
    finally:
        os.umask(previous)
    assert modes == {LOCK_NAME: 0o664, "checkpoint-000001.npz": 0o664}


class _Noise:
    """An augmentation's setting held in an object of one's own, with Python's default repr."""

    def __init__(self, scale: float) -> None:
        self.scale = scale


def _jitter(X: FloatArray, rng: np.random.Generator | None, *, noise: _Noise) -> FloatArray:
    assert rng is not None
    return X + noise.scale * rng.standard_normal(X.shape)


def test_a_run_whose_augmentation_holds_an_object_resumes_as_a_new_process_rebuilds_it(rng: np.random.Generator, tmp_path: Path) -> None:
    # a new process makes the object again, at another address: the run is the same run
    X = rng.standard_normal((2, 24))
    Y = one_hot((X[0] > 0).astype(np.int64), 2)
    params = initialize_parameters((2, 3, 2), rng)
    built = [_Noise(0.1) for _ in range(3)]  # all alive: no address is reused

    def run(noise: _Noise, epochs: int, checkpoint_dir: Path | None) -> TrainResult:
        return train(X, Y, params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=epochs,
                     learning_rate=0.1, batch_size=8, rng=np.random.default_rng(3), checkpoint_dir=checkpoint_dir,
                     resume=checkpoint_dir is not None and epochs == 3, augmentation=functools.partial(_jitter, noise=noise))  # fmt: skip

    whole = run(built[0], 3, None)
    run(built[1], 1, tmp_path / "ck")
    resumed = run(built[2], 3, tmp_path / "ck")
    assert resumed.params["W1"].tobytes() == whole.params["W1"].tobytes()


def test_a_curve_titled_with_a_file_name_not_in_utf8_is_drawn(rng: np.random.Generator, tmp_path: Path) -> None:
    # tar archives from a Latin-1 machine: "tr\xe9in.csv" on disk, "tr\udce9in.csv" in Python,
    # in train_mnist.py's curves.png title ("<csv> (<rows> rows): ...")
    name = os.fsdecode(b"tr\xe9in.csv")
    X = rng.standard_normal((2, 12))
    Y = one_hot((X[0] > 0).astype(np.int64), 2)
    result = train(X, Y, initialize_parameters((2, 3, 2), rng), activations=("relu", "softmax"),
                   loss="categorical_cross_entropy", epochs=2, learning_rate=0.1)  # fmt: skip
    written = plot_curves(result.history, tmp_path / "curves.png", title=f"{name} (12 rows)")
    assert written.read_bytes().startswith(b"\x89PNG")
