"""A user fitting the scikit-learn estimators on MNIST-sized data with early stopping: the
held-out split must not copy the data a second time when ``fit`` has already made its own
converted copy (uint8 pixels, a Fortran-ordered array, another dtype than ``dtype``).

Peaks are measured with tracemalloc, to which NumPy reports its allocations."""

from __future__ import annotations


import numpy as np
import pytest

from functional_nn.sklearn import MLPClassifier, MLPRegressor

from conftest import peak_bytes


def _pixels(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """uint8 ``X`` (20000, 100), 16 MB once fit converts it to float64, and labels of 3 classes."""
    return rng.integers(0, 256, size=(20_000, 100), dtype=np.uint8), rng.integers(0, 3, size=20_000)


def test_early_stopping_on_uint8_pixels_holds_one_float_copy_not_two(rng: np.random.Generator) -> None:
    X, y = _pixels(rng)
    converted = X.size * 8
    clf = MLPClassifier((2,), epochs=1, batch_size=None, early_stopping=True, random_state=0)
    peak = peak_bytes(lambda: clf.fit(X, y))
    # the float64 copy validate_data makes, the held-out 10% and a little: not a second copy for the split
    assert peak < 1.4 * converted, f"fit peaked at {peak / converted:.2f} times the converted X"


def test_early_stopping_on_a_float64_x_for_a_float32_regressor_holds_one_float32_copy(rng: np.random.Generator) -> None:
    X = rng.standard_normal((20_000, 100))
    y = X[:, 0] - X[:, 1]
    converted = X.size * 4
    reg = MLPRegressor((2,), epochs=1, batch_size=None, early_stopping=True, random_state=0, dtype="float32")
    peak = peak_bytes(lambda: reg.fit(X, y))
    assert peak < 1.4 * converted, f"fit peaked at {peak / converted:.2f} times the float32 X"


@pytest.mark.parametrize("convert", ["uint8", "fortran", "list"])
def test_a_split_within_fits_own_copy_learns_bitwise_what_a_copied_split_learns(
    rng: np.random.Generator, convert: str
) -> None:
    X, y = rng.integers(0, 256, size=(600, 12), dtype=np.uint8), rng.integers(0, 3, size=600)
    given: object = {"uint8": X, "fortran": np.asfortranarray(X.astype(np.float64)), "list": X.tolist()}[convert]
    kept = np.array(given, dtype=np.float64)

    def estimator() -> MLPClassifier:
        return MLPClassifier((5,), epochs=3, batch_size=50, early_stopping=True, validation_fraction=0.3, random_state=0)

    split_in_place = estimator().fit(given, y)
    copied = estimator().fit(X.astype(np.float64), y)  # the caller's own float64 array: the split copies it
    assert split_in_place.history_ == copied.history_
    for key, value in copied.params_.items():
        np.testing.assert_array_equal(split_in_place.params_[key], value)
    np.testing.assert_array_equal(np.array(given, dtype=np.float64), kept)  # the caller's data untouched


@pytest.mark.parametrize("estimator", [MLPClassifier((2,), epochs=1), MLPRegressor((2,), epochs=1)])
def test_x_in_the_cores_layout_is_refused_naming_the_transpose(
    rng: np.random.Generator, estimator: MLPClassifier | MLPRegressor
) -> None:
    X = rng.random((784, 300))  # a learner's X from the core's tutorials: (n_features, m), a sample per column
    y = rng.integers(0, 3, size=300)
    with pytest.raises(ValueError, match=r"X has 784 rows but y has 300 samples.*a sample per row.*pass X\.T"):
        estimator.fit(X, y)


def test_a_ragged_x_keeps_scikit_learns_error(rng: np.random.Generator) -> None:
    with pytest.raises(ValueError, match="inhomogeneous"):
        MLPClassifier((2,), epochs=1).fit([[0.0, 1.0], [1.0]], [0, 1])
