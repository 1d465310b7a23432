"""Two runs sharing one checkpoint directory: the second is refused while the first writes there."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from functional_nn import initialize_parameters, one_hot, train, train_epochs
from functional_nn import distributed as dist
from functional_nn.checkpoints import CheckpointError, load_checkpoint, latest_checkpoint
from functional_nn.types import Activation, FloatArray, Loss

ACTIVATIONS: tuple[Activation, ...] = ("relu", "softmax")
LOSS: Loss = "categorical_cross_entropy"


def _data(rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    X = rng.standard_normal((2, 40))
    return X, one_hot((X[0] * X[1] > 0).astype(np.int64), 2)


def test_a_second_train_into_a_checkpoint_dir_in_use_is_refused_and_the_first_run_is_unchanged(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    X, Y = _data(rng)
    solo = train(X, Y, initialize_parameters((2, 4, 2), np.random.default_rng(1)), activations=ACTIVATIONS, loss=LOSS,
                 epochs=3, learning_rate=0.1, batch_size=8, rng=np.random.default_rng(1))  # fmt: skip
    folder = tmp_path / "ckpt"
    first = train_epochs(X, Y, initialize_parameters((2, 4, 2), np.random.default_rng(1)), activations=ACTIVATIONS, loss=LOSS,
                         epochs=3, learning_rate=0.1, batch_size=8, rng=np.random.default_rng(1), checkpoint_dir=folder)  # fmt: skip
    next(first)
    other = initialize_parameters((2, 4, 2), np.random.default_rng(2))
    message = rf"checkpoint_dir {folder} is in use by another run \(process {os.getpid()} "
    with pytest.raises(CheckpointError, match=message):  # same data and settings: it would resume the first's checkpoint
        train(X, Y, other, activations=ACTIVATIONS, loss=LOSS, epochs=3, learning_rate=0.1, batch_size=8,
              rng=np.random.default_rng(2), checkpoint_dir=folder, resume=True)  # fmt: skip
    with pytest.raises(CheckpointError, match=message):
        dist.train_rounds(dist.split_shards(X, Y, 2), other, activations=ACTIVATIONS, loss=LOSS, rounds=2,
                          learning_rate=0.1, checkpoint_dir=folder)  # fmt: skip
    last = [state for state in first][-1]
    for key in solo.params:
        assert np.array_equal(last.params[key], solo.params[key])
    saved = latest_checkpoint(folder)
    assert saved is not None and load_checkpoint(saved).state.epoch == 3
    assert sorted(path.name for path in folder.iterdir()) == ["checkpoint-000002.npz", "checkpoint-000003.npz"]  # nothing else left
    resumed = train(X, Y, other, activations=ACTIVATIONS, loss=LOSS, epochs=4, learning_rate=0.1, batch_size=8,
                    rng=np.random.default_rng(1), checkpoint_dir=folder, resume=True)  # fmt: skip
    assert resumed.epoch == 4


def test_a_refused_start_frees_the_checkpoint_dir_and_leaves_no_folder(tmp_path: Path, rng: np.random.Generator) -> None:
    X, Y = _data(rng)
    folder = tmp_path / "new" / "ckpt"
    with pytest.raises(ValueError, match="epochs"):
        train(X, Y, initialize_parameters((2, 4, 2), rng), activations=ACTIVATIONS, loss=LOSS, epochs=-1,
              learning_rate=0.1, checkpoint_dir=folder)  # fmt: skip
    assert not (tmp_path / "new").exists()


def test_a_checkpoint_dir_held_by_another_process_is_refused_naming_it(tmp_path: Path, rng: np.random.Generator) -> None:
    X, Y = _data(rng)
    folder = tmp_path / "ckpt"
    holder = textwrap.dedent(
        f"""
        import sys
        from functional_nn.checkpoints import DirectoryLock
        from pathlib import Path
        lock = DirectoryLock.acquire(Path({str(folder)!r}))
        print("held", flush=True)
        sys.stdin.read()
        """
    )
    with subprocess.Popen([sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None and child.stdout.readline() == "held\n"
            with pytest.raises(CheckpointError, match=rf"checkpoint_dir {folder} is in use by another run \(process {child.pid} "):
                train(X, Y, initialize_parameters((2, 4, 2), rng), activations=ACTIVATIONS, loss=LOSS, epochs=1,
                      learning_rate=0.1, checkpoint_dir=folder)  # fmt: skip
        finally:
            child.kill()
            child.wait(timeout=30)
    started = time.perf_counter()  # killed, it holds nothing: the next run starts at once
    result = train(X, Y, initialize_parameters((2, 4, 2), rng), activations=ACTIVATIONS, loss=LOSS, epochs=1,
                   learning_rate=0.1, checkpoint_dir=folder)  # fmt: skip
    assert result.epoch == 1 and time.perf_counter() - started < 5
