"""scripts/benchmark_revisions.py against a small git repository the tests build.

Its ``train_mnist.py`` stands in for the real one: it imports its own checkout's
``functional_nn`` (which says which tree it is), reports the seconds its arguments ask for,
and holds a ballast of bytes so that the peak memory read from ``wait4`` has a known floor.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import benchmark_revisions as revisions  # noqa: E402  (the scripts folder is not a package)

FAKE_SCRIPT = """\
import json, os, sys
from pathlib import Path
import functional_nn  # the checkout's own, first on PYTHONPATH
args = sys.argv[1:]
if "RUN_LOG" in os.environ:  # the order of the runs, for the test to read
    with open(os.environ["RUN_LOG"], "a") as log:
        log.write(Path("marker.txt").read_text())
if "--fail" in args:
    print("loading MNIST")
    print("boom: the data is missing", file=sys.stderr)
    sys.exit(3)
out = Path(args[args.index("--out") + 1])
out.mkdir()  # the folder is new for every run
ballast = b"x" * (functional_nn.BALLAST_MIB * 2**20)  # written, so resident
print("epoch 1 ...")
if "--no-summary" not in args:
    seconds = float(args[args.index("--seconds") + 1])
    marker = Path("marker.txt").read_text().strip()  # run from its own checkout
    print(json.dumps({"training_seconds": seconds, "test_accuracy": functional_nn.ACCURACY, "marker": marker}))
"""


def git(repository: Path, *arguments: str) -> None:
    subprocess.run(["git", "-C", str(repository), "-c", "user.name=test", "-c", "user.email=test@example.com", *arguments],
                   check=True, capture_output=True)  # fmt: skip


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A repository whose commit says ``old`` (accuracy 0.98, 64 MiB) and whose working tree says ``new``."""
    root = tmp_path / "repository"
    (root / "scripts").mkdir(parents=True)
    (root / "functional_nn").mkdir()
    (root / "scripts" / "train_mnist.py").write_text(FAKE_SCRIPT)
    (root / "functional_nn" / "__init__.py").write_text("ACCURACY = 0.98\nBALLAST_MIB = 64\n")
    (root / "marker.txt").write_text("old tree\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "old")
    # uncommitted, as a change under measurement is
    (root / "functional_nn" / "__init__.py").write_text("ACCURACY = 0.99\nBALLAST_MIB = 16\n")
    (root / "marker.txt").write_text("new tree\n")
    return root


def last_json(output: str) -> dict[str, object]:
    summary: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return summary


def test_pairs_run_each_tree_with_its_own_arguments_and_package(repository: Path) -> None:
    # as a user runs it, in a small process of its own: a child's peak memory carries the
    # peak of the process that launched it (Linux), and this test's process is large
    run_log = repository.parent / "runs.txt"
    done = subprocess.run(
        [sys.executable, str(revisions.checkout_root() / "scripts" / "benchmark_revisions.py"), "--repository", str(repository),
         "--old", "HEAD", "--pairs", "2", "--old-args", "--seconds 4", "--new-args", "--seconds 1.5"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "RUN_LOG": str(run_log)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    output = done.stdout
    summary = last_json(output)
    # 1.5 / 4: each side got its own arguments
    assert summary["ratios"] == [0.375, 0.375]
    assert summary["median_ratio"] == 0.375
    assert summary["at_or_below_target"] == 2
    assert summary["old_seconds"] == [4.0, 4.0] and summary["new_seconds"] == [1.5, 1.5]
    # the committed package ran the old side, the working tree's the new one
    assert summary["old_test_accuracy"] == [0.98] and summary["new_test_accuracy"] == [0.99]
    assert summary["old_args"] == ["--seconds", "4"] and summary["new_args"] == ["--seconds", "1.5"]
    # each child's own peak, not the largest child's: 64 MiB of ballast against 16
    old_peak, new_peak, own_peak = summary["old_peak_mib"], summary["new_peak_mib"], summary["launcher_peak_mib"]
    assert isinstance(old_peak, float) and isinstance(new_peak, float) and isinstance(own_peak, float)
    assert own_peak < 64, "the script itself must stay small for its children's figures to mean anything"
    assert old_peak >= 64 and 16 <= new_peak < 64
    assert "pair 2 at" in output and "ratio 0.375" in output and "98.00% and 99.00%" in output
    # old first in the first pair, new first in the second: a drifting load favours neither side
    assert run_log.read_text().split("\n")[:4] == ["old tree", "new tree", "new tree", "old tree"]
    assert summary["first"] == ["old", "new"] and summary["order"] == "alternate"
    assert "pair 1 at" in output and "(old first, load average" in output and "(new first, load average" in output


def test_old_first_runs_the_old_tree_first_in_every_pair(repository: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    run_log = repository.parent / "runs.txt"
    monkeypatch.setenv("RUN_LOG", str(run_log))
    status = revisions.main(["--repository", str(repository), "--old", "HEAD", "--pairs", "2", "--order", "old-first",
                             "--old-args", "--seconds 4", "--new-args", "--seconds 2"])  # fmt: skip
    assert status == 0
    assert run_log.read_text().split("\n")[:4] == ["old tree", "new tree", "old tree", "new tree"]
    summary = last_json(capsys.readouterr().out)
    assert summary["first"] == ["old", "old"] and summary["ratios"] == [0.5, 0.5]


def test_the_target_counts_pairs_at_or_below_it(repository: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = revisions.main(["--repository", str(repository), "--old", "HEAD", "--pairs", "1", "--target", "0.3",
                             "--old-args", "--seconds 4", "--new-args", "--seconds 1.5"])  # fmt: skip
    assert status == 0
    summary = last_json(capsys.readouterr().out)
    assert summary["target"] == 0.3 and summary["at_or_below_target"] == 0


def test_the_old_tree_runs_in_its_own_folder(repository: Path, tmp_path: Path) -> None:
    into = tmp_path / "old"
    into.mkdir()
    commit = revisions.extract_revision(repository, "HEAD", into)
    assert len(commit) == 40
    assert (into / "marker.txt").read_text() == "old tree\n"
    run = revisions.run_training(into, ["--seconds", "2"], tmp_path / "out", "old")
    assert run.training_seconds == 2.0 and run.test_accuracy == 0.98 and run.peak_kib >= 64 * 1024


def test_an_unknown_revision_is_refused(repository: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = revisions.main(["--repository", str(repository), "--old", "no-such-revision", "--pairs", "1"])
    assert status == 2
    assert "error: --old: 'no-such-revision' is not a commit of the git repository at" in capsys.readouterr().err


def test_a_failed_run_reports_how_it_ended(repository: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = revisions.main(["--repository", str(repository), "--old", "HEAD", "--pairs", "1",
                             "--old-args", "--seconds 4", "--new-args=--fail"])  # fmt: skip
    assert status == 1
    error = capsys.readouterr().err
    assert "the new run" in error and "exited with status 3" in error and "boom: the data is missing" in error


def test_a_run_without_its_summary_line_is_an_error(repository: Path, tmp_path: Path) -> None:
    with pytest.raises(revisions.RunFailed, match="(?s)status 0 without a summary line.*epoch 1"):
        revisions.run_training(repository, ["--no-summary"], tmp_path / "out", "new")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--pairs", "0"], "--pairs must be at least 1, got 0"),
        (["--new-args", "--epochs 2 --out somewhere"], "--new-args: leave --out out"),
        (["--configuration", "fastest"], "invalid choice: 'fastest'"),
        (["--old-args", '"--epochs 1'], "error: --old-args '\"--epochs 1': cannot split it into arguments as a shell would: No closing quotation"),
        (["--new-args", "--epochs 1\\"], "error: --new-args '--epochs 1\\\\': cannot split it into arguments as a shell would: No escaped character"),
    ],
)
def test_bad_arguments_are_refused(arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        revisions.main(arguments)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_folder_without_the_script_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert revisions.main(["--repository", str(tmp_path), "--pairs", "1"]) == 2
    assert f"--repository: {tmp_path} has no scripts/train_mnist.py" in capsys.readouterr().err


def test_the_configurations_name_the_old_defaults() -> None:
    old, new = revisions.CONFIGURATIONS["main"]
    assert old == () and new[new.index("--hidden") + 1] == "512,256" and new[new.index("--epochs") + 1] == "20"
    old, new = revisions.CONFIGURATIONS["best"]
    assert old == ("--preset", "best", "--epochs", "3") and new[new.index("--max-norm") + 1] == "3.5"
