"""What augmentation_report.py measures and _cluster_training.py sets up (found by mutation testing).

augmentation_report.py: every epoch it times is ``train`` on the first ``--samples`` digits
with Adam at 1e-3 from the seed's parameters, and its augmentations are train_mnist's, in
their order; the figures it prints and writes are the clock's readings turned into
milliseconds a step (medians), and its picture is the digits and each augmentation of them.
_cluster_training.py: the line it says and the rounds it runs, synchronous or local SGD,
full shards or batches, with train_mnist's dropout, max-norm and seed.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

from distributed import Client
from matplotlib.figure import Figure

from functional_nn import distributed as dist
from functional_nn import plots
from functional_nn.data import one_hot
from functional_nn.data.mnist import load_mnist
from functional_nn.initializers import initialize_parameters
from functional_nn.optimizers import adam
from functional_nn.propagation import predict
from functional_nn.training import train
from functional_nn.types import FloatArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import augmentation_report  # noqa: E402  (the scripts folder is not a package)
import train_mnist  # noqa: E402
from conftest import WriteMNISTCache  # noqa: E402
from test_scripts_arguments import _refused  # noqa: E402
from test_mutants_benchmark_revisions import _recorded_load_averages  # noqa: E402
from test_mutants_step_breakdown import clock_readings  # noqa: E402
from test_distributed import ACTIVATIONS, LOSS, _assert_bitwise, _clients_opened, _last, _scheduler_address  # noqa: E402
from test_scripts_mnist import _small_mnist  # noqa: E402
from test_sweep_program import one_worker  # noqa: E402,F401  (the fixture: a cluster of one thread worker)

AUGMENTATIONS = ("shift", "affine", "elastic", "affine+elastic")
COST_LINE = re.compile(
    r"  (?P<name>.{15}): +(?P<added>[+-]\d+\.\d\d) ms a step \(\s*(?P<share>-?\d+\.\d)% of the step\); "
    r"the call itself\s+(?P<call>\d+\.\d\d) ms \(\s*(?P<call_share>\d+\.\d)%\)"
)


# --------------------------------------------------------------------------------------------
# augmentation_report.py: its command line


def test_the_report_defaults_to_the_main_jobs_network_and_says_what_it_does(monkeypatch: pytest.MonkeyPatch) -> None:
    args = augmentation_report.parse_args([])
    assert (args.hidden, args.batch_size, args.repeats, args.samples, args.digits) == ((512, 256), 128, 7, 6400, 10)
    assert (args.seed, args.threads, args.out, args.overwrite, args.no_picture) == (0, None, augmentation_report.PICTURE, False, False)
    monkeypatch.setenv("COLUMNS", "80")
    description = "Show the augmentations on test digits, and measure what they cost against a training step."
    assert f"\n\n{description}\n\n" in augmentation_report.make_parser().format_help()  # its first paragraph, one line as written


@pytest.mark.parametrize("option", ["--batch-size", "--repeats", "--samples", "--digits", "--threads"])
def test_each_count_below_one_is_refused_naming_it_and_one_is_taken(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = _refused(capsys, lambda: augmentation_report.parse_args([option, "0"]))
    assert line.endswith(f": error: {option} must be >= 1, got 0")
    assert getattr(augmentation_report.parse_args([option, "1"]), option[2:].replace("-", "_")) == 1


# --------------------------------------------------------------------------------------------
# augmentation_report.py: the epochs it trains


class TrainCall(NamedTuple):
    X: FloatArray
    Y: FloatArray
    params: dict[str, FloatArray]
    kwargs: dict[str, Any]
    rng_state: dict[str, Any]
    result: Any


def _spy_on_train(monkeypatch: pytest.MonkeyPatch) -> list[TrainCall]:
    calls: list[TrainCall] = []

    def recorded(X: FloatArray, Y: FloatArray, params: dict[str, FloatArray], **kwargs: Any) -> Any:
        rng_state = kwargs["rng"].bit_generator.state
        result = train(X, Y, params, **kwargs)
        calls.append(TrainCall(X, Y, dict(params), kwargs, rng_state, result))
        return result

    monkeypatch.setattr(augmentation_report, "train", recorded)
    return calls


def test_every_timed_epoch_trains_the_first_samples_from_the_seeds_start_with_adam(
    rng: np.random.Generator, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    mnist_cache(_small_mnist(rng, 40, 4, 4))
    calls = _spy_on_train(monkeypatch)
    argv = ["--hidden", "4", "--batch-size", "16", "--repeats", "1", "--samples", "24", "--seed", "3", "--no-picture"]
    assert augmentation_report.main(argv) == 0
    capsys.readouterr()
    mnist = load_mnist(dtype=np.float32)
    X, Y = mnist.X_train[:, :24], one_hot(mnist.y_train[:24], 10, dtype=np.float32)
    start = initialize_parameters((784, 4, 10), np.random.default_rng(3), dtype=np.float32)  # no picture: the seed's first draws
    # a warm-up, then each repeat: the plain step and the four augmentations, in train_mnist's order
    assert [call.kwargs["augmentation"] is None for call in calls] == [True, True, False, False, False, False]
    for call in calls:
        assert call.X.dtype == np.float32 and call.X.flags.f_contiguous and np.array_equal(call.X, X)
        assert call.Y.dtype == np.float32 and np.array_equal(call.Y, Y)
        assert call.params.keys() == start.keys()
        assert all(call.params[k].dtype == np.float32 and np.array_equal(call.params[k], start[k]) for k in start)
        assert tuple(call.kwargs["activations"]) == ("relu", "softmax")
        assert call.kwargs["loss"] == "categorical_cross_entropy" and call.kwargs["epochs"] == 1 and call.kwargs["batch_size"] == 16
        assert call.rng_state == np.random.default_rng(3).bit_generator.state
    by_hand = train(np.asfortranarray(X), Y, start, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=1,
                    optimizer=adam(1e-3), batch_size=16, rng=np.random.default_rng(3))  # fmt: skip
    for call in (call for call in calls if call.kwargs["augmentation"] is None):
        assert all(np.array_equal(call.result.params[k], by_hand.params[k]) for k in start)
    batch = X[:, :5]
    for call, name in zip([c for c in calls if c.kwargs["augmentation"] is not None], AUGMENTATIONS, strict=True):
        expected = train_mnist.AUGMENT[name]
        assert expected is not None
        moved = call.kwargs["augmentation"](batch, np.random.default_rng(7))
        assert np.array_equal(moved, expected(batch, np.random.default_rng(7))), name


# --------------------------------------------------------------------------------------------
# augmentation_report.py: its figures, from the clock's own readings


def test_the_milliseconds_are_medians_of_the_clocked_epochs_and_calls(
    rng: np.random.Generator, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    mnist_cache(_small_mnist(rng, 40, 4, 4))
    readings = clock_readings(monkeypatch, augmentation_report)
    loads = _recorded_load_averages(monkeypatch)
    argv = ["--hidden", "4", "--batch-size", "16", "--repeats", "3", "--samples", "6400", "--no-picture"]
    assert augmentation_report.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    summary = json.loads(lines[-1])
    assert "picture" not in summary
    steps = math.ceil(40 / 16)  # --samples beyond the 40 training digits: an epoch of 40, 3 steps
    epochs: dict[str, list[float]] = {name: [] for name in ("step", *AUGMENTATIONS)}
    calls: dict[str, list[float]] = {name: [] for name in AUGMENTATIONS}
    names = iter(("step", *AUGMENTATIONS) * 3)
    name, started, call_started = "", 0.0, 0.0
    for reader, now in readings:
        if reader == "measure" and not name:
            name, started = next(names), now
        elif reader == "measure":
            epochs[name].append((now - started) / steps * 1e3)
            name = ""
        elif not call_started:
            call_started = now
        else:
            calls[name].append(1e3 * (now - call_started))
            call_started = 0.0
    assert all(len(values) == 3 for values in epochs.values()) and all(len(values) == 3 * steps for values in calls.values())
    step = float(np.median(epochs["step"]))
    added = {name: float(np.median(epochs[name])) - step for name in AUGMENTATIONS}
    call = {name: float(np.median(calls[name])) for name in AUGMENTATIONS}
    assert summary["milliseconds"] == {"step": step, **added}
    assert summary["ratio"] == {name: added[name] / step for name in AUGMENTATIONS}
    assert summary["call_milliseconds"] == call
    assert summary["call_ratio"] == {name: call[name] / step for name in AUGMENTATIONS}
    assert summary["load_average"] == loads[-1][0] and len(loads) == 1
    assert lines[0] == f"one training step of 784-4-10 on 16 digits: {step:.2f} ms (median of 3 epochs of 40 digits)"
    for name, line in zip(AUGMENTATIONS, lines[1:5]):
        match = COST_LINE.fullmatch(line)
        assert match is not None, line
        assert match["name"].strip() == name and len(match["name"]) == 15
        assert float(match["added"]) == round(added[name], 2) and float(match["share"]) == round(100 * added[name] / step, 1)
        assert float(match["call"]) == round(call[name], 2) and float(match["call_share"]) == round(100 * call[name] / step, 1)
    assert len(lines) == 6


def test_the_picture_is_the_test_digits_then_each_augmentation_of_them_drawn_from_the_seed(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    small = _small_mnist(rng, 20, 4, 3)
    mnist_cache(small._replace(X_test=small.X_test // 2))  # dim digits, none white: shown on 0..1 all the same
    # --digits 3: every test digit, which is not too many
    figures: list[Figure] = []
    real_save_figure = plots.save_figure

    def recorded(figure: Figure, path: Path) -> Path:
        figures.append(figure)
        return real_save_figure(figure, path)

    monkeypatch.setattr(plots, "save_figure", recorded)
    picture = tmp_path / "grid.png"
    argv = ["--hidden", "4", "--batch-size", "16", "--repeats", "1", "--samples", "16", "--digits", "3", "--seed", "2", "--out", str(picture)]
    assert augmentation_report.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"wrote {picture}" and json.loads(lines[-1])["picture"] == str(picture)
    X = load_mnist(dtype=np.float32).X_test[:, :3]
    draws = np.random.default_rng(2)
    rows: list[tuple[str, FloatArray]] = [("test digits", X)]
    for name in AUGMENTATIONS:
        augmentation = train_mnist.AUGMENT[name]
        assert augmentation is not None
        rows.append((name, augmentation(X, draws)))
    (figure,) = figures
    assert tuple(figure.get_size_inches()) == pytest.approx((0.9 * 3 + 1.2, 5.0))
    axes = figure.axes
    assert len(axes) == 5 * 3
    for r, (name, images) in enumerate(rows):
        assert axes[3 * r].get_ylabel() == name
        for c in range(3):
            axis = axes[3 * r + c]
            (image,) = axis.get_images()
            pixels = image.get_array()
            assert pixels is not None and np.array_equal(pixels, images[:, c].reshape(28, 28)), (name, c)
            assert image.get_cmap().name == "gray" and image.get_clim() == (0, 1)
            assert list(axis.get_xticks()) == [] and list(axis.get_yticks()) == []


# --------------------------------------------------------------------------------------------
# _cluster_training.py: the rounds it sets up, on a cluster of one thread worker


def _digits_data(m: int) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``m`` training and 6 dev columns shaped as train_mnist's: 784 pixels, one-hot of 10 classes."""
    rng = np.random.default_rng(5)
    X, X_dev = rng.random((784, m), dtype=np.float32), rng.random((784, 6), dtype=np.float32)
    return X, one_hot(rng.integers(0, 10, m), 10, dtype=np.float32), X_dev, one_hot(rng.integers(0, 10, 6), 10, dtype=np.float32)


class ClusterCase(NamedTuple):
    flags: list[str]
    line: str  # after "cluster at <address>: "
    shards: int
    batch: int | None  # a shard's
    local_steps: int | None
    rounds: int
    optimizer_steps: int


CLUSTER_CASES = {
    # full batch: one step a pass over each shard, a round a step; 31 samples in shards of 16 and 15
    "synchronous full shards": ClusterCase(
        ["--epochs", "2", "--batch-size", "0", "--shards", "2", "--keep-prob", "0.8", "--max-norm", "1", "--seed", "4"],
        "1 worker, 2 shards of <= 16 samples, synchronous rounds, full shards, 2 rounds", 2, None, None, 2, 2,
    ),
    # no --shards: a shard a worker; batches of 10: ceil(31 / 10) = 4 steps a pass, a round a step
    "synchronous batches": ClusterCase(
        ["--epochs", "1", "--batch-size", "10", "--augment", "shift"],
        "1 worker, 1 shard of <= 31 samples, synchronous rounds, batches of 10 a shard, 4 rounds", 1, 10, None, 4, 4,
    ),
    # batches of ceil(10 / 2) = 5 a shard: 4 steps a pass of 16, 8 in two epochs: ceil(8 / 3) = 3 rounds of 3 steps
    "local SGD": ClusterCase(
        ["--epochs", "2", "--batch-size", "10", "--shards", "2", "--local-steps", "3", "--augment", "none"],
        "1 worker, 2 shards of <= 16 samples, local SGD, 3 steps a round, batches of 5 a shard, 3 rounds", 2, 5, 3, 3, 9,
    ),
}


@pytest.mark.parametrize("case", CLUSTER_CASES.values(), ids=CLUSTER_CASES.keys())
def test_cluster_rounds_are_train_rounds_of_the_runs_settings_named_in_one_line(case: ClusterCase, one_worker: Client) -> None:
    import _cluster_training

    address = _scheduler_address(one_worker)
    args, settings = train_mnist.parse_args(["--hidden", "5", *case.flags, "--scheduler", address])
    X, Y, X_dev, Y_dev = _digits_data(31)
    params = initialize_parameters((784, 5, 10), np.random.default_rng(0), dtype=np.float32)
    said: list[str] = []
    optimizers: list[int] = []

    def make_optimizer(run_settings: Any, steps: int) -> Any:
        optimizers.append(steps)
        return train_mnist.make_optimizer(run_settings, steps)

    waited: list[float] = []
    augmentation = train_mnist.AUGMENT[settings.augment]
    states, workers = _cluster_training.epoch_states(
        args, settings, X, Y, (X_dev, Y_dev), params, ACTIVATIONS, LOSS, make_optimizer, waited, said.append, augmentation
    )
    assert workers == 1 and said == [f"cluster at {address}: {case.line}"] and optimizers == [case.optimizer_steps]
    epochs = list(states)
    assert [state.epoch for state in epochs] == list(range(1, settings.epochs + 1)) and len(waited) == case.rounds
    here = _last(
        dist.train_rounds(
            dist.split_shards(X, Y, case.shards), params, activations=ACTIVATIONS, loss=LOSS, rounds=case.rounds,
            optimizer=train_mnist.make_optimizer(settings, case.optimizer_steps), batch_size=case.batch,
            local_steps=case.local_steps, seed=settings.seed, keep_probs=settings.keep_prob, max_norm=settings.max_norm,
            augmentation=augmentation,
        )
    )  # fmt: skip
    _assert_bitwise(dict(epochs[-1].params), here.params)
    dev_accuracy = float(np.mean(predict(X_dev, here.params, ACTIVATIONS) == np.argmax(Y_dev, axis=0)))
    assert epochs[-1].history[-1].dev_accuracy == dev_accuracy


def test_a_cluster_whose_shards_cannot_be_placed_is_closed_as_the_error_leaves(
    one_worker: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    import _cluster_training

    opened = _clients_opened(monkeypatch)
    args, settings = train_mnist.parse_args(["--hidden", "5", "--epochs", "1", "--shards", "40", "--scheduler", _scheduler_address(one_worker)])
    X, Y, X_dev, Y_dev = _digits_data(31)
    params = initialize_parameters((784, 5, 10), np.random.default_rng(0), dtype=np.float32)
    with pytest.raises(ValueError, match="^n_shards must be at most the number of samples: 40 shards of 31 samples would leave some empty$") as raised:
        _cluster_training.epoch_states(
            args, settings, X, Y, (X_dev, Y_dev), params, ACTIVATIONS, LOSS, train_mnist.make_optimizer, [], print
        )
    assert raised.tb is not None  # the error's frames, and the ExitStack in them, still held: closed all the same
    assert len(opened) == 1 and opened[0].status == "closed"
    assert one_worker.status == "running"
