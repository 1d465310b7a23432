"""Figures of merit computed from predictions and labels."""

from __future__ import annotations

import numpy as np

from functional_nn.types import IntArray


def check_labels(argument: str, value: object) -> IntArray:
    """A 1-D integer array of class labels (one per sample)."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{argument} must be a numpy ndarray of integer labels, got {type(value).__name__}")
    if not (np.issubdtype(value.dtype, np.integer) or value.dtype == np.bool_):
        raise TypeError(f"{argument} must hold integer labels, got dtype {value.dtype}")
    if value.ndim != 1:
        hint = " (for one-hot columns pass Y.argmax(axis=0))" if value.ndim == 2 else ""
        raise ValueError(f"{argument} must be 1-D with one label per sample, got shape {value.shape}{hint}")
    return value


def accuracy(predictions: IntArray, labels: IntArray) -> float:
    r"""The fraction of samples whose prediction equals the label, :math:`\frac{1}{m}\sum_j [\hat y_j = y_j]`.

    Parameters
    ----------
    predictions, labels : ndarray of int, shape (m,)
        As returned by ``predict``, and the true classes.

    Returns
    -------
    accuracy : float in [0, 1]
    """
    predictions = check_labels("predictions", predictions)
    labels = check_labels("labels", labels)
    if predictions.shape != labels.shape:
        raise ValueError(f"predictions {predictions.shape} and labels {labels.shape} must have the same shape")
    if predictions.size == 0:
        raise ValueError("accuracy of no samples is undefined: predictions and labels are empty")
    return float(np.mean(predictions == labels))
