r"""Losses: the cost as a Python ``float`` and its gradient with respect to the output.

Every cost is the mean over the ``m`` samples (columns) of a per-sample loss summed over the
``n_L`` output units:

.. math::

    \text{binary cross-entropy:}\quad J = -\frac{1}{m}\sum_{j}\sum_{k}
        \big[y_{kj}\log a_{kj} + (1 - y_{kj})\log(1 - a_{kj})\big]

    \text{categorical cross-entropy:}\quad J = -\frac{1}{m}\sum_{j}\sum_{k} y_{kj}\log a_{kj}

    \text{mean squared error:}\quad J = \frac{1}{m}\sum_{j}\sum_{k} (a_{kj} - y_{kj})^2

An optional L2 penalty adds :math:`\frac{\lambda}{2m}\sum_l \lVert W_l\rVert_F^2` (biases
excluded). Logarithms never see 0: ``a`` is kept at least the dtype's smallest normal number
and ``1 - a`` at least its machine epsilon, which changes nothing for outputs of a sigmoid or
softmax that has not saturated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, NamedTuple, get_args

import numpy as np

from functional_nn import _validation as check
from functional_nn.types import FloatArray, Loss, Params


def _log_clipped(A: FloatArray) -> FloatArray:
    return np.log(np.maximum(A, np.finfo(A.dtype).tiny))


def _log1m_clipped(A: FloatArray) -> FloatArray:
    """:math:`\\log(1 - a)`, finite for ``a`` up to 1."""
    return np.log1p(-np.minimum(A, 1 - np.finfo(A.dtype).epsneg))


def binary_cross_entropy(AL: FloatArray, Y: FloatArray) -> float:
    m = AL.shape[1]
    total = np.sum(Y * _log_clipped(AL) + (1 - Y) * _log1m_clipped(AL), dtype=np.float64)
    return float(-total / m)


def binary_cross_entropy_gradient(AL: FloatArray, Y: FloatArray) -> FloatArray:
    r""":math:`\partial \ell / \partial a = -y/a + (1-y)/(1-a)`, per sample (no :math:`1/m`)."""
    tiny = np.finfo(AL.dtype).tiny
    eps = np.finfo(AL.dtype).epsneg
    return (1 - Y) / np.maximum(1 - AL, eps) - Y / np.maximum(AL, tiny)


def categorical_cross_entropy(AL: FloatArray, Y: FloatArray) -> float:
    m = AL.shape[1]
    total = np.sum(Y * _log_clipped(AL), dtype=np.float64)
    return float(-total / m)


def categorical_cross_entropy_gradient(AL: FloatArray, Y: FloatArray) -> FloatArray:
    r""":math:`\partial \ell / \partial a = -y/a`, per sample."""
    return -Y / np.maximum(AL, np.finfo(AL.dtype).tiny)


def mean_squared_error(AL: FloatArray, Y: FloatArray) -> float:
    m = AL.shape[1]
    diff = AL - Y
    return float(np.sum(diff * diff, dtype=np.float64) / m)


def mean_squared_error_gradient(AL: FloatArray, Y: FloatArray) -> FloatArray:
    r""":math:`\partial \ell / \partial a = 2(a - y)`, per sample."""
    return 2 * (AL - Y)


class LossFunctions(NamedTuple):
    """A loss, its gradient with respect to ``AL`` per sample, and the output activations
    whose range it needs (``None``: any).

    ``gradient`` returns a new array every call: the backward kernel scales it in place.
    """

    cost: Callable[[FloatArray, FloatArray], float]
    gradient: Callable[[FloatArray, FloatArray], FloatArray]
    fused_activation: str | None  # with this output activation, dZ_L = AL - Y exactly
    probability_output: bool  # AL must lie in [0, 1]


LOSSES: Final[Mapping[Loss, LossFunctions]] = {
    "binary_cross_entropy": LossFunctions(binary_cross_entropy, binary_cross_entropy_gradient, "sigmoid", True),
    "categorical_cross_entropy": LossFunctions(
        categorical_cross_entropy, categorical_cross_entropy_gradient, "softmax", True
    ),
    "mean_squared_error": LossFunctions(mean_squared_error, mean_squared_error_gradient, None, False),
}

LOSS_NAMES: Final[tuple[Loss, ...]] = get_args(Loss)


def check_targets(argument: str, Y: FloatArray, loss: Loss) -> FloatArray:
    r"""Return ``Y`` if its values lie where ``loss`` is defined, else raise ``ValueError``.

    The cross-entropies are defined for probabilities: binary cross-entropy for every
    :math:`0 \le y_{kj} \le 1`; categorical cross-entropy for columns that are distributions,
    :math:`y_{kj} \ge 0` and :math:`\sum_k y_{kj} = 1` (one-hot or soft labels, to within a
    rounding tolerance of ``1000 * eps`` of the dtype). Outside that the cost can be negative
    or unbounded below, and training would minimise nonsense. Mean squared error takes any
    finite real value. Called once per data set at the public boundary, not per mini-batch.

    Parameters
    ----------
    argument : str
        The name to report, e.g. ``"Y"`` or ``"dev[1]"``.
    Y : ndarray of shape (n_L, m)
        Finite targets (already checked as a float array).
    loss : Loss
    """
    if not LOSSES[loss].probability_output or Y.size == 0:
        return Y
    low, high = float(Y.min()), float(Y.max())
    if loss == "binary_cross_entropy" and not (0 <= low and high <= 1):
        column = int(np.argmax(((Y < 0) | (Y > 1)).any(axis=0)))
        raise ValueError(
            f"{argument} holds values in [{low:g}, {high:g}] but binary cross-entropy needs targets in [0, 1] "
            f"(0/1 labels or probabilities), e.g. column {column} is {Y[:, column].tolist()[:10]}"
        )
    if loss == "categorical_cross_entropy":
        if low < 0:
            column = int(np.argmax((Y < 0).any(axis=0)))
            raise ValueError(
                f"{argument} holds a negative target ({low:g}) but categorical cross-entropy needs each column to be "
                f"a distribution (one-hot, or values >= 0 summing to 1): column {column} is {Y[:, column].tolist()[:10]}"
            )
        sums = Y.sum(axis=0, dtype=np.float64)
        tolerance = 1000 * float(np.finfo(Y.dtype).eps)
        bad = np.flatnonzero(np.abs(sums - 1) > tolerance)
        if bad.size:
            column = int(bad[0])
            raise ValueError(
                f"{argument} has {bad.size} column(s) that do not sum to 1 (column {column} sums to {sums[column]:g}) "
                "but categorical cross-entropy needs each column to be a distribution: one-hot targets "
                "(one_hot(y, n_classes)) or soft labels summing to 1"
            )
    return Y


def l2_penalty(params: Params, lambd: float, m: int) -> float:
    r""":math:`\frac{\lambda}{2m}\sum_l \lVert W_l\rVert_F^2`, biases excluded."""
    if lambd == 0:
        return 0.0
    squares = sum(float(np.sum(np.square(W), dtype=np.float64)) for key, W in params.items() if key.startswith("W"))
    return lambd / (2 * m) * squares


def compute_cost(
    AL: FloatArray, Y: FloatArray, loss: Loss, *, lambd: float = 0.0, params: Params | None = None
) -> float:
    r"""The mean loss over the ``m`` samples, plus the L2 penalty when ``lambd > 0``.

    Parameters
    ----------
    AL : ndarray of shape (n_L, m)
        The network's output, as returned by ``forward_propagation``.
    Y : ndarray of shape (n_L, m)
        Targets: one-hot columns or soft labels summing to 1 (categorical), values in [0, 1]
        (binary), any real values (mean squared error); converted to ``AL``'s dtype.
    loss : {"binary_cross_entropy", "categorical_cross_entropy", "mean_squared_error"}
    lambd : float, default 0
        L2 strength :math:`\lambda`; needs ``params``.
    params : dict of str to ndarray, optional
        The weights the penalty is taken over.

    Returns
    -------
    cost : float
        Finite for any finite input: logarithms are taken of clipped values.
    """
    name = check.check_name("loss", loss, LOSS_NAMES)
    AL = check.check_float_array("AL", AL)
    Y = check.check_float_array("Y", Y)
    if Y.shape != AL.shape:
        raise ValueError(f"Y must have the shape of AL {AL.shape}, got {Y.shape}")
    m = check.check_samples("AL", AL)
    lambd = check.check_positive_float("lambd", lambd, allow_zero=True)
    if lambd > 0 and params is None:
        raise ValueError("compute_cost needs params to add the L2 penalty when lambd > 0")
    penalty = 0.0
    if lambd > 0 and params is not None:
        check.check_params(params)
        penalty = l2_penalty(params, lambd, m)
    check_targets("Y", Y, name)
    return LOSSES[name].cost(AL, Y.astype(AL.dtype, copy=False)) + penalty
