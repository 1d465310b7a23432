"""Interrupted runs, as a user whose jobs get killed: a restart is pointed the right way, and
Ctrl-C in a terminal is one line even when a local cluster's worker processes get it too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import WriteMNISTCache
from functional_nn.checkpoints import latest_checkpoint
from test_scripts_mnist import _small_mnist

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import train_mnist  # noqa: E402  (the scripts folder is not a package)

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def test_restarting_a_checkpointed_run_without_resume_points_to_resume_not_overwrite(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache
) -> None:
    """The same command again on a run's --out (what a user types after a kill): the advice
    must be one that works, and --overwrite is refused on a folder of checkpoints."""
    mnist_cache(_small_mnist(rng, 40, 10, 10))
    out = tmp_path / "run"
    argv = ["--hidden", "4", "--epochs", "1", "--batch-size", "20", "--augment", "none", "--checkpoint", "--out", str(out)]
    assert train_mnist.main(argv) == 0
    assert latest_checkpoint(out / "checkpoints") is not None
    capsys.readouterr()
    assert train_mnist.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert f"continue it with --resume {out}" in err and "--overwrite" not in err


CTRL_C_CHILD = """
import sys
sys.argv[0] = {script!r}
sys.path.insert(0, {scripts!r})
import sweep
sys.exit(sweep.main(sys.argv[1:]))
"""


def test_ctrl_c_on_a_sweep_over_worker_processes_is_one_line(
    tmp_path: Path, rng: np.random.Generator, mnist_cache: WriteMNISTCache
) -> None:
    """Ctrl-C in a terminal sends SIGINT to the whole process group: the script and the local
    cluster's worker processes. The workers printed KeyboardInterrupt tracebacks, and Dask's
    warnings of the tasks their closing cancelled, above the script's one line."""
    mnist_cache(_small_mnist(rng, 40, 10, 10))
    argv = ["--workers", "1", "--subset", "40", "--epochs", "100000", "--batch-size", "8", "--out", str(tmp_path / "sweep")]
    child = subprocess.Popen(
        [sys.executable, "-c", CTRL_C_CHILD.format(script=str(SCRIPTS / "sweep.py"), scripts=str(SCRIPTS)), *argv],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # printed once the cluster's worker is up, as the runs are sent
        assert line.startswith("12 runs of 100000 epochs"), line
        time.sleep(0.5)  # the worker is training the first run, of 100,000 epochs: none has finished (those would be kept)
        assert child.poll() is None
        os.killpg(child.pid, signal.SIGINT)  # as the terminal's Ctrl-C does
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert child.returncode == 130
    assert err == "error: interrupted (Ctrl-C)\n"
    assert not (tmp_path / "sweep").exists()


def test_resuming_a_checkpoint_past_the_epochs_or_rounds_asked_for_is_refused(rng: np.random.Generator, tmp_path: Path) -> None:
    """``epochs`` counts the whole run: resumed with fewer, train returned the later state and
    train_epochs yielded nothing, so a loop reading its last state failed with a NameError."""
    from functional_nn import initialize_parameters, one_hot, train, train_epochs
    from functional_nn.distributed import split_shards, train_rounds

    X = rng.standard_normal((3, 12))
    Y = one_hot(rng.integers(0, 2, 12), 2)
    params = initialize_parameters((3, 4, 2), rng)
    common: dict[str, object] = dict(activations=("relu", "softmax"), loss="categorical_cross_entropy", learning_rate=0.1)
    done = train(X, Y, params, epochs=3, checkpoint_dir=tmp_path / "epochs", **common)  # type: ignore[arg-type]
    past = r"^epochs=2, but the checkpoint resumed is of epoch 3: epochs counts the whole run, so pass epochs >= 3 to continue it"
    with pytest.raises(ValueError, match=past):
        train(X, Y, params, epochs=2, checkpoint_dir=tmp_path / "epochs", resume=True, **common)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=past):
        train_epochs(X, Y, params, epochs=2, checkpoint_dir=tmp_path / "epochs", resume=True, **common)  # type: ignore[arg-type]
    again = train(X, Y, params, epochs=3, checkpoint_dir=tmp_path / "epochs", resume=True, **common)  # type: ignore[arg-type]
    assert again.epoch == 3 and all(np.array_equal(again.params[k], done.params[k]) for k in params)
    shards = split_shards(X, Y, 2)
    for _ in train_rounds(shards, params, rounds=3, checkpoint_dir=tmp_path / "rounds", **common):  # type: ignore[arg-type]
        pass
    with pytest.raises(ValueError, match=r"^rounds=1, but the checkpoint resumed is of round 3: rounds counts the whole run"):
        train_rounds(shards, params, rounds=1, checkpoint_dir=tmp_path / "rounds", resume=True, **common)  # type: ignore[arg-type]


def test_a_resumed_train_rounds_removes_the_temporary_file_of_a_killed_writer(rng: np.random.Generator, tmp_path: Path) -> None:
    """As train's resume does: resumed to the round the killed run had reached, no write would remove it."""
    from functional_nn import initialize_parameters, one_hot
    from functional_nn.distributed import split_shards, train_rounds

    X = rng.standard_normal((3, 12))
    shards = split_shards(X, one_hot(rng.integers(0, 2, 12), 2), 2)
    params = initialize_parameters((3, 4, 2), rng)
    common: dict[str, object] = dict(activations=("relu", "softmax"), loss="categorical_cross_entropy", learning_rate=0.1)
    for _ in train_rounds(shards, params, rounds=2, checkpoint_dir=tmp_path, **common):  # type: ignore[arg-type]
        pass
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    killed = tmp_path / f".checkpoint-000003.npz.fnn-{int(gone.stdout)}-abc123.tmp"
    killed.write_bytes(b"half a checkpoint")
    assert list(train_rounds(shards, params, rounds=2, checkpoint_dir=tmp_path, resume=True, **common)) == []  # type: ignore[arg-type]
    assert not killed.exists()
