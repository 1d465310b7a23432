r"""Sample weights: how much each training sample counts in the cost and its gradient.

With weights :math:`w_j \ge 0` a batch :math:`B`'s cost is the weighted mean of the per-sample
losses, and the L2 penalty is divided by the batch's weight as it is by its size unweighted:

.. math::

    J_B = \frac{1}{S_B}\sum_{j \in B} w_j\,\ell(a_j, y_j)
        + \frac{\lambda}{2 S_B}\sum_l \lVert W_l\rVert_F^2, \qquad S_B = \sum_{j \in B} w_j

so a weight of 2 counts a sample twice, as a copy of it in the same batch would, and weights
all 1 give the unweighted cost. Going back, :math:`dZ_L`'s column :math:`j` is scaled by
:math:`w_j / S_B` where it was by :math:`1/m`, and the penalty's term by :math:`\lambda / S_B`.
scikit-learn's ``MLPClassifier.fit(X, y, sample_weight)`` weighs each batch the same way.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from functional_nn import _validation as check
from functional_nn.types import FloatArray, IntArray

Weights = npt.NDArray[np.float64]
"""Sample weights, shape ``(m,)``, float64, finite and >= 0."""


def check_sample_weight(argument: str, value: object, m: int, samples: str) -> Weights:
    """``value`` as float64 weights of shape ``(m,)``, or ``ValueError``/``TypeError`` naming
    ``argument``: a 1-D array (or sequence) of ``m`` finite real numbers >= 0, not all 0.

    ``samples`` names what the weights belong to (``"X's 500 columns"``) in the shape error.
    """
    if isinstance(value, (str, bytes)) or not (isinstance(value, np.ndarray) or hasattr(value, "__len__")):
        raise TypeError(f"{argument} must be an array of {m} weights, one per sample, got {type(value).__name__} {value!r}")
    check.refuse_matrix(argument, value)  # a masked array's mask would be ignored
    try:
        array = np.asarray(value)
    except ValueError as error:  # a ragged sequence: NumPy's words name no argument
        raise ValueError(f"{argument} must be a 1-D sequence of {m} weights, one per sample: {error}") from error
    if array.dtype.kind not in "iuf" or array.dtype == np.float16:
        raise TypeError(
            f"{argument} must hold real numbers (integers or float32/float64), got dtype {array.dtype}"
            + (": give weights as numbers, e.g. mask.astype(float)" if array.dtype.kind == "b" else "")
        )
    if array.shape != (m,):
        raise ValueError(f"{argument} must have shape ({m},), one weight for each of {samples}, got shape {array.shape}")
    weights: Weights = array.astype(np.float64)  # a copy: the caller's array is never held
    bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
    if bad.size:
        raise ValueError(
            f"{argument} must hold finite weights >= 0, got {float(array[bad[0]])!r} at index {int(bad[0])} "
            f"({bad.size} such weight(s))"
        )
    if not weights.any():
        raise ValueError(f"{argument} is 0 for every sample: at least one must count")
    with np.errstate(over="ignore"):  # the overflow is the error below, whatever NumPy's error state
        total = float(weights.sum())
    if math.isinf(total):
        raise ValueError(
            f"{argument} sums beyond float64's range: scale the weights down (their ratios weigh the samples; "
            "their sum also divides the L2 penalty, if any)"
        )
    return weights


def batch_scale(weights: Weights, dtype: np.dtype[Any]) -> tuple[FloatArray, float]:
    r"""The row :math:`w_j / S_B` of shape ``(1, m)`` in ``dtype`` that scales :math:`dZ_L`'s
    columns, and :math:`S_B`, for a batch's ``weights`` (which sum to more than 0).

    Weights all 1 give :math:`1/m` in every column, the unweighted mean's factor to the bit.
    """
    total = float(np.sum(weights))
    row: FloatArray = (weights / total).astype(dtype).reshape(1, -1)
    return row, total


def weighted_mean(weights: Weights, values: npt.NDArray[Any]) -> float:
    r""":math:`\sum_j w_j v_j / \sum_j w_j` in float64; weights whose sum is finite but whose
    products with ``values`` overflow are scaled down by the largest first (only then: the
    same bits otherwise)."""
    values = values.astype(np.float64, copy=False)
    with np.errstate(over="ignore"):
        total = float(np.dot(weights, values))
    if math.isinf(total) and np.isfinite(values).all():
        weights = weights / np.max(weights)
        return float(np.dot(weights, values) / np.sum(weights))
    return float(total / np.sum(weights))


def balanced_weights(labels: npt.ArrayLike) -> Weights:
    r"""Weights that make every class count alike: :math:`w_j = m / (k\,m_{y_j})` for ``m``
    samples of ``k`` classes (those present), :math:`m_c` of class :math:`c`; so each class's
    weights sum to :math:`m/k` and the weighted accuracy is the mean of the classes' recalls
    (balanced accuracy). scikit-learn's ``compute_sample_weight("balanced", y)``.

    ``labels`` are class indices, shape ``(m,)``, integers >= 0 (``ValueError`` otherwise).

    >>> balanced_weights([0, 0, 0, 1]).tolist()
    [0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 2.0]
    """
    y: IntArray = np.asarray(labels)
    if y.ndim != 1 or y.size == 0 or y.dtype.kind not in "iu" or (y.dtype.kind == "i" and int(y.min()) < 0):
        described = f"{y.dtype} {y.shape}" + (f", smallest {y.min()}" if y.size and y.dtype.kind == "i" else "")
        raise ValueError(f"labels must be class indices, a non-empty 1-D array of integers >= 0, got {described}")
    counts = np.bincount(y)
    weights: Weights = (y.size / (np.count_nonzero(counts) * counts[y])).astype(np.float64)
    return weights
