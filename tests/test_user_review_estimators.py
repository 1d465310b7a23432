"""A user's review of the scikit-learn estimators: what a practitioner met that was wrong."""

from __future__ import annotations

import numpy as np
import pytest

from functional_nn.sklearn import MLPClassifier, MLPRegressor


@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_warm_start_with_early_stopping_holds_out_the_samples_the_first_fit_held_out(
    estimator: type[MLPClassifier] | type[MLPRegressor], rng: np.random.Generator
) -> None:
    # A warm start that drew a new split would train on samples the first fit held out and judge
    # its epochs on samples that fit trained on: its dev cost jumps, and the run is not the one
    # fit it continues. Held out alike, and with the dev cost falling every epoch (so each fit's
    # best epoch is its last and nothing stops early), two warm fits of 4 epochs are one of 8.
    X = rng.standard_normal((60, 3))
    y = (X[:, 0] > 0).astype(np.int64) if estimator is MLPClassifier else X[:, 0].copy()
    once = estimator((4,), learning_rate=1e-3, epochs=8, early_stopping=True, n_iter_no_change=50, random_state=0).fit(X, y)
    twice = estimator((4,), learning_rate=1e-3, epochs=4, early_stopping=True, n_iter_no_change=50, random_state=0,
                      warm_start=True).fit(X, y).fit(X, y)  # fmt: skip
    dev_costs = [record.dev_cost for record in once.history_]
    assert np.all(np.diff(np.array(dev_costs, dtype=np.float64)) < 0)
    assert [record.dev_cost for record in twice.history_] == dev_costs
    for name, value in once.params_.items():
        np.testing.assert_array_equal(twice.params_[name], value)
