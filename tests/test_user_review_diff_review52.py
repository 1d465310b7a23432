"""Review of the weighted rounds (2c15837): float32 synchronous rounds whose batches weigh far
less than the run's largest sample weight."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from functional_nn import distributed as dist
from functional_nn.data import one_hot
from functional_nn.optimizers import sgd
from test_distributed import _last, _params


@pytest.mark.parametrize("heavy", [1e38, 1e37])
def test_float32_rounds_whose_batches_miss_the_largest_weight_equal_the_float64_rounds(rng: np.random.Generator, heavy: float) -> None:
    """One sample of weight ``heavy``, the others 1e-3, batches of 5 on two shards: most rounds'
    batches weigh 0.01 against the run's largest weight, a ratio beyond float32's 3.4e38 (1e40,
    1e39), where sums kept in units of the run's largest weight made the update infinite
    (TrainingDivergedError). train takes these weights in float32; the rounds are the same
    rounds in float64, to float32's rounding."""
    X = rng.standard_normal((5, 40))
    Y = one_hot((X[0] + X[1] > 0).astype(np.int64) + (X[2] > 1).astype(np.int64), 3)
    w = np.full(40, 1e-3)
    w[0] = heavy
    common: dict[str, Any] = dict(activations=("relu", "softmax"), loss="categorical_cross_entropy", optimizer=sgd(0.3), rounds=4, batch_size=5, sample_weight=w)
    params = _params(np.float32)
    got = _last(dist.train_rounds(dist.split_shards(X.astype(np.float32), Y.astype(np.float32), 2), params, **common))
    wide = {key: value.astype(np.float64) for key, value in params.items()}
    expected = _last(dist.train_rounds(dist.split_shards(X, Y, 2), wide, **common))
    assert [r.weight for r in got.history] == pytest.approx([r.weight for r in expected.history], rel=1e-12)
    assert min(r.weight or 0.0 for r in got.history) < 0.02  # a round without the heavy sample
    for key in params:
        assert got.params[key].dtype == np.float32
        np.testing.assert_allclose(got.params[key], expected.params[key], rtol=1e-5, atol=1e-6, err_msg=key)
    np.testing.assert_allclose([r.cost for r in got.history], [r.cost for r in expected.history], rtol=1e-5)
