"""What the scripts still did wrong at their edges: ``_cli.make_output_dir`` counted as its own,
and so removed when the run failed, a folder another process made while it made its own;
``_cli.remove_empty`` stopped at a folder already gone, leaving its parents; benchmark_rounds.py
and cats_vs_dogs.py took a list naming a thing twice; benchmark.py's counts below 1 did not
say what came; and a resumed run refused for its saved ``--threads`` did not say how to go on.

The other process is played by a hook on ``Path.mkdir``, at the one moment it matters, so
every interleaving here is forced rather than hoped for. The machine is made to have 2 cores.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from functional_nn import distributed as dist
from functional_nn.data import load_image_folder

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import _cli  # noqa: E402  (the scripts folder is not a package)
import _threads  # noqa: E402
import benchmark  # noqa: E402
import benchmark_rounds  # noqa: E402
import cats_vs_dogs  # noqa: E402
import train_mnist  # noqa: E402
from test_scripts_arguments import _refused  # noqa: E402

CORES = 2
BOUND = 4 * CORES  # _cli.PER_CORE per core


@pytest.fixture(autouse=True)
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_threads, "usable_cores", lambda: CORES)


def _everything_under(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def _failing_run(out: Path) -> int:
    """A ``run_main`` whose run makes its output folder, then fails before writing into it."""

    def main(argv: object) -> int:
        _cli.make_output_dir(out)
        raise _cli.UsageError("the run failed")

    return _cli.run_main(main, [])


# --------------------------------------------------------------------------------------------
# _cli.make_output_dir: only the folders its own mkdir made are its to remove


def test_make_output_dir_leaves_alone_a_parent_another_process_made_after_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The script sees ``runs`` and ``runs/one`` missing; another process makes ``runs`` (its
    own ``--out runs/two`` on the way) before the script does; the script's run then fails.
    ``runs`` is the other's: the cleanup removes ``runs/one`` only."""
    runs, out = tmp_path / "runs", tmp_path / "runs" / "one"
    real_mkdir = Path.mkdir
    other_made: list[Path] = []

    def mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
        if not other_made:
            other_made.append(runs)
            real_mkdir(runs)  # the other process's, in between
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    assert _failing_run(out) == 2
    monkeypatch.undo()
    assert capsys.readouterr().err == "error: the run failed\n"
    assert other_made == [runs]
    assert _everything_under(tmp_path) == ["runs"]  # the other's folder survives the cleanup


def test_make_output_dir_returns_only_the_folders_it_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs, out = tmp_path / "runs", tmp_path / "runs" / "one"
    real_mkdir = Path.mkdir

    def mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
        if self == runs and not runs.exists():
            real_mkdir(runs)  # another process's, just before the script's
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    assert _cli.make_output_dir(out) == [out]
    monkeypatch.undo()
    assert _cli.make_output_dir(tmp_path / "a" / "b" / "c") == [tmp_path / "a" / "b" / "c", tmp_path / "a" / "b", tmp_path / "a"]
    assert _cli.make_output_dir(tmp_path / "a" / "b" / "c") == []  # all there already
    assert _cli.make_output_dir(tmp_path / "a" / "d") == [tmp_path / "a" / "d"]


def test_make_output_dir_makes_a_parent_again_that_another_process_removed_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another process makes ``runs`` before the script, so it is not the script's; then that
    process fails and removes it, before the script makes ``runs/one`` in it. The script
    makes ``runs`` again, its own this time, and removes both when its run fails too."""
    runs, out = tmp_path / "runs", tmp_path / "runs" / "one"
    real_mkdir = Path.mkdir
    other: list[str] = []

    def mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
        if self == runs and not other:
            other.append("made")
            real_mkdir(runs)
        elif self == out and other == ["made"]:
            other.append("removed")
            runs.rmdir()
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    assert _cli.make_output_dir(out) == [out, runs]
    assert other == ["made", "removed"]
    out.rmdir()
    runs.rmdir()
    other.clear()
    assert _failing_run(out) == 2
    monkeypatch.undo()
    assert capsys.readouterr().err == "error: the run failed\n"
    assert _everything_under(tmp_path) == []


# --------------------------------------------------------------------------------------------
# _cli.remove_empty: a folder already gone does not stop it


def test_remove_empty_goes_on_to_the_parents_when_a_folder_is_already_gone(tmp_path: Path) -> None:
    made = _cli.make_output_dir(tmp_path / "a" / "b" / "c")
    (tmp_path / "a" / "b" / "c").rmdir()  # removed by someone else: its parents are still the run's
    _cli.remove_empty(made)
    assert _everything_under(tmp_path) == []


def test_remove_empty_still_stops_at_a_folder_that_holds_something(tmp_path: Path) -> None:
    made = _cli.make_output_dir(tmp_path / "a" / "b" / "c")
    (tmp_path / "a" / "b" / "kept.txt").write_text("written")
    _cli.remove_empty(made)
    assert _everything_under(tmp_path) == ["a", "a/b", "a/b/kept.txt"]


# --------------------------------------------------------------------------------------------
# a list naming a thing twice: benchmark_rounds.py --shard-sizes, cats_vs_dogs.py --classes


@pytest.mark.parametrize(("sizes", "twice"), [("64,64", "64"), ("64,512,4096,512", "512")])
def test_benchmark_rounds_refuses_a_shard_size_named_twice(
    sizes: str, twice: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(dist, "cluster_client", lambda *args, **kwargs: pytest.fail("refused at parsing: no cluster is started"))
    line = _refused(capsys, lambda: benchmark_rounds.main(["--shard-sizes", sizes]))
    assert line.endswith(f"error: --shard-sizes names {twice} twice: each shard size is timed once"), line


def test_benchmark_rounds_takes_different_shard_sizes() -> None:
    assert benchmark_rounds.parse_args(["--shard-sizes", "512,64"]).shard_sizes == (512, 64)


def _folders_read(monkeypatch: pytest.MonkeyPatch) -> list[str | os.PathLike[str]]:
    """The folders cats_vs_dogs.py hands to ``load_image_folder``, which still reads them."""
    real = load_image_folder
    folders: list[str | os.PathLike[str]] = []

    def recording(folder: str | os.PathLike[str], *args: Any, **kwargs: Any) -> Any:
        folders.append(folder)
        return real(folder, *args, **kwargs)

    monkeypatch.setattr(cats_vs_dogs, "load_image_folder", recording)
    return folders


@pytest.mark.parametrize(("classes", "twice"), [("cats,cats", "cats"), ("cats,dogs,cats", "cats")])
def test_cats_vs_dogs_refuses_a_class_named_twice(
    classes: str, twice: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("cats", "dogs"):
        (tmp_path / "pictures" / name).mkdir(parents=True)
    folders_read = _folders_read(monkeypatch)
    argv = [str(tmp_path / "pictures"), "--classes", classes, "--out", str(tmp_path / "out")]
    line = _refused(capsys, lambda: cats_vs_dogs.main(argv))
    assert line.endswith(f"error: --classes names {twice} twice: give two different class folders"), line
    assert not (tmp_path / "out").exists()
    assert folders_read == []  # refused at parsing: no picture is read


@pytest.mark.parametrize("classes", ["cats", "cats,dogs,birds"])
def test_cats_vs_dogs_refuses_other_than_two_classes_before_reading_a_picture(
    classes: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folders_read = _folders_read(monkeypatch)
    argv = [str(tmp_path), "--classes", classes, "--out", str(tmp_path / "out")]
    line = _refused(capsys, lambda: cats_vs_dogs.main(argv))
    count = len(classes.split(","))
    assert line.endswith(f"error: --classes must name two class folders, such as cats,dogs; got {count}: {classes}"), line
    assert not (tmp_path / "out").exists()
    assert folders_read == []


# --------------------------------------------------------------------------------------------
# benchmark.py and benchmark_rounds.py: a count out of range says what came


@pytest.mark.parametrize(("flag", "value"), [("--threads", "0"), ("--repeats", "0"), ("--batch-size", "-3")])
def test_benchmark_says_which_count_below_one_it_got(flag: str, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = _refused(capsys, lambda: benchmark.parse_arguments([flag, value]))
    assert line.endswith(f"error: {flag} must be >= 1, got {value}"), line


@pytest.mark.parametrize(
    ("script", "argv", "message"),
    [
        ("benchmark", ["--warmup", "-1"], "--warmup must be >= 0, got -1"),
        ("benchmark", ["--samples", "0"], "--samples must be >= 1, got 0"),
        ("benchmark_rounds", ["--rounds", "2"], "--rounds must be >= 3 (the first two are dropped), got 2"),
        ("benchmark_rounds", ["--repeats", "0"], "--repeats must be >= 1, got 0"),
        ("benchmark_rounds", ["--workers", "0"], "--workers must be >= 1, got 0"),
    ],
)
def test_the_benchmarks_say_which_value_out_of_range_they_got(
    script: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    parse = benchmark.parse_arguments if script == "benchmark" else benchmark_rounds.parse_args
    line = _refused(capsys, lambda: parse(argv))
    assert line.endswith(f"error: {message}"), line


# --------------------------------------------------------------------------------------------
# train_mnist.py --resume: a run started with more threads than this machine takes


def _checkpointed_run(folder: Path, *saved: str) -> Path:
    folder.mkdir()
    (folder / train_mnist.COMMAND_FILE).write_text(json.dumps({"argv": list(saved), "cwd": str(folder.parent)}))
    return folder


def _resume_refused(capsys: pytest.CaptureFixture[str], run: Path) -> list[str]:
    with pytest.raises(SystemExit) as exit_info:
        train_mnist.parse_args(["--resume", str(run)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "Traceback" not in err
    return err.strip().splitlines()


@pytest.mark.parametrize(
    "saved",
    [
        ["--threads", "64", "--epochs", "1"],
        ["--epochs", "1", "--threads=64"],
        ["--threads", "2", "--epochs", "1", "--threads", "64"],  # argparse takes the last
    ],
)
def test_resume_refused_for_the_runs_threads_says_to_pass_threads_now(
    saved: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _checkpointed_run(tmp_path / "run", *saved)
    lines = _resume_refused(capsys, run)
    assert f": error: --threads 64 is more than {BOUND} (4 per core, and this process may use {CORES}): " in lines[-3], lines
    assert lines[-2:] == [
        f"error: (in {run / train_mnist.COMMAND_FILE}, the command line the run was started with: {saved})",
        f"error: to resume it on this machine, pass --threads N now, N at most {BOUND} (every core: --resume {run} --threads {CORES}); "
        "the results may then differ in their last bits from those of --threads 64",
    ]
    args, settings = train_mnist.parse_args(["--resume", str(run), "--threads", str(CORES)])  # what the line says works
    assert args.threads == CORES and settings.epochs == 1


@pytest.mark.parametrize("saved", [["--epochs", "0"], ["--threads", "64", "--threads", "2", "--epochs", "0"]])
def test_resume_refused_for_anything_else_does_not_speak_of_threads(
    saved: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _checkpointed_run(tmp_path / "run", *saved)
    lines = _resume_refused(capsys, run)
    assert lines[-2].endswith(": error: --epochs must be >= 1, got 0"), lines
    assert lines[-1] == f"error: (in {run / train_mnist.COMMAND_FILE}, the command line the run was started with: {saved})"


def test_threads_pinned_before_numpy_loads_are_the_last_given_as_argparse_takes_them() -> None:
    assert _threads.threads_from_argv(["--threads", "4", "--threads", "1"]) == 1
    assert _threads.threads_from_argv(["--threads=4", "--epochs", "2", "--threads", "3"]) == 3
    assert _threads.threads_from_argv(["--threads", "4", "--threads=0"]) is None  # argparse refuses the last
    # "+2" is 2 to argparse (int()), so the BLAS must be pinned to 2 before NumPy loads, not left unpinned
    assert _threads.threads_from_argv(["--threads", "+2"]) == 2 and _threads.threads_from_argv(["--threads= 3"]) == 3
    assert _threads.threads_from_argv(["--threads", "two"]) is None and _threads.threads_from_argv(["--threads", "-1"]) is None
