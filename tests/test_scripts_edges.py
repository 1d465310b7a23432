"""The scripts at the edges of their command lines: Ctrl-C in the middle of a run, a path
given as an empty string, a list that names the same thing twice, and a count larger than
what there is."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from functional_nn.training import TrainState, train_epochs

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import _cli  # noqa: E402  (the scripts folder is not a package)
import binary_classification  # noqa: E402
import compare_optimizers  # noqa: E402
import inspect_network  # noqa: E402
import sweep  # noqa: E402
import train_mnist  # noqa: E402
from conftest import WriteMNISTCache  # noqa: E402
from test_scripts_arguments import _refused  # noqa: E402
from test_scripts_mnist import _small_mnist  # noqa: E402

# --------------------------------------------------------------------------------------------
# Ctrl-C: one line, no traceback, nothing half-written, no empty folder


def _interrupted_after_first_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    """``train_mnist``'s fold runs one epoch (checkpoint included), then the user presses Ctrl-C."""
    def interrupted(*args: Any, **kwargs: Any) -> Iterator[TrainState]:  # Any: train_epochs' own arguments, passed on
        states = train_epochs(*args, **kwargs)
        yield next(states)
        raise KeyboardInterrupt

    monkeypatch.setattr(train_mnist, "train_epochs", interrupted)


RUN = ["--epochs", "3", "--hidden", "4", "--batch-size", "16", "--augment", "none"]


def test_ctrl_c_during_training_is_one_line_and_leaves_no_folder(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    mnist_cache(_small_mnist(rng, 40, 10, 10))
    _interrupted_after_first_epoch(monkeypatch)
    out = tmp_path / "runs" / "run"
    assert train_mnist.main([*RUN, "--out", str(out)]) == 130
    assert capsys.readouterr().err == "error: interrupted (Ctrl-C)\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # the folders it made are gone: nothing was written


def test_ctrl_c_during_a_checkpointed_run_says_how_to_continue_it(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    mnist_cache(_small_mnist(rng, 40, 10, 10))
    _interrupted_after_first_epoch(monkeypatch)
    out = tmp_path / "run"
    assert train_mnist.main([*RUN, "--checkpoint", "--out", str(out)]) == 130
    assert capsys.readouterr().err == (
        f"error: interrupted (Ctrl-C) after epoch 1 of 3: continue the run with --resume {out}\n"
    )
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == ["checkpoints", "checkpoints/checkpoint-000001.npz", "command.json"]
    monkeypatch.undo()
    mnist_cache(_small_mnist(np.random.default_rng(0), 40, 10, 10))
    assert train_mnist.main(["--resume", str(out)]) == 0  # what the line says works
    assert "resuming from" in capsys.readouterr().out


def test_run_main_reports_ctrl_c_anywhere(capsys: pytest.CaptureFixture[str]) -> None:
    def main(argv: object) -> int:
        raise KeyboardInterrupt

    assert _cli.run_main(main, []) == 130
    assert capsys.readouterr().err == "error: interrupted (Ctrl-C)\n"


# --------------------------------------------------------------------------------------------
# a path given as an empty string is a typing mistake, not the current folder


@pytest.mark.parametrize(
    "module, argv, flag",
    [
        (train_mnist, ["--out", ""], "--out"),
        (train_mnist, ["--csv", ""], "--csv"),
        (train_mnist, ["--resume", ""], "--resume"),
        (binary_classification, ["--out", ""], "--out"),
        (sweep, ["--sequential", "--out", ""], "--out"),
        (inspect_network, [""], "RUN_DIR"),
    ],
)
def test_an_empty_path_is_refused(module: object, argv: list[str], flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    line = _refused(capsys, lambda: module.main(argv))  # type: ignore[attr-defined]
    assert line.endswith(f"error: argument {flag}: expected a path, got an empty string")
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written into the current folder


# --------------------------------------------------------------------------------------------
# compare_optimizers.py: an optimizer named twice


def test_compare_optimizers_refuses_an_optimizer_named_twice(capsys: pytest.CaptureFixture[str]) -> None:
    assert compare_optimizers.main(["--optimizers", "adam,sgd,adam", "--epochs", "1"]) == 2  # before the data
    assert capsys.readouterr().err == "error: --optimizers names adam twice: each optimizer runs once\n"


def test_compare_optimizers_refuses_two_rates_for_one_optimizer(capsys: pytest.CaptureFixture[str]) -> None:
    assert compare_optimizers.main(["--lr", "adam=0.01", "--lr", "sgd=0.2", "--lr", "adam=0.02"]) == 2
    assert capsys.readouterr().err == "error: --lr adam=0.02: adam's rate is given twice (--lr adam=0.01): give one\n"


# --------------------------------------------------------------------------------------------
# sweep.py --subset: no more than the training samples there are


def test_sweep_refuses_a_subset_larger_than_the_training_set(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache
) -> None:
    mnist_cache(_small_mnist(rng, 40, 10, 10))
    out = tmp_path / "sweep"
    assert sweep.main(["--sequential", "--epochs", "1", "--subset", "41", "--out", str(out)]) == 2
    assert capsys.readouterr().err == "error: --subset 41 exceeds the 40 training samples available: give at most --subset 40\n"
    assert not out.exists()


# --------------------------------------------------------------------------------------------
# --help: every option that takes a value says its default


def test_every_option_that_takes_a_value_says_its_default_in_help(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    parsers: list[argparse.ArgumentParser] = []
    monkeypatch.setattr(argparse.ArgumentParser, "print_help", lambda self, file=None: parsers.append(self))
    silent = []
    for name in sorted(path.stem for path in SCRIPTS.glob("[!_]*.py")):
        with pytest.raises(SystemExit):
            importlib.import_module(name).main(["--help"])
        silent += [
            f"{name}.py {action.option_strings[0]}" for action in parsers[-1]._actions
            if action.option_strings and action.nargs != 0 and "default" not in (action.help or "")
        ]  # fmt: skip
    assert silent == []


# --------------------------------------------------------------------------------------------
# train_mnist.py --shards: no more than the training samples, said of --shards


def test_train_mnist_refuses_more_shards_than_training_samples_before_any_cluster(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache
) -> None:
    mnist_cache(_small_mnist(rng, 40, 10, 10))
    out = tmp_path / "run"
    assert train_mnist.main([*RUN, "--workers", "1", "--shards", "41", "--out", str(out)]) == 2
    assert capsys.readouterr().err == "error: --shards 41 exceeds the 40 training samples: each shard needs one; give at most --shards 40\n"
    assert not out.exists()


# --------------------------------------------------------------------------------------------
# compare_optimizers.py: an option the chosen runs never read


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--best-lr", "0.1", "--max-norm", "2"],
         "--best-lr, --max-norm apply to --preset best only: add --preset best, or leave them out"),
        (["--best-optimizer", "adam"], "--best-optimizer applies to --preset best only: add --preset best, or leave it out"),
        (["--reg-epochs", "0", "--peak-lr", "0.01", "--keep-prob", "0.5"],
         "--peak-lr, --keep-prob have no effect with --reg-epochs 0, which skips the dropout and schedule runs: leave them out"),
        (["--preset", "best", "--optimizers", "adam"],
         "--optimizers has no effect with --preset best, which makes one --best-optimizer run: leave it out"),
        (["--preset", "best", "--reg-epochs", "4", "--peak-lr", "0.01"],
         "--reg-epochs, --peak-lr have no effect with --preset best, which makes one --best-optimizer run: leave them out"),
    ],
)  # fmt: skip
def test_compare_optimizers_refuses_an_option_no_run_reads(arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = _refused(capsys, lambda: compare_optimizers.main(arguments))  # before the data: none is cached here
    assert line.endswith(f": error: {message}")  # after the program's name


def test_ctrl_c_before_the_first_checkpoint_also_says_how_to_continue(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    mnist_cache(_small_mnist(rng, 40, 10, 10))

    def at_once(*args: Any, **kwargs: Any) -> Iterator[TrainState]:
        raise KeyboardInterrupt
        yield  # a generator, as train_epochs is

    monkeypatch.setattr(train_mnist, "train_epochs", at_once)
    out = tmp_path / "run"
    assert train_mnist.main([*RUN, "--checkpoint", "--out", str(out)]) == 130
    assert capsys.readouterr().err == f"error: interrupted (Ctrl-C) before the first epoch's checkpoint: continue the run with --resume {out}\n"
    assert sorted(p.name for p in out.iterdir()) == ["command.json"]  # what --resume reads


@pytest.mark.parametrize("name", ["bench_activations", "benchmark_rounds", "compare_sklearn_digits", "neuron_basics"])
def test_ctrl_c_in_the_scripts_that_write_no_file_is_one_line(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = importlib.import_module(name)

    def interrupted(*args: object, **kwargs: object) -> argparse.Namespace:
        raise KeyboardInterrupt

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", interrupted)
    assert script.main([]) == 130
    assert capsys.readouterr().err == "error: interrupted (Ctrl-C)\n"
