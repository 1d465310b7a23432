"""The oldest versions pyproject.toml admits: what the library relies on holds there too."""

from __future__ import annotations

import ast
import concurrent.futures
import re
from pathlib import Path

import numpy as np
from packaging.requirements import Requirement
from threadpoolctl import threadpool_info, threadpool_limits

from functional_nn.distributed import _is_lost_work

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_a_future_cancelled_as_distributed_before_2024_7_cancels_it_is_lost_work() -> None:
    # The dask extra admits distributed 2024.1. Up to 2024.6 a future whose worker was lost (a
    # worker process killed mid-round) raises concurrent.futures' CancelledError; 2024.7 brought
    # its subclass FutureCancelledError, which distributed.client lacks before. The round must
    # be retried on either, not fail with AttributeError ("module 'distributed.client' has no
    # attribute 'FutureCancelledError'") as it did at the floor.
    assert _is_lost_work(concurrent.futures.CancelledError("gradient_sum-0"))
    import distributed.client

    assert _is_lost_work(distributed.client.FutureCancelledError(key="gradient_sum-0", reason="lost"))
    assert not _is_lost_work(ValueError("a task's own error"))


def _bench_requirements() -> dict[str, Requirement]:
    match = re.search(r"^bench = (\[.*\])$", PYPROJECT.read_text(), re.M)
    assert match is not None, "pyproject.toml has no one-line bench extra"
    requirements = [Requirement(line) for line in ast.literal_eval(match.group(1))]
    return {requirement.name: requirement for requirement in requirements}


def test_the_bench_extras_threadpoolctl_finds_and_pins_numpys_blas() -> None:
    # NumPy 2's wheels bring OpenBLAS as libscipy_openblas, which threadpoolctl finds from 3.5
    # on: 3.1-3.4 list no BLAS and pin nothing, so the benchmark run with --threads 1 from
    # Python ran its products on every core and reported one thread.
    floor = _bench_requirements()["threadpoolctl"].specifier
    assert not floor.contains("3.4.0") and floor.contains("3.5.0")
    np.ones((2, 2)) @ np.ones((2, 2))  # NumPy's BLAS loaded
    assert any(pool["user_api"] == "blas" for pool in threadpool_info())
    with threadpool_limits(limits=1, user_api="blas"):
        assert all(pool["num_threads"] == 1 for pool in threadpool_info() if pool["user_api"] == "blas")
