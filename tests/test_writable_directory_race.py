"""Checks of one output folder run at once, and a writer beside them, never fail spuriously.

``check_writable_directory`` makes the missing folders, tries one file in the deepest and
removes the folders again. Two checks of a folder that does not exist yet, or a check beside
a writer that makes the same folder (``save_checkpoint``: ``mkdir``, then ``atomic_write``),
could remove the folder the other was about to use. The interleavings that did so are forced
here with hooks on ``Path.mkdir`` and ``tempfile.NamedTemporaryFile`` (the check's trial
file, made as ``atomic_write`` makes its files), each wait bounded so that a regression
fails rather than hangs; the last tests run checks and writers in threads for a moment.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from functional_nn.serialization import atomic_write, check_writable_directory

WAIT = 10.0
"""Seconds a forced interleaving waits for the other side: far beyond any step here."""


def _check(folder: Path) -> None:
    check_writable_directory(folder, "checkpoint_dir", "hold checkpoints")


def _run_in_threads(jobs: dict[str, Callable[[], object]]) -> dict[str, BaseException]:
    """Run each job in a thread of that name, all at once; return what each one raised."""
    raised: dict[str, BaseException] = {}

    def run(name: str, job: Callable[[], object]) -> None:
        try:
            job()
        except BaseException as error:  # reported by the test, not lost in the thread
            raised[name] = error

    threads = [threading.Thread(target=run, args=(name, job), name=name) for name, job in jobs.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(2 * WAIT)
    assert not any(thread.is_alive() for thread in threads), "a thread is still running"
    return raised


def _everything_under(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


# --------------------------------------------------------------------------------------------
# 1. forced interleavings


def test_two_checks_of_one_missing_folder_both_pass_when_one_removes_it_under_the_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both see the folder missing; "first" makes it; "second" finds it made; "first" tries
    its file and removes the folders; only then does "second" try its file."""
    folder = tmp_path / "runs" / "one"
    both_looked = threading.Barrier(2, timeout=WAIT)
    first_at_trial, second_at_trial, first_done = threading.Event(), threading.Event(), threading.Event()
    real_mkdir, real_trial = Path.mkdir, tempfile.NamedTemporaryFile
    started: set[str] = set()

    def mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
        name = threading.current_thread().name
        if name not in started and name in ("first", "second"):
            started.add(name)
            both_looked.wait()  # each has looked for the folders before either makes one
            if name == "second":
                assert first_at_trial.wait(WAIT)  # "first" has made them all
        real_mkdir(self, *args, **kwargs)

    def trial(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name == "first":
            first_at_trial.set()
            assert second_at_trial.wait(WAIT)  # "second" has made (found) the folders too
        else:
            second_at_trial.set()
            assert first_done.wait(WAIT)  # "first" has tried its file and removed the folders
        return real_trial(*args, **kwargs)

    def first() -> None:
        try:
            _check(folder)
        finally:
            first_done.set()

    monkeypatch.setattr(Path, "mkdir", mkdir)
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", trial)
    raised = _run_in_threads({"first": first, "second": lambda: _check(folder)})
    monkeypatch.undo()
    assert raised == {}
    assert list(tmp_path.iterdir()) == []  # the second one made them again, and removed them


def test_a_check_leaves_alone_the_folders_a_writer_made_after_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check sees the folders missing; a writer makes them (``save_checkpoint`` does
    ``mkdir(parents=True, exist_ok=True)``) before the check makes them; the check must not
    remove them, or the writer's ``atomic_write`` finds no folder."""
    folder = tmp_path / "runs" / "one"
    real_mkdir = Path.mkdir
    writer_made: list[Path] = []

    def mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
        if not writer_made:
            writer_made.append(folder)
            folder.mkdir(parents=True, exist_ok=True)  # the writer's, in between
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    _check(folder)
    monkeypatch.undo()
    assert writer_made == [folder]
    with atomic_write(folder / "checkpoint-000001.npz") as handle:  # the writer goes on
        handle.write(b"written")
    assert (folder / "checkpoint-000001.npz").read_bytes() == b"written"
    assert _everything_under(tmp_path) == ["runs", "runs/one", "runs/one/checkpoint-000001.npz"]


@pytest.mark.parametrize("makes_folder", ["the caller", "atomic_write"])
def test_a_writer_goes_on_when_a_check_removes_the_folder_it_found_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, makes_folder: str
) -> None:
    """The check makes the folders and stops before its trial file; the writer finds them
    made (its ``mkdir`` does nothing) and enters ``atomic_write``; the check then finishes,
    removing them, before the writer makes its temporary file."""
    folder = tmp_path / "runs" / "one"
    target = folder / "checkpoint-000001.npz"
    check_at_trial, writer_at_file, check_done = threading.Event(), threading.Event(), threading.Event()
    real_file = tempfile.NamedTemporaryFile
    writer_files: list[object] = []

    def file(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name == "check":
            check_at_trial.set()
            assert writer_at_file.wait(WAIT)
        elif not writer_files:
            writer_files.append(kwargs.get("dir"))
            writer_at_file.set()
            assert check_done.wait(WAIT)  # the check has removed the folders it made
        return real_file(*args, **kwargs)

    def check() -> None:
        try:
            _check(folder)
        finally:
            check_done.set()

    def write() -> None:
        assert check_at_trial.wait(WAIT)
        if makes_folder == "the caller":  # as save_checkpoint and load_mnist do today
            folder.mkdir(parents=True, exist_ok=True)
            writing = atomic_write(target)
        else:
            writing = atomic_write(target, make_parents=True)
        with writing as handle:
            handle.write(b"written")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", file)
    raised = _run_in_threads({"check": check, "write": write})
    monkeypatch.undo()
    assert raised == {}
    assert writer_files == [Path(os.path.realpath(folder))]  # the interleaving happened as described
    assert target.read_bytes() == b"written"
    assert _everything_under(tmp_path) == ["runs", "runs/one", "runs/one/checkpoint-000001.npz"]


def test_atomic_write_makes_the_missing_folders_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "x.bin"
    with atomic_write(target, make_parents=True) as handle:
        handle.write(b"x")
    assert target.read_bytes() == b"x"
    with pytest.raises(FileNotFoundError, match="does not exist"):  # not asked: refused as before
        with atomic_write(tmp_path / "c" / "x.bin") as handle:
            handle.write(b"never")
    assert _everything_under(tmp_path) == ["a", "a/b", "a/b/x.bin"]


def test_a_folder_that_keeps_refusing_files_is_refused_in_the_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``/proc/self`` refuses a file with ENOENT, as a folder removed meanwhile would: tried
    again a bounded number of times, then refused, leaving nothing."""
    calls: list[object] = []

    def no_file(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("dir"))
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", no_file)
    folder = tmp_path / "runs"
    message = f"checkpoint_dir {folder} cannot hold checkpoints: no file can be created in it (No such file or directory)"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        _check(folder)
    assert set(calls) == {folder} and len(calls) <= 1000  # bounded
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# 2. real threads, for a moment


def _run_rounds(tmp_path: Path, jobs: Callable[[Path], dict[str, Callable[[], object]]], seconds: float = 2.0) -> list[Path]:
    """Rounds of ``jobs(folder)`` started together on a fresh missing folder, for at most
    ``seconds`` (and 300 rounds); fail on the first thing any job raised. Returns the folders."""
    folders: list[Path] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(folders) < 300:
        folder = tmp_path / f"round{len(folders)}" / "runs" / "one"
        folders.append(folder)
        named = jobs(folder)
        together = threading.Barrier(len(named), timeout=WAIT)

        def started(job: Callable[[], object]) -> Callable[[], object]:
            return lambda: (together.wait(), job())

        raised = _run_in_threads({name: started(job) for name, job in named.items()})
        assert raised == {}, f"round {len(folders) - 1}: {raised}"
    return folders


def test_checks_in_threads_never_fail_and_leave_no_file(tmp_path: Path) -> None:
    folders = _run_rounds(tmp_path, lambda folder: {f"check{k}": lambda: _check(folder) for k in range(4)})
    assert len(folders) >= 10
    # folders only: one check may keep a folder that another check's folder was made in
    assert [path for path in tmp_path.rglob("*") if not path.is_dir()] == []


def test_checks_and_writers_in_threads_never_fail(tmp_path: Path) -> None:
    def jobs(folder: Path) -> dict[str, Callable[[], object]]:
        def write(k: int) -> None:
            with atomic_write(folder / f"w{k}.bin", make_parents=True) as handle:
                handle.write(b"%d" % k)

        named: dict[str, Callable[[], object]] = {f"check{k}": lambda: _check(folder) for k in range(3)}
        return {**named, "write0": lambda: write(0), "write1": lambda: write(1)}

    folders = _run_rounds(tmp_path, jobs)
    assert len(folders) >= 10
    for folder in folders:
        assert sorted(p.name for p in folder.iterdir()) == ["w0.bin", "w1.bin"]  # no trial nor temporary file
