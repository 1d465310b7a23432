"""Diff review of the divergence words (review 50; its dev-pair case is in test_user_review_final_review_50).

1. A continued fit (``warm_start``, ``partial_fit``) that diverged named ``train``'s epoch,
   counted from 1 in every call, while ``history_`` and ``n_iter_`` count on from the fitted
   epochs (and two ``partial_fit`` calls equal one ``fit`` with ``epochs=2``, whose error says
   "epoch 2"): the second ``partial_fit`` said "epoch 1".
"""

from __future__ import annotations

import re

import numpy as np
import pytest

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
