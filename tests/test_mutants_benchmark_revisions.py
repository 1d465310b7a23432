"""What scripts/benchmark_revisions.py and scripts/benchmark_rounds.py compute and run, pinned (found by mutation testing).

benchmark_revisions.py: ``summarize`` is given pairs whose seconds, accuracies and peaks are
chosen so that every figure of the JSON is a hand computation; ``main`` runs the small git
repository of tests/test_benchmark_revisions.py and every line it prints is checked; the
configurations, the defaults and refusals of its options, the command and environment each
run gets, and how a run that fails is reported are pinned as well.

benchmark_rounds.py: one real run on a local cluster of one worker, watched by call-through
spies on ``cluster_client`` and ``train_rounds``: each timing runs what it says (one shard in
this process, then every shard on the cluster, with the options' counts), and every figure it
prints is worked out again from the rounds' own waiting times and the rows.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

from functional_nn import distributed as dist
from functional_nn.initializers import initialize_parameters

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import benchmark_revisions as revisions  # noqa: E402  (the scripts folder is not a package)
import benchmark_rounds  # noqa: E402
from test_benchmark_revisions import git, last_json, repository  # noqa: E402,F401  (repository: the fixture)
from test_scripts_arguments import _refused  # noqa: E402

# --------------------------------------------------------------------------------------------
# benchmark_revisions.py: the summary's figures from seconds, accuracies and peaks chosen here


def _pair(old: tuple[float, float | None, int], new: tuple[float, float | None, int], load: float, first: str) -> revisions.Pair:
    return revisions.Pair(load, revisions.Run(*old), revisions.Run(*new), first)


PAIRS = [
    _pair((12.0, 0.98, 1024), (2.0, 0.99, 1076), 1.25, "old"),  # ratio 0.16667
    _pair((9.0, None, 1076), (8.0, 0.97, 1024), 0.5, "new"),  # 0.88889
    _pair((8.0, 0.98, 1000), (4.0, None, 1000), 2.0, "old"),  # 0.5
    _pair((3.0, 0.96, 512), (1.0, 0.99, 900), 0.0, "new"),  # 0.3333
]


def test_summary_figures_are_worked_out_from_each_pairs_runs() -> None:
    assert revisions.summarize(PAIRS, 0.5) == {
        "pairs": 4,
        "ratios": [0.167, 0.889, 0.5, 0.333],
        "median_ratio": 0.417,  # (0.3333 + 0.5) / 2: the middle two of an even count
        "min_ratio": 0.167,
        "max_ratio": 0.889,
        "target": 0.5,
        "at_or_below_target": 3,  # 0.167, 0.5 itself and 0.333
        "old_seconds": [12.0, 9.0, 8.0, 3.0],
        "new_seconds": [2.0, 8.0, 4.0, 1.0],
        "old_test_accuracy": [0.96, 0.98],  # each value once, sorted, the runs without one left out
        "new_test_accuracy": [0.97, 0.99],
        "old_peak_mib": 1.1,  # the largest, 1076 KiB: 1.0508 MiB
        "new_peak_mib": 1.1,
        "load_averages": [1.25, 0.5, 2.0, 0.0],
        "first": ["old", "new", "old", "new"],
    }


def test_summary_of_one_pair_without_accuracies() -> None:
    summary = revisions.summarize([_pair((4.0, None, 1075), (3.0, None, 1075), 0.75, "old")], 0.7)
    assert summary["ratios"] == [0.75] and summary["median_ratio"] == summary["min_ratio"] == summary["max_ratio"] == 0.75
    assert summary["at_or_below_target"] == 0
    assert summary["old_test_accuracy"] == [] and summary["new_test_accuracy"] == []
    assert summary["old_peak_mib"] == summary["new_peak_mib"] == 1.0  # 1075 / 1024 = 1.0498


def test_a_pair_is_new_over_old_seconds_and_runs_old_first_unless_told() -> None:
    pair = revisions.Pair(0.0, revisions.Run(8.0, None, 1), revisions.Run(2.0, None, 1))
    assert pair.ratio == 0.25 and pair.first == "old"


def test_alternate_runs_new_first_in_even_pairs_and_old_first_never() -> None:
    assert [revisions.first_side("alternate", n) for n in range(1, 6)] == ["old", "new", "old", "new", "old"]
    assert [revisions.first_side("old-first", n) for n in range(1, 6)] == ["old"] * 5


def test_an_accuracy_prints_as_a_percentage_with_two_decimals_and_none_as_a_dash() -> None:
    assert revisions._percent(0.98765) == "98.77%"
    assert revisions._percent(1) == "100.00%"
    assert revisions._percent(None) == "-"


def test_own_peak_is_this_process_vmhwm_in_kib() -> None:
    lines = [line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM:")]
    before = int(lines[0].split()[1])
    peak = revisions.own_peak_kib()
    assert isinstance(peak, int) and before <= peak < before + 1024


# --------------------------------------------------------------------------------------------
# benchmark_revisions.py: the configurations and the options


def test_the_configurations_are_the_old_scripts_and_todays_arguments_in_full() -> None:
    assert revisions.OLD_REVISION == "36a5124"
    assert revisions.CONFIGURATIONS == {
        "main": ((), ("--hidden", "512,256", "--keep-prob", "0.8", "--epochs", "20", "--augment", "none")),
        "best": (
            ("--preset", "best", "--epochs", "3"),
            ("--hidden", "1024,1024,1024", "--keep-prob", "0.5", "--max-norm", "3.5", "--augment", "none", "--ema", "0",
             "--dev-size", "10000", "--epochs", "3"),
        ),  # fmt: skip
    }
    assert revisions.SCRIPT == Path("scripts/train_mnist.py")


def test_the_defaults_of_every_option() -> None:
    args = revisions.parse_arguments([])
    assert vars(args) == {
        "old": "36a5124", "configuration": "main", "old_args": None, "new_args": None, "pairs": 4, "order": "alternate",
        "target": 0.5, "repository": SCRIPTS.parent,
    }  # fmt: skip
    assert revisions.checkout_root() == SCRIPTS.parent


def test_the_run_arguments_are_split_as_a_shell_splits_them() -> None:
    args = revisions.parse_arguments(["--old-args", "--epochs 5 --hidden '1, 2'", "--new-args=--flag", "--pairs", "1",
                                      "--order", "old-first", "--target", "0.25", "--configuration", "best", "--old", "abc"])  # fmt: skip
    assert args.old_args == ("--epochs", "5", "--hidden", "1, 2") and args.new_args == ("--flag",)
    assert (args.pairs, args.order, args.target, args.configuration, args.old) == (1, "old-first", 0.25, "best", "abc")
    assert revisions.parse_arguments(["--old-args", ""]).old_args == ()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--pairs", "-1"], "error: --pairs must be at least 1, got -1"),
        (["--old-args", "--epochs 2 --out x"], "error: --old-args: leave --out out; each run gets a temporary folder"),
        (["--order", "new-first"], "error: argument --order: invalid choice: 'new-first' (choose from 'alternate', 'old-first')"),
        (["--configuration", "fast"], "error: argument --configuration: invalid choice: 'fast' (choose from 'best', 'main')"),
        (["--target", "0"], "error: argument --target: must be a finite number > 0, got 0"),
        (["--repository", ""], "error: argument --repository: expected a path, got an empty string"),
    ],
)
def test_bad_options_are_refused_with_one_line(arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _refused(capsys, lambda: revisions.parse_arguments(arguments)).endswith(f": {message}")


# --------------------------------------------------------------------------------------------
# benchmark_revisions.py: a whole run on the tests' small repository, every line checked


def _recorded_load_averages(monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, float, float]]:
    """What ``os.getloadavg`` returns from now on, call after call (a call-through spy)."""
    loads: list[tuple[float, float, float]] = []
    real_getloadavg = os.getloadavg

    def recorded_getloadavg() -> tuple[float, float, float]:
        loads.append(real_getloadavg())
        return loads[-1]

    monkeypatch.setattr(os, "getloadavg", recorded_getloadavg)
    return loads


def _head(repository: Path) -> str:
    return subprocess.run(["git", "-C", str(repository), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()


def test_every_line_of_a_run_states_what_ran_and_its_figures(
    repository: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    loads = _recorded_load_averages(monkeypatch)
    own_kib_before = revisions.own_peak_kib()
    status = revisions.main(["--repository", str(repository), "--old", "HEAD", "--pairs", "1",
                             "--old-args", "--seconds 4 --tag 'a b'", "--new-args", "--seconds 0.5"])  # fmt: skip
    assert status == 0
    lines = capsys.readouterr().out.strip().splitlines()
    commit = _head(repository)
    assert len(lines) == 5
    assert lines[0] == f"old: {commit[:12]} scripts/train_mnist.py --seconds 4 --tag 'a b'"
    assert lines[1] == f"new: {repository.resolve()} scripts/train_mnist.py --seconds 0.5"
    summary = last_json(lines[-1])
    assert len(loads) == 1 and summary["load_averages"] == [round(loads[0][0], 2)]  # the one-minute figure
    old_peak, new_peak, own_peak = summary["old_peak_mib"], summary["new_peak_mib"], summary["launcher_peak_mib"]
    assert isinstance(old_peak, float) and isinstance(new_peak, float) and isinstance(own_peak, float)
    pair_line = re.fullmatch(
        r"pair 1 at \d\d:\d\d:\d\d \(old first, load average (\S+)\): old 4\.00 s, new 0\.50 s, ratio 0\.125; "
        r"test accuracy 98\.00% and 99\.00%; peak memory (\d+) and (\d+) MiB",
        lines[2],
    )
    assert pair_line is not None, lines[2]
    assert pair_line[1] == f"{loads[0][0]:.2f}"
    assert abs(int(pair_line[2]) - old_peak) <= 0.55 and abs(int(pair_line[3]) - new_peak) <= 0.55
    assert old_peak >= 64 and new_peak >= 16  # the children's ballast, in MiB, not KiB
    assert lines[3] == (
        f"new / old: median 0.125, range 0.125-0.125, at or below 0.5 in 1 of 1 pairs; peak memory of this script {own_peak} MiB"
    )
    own_kib_after = revisions.own_peak_kib()
    assert own_kib_before is not None and own_kib_after is not None  # the peak read in between, in MiB to 0.1
    assert round(own_kib_before / 1024, 1) <= own_peak <= round(own_kib_after / 1024, 1)
    assert {key: summary[key] for key in ("old_revision", "configuration", "order", "old_args", "new_args", "pairs", "target")} == {
        "old_revision": commit, "configuration": "main", "order": "alternate", "old_args": ["--seconds", "4", "--tag", "a b"],
        "new_args": ["--seconds", "0.5"], "pairs": 1, "target": 0.5,  # half a second: timed, not refused
    }  # fmt: skip
    assert summary["first"] == ["old"] and summary["ratios"] == [0.125] and summary["old_seconds"] == [4.0]


@pytest.mark.parametrize(
    ("given", "failing", "configuration_args"),
    [
        (["--new-args", "--seconds 2"], "old", "--preset best --epochs 3"),
        (["--old-args", "--seconds 2"], "new", "--hidden 1024,1024,1024 --keep-prob 0.5 --max-norm 3.5 --augment none --ema 0 --dev-size 10000 --epochs 3"),
    ],
)
def test_a_side_without_its_own_arguments_runs_the_configurations(
    given: list[str], failing: str, configuration_args: str, repository: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    # the tests' train_mnist.py needs --seconds: the configuration's arguments make it fail, naming them
    status = revisions.main(["--repository", str(repository), "--old", "HEAD", "--pairs", "1", "--configuration", "best", *given])
    assert status == 1
    error = capsys.readouterr().err
    assert f"error: the {failing} run (" in error
    assert f"scripts/train_mnist.py {configuration_args} --out " in error and "exited with status 1 without a summary line" in error


def test_a_new_run_too_short_to_time_is_refused_naming_its_side(repository: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    status = revisions.main(["--repository", str(repository), "--old", "HEAD", "--pairs", "1",
                             "--old-args", "--seconds 2", "--new-args", "--seconds 0"])  # fmt: skip
    assert status == 2
    assert capsys.readouterr().err.startswith("error: --new-args: the new run reported training_seconds 0, too short to time")


def test_a_revision_without_the_script_is_refused(repository: Path, tmp_path: Path) -> None:  # noqa: F811
    (repository / "scripts" / "train_mnist.py").unlink()
    git(repository, "add", "-A")
    git(repository, "commit", "-q", "-m", "no script")
    into = tmp_path / "old"
    into.mkdir()
    with pytest.raises(ValueError, match=r"^--old: revision HEAD has no scripts/train_mnist\.py$"):
        revisions.extract_revision(repository, "HEAD", into)
    with pytest.raises(ValueError, match=r"^--old: 'HEAD\^\{tree\}' is not a commit of the git repository at "):
        revisions.extract_revision(repository, "HEAD^{tree}", into)


# --------------------------------------------------------------------------------------------
# benchmark_revisions.py: one run's command, environment and summary


RECORDING_SCRIPT = """\
import json, os, sys, time
from pathlib import Path
args = sys.argv[1:]
if "--bytes" in args:  # not UTF-8
    sys.stdout.buffer.write(b"caf\\xe9\\n")
    sys.stdout.buffer.flush()
    sys.stderr.buffer.write(b"caf\\xe9\\n")
out = Path(args[args.index("--out") + 1])
out.mkdir()
(out / "seen.json").write_text(json.dumps({"argv": sys.argv, "executable": sys.executable, "cwd": os.getcwd(),
                                           "path": os.environ["PYTHONPATH"]}))
if "--silent" in args:
    sys.exit(0)
if "--stderr" in args:
    print("\\n".join(f"out {n}" for n in range(9)))
    print("\\n".join(f"err {n}" for n in range(9)), file=sys.stderr)
if "--stdout" in args:
    print("\\n".join(f"out {n}" for n in range(9)))
status = 4 if "--exit" in args else 0
last = {"--list": "[1, 2]", "--text": "done", "--no-seconds": '{"test_accuracy": 1}'}
print(next((last[a] for a in args if a in last), '{"training_seconds": 3, "test_accuracy": 1}'))
if "--linger" in args:  # its output ends before it does
    sys.stdout.flush()
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    time.sleep(0.5)
sys.exit(status)
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A folder with a scripts/train_mnist.py that records how it was run."""
    (tmp_path / "checkout" / "scripts").mkdir(parents=True)
    (tmp_path / "checkout" / "scripts" / "train_mnist.py").write_text(RECORDING_SCRIPT)
    return tmp_path / "checkout"


def test_a_run_is_this_python_on_the_checkouts_script_with_its_package_first(
    checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "elsewhere"))
    run = revisions.run_training(checkout, ["--a", "b c"], tmp_path / "out", "old")
    assert run == revisions.Run(3.0, 1.0, run.peak_kib) and isinstance(run.test_accuracy, float) and run.peak_kib > 1024
    seen = json.loads((tmp_path / "out" / "seen.json").read_text())
    assert seen["argv"] == ["scripts/train_mnist.py", "--a", "b c", "--out", str(tmp_path / "out")]
    assert seen["executable"] == sys.executable and seen["cwd"] == str(checkout)
    assert seen["path"] == f"{checkout}{os.pathsep}{tmp_path / 'elsewhere'}"


def test_without_a_pythonpath_the_run_gets_the_checkout_alone(checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTHONPATH", raising=False)
    revisions.run_training(checkout, [], tmp_path / "out", "new")
    assert json.loads((tmp_path / "out" / "seen.json").read_text())["path"] == str(checkout)


@pytest.mark.parametrize(
    ("arguments", "status", "tail"),
    [
        (["--exit"], 4, '{"training_seconds": 3, "test_accuracy": 1}'),  # a summary, but a failed run
        (["--silent"], 0, ""),
        (["--list"], 0, "[1, 2]"),
        (["--text"], 0, "done"),
        (["--no-seconds"], 0, '{"test_accuracy": 1}'),
        (["--stderr", "--exit"], 4, "err 4\nerr 5\nerr 6\nerr 7\nerr 8"),  # the last five lines of stderr, before stdout's
        (["--stdout", "--text"], 0, "out 5\nout 6\nout 7\nout 8\ndone"),
        (["--bytes", "--exit"], 4, "caf\ufffd"),
        (["--linger", "--exit"], 4, '{"training_seconds": 3, "test_accuracy": 1}'),  # the status once it has ended
    ],
)
def test_a_run_without_a_usable_summary_fails_with_the_end_of_its_output(
    arguments: list[str], status: int, tail: str, checkout: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with pytest.raises(revisions.RunFailed) as failed:
        revisions.run_training(checkout, arguments, out, "new")
    command = f"{sys.executable} scripts/train_mnist.py {' '.join(arguments)} --out {out}"
    assert str(failed.value) == (
        f"the new run ({command} in {checkout}) exited with status {status} without a summary line holding training_seconds; "
        f"it ended:\n{tail}"
    )


# --------------------------------------------------------------------------------------------
# benchmark_rounds.py: a real run, its timings' sources and its figures


def test_rounds_options_defaults() -> None:
    args = benchmark_rounds.parse_args([])
    assert (args.workers, args.shard_sizes, args.rounds, args.repeats) == (2, (64, 512, 4096), 8, 5)
    assert benchmark_rounds.HIDDEN_FOR_MB == {0.1: 16, 1.0: 157, 10.0: 1572}


def test_the_fewest_rounds_and_repeats_are_taken() -> None:
    args = benchmark_rounds.parse_args(["--rounds", "3", "--repeats", "1", "--workers", "1"])
    assert (args.rounds, args.repeats, args.workers) == (3, 1, 1)


class WatchedRun(NamedTuple):
    """What a benchmark_rounds.py run printed, and what its spies saw."""

    lines: list[str]
    clients: list[dict[str, Any]]  # cluster_client's keyword arguments
    runs: list[dict[str, Any]]  # each train_rounds call: shards placed or not, their sizes, hidden, params, keywords, last state
    loads: list[tuple[float, float, float]]


def watched_round_run(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> WatchedRun:
    """Run benchmark_rounds.py with call-through spies on ``cluster_client``, ``train_rounds`` and ``os.getloadavg``."""
    clients: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    real_cluster_client, real_train_rounds = dist.cluster_client, dist.train_rounds

    def recorded_client(*args: Any, **kwargs: Any) -> Any:
        clients.append(kwargs)
        return real_cluster_client(*args, **kwargs)

    def recorded_rounds(shards: Any, params: Any, **kwargs: Any) -> Iterator[Any]:
        placed = isinstance(shards, dist.DaskShards)
        sizes = [int(shard.X.shape[1]) for shard in (shards.shards if placed else shards)]
        run: dict[str, Any] = {"placed": placed, "sizes": sizes, "hidden": int(params["W1"].shape[0]), "params": params, **kwargs}
        runs.append(run)
        for state in real_train_rounds(shards, params, **kwargs):
            run["state"] = state
            yield state

    monkeypatch.setattr(dist, "cluster_client", recorded_client)
    monkeypatch.setattr(dist, "train_rounds", recorded_rounds)
    loads = _recorded_load_averages(monkeypatch)
    assert benchmark_rounds.main(argv) == 0
    return WatchedRun(capsys.readouterr().out.strip().splitlines(), clients, runs, loads)


def test_a_round_run_times_what_it_says_and_reports_figures_from_those_times(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines, clients, runs, loads = watched_round_run(
        ["--workers", "1", "--shard-sizes", "8,4", "--rounds", "3", "--repeats", "2"], monkeypatch, capsys
    )
    assert clients == [{"n_workers": 1}]
    assert [(run["placed"], run["sizes"], run["hidden"], run["rounds"]) for run in runs] == [
        (placed, sizes, hidden, rounds)
        for hidden in (16, 157, 1572)
        for shard in (8, 4)
        for placed, sizes, rounds in ((False, [shard], 3), (True, [shard], 3))  # --repeats 2 in this process, after one dropped
    ]
    first_params = initialize_parameters((784, 16, 10), np.random.default_rng(0))  # the seed, drawn from first
    assert all(np.array_equal(runs[0]["params"][key], value) for key, value in first_params.items())
    for run in runs:
        assert run["activations"] == ("relu", "softmax") and run["loss"] == "categorical_cross_entropy"
        assert run["learning_rate"] == 0.01 and len(run["state"].history) == run["rounds"]

    assert len(loads) == 1 and lines[0] == f"1 worker (local processes); load average {loads[0][0]:.1f} on {os.cpu_count()} cores"
    rows = json.loads(lines[-1])
    assert [json.loads(line) for line in lines if line.startswith("{")] == rows
    assert [(row["params_mb"], row["hidden"], row["shard_size"]) for row in rows] == [
        (0.102, 16, 8), (0.102, 16, 4), (0.999, 157, 8), (0.999, 157, 4), (9.998, 1572, 8), (9.998, 1572, 4),
    ]  # (795 h + 10) * 8 bytes, in MB  # fmt: skip
    for row, (local, cluster) in zip(rows, zip(runs[::2], runs[1::2])):
        compute = statistics.median(r.waiting for r in local["state"].history[1:])  # both repeats, the first timing dropped
        round_seconds = statistics.median(r.waiting for r in cluster["state"].history[2:])  # the first two dropped
        assert row["compute_ms"] == round(compute * 1e3, 2) and row["round_ms"] == round(round_seconds * 1e3, 2)
        assert row["overhead_ms"] == round((round_seconds - compute) * 1e3, 2)
    summaries = [line for line in lines if line[0].isdigit() and " MB: " in line]
    expected = []
    for megabytes, hidden in (("0.1", 16), ("1", 157), ("10", 1572)):
        largest = next(row for row in rows if row["hidden"] == hidden and row["shard_size"] == 8)
        per_sample = largest["compute_ms"] / 8
        overhead = statistics.median(row["overhead_ms"] for row in rows if row["hidden"] == hidden)  # of two: their mean
        expected.append(
            f"{megabytes} MB: overhead {overhead:.1f} ms (median over shard sizes), compute {per_sample * 1e3:.1f} us a sample "
            f"-> compute equals overhead at about {overhead / per_sample:.0f} samples a shard"
        )
    assert summaries == expected
    assert len(lines) == 1 + 6 + 3 + 1


# --------------------------------------------------------------------------------------------
# both scripts' --help


@pytest.mark.parametrize(
    ("main", "description"),
    [
        (revisions.main, "Training time of train_mnist.py at an old revision against this checkout, in alternating pairs."),
        (benchmark_rounds.main, "What one synchronous round costs on a local Dask cluster, against parameter count and shard size."),
    ],
)
def test_help_opens_with_the_first_paragraph_of_the_docstring(
    main: Callable[[list[str]], int], description: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "[-h] " in help_text and f" {description} options: " in help_text
