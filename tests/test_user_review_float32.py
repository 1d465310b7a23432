"""A float32 user's review: the weight bound's advice when the data, not the rate, need large weights.

A float32 regression onto targets near 1e7 needs an output bias near 1e7, past float32's
weight bound 1/eps = 8.4e6. Training converges, its cost falling every epoch, and is stopped
as diverged; the advice was "try a smaller learning rate", which only delays the stop (rate
0.1: epoch 9, 0.01: epoch 91, 0.001: epoch 916). The same run in float64 trains. The advice
now names what helps: rescaling the data, or float64 params.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from functional_nn import train, train_epochs
from functional_nn.distributed import split_shards, train_rounds
from functional_nn.training import TrainingDivergedError
from functional_nn.types import FloatArray

ADVICE = "try a smaller learning rate, or, if the data need weights this large (targets of that size, say), rescale the data"
FLOAT64 = " or use float64 params (bound 4.504e+15)"


def _large_targets(rng: np.random.Generator, dtype: type[np.floating]) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
    """y = 1e7 + 3x: linear regression whose bias must reach 1e7, from zero weights."""
    X = rng.standard_normal((1, 64)).astype(dtype)
    Y = (1e7 + 3 * X).astype(dtype)
    return X, Y, {"W1": np.zeros((1, 1), dtype), "b1": np.zeros((1, 1), dtype)}


def test_a_converging_float32_fit_past_the_weight_bound_is_told_to_rescale_or_use_float64(rng: np.random.Generator) -> None:
    X, Y, params = _large_targets(rng, np.float32)
    settings = dict(activations=("linear",), loss="mean_squared_error", epochs=40, learning_rate=0.1)
    costs: list[float] = []
    with pytest.raises(TrainingDivergedError) as raised:
        for state in train_epochs(X, Y, params, **settings):  # type: ignore[arg-type]
            costs.extend(record.cost for record in state.history[len(costs) :])
    assert costs == sorted(costs, reverse=True) and len(costs) == 8  # no runaway: the cost fell every epoch
    assert re.fullmatch(
        r"training diverged at epoch 9: b1 holds a value of magnitude 8\.6\d\de\+06, beyond the float32 bound "
        r"8\.389e\+06 \(1/eps, where the spacing of its numbers reaches 1\) after the last step; " + re.escape(ADVICE + FLOAT64),
        str(raised.value),
    ), str(raised.value)
    X64, Y64, params64 = _large_targets(np.random.default_rng(0), np.float64)
    result = train(X64, Y64, params64, **settings)  # type: ignore[arg-type]
    assert abs(float(result.params["b1"][0, 0]) - 1e7) < 1e4  # float64 fits what float32 was stopped on


def test_train_rounds_gives_the_same_advice_for_a_weight_past_the_bound(rng: np.random.Generator) -> None:
    X, Y, params = _large_targets(rng, np.float32)
    rounds = train_rounds(
        split_shards(X, Y, 2), params, activations=("linear",), loss="mean_squared_error", rounds=40, learning_rate=0.1
    )
    with pytest.raises(TrainingDivergedError, match=r"round 9: the update made b1 hold .*; " + re.escape(ADVICE + FLOAT64) + "$"):
        list(rounds)

