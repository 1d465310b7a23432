"""Found by a user review: an ``ema`` optimizer given to the scikit-learn estimators.

``ema(optimizer)`` keeps a moving average of the weights, and ``train``'s dev figures, early
stopping's ``best_params`` and ``averaged_params`` all hand out that average to predict
with. The estimators, given such an optimizer, predicted with the last trained weights
instead (with ``early_stopping``, with the average of the best epoch): the average was
computed and never used. ``params_`` is now the average, and a continued fit goes on from
the weights averaged, so that ``partial_fit`` calls still equal one longer ``fit``.
"""

from __future__ import annotations

import numpy as np

from functional_nn import FloatArray, IntArray, adam, ema, initialize_parameters, predict_proba, train
from functional_nn.sklearn import MLPClassifier, MLPRegressor

AVERAGING = ema(adam(1e-2), decay=0.9)


def rows(rng: np.random.Generator) -> tuple[FloatArray, IntArray]:
    X = rng.standard_normal((60, 3))
    return X, (X[:, 0] + X[:, 1] > 0).astype(np.int64)


def test_an_ema_optimizer_makes_the_estimators_predict_with_the_average(rng: np.random.Generator) -> None:
    X, y = rows(rng)
    classifier = MLPClassifier((5,), optimizer=AVERAGING, epochs=4, batch_size=20, random_state=3).fit(X, y)
    draws = np.random.default_rng(3)
    start = initialize_parameters((3, 5, 1), draws)  # two classes: one logistic unit, as scikit-learn's
    result = train(X.T, y[None, :].astype(np.float64), start, activations=("relu", "sigmoid"),
                   loss="binary_cross_entropy", epochs=4, optimizer=AVERAGING, batch_size=20, rng=draws, lambd=1e-4)  # fmt: skip
    average = result.optimizer_state.slots["average"]
    assert not np.array_equal(average["W1"], result.params["W1"])
    assert classifier.params_.keys() == average.keys()
    for key, value in average.items():
        np.testing.assert_array_equal(classifier.params_[key], value)
    np.testing.assert_array_equal(classifier.predict_proba(X)[:, 1], predict_proba(X.T, average, ("relu", "sigmoid"))[0])

    regressor = MLPRegressor((5,), optimizer=AVERAGING, epochs=2, batch_size=20, random_state=3).fit(X, X[:, 0])
    for key, value in regressor.optimizer_state_.slots["average"].items():
        np.testing.assert_array_equal(regressor.params_[key], value)


def test_a_continued_fit_goes_on_from_the_weights_averaged_not_from_the_average(rng: np.random.Generator) -> None:
    X, y = rows(rng)
    once = MLPClassifier((5,), optimizer=AVERAGING, epochs=3, batch_size=20, random_state=3).fit(X, y)
    stepwise = MLPClassifier((5,), optimizer=AVERAGING, batch_size=20, random_state=3)
    stepwise.partial_fit(X, y, classes=[0, 1]).partial_fit(X, y).partial_fit(X, y)
    warm = MLPClassifier((5,), optimizer=AVERAGING, epochs=1, batch_size=20, random_state=3, warm_start=True)
    for _ in range(3):
        warm.fit(X, y)
    for continued in (stepwise, warm):
        for key, value in once.params_.items():
            np.testing.assert_array_equal(continued.params_[key], value)
