"""User review of scripts/benchmark.py's arithmetic: what its by-round ratios pair up."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from functional_nn.data import one_hot
from functional_nn.initializers import initialize_parameters

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import benchmark  # noqa: E402  (the scripts folder is not a package)


def test_each_contenders_sgd_and_adam_epochs_run_next_to_each_other_in_every_round(rng: np.random.Generator) -> None:
    """``adam_over_sgd_by_round`` divides a round's SGD epoch by its Adam epoch, which the docs
    say run next to each other; rotating the round by one epoch put functional_nn's Adam epoch
    first and its SGD epoch last in the second round, the whole round apart."""
    calls: list[float] = []

    def recorded_clock() -> float:  # the real clock, each reading kept to find when each epoch ran
        calls.append(time.perf_counter())
        return calls[-1]

    labels = rng.integers(0, 10, 64)
    X = rng.random((64, 784), dtype=np.float32).T  # Fortran-ordered, as the benchmark's data
    data = benchmark.Data(X, labels, one_hot(labels, 10, dtype=np.float32), "random")
    sizes = (784, 4, 10)
    params = initialize_parameters(sizes, rng, dtype=np.float32)
    setups = [benchmark.Setup(data, sizes, params, optimizer, 32, 0) for optimizer in ("sgd", "adam")]
    repeats = 2
    result = benchmark.run_network(
        setups, ["functional_nn", "numpy_preallocated"], {}, warmup=0, repeats=repeats, threads=1, ceiling_seconds=0.001,
        notes=[], clock=recorded_clock, settle_seconds=0,
    )  # fmt: skip
    starts = {calls[i + 1] - calls[i]: i for i in range(len(calls) - 1)}  # an epoch's seconds -> where its timing began
    for round_number in range(repeats):
        ran = sorted(
            (starts[result[optimizer]["seconds"][name][round_number]], name, optimizer)
            for optimizer in ("sgd", "adam")
            for name in ("functional_nn", "numpy_preallocated")
        )
        names = [name for _, name, _ in ran]
        pairs = (["functional_nn"] * 2 + ["numpy_preallocated"] * 2, ["numpy_preallocated"] * 2 + ["functional_nn"] * 2)
        assert names in pairs, ran
