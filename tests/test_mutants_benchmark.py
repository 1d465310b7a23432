"""The figures scripts/benchmark.py reports, pinned to hand-computed values (found by mutation testing).

``print_report`` is the code that turns a run's seconds into the README's and docs/speed.md's
figures: samples/s medians with their min and max, the ratios against PyTorch and
scikit-learn (of medians and by round), the matmul ceiling's MFLOP per step, GFLOP/s and the
fraction of it reached, Adam over SGD, and the JSON last line. Here it is given a report whose
seconds are chosen so that every figure is a small hand computation, and every figure it
prints and writes is checked. ``step_products``, ``samples_per_second`` and ``by_round`` are
checked on their own on inputs whose answers are worked out by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import benchmark  # noqa: E402  (the scripts folder is not a package)

SIZES = (784, 512, 256, 10)
NETWORK = "784-512-256-10"
BATCH = 100
M = 600  # samples per epoch
# one step's products: layer 1 forward and dW (2 products), layers 2 and 3 also W^T dZ (3 each)
STEP_FLOPS = 2 * BATCH * (2 * 784 * 512 + 3 * 512 * 256 + 3 * 256 * 10)  # 240,742,400

# seconds per round (three rounds) of each contender's epoch of M samples
SGD_SECONDS: dict[str, list[float]] = {
    "functional_nn": [0.5, 0.2, 0.3],  # 1200, 3000, 2000 samples/s: median 2000, min 1200, max 3000
    "functional_nn_numpy": [0.4, 0.4, 0.4],  # 1500
    "functional_nn_steps": [0.1, 0.1, 0.1],  # 6000
    "numpy_preallocated": [0.2, 0.2, 0.3],  # 3000, 3000, 2000: median 3000
    "torch": [0.5, 0.8, 0.9],  # 1200, 750, 666.7: median 750; by round 1.0, 4.0, 3.0: median 3.0
    "torch_fused": [0.25, 0.4, 0.6],  # 2400, 1500, 1000: median 1500; by round 0.5, 2.0, 2.0: median 2.0
    "sklearn": [1.0, 1.0, 1.2],  # 600, 600, 500: median 600; by round 2.0, 5.0, 4.0: median 4.0
    "ceiling": [0.06, 0.05, 0.1],  # by round 0.12, 0.25, 0.333: median 0.25
}
ADAM_SECONDS: dict[str, list[float]] = {
    "functional_nn": [0.6, 0.25, 0.5],  # 1000, 2400, 1200: median 1200; SGD's over these: 0.833, 0.8, 0.6
    "ceiling": [0.06, 0.05, 0.1],
}
CEILING_RATE = benchmark.Figures(10_000.0, 8_000.0, 12_500.0)  # samples/s of the products alone


def _entry(seconds: dict[str, list[float]]) -> dict[str, Any]:
    figures = {name: benchmark.samples_per_second(M, values) for name, values in seconds.items() if name != "ceiling"}
    return {
        "figures": figures,
        "ceiling": benchmark.step_products(SIZES, BATCH),
        "ceiling_rate": CEILING_RATE,
        "seconds": seconds,
    }


def _report(capsys: pytest.CaptureFixture[str], optimizers: tuple[str, ...] = ("sgd", "adam")) -> tuple[list[str], dict[str, Any]]:
    args = benchmark.parse_arguments(["--threads", "1", "--repeats", "3", "--warmup", "0", "--batch-size", str(BATCH)])
    seconds = {"sgd": SGD_SECONDS, "adam": ADAM_SECONDS}
    report = {
        "data": "random", "m": M, "batch_size": BATCH,
        "networks": {NETWORK: {name: _entry(seconds[name]) for name in optimizers}},
    }  # fmt: skip
    machine = benchmark.machine_description({}, 1)
    machine["load_before"] = machine["load_after"] = "load average 0.00 0.00 0.00"
    benchmark.print_report(args, report, machine, ["a note"])
    lines = capsys.readouterr().out.rstrip("\n").splitlines()
    return lines, json.loads(lines[-1])


def test_step_products_of_three_layers_count_every_products_flops() -> None:
    ceiling = benchmark.step_products(SIZES, BATCH)
    assert ceiling.flops == STEP_FLOPS == 240_742_400
    assert ceiling.products == (
        "W1 A0", "dZ1 A0^T", "W2 A1", "dZ2 A1^T", "W2^T dZ2", "W3 A2", "dZ3 A2^T", "W3^T dZ3",
    )  # fmt: skip
    assert benchmark.step_products((5, 3), 7) == benchmark.Ceiling(2 * 7 * 2 * 5 * 3, ("W1 A0", "dZ1 A0^T"))


def test_samples_per_second_is_samples_over_each_epochs_seconds() -> None:
    assert benchmark.samples_per_second(M, [0.5, 0.2, 0.3]) == (2000.0, 1200.0, 3000.0)
    # an even count: the median is the mean of the middle two rates
    assert benchmark.samples_per_second(60, [1.0, 2.0, 3.0, 6.0]) == (25.0, 10.0, 60.0)


def test_by_round_is_the_median_of_theirs_over_ours_round_by_round() -> None:
    assert benchmark.by_round([0.5, 0.2, 0.3], [0.5, 0.8, 0.9]) == 3.0
    assert benchmark.by_round([1.0, 1.0], [2.0, 5.0]) == 3.5
    assert benchmark.by_round([], None) is None
    assert benchmark.ratio(None, CEILING_RATE) is None and benchmark.ratio(CEILING_RATE, None) is None


def test_the_json_line_holds_the_figures_worked_out_from_the_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    _, summary = _report(capsys)
    sgd = summary["results"][NETWORK]["sgd"]
    assert sgd == {
        "samples_per_s": 2000, "samples_per_s_min": 1200, "samples_per_s_max": 3000,
        "steps_only_samples_per_s": 6000, "preallocated_samples_per_s": 3000,
        "preallocated_ceiling_fraction": 0.3, "numpy_kernels_samples_per_s": 1500,
        "torch_samples_per_s": 750, "torch_fused_samples_per_s": 1500, "sklearn_samples_per_s": 600,
        "torch_ratio": round(2000 / 750, 3), "torch_fused_ratio": round(2000 / 1500, 3), "sklearn_ratio": round(2000 / 600, 3),
        "torch_ratio_by_round": 3.0, "torch_fused_ratio_by_round": 2.0, "sklearn_ratio_by_round": 4.0,
        "ceiling_samples_per_s": 10_000, "ceiling_gflops": round(STEP_FLOPS / BATCH * 10_000 / 1e9, 1),
        "ceiling_fraction": 0.2, "ceiling_fraction_by_round": 0.25, "step_mflop": 240.74,
    }  # fmt: skip
    assert sgd["ceiling_gflops"] == 24.1 and sgd["torch_ratio"] == 2.667 and sgd["sklearn_ratio"] == 3.333
    adam = summary["results"][NETWORK]["adam"]
    assert adam["samples_per_s"] == 1200 and adam["samples_per_s_min"] == 1000 and adam["samples_per_s_max"] == 2400
    assert adam["adam_over_sgd"] == 0.6 and adam["adam_over_sgd_by_round"] == 0.8  # median of 0.833, 0.8, 0.6
    assert adam["ceiling_fraction"] == 0.12 and adam["ceiling_fraction_by_round"] == 0.2  # 0.1, 0.2, 0.2
    assert adam["torch_ratio"] is None and adam["torch_ratio_by_round"] is None and adam["preallocated_ceiling_fraction"] is None
    assert "adam_over_sgd" not in sgd
    assert summary["notes"] == ["a note"]
    assert summary["settings"] == {
        "batch_size": BATCH, "threads": 1, "repeats": 3, "warmup": 0, "clock": "wall", "settle_seconds": 0.2,
        "samples": M, "data": "random", "learning_rates": {"sgd": 0.1, "adam": 0.001},
    }  # fmt: skip


def test_the_table_prints_the_same_figures(capsys: pytest.CaptureFixture[str]) -> None:
    lines, _ = _report(capsys)
    sgd_lines = lines[lines.index(f"{NETWORK}, sgd (learning rate 0.1)") : lines.index(f"{NETWORK}, adam (learning rate 0.001)")]
    rows = {line[2:32].strip(): line[32:].split() for line in sgd_lines if line.startswith("  ") and len(line) > 32}
    assert rows["functional_nn train_epochs"] == ["2,000", "1,200", "3,000"]
    assert rows["PyTorch"] == ["750", "667", "1,200", "2.67x", "3.00x"]
    assert rows["the same, fused=True"] == ["1,500", "1,000", "2,400", "1.33x", "2.00x"]
    assert rows["scikit-learn MLPClassifier"] == ["600", "500", "600", "3.33x", "4.00x"]
    assert rows["matmul ceiling"] == ["10,000", "8,000", "12,500", "20%", "of", "the", "ceiling", "25%"]
    products = "W1 A0, dZ1 A0^T, W2 A1, dZ2 A1^T, W2^T dZ2, W3 A2, dZ3 A2^T, W3^T dZ3"
    assert f"  ceiling: 240.7 MFLOP per step at 24 GFLOP/s, products {products}" in lines
    assert "  the preallocated loop reaches 30% of the ceiling" in sgd_lines
    adam_rows = {line[2:32].strip(): line[32:].split() for line in lines[lines.index(f"{NETWORK}, adam (learning rate 0.001)") :]}
    assert adam_rows["functional_nn train_epochs"] == ["1,200", "1,000", "2,400"]
    assert adam_rows["matmul ceiling"] == ["10,000", "8,000", "12,500", "12%", "of", "the", "ceiling", "20%"]
    assert f"{NETWORK}: Adam at 60% of SGD's samples/s (80% by round)" in lines
    assert "note: a note" in lines


def test_one_optimizer_alone_gets_no_adam_over_sgd(capsys: pytest.CaptureFixture[str]) -> None:
    # guards: Adam over SGD is worked out only when both optimizers ran (not when either did)
    lines, summary = _report(capsys, ("sgd",))
    assert set(summary["results"][NETWORK]) == {"sgd"} and "adam_over_sgd" not in summary["results"][NETWORK]["sgd"]
    assert summary["results"][NETWORK]["sgd"]["samples_per_s"] == 2000
    assert not any("Adam at" in line for line in lines)
    lines, summary = _report(capsys, ("adam",))
    assert summary["results"][NETWORK]["adam"]["samples_per_s"] == 1200 and "adam_over_sgd" not in summary["results"][NETWORK]["adam"]
