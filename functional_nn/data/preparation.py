"""Preparing data for the network: labels to one-hot columns, and more.

The column layout holds throughout: ``X`` is ``(n_features, m)``, one sample per column.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from functional_nn import _validation as check
from functional_nn import fused
from functional_nn.metrics import check_labels
from functional_nn.types import FloatArray, FloatDTypeLike, IntArray

_Scalar = TypeVar("_Scalar", bound=np.generic)


def one_hot(
    labels: IntArray | npt.NDArray[np.bool_], num_classes: int, *, dtype: FloatDTypeLike = np.float64
) -> FloatArray:
    """One-hot columns: ``Y[k, j] = 1`` where ``labels[j] == k``, else 0.

    Parameters
    ----------
    labels : ndarray of int or bool, shape (m,)
        Class indices in ``0 .. num_classes - 1``; ``False`` and ``True`` are classes 0 and 1.
    num_classes : int
    dtype : numpy.float32 or numpy.float64, default numpy.float64

    Returns
    -------
    Y : ndarray of shape (num_classes, m)
    """
    labels = check_labels("labels", labels)
    if labels.dtype == np.bool_:  # as classes 0 and 1: a bool array would index as a mask
        labels = labels.astype(np.int64)
    num_classes = check.check_positive_int("num_classes", num_classes)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)]
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, got {bad.size} outside, e.g. {bad[:5].tolist()}")
    check.check_float_dtype("dtype", dtype)
    Y = np.zeros((int(num_classes), labels.shape[0]), dtype=dtype)
    Y[labels, np.arange(labels.shape[0])] = 1
    return Y


def minibatches(
    X: FloatArray, Y: FloatArray, batch_size: int, rng: np.random.Generator
) -> Iterator[tuple[FloatArray, FloatArray, IntArray]]:
    """Shuffled mini-batches of columns: one epoch, each sample exactly once.

    Draws one ``rng.permutation(m)`` and cuts it into consecutive runs of ``batch_size``
    (the last batch may be smaller). Each batch is gathered once into a new Fortran-ordered
    ``(n, b)`` array, whatever the layout of ``X``: the rows of ``X.T`` are gathered, which
    is a contiguous copy per sample when ``X`` is Fortran-ordered (``X = data.T`` for a
    row-per-sample ``data``, as the loaders return it). ``train`` uses this same function, so
    a hand-written loop over it reproduces ``train`` bit for bit.

    Parameters
    ----------
    X : ndarray of shape (n_0, m)
        float32 or float64, finite, with ``m >= 1``, as ``train`` takes it; not modified.
    Y : ndarray of shape (n_L, m)
        Finite, in ``X``'s dtype.
    batch_size : int >= 1
    rng : numpy.random.Generator

    Yields
    ------
    X_batch : ndarray of shape (n_0, b)
    Y_batch : ndarray of shape (n_L, b)
    indices : ndarray of int, shape (b,)
        The columns of ``X`` and ``Y`` the batch holds (``sample_weight[indices]`` are the
        batch's weights, for ``compute_cost`` and ``backward_propagation``).
    """
    X = check.check_float_array("X", X, ndim=None)
    Y = check.check_float_array("Y", Y, ndim=None, targets=True)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(f"X and Y must be 2-D with the same number of columns, got {X.shape} and {Y.shape}")
    check.check_samples("X", X)  # as train refuses it: an epoch of no batches would leave the params as they were
    check.check_same_dtype("Y", Y, X.dtype, "X")
    batch_size = check.check_positive_int("batch_size", batch_size)
    rng = check.check_generator("rng", rng)
    return _minibatches(X, Y, batch_size, rng.permutation(X.shape[1]))


def _minibatches(
    X: npt.NDArray[np.number[Any]], Y: FloatArray, batch_size: int, order: IntArray, divisor: float | None = None,
    kernel: fused.Kernel = "numpy",
) -> Iterator[tuple[FloatArray, FloatArray, IntArray]]:
    r"""``(X_B, Y_B, indices)`` for each ``batch_size`` columns named by ``order``, in its order.

    With ``divisor``, ``X`` holds integers (training's ``input_divisor``) and each ``X_B`` is
    :math:`X_B / d` in ``Y``'s dtype, gathered and divided in one pass with ``kernel="numba"``
    (bitwise NumPy's ``np.divide(X[:, indices], d, dtype=Y.dtype)``, without its integer copy).
    """
    XT, YT = X.T, Y.T
    for start in range(0, order.shape[0], batch_size):
        indices = order[start : start + batch_size]
        # without a divisor, X holds the network's floats already
        rows: npt.NDArray[Any] = _rows(XT, indices) if divisor is None else _divided_rows(XT, indices, divisor, Y.dtype, kernel)
        yield rows.T, _rows(YT, indices).T, indices


def _divided(X: npt.NDArray[np.number[Any]], divisor: float, dtype: np.dtype[Any]) -> FloatArray:
    r""":math:`X / d` in the float ``dtype``, each integer cast to it first: training's ``input_divisor``."""
    result: FloatArray = np.divide(X, dtype.type(divisor), dtype=dtype)
    return result


def _divided_rows(array: npt.NDArray[np.number[Any]], indices: IntArray, divisor: float, dtype: np.dtype[Any], kernel: fused.Kernel) -> FloatArray:
    """``_divided(array[indices], divisor, dtype)``; by one fused pass for a C-ordered ``array`` with ``kernel="numba"``.

    Not for integers in the other byte order (``">u2"`` read from a big-endian file): Numba
    refuses their type, or, once it has compiled the kernel for an unaligned array of the same
    integers, takes them for that one and reads their bytes swapped. NumPy's passes convert them."""
    if kernel == "numba" and array.flags.c_contiguous and array.dtype.isnative:
        out = np.empty((indices.shape[0], array.shape[1]), dtype)
        fused.kernel("gather_divided")(array, indices, dtype.type(divisor), out)
        return out
    return _divided(_rows(array, indices), divisor, dtype)


def _rows(array: npt.NDArray[_Scalar], indices: IntArray) -> npt.NDArray[_Scalar]:
    """``array[indices]``, with ``np.take`` where that is faster: rows of a C-ordered, aligned
    array (15% here for a batch of 128 MNIST images). Not the strided rows of a Fortran-ordered
    one, which it copies 100 times slower, nor an unaligned array, such as a Dask worker
    receives from ``client.scatter`` (its buffer at any byte offset in a message): ``np.take``
    copies that element by element, 8.7 ms against 14 µs for a batch of 128 float32 images."""
    if array.flags.c_contiguous and array.flags.aligned:
        taken: npt.NDArray[_Scalar] = np.take(array, indices, axis=0)
        return taken
    return array[indices]


def scale_pixels(pixels: npt.NDArray[np.integer[Any]], *, dtype: FloatDTypeLike = np.float64) -> FloatArray:
    r"""Integer pixel intensities in ``0 .. 255`` as floats in ``[0, 1]``: :math:`x = p / 255`.

    Elementwise: any shape and memory order is kept, so ``scale_pixels(images.T)`` of a
    row-per-image ``images`` is ``(784, m)`` and Fortran-ordered.

    Parameters
    ----------
    pixels : ndarray of int, any shape
        E.g. ``uint8`` ``(784, m)`` from ``load_digits_csv``; not modified.
    dtype : numpy.float32 or numpy.float64, default numpy.float64

    Returns
    -------
    X : ndarray of ``pixels``' shape, in ``dtype``
    """
    check.refuse_matrix("pixels", pixels)
    if not isinstance(pixels, np.ndarray):
        raise TypeError(f"pixels must be a numpy ndarray of integers in 0..255, got {type(pixels).__name__}")
    if not np.issubdtype(pixels.dtype, np.integer):
        hint = " (already scaled?)"
        if pixels.dtype.kind == "f" and bool(np.any(pixels > 1)):  # 0..255 as floats: not scaled yet
            hint = " holding values above 1 (pixels / 255 scales floats in 0..255; pixels.astype(np.uint8) makes whole ones integers)"
        raise TypeError(f"pixels must hold integers in 0..255, got dtype {pixels.dtype}{hint}")
    check.check_float_dtype("dtype", dtype)
    if pixels.dtype != np.uint8 and pixels.size and (int(pixels.min()) < 0 or int(pixels.max()) > 255):
        raise ValueError(f"pixels must lie in 0..255, got values in {int(pixels.min())}..{int(pixels.max())}")
    return _divided(pixels, 255, np.dtype(dtype))


class Split(NamedTuple):
    """A training set and a held-out dev set, in column layout: ``X_*`` is ``(n, m_*)``."""

    X_train: npt.NDArray[Any]
    y_train: IntArray
    X_dev: npt.NDArray[Any]
    y_dev: IntArray


def train_dev_split(X: npt.NDArray[Any], y: IntArray, dev_size: int, rng: np.random.Generator) -> Split:
    """Shuffle the samples, hold out the first ``dev_size`` as the dev set, train on the rest.

    This is the tutorials' split (shuffle the rows, then the first 1,000 are dev). One draw:
    ``rng.permutation(m)``. Columns are gathered as rows of ``X.T``, so the outputs are
    Fortran-ordered like the loaders' arrays.

    Parameters
    ----------
    X : ndarray of shape (n, m)
        One sample per column, any dtype (raw ``uint8`` pixels or floats); not modified.
    y : ndarray of int, shape (m,)
    dev_size : int, 1 <= dev_size < m
    rng : numpy.random.Generator

    Returns
    -------
    Split
        ``X_train`` ``(n, m - dev_size)``, ``y_train``, ``X_dev`` ``(n, dev_size)``, ``y_dev``.
    """
    given: object = X  # typed as an array, but checked: users pass what they like
    check.refuse_matrix("X", given)
    if not isinstance(given, np.ndarray) or given.ndim != 2:
        raise TypeError(f"X must be a 2-D numpy ndarray (n_features, m), got {type(given).__name__} {getattr(given, 'shape', '')}")
    y = check_labels("y", y)
    m = int(X.shape[1])
    if y.shape[0] != m:
        raise ValueError(f"y has {y.shape[0]} labels but X has {m} samples (columns); X is (n_features, m)")
    dev_size = check.check_positive_int("dev_size", dev_size)
    if dev_size >= m:
        raise ValueError(f"dev_size must be smaller than the {m} samples, leaving some to train on, got {dev_size}")
    rng = check.check_generator("rng", rng)
    order = rng.permutation(m)
    dev, train = order[:dev_size], order[dev_size:]
    XT = X.T
    return Split(X_train=XT[train].T, y_train=y[train], X_dev=XT[dev].T, y_dev=y[dev])
