"""A user's review of purity and shared state: what a block or a cluster changes in this
process or thread must be put back as it was when it ends, and the library's own arithmetic
must not trip over a caller's process-wide NumPy error state."""

from __future__ import annotations

import os

import numpy as np
import pytest

from functional_nn import backward_propagation, compute_cost, forward_propagation, gradient_check, predict_proba, train
from functional_nn import distributed as dist
from functional_nn import fused
from functional_nn.types import Activation, FloatArray, FloatDType


def test_one_subnormals_flushed_block_entered_again_inside_itself_restores_the_threads_mode() -> None:
    # one block kept and reused, as a module constant might be: its inner use must not make
    # the outer one leave this thread flushing subnormal numbers to zero for good
    subnormal = np.array([np.finfo(np.float64).smallest_subnormal * 3])
    block = fused.subnormals_flushed()
    mode = fused._control_register()[0]() if fused.FLUSHES_SUBNORMALS else None
    try:
        with block:
            with block:
                pass
            inside = subnormal * 1.0
        after = subnormal * 1.0
    finally:
        if mode is not None:  # whatever happened, the next tests run in this thread's own mode
            fused._control_register()[1](mode)
    assert after[0] == subnormal[0]  # 1.5e-323, not 0
    if fused.FLUSHES_SUBNORMALS:  # x86-64 with Numba: the outer block was still flushing after the inner one
        assert inside[0] == 0.0


def test_a_local_cluster_leaves_no_hash_seed_in_this_processs_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Dask's nannies give their workers PYTHONHASHSEED=6640 by writing it into this process's
    # environment; left there, every later subprocess of the user's runs with that fixed seed
    for name in ("PYTHONHASHSEED", "__DASK_PARENT_PID"):  # absent here, and removed again when the test ends
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    with dist.cluster_client(n_workers=1) as client:
        assert set(client.run(os.getenv, "PYTHONHASHSEED").values()) == {"6640"}  # the worker has Dask's seed...
        assert os.environ.get("PYTHONHASHSEED") is None  # ...and this process has none, as before
    assert os.environ.get("PYTHONHASHSEED") is None
    assert os.environ.get("__DASK_PARENT_PID") is None


@pytest.mark.parametrize(("dtype", "spread"), [(np.float32, 90.0), (np.float64, 720.0)])
def test_confident_outputs_give_the_same_numbers_under_errstate_all_raise(dtype: FloatDType, spread: float) -> None:
    # Logits `spread` apart: the wrong class's probability e^-spread is subnormal, which the
    # activations take as the right answer even under errstate(all="raise"); the mean's 1/m and
    # the squares of a cost round it further, rightly too, and must not raise either.
    X = np.array([[1.0, -1.0, 1.0]], dtype=dtype)
    params = {"W1": np.array([[spread / 2], [-spread / 2]], dtype=dtype), "b1": np.zeros((2, 1), dtype=dtype)}
    Y = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], dtype=dtype)
    softmax: tuple[Activation, ...] = ("softmax",)

    def everything() -> tuple[dict[str, FloatArray], float, dict[str, FloatArray], FloatArray]:
        AL, caches = forward_propagation(X, params, softmax)
        grads = backward_propagation(AL, Y, caches, "categorical_cross_entropy")
        cost = compute_cost(AL, Y, "mean_squared_error")
        result = train(X, Y, params, activations=softmax, loss="categorical_cross_entropy", epochs=2, learning_rate=0.1)
        return grads, cost, result.params, predict_proba(X, result.params, softmax)

    expected = everything()  # NumPy's default: underflow ignored
    assert 0 < -expected[0]["dW1"][0, 0] < np.finfo(dtype).tiny  # a subnormal gradient, the case in point
    with np.errstate(all="raise"):
        got = everything()
    for want, have in ((expected[0], got[0]), (expected[2], got[2])):
        assert all(have[key].dtype == dtype and np.array_equal(have[key], want[key]) for key in want)
    assert got[1] == expected[1]
    assert got[3].dtype == dtype and np.array_equal(got[3], expected[3])


def test_train_rounds_and_gradient_check_give_the_same_numbers_under_errstate_all_raise() -> None:
    # the same confident network: a float32 logit gap of 90 makes e^-90 subnormal
    X = np.array([[1.0, -1.0, 1.0, -1.0]], dtype=np.float32)
    params = {"W1": np.array([[45.0], [-45.0]], dtype=np.float32), "b1": np.zeros((2, 1), dtype=np.float32)}
    Y = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]], dtype=np.float32)
    params64 = {"W1": np.array([[360.0], [-360.0]]), "b1": np.zeros((2, 1))}  # e^-720 is float64's subnormal

    def everything() -> tuple[dict[str, FloatArray], tuple[float, ...], float]:
        states = list(dist.train_rounds(dist.split_shards(X, Y, 2), params, activations=("softmax",),
                                        loss="categorical_cross_entropy", rounds=2, learning_rate=0.1, dev=(X, Y)))  # fmt: skip
        difference = gradient_check(X.astype(np.float64), Y.astype(np.float64), params64, ("softmax",), "categorical_cross_entropy")
        return states[-1].params, tuple(r.dev_cost or 0.0 for r in states[-1].history), difference

    expected = everything()
    with np.errstate(all="raise"):
        got = everything()
    assert all(np.array_equal(got[0][key], expected[0][key]) for key in params)
    assert got[1:] == expected[1:]
