"""What the scripts refuse at the top of their ranges and in their lists: ``--threads`` and
``--workers`` above a few per core, and benchmark.py's lists naming a network, an optimizer or
a contender twice. Every refusal is argparse's (its usage line, ``error: ...``, status 2),
before any data is loaded, any cluster started or anything trained; the machine is made to
have 2 cores here, so the bounds are the same on every machine the tests run on."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from functional_nn import distributed as dist

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import _cli  # noqa: E402  (the scripts folder is not a package)
import _threads  # noqa: E402
import augmentation_report  # noqa: E402
import benchmark  # noqa: E402
import benchmark_rounds  # noqa: E402
import step_breakdown  # noqa: E402
import sweep  # noqa: E402
import train_mnist  # noqa: E402
from test_scripts_arguments import _refused  # noqa: E402

CORES = 2
BOUND = 4 * CORES  # _cli.PER_CORE per core
WHY = {
    "--threads": "threads beyond the cores only take turns on them",
    "--workers": "a local cluster starts one Python process per worker",
}


@pytest.fixture(autouse=True)
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_threads, "usable_cores", lambda: CORES)


def _train_mnist_args(argv: Sequence[str]) -> argparse.Namespace:
    return train_mnist.parse_args(argv)[0]  # with its Settings: the arguments come first


PARSERS: dict[str, Callable[[Sequence[str]], argparse.Namespace]] = {
    "augmentation_report": augmentation_report.parse_args,
    "benchmark": benchmark.parse_arguments,
    "benchmark_rounds": benchmark_rounds.parse_args,
    "step_breakdown": step_breakdown.parse_arguments,
    "sweep": sweep.parse_args,
    "train_mnist": _train_mnist_args,
}
BOUNDED = [
    ("augmentation_report", "--threads"),
    ("benchmark", "--threads"),
    ("step_breakdown", "--threads"),
    ("train_mnist", "--threads"),
    ("benchmark_rounds", "--workers"),
    ("sweep", "--workers"),
    ("train_mnist", "--workers"),
]


def _too_many(flag: str, value: int, cores: int = CORES) -> str:
    return f"error: {flag} {value} is more than {4 * cores} (4 per core, and this process may use {cores}): "


# --------------------------------------------------------------------------------------------
# --threads and --workers: at most 4 per core


def test_every_script_with_threads_or_workers_is_listed_here() -> None:
    having = sorted(
        (path.stem, flag) for path in SCRIPTS.glob("[!_]*.py") for flag in ("--threads", "--workers") if f'"{flag}"' in path.read_text()
    )
    assert having == sorted(BOUNDED)


@pytest.mark.parametrize(("script", "flag"), BOUNDED)
@pytest.mark.parametrize("value", [BOUND + 1, 10_000, 100_000])
def test_more_than_four_per_core_is_refused_naming_the_bound_and_why(
    script: str, flag: str, value: int, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _refused(capsys, lambda: PARSERS[script]([flag, str(value)]))
    assert _too_many(flag, value) in line and WHY[flag] in line, line


@pytest.mark.parametrize(("script", "flag"), BOUNDED)
@pytest.mark.parametrize("value", [1, CORES, BOUND])
def test_up_to_four_per_core_is_taken(script: str, flag: str, value: int) -> None:
    assert getattr(PARSERS[script]([flag, str(value)]), flag[2:]) == value
    assert getattr(PARSERS[script]([f"{flag}={value}"]), flag[2:]) == value


@pytest.mark.parametrize(("script", "flag"), BOUNDED)
def test_the_bound_follows_the_machine(script: str, flag: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(_threads, "usable_cores", lambda: 1)
    assert getattr(PARSERS[script]([flag, "4"]), flag[2:]) == 4
    line = _refused(capsys, lambda: PARSERS[script]([flag, "5"]))
    assert _too_many(flag, 5, cores=1) in line, line


@pytest.mark.parametrize(("script", "flag"), BOUNDED)
def test_the_help_states_the_bound_and_the_default(script: str, flag: str, monkeypatch: pytest.MonkeyPatch) -> None:
    parsers: list[argparse.ArgumentParser] = []
    monkeypatch.setattr(argparse.ArgumentParser, "print_help", lambda self, file=None: parsers.append(self))
    with pytest.raises(SystemExit):
        PARSERS[script](["--help"])
    (action,) = [action for action in parsers[-1]._actions if flag in action.option_strings]
    assert "default" in (action.help or "") and f"at most {BOUND}, 4 per core" in (action.help or ""), action.help


def test_benchmark_default_threads_stays_within_the_bound() -> None:
    assert benchmark.parse_arguments([]).threads == CORES


def test_refused_before_any_data_or_cluster(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def never(*args: object, **kwargs: object) -> object:
        raise AssertionError("refused at parsing: nothing is loaded, started or trained")

    monkeypatch.setattr(benchmark, "load_data", never)
    monkeypatch.setattr(dist, "cluster_client", never)  # where benchmark_rounds.py and sweep.py start theirs
    monkeypatch.setattr(train_mnist, "run", never)
    monkeypatch.setattr(step_breakdown, "load_pixels", never)
    monkeypatch.setattr(augmentation_report, "load_mnist_pixels", never)
    runs: list[tuple[Callable[[Sequence[str]], int], list[str]]] = [
        (benchmark.main, ["--threads", "100000"]),
        (benchmark_rounds.main, ["--workers", "10000"]),
        (sweep.main, ["--workers", "10000"]),
        (train_mnist.main, ["--workers", "10000"]),
        (train_mnist.main, ["--threads", "100000"]),
        (step_breakdown.main, ["--threads", "100000"]),
        (augmentation_report.main, ["--threads", "100000", "--no-picture"]),
    ]
    for main, argv in runs:
        assert _too_many(argv[0], int(argv[1])) in _refused(capsys, lambda: main(argv))


# --------------------------------------------------------------------------------------------
# train_mnist.py --resume: the threads are this machine's


def _checkpointed_run(folder: Path, *saved: str) -> Path:
    folder.mkdir()
    (folder / train_mnist.COMMAND_FILE).write_text(json.dumps({"argv": list(saved), "cwd": str(folder.parent)}))
    return folder


def test_resume_refuses_the_runs_threads_above_this_machines_bound(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _checkpointed_run(tmp_path / "run", "--threads", "64", "--epochs", "1")
    with pytest.raises(SystemExit) as exit_info:
        train_mnist.parse_args(["--resume", str(run)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert _too_many("--threads", 64) in err and f"(in {run / train_mnist.COMMAND_FILE}, the command line the run was started with" in err


def test_resume_takes_threads_given_now_whatever_the_runs_own(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _checkpointed_run(tmp_path / "run", "--threads", "64", "--epochs", "1")  # started on a bigger machine
    args, settings = train_mnist.parse_args(["--resume", str(run), "--threads", "2"])
    assert args.threads == 2 and args.resume == run and settings.epochs == 1
    line = _refused(capsys, lambda: train_mnist.parse_args(["--resume", str(run), "--threads", str(BOUND + 1)]))
    assert _too_many("--threads", BOUND + 1) in line
    small = _checkpointed_run(tmp_path / "small", "--threads", "1", "--epochs", "1")
    assert train_mnist.parse_args(["--resume", str(small)])[0].threads == 1  # the run's own, within the bound
    assert train_mnist.parse_args(["--resume", str(small), "--threads", str(BOUND)])[0].threads == BOUND


def test_resume_still_refuses_threads_below_one_given_now(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _checkpointed_run(tmp_path / "run", "--epochs", "1")
    line = _refused(capsys, lambda: train_mnist.parse_args(["--resume", str(run), "--threads", "0"]))
    assert line.endswith("error: --threads must be >= 1, got 0")


# --------------------------------------------------------------------------------------------
# benchmark.py: a network, an optimizer or a contender named twice


def test_first_repeat_finds_the_first_item_seen_before() -> None:
    assert _cli.first_repeat(["sgd", "adam", "adam", "sgd"]) == "adam"
    assert _cli.first_repeat([((8,), 1.0), ((8,), 0.5), ((8,), 1.0)]) == ((8,), 1.0)
    assert _cli.first_repeat(["sgd", "adam"]) is None and _cli.first_repeat([]) is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--hidden", "8", "8"], "--hidden names 8 twice: each network runs once"),
        (["--hidden", "8", "4,4", "8:1"], "--hidden 8 and 8:1 are the same network, 784-8-10: each network runs once"),
        (
            ["--hidden", "8,4:0.5", "8,4:0.50"],
            "--hidden 8,4:0.5 and 8,4:0.50 are the same network, 784-8-4-10 dropout keep 0.5: each network runs once",
        ),
        (["--optimizers", "sgd", "sgd"], "--optimizers names sgd twice: each optimizer runs once"),
        (["--optimizers", "adam", "sgd", "adam"], "--optimizers names adam twice: each optimizer runs once"),
        (["--contenders", "torch", "functional_nn", "torch"], "--contenders names torch twice: each contender runs once"),
    ],
)
def test_benchmark_refuses_a_list_that_names_something_twice(
    argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(benchmark, "load_data", lambda *args: pytest.fail("refused at parsing: no data is loaded"))
    assert _refused(capsys, lambda: benchmark.main(argv)).endswith(f"error: {message}")


def test_benchmark_takes_lists_of_different_items() -> None:
    args = benchmark.parse_arguments(["--hidden", "8", "8:0.5", "8,8", "--optimizers", "adam", "sgd", "--contenders", "torch", "sklearn"])
    assert args.networks == [((8,), 1.0), ((8,), 0.5), ((8, 8), 1.0)]
    assert args.optimizers == ["adam", "sgd"] and args.contenders == ["torch", "sklearn"]


@pytest.mark.parametrize("script", ["train_mnist", "sweep"])
@pytest.mark.parametrize(
    ("address", "why"),
    [("foo", "no port (the scheduler's is printed as it starts, 8786 by default)"), ("http://10.0.0.5:8786", "the scheme must be one of tcp://, tls://, got 'http'")],
)
def test_a_scheduler_address_of_another_form_is_refused_naming_the_option(
    script: str, address: str, why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused as the arguments are read, in the option's name, not later by the library as its own ``address``."""
    line = _refused(capsys, lambda: PARSERS[script](["--scheduler", address]))
    assert line.endswith(f"error: --scheduler must be a scheduler's address such as 'tcp://10.0.0.5:8786', got {address!r}: {why}"), line
    assert getattr(PARSERS[script](["--scheduler", "tcp://[::1]:8786"]), "scheduler") == "tcp://[::1]:8786"
