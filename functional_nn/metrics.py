"""Figures of merit computed from predictions and labels.

Labels and predictions are 1-D integer arrays of class indices, one per sample (``predict``'s
output), or bool arrays (``False`` and ``True`` are classes 0 and 1); probabilities are in the
library's column layout ``(n_L, m)``. Counting metrics follow ``confusion_matrix``'s
convention (rows: true class, columns: predicted class) and define 0/0 as 0, so they never
return NaN.
"""

from __future__ import annotations

from typing import Final, Literal, TypeAlias, get_args

import numpy as np
import numpy.typing as npt

from functional_nn import _validation as check
from functional_nn.types import FloatArray, IntArray


MAX_INFERRED_CLASSES: Final = 10_000
"""The most classes ``confusion_matrix`` (and the macro averages) infer from the labels, one
more than the largest index: a ``k x k`` matrix of int64, 800 MB at the limit. Sparse indices
(``0`` and ``100000``) are refused rather than allocated: encode them as ``0 .. k - 1`` first,
or pass ``num_classes``, which is taken as given."""

_ENCODE_HINT: Final = "(classes, encoded = np.unique(labels, return_inverse=True))"


def check_labels(argument: str, value: object) -> IntArray:
    """A 1-D integer (or bool) array of class labels (one per sample), returned as it came."""
    check.refuse_matrix(argument, value)
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{argument} must be a numpy ndarray of integer labels, got {type(value).__name__}")
    if not (np.issubdtype(value.dtype, np.integer) or value.dtype == np.bool_):
        raise TypeError(f"{argument} must hold integer labels, got dtype {value.dtype}")
    if value.ndim != 1:
        hint = ""
        if value.ndim == 2 and 1 in value.shape:  # a row or a column of labels: argmax(axis=0) would lose them
            hint = f" (a {'row' if value.shape[0] == 1 else 'column'} of labels? {argument}.ravel() makes it 1-D)"
        elif value.ndim == 2:
            hint = " (for one-hot columns pass Y.argmax(axis=0))"
        raise ValueError(f"{argument} must be 1-D with one label per sample, got shape {value.shape}{hint}")
    return value


def accuracy(predictions: IntArray | npt.NDArray[np.bool_], labels: IntArray | npt.NDArray[np.bool_]) -> float:
    r"""The fraction of samples whose prediction equals the label, :math:`\frac{1}{m}\sum_j [\hat y_j = y_j]`.

    Parameters
    ----------
    predictions, labels : ndarray of int or bool, shape (m,)
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


Average: TypeAlias = Literal["binary", "macro"]
AVERAGES: Final[tuple[Average, ...]] = get_args(Average)


def _check_pair(predictions: object, labels: object) -> tuple[IntArray, IntArray]:
    predictions = check_labels("predictions", predictions)
    labels = check_labels("labels", labels)
    if predictions.shape != labels.shape:
        raise ValueError(f"predictions {predictions.shape} and labels {labels.shape} must have the same shape")
    if predictions.size == 0:
        raise ValueError("predictions and labels are empty: a metric of no samples is undefined")
    for argument, value in (("predictions", predictions), ("labels", labels)):
        if value.min() < 0:
            raise ValueError(f"{argument} must be class indices >= 0, got {int(value.min())}")
    return _as_int64("predictions", predictions), _as_int64("labels", labels)


def _as_int64(argument: str, labels: IntArray) -> IntArray:
    """``labels`` as int64 (bool as 0 and 1), refusing unsigned indices that would wrap around."""
    if labels.dtype == np.uint64 and labels.size and int(labels.max()) > np.iinfo(np.int64).max:
        raise ValueError(
            f"{argument} holds class index {int(labels.max())}, beyond the int64 range of class indices: "
            f"encode the labels as 0..k-1 first {_ENCODE_HINT}"
        )
    return labels.astype(np.int64, copy=False)


def _num_classes(predictions: IntArray, labels: IntArray, num_classes: int | None) -> int:
    """``k``: ``num_classes`` once checked against the indices, else one more than the largest."""
    largest_prediction, largest_label = int(predictions.max()), int(labels.max())
    largest = max(largest_prediction, largest_label)
    if num_classes is not None:
        k = check.check_positive_int("num_classes", num_classes)
        if largest >= k:
            raise ValueError(f"class index {largest} found, but num_classes is {k}: indices must lie in 0..{k - 1}")
        if k * k > np.iinfo(np.intp).max:  # the k x k counts are indexed as one flat array
            raise ValueError(f"num_classes is {k}: a {k} x {k} confusion matrix has more cells than an array can index")
        return k
    if largest >= MAX_INFERRED_CLASSES:
        argument = "predictions" if largest_prediction >= largest_label else "labels"
        raise ValueError(
            f"{argument} holds class index {largest}, which would make a {largest + 1} x {largest + 1} confusion matrix: "
            f"at most {MAX_INFERRED_CLASSES} classes are inferred from the labels; encode them as 0..k-1 first "
            f"{_ENCODE_HINT} or pass num_classes"
        )
    return largest + 1


def confusion_matrix(
    predictions: IntArray | npt.NDArray[np.bool_], labels: IntArray | npt.NDArray[np.bool_], num_classes: int | None = None
) -> IntArray:
    r"""Counts of (true class, predicted class) pairs.

    :math:`C_{ij}` is the number of samples of true class :math:`i` predicted as class
    :math:`j`: **rows are the true classes, columns the predicted ones**. The diagonal holds
    the correct predictions, row sums the class sizes, column sums how often each class was
    predicted. For a binary problem with positive class 1::

        [[TN, FP],
         [FN, TP]]

    Parameters
    ----------
    predictions, labels : ndarray of int or bool, shape (m,)
        Predicted and true class indices ``>= 0``; ``False`` and ``True`` are 0 and 1.
    num_classes : int >= 1, optional
        ``k``; by default one more than the largest index in either array, at most
        ``MAX_INFERRED_CLASSES`` (10,000): larger indices are refused with a ``ValueError``
        rather than a matrix of their size allocated. Encode sparse labels as ``0 .. k - 1``
        first (``np.unique(labels, return_inverse=True)``), or give ``num_classes``.

    Returns
    -------
    C : ndarray of int64, shape (k, k)
    """
    predictions, labels = _check_pair(predictions, labels)
    return _confusion_matrix(predictions, labels, _num_classes(predictions, labels, num_classes))


def _confusion_matrix(predictions: IntArray, labels: IntArray, k: int) -> IntArray:
    """Unchecked kernel of ``confusion_matrix``: int64 indices in ``0 .. k - 1``."""
    counts: IntArray = np.bincount(labels * k + predictions, minlength=k * k).reshape(k, k).astype(np.int64)
    return counts


def _ratio(numerator: IntArray, denominator: IntArray) -> FloatArray:
    """``numerator / denominator`` element-wise, 0 where the denominator is 0."""
    safe = np.maximum(denominator, 1)
    ratio: FloatArray = np.where(denominator > 0, numerator / safe, 0.0)
    return ratio


def _per_class_counts(
    predictions: object, labels: object, average: object, positive_class: object, num_classes: int | None
) -> tuple[Average, IntArray, IntArray, IntArray]:
    """True positives, predicted positives and actual positives: one entry per class averaged."""
    predictions, labels = _check_pair(predictions, labels)
    mode = check.check_name("average", average, AVERAGES)
    if mode == "macro":
        C = _confusion_matrix(predictions, labels, _num_classes(predictions, labels, num_classes))
        true_positives: IntArray = np.diagonal(C).copy()
        predicted: IntArray = C.sum(axis=0)
        actual: IntArray = C.sum(axis=1)
        return mode, true_positives, predicted, actual
    k = None if num_classes is None else _num_classes(predictions, labels, num_classes)  # only checked: no matrix
    positive = check.check_positive_int("positive_class", positive_class, minimum=0)
    if k is not None and positive >= k:  # no sample can be of it: its figures would be a meaningless 0
        raise ValueError(f"positive_class is {positive}, but num_classes is {k}: the positive class must be one of 0..{k - 1}")
    present = np.union1d(np.unique(predictions), np.unique(labels))
    if present.size > 2 or (present.size == 2 and positive not in present):
        raise ValueError(
            f"average='binary' needs two classes, one of them positive_class={positive}; "
            f"got classes {present.tolist()}: use average='macro' for several classes"
        )
    # counted directly, whatever the indices: the positive class's cells of the confusion matrix
    is_predicted, is_actual = predictions == positive, labels == positive
    counts = [np.count_nonzero(is_predicted & is_actual), np.count_nonzero(is_predicted), np.count_nonzero(is_actual)]
    tp, pp, ap = (np.array([count], dtype=np.int64) for count in counts)
    return mode, tp, pp, ap


def precision(
    predictions: IntArray | npt.NDArray[np.bool_],
    labels: IntArray | npt.NDArray[np.bool_],
    *,
    average: Average = "binary",
    positive_class: int = 1,
    num_classes: int | None = None,
) -> float:
    r"""Of the samples predicted as a class, the fraction that belong to it: :math:`TP / (TP + FP)`.

    With ``average="binary"`` this is the precision of ``positive_class`` (all other labels
    are the negative class; at most two classes may occur). With ``average="macro"`` it is
    the unweighted mean over the classes :math:`0 .. k-1` (``k`` as in ``confusion_matrix``)
    of each class's precision, that class taken as the positive one.

    **The 0/0 case**: a class that is never predicted has no precision; it counts as **0**
    (it contributes 0 to a macro average). The same convention holds for ``recall`` and
    ``f1_score``, so these functions never return NaN and never warn.

    Parameters
    ----------
    predictions, labels : ndarray of int or bool, shape (m,)
    average : {"binary", "macro"}, default "binary"
    positive_class : int >= 0, default 1
        Used by ``average="binary"`` only; below ``num_classes`` when that is given.
    num_classes : int, optional
        ``k`` for the macro average; by default one more than the largest index seen, at
        most ``MAX_INFERRED_CLASSES`` (as in ``confusion_matrix``). ``average="binary"``
        counts the two classes directly, whatever their indices.

    Returns
    -------
    precision : float in [0, 1]
    """
    _, true_positives, predicted, _ = _per_class_counts(predictions, labels, average, positive_class, num_classes)
    return float(np.mean(_ratio(true_positives, predicted)))


def recall(
    predictions: IntArray | npt.NDArray[np.bool_],
    labels: IntArray | npt.NDArray[np.bool_],
    *,
    average: Average = "binary",
    positive_class: int = 1,
    num_classes: int | None = None,
) -> float:
    r"""Of the samples of a class, the fraction predicted as it: :math:`TP / (TP + FN)`.

    Arguments, averaging and the 0/0 case (a class absent from ``labels`` has recall 0) as in
    ``precision``.

    Returns
    -------
    recall : float in [0, 1]
    """
    _, true_positives, _, actual = _per_class_counts(predictions, labels, average, positive_class, num_classes)
    return float(np.mean(_ratio(true_positives, actual)))


def f1_score(
    predictions: IntArray | npt.NDArray[np.bool_],
    labels: IntArray | npt.NDArray[np.bool_],
    *,
    average: Average = "binary",
    positive_class: int = 1,
    num_classes: int | None = None,
) -> float:
    r"""The harmonic mean of precision and recall, :math:`F_1 = \frac{2PR}{P + R} = \frac{2TP}{2TP + FP + FN}`.

    Computed per class from the counts (the right-hand form), then averaged as in
    ``precision``; the macro average is the mean of the per-class :math:`F_1`, not the
    :math:`F_1` of the mean precision and recall. 0/0 (a class neither present nor
    predicted) counts as 0.

    Returns
    -------
    f1 : float in [0, 1]
    """
    _, true_positives, predicted, actual = _per_class_counts(predictions, labels, average, positive_class, num_classes)
    return float(np.mean(_ratio(2 * true_positives, predicted + actual)))


def log_loss(probabilities: FloatArray, labels: IntArray | npt.NDArray[np.bool_]) -> float:
    r"""The mean negative log-probability given to the true class (cross-entropy).

    .. math:: \ell = -\frac{1}{m} \sum_{j=1}^{m} \log p_{y_j j}

    where :math:`p_{y_j j}` is the probability of sample ``j``'s true class. With one row
    (a sigmoid output), the row is the probability of class 1 and that of class 0 is
    :math:`1 - p`, so this is the binary cross-entropy
    :math:`-\frac1m\sum_j [y_j \log p_j + (1 - y_j)\log(1 - p_j)]`. Probabilities are
    clipped to :math:`[\epsilon, 1 - \epsilon]` with :math:`\epsilon` the machine epsilon of
    their dtype, so the result is always finite (at most :math:`-\log\epsilon`, about 36.0
    in float64 and 15.9 in float32).

    Parameters
    ----------
    probabilities : ndarray of shape (1, m) or (k, m), k >= 2
        The network's output in the library's column layout: a sigmoid row, or softmax
        columns that each sum to 1 (within ``1e-3`` in float32, ``1e-6`` in float64).
    labels : ndarray of int or bool, shape (m,)
        True classes in ``0 .. k - 1`` (``0`` or ``1`` for one row); ``False`` and ``True`` are 0 and 1.

    Returns
    -------
    loss : float >= 0
    """
    P = check.check_float_array("probabilities", probabilities)
    labels = _as_int64("labels", check_labels("labels", labels))  # bool would index as a mask
    k, m = int(P.shape[0]), int(P.shape[1])
    if labels.shape != (m,):
        raise ValueError(f"labels must have shape ({m},), one per column of probabilities {P.shape}, got {labels.shape}")
    if m == 0:
        raise ValueError("probabilities has no samples: shape has m = 0 columns")
    if k == 0:
        raise ValueError(f"probabilities has no rows: shape {P.shape}; expected (1, m) for a sigmoid output or (k, m), k >= 2")
    if P.min() < 0 or P.max() > 1:
        raise ValueError(f"probabilities must lie in [0, 1], got values in [{P.min()}, {P.max()}]")
    classes = 2 if k == 1 else k
    if labels.min() < 0 or labels.max() >= classes:
        raise ValueError(f"labels must lie in 0..{classes - 1} for probabilities of shape {P.shape}, got {labels.min()}..{labels.max()}")
    if k > 1:
        tolerance = 1e-3 if P.dtype == np.float32 else 1e-6
        column_sums: FloatArray = P.sum(axis=0, dtype=np.float64)
        worst = float(np.max(np.abs(column_sums - 1)))
        if worst > tolerance:
            raise ValueError(
                f"each column of probabilities must sum to 1 (softmax output), but one is off by {worst:.3g}; "
                "for a single sigmoid unit pass shape (1, m)"
            )
        true_class = P[labels, np.arange(m)]
    else:
        true_class = np.where(labels == 1, P[0], 1 - P[0])
    eps = float(np.finfo(P.dtype).eps)
    clipped = np.clip(true_class.astype(np.float64), eps, 1 - eps)
    return float(-np.mean(np.log(clipped)))
