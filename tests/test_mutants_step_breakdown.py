"""scripts/step_breakdown.py and scripts/bench_activations.py: their figures and arguments, pinned (found by mutation testing).

step_breakdown.py: each piece's microseconds a step are worked out by hand from the clock
readings the script itself took (a call-through recorder of ``time.perf_counter``); the
printed lines, the medians (the middle of three epochs), each product's microseconds and
GFLOP/s and their total are worked out from the seconds ``benchmark.time_products`` measured;
the Run it times is the one its options ask for (pixels, He parameters, dropout, augmentation,
optimizer, a max-norm that binds, seed); a step that parts from ``train_epochs``' is reported
and fails; cached MNIST is read and cut to ``--samples``; its defaults and refusals.

bench_activations.py: the two GELUs it times against the library's (their values, worked out
by hand), ``median_ms`` (a median of timed calls, in milliseconds), and its table: every row
is the median ``median_ms`` returned for that function, its ratio to ``relu``'s forward pass,
each function called as many times as the table says, on the generator's ``Z`` of the shape
and dtype asked for; its options' defaults and refusals.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import bench_activations  # noqa: E402  (the scripts folder is not a package)
import benchmark  # noqa: E402
import step_breakdown  # noqa: E402
import test_step_breakdown  # noqa: E402
import train_mnist  # noqa: E402
from conftest import WriteMNISTCache  # noqa: E402
from functional_nn import fused  # noqa: E402
from functional_nn.activations import ACTIVATIONS, RELU, SOFTMAX  # noqa: E402
from functional_nn.data import one_hot  # noqa: E402
from functional_nn.data.augmentation import Augmentation  # noqa: E402
from functional_nn.data.mnist import MNIST_CACHE_NAME  # noqa: E402
from functional_nn.initializers import initialize_parameters  # noqa: E402
from functional_nn.types import FloatArray  # noqa: E402
from test_scripts_arguments import _refused  # noqa: E402
from test_scripts_mnist import _small_mnist  # noqa: E402

def clock_readings(monkeypatch: pytest.MonkeyPatch, script: ModuleType) -> list[tuple[str, float]]:
    """Every ``time.perf_counter()`` that ``script``'s own code reads, in order, with the function
    that read it (the clock itself still answers)."""
    readings: list[tuple[str, float]] = []
    real = time.perf_counter

    def clock() -> float:
        now = real()
        caller = sys._getframe(1)
        if caller.f_globals.get("__name__") == script.__name__:
            readings.append((caller.f_code.co_name, now))
        return now

    monkeypatch.setattr(time, "perf_counter", clock)
    return readings


# --------------------------------------------------------------------------------------------
# bench_activations.py

Z_POINTS = np.array([[0.0, 1.0, -1.0], [2.0, -0.5, 3.0]])


def test_gelu_frompyfunc_is_the_exact_gelu() -> None:
    exact = [[0.5 * z * (1 + math.erf(z / math.sqrt(2))) for z in row] for row in Z_POINTS.tolist()]
    assert exact[0][1] == pytest.approx(0.8413447460685429, abs=1e-15) and exact[0][2] == pytest.approx(-0.15865525393145707, abs=1e-15)
    gelu = bench_activations.gelu_frompyfunc(Z_POINTS)
    assert gelu.dtype == np.float64
    np.testing.assert_allclose(gelu, exact, rtol=1e-15, atol=1e-16)
    np.testing.assert_allclose(gelu, ACTIVATIONS["gelu"].forward(Z_POINTS), rtol=1e-12, atol=1e-15)
    single = bench_activations.gelu_frompyfunc(Z_POINTS.astype(np.float32))
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, exact, rtol=1e-6, atol=1e-7)


def test_gelu_tanh_approximation_is_hendrycks_and_gimpels_formula() -> None:
    def by_hand(z: float) -> float:
        return 0.5 * z * (1 + math.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z**3)))

    assert by_hand(1.0) == pytest.approx(0.8411919906082768, abs=1e-15)  # the exact GELU(1) is 0.841344746
    Z = Z_POINTS.copy()
    approximation = bench_activations.gelu_tanh_approximation(Z)
    np.testing.assert_allclose(approximation, [[by_hand(z) for z in row] for row in Z_POINTS.tolist()], rtol=1e-14, atol=1e-16)
    assert np.array_equal(Z, Z_POINTS)  # its in-place steps write into its own array, not Z
    assert bench_activations.gelu_tanh_approximation(Z.astype(np.float32)).dtype == np.float32


def test_median_ms_is_the_median_call_in_milliseconds(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses = iter([0.001, 0.03, 0.01])
    readings = clock_readings(monkeypatch, bench_activations)
    median = bench_activations.median_ms(lambda: time.sleep(next(pauses)), 3)
    starts, ends = [now for _, now in readings[0::2]], [now for _, now in readings[1::2]]
    calls = [end - start for start, end in zip(starts, ends, strict=True)]
    assert len(readings) == 6 and sorted(calls, reverse=True)[1] >= 0.01  # each clocked call slept
    assert median == 1e3 * sorted(calls)[1] != 1e3 * sum(calls) / 3  # the 0.01 s call in ms, not the mean


def _table(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> tuple[list[str], list[tuple[int, float]], dict[str, list[FloatArray]]]:
    """The lines printed, each ``median_ms`` call's repeats and result, and the Z each GELU alternative got."""
    timed: list[tuple[int, float]] = []
    seen: dict[str, list[FloatArray]] = {"gelu_frompyfunc": [], "gelu_tanh_approximation": []}
    real_median = bench_activations.median_ms

    def recorded_median(function: Callable[[], object], repeats: int) -> float:
        milliseconds = real_median(function, repeats)
        timed.append((repeats, milliseconds))
        return milliseconds

    def recorded(name: str) -> Callable[[FloatArray], FloatArray]:
        real: Callable[[FloatArray], FloatArray] = getattr(bench_activations, name)

        def call(Z: FloatArray) -> FloatArray:
            seen[name].append(Z)
            return real(Z)

        return call

    monkeypatch.setattr(bench_activations, "median_ms", recorded_median)
    for name in seen:
        monkeypatch.setattr(bench_activations, name, recorded(name))
    assert bench_activations.main(argv) == 0
    return capsys.readouterr().out.splitlines(), timed, seen


@pytest.mark.parametrize(("repeats", "erf_repeats"), [(1, 3), (20, 3), (50, 5)])
def test_each_row_is_the_median_timed_for_it_and_its_ratio_to_relu(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, repeats: int, erf_repeats: int
) -> None:
    lines, timed, seen = _table(capsys, monkeypatch, ["--shape", "3", "2", "--repeats", str(repeats)])
    names = list(ACTIVATIONS)
    # forward then backward for each activation, then math.erf's GELU (a tenth of the calls, at least 3), then tanh's
    assert [r for r, _ in timed] == [repeats] * 2 * len(names) + [erf_repeats, repeats]
    assert len(seen["gelu_frompyfunc"]) == erf_repeats and len(seen["gelu_tanh_approximation"]) == repeats
    relu = timed[2 * names.index("relu")][1]
    assert lines[0] == f"Z (3, 2) float64, median of {repeats} calls"
    assert lines[1] == "activation                       forward ms  x relu backward ms"
    expected = [
        f"{name:32} {timed[2 * i][1]:10.2f} {timed[2 * i][1] / relu:7.1f} {timed[2 * i + 1][1]:11.2f}" for i, name in enumerate(names)
    ]
    erf, tanh = timed[-2][1], timed[-1][1]
    expected += [
        f"{'gelu via frompyfunc(math.erf)':32} {erf:10.2f} {erf / relu:7.1f}           -",
        f"{'gelu, tanh approximation':32} {tanh:10.2f} {tanh / relu:7.1f}           -",
    ]
    assert lines[2:-1] == expected
    assert lines[2 + names.index("relu")].split()[2] == "1.0"
    assert lines[-1] == "-: forward only, timed for the choice of erf; the library's gelu above has the backward pass"


def test_every_function_times_the_generators_z_of_the_shape_and_dtype_asked_for(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines, _, seen = _table(capsys, monkeypatch, ["--shape", "4", "3", "--repeats", "1", "--dtype", "float32"])
    assert lines[0] == "Z (4, 3) float32, median of 1 calls"
    Z = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    for calls in seen.values():
        for z in calls:
            assert z.dtype == np.float32 and np.array_equal(z, Z)


def test_the_defaults_are_a_1024_by_256_float64_z_and_30_calls(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines, timed, _ = _table(capsys, monkeypatch, ["--repeats", "1"])
    assert lines[0] == "Z (1024, 256) float64, median of 1 calls"
    lines, timed, _ = _table(capsys, monkeypatch, ["--shape", "2", "2"])
    assert lines[0] == "Z (2, 2) float64, median of 30 calls" and timed[0][0] == 30


def test_main_without_arguments_reads_the_command_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["bench_activations.py", "--shape", "2", "3", "--repeats", "1"])
    assert bench_activations.main() == 0
    assert capsys.readouterr().out.startswith("Z (2, 3) float64, median of 1 calls\n")


def test_bench_activations_refuses_a_dtype_it_does_not_time_and_describes_itself(capsys: pytest.CaptureFixture[str]) -> None:
    refusal = _refused(capsys, lambda: bench_activations.main(["--dtype", "float16"]))
    assert refusal.endswith("error: argument --dtype: invalid choice: 'float16' (choose from 'float32', 'float64')")
    with pytest.raises(SystemExit):
        bench_activations.main(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())  # argparse wraps it
    assert "Time every built-in activation's forward and backward pass, side by side in one run." in help_text
    assert "[--shape N_L M]" in help_text and "--shape N_L M (n_l, m) of Z (default 1024 256)" in help_text


# --------------------------------------------------------------------------------------------
# step_breakdown.py

TINY = [*test_step_breakdown.TINY, "--epochs", "3"]  # three epochs: a median that is the middle one


def _tiny_run(images: int, augmentation: Augmentation | None, max_norm: float | None, *, seed: int = 3) -> step_breakdown.Run:
    pixels = step_breakdown.load_pixels("random", images, np.random.default_rng(1))
    return step_breakdown.Run(
        pixels.X, pixels.labels, one_hot(pixels.labels, 10, dtype=np.float32),
        initialize_parameters((784, 8, 10), np.random.default_rng(2), dtype=np.float32), (0.5,), augmentation,
        benchmark.our_optimizer("adam"), max_norm, 50, seed,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("augment", "max_norm", "pieces"),
    [
        (None, None, ("gather", "forward", "cost", "labels", "backward", "update")),
        ("shift", None, ("gather", "augment", "forward", "cost", "labels", "backward", "update")),
        (None, 2.0, ("gather", "forward", "cost", "labels", "backward", "update", "max-norm")),
        ("shift", 2.0, step_breakdown.PIECES),
    ],
)
def test_each_pieces_microseconds_a_step_are_its_laps_of_the_clock_over_the_steps(
    monkeypatch: pytest.MonkeyPatch, augment: str | None, max_norm: float | None, pieces: tuple[str, ...]
) -> None:
    run = _tiny_run(230, None if augment is None else train_mnist.AUGMENT[augment], max_norm)
    assert step_breakdown._pieces(run) == pieces
    clock = clock_readings(monkeypatch, step_breakdown)
    per_epoch, _ = step_breakdown.timed_epochs(run, 2)
    readings = [now for _, now in clock]
    steps = 5  # 230 images, 50 a step: the last step takes 30
    per_epoch_readings = 1 + steps * len(pieces)  # the epoch's start, then a lap after each piece of each step
    assert len(readings) == 2 * per_epoch_readings and len(per_epoch) == 2
    for epoch, step in enumerate(per_epoch):
        start, *laps = readings[epoch * per_epoch_readings : (epoch + 1) * per_epoch_readings]
        expected: dict[str, float] = {}
        for i, piece in enumerate(pieces):
            seconds = 0.0
            for s in range(steps):
                lap = s * len(pieces) + i
                seconds += laps[lap] - (laps[lap - 1] if lap > 0 else start)
            expected[piece] = 1e6 * seconds / steps
        expected["step"] = 1e6 * (laps[-1] - start) / steps
        assert step == expected


def test_the_hand_run_step_uses_relu_hidden_layers_and_a_softmax_output() -> None:
    run = _tiny_run(60, None, None)._replace(params=initialize_parameters((784, 6, 5, 10), np.random.default_rng(0), dtype=np.float32))
    assert step_breakdown._activations(run) == (RELU, RELU, SOFTMAX)


def _run_main(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *arguments: str
) -> tuple[int, list[str], dict[str, Any], list[step_breakdown.Run], list[tuple[int, float, float]]]:
    """main on TINY, with what it printed, its JSON line, the Run it timed, and each product's
    (FLOPs, the min seconds asked for, the seconds ``benchmark.time_products`` measured)."""
    runs: list[step_breakdown.Run] = []
    products: list[tuple[int, float, float]] = []
    real_epochs, real_products = step_breakdown.timed_epochs, benchmark.time_products

    def recorded_epochs(run: step_breakdown.Run, epochs: int) -> tuple[list[dict[str, float]], dict[str, FloatArray]]:
        runs.append(run)
        return real_epochs(run, epochs)

    def recorded_products(pairs: Sequence[tuple[FloatArray, FloatArray]], min_seconds: float) -> float:
        seconds = real_products(pairs, min_seconds)
        ((a, b),) = pairs
        products.append((2 * a.shape[0] * a.shape[1] * b.shape[1], min_seconds, seconds))
        return seconds

    monkeypatch.setattr(step_breakdown, "timed_epochs", recorded_epochs)
    monkeypatch.setattr(benchmark, "time_products", recorded_products)
    status = step_breakdown.main([*TINY, *arguments])
    lines = capsys.readouterr().out.rstrip("\n").splitlines()
    return status, lines, json.loads(lines[-1]), runs, products


def test_the_printed_and_json_figures_are_worked_out_from_the_timed_seconds(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, lines, report, _, products = _run_main(capsys, monkeypatch, "--hidden", "16", "--keep-prob", "1", "--optimizer", "sgd")
    assert status == 0
    kernel = fused.check_kernel(None)
    assert lines[0] == f"784-16-10, sgd, dropout keeping 1, augmentation none, no max-norm; batch 64, 300 random, MNIST-shaped images; kernel {kernel}; µs a step"
    shown = ("gather", "forward", "cost", "labels", "backward", "update")
    epochs = report["epochs"]
    assert len(epochs) == 3
    for number, step in enumerate(epochs, start=1):
        pieces = ", ".join(f"{piece} {step[piece]:,.0f}" for piece in shown)
        assert lines[number] == f"  epoch {number}: {pieces}; the step {step['step']:,.0f}"
    medians = report["medians"]
    assert set(medians) == {*shown, "step"}
    assert all(medians[piece] == sorted(step[piece] for step in epochs)[1] for piece in medians)  # the middle of three
    assert lines[4] == "  medians: " + ", ".join(f"{piece} {medians[piece]:,.0f}" for piece in shown) + f"; the step {medians['step']:,.0f}"
    assert lines[5] == "train_epochs ends with the same parameters, bit for bit: yes"
    # W1 A0 and dZ1 A0^T: 16 x 784 by 784 x 64; W2 A1, dZ2 A1^T, W2^T dZ2: 16 x 10 by 64
    assert [(flops, min_seconds) for flops, min_seconds, _ in products] == [
        (2 * 16 * 784 * 64, 0.005), (2 * 16 * 784 * 64, 0.005), (2 * 10 * 16 * 64, 0.005), (2 * 10 * 16 * 64, 0.005), (2 * 16 * 10 * 64, 0.005),
    ]  # fmt: skip
    names = ["W1 A0", "dZ1 A0^T", "W2 A1", "dZ2 A1^T", "W2^T dZ2"]
    microseconds = [1e6 * seconds for _, _, seconds in products]
    gflops = [flops / seconds / 1e9 for flops, _, seconds in products]
    figures = list(zip(names, microseconds, gflops, strict=True))
    assert report["products"] == [{"name": name, "microseconds": us, "gflops": rate} for name, us, rate in figures]
    total = sum(microseconds)
    assert report["products_microseconds"] == total
    alone = ", ".join(f"{name} {us:,.1f} µs ({rate:.0f} GFLOP/s)" for name, us, rate in figures)
    assert lines[6] == f"each product alone: {alone}"
    assert lines[7] == f"all 5 products {total:,.0f} µs, {100 * total / medians['step']:.0f}% of the median step"
    assert len(lines) == 9
    assert {k: v for k, v in report.items() if k not in ("epochs", "medians", "products", "products_microseconds")} == {
        "sizes": [784, 16, 10], "optimizer": "sgd", "keep_prob": 1.0, "augment": "none", "max_norm": None, "batch_size": 64,
        "samples": 300, "data": "random, MNIST-shaped", "kernel": kernel, "threads": None, "same_as_train_epochs": True,
    }  # fmt: skip


def test_the_run_timed_is_the_one_the_options_ask_for(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # He rows have norms near sqrt(2): a cap of 0.5 binds, so train_epochs must be given it too
    arguments = ["--hidden", "16,8", "--keep-prob", "0.5", "--augment", "shift", "--max-norm", "0.5", "--seed", "7", "--epochs", "1"]
    status, lines, report, runs, _ = _run_main(capsys, monkeypatch, *arguments)
    assert status == 0 and report["same_as_train_epochs"] is True
    assert lines[0].startswith("784-16-8-10, adam, dropout keeping 0.5, augmentation shift, max-norm 0.5; batch 64, 300 random")
    (run,) = runs
    rng = np.random.default_rng(7)
    pixels = step_breakdown.load_pixels("random", 300, rng)
    params = initialize_parameters((784, 16, 8, 10), rng, scheme="he", dtype=np.float32)  # drawn after the pixels
    assert np.array_equal(run.X, pixels.X) and np.array_equal(run.labels, pixels.labels)
    assert run.Y.dtype == np.float32 and np.array_equal(run.Y, one_hot(pixels.labels, 10, dtype=np.float32))
    assert run.params.keys() == params.keys() and all(np.array_equal(run.params[k], params[k]) for k in params)
    assert {run.params[k].dtype for k in params} == {np.dtype(np.float32)}
    assert run.keep_probs == (0.5, 0.5)  # every hidden layer
    assert run.augmentation is train_mnist.AUGMENT["shift"]
    adam = benchmark.our_optimizer("adam")
    assert (run.optimizer.name, run.optimizer.hyperparameters) == (adam.name, adam.hyperparameters)
    assert (run.max_norm, run.batch_size, run.seed) == (0.5, 64, 7)
    assert len(report["epochs"]) == 1


def test_keep_prob_one_is_no_dropout_and_sgd_is_the_benchmarks(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    status, _, _, runs, _ = _run_main(capsys, monkeypatch, "--hidden", "8", "--keep-prob", "1", "--optimizer", "sgd", "--epochs", "1")
    (run,) = runs
    sgd = benchmark.our_optimizer("sgd")
    assert status == 0 and run.keep_probs is None and run.augmentation is None and run.max_norm is None
    assert (run.optimizer.name, run.optimizer.hyperparameters) == (sgd.name, sgd.hyperparameters)


def test_step_breakdowns_defaults() -> None:
    args = step_breakdown.parse_arguments([])
    settings = {name: getattr(args, name) for name in ("hidden", "sizes", "keep_prob", "augment", "optimizer", "max_norm", "epochs")}
    assert settings == {
        "hidden": (512, 256), "sizes": (512, 256), "keep_prob": 0.8, "augment": "none", "optimizer": "adam", "max_norm": None, "epochs": 3,
    }  # fmt: skip
    rest = {name: getattr(args, name) for name in ("samples", "batch_size", "data", "seed", "threads", "product_seconds")}
    assert rest == {"samples": None, "batch_size": 128, "data": "auto", "seed": 0, "threads": None, "product_seconds": 0.2}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--keep-prob", "0"], "error: --keep-prob must be in (0, 1], got 0.0"),
        (["--keep-prob", "-0.5"], "error: --keep-prob must be in (0, 1], got -0.5"),
        (["--keep-prob", "1.01"], "error: --keep-prob must be in (0, 1], got 1.01"),
        (["--epochs", "0"], "error: --epochs must be >= 1, got 0"),
        (["--batch-size", "0"], "error: --batch-size must be >= 1, got 0"),
        (["--samples", "0"], "error: --samples must be >= 1, got 0"),
        (["--threads", "0"], "error: --threads must be >= 1, got 0"),
        (["--optimizer", "rmsprop"], "error: argument --optimizer: invalid choice: 'rmsprop' (choose from 'adam', 'sgd')"),
        (["--data", "mnist-ish"], "error: argument --data: invalid choice: 'mnist-ish' (choose from 'auto', 'mnist', 'random')"),
        (["--seed", "-1"], "error: argument --seed: must be >= 0, got -1"),
        (["--max-norm", "0"], "error: argument --max-norm: must be a finite number > 0, got 0"),
        (["--product-seconds", "0"], "error: argument --product-seconds: must be a finite number > 0, got 0"),
        (["--epoch", "2"], "error: unrecognized arguments: --epoch 2"),
    ],
)
def test_step_breakdown_refuses(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert _refused(capsys, lambda: step_breakdown.parse_arguments(argv)).endswith(f": {message}")


def test_step_breakdown_takes_the_edges_of_its_ranges() -> None:
    args = step_breakdown.parse_arguments(["--keep-prob", "1", "--epochs", "1", "--batch-size", "1", "--samples", "1", "--threads", "1"])
    assert (args.keep_prob, args.epochs, args.batch_size, args.samples, args.threads) == (1.0, 1, 1, 1, 1)


def test_the_random_pixels_are_every_uint8_and_every_digit() -> None:
    pixels = step_breakdown.load_pixels("random", None, np.random.default_rng(0))
    assert pixels.X.shape == (784, 50_000) and pixels.labels.shape == (50_000,)
    assert (int(pixels.X.min()), int(pixels.X.max())) == (0, 255)
    assert set(np.unique(pixels.labels).tolist()) == set(range(10))
    assert pixels.source == "random, MNIST-shaped"


def test_cached_mnist_is_read_and_cut_to_the_samples_asked_for(mnist_cache: WriteMNISTCache) -> None:
    small = _small_mnist(np.random.default_rng(0), 800, 5, 5)  # more images than a column has pixels
    folder = mnist_cache(small)
    for source in ("auto", "mnist"):
        pixels = step_breakdown.load_pixels(source, 12, np.random.default_rng(0))
        assert np.array_equal(pixels.X, small.X_train[:, :12]) and np.array_equal(pixels.labels, small.y_train[:12])
        assert pixels.source == f"MNIST ({folder / MNIST_CACHE_NAME})"
    every = step_breakdown.load_pixels("auto", 801, np.random.default_rng(0))
    assert np.array_equal(every.X, small.X_train) and np.array_equal(every.labels, small.y_train)
    assert step_breakdown.load_pixels("auto", None, np.random.default_rng(0)).X.shape == (784, 800)
    assert step_breakdown.load_pixels("random", 12, np.random.default_rng(0)).source == "random, MNIST-shaped"


def test_step_breakdown_describes_itself_in_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        step_breakdown.parse_arguments(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "Where a training step's time goes: the fold's step run by hand, each piece timed." in help_text


def test_a_step_that_is_not_train_epochs_step_is_reported_and_fails(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An augmentation that draws on more than the generator it is given: the hand-run step and the fold's part ways."""
    calls: list[int] = []

    def drifting(X: FloatArray, rng: np.random.Generator) -> FloatArray:
        calls.append(len(calls))
        shifted: FloatArray = X + np.float32(1e-3 * len(calls))
        return shifted

    monkeypatch.setitem(train_mnist.AUGMENT, "drifting", drifting)
    status, lines, report, _, _ = _run_main(capsys, monkeypatch, "--hidden", "8", "--augment", "drifting", "--epochs", "1")
    assert len(calls) == 2 * 5  # 300 images, 64 a step: by hand, then in train_epochs
    assert status == 1 and report["same_as_train_epochs"] is False
    assert "train_epochs ends with the same parameters, bit for bit: NO" in lines


def test_step_breakdowns_main_without_arguments_reads_the_command_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["step_breakdown.py", *TINY, "--hidden", "4", "--epochs", "1", "--samples", "70"])
    assert step_breakdown.main() == 0
    assert capsys.readouterr().out.startswith("784-4-10, adam, dropout keeping 0.8, augmentation none, no max-norm; batch 64, 70 random")
