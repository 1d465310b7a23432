"""User review of regression: class labels handed to MLPRegressor are refused naming y, and a
sparse y of several outputs (which validate_data accepts) is fitted.

A user who passes string class labels to the regressor (rather than to ``MLPClassifier``) got
NumPy's ``could not convert string to float: np.str_('a')`` (or scikit-learn's, for labels
held as objects, as a pandas column of strings gives them): it names neither ``y``, nor what
was expected, nor the way out. Numbers written as text or held as objects are still read as
numbers, as before. A sparse ``y`` (scikit-learn's ``multi_output`` check takes CSR) gave
``setting an array element with a sequence.``: it is the dense ``y``'s fit.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse  # type: ignore[import-untyped]  # untyped; a dependency of scikit-learn's

from functional_nn.sklearn import MLPRegressor

LABELS: dict[str, tuple[npt.NDArray[np.generic], str]] = {
    "str": (np.array(["a", "b"] * 5), r"'a' \(dtype <U1\)"),
    "object": (np.array(["a", "b"] * 5, dtype=object), r"'a' \(dtype object\)"),
    "bytes": (np.array([b"a", b"b"] * 5), r"b'a' \(dtype \|S1\)"),
    "two outputs": (np.array([["1.5", "cat"]] * 10), r"'cat' \(dtype <U3\)"),
}


@pytest.mark.parametrize("kind", sorted(LABELS))
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_class_labels_given_to_the_regressor_are_refused_naming_y(rng: np.random.Generator, kind: str, method: str) -> None:
    X = rng.normal(size=(10, 3))
    y, held = LABELS[kind]
    regressor = MLPRegressor((4,), epochs=1, random_state=0)
    with pytest.raises(
        ValueError, match=rf"^y must hold numbers, the targets a regressor fits, but holds {held}; for class labels use MLPClassifier$"
    ):
        getattr(regressor, method)(X, y)


def test_numbers_held_as_text_or_objects_are_still_read_as_numbers(rng: np.random.Generator) -> None:
    X = rng.normal(size=(10, 3))
    y = rng.normal(size=10)
    with pytest.raises(ValueError, match=r"^y must hold numbers, the targets a regressor fits, but holds 'x'"):
        MLPRegressor((4,), epochs=1, random_state=0).fit(X, np.array([*y[:9].astype(str), "x"]))
    expected = MLPRegressor((4,), epochs=2, random_state=0).fit(X, y).predict(X)
    for given in (y.astype(str), y.astype(object)):
        np.testing.assert_array_equal(MLPRegressor((4,), epochs=2, random_state=0).fit(X, given).predict(X), expected)
    with pytest.raises(ValueError, match=r"^y contains 1 NaN or infinite value\(s\)$"):  # None, as a float, is NaN
        MLPRegressor((4,), epochs=1, random_state=0).fit(X, np.array([*y[:9], None], dtype=object))


@pytest.mark.parametrize("sparse", [scipy.sparse.csr_matrix, scipy.sparse.csr_array])
def test_a_sparse_y_is_fitted_as_its_dense_values(rng: np.random.Generator, sparse: type) -> None:
    X = rng.normal(size=(10, 3))
    Y = np.c_[X[:, 0], np.zeros(10)]
    expected = MLPRegressor((4,), epochs=2, random_state=0).fit(X, Y).predict(X)
    fitted = MLPRegressor((4,), epochs=2, random_state=0).fit(X, sparse(Y))
    np.testing.assert_array_equal(fitted.predict(X), expected)
