"""A user review of the multilabel MLPClassifier: an indicator ``y`` of two values other than 0
and 1, which scikit-learn's ``type_of_target`` calls ``"multilabel-indicator"`` (any two
integers), is refused by the estimator in the words of ``y``, not by ``train`` in its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse as sp  # type: ignore[import-untyped]  # untyped; a dependency of scikit-learn's
from sklearn.datasets import make_multilabel_classification

from functional_nn.sklearn import MLPClassifier


def _indicator() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    X, Y = make_multilabel_classification(n_samples=30, n_features=4, n_classes=3, random_state=0)
    return X.astype(np.float64), Y.astype(np.int64)


@pytest.mark.parametrize(
    ("encode", "values"),
    [
        (lambda Y: 2 * Y - 1, r"\[-1, 1\]"),  # the hinge loss's labels
        (lambda Y: 2 * Y, r"\[0, 2\]"),
        (lambda Y: sp.csr_matrix(2.0 * Y), r"\[0\.0, 2\.0\]"),
    ],
)
def test_a_multilabel_y_of_other_values_than_0_and_1_is_refused_naming_them(encode: Callable[[npt.NDArray[np.int64]], Any], values: str) -> None:
    X, Y = _indicator()
    y = encode(Y)
    # train named "Y" and its sample "column 0" (a row of y here): "Y holds values in [-1, 1] but
    # binary cross-entropy needs targets in [0, 1] ..., e.g. column 1 is [1.0, -1.0, -1.0]"
    message = rf"^y is a multilabel indicator matrix of the values {values}, but MLPClassifier trains a sigmoid unit"
    with pytest.raises(ValueError, match=message):
        MLPClassifier((4,), epochs=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=message):
        MLPClassifier((4,), random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    # 0/1 of any dtype still fits
    for ok in (Y, Y.astype(bool), Y.astype(np.float32)):
        assert MLPClassifier((4,), epochs=1, random_state=0).fit(X, ok).predict(X).shape == (30, 3)
