"""Data preparation: scaling pixels, the tutorials' train/dev split, one-hot and mini-batches."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pytest

from functional_nn.data import minibatches, one_hot, scale_pixels, train_dev_split


ScalarT = TypeVar("ScalarT", bound=np.generic)


def _frozen(a: npt.NDArray[ScalarT]) -> npt.NDArray[ScalarT]:
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scale_pixels_values_dtype_and_layout(dtype: type[np.float32] | type[np.float64]) -> None:
    pixels = _frozen(np.array([[0, 51, 255], [102, 1, 204]], dtype=np.uint8))
    X = scale_pixels(pixels, dtype=dtype)
    assert X.dtype == dtype
    np.testing.assert_array_equal(X, np.array([[0, 0.2, 1], [0.4, 1 / 255, 0.8]], dtype=dtype))
    assert X[0, 1] == dtype(51) / dtype(255)  # a true division, not a multiplication by 1/255
    column_layout = np.ascontiguousarray(pixels).T  # a row-per-image array seen as columns
    assert scale_pixels(column_layout, dtype=dtype).flags.f_contiguous


def test_scale_pixels_refuses_floats_and_out_of_range() -> None:
    with pytest.raises(TypeError, match="already scaled"):
        scale_pixels(np.zeros((2, 2)))  # type: ignore[arg-type]  # the mistake under test
    with pytest.raises(ValueError, match="0..255, got values in -1..3"):
        scale_pixels(np.array([[-1, 3]], dtype=np.int64))
    with pytest.raises(TypeError, match="dtype must be"):
        scale_pixels(np.zeros((2, 2), dtype=np.uint8), dtype=np.float16)


def test_train_dev_split_is_the_tutorials_shuffle_then_hold_out(rng: np.random.Generator) -> None:
    X = _frozen(np.arange(30, dtype=np.uint8).reshape(10, 3).T.copy(order="F"))  # (3, 10): column j holds 3j..3j+2
    y = _frozen(np.arange(10, dtype=np.int64))
    split = train_dev_split(X, y, 4, rng)
    order = np.random.default_rng(0).permutation(10)  # the same single draw
    np.testing.assert_array_equal(split.y_dev, order[:4])
    np.testing.assert_array_equal(split.y_train, order[4:])
    np.testing.assert_array_equal(split.X_dev, X[:, order[:4]])
    np.testing.assert_array_equal(split.X_train, X[:, order[4:]])
    assert split.X_train.shape == (3, 6) and split.X_dev.shape == (3, 4)
    assert split.X_train.dtype == np.uint8 and split.X_train.flags.f_contiguous and split.X_dev.flags.f_contiguous
    assert sorted(np.concatenate([split.y_train, split.y_dev]).tolist()) == list(range(10))


def test_train_dev_split_keeps_float_dtype(rng: np.random.Generator) -> None:
    X = rng.random((5, 8)).astype(np.float32)
    split = train_dev_split(X, np.zeros(8, dtype=np.int64), 2, rng)
    assert split.X_train.dtype == np.float32 and split.X_dev.dtype == np.float32


@pytest.mark.parametrize(
    ("dev_size", "error", "message"),
    [(10, ValueError, "smaller than the 10 samples"), (0, ValueError, "dev_size must be >= 1"), (2.5, TypeError, "integer")],
)
def test_train_dev_split_refuses_bad_dev_size(
    rng: np.random.Generator, dev_size: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        train_dev_split(np.zeros((2, 10)), np.zeros(10, dtype=np.int64), dev_size, rng)  # type: ignore[arg-type]  # under test


def test_train_dev_split_refuses_mismatched_labels(rng: np.random.Generator) -> None:
    with pytest.raises(ValueError, match="y has 9 labels but X has 10 samples"):
        train_dev_split(np.zeros((2, 10)), np.zeros(9, dtype=np.int64), 2, rng)
    with pytest.raises(TypeError, match="2-D numpy ndarray"):
        train_dev_split(np.zeros(10), np.zeros(10, dtype=np.int64), 2, rng)


def test_one_hot_columns() -> None:
    Y = one_hot(np.array([2, 0, 1]), 3, dtype=np.float32)
    assert Y.dtype == np.float32
    np.testing.assert_array_equal(Y, [[0, 1, 0], [0, 0, 1], [1, 0, 0]])


def test_minibatches_cover_every_column_once_in_fortran_order(rng: np.random.Generator) -> None:
    X = np.arange(14, dtype=np.float64).reshape(7, 2).T.copy(order="F")  # (2, 7)
    Y = one_hot(np.arange(7) % 3, 3)
    batches = list(minibatches(X, Y, 3, rng))
    assert [b[0].shape[1] for b in batches] == [3, 3, 1]
    order = np.concatenate([b[2] for b in batches])
    np.testing.assert_array_equal(order, np.random.default_rng(0).permutation(7))
    for X_batch, Y_batch, indices in batches:
        assert X_batch.flags.f_contiguous
        np.testing.assert_array_equal(X_batch, X[:, indices])
        np.testing.assert_array_equal(Y_batch, Y[:, indices])


_XS = np.linspace(0.0, 1.0, 10).reshape(2, 5)
_YS = one_hot(np.array([0, 1, 1, 0, 1]), 2)


@pytest.mark.parametrize(
    ("X", "Y", "error", "message"),
    [
        (_XS.tolist(), _YS, TypeError, r"^X must be a numpy ndarray, got list \(np\.asarray\([^)]*\) converts it\)$"),
        (_XS, _YS.tolist(), TypeError, r"^Y must be a numpy ndarray, got list \(np\.asarray\([^)]*\) converts it\)$"),
        (np.arange(10).reshape(2, 5), _YS, TypeError, r"^X must have dtype float32 or float64, got int64 \(convert it first"),
        (np.where(_XS > 0.5, np.nan, _XS), _YS, ValueError, r"^X contains 5 NaN or infinite value\(s\)$"),
        (_XS, np.where(_YS == 1, np.inf, _YS), ValueError, r"^Y contains 5 NaN or infinite value\(s\)$"),
        (_XS.astype(np.float32), _YS, TypeError, r"^Y has dtype float64 but X is float32: convert one"),
        (_XS, _YS[:, :2], ValueError, r"same number of columns, got \(2, 5\) and \(2, 2\)"),
    ],
    ids=["list X", "list Y", "int X", "NaN X", "inf Y", "mixed dtypes", "columns"],
)
def test_minibatches_checks_X_and_Y_like_train(X: object, Y: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        minibatches(X, Y, 2, np.random.default_rng(0))  # type: ignore[arg-type]  # the checks under test


def test_minibatches_refuses_a_numpy_matrix() -> None:
    with pytest.warns(PendingDeprecationWarning, match="matrix subclass"):
        X = np.asmatrix(_XS)
    with pytest.raises(TypeError, match=r"^X is a numpy.matrix, which is not supported: convert it with np.asarray\(X\)$"):
        minibatches(X, _YS, 2, np.random.default_rng(0))
