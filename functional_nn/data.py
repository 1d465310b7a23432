"""Preparing data for the network: labels to one-hot columns, and more.

The column layout holds throughout: ``X`` is ``(n_features, m)``, one sample per column.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from functional_nn import _validation as check
from functional_nn.metrics import check_labels
from functional_nn.types import FloatArray, FloatDType, IntArray


def one_hot(labels: IntArray, num_classes: int, *, dtype: FloatDType = np.float64) -> FloatArray:
    """One-hot columns: ``Y[k, j] = 1`` where ``labels[j] == k``, else 0.

    Parameters
    ----------
    labels : ndarray of int, shape (m,)
        Class indices in ``0 .. num_classes - 1``.
    num_classes : int
    dtype : numpy.float32 or numpy.float64, default numpy.float64

    Returns
    -------
    Y : ndarray of shape (num_classes, m)
    """
    labels = check_labels("labels", labels)
    num_classes = check.check_positive_int("num_classes", num_classes)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)]
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, got {bad.size} outside, e.g. {bad[:5].tolist()}")
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be numpy.float32 or numpy.float64, got {dtype!r}")
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
    Y : ndarray of shape (n_L, m)
    batch_size : int >= 1
    rng : numpy.random.Generator

    Yields
    ------
    X_batch : ndarray of shape (n_0, b)
    Y_batch : ndarray of shape (n_L, b)
    indices : ndarray of int, shape (b,)
        The columns of ``X`` and ``Y`` the batch holds.
    """
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(f"X and Y must be 2-D with the same number of columns, got {X.shape} and {Y.shape}")
    batch_size = check.check_positive_int("batch_size", batch_size)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return _minibatches(X, Y, batch_size, rng.permutation(X.shape[1]))


def _minibatches(
    X: FloatArray, Y: FloatArray, batch_size: int, order: IntArray
) -> Iterator[tuple[FloatArray, FloatArray, IntArray]]:
    XT, YT = X.T, Y.T
    for start in range(0, order.shape[0], batch_size):
        indices = order[start : start + batch_size]
        yield XT[indices].T, YT[indices].T, indices
