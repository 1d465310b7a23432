"""train_mnist.py's options against what they promise, on small digit files made here: the
threads of a resumed run, a finished run that --resume leaves alone, the outputs --overwrite
replaces, a --dev-size larger than the MNIST cache, --resume from another folder, --dashboard."""

from __future__ import annotations

import json
import sys
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
import pytest

from conftest import WriteMNISTCache
from functional_nn.serialization import load_parameters
from test_scripts_mnist import _kaggle_csv, _run, _small_mnist

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import _threads  # noqa: E402  (the scripts folder is not a package)
import train_mnist  # noqa: E402


def _quick(csv: Path, out: Path, *extra: str) -> list[str]:
    return ["--csv", str(csv), "--epochs", "2", "--hidden", "8", "--batch-size", "16", "--dev-size", "10", "--out", str(out), *extra]


def _interrupted_run(tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], *extra: str) -> Path:
    """A checkpointed run of 2 epochs, as if killed during its second."""
    out = tmp_path / "run"
    _run(capsys, _quick(_kaggle_csv(tmp_path / "train.csv", rng, 40), out, "--checkpoint", *extra))
    (out / "checkpoints" / "checkpoint-000002.npz").unlink()
    (out / "params.npz").unlink()
    return out


def test_resume_pins_the_threads_given_now_else_the_runs_own(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _interrupted_run(tmp_path, rng, capsys, "--threads", "1")
    pinned: list[int | None] = []
    original = _threads.pinned_threads

    def recorded(threads: int | None) -> AbstractContextManager[object]:
        pinned.append(threads)
        return original(threads)

    monkeypatch.setattr(_threads, "pinned_threads", recorded)
    _, summary = _run(capsys, ["--resume", str(out), "--threads", "2"])  # "the thread count is the machine's"
    assert pinned == [2] and summary["threads"] == 2
    (out / "checkpoints" / "checkpoint-000002.npz").unlink()
    (out / "params.npz").unlink()
    _, summary = _run(capsys, ["--resume", str(out)])  # none given: the run's own, for a bitwise resume
    assert pinned == [2, 1] and summary["threads"] == 1
    # run as a script, the environment is pinned before NumPy loads, from the run's command file
    assert train_mnist.threads_of_resumed_run(["--resume", str(out)]) == 1
    assert train_mnist.threads_of_resumed_run([f"--resume={out}"]) == 1
    assert train_mnist.threads_of_resumed_run(["--resume", str(tmp_path)]) is None  # no command file: parse_args says so
    assert train_mnist.threads_of_resumed_run(["--epochs", "2"]) is None


def test_resume_refuses_a_preset_even_the_default_one(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _interrupted_run(tmp_path, rng, capsys, "--preset", "tutorial")
    with pytest.raises(SystemExit) as refused:
        train_mnist.main(["--resume", str(out), "--preset", "default"])
    assert refused.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(
        f"error: --resume continues the run in {out} with the settings it was started with: drop --preset"
    )
    args, settings = train_mnist.parse_args([])
    assert args.preset == "default" and settings == train_mnist.PRESETS["default"]


def test_resuming_a_finished_run_leaves_its_outputs_alone(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    _run(capsys, _quick(_kaggle_csv(tmp_path / "train.csv", rng, 40), out, "--checkpoint"))
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert json.loads(before["history.json"])["epochs"][0]["seconds"] > 0
    assert train_mnist.main(["--resume", str(out)]) == 0
    assert capsys.readouterr().out == (
        f"{out} finished its 2 epochs (checkpoint-000002.npz) and holds its outputs: nothing to continue, nothing rewritten\n"
    )
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before  # the timings are not lost


def test_overwrite_removes_the_earlier_outputs_this_run_does_not_write(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _kaggle_csv(tmp_path / "train.csv", rng, 40)
    out = tmp_path / "run"
    _run(capsys, _quick(csv, out, "--onnx"))
    (out / train_mnist.COMMAND_FILE).write_text('{"argv": ["--epochs", "9"]}\n')  # as a --checkpoint run killed in epoch 1 leaves it
    lines, _ = _run(capsys, _quick(csv, out, "--overwrite", "--seed", "4"))
    assert not (out / "model.onnx").exists() and not (out / train_mnist.COMMAND_FILE).exists()
    assert lines[-2].endswith(f" to {out}; removed the earlier run's model.onnx, command.json")
    # a later --resume finds no command line of another run to continue
    with pytest.raises(SystemExit):
        train_mnist.main(["--resume", str(out)])
    assert "not a run started with --checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize("dev_size", ["100", "150"])
def test_a_dev_size_beyond_the_mnist_training_images_is_refused(
    dev_size: str, tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache
) -> None:
    mnist_cache(_small_mnist(rng, 80, 20, 30))
    out = tmp_path / "run"
    assert train_mnist.main(["--dev-size", dev_size, "--epochs", "1", "--hidden", "4", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: --dev-size {dev_size} leaves nothing to train on: MNIST has 100 training images\n"
    assert captured.out == "" and not out.exists()


def test_resume_from_another_folder_finds_a_relative_csv(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _kaggle_csv(tmp_path / "train.csv", rng, 40)
    monkeypatch.chdir(tmp_path)
    argv = _quick(Path("train.csv"), Path("whole"))
    _run(capsys, argv)
    _run(capsys, [*argv[:-1], "run", "--checkpoint"])
    (tmp_path / "run" / "checkpoints" / "checkpoint-000002.npz").unlink()
    (tmp_path / "run" / "params.npz").unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    lines, _ = _run(capsys, ["--resume", str(tmp_path / "run")])
    assert lines[0].startswith(f"{tmp_path / 'train.csv'} (40 rows): 30 train, 10 dev")
    whole, resumed = load_parameters(tmp_path / "whole" / "params.npz"), load_parameters(tmp_path / "run" / "params.npz")
    assert all(resumed.params[key].tobytes() == whole.params[key].tobytes() for key in whole.params)


def test_dashboard_needs_a_local_cluster(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    for argv in (["--dashboard"], ["--dashboard", "--scheduler", "tcp://127.0.0.1:8786"]):
        with pytest.raises(SystemExit) as refused:
            train_mnist.parse_args(argv)
        assert refused.value.code == 2
        assert capsys.readouterr().err.splitlines()[-1].endswith(
            "error: --dashboard serves the dashboard of a local cluster: give it with --workers N, not alone or with --scheduler"
        )
    assert train_mnist.parse_args(["--dashboard", "--workers", "1"])[0].dashboard
