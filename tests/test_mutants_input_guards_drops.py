"""The estimators' input guards after the last 334 mutants of the input-guard audit (argument drops).

All 334 were run; with tests/test_mutants_input_guards.py four survived. One was a gap: fit asks
validate_data for a C-ordered X (order="C"), and a full-batch fit multiplies that X itself, so a
Fortran-ordered X, had it been kept, would be summed in another order by BLAS (64 features): the
fit on X in any layout must be, bit for bit, the fit on its C-ordered copy. The other three are
equivalent: a regressor's y read as numbers by validate_data (y_numeric, since dropped: the
regressor's own conversion names a value that is not a number) or by the dtype conversion
after it, the overflow message reading y as float64, and a classifier's one-hot
targets made in the network's dtype, which train converts them to itself: the last pinned here
by train called by hand on float32 targets. Expected values come from fitting the C-ordered
copy and from train.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from functional_nn import train
from functional_nn.data import one_hot
from functional_nn.initializers import initialize_parameters
from functional_nn.optimizers import adam
from functional_nn.sklearn import MLPClassifier, MLPRegressor
from functional_nn.types import FloatArray

LAYOUTS: dict[str, Callable[[FloatArray], FloatArray]] = {
    "fortran": np.asfortranarray,
    "strided": lambda X: np.repeat(X, 2, axis=1)[:, ::2],  # every other column of a wider array
    "reversed": lambda X: np.ascontiguousarray(X[::-1])[::-1],  # rows at a negative stride
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_size", [None, 1])
def test_a_fit_on_x_in_another_layout_is_the_fit_on_its_c_ordered_copy(layout: str, dtype: str, batch_size: int | None) -> None:
    # 64 features: enough for BLAS to sum a Fortran-ordered product in another order than a C-ordered one
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 64))
    given = LAYOUTS[layout](X)
    assert np.array_equal(given, X) and not given.flags.c_contiguous
    y, targets = rng.integers(0, 3, 30), X[:, :2]
    settings: dict[str, Any] = {"epochs": 2, "random_state": 0, "dtype": dtype, "batch_size": batch_size}
    classifiers = [MLPClassifier((8,), **settings).fit(data, y) for data in (given, X.copy())]
    regressors = [MLPRegressor((8,), **settings).fit(data, targets) for data in (given, X.copy())]
    for fitted, alone in (classifiers, regressors):
        assert fitted.params_.keys() == alone.params_.keys()
        for key, value in alone.params_.items():
            np.testing.assert_array_equal(fitted.params_[key], value)
        assert fitted.history_ == alone.history_
    np.testing.assert_array_equal(classifiers[0].predict_proba(X), classifiers[1].predict_proba(X))


def test_a_float32_classifier_learns_what_train_learns_by_hand_on_float32_one_hot_targets() -> None:
    rng = np.random.default_rng(1)
    X, labels = rng.standard_normal((24, 5)), np.array(["b", "c", "a"])[np.arange(24) % 3]
    clf = MLPClassifier((6,), optimizer="adam", learning_rate=1e-2, batch_size=5, epochs=3, random_state=4, dtype="float32")
    clf.fit(X, labels)
    draws = np.random.default_rng(4)
    params = initialize_parameters([5, 6, 3], draws, dtype=np.float32)
    classes, y = np.unique(labels, return_inverse=True)
    result = train(
        np.asfortranarray(X.T, dtype=np.float32), one_hot(y, 3, dtype=np.float32), params, activations=("relu", "softmax"),
        loss="categorical_cross_entropy", epochs=3, optimizer=adam(1e-2), batch_size=5, rng=draws,
        lambd=1e-4,  # the estimator's default alpha
    )  # fmt: skip
    assert clf.classes_.tolist() == classes.tolist() == ["a", "b", "c"]
    assert {value.dtype for value in result.params.values()} == {np.dtype(np.float32)}
    assert clf.params_.keys() == result.params.keys()
    for key, value in result.params.items():
        np.testing.assert_array_equal(clf.params_[key], value)
    assert clf.history_ == result.history
