"""Found by a user review of the read-only arrays the library hands out.

An estimator's ``params_`` are its own, writable like any array a user is given (scaling a
layer, zeroing a weight, ``torch.from_numpy``), and are documented as "the core's
parameters". With an ``ema`` optimizer they were the optimizer state's read-only average
itself, so ``clf.params_["W1"] *= 0.5`` failed with NumPy's bare "output array is read-only",
which no document mentions, and only for that optimizer. They are now the estimator's own
copy of the average: writable, and writing them leaves ``optimizer_state_`` as it was.
"""

from __future__ import annotations

import numpy as np

from functional_nn.sklearn import MLPClassifier, MLPRegressor
from test_user_review import AVERAGING, rows


def test_an_ema_estimators_params_can_be_written_as_any_estimators_can(rng: np.random.Generator) -> None:
    X, y = rows(rng)
    fitted = (
        MLPClassifier((5,), optimizer=AVERAGING, epochs=2, batch_size=20, random_state=3).fit(X, y),
        MLPClassifier((5,), optimizer=AVERAGING, epochs=2, batch_size=20, random_state=3, early_stopping=True,
                      validation_fraction=0.25).fit(X, y),  # fmt: skip
        MLPRegressor((5,), optimizer=AVERAGING, epochs=2, batch_size=20, random_state=3).fit(X, X[:, 0]),
    )
    for estimator in fitted:
        average = {key: value.copy() for key, value in estimator.optimizer_state_.slots["average"].items()}
        before = {key: value.copy() for key, value in estimator.params_.items()}
        estimator.params_["W1"] *= 0.5  # as with any other optimizer
        estimator.params_["b1"][0, 0] = 1.0
        np.testing.assert_array_equal(estimator.params_["W1"], 0.5 * before["W1"])
        assert estimator.params_["b1"][0, 0] == 1.0
        for key, value in estimator.optimizer_state_.slots["average"].items():  # the state is not written
            np.testing.assert_array_equal(value, average[key])
            assert not value.flags.writeable
