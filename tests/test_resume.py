"""Resuming from checkpoints: bitwise equal to an uninterrupted run, even after a kill mid-epoch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from functional_nn import initialize_parameters, one_hot, train
from functional_nn.checkpoints import CheckpointError, latest_checkpoint, load_checkpoint
from functional_nn.optimizers import adam, momentum
from functional_nn.schedules import Schedule
from functional_nn.training import EarlyStopping, TrainResult
from functional_nn.types import FloatArray


def problem(seed: int = 0) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, dict[str, FloatArray]]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((6, 80)).astype(np.float32)
    Y = one_hot((X[0] * X[1] > 0).astype(np.int64), 2, dtype=np.float32)
    return X[:, :60], Y[:, :60], X[:, 60:], Y[:, 60:], initialize_parameters([6, 8, 2], rng, dtype=np.float32)


def run(epochs: int, checkpoint_dir: Path | None, resume: bool = False, seed: int = 1, batch_size: int = 16) -> TrainResult:
    X, Y, X_dev, Y_dev, params = problem()
    return train(
        X, Y, params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=epochs,
        optimizer=adam(1e-2), batch_size=batch_size, rng=np.random.default_rng(seed), dev=(X_dev, Y_dev),
        keep_probs=0.8, early_stopping=EarlyStopping(patience=50), checkpoint_dir=checkpoint_dir, resume=resume,
    )  # fmt: skip


def assert_same(a: TrainResult, b: TrainResult) -> None:
    assert a.epoch == b.epoch and a.history == b.history
    assert a.optimizer_state.step == b.optimizer_state.step
    for key in a.params:
        assert a.params[key].tobytes() == b.params[key].tobytes()
        for slot in a.optimizer_state.slots:
            assert a.optimizer_state.slots[slot][key].tobytes() == b.optimizer_state.slots[slot][key].tobytes()


def test_resuming_after_three_epochs_equals_six_uninterrupted(tmp_path: Path) -> None:
    uninterrupted = run(6, None)
    first = run(3, tmp_path)
    assert first.epoch == 3 and latest_checkpoint(tmp_path) == tmp_path / "checkpoint-000003.npz"
    resumed = run(6, tmp_path, resume=True)
    assert_same(resumed, uninterrupted)
    # Resuming a finished run does nothing more.
    assert_same(run(6, tmp_path, resume=True), uninterrupted)


def test_a_resume_removes_the_temporary_files_of_killed_writers_only(tmp_path: Path) -> None:
    # atomic_write's temporaries are .<target>.fnn-<pid>-<random>.tmp: one whose process is
    # gone was killed mid-write; one whose process runs is a write in progress, left alone
    run(3, tmp_path)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    killed = tmp_path / f".checkpoint-000004.npz.fnn-{int(gone.stdout)}-abc123.tmp"
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as writer:
        try:
            writing = tmp_path / f".checkpoint-000004.npz.fnn-{writer.pid}-def456.tmp"
            other = tmp_path / f".params.npz.fnn-{int(gone.stdout)}-ghi789.tmp"  # not a checkpoint's
            for file in (killed, writing, other):
                file.write_bytes(b"half a checkpoint")
            assert run(4, tmp_path, resume=True).epoch == 4
            assert not killed.exists() and writing.exists() and other.exists()
        finally:
            writer.kill()


def test_resume_in_an_empty_directory_starts_afresh(tmp_path: Path) -> None:
    assert_same(run(2, tmp_path / "new", resume=True), run(2, None))


def test_a_fresh_run_refuses_a_directory_with_checkpoints(tmp_path: Path) -> None:
    run(1, tmp_path)
    with pytest.raises(ValueError, match="already holds checkpoints .* pass resume=True"):
        run(2, tmp_path)


def test_a_checkpoint_of_another_run_is_refused(tmp_path: Path) -> None:
    run(1, tmp_path)
    with pytest.raises(CheckpointError, match=r"belongs to another run: batch_size: checkpoint 16, now 8"):
        run(2, tmp_path, resume=True, batch_size=8)
    X, Y, _, _, params = problem()
    with pytest.raises(CheckpointError, match="optimizer: checkpoint 'adam', now 'momentum'"):
        train(
            X, Y, params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=2,
            optimizer=momentum(0.1), batch_size=16, rng=np.random.default_rng(1), checkpoint_dir=tmp_path, resume=True,
        )  # fmt: skip


def schedule_run(schedule: Schedule, epochs: int, checkpoint_dir: Path, resume: bool = False) -> TrainResult:
    X, Y, _, _, params = problem()
    return train(
        X, Y, params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=epochs,
        optimizer=adam(schedule), batch_size=16, rng=np.random.default_rng(1), checkpoint_dir=checkpoint_dir, resume=resume,
    )  # fmt: skip


def test_numpy_hyperparameters_are_checkpointed_and_resumed(tmp_path: Path) -> None:
    # A schedule of one's own may describe itself with NumPy numbers, which JSON does not take:
    # they are stored as Python numbers, and a NaN among them compares equal to itself on resume.
    hyperparameters: tuple[tuple[str, Any], ...] = (("warm", np.int64(3)), ("base", np.float32(0.01)), ("unused", float("nan")))
    schedule = Schedule(lambda step: 0.01, "mine", hyperparameters)
    uninterrupted = schedule_run(schedule, 4, tmp_path / "once")
    schedule_run(schedule, 2, tmp_path / "twice")
    assert load_checkpoint(tmp_path / "twice" / "checkpoint-000002.npz").run["optimizer_hyperparameters"][:2] == [
        ["learning_rate.mine.warm", 3], ["learning_rate.mine.base", float(np.float32(0.01))],
    ]  # fmt: skip
    assert_same(schedule_run(schedule, 4, tmp_path / "twice", resume=True), uninterrupted)
    changed = Schedule(lambda step: 0.01, "mine", (("warm", 4), *hyperparameters[1:]))
    with pytest.raises(CheckpointError, match=r"optimizer_hyperparameters: checkpoint"):
        schedule_run(changed, 5, tmp_path / "twice", resume=True)


def test_a_hyperparameter_that_is_no_number_is_refused_before_training(tmp_path: Path) -> None:
    schedule = Schedule(lambda step: 0.01, "mine", (("shape", "cosine"),))  # type: ignore[arg-type]  # the wrong type is the test
    with pytest.raises(TypeError, match=r"hyperparameter 'learning_rate.mine.shape' of optimizer 'adam' must be a number .* got str 'cosine'"):
        schedule_run(schedule, 1, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_resume_needs_a_directory() -> None:
    with pytest.raises(ValueError, match="resume=True needs checkpoint_dir"):
        run(1, None, resume=True)


def test_a_corrupt_latest_checkpoint_is_refused_and_kept(tmp_path: Path) -> None:
    run(2, tmp_path)
    latest = tmp_path / "checkpoint-000002.npz"
    latest.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        run(4, tmp_path, resume=True)
    assert latest.read_bytes() == b"PK\x03\x04 not really a zip"


STOP_STEP = 100  # of the 250 batches of 8 in an epoch of 2,000 samples

CHILD = textwrap.dedent(
    f"""
    import os
    import sys
    import time
    import numpy as np
    from functional_nn import initialize_parameters, one_hot, train
    from functional_nn.optimizers import adam

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 2000))
    Y = one_hot((X[0] * X[1] > 0).astype(np.int64), 2)
    params = initialize_parameters([20, 16, 2], rng)
    marker = sys.argv[3] if len(sys.argv) > 3 else None

    def stop_in_epoch_3(progress):
        # Say where the run is, then wait there to be killed: in the middle of epoch 3.
        if progress.epoch == 3 and progress.step == {STOP_STEP}:
            with open(marker + ".tmp", "w") as handle:
                handle.write(f"{{progress.epoch}} {{progress.step}} {{progress.steps}}")
            os.replace(marker + ".tmp", marker)
            time.sleep(300)

    train(
        X, Y, params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=5,
        optimizer=adam(1e-3), batch_size=8, rng=np.random.default_rng(1), keep_probs=0.9,
        checkpoint_dir=sys.argv[1], resume=sys.argv[2] == "resume", on_batch=stop_in_epoch_3 if marker else None,
    )
    """
)


def test_a_run_killed_mid_epoch_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    # One BLAS thread for every run, so that matrix products round alike in all three.
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    killed_dir, reference_dir, marker = tmp_path / "killed", tmp_path / "reference", tmp_path / "in-epoch-3"

    child = subprocess.Popen([sys.executable, str(script), str(killed_dir), "fresh", str(marker)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, "the child ended before reaching its step of epoch 3"
            assert time.monotonic() < deadline, "the child did not reach its step of epoch 3 within two minutes"
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)  # it waits in on_batch, after step STOP_STEP of epoch 3
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    epoch, step, steps = map(int, marker.read_text().split())
    assert (epoch, step, steps) == (3, STOP_STEP, 250)  # killed mid-epoch: 100 of its 250 steps made
    latest = latest_checkpoint(killed_dir)
    assert latest == killed_dir / "checkpoint-000002.npz" and load_checkpoint(latest).state.epoch == 2  # epoch 3 never saved

    subprocess.run([sys.executable, str(script), str(killed_dir), "resume"], env=env, check=True, timeout=300)
    subprocess.run([sys.executable, str(script), str(reference_dir), "fresh"], env=env, check=True, timeout=300)
    resumed = load_checkpoint(killed_dir / "checkpoint-000005.npz").state
    reference = load_checkpoint(reference_dir / "checkpoint-000005.npz").state
    assert resumed.history == reference.history
    for key in reference.params:
        assert resumed.params[key].tobytes() == reference.params[key].tobytes()


def test_a_run_on_uint8_pixels_resumes_and_keeps_its_divisor(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    pixels = rng.integers(0, 256, size=(6, 48), dtype=np.uint8)
    Y = one_hot((pixels[0] > pixels[1]).astype(np.int64), 2, dtype=np.float32)
    params = initialize_parameters([6, 5, 2], rng, dtype=np.float32)

    def pixels_run(epochs: int, directory: Path | None, resume: bool = False, divisor: float = 255) -> TrainResult:
        return train(
            pixels, Y, params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=epochs,
            optimizer=adam(1e-2), batch_size=16, rng=np.random.default_rng(1), checkpoint_dir=directory, resume=resume,
            input_divisor=divisor,
        )  # fmt: skip

    pixels_run(2, tmp_path)
    assert_same(pixels_run(4, tmp_path, resume=True), pixels_run(4, None))
    with pytest.raises(CheckpointError, match="input_divisor: checkpoint 255.0, now 256.0"):
        pixels_run(5, tmp_path, resume=True, divisor=256)
