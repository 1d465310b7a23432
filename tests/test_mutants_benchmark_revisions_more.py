"""More of scripts/benchmark_revisions.py pinned: what a second round of mutation testing found unpinned.

How the old revision is extracted (git's failure is raised, a link leading out of the folder is
refused), where each run's output folder and the old tree go (a call-through spy on
``run_training`` records every run's checkout, arguments, folder and label), a run whose
summary has no test accuracy, a ``--repository`` given with ``..`` in it, and the help text of
every option, defaults included. Each run's peak memory is steered to a chosen fraction of a
MiB, and a user's run in a process of its own is watched line by line while its runs wait.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import tarfile
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import benchmark_revisions as revisions  # noqa: E402  (the scripts folder is not a package)
from test_benchmark_revisions import git, last_json, repository  # noqa: E402,F401  (repository: the fixture)


def _commit(checkout: Path, message: str) -> str:
    git(checkout, "add", "-A")
    git(checkout, "commit", "-q", "-m", message)
    return subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()


# --------------------------------------------------------------------------------------------
# extract_revision


def test_a_revision_whose_tree_links_out_of_the_folder_is_refused(repository: Path, tmp_path: Path) -> None:  # noqa: F811
    (repository / "escape").symlink_to(Path("..") / ".." / "outside")
    _commit(repository, "a link out of the tree")
    into = tmp_path / "old"
    into.mkdir()
    with pytest.raises(ValueError, match=r"^--old: revision HEAD's tree cannot be extracted safely: ") as refused:
        revisions.extract_revision(repository, "HEAD", into)
    assert isinstance(refused.value.__cause__, tarfile.LinkOutsideDestinationError)
    assert not (into / "escape").is_symlink()


def test_a_revision_that_is_not_a_commit_is_named_with_the_repository(repository: Path, tmp_path: Path) -> None:  # noqa: F811
    for revision in ("no-such-revision", "HEAD:scripts"):
        with pytest.raises(ValueError) as refused:
            revisions.extract_revision(repository, revision, tmp_path)
        assert str(refused.value) == f"--old: {revision!r} is not a commit of the git repository at {repository}"
    assert list(tmp_path.iterdir()) == [repository]


def test_a_revision_git_cannot_archive_is_refused_in_gits_words(
    repository: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    """The commit is there but a file of its tree is not: ``git archive`` fails, and says why in one error line."""
    _commit(repository, "all of it")
    blob = subprocess.run(["git", "-C", str(repository), "rev-parse", "HEAD:scripts/train_mnist.py"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    (repository / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    into = tmp_path / "old"
    into.mkdir()
    with pytest.raises(ValueError, match=rf"^--old: git archive of HEAD failed in {re.escape(str(repository))} \(status [1-9]\d*\): .*{blob}"):
        revisions.extract_revision(repository, "HEAD", into)
    assert revisions.main(["--repository", str(repository), "--old", "HEAD", "--pairs", "1"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: --old: git archive of HEAD failed in ") and blob in error


# --------------------------------------------------------------------------------------------
# _main: each run's checkout, arguments, output folder and label


class RecordedRun(NamedTuple):
    checkout: Path
    arguments: tuple[str, ...]
    out: Path
    label: str
    out_existed: bool  # before the run: it must not


class Recorded(NamedTuple):
    calls: list[RecordedRun]
    runs: list[revisions.Run]  # what each call returned
    own_peaks: list[int | None]  # what each own_peak_kib call returned


def _recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    """Every ``run_training`` and ``own_peak_kib`` call from now on (call-through spies)."""
    recorded = Recorded([], [], [])
    real_run_training, real_own_peak_kib = revisions.run_training, revisions.own_peak_kib

    def recorded_run_training(checkout: Path, arguments: Sequence[str], out: Path, label: str) -> revisions.Run:
        recorded.calls.append(RecordedRun(checkout, tuple(arguments), out, label, out.exists()))
        recorded.runs.append(real_run_training(checkout, arguments, out, label))
        return recorded.runs[-1]

    def recorded_own_peak_kib() -> int | None:
        recorded.own_peaks.append(real_own_peak_kib())
        return recorded.own_peaks[-1]

    monkeypatch.setattr(revisions, "run_training", recorded_run_training)
    monkeypatch.setattr(revisions, "own_peak_kib", recorded_own_peak_kib)
    return recorded


def test_each_run_writes_into_its_own_folder_of_a_scratch_folder_that_is_removed(
    repository: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    runs = _recorded(monkeypatch).calls
    status = revisions.main(["--repository", str(repository), "--old", "HEAD", "--pairs", "2",
                             "--old-args", "--seconds 4", "--new-args", "--seconds 2"])  # fmt: skip
    assert status == 0
    scratch = runs[0].out.parent
    assert scratch.parent == Path(tempfile.gettempdir()) and re.fullmatch(r"functional_nn-revisions-[a-z0-9_]{8}", scratch.name)
    old_args, new_args = ("--seconds", "4"), ("--seconds", "2")
    assert runs == [
        RecordedRun(scratch / "old", old_args, scratch / "old-1", "old", False),
        RecordedRun(repository, new_args, scratch / "new-1", "new", False),
        RecordedRun(repository, new_args, scratch / "new-2", "new", False),
        RecordedRun(scratch / "old", old_args, scratch / "old-2", "old", False),
    ]
    assert not scratch.exists()
    assert last_json(capsys.readouterr().out)["ratios"] == [0.5, 0.5]


def test_a_failed_run_names_its_folder_and_the_old_trees(repository: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    status = revisions.main(["--repository", str(repository), "--old", "HEAD", "--pairs", "1", "--old-args=--fail"])
    assert status == 1
    error = capsys.readouterr().err
    scratch = re.escape(tempfile.gettempdir()) + r"/functional_nn-revisions-[^/ ]+"
    assert re.fullmatch(
        rf"error: the old run \({re.escape(sys.executable)} scripts/train_mnist\.py --fail --out ({scratch})/old-1 in \1/old\) "
        r"exited with status 3 without a summary line holding training_seconds; it ended:\nboom: the data is missing\n",
        error,
    ), error


PEAK_PACKAGE = """\
import os
ACCURACY = {accuracy}
BALLAST_MIB = 0


def _status_kib(process, field):
    with open(f"/proc/{{process}}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field))


# past the launcher's resident memory, which a child's figure carries, and 0.75 MiB past a whole
# MiB: Linux counts resident pages per CPU, so its figures can be a few hundred KiB off either way
PEAK_KIB = max({least_mib}, _status_kib(os.getppid(), "VmRSS:") // 1024 + 64) * 1024 + 768
_ballast = [b"x" * ((PEAK_KIB - _status_kib("self", "VmHWM:") - 256) * 1024)]
while _status_kib("self", "VmHWM:") < PEAK_KIB:
    _ballast.append(b"x" * 4096)
"""


def test_each_runs_peak_is_printed_to_the_nearest_mib_and_the_launchers_to_a_tenth(
    repository: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    """Both peaks are about 0.75 MiB past a whole MiB above 520 MiB: rounded up, where a floor or 1025 KiB a MiB would not be."""
    (repository / "functional_nn" / "__init__.py").write_text(PEAK_PACKAGE.format(accuracy=0.98, least_mib=520))
    _commit(repository, "a chosen peak")
    (repository / "functional_nn" / "__init__.py").write_text(PEAK_PACKAGE.format(accuracy=0.99, least_mib=540))
    high_water = b"x" * 2**28  # this process's peak past 256 MiB, where 1025 KiB a MiB is more than a tenth of one off
    del high_water
    recorded = _recorded(monkeypatch)
    status = revisions.main(["--repository", str(repository), "--old", "HEAD", "--pairs", "1",
                             "--old-args", "--seconds 3", "--new-args", "--seconds 1"])  # fmt: skip
    assert status == 0
    lines = capsys.readouterr().out.strip().splitlines()
    old, new = recorded.runs
    assert old.peak_kib > 512 * 1024 and new.peak_kib > 532 * 1024  # in KiB
    assert lines[2].endswith(
        f"old 3.00 s, new 1.00 s, ratio 0.333; test accuracy 98.00% and 99.00%; "
        f"peak memory {round(old.peak_kib / 1024)} and {round(new.peak_kib / 1024)} MiB"
    )
    summary = last_json(lines[-1])
    assert summary["old_peak_mib"] == round(old.peak_kib / 1024, 1) and summary["new_peak_mib"] == round(new.peak_kib / 1024, 1)
    [own_peak_kib] = recorded.own_peaks
    assert own_peak_kib is not None and own_peak_kib > 2**18 and summary["launcher_peak_mib"] == round(own_peak_kib / 1024, 1)
    assert lines[3].endswith(f"; peak memory of this script {round(own_peak_kib / 1024, 1)} MiB")


def test_a_run_without_a_test_accuracy_prints_a_dash_and_adds_none(
    repository: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    (repository / "functional_nn" / "__init__.py").write_text("ACCURACY = None\nBALLAST_MIB = 1\n")
    run = revisions.run_training(repository, ["--seconds", "2"], tmp_path / "out", "new")
    assert (run.training_seconds, run.test_accuracy) == (2.0, None)
    status = revisions.main(["--repository", str(repository), "--old", "HEAD", "--pairs", "1",
                             "--old-args", "--seconds 4", "--new-args", "--seconds 2"])  # fmt: skip
    assert status == 0
    output = capsys.readouterr().out
    assert "ratio 0.500; test accuracy 98.00% and -; peak memory " in output
    summary = last_json(output)
    assert summary["old_test_accuracy"] == [0.98] and summary["new_test_accuracy"] == []


def test_the_repository_is_named_and_run_as_its_resolved_path(
    repository: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    runs = _recorded(monkeypatch).calls
    roundabout = repository / "scripts" / ".." / ".." / repository.name
    status = revisions.main(["--repository", str(roundabout), "--old", "HEAD", "--pairs", "1",
                             "--old-args", "--seconds 4", "--new-args", "--seconds 2"])  # fmt: skip
    assert status == 0
    assert capsys.readouterr().out.splitlines()[1] == f"new: {repository.resolve()} scripts/train_mnist.py --seconds 2"
    assert [run.checkout for run in runs if run.label == "new"] == [repository.resolve()]


WAITING_PACKAGE = """\
import os, sys, time
from pathlib import Path
ACCURACY = {accuracy}
BALLAST_MIB = 1
_folder = Path(os.environ["WAIT_FOLDER"])
with open(_folder / "runs", "a") as _runs:
    _runs.write("run\\n")
_number = len((_folder / "runs").read_text().splitlines())
_deadline = time.monotonic() + 20
while _number in (1, 3) and not (_folder / f"go-{{_number}}").exists():  # the first run of each pair
    if time.monotonic() > _deadline:
        sys.exit(f"run {{_number}}: no go-{{_number}}")
    time.sleep(0.01)
"""


def test_each_line_is_out_before_the_next_run_ends(repository: Path, tmp_path: Path) -> None:  # noqa: F811
    """Its output a pipe, as when it is logged: the first run of each pair waits until the test has read the lines before it."""
    (repository / "functional_nn" / "__init__.py").write_text(WAITING_PACKAGE.format(accuracy=0.98))
    _commit(repository, "runs that wait")
    (repository / "functional_nn" / "__init__.py").write_text(WAITING_PACKAGE.format(accuracy=0.99))
    script = Path(revisions.__file__)
    user_environment = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}  # a pipe buffers
    lines: queue.Queue[str] = queue.Queue()
    with (tmp_path / "stderr.txt").open("w") as stderr, subprocess.Popen(
        [sys.executable, str(script), "--repository", str(repository), "--old", "HEAD", "--pairs", "2",
         "--old-args", "--seconds 4", "--new-args", "--seconds 2"],
        stdout=subprocess.PIPE, stderr=stderr, text=True, env={**user_environment, "WAIT_FOLDER": str(tmp_path)},
    ) as launcher:  # fmt: skip
        assert launcher.stdout is not None
        output = launcher.stdout

        def read_lines() -> None:
            for line in output:
                lines.put(line)

        reader = threading.Thread(target=read_lines, daemon=True)
        reader.start()
        try:
            assert lines.get(timeout=15).startswith("old: ") and lines.get(timeout=15).startswith("new: ")
            (tmp_path / "go-1").touch()
            assert lines.get(timeout=15).startswith("pair 1 at ")
            (tmp_path / "go-3").touch()
            assert lines.get(timeout=15).startswith("pair 2 at ")
        finally:
            (tmp_path / "go-1").touch()
            (tmp_path / "go-3").touch()
            launcher.wait(timeout=60)
            reader.join(timeout=10)
    assert launcher.returncode == 0, (tmp_path / "stderr.txt").read_text()


# --------------------------------------------------------------------------------------------
# parse_arguments: --help


def test_help_says_what_each_option_does_and_its_default(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # one line an option: argparse wraps at hyphens too
    with pytest.raises(SystemExit) as exit_info:
        revisions.main(["--help"])
    assert exit_info.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    for option, text in [
        ("--old OLD", "the revision to compare with (default 36a5124)"),
        ("--configuration {best,main}", "what both train (default main)"),
        ("--old-args OLD_ARGS", "the old script's arguments instead of the configuration's (one string; default: the configuration's)"),
        ("--new-args NEW_ARGS", "this checkout's script's arguments instead of the configuration's (one string; a lone flag as "
                                "--new-args=--flag; default: the configuration's)"),
        ("--pairs PAIRS", "pairs of runs, one of each (default 4)"),
        ("--order {alternate,old-first}", "alternate: old first in odd pairs, new first in even ones (default); old-first: old "
                                          "first in every pair"),
        ("--target TARGET", "the ratio new / old to count (default 0.5)"),
        ("--repository REPOSITORY", "the checkout to compare (default: this one)"),
    ]:  # fmt: skip
        assert f" {option} {text} " in f"{help_text} ", option
