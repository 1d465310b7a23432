r"""Losses: the cost as a Python ``float`` and its gradient with respect to the output.

Every cost is the mean over the ``m`` samples (columns) of a per-sample loss summed over the
``n_L`` output units:

.. math::

    \text{binary cross-entropy:}\quad J = -\frac{1}{m}\sum_{j}\sum_{k}
        \big[y_{kj}\log a_{kj} + (1 - y_{kj})\log(1 - a_{kj})\big]

    \text{categorical cross-entropy:}\quad J = -\frac{1}{m}\sum_{j}\sum_{k} y_{kj}\log a_{kj}

    \text{mean squared error:}\quad J = \frac{1}{m}\sum_{j}\sum_{k} (a_{kj} - y_{kj})^2

    \text{hinge:}\quad J = \frac{1}{m}\sum_{j}\sum_{k} \max(0,\ 1 - t_{kj} a_{kj}),
        \quad t_{kj} = +1 \text{ if } y_{kj} > 0 \text{ else } -1

The hinge loss takes labels in {0, 1} (as the other classification losses, one-hot for
several units: one-vs-rest) or in {-1, 1}; a label above 0 is the positive class. It wants
an unbounded output (``linear``): the output is a score, positive for class 1, so
``train`` counts a single unit's prediction as class 1 where :math:`a \ge 0`.

An optional L2 penalty adds :math:`\frac{\lambda}{2m}\sum_l \lVert W_l\rVert_F^2` (biases
excluded). Logarithms never see 0: ``a`` is kept at least the dtype's smallest normal number
and ``1 - a`` at least ``np.finfo(dtype).epsneg``, the gap between 1 and the largest number
below it (half the machine epsilon), which changes nothing for outputs of a sigmoid or
softmax that has not saturated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final, get_args

import numpy as np
import numpy.typing as npt

from functional_nn import _validation as check
from functional_nn.activations import SIGMOID, SOFTMAX, check_record_name, resolve_activation
from functional_nn.sample_weights import Weights, check_sample_weight, weighted_mean
from functional_nn.types import FloatArray, Loss, LossFunction, Params


def _log_clipped(A: FloatArray) -> FloatArray:
    return np.log(np.maximum(A, np.finfo(A.dtype).tiny))


def _log1m_clipped(A: FloatArray) -> FloatArray:
    """:math:`\\log(1 - a)`, finite for ``a`` up to 1."""
    return np.log1p(-np.minimum(A, 1 - np.finfo(A.dtype).epsneg))


def _binary_cross_entropy_terms(AL: FloatArray, Y: FloatArray) -> FloatArray:
    return Y * _log_clipped(AL) + (1 - Y) * _log1m_clipped(AL)


def binary_cross_entropy(AL: FloatArray, Y: FloatArray) -> float:
    r""":math:`J = -\frac{1}{m}\sum_j\sum_k \big[y_{kj}\log a_{kj} + (1 - y_{kj})\log(1 - a_{kj})\big]`.

    ``AL`` and ``Y`` are ``(n_L, m)``; the sum is taken in float64 and returned as a ``float``.
    """
    m = AL.shape[1]
    total = np.sum(_binary_cross_entropy_terms(AL, Y), dtype=np.float64)
    return float(-total / m)


def binary_cross_entropy_samples(AL: FloatArray, Y: FloatArray) -> npt.NDArray[np.float64]:
    r"""Each column's :math:`-\sum_k \big[y_k\log a_k + (1 - y_k)\log(1 - a_k)\big]`, shape ``(m,)``, float64."""
    sums: npt.NDArray[np.float64] = np.sum(_binary_cross_entropy_terms(AL, Y), axis=0, dtype=np.float64)
    return -sums


def binary_cross_entropy_gradient(AL: FloatArray, Y: FloatArray) -> FloatArray:
    r""":math:`\partial \ell / \partial a = -y/a + (1-y)/(1-a)`, per sample (no :math:`1/m`)."""
    tiny = np.finfo(AL.dtype).tiny
    eps = np.finfo(AL.dtype).epsneg
    return (1 - Y) / np.maximum(1 - AL, eps) - Y / np.maximum(AL, tiny)


def categorical_cross_entropy(AL: FloatArray, Y: FloatArray) -> float:
    r""":math:`J = -\frac{1}{m}\sum_j\sum_k y_{kj}\log a_{kj}`.

    ``AL`` (softmax outputs) and ``Y`` (one-hot) are ``(n_L, m)``; the sum is taken in float64.
    """
    m = AL.shape[1]
    total = np.sum(Y * _log_clipped(AL), dtype=np.float64)
    return float(-total / m)


def categorical_cross_entropy_samples(AL: FloatArray, Y: FloatArray) -> npt.NDArray[np.float64]:
    r"""Each column's :math:`-\sum_k y_k\log a_k`, shape ``(m,)``, float64."""
    sums: npt.NDArray[np.float64] = np.sum(Y * _log_clipped(AL), axis=0, dtype=np.float64)
    return -sums


def categorical_cross_entropy_gradient(AL: FloatArray, Y: FloatArray) -> FloatArray:
    r""":math:`\partial \ell / \partial a = -y/a`, per sample."""
    return -Y / np.maximum(AL, np.finfo(AL.dtype).tiny)


def mean_squared_error(AL: FloatArray, Y: FloatArray) -> float:
    r""":math:`J = \frac{1}{m}\sum_j\sum_k (a_{kj} - y_{kj})^2`.

    ``AL`` and ``Y`` are ``(n_L, m)``; the differences are squared and summed in float64.
    """
    m = AL.shape[1]
    diff = np.subtract(AL, Y, dtype=np.float64)  # float32's (a - y)^2 overflows past 1.8e19
    diff *= diff
    return float(np.sum(diff) / m)


def mean_squared_error_samples(AL: FloatArray, Y: FloatArray) -> npt.NDArray[np.float64]:
    r"""Each column's :math:`\sum_k (a_k - y_k)^2`, shape ``(m,)``, float64."""
    diff = np.subtract(AL, Y, dtype=np.float64)
    diff *= diff
    costs: npt.NDArray[np.float64] = np.sum(diff, axis=0)
    return costs


def mean_squared_error_gradient(AL: FloatArray, Y: FloatArray) -> FloatArray:
    r""":math:`\partial \ell / \partial a = 2(a - y)`, per sample."""
    return 2 * (AL - Y)


def _hinge_signs(Y: FloatArray, dtype: np.dtype[Any]) -> FloatArray:
    """:math:`t = +1` where :math:`y > 0`, else :math:`-1`: labels in {0, 1} and {-1, 1} alike."""
    t = (Y > 0).astype(dtype)
    t *= 2
    t -= 1
    return t


def _hinge_terms(AL: FloatArray, Y: FloatArray) -> FloatArray:
    margins = _hinge_signs(Y, AL.dtype)
    margins *= AL
    np.subtract(1, margins, out=margins)
    np.maximum(margins, 0, out=margins)
    return margins


def hinge(AL: FloatArray, Y: FloatArray) -> float:
    r""":math:`J = \frac{1}{m}\sum_j\sum_k \max(0,\ 1 - t_{kj} a_{kj})`, with :math:`t = \pm 1` from the labels."""
    m = AL.shape[1]
    return float(np.sum(_hinge_terms(AL, Y), dtype=np.float64) / m)


def hinge_samples(AL: FloatArray, Y: FloatArray) -> npt.NDArray[np.float64]:
    r"""Each column's :math:`\sum_k \max(0,\ 1 - t_k a_k)`, shape ``(m,)``, float64."""
    costs: npt.NDArray[np.float64] = np.sum(_hinge_terms(AL, Y), axis=0, dtype=np.float64)
    return costs


def hinge_gradient(AL: FloatArray, Y: FloatArray) -> FloatArray:
    r""":math:`\partial \ell / \partial a = -t` where the margin :math:`t a < 1`, else 0 (the subgradient at the kink)."""
    t = _hinge_signs(Y, AL.dtype)
    gradient = np.negative(t)
    gradient *= t * AL < 1
    return gradient


BINARY_CROSS_ENTROPY: Final = LossFunction(
    "binary_cross_entropy", binary_cross_entropy, binary_cross_entropy_gradient, True, SIGMOID, 0.5,
    binary_cross_entropy_samples,
)  # fmt: skip
CATEGORICAL_CROSS_ENTROPY: Final = LossFunction(
    "categorical_cross_entropy", categorical_cross_entropy, categorical_cross_entropy_gradient, True, SOFTMAX, 0.5,
    categorical_cross_entropy_samples,
)  # fmt: skip
MEAN_SQUARED_ERROR: Final = LossFunction(
    "mean_squared_error", mean_squared_error, mean_squared_error_gradient, sample_costs=mean_squared_error_samples
)
HINGE: Final = LossFunction("hinge", hinge, hinge_gradient, decision_threshold=0.0, sample_costs=hinge_samples)

LOSSES: Final[Mapping[Loss, LossFunction]] = {
    "binary_cross_entropy": BINARY_CROSS_ENTROPY,
    "categorical_cross_entropy": CATEGORICAL_CROSS_ENTROPY,
    "mean_squared_error": MEAN_SQUARED_ERROR,
    "hinge": HINGE,
}

LOSS_NAMES: Final[tuple[Loss, ...]] = get_args(Loss)

_CATEGORICAL = "did you mean 'categorical_cross_entropy'? It takes softmax outputs and one-hot (K, m) targets (one_hot(labels, K))"
_BINARY = "did you mean 'binary_cross_entropy'? It takes sigmoid outputs and targets in [0, 1]"
_MSE = "did you mean 'mean_squared_error'? It sums the squares over the output units and takes their mean over the samples"
_NO_MAE = (
    "no mean absolute error loss is built in ('mean_squared_error' squares the errors): "
    "write a LossFunction of your own (check_loss checks its gradient)"
)
# PyTorch's, Keras', TensorFlow's and scikit-learn's names, which the closest spelling would take for
# another loss ("cross_entropy", PyTorch's multi-class loss, for "binary_cross_entropy"; TensorFlow's
# "softmax_cross_entropy" for "binary_cross_entropy" and "sigmoid_cross_entropy" for "categorical_cross_entropy")
_OTHER_LIBRARIES_NAMES: Final[dict[str, str]] = {
    **dict.fromkeys(("cross_entropy", "crossentropyloss", "ce", "nll", "nll_loss", "nllloss"), _CATEGORICAL),
    **dict.fromkeys(
        ("softmax_cross_entropy", "softmax_cross_entropy_with_logits", "sparse_softmax_cross_entropy_with_logits"), _CATEGORICAL
    ),
    **dict.fromkeys(("bce", "bceloss", "bce_with_logits", "binary_cross_entropy_with_logits", "bcewithlogitsloss"), _BINARY),
    **dict.fromkeys(("sigmoid_cross_entropy", "sigmoid_cross_entropy_with_logits"), _BINARY),
    **dict.fromkeys(("mse", "mseloss", "mse_loss", "l2", "l2_loss"), _MSE),
    **dict.fromkeys(("mean_absolute_error", "meanabsoluteerror", "mae", "l1", "l1_loss", "l1loss", "absolute_error"), _NO_MAE),
    "log_loss": f"{_CATEGORICAL}; or 'binary_cross_entropy' for one sigmoid unit",
}


def resolve_loss(argument: str, value: object) -> LossFunction:
    """The record for ``value``, a built-in name or a ``LossFunction``; raise naming ``argument``."""
    if isinstance(value, str):
        return LOSSES[check.check_name(argument, value, LOSS_NAMES, hints=_OTHER_LIBRARIES_NAMES)]
    if not isinstance(value, LossFunction):
        raise TypeError(
            f"{argument} must be one of {list(LOSS_NAMES)} or a LossFunction record, got {type(value).__name__} {value!r}"
        )
    check_record_name(argument, value, LOSSES)
    for field in ("cost", "gradient", "sample_costs"):
        function = getattr(value, field)
        if not callable(function) and not (field == "sample_costs" and function is None):
            raise TypeError(f"{argument} {value.name!r}: {field} must be a function, got {function!r}")
    if value.fused_activation is not None:
        fused = resolve_activation(f"{argument} {value.name!r}: fused_activation", value.fused_activation)
        if fused is not value.fused_activation:  # a built-in's name, such as "sigmoid": its record, as everywhere
            value = value._replace(fused_activation=fused)
    threshold: object = value.decision_threshold
    if threshold is not None and not (isinstance(threshold, (int, float)) and math.isfinite(threshold)):
        raise TypeError(f"{argument} {value.name!r}: decision_threshold must be a finite number or None, got {threshold!r}")
    return value


def cost_number(value: object) -> float | None:
    """What a cost returned, as a Python ``float``, if it is one real number: a Python or NumPy
    integer or float (``np.mean`` of a float32 array is an ``np.float32``) or a 0-d array of
    one; else ``None``."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        return float(value)
    return None


def cost_value(loss: LossFunction, AL: FloatArray, Y: FloatArray) -> float:
    """``loss.cost(AL, Y)`` as a Python ``float``; a cost of one's own that returns an array
    (a cost per sample or per unit, not their mean) or no number is refused, naming the loss."""
    value: object = loss.cost(AL, Y) if loss.name in LOSSES else _own_cost(loss, AL, Y)  # a built-in writes into nothing
    if type(value) is float:  # the common case, no conversion (np.float64, a float subclass, becomes one below)
        return value
    number = cost_number(value)
    if number is not None:
        return number
    got = f"an array of shape {value.shape}" if isinstance(value, np.ndarray) else f"{type(value).__name__} {value!r}"
    raise TypeError(
        f"loss {loss.name!r}: cost returned {got} for AL of shape {AL.shape}; it must return one number, the mean "
        "over the m columns (check_loss(record) checks a record before training)"
    )


def _own_cost(loss: LossFunction, AL: FloatArray, Y: FloatArray) -> object:
    """A cost of one's own, on read-only ``AL`` and ``Y`` (the caller's targets, the network's
    output that backward reads): one that writes into them is named."""
    with check.writes_refused(f"loss {loss.name!r}", "cost", "check_loss"):
        return loss.cost(check.read_only(AL), check.read_only(Y))


def gradient_value(loss: LossFunction, AL: FloatArray, Y: FloatArray) -> object:
    """``loss.gradient(AL, Y)``; a gradient of one's own gets ``AL`` and ``Y`` read-only, as its
    cost does (``Y`` may be the caller's, ``AL`` the output the last layer's backward reads),
    and one that writes into them is named."""
    if loss.name in LOSSES:  # a built-in: writes into nothing
        return loss.gradient(AL, Y)
    with check.writes_refused(f"loss {loss.name!r}", "gradient", "check_loss"):
        return loss.gradient(check.read_only(AL), check.read_only(Y))


def check_weighable(argument: str, loss: LossFunction) -> None:
    """Refuse sample weights (``argument``) with a loss that gives no per-sample costs."""
    if loss.sample_costs is None:
        raise ValueError(
            f"{argument} needs each sample's loss, but loss {loss.name!r} has no sample_costs: give its record "
            "sample_costs=(AL, Y) -> the (m,) per-column losses whose mean its cost is"
        )


def weighted_cost_value(loss: LossFunction, AL: FloatArray, Y: FloatArray, weights: Weights) -> float:
    r""":math:`\sum_j w_j \ell(a_j, y_j) / \sum_j w_j`, by ``loss.sample_costs`` (``check_weighable``
    has made sure there is one); a result of one's own that is not ``m`` real numbers is refused."""
    assert loss.sample_costs is not None
    if loss.name in LOSSES:  # a built-in writes into nothing
        costs: object = loss.sample_costs(AL, Y)
    else:
        with check.writes_refused(f"loss {loss.name!r}", "sample_costs", "check_loss"):
            costs = loss.sample_costs(check.read_only(AL), check.read_only(Y))
    if not (isinstance(costs, np.ndarray) and costs.shape == (AL.shape[1],) and costs.dtype.kind in "iuf"):
        got = f"{costs.dtype} {costs.shape}" if isinstance(costs, np.ndarray) else f"{type(costs).__name__} {costs!r}"
        raise TypeError(
            f"loss {loss.name!r}: sample_costs returned {got} for AL of shape {AL.shape}; it must return "
            f"the {AL.shape[1]} per-column losses, an array of shape ({AL.shape[1]},)"
        )
    return weighted_mean(weights, costs)


def check_targets(argument: str, Y: FloatArray, loss: LossFunction) -> FloatArray:
    r"""Return ``Y`` if its values lie where the built-in ``loss`` is defined, else raise ``ValueError``.

    The cross-entropies are defined for probabilities: binary cross-entropy for every
    :math:`0 \le y_{kj} \le 1`; categorical cross-entropy for columns that are distributions,
    :math:`y_{kj} \ge 0` and :math:`\sum_k y_{kj} = 1` (one-hot or soft labels, to within a
    rounding tolerance of ``1000 * eps`` of the dtype). Outside that the cost can be negative
    or unbounded below, and training would minimise nonsense. Mean squared error takes any
    finite real value; the hinge loss takes labels 0/1 or -1/1. The domain of a loss of your
    own is yours to check. Called once per
    data set at the public boundary, not per mini-batch.

    Parameters
    ----------
    argument : str
        The name to report, e.g. ``"Y"`` or ``"dev[1]"``.
    Y : ndarray of shape (n_L, m)
        Finite targets (already checked as a float array).
    loss : LossFunction
        A resolved record. The built-in cross-entropies are checked as above, and the hinge
        loss's 0/1 or -1/1 labels are checked too; mean squared error and a loss of your own
        take any finite ``Y``.
    """
    if loss == HINGE and Y.size:
        outside = np.flatnonzero(((Y != 0) & (Y != 1) & (Y != -1)).any(axis=0))
        if outside.size:
            column = int(outside[0])
            raise ValueError(
                f"{argument} has {outside.size} column(s) with values other than the hinge loss's labels 0/1 or -1/1: "
                f"column {column} is {Y[:, column].tolist()[:10]}"
            )
    if loss not in (BINARY_CROSS_ENTROPY, CATEGORICAL_CROSS_ENTROPY) or Y.size == 0:
        return Y
    low, high = float(Y.min()), float(Y.max())
    if loss == BINARY_CROSS_ENTROPY and not (0 <= low and high <= 1):
        column = int(np.argmax(((Y < 0) | (Y > 1)).any(axis=0)))
        raise ValueError(
            f"{argument} holds values in [{low:g}, {high:g}] but binary cross-entropy needs targets in [0, 1] "
            f"(0/1 labels or probabilities), e.g. column {column} is {Y[:, column].tolist()[:10]}"
        )
    if loss == CATEGORICAL_CROSS_ENTROPY:
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


def targets_in_dtype(argument: str, Y: FloatArray, dtype: np.dtype[Any]) -> FloatArray:
    """``Y`` (finite, already checked) in the network's ``dtype``; ``ValueError`` naming ``argument``
    if a value lies beyond that dtype's range, where the conversion would make it infinite
    (float64 targets past 3.4e38 for a float32 network) and the costs and gradients inf or NaN."""
    return check.in_dtype(argument, Y, dtype, "scale the targets")


def _sum_of_squares(W: FloatArray) -> float:
    r""":math:`\lVert W\rVert_F^2` in float64, finite unless it exceeds float64's range."""
    with np.errstate(over="ignore"):
        total = float(np.sum(np.square(W), dtype=np.float64))
    if math.isinf(total):  # float32's squares overflow past 1.8e19: again in float64, which warns if they overflow it too
        total = float(np.sum(np.square(W, dtype=np.float64)))
    return total


def l2_penalty(params: Params, lambd: float, m: float) -> float:
    r""":math:`\frac{\lambda}{2m}\sum_l \lVert W_l\rVert_F^2`, biases excluded, summed in float64
    in layer order (``W1``, ``W2``, ..., ``W10``), whatever the order of the dict's keys: the same
    parameters give the same bits. With sample weights :math:`m` is the batch's total weight."""
    if lambd == 0:
        return 0.0
    layers = sorted((key for key in params if key.startswith("W")), key=lambda key: (len(key), key))  # W2 before W10
    squares = 0.0
    for key in layers:  # a plain loop: from Python 3.12 sum() compensates a sum of floats, giving other bits than 3.11
        squares += _sum_of_squares(params[key])
    return lambd / (2 * m) * squares


def compute_cost(
    AL: FloatArray,
    Y: FloatArray,
    loss: Loss | LossFunction,
    *,
    lambd: float = 0.0,
    params: Params | None = None,
    sample_weight: npt.ArrayLike | None = None,
) -> float:
    r"""The mean loss over the ``m`` samples, plus the L2 penalty when ``lambd > 0``.

    With ``sample_weight`` :math:`w`, the weighted mean and a penalty over the total weight
    :math:`S = \sum_j w_j` (see ``functional_nn.sample_weights``):
    :math:`\frac{1}{S}\sum_j w_j \ell(a_j, y_j) + \frac{\lambda}{2S}\sum_l \lVert W_l\rVert_F^2`.

    Parameters
    ----------
    AL : ndarray of shape (n_L, m)
        The network's output, as returned by ``forward_propagation``.
    Y : ndarray of shape (n_L, m)
        Targets: one-hot columns or soft labels summing to 1 (categorical), values in [0, 1]
        (binary), any real values (mean squared error), labels 0/1 or -1/1 (hinge); converted
        to ``AL``'s dtype (refused if a value lies beyond its range).
    loss : {"binary_cross_entropy", "categorical_cross_entropy", "mean_squared_error", "hinge"} or LossFunction
    lambd : float, default 0
        L2 strength :math:`\lambda`; needs ``params``.
    params : dict of str to ndarray, optional
        The weights the penalty is taken over: the network whose output ``AL`` is (checked:
        its last layer's size and its dtype).
    sample_weight : array-like of shape (m,), optional
        How much each sample (column) counts: finite, >= 0, not all 0. Needs a loss with
        ``sample_costs`` (every built-in has them).

    Returns
    -------
    cost : float
        Summed in float64, and finite for any finite input (logarithms are taken of clipped
        values; mean squared error and the L2 penalty square in float64), except mean squared
        error of differences, or a penalty of weights, beyond about 1e154, whose squares exceed
        float64's range: then inf, with NumPy's overflow warning.

    Raises
    ------
    ValueError
        ``AL`` with no rows (``n_L = 0``) or no columns; for a loss on probabilities (the
        cross-entropies: ``probability_output``), ``AL`` outside [0, 1], where the cost can turn
        negative; and targets outside the loss's domain (see ``check_targets``).
    """
    record = resolve_loss("loss", loss)
    AL = check.check_float_array("AL", AL)
    Y = check.check_float_array("Y", Y, targets=True)
    if Y.shape != AL.shape:
        raise ValueError(f"Y must have the shape of AL {AL.shape}, got {Y.shape}")
    m = check.check_samples("AL", AL)
    if AL.shape[0] == 0:
        raise ValueError(f"AL has no output units: shape {AL.shape} has n_L = 0 rows")
    if record.probability_output:
        low, high = float(AL.min()), float(AL.max())
        if not (0 <= low and high <= 1):
            raise ValueError(
                f"AL holds values in [{low:.8g}, {high:.8g}] but {record.name} needs probabilities in [0, 1], "
                "the output of 'sigmoid' or 'softmax'"
            )
    lambd = check.check_positive_float("lambd", lambd, allow_zero=True)
    if lambd > 0 and params is None:
        raise ValueError("compute_cost needs params to add the L2 penalty when lambd > 0")
    weights = None
    if sample_weight is not None:
        check_weighable("sample_weight", record)
        weights = check_sample_weight("sample_weight", sample_weight, m, f"AL's {m} columns")
    penalty = 0.0
    if params is not None:  # checked even when lambd is 0: they must be the network of AL
        sizes = check.check_params(params)
        assert isinstance(params, Mapping)  # check_params made sure
        if sizes[-1] != AL.shape[0]:
            raise ValueError(
                f"params' last layer has {sizes[-1]} units but AL has {AL.shape[0]} rows: "
                "AL must be the output of the network params describe"
            )
        check.check_same_dtype("AL", AL, params["W1"].dtype, "params['W1']")
        if lambd > 0:
            penalty = l2_penalty(params, lambd, m if weights is None else float(np.sum(weights)))
    check_targets("Y", Y, record)
    Y = targets_in_dtype("Y", Y, AL.dtype)
    # a cost of the user's own may return a NumPy scalar; the promise is a Python float
    with np.errstate(under="ignore"):  # squares rounding to subnormals or 0 are right, also under errstate(all="raise")
        data_cost = cost_value(record, AL, Y) if weights is None else weighted_cost_value(record, AL, Y, weights)
        return data_cost + penalty
