"""Found by a review of the commits on own pieces (3e737a4): two findings.

A NaN or infinite cost was blamed on a loss of one's own whenever the network's outputs were
finite: a plain mean squared error of one's own, on a run diverging at too large a learning
rate, was told "its cost, not the learning rate" (a float32 output of 5e22 squared is inf),
where the built-in loss of the same values is told to try a smaller learning rate.

``train_rounds`` now unpickles the pieces on every worker before the rounds; a worker that
joined the cluster after ``place_shards`` checked it, without the library, made every
``train_rounds`` fail in Dask's words (``Exception: ModuleNotFoundError("No module named
'functional_nn'")``), naming no worker, where it used to run (that worker holds no shard).
It is named now as ``check_workers`` names it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from functional_nn import LossFunction, TrainingDivergedError, initialize_parameters, train
from functional_nn import distributed as dist
from functional_nn.data import one_hot
from functional_nn.types import FloatArray


def _half_squared_error(AL: FloatArray, Y: FloatArray) -> float:
    return float(np.mean(np.sum((AL - Y) ** 2, axis=0)) / 2)


def _half_squared_error_gradient(AL: FloatArray, Y: FloatArray) -> FloatArray:
    gradient: FloatArray = AL - Y
    return gradient


MY_MSE = LossFunction("my_mse", _half_squared_error, _half_squared_error_gradient)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_run_diverging_with_an_innocent_loss_of_ones_own_is_told_the_learning_rate(dtype: type[np.floating]) -> None:
    data = np.random.default_rng(0)
    X, Y = data.normal(size=(3, 32)).astype(dtype), data.normal(size=(1, 32)).astype(dtype)
    params = initialize_parameters((3, 8, 1), np.random.default_rng(1), dtype=dtype)
    settings = dict(activations=("relu", "linear"), epochs=3, learning_rate=3.0, batch_size=1)
    # the built-in loss of the same values, and the same loss of one's own: both diverge, both told so
    for loss in ("mean_squared_error", MY_MSE):
        with pytest.raises(TrainingDivergedError) as raised:
            train(X, Y, params, loss=loss, rng=np.random.default_rng(2), **settings)  # type: ignore[arg-type]
        message = str(raised.value)
        assert re.search(r"training diverged at epoch 1, step \d+: the cost is (nan|inf); try a smaller learning rate", message), message
        assert "not the learning rate" not in message


BLOCK_LIBRARY = '''
import sys


class _Lacking:
    """This worker's Python cannot import functional_nn, as on a machine without it."""

    def find_spec(self, name, path=None, target=None):
        if name == "functional_nn" or name.startswith("functional_nn."):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None


sys.meta_path.insert(0, _Lacking())
'''


def test_rounds_name_a_worker_without_the_library_that_joined_after_the_shards_were_placed(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    X = rng.standard_normal((2, 40))
    shards = dist.split_shards(X, one_hot((X[0] > 0).astype(np.int64), 2), 2)
    start = initialize_parameters([2, 4, 2], rng)
    preload = tmp_path / "lacking_library.py"
    preload.write_text(BLOCK_LIBRARY)
    with dist.cluster_client(n_workers=1, processes=False) as client:
        placed = dist.place_shards(client, shards)  # checked the one worker there was
        address = str(client.scheduler_info()["address"])
        command = [sys.executable, "-m", "distributed.cli.dask_worker", address, "--no-nanny", "--nthreads", "1", "--no-dashboard"]
        late = subprocess.Popen([*command, "--preload", str(preload)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            client.wait_for_workers(2, timeout=60)
            expected = (
                r"cannot import functional_nn on worker tcp://127\.0\.0\.1:\d+ \(host .+, Python .+\): "
                r"install the library there \(.+\) or put it on the workers' path"
            )
            with pytest.raises(dist.WorkerEnvironmentError, match=expected):
                dist.train_rounds(placed, start, activations=("relu", "softmax"), loss="categorical_cross_entropy", rounds=1, learning_rate=0.5)
        finally:
            late.terminate()
            late.wait(timeout=30)
