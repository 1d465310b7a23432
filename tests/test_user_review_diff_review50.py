"""Diff review of the divergence words and the transposed-dev check (review 50).

1. A continued fit (``warm_start``, ``partial_fit``) that diverged named ``train``'s epoch,
   counted from 1 in every call, while ``history_`` and ``n_iter_`` count on from the fitted
   epochs (and two ``partial_fit`` calls equal one ``fit`` with ``epochs=2``, whose error says
   "epoch 2"): the second ``partial_fit`` said "epoch 1".
2. ``epoch_states`` (no network yet) blamed a transposed ``dev[1]``, or a pair both held as
   rows (scikit-learn's way), on ``dev[1]`` with a shape made of the wrong numbers: "dev[1]
   must have shape (6, 6): (n_L, m) to match the output layer ...", dev[1]'s own rows taken
   for the output layer's.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from functional_nn.data.preparation import one_hot
from functional_nn.distributed import epoch_states
from functional_nn.sklearn import MLPRegressor
from functional_nn.training import TrainingDivergedError
from functional_nn.types import FloatArray


def _regression(rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    X = rng.normal(size=(40, 3))
    return X, X @ np.array([1.0, -2.0, 0.5])


def test_a_warm_fit_that_diverges_names_the_epoch_as_history_counts_it(rng: np.random.Generator) -> None:
    X, y = _regression(rng)
    model = MLPRegressor((4,), optimizer="sgd", learning_rate=1e-3, epochs=5, random_state=0, warm_start=True).fit(X, y)
    assert model.n_iter_ == 5
    model.set_params(learning_rate=1e6)
    with pytest.raises(TrainingDivergedError, match=r"^training diverged at epoch 7 \(this fit's epoch 2\): the cost is "):
        model.fit(X, y)
    assert model.n_iter_ == 5  # the failed fit left the fitted estimator as it was


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_partial_fit_that_diverges_names_the_epoch_as_history_counts_it(rng: np.random.Generator) -> None:
    X, y = _regression(rng)
    model = MLPRegressor((4,), optimizer="sgd", learning_rate=1e-3, random_state=0)
    for _ in range(3):
        model.partial_fit(X, y)
    model.set_params(learning_rate=1e6)
    for _ in range(10):
        before = model.n_iter_
        try:
            model.partial_fit(X, y)
        except TrainingDivergedError as error:
            assert re.match(rf"training diverged at epoch {before + 1} \(this fit's epoch 1\): ", str(error)), str(error)
            assert before > 3
            break
    else:
        pytest.fail("partial_fit at learning_rate=1e6 did not diverge")
    with pytest.raises(TrainingDivergedError, match=r"^training diverged at epoch 2: the cost is "):  # a first fit: as before
        MLPRegressor((4,), optimizer="sgd", learning_rate=1e6, epochs=5, random_state=0).fit(X, y)


def test_epoch_states_names_a_transposed_dev_1_and_a_pair_of_rows(rng: np.random.Generator) -> None:
    X_dev, Y_dev = rng.normal(size=(4, 6)), one_hot(np.array([0, 1, 1, 2, 0, 1]), 3)
    message = (
        "dev[0] and dev[1] must hold the same samples, one per column, but dev[0] (4, 6) has 6 and dev[1] (6, 3) has 3: "
        "dev[1]'s 6 rows match dev[0]'s samples; if its samples are rows, pass dev[1].T"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        epoch_states([], dev=(X_dev, Y_dev.T), activations=("relu", "softmax"), loss="categorical_cross_entropy")
    message = (
        "dev[0] and dev[1] must hold the same samples, one per column, but dev[0] (6, 4) has 4 and dev[1] (6, 3) has 3: "
        "their 6 rows match; if both hold samples as rows, pass (dev[0].T, dev[1].T)"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        epoch_states([], dev=(X_dev.T, Y_dev.T), activations=("relu", "softmax"), loss="categorical_cross_entropy")
    message = "dev[0] and dev[1] must hold the same samples, one per column, but dev[0] (4, 6) has 6 and dev[1] (3, 5) has 5"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):  # a plain mismatch: no hint
        epoch_states([], dev=(X_dev, Y_dev[:, :5]), activations=("relu", "softmax"), loss="categorical_cross_entropy")
    assert list(epoch_states([], dev=(X_dev, Y_dev), activations=("relu", "softmax"), loss="categorical_cross_entropy")) == []
