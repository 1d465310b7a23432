"""The scripts under a scheduler: SIGTERM (``kill``, ``timeout``, a job scheduler) ends a run as
Ctrl-C does, in one line with the folders it made removed, and a long benchmark says how far
it is on stderr while stdout keeps the report alone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from functional_nn.serialization import make_folders

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import _cli  # noqa: E402  (the scripts folder is not a package)
import benchmark  # noqa: E402

# --------------------------------------------------------------------------------------------
# SIGTERM: one line, status 143, no traceback, no empty folder


def _tiny_kaggle_csv(path: Path, rng: np.random.Generator, m: int) -> Path:
    header = "label," + ",".join(f"pixel{i}" for i in range(784))
    rows = [",".join(map(str, [int(rng.integers(0, 10)), *rng.integers(0, 256, 784).tolist()])) for _ in range(m)]
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_sigterm_ends_a_real_run_in_one_line_and_leaves_no_folder(tmp_path: Path, rng: np.random.Generator) -> None:
    csv = _tiny_kaggle_csv(tmp_path / "train.csv", rng, 40)
    out = tmp_path / "runs" / "x"
    argv = [
        sys.executable, str(SCRIPTS / "train_mnist.py"), "--csv", str(csv), "--dev-size", "10", "--epochs", "1000000",
        "--hidden", "4", "--batch-size", "16", "--augment", "none", "--threads", "1", "--out", str(out),
    ]  # fmt: skip
    env = {**os.environ, "FUNCTIONAL_NN_DATA": str(tmp_path / "data"), "PYTHONPATH": str(SCRIPTS.parent)}
    with open(tmp_path / "stdout", "wb") as stdout, open(tmp_path / "stderr", "wb") as stderr:
        child = subprocess.Popen(argv, stdout=stdout, stderr=stderr, env=env, cwd=tmp_path)
        try:
            deadline = time.monotonic() + 60  # a second or two: Python, NumPy and 40 rows to read
            while not out.is_dir():  # made once everything is validated, just before the first epoch
                assert child.poll() is None, (tmp_path / "stderr").read_text()
                assert time.monotonic() < deadline, "the run did not make its folder within a minute"
                time.sleep(0.01)
            child.send_signal(signal.SIGTERM)
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert child.returncode == 128 + signal.SIGTERM
    assert (tmp_path / "stderr").read_text() == "error: terminated (SIGTERM)\n"
    assert not (tmp_path / "runs").exists()  # the folders it made are gone: nothing was written


def _raising(*_: object) -> None:
    raise RuntimeError("SIGTERM reached the test's own handler, not run_main's")


@pytest.fixture
def sigterm_raises() -> Iterator[None]:
    """SIGTERM handled by ``_raising`` for the test: without run_main's own handler the test fails rather than dies."""
    previous = signal.signal(signal.SIGTERM, _raising)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.usefixtures("sigterm_raises")
def test_run_main_reports_sigterm_and_restores_the_handler(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def main(argv: Sequence[str] | None) -> int:
        _cli.make_output_dir(tmp_path / "runs" / "x")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)  # the handler interrupts it
        return 0

    assert _cli.run_main(main, []) == 143
    assert signal.getsignal(signal.SIGTERM) is _raising
    assert capsys.readouterr().err == "error: terminated (SIGTERM)\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("sigterm_raises")
def test_sigterm_just_as_the_output_folder_is_made_still_removes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window the subprocess test above can hit under load: the folders made, not yet recorded."""

    def made_then_terminated(folder: Path) -> list[Path]:
        created = make_folders(folder)
        os.kill(os.getpid(), signal.SIGTERM)  # handled before the next line: make_output_dir has not recorded them
        return created

    monkeypatch.setattr(_cli, "make_folders", made_then_terminated)
    reached: list[bool] = []

    def main(argv: Sequence[str] | None) -> int:
        _cli.make_output_dir(tmp_path / "runs" / "x")
        reached.append(True)
        return 0

    assert _cli.run_main(main, []) == 143
    assert reached == []  # Terminated came as make_output_dir ended, before the run went on
    assert capsys.readouterr().err == "error: terminated (SIGTERM)\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("sigterm_raises")
def test_sigterm_keeps_what_a_script_adds_to_its_ctrl_c_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A script that turns Ctrl-C into a more helpful one (train_mnist's ``--resume`` hint) does so for SIGTERM too."""

    def main(argv: Sequence[str] | None) -> int:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(10)
        except KeyboardInterrupt:
            raise KeyboardInterrupt("after epoch 1 of 3: continue the run with --resume out") from None
        return 0

    assert _cli.run_main(main, []) == 143
    assert capsys.readouterr().err == "error: terminated (SIGTERM) after epoch 1 of 3: continue the run with --resume out\n"


@pytest.mark.usefixtures("sigterm_raises")
def test_ctrl_c_is_still_130_with_the_handler_in_place(capsys: pytest.CaptureFixture[str]) -> None:
    def main(argv: Sequence[str] | None) -> int:
        assert signal.getsignal(signal.SIGTERM) is not _raising
        raise KeyboardInterrupt

    assert _cli.run_main(main, []) == 130
    assert signal.getsignal(signal.SIGTERM) is _raising
    assert capsys.readouterr().err == "error: interrupted (Ctrl-C)\n"


def test_run_main_outside_the_main_thread_leaves_signals_alone() -> None:
    handlers: list[object] = []
    statuses: list[int] = []

    def main(argv: Sequence[str] | None) -> int:
        handlers.append(signal.getsignal(signal.SIGTERM))
        return 0

    before = signal.getsignal(signal.SIGTERM)
    thread = threading.Thread(target=lambda: statuses.append(_cli.run_main(main, [])))  # signal.signal would raise here
    thread.start()
    thread.join(timeout=30)
    assert statuses == [0] and handlers == [before]


# --------------------------------------------------------------------------------------------
# benchmark: progress on stderr as it goes, the report alone on stdout at the end


def test_benchmark_says_how_far_it_is_on_stderr_as_it_goes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str]] = []  # (stdout, stderr) so far, at every ceiling timing: the end of each round
    time_products = benchmark.time_products

    def timed(*args: object, **kwargs: object) -> float:
        captured = capsys.readouterr()
        seen.append((captured.out, captured.err))
        return time_products(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(benchmark, "time_products", timed)
    argv = [
        "--data", "random", "--samples", "200", "--repeats", "2", "--warmup", "1", "--hidden", "8", "4",
        "--optimizers", "sgd", "--contenders", "functional_nn", "--ceiling-seconds", "0.005", "--threads", "1",
        "--settle-seconds", "0",
    ]  # fmt: skip
    assert benchmark.main(argv) == 0
    captured = capsys.readouterr()
    out = "".join(o for o, _ in seen) + captured.out
    err = "".join(e for _, e in seen) + captured.err
    assert all(o == "" for o, _ in seen)  # stdout waits for the report
    assert seen[0][1].splitlines()[-1] == "benchmark: 784-8-10, round 1 of 2"  # said before the round's end
    assert err.splitlines() == [
        "benchmark: 784-8-10 (sgd): 1 warm-up epoch(s)",
        "benchmark: 784-8-10, round 1 of 2",
        "benchmark: 784-8-10, round 2 of 2",
        "benchmark: 784-4-10 (sgd): 1 warm-up epoch(s)",
        "benchmark: 784-4-10, round 1 of 2",
        "benchmark: 784-4-10, round 2 of 2",
    ]
    lines = out.strip().splitlines()
    assert lines[0].startswith("functional_nn benchmark: random, MNIST-shaped, 200 samples per epoch")
    assert not any(line.startswith("benchmark: ") for line in lines)
    assert set(json.loads(lines[-1])["results"]) == {"784-8-10", "784-4-10"}
