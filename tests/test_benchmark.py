"""scripts/benchmark.py runs on tiny sizes and prints its table and a final JSON line.

Speed figures are never asserted: only that every network and optimizer got its row, its
ratios and its ceiling, that each ratio is the quotient of the rates printed beside it, and
that the products counted for the ceiling are the right ones.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from functional_nn import fused
from functional_nn.data import one_hot
from functional_nn.initializers import initialize_parameters

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import benchmark  # noqa: E402  (the scripts folder is not a package)

KEYS = {
    "samples_per_s", "samples_per_s_min", "samples_per_s_max", "steps_only_samples_per_s",
    "numpy_kernels_samples_per_s", "torch_samples_per_s", "torch_fused_samples_per_s",
    "sklearn_samples_per_s", "torch_ratio", "torch_fused_ratio", "sklearn_ratio", "ceiling_samples_per_s", "ceiling_gflops",
    "ceiling_fraction", "step_mflop", "preallocated_samples_per_s", "preallocated_ceiling_fraction",
    "torch_ratio_by_round", "torch_fused_ratio_by_round", "sklearn_ratio_by_round", "ceiling_fraction_by_round",
}  # fmt: skip


def test_step_products_count_what_a_step_multiplies() -> None:
    ceiling = benchmark.step_products((784, 256, 10), 128)
    # forward W1 A0, W2 A1; backward dZ1 A0^T, dZ2 A1^T and W2^T dZ2 (no W1^T dZ1)
    assert ceiling.flops == 2 * 128 * (2 * 784 * 256 + 3 * 256 * 10) == 104_726_528
    assert ceiling.products == ("W1 A0", "dZ1 A0^T", "W2 A1", "dZ2 A1^T", "W2^T dZ2")
    pairs = benchmark.matmul_operands((784, 256, 10), 128, np.random.default_rng(0))
    assert sum(2 * a.shape[0] * a.shape[1] * b.shape[1] for a, b in pairs) == ceiling.flops


def test_tiny_run_prints_a_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "--data", "random", "--samples", "300", "--repeats", "2", "--warmup", "1", "--hidden", "8", "4,4:0.5",
        "--ceiling-seconds", "0.005", "--threads", "1", "--clock", "cpu", "--settle-seconds", "0.001",
    ]  # fmt: skip
    assert benchmark.main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    table = "\n".join(lines[:-1])
    networks = ("784-8-10", "784-4-4-10 dropout keep 0.5")
    assert set(summary["results"]) == set(networks)
    for network in networks:
        assert f"{network}, sgd" in table and f"{network}, adam" in table
        assert f"{network}: Adam at" in table
        for optimizer in ("sgd", "adam"):
            figures = summary["results"][network][optimizer]
            assert set(figures) == (KEYS | {"adam_over_sgd", "adam_over_sgd_by_round"} if optimizer == "adam" else KEYS)
            assert figures["samples_per_s"] > 0 and 0 < figures["ceiling_fraction"]
            assert 0 < figures["ceiling_fraction_by_round"]
            # with Numba installed, the NumPy kernels run beside the fused ones
            assert (figures["numpy_kernels_samples_per_s"] is not None) == fused.AVAILABLE
            for contender, library in (("torch", "pytorch"), ("torch_fused", "pytorch"), ("sklearn", "scikit-learn")):
                # a ratio when the contender is installed, a note saying why it is missing when not
                if figures[f"{contender}_ratio"] is None:
                    assert any(library in note.lower() for note in summary["notes"])
                # the ratio of medians and the median of each round's ratio, or neither
                assert (figures[f"{contender}_ratio"] is None) == (figures[f"{contender}_ratio_by_round"] is None)
            # PyTorch's two optimizers run together or not at all
            assert (figures["torch_ratio"] is None) == (figures["torch_fused_ratio"] is None)
    # scikit-learn has no dropout: it sits out the network that drops, whether installed or not
    assert summary["results"][networks[1]]["sgd"]["sklearn_ratio"] is None
    assert "matmul ceiling" in table and "functional_nn train_epochs" in table
    assert summary["settings"]["samples"] == 300 and summary["machine"]["threads"] == 1
    assert summary["settings"]["clock"] == "cpu"


def test_ratios_by_round_pair_each_rounds_epochs() -> None:
    """Our speed over theirs is theirs / ours in seconds; by round, the median of each round's
    ratio, which differs from the ratio of the medians when the host's speed drifts."""
    ours, theirs = [1.0, 3.0, 2.0], [3.0, 3.0, 6.0]  # seconds; rounds 1 and 3 ran 3x faster than theirs
    assert benchmark.by_round(ours, theirs) == 3.0
    ratio_of_medians = benchmark.ratio(benchmark.samples_per_second(6, ours), benchmark.samples_per_second(6, theirs))
    assert ratio_of_medians == pytest.approx(1.5)
    assert benchmark.by_round(None, theirs) is None and benchmark.by_round(ours, None) is None
    with pytest.raises(ValueError, match=r"zip\(\) argument 2 is shorter than argument 1"):  # every round has both epochs
        benchmark.by_round(ours, theirs[:2])


@pytest.mark.parametrize("optimizer, keep_prob", [("sgd", 1.0), ("adam", 1.0), ("adam", 0.5), ("sgd", 0.8)])
@pytest.mark.parametrize("hidden", [(6,), (5, 4)])
def test_the_preallocated_loop_does_the_librarys_sums_bit_for_bit(
    hidden: tuple[int, ...], optimizer: str, keep_prob: float
) -> None:
    """The hand-written in-place step and train_epochs: the same weights after two epochs, the
    same dropout masks drawn, the last batch of each epoch shorter than the others (70 = 2 x 32 + 6)."""
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 10, 70)
    data = benchmark.Data(
        np.asfortranarray(rng.random((784, 70), dtype=np.float32)), labels,
        one_hot(labels, 10, dtype=np.float32), "random",
    )  # fmt: skip
    sizes = (784, *hidden, 10)
    params = initialize_parameters(sizes, np.random.default_rng(0), dtype=np.float32)
    setup = benchmark.Setup(data, sizes, params, optimizer, 32, 5, keep_prob)
    ours, theirs = benchmark.functional_nn_contender(setup, 2), benchmark.numpy_preallocated_contender(setup)
    for _ in range(2):
        ours.epoch(), theirs.epoch()
    assert set(theirs.state()) == {f"W{l}" for l in range(1, len(sizes))}
    for key, W in theirs.state().items():
        assert W.dtype == np.float32
        np.testing.assert_array_equal(W, ours.state()[key])
    assert not np.array_equal(theirs.state()["W1"], params["W1"])  # it trained, on its own copies
    assert np.array_equal(params["W1"], initialize_parameters(sizes, np.random.default_rng(0), dtype=np.float32)["W1"])


def test_a_networks_optimizers_run_side_by_side_in_every_round(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each round runs every contender with SGD and Adam next to each other (SGD first in even
    rounds, Adam first in odd ones), rotated by one contender a round,
    and times the ceiling once for both: Adam against SGD is a side-by-side ratio too."""
    order: list[tuple[str, str]] = []

    def recording_contenders(
        setup: benchmark.Setup, contenders: list[str], modules: object, total_epochs: int, threads: int, notes: object
    ) -> benchmark.Contenders:
        def epoch_of(name: str) -> benchmark.Epoch:
            return lambda: order.append((setup.optimizer, name))

        return benchmark.Contenders({name: epoch_of(name) for name in contenders}, None, None, {})

    monkeypatch.setattr(benchmark, "make_contenders", recording_contenders)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 64)
    data = benchmark.Data(rng.random((784, 64), dtype=np.float32), labels, one_hot(labels, 10, dtype=np.float32), "random")
    sizes = (784, 4, 10)
    params = initialize_parameters(sizes, rng, dtype=np.float32)
    setups = [benchmark.Setup(data, sizes, params, optimizer, 32, 0) for optimizer in ("sgd", "adam")]
    result = benchmark.run_network(
        setups, ["torch", "functional_nn"], {}, warmup=0, repeats=2, threads=1, ceiling_seconds=0.001, notes=[],
        settle_seconds=0,
    )  # fmt: skip
    first_round = [("sgd", "functional_nn"), ("adam", "functional_nn"), ("sgd", "torch"), ("adam", "torch")]
    second_round = [("adam", "torch"), ("sgd", "torch"), ("adam", "functional_nn"), ("sgd", "functional_nn")]
    assert order == first_round + second_round
    assert list(result) == ["sgd", "adam"]
    assert result["sgd"]["ceiling_rate"] is result["adam"]["ceiling_rate"]
    assert set(result["adam"]["figures"]) == {"functional_nn", "torch"}
    # every round's seconds, for the ratios by round: each contender's epochs and the ceiling's
    for optimizer in ("sgd", "adam"):
        assert set(result[optimizer]["seconds"]) == {"functional_nn", "torch", "ceiling"}
        assert all(len(times) == 2 and min(times) > 0 for times in result[optimizer]["seconds"].values())
    assert result["sgd"]["seconds"]["ceiling"] == result["adam"]["seconds"]["ceiling"]


def test_networks_parse_with_an_optional_keep_probability() -> None:
    assert benchmark.parse_network("512,256:0.8") == ((512, 256), 0.8)
    assert benchmark.parse_network("256") == ((256,), 1.0)
    assert benchmark.network_name((784, 512, 256, 10), 0.8) == "784-512-256-10 dropout keep 0.8"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--hidden", "8,x"], "--hidden: expected comma-separated integers >= 1 such as 512,256, got '8,x'"),
        (["--repeats", "0"], "--repeats must be >= 1, got 0"),
        (["--settle-seconds", "-1"], "argument --settle-seconds: must be a finite number >= 0, got -1"),
        (["--hidden", "8:1.5"], "--hidden: expected a keep probability in (0, 1] after ':', such as 512,256:0.8, got '8:1.5'"),
        # CPU time would add up the threads' time
        (["--clock", "cpu", "--threads", "2"], "--clock cpu needs --threads 1: CPU time adds up every thread's time, spinning included"),
    ],
)
def test_bad_arguments_are_refused(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        benchmark.main(argv)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(f"error: {message}")


@pytest.mark.parametrize("keep", ["", "1.5", "nan", "0", "-0.5", "inf", "x", "0.5:0.5"])
def test_a_malformed_keep_probability_is_refused_quoting_it(keep: str, capsys: pytest.CaptureFixture[str]) -> None:
    # a ':' with nothing after it is a mistake, not "no dropout"
    with pytest.raises(SystemExit) as exit_info:
        benchmark.main(["--hidden", "4", f"16:{keep}"])
    assert exit_info.value.code == 2
    message = f"error: --hidden: expected a keep probability in (0, 1] after ':', such as 512,256:0.8, got '16:{keep}'"
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(message)
    assert benchmark.parse_network("16:1") == ((16,), 1.0) and benchmark.parse_network("16:0.5") == ((16,), 0.5)


@pytest.mark.parametrize("hidden", ["512,,10", "512,", ",", "8,x", "8,0"])
def test_malformed_sizes_are_refused_naming_the_option(hidden: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        benchmark.main(["--hidden", "4", f"{hidden}:0.5"])
    assert exit_info.value.code == 2
    assert f"error: --hidden: expected comma-separated integers >= 1 such as 512,256, got {hidden!r}" in capsys.readouterr().err


def test_a_batch_larger_than_the_samples_sets_the_ceiling_at_the_batch_the_steps_take(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--data", "random", "--samples", "50", "--batch-size", "1000", "--repeats", "1", "--warmup", "0", "--hidden", "4",
            "--optimizers", "sgd", "--contenders", "functional_nn", "--ceiling-seconds", "0.005", "--settle-seconds", "0",
            "--threads", "1"]  # fmt: skip
    assert benchmark.main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    figures = summary["results"]["784-4-10"]["sgd"]
    assert figures["step_mflop"] == round(benchmark.step_products((784, 4, 10), 50).flops / 1e6, 2)
    assert summary["settings"]["batch_size"] == 50 and "batch 50," in lines[0]
    assert "--batch-size 1000 is more than the 50 samples: every step takes all 50, and so does the ceiling" in summary["notes"]


def test_cpu_pressure_is_read_from_the_load_line() -> None:
    assert benchmark._pressure("load average 1.0 2.0 3.0; cpu pressure some avg10=99.78 avg60=97.74") == 99.78
    assert benchmark._pressure("load average 1.0 2.0 3.0") == 0.0


def test_every_ratio_in_the_json_follows_from_the_rates_beside_it(capsys: pytest.CaptureFixture[str]) -> None:
    """The ratios quoted from a run (over PyTorch, of the ceiling, Adam over SGD) are the
    rates' own quotients: checked here on the contenders the dev extra installs, scikit-learn
    among them, to the rounding of the rates (to 1 sample/s) and of the ratios (to 0.001)."""
    argv = [
        "--data", "random", "--samples", "256", "--repeats", "1", "--warmup", "0", "--hidden", "8", "--batch-size", "64",
        "--contenders", "functional_nn", "functional_nn_steps", "numpy_preallocated", "sklearn",
        "--ceiling-seconds", "0.005", "--threads", "1", "--settle-seconds", "0",
    ]  # fmt: skip
    assert benchmark.main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    results = json.loads(lines[-1])["results"]["784-8-10"]
    flops = benchmark.step_products((784, 8, 10), 64).flops
    reached = [line for line in lines if line.startswith("  the preallocated loop reaches ") and line.endswith("% of the ceiling")]
    printed = dict(zip(("sgd", "adam"), (int(line.split()[-4].rstrip("%")) for line in reached), strict=True))
    for optimizer in ("sgd", "adam"):
        figures = results[optimizer]
        ours, ceiling = figures["samples_per_s"], figures["ceiling_samples_per_s"]
        assert figures["samples_per_s_min"] <= ours <= figures["samples_per_s_max"]
        assert figures["steps_only_samples_per_s"] > 0
        assert figures["step_mflop"] == round(flops / 1e6, 2)
        assert figures["ceiling_gflops"] == pytest.approx(ceiling / 64 * flops / 1e9, rel=1e-3, abs=0.06)
        assert figures["ceiling_fraction"] == pytest.approx(ours / ceiling, abs=1.5e-3)
        assert figures["preallocated_ceiling_fraction"] == pytest.approx(figures["preallocated_samples_per_s"] / ceiling, abs=1.5e-3)
        assert figures["sklearn_ratio"] == pytest.approx(ours / figures["sklearn_samples_per_s"], rel=2e-3, abs=1.5e-3)
        assert abs(printed[optimizer] / 100 - figures["preallocated_ceiling_fraction"]) <= 0.0055  # printed to 1%
    adam_over_sgd = results["adam"]["samples_per_s"] / results["sgd"]["samples_per_s"]
    assert results["adam"]["adam_over_sgd"] == pytest.approx(adam_over_sgd, abs=1.5e-3)


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_our_optimizer_is_the_one_named_with_the_benchmarks_settings(name: str) -> None:
    optimizer = benchmark.our_optimizer(name)
    expected = {"sgd": {"learning_rate": 0.1}, "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}}[name]
    assert optimizer.name == name and dict(optimizer.hyperparameters) == expected


def test_a_single_sample_is_enough_to_run_on() -> None:
    assert benchmark.parse_arguments(["--samples", "1"]).samples == 1


@pytest.mark.parametrize("warmup", [0, 1])
def test_after_a_warm_up_the_preallocated_loops_weights_are_noted_equal_to_ours(warmup: int, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "--data", "random", "--samples", "100", "--repeats", "1", "--warmup", str(warmup), "--hidden", "6", "--batch-size", "32",
        "--contenders", "functional_nn", "numpy_preallocated", "--ceiling-seconds", "0.005", "--threads", "1", "--settle-seconds", "0",
    ]  # fmt: skip
    assert benchmark.main(argv) == 0
    notes = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["notes"]
    compared = [note for note in notes if "warm-up epoch(s)" in note]
    # the same sums in the same order (test_the_preallocated_loop_does_the_librarys_sums_bit_for_bit): no gap at all
    assert compared == ([] if warmup == 0 else [
        f"784-6-10 {name}: after 1 warm-up epoch(s) the preallocated loop's weights differ from ours by at most 0" for name in ("sgd", "adam")
    ])  # fmt: skip
