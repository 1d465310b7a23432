"""scripts/benchmark.py's measurement core, pinned (found by mutation testing).

The figures the speed issue's verdicts rest on come from a few functions: ``matmul_operands``
(the ceiling's operands: float32, in the kernels' layouts), ``time_products`` (the best of
three timed runs of enough steps), ``largest_difference`` (how far two contenders' weights
are apart), and ``machine_load`` / ``machine_description`` (what the report says about the
machine), and ``print_report``'s lines for them. Each is checked on inputs whose answers are
worked out by hand, the timings through the ``clock`` parameter the script takes, which reads
out seconds chosen here. The last test pins a flaw the audit found: a run called from Python
loaded SciPy's OpenBLAS (through Numba's kernels) after pinning the BLAS, so that pool kept
every core and the report listed it so.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import threadpoolctl

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import benchmark  # noqa: E402  (the scripts folder is not a package)
from test_mutants_benchmark import BATCH, M, NETWORK, SGD_SECONDS, _entry  # noqa: E402
from test_mutants_benchmark_drops import TINY_RUN  # noqa: E402


def _clock(readings: Iterable[float]) -> Callable[[], float]:
    """A clock that reads out ``readings``, one a call."""
    remaining = iter(readings)
    return lambda: next(remaining)


# --------------------------------------------------------------------------------------------
# the ceiling's operands and their timing


def test_the_ceilings_operands_are_float32_draws_in_the_kernels_layouts() -> None:
    sizes = (5, 4, 3)
    pairs = benchmark.matmul_operands(sizes, 2, np.random.default_rng(0))
    rng = np.random.default_rng(0)
    X = rng.random((5, 2), dtype=np.float32)
    W1 = rng.standard_normal((4, 5), dtype=np.float32)
    W2 = rng.standard_normal((3, 4), dtype=np.float32)
    A1 = W1 @ X
    A2 = W2 @ A1
    expected = [(W1, X), (A1, X.T), (W2, A1), (A2, A1.T), (W2.T, A2)]  # W_l A_{l-1}, dZ_l A_{l-1}^T, W_l^T dZ_l
    assert len(pairs) == len(expected) == len(benchmark.step_products(sizes, 2).products)
    for (a, b), (a_expected, b_expected) in zip(pairs, expected):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(a, a_expected)
        np.testing.assert_array_equal(b, b_expected)
    assert pairs[0][1].flags.f_contiguous and not pairs[0][1].flags.c_contiguous  # a gathered batch: a column per sample
    assert pairs[2][1].flags.c_contiguous and pairs[4][0].flags.f_contiguous  # A_1 as forward makes it; W_2^T a view


def test_the_products_time_is_the_best_of_three_runs_of_enough_steps() -> None:
    """One step's products took 0.25 s once, so 7.8 s asks for 7.8 / 3 / 0.25 = 10.4, 11 steps a run;
    the runs take 2.75, 1.375 and 5.5 s: 0.25, 0.125 and 0.5 s a step, the best 0.125."""
    pairs = benchmark.matmul_operands((5, 4, 3), 2, np.random.default_rng(0))
    clock = _clock([0.0, 0.25, 1.0, 3.75, 5.0, 6.375, 8.0, 13.5])
    assert benchmark.time_products(pairs, 7.8, clock) == 0.125


def test_the_products_run_at_least_three_steps_a_run() -> None:
    """A step that takes 10 s once asks for ceil(0.3 / 3 / 10) = 1 step: three are run all the same."""
    pairs = benchmark.matmul_operands((5, 3), 2, np.random.default_rng(0))
    assert benchmark.time_products(pairs, 0.3, _clock([0.0, 10.0, 0.0, 6.0, 6.0, 12.0, 12.0, 15.0])) == 1.0


def test_a_step_too_quick_for_the_clock_counts_as_a_tenth_of_a_microsecond() -> None:
    """No time at all on the clock is 1e-7 s, so 3e-6 s asks for 3e-6 / 3 / 1e-7 = 10 steps a run."""
    pairs = benchmark.matmul_operands((5, 3), 2, np.random.default_rng(0))
    assert benchmark.time_products(pairs, 3e-6, _clock([1.0, 1.0, 0.0, 4.0, 0.0, 4.0, 0.0, 5.0])) == 0.4


# --------------------------------------------------------------------------------------------
# how far two contenders' weights are apart


def test_the_largest_difference_is_the_largest_over_every_weight_theirs_has() -> None:
    ours = {"W1": np.array([[1.0, 2.0]]), "W2": np.array([[0.5]]), "b1": np.array([[9.0]])}
    theirs = {"W1": np.array([[1.5, 2.0]]), "W2": np.array([[-2.5]])}
    assert benchmark.largest_difference(ours, theirs) == 3.0  # |0.5 - (-2.5)|; ours' b1 is not compared


# --------------------------------------------------------------------------------------------
# what the report says about the machine


def test_the_machine_load_is_the_load_averages_then_the_cpu_pressure() -> None:
    number = r"\d+\.\d\d"
    load = f"load average {number} {number} {number}"  # the first three fields: not the running/total tasks
    if Path("/proc/pressure/cpu").exists():
        load += f"; cpu pressure some avg10={number} avg60={number}"
    assert re.fullmatch(load, benchmark.machine_load())


def _printed(machine: dict[str, Any], seconds: dict[str, list[float]], capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The lines ``print_report`` prints for one SGD run of ``seconds`` on ``machine``."""
    args = benchmark.parse_arguments(["--threads", "1", "--repeats", "3", "--warmup", "0", "--batch-size", str(BATCH)])
    report = {"data": "random", "m": M, "batch_size": BATCH, "networks": {NETWORK: {"sgd": _entry(seconds)}}}
    benchmark.print_report(args, report, {**machine, "load_before": "load average 0.00 0.00 0.00", "load_after": "?"}, [])
    return capsys.readouterr().out.rstrip("\n").splitlines()


def test_the_blas_pools_and_the_kernel_variables_set_are_described_and_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.setenv("OPENBLAS_L2_SIZE", "1048576")
    with threadpoolctl.threadpool_limits(limits=1):
        machine = benchmark.machine_description({"threadpoolctl": threadpoolctl}, 1)
        pools = threadpoolctl.threadpool_info()
    assert any(pool.get("architecture") for pool in pools)  # OpenBLAS names its kernels
    assert machine["threadpools"] == [
        f"{pool['internal_api']} {pool['version']}: 1 threads"
        + (f", {pool['architecture']} kernels" if pool.get("architecture") else "")
        for pool in pools
    ]
    assert machine["blas_environment"] == {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "1048576"}
    lines = _printed(machine, SGD_SECONDS, capsys)
    assert lines[2 : 4 + len(pools)] == [
        f"functional_nn's kernels (optimizer, ReLU layers): {machine['kernel']}",
        *(f"  {pool}" for pool in machine["threadpools"]),
        "  set in the environment: OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE=1048576",
    ]


def test_without_functional_nn_the_table_has_no_ratios_nor_ceiling_fraction(capsys: pytest.CaptureFixture[str]) -> None:
    seconds = {name: SGD_SECONDS[name] for name in ("functional_nn_steps", "sklearn", "ceiling")}
    lines = _printed(benchmark.machine_description({}, 1), seconds, capsys)
    table = lines[lines.index(f"{NETWORK}, sgd (learning rate 0.1)") + 1 :][:4]
    assert [line.rstrip() for line in table] == [
        "  contender                       samples/s        min        max   functional_nn / this  by round",
        "  functional_nn steps only            6,000      6,000      6,000",
        "  scikit-learn MLPClassifier            600        500        600",
        "  matmul ceiling                     10,000      8,000     12,500",
    ]
    assert {len(line) for line in table} == {len(table[0])}  # the empty ratio columns keep their width
    figures = json.loads(lines[-1])["results"][NETWORK]["sgd"]
    assert figures["samples_per_s"] is None and figures["sklearn_ratio"] is None and figures["sklearn_ratio_by_round"] is None
    assert figures["ceiling_fraction"] is None and figures["ceiling_fraction_by_round"] is None
    assert figures["steps_only_samples_per_s"] == 6000 and figures["sklearn_samples_per_s"] == 600


def test_the_machine_is_named_by_the_first_model_name_in_cpuinfo() -> None:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text(encoding="utf-8").splitlines() if cpuinfo.exists() else []
    names = [line.partition(":")[2].strip() for line in lines if line.startswith("model name")]
    machine = benchmark.machine_description({}, 3)
    assert machine["cpu"] == (names[0] if names else platform.processor() or platform.machine())
    assert machine["threads"] == 3 and machine["logical_cpus"] == os.cpu_count()


def test_a_run_from_python_pins_the_blas_numba_brings_as_well() -> None:
    """Numba, imported with the first kernel, loads SciPy's OpenBLAS; called from Python (no
    thread variables set before NumPy loads), the run pins that pool to --threads as well.
    A fresh process: in this one Numba may be loaded already."""
    code = (
        f"import sys; sys.path.insert(0, {str(SCRIPTS)!r}); import benchmark; "
        f"benchmark.main({[*TINY_RUN, '--contenders', 'functional_nn']!r})"
    )
    environment = {name: value for name, value in os.environ.items() if not name.endswith("_NUM_THREADS")}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True)
    pools = json.loads(run.stdout.strip().splitlines()[-1])["machine"]["threadpools"]
    assert pools and [pool for pool in pools if ": 1 threads" not in pool] == []
