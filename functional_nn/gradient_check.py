r"""Checking gradients against centred finite differences: ``backward_propagation`` against
``compute_cost`` (``gradient_check``), and a user's own activation or loss record before
training with it (``check_activation``, ``check_loss``)."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from typing import NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from functional_nn import _validation as check
from functional_nn.activations import resolve_activation
from functional_nn.losses import (
    check_targets,
    check_weighable,
    cost_number,
    cost_value,
    l2_penalty,
    resolve_loss,
    weighted_cost_value,
)
from functional_nn.propagation import backward, check_keep_probs, check_network, forward
from functional_nn.sample_weights import Weights, check_sample_weight
from functional_nn.types import Activation, ActivationFunction, FloatArray, Loss, LossFunction, Params


class _Checked(NamedTuple):
    """The arguments of ``numerical_gradient`` and ``gradient_check``, checked and resolved."""

    X: FloatArray
    Y: FloatArray
    activations: tuple[ActivationFunction, ...]
    loss: LossFunction
    epsilon: float
    lambd: float
    keep_probs: tuple[float, ...] | None
    weights: Weights | None = None


def _check_arguments(
    X: FloatArray, Y: FloatArray, params: Params, activations: Sequence[Activation | ActivationFunction],
    loss: Loss | LossFunction, epsilon: float, lambd: float, keep_probs: float | Sequence[float] | None,
    rng: np.random.Generator | None, sample_weight: npt.ArrayLike | None,
) -> _Checked:  # fmt: skip
    """The checks ``numerical_gradient`` and ``gradient_check`` share."""
    sizes, names, record = check_network(params, activations, loss)
    L = len(sizes) - 1
    X = check.check_float_array("X", X)
    Y = check.check_float_array("Y", Y, targets=True)
    check.check_samples("X", X)
    if X.shape[0] != sizes[0]:
        raise ValueError(f"X has {X.shape[0]} rows but W1 {params['W1'].shape} expects {sizes[0]}")
    if Y.shape != (sizes[-1], X.shape[1]):
        raise ValueError(f"Y must have shape {(sizes[-1], X.shape[1])} (n_L, m), got {Y.shape}")
    check_targets("Y", Y, record)
    checked_epsilon = check.check_positive_float("epsilon", epsilon)
    checked_lambd = check.check_positive_float("lambd", lambd, allow_zero=True)
    keeps = check_keep_probs(keep_probs, L, X.dtype)
    # needed to draw masks; else unused, but a seed or a RandomState given for it is a mistake to say, not to ignore
    check.check_generator("rng", rng, optional=True, needed_by=None if keeps is None else "dropout (keep_probs < 1)")
    weights = None
    if sample_weight is not None:
        check_weighable("sample_weight", record)
        weights = check_sample_weight("sample_weight", sample_weight, X.shape[1], f"X's {X.shape[1]} columns")
    return _Checked(X, Y, names, record, checked_epsilon, checked_lambd, keeps, weights)


def numerical_gradient(
    X: FloatArray,
    Y: FloatArray,
    params: Params,
    activations: Sequence[Activation | ActivationFunction],
    loss: Loss | LossFunction,
    *,
    epsilon: float = 1e-7,
    lambd: float = 0.0,
    keep_probs: float | Sequence[float] | None = None,
    rng: np.random.Generator | None = None,
    sample_weight: npt.ArrayLike | None = None,
) -> dict[str, FloatArray]:
    r"""Centred differences :math:`(J(\theta + \varepsilon e_i) - J(\theta - \varepsilon e_i)) / 2\varepsilon`
    for every entry of every parameter, in float64. Keys ``"dW1"``, ``"db1"``, ...

    Arguments as for ``gradient_check``, and checked as it checks them. With dropout, every
    evaluation draws its masks from a copy of ``rng`` in the same state, so the masks are
    held fixed; ``rng`` is not advanced.

    Returns
    -------
    grads : dict of str to ndarray
        ``"dW1"``: ``(n_1, n_0)``, ``"db1"``: ``(n_1, 1)``, ...: float64, shaped like the parameters.
    """
    checked = _check_arguments(X, Y, params, activations, loss, epsilon, lambd, keep_probs, rng, sample_weight)
    P = {key: value.astype(np.float64) for key, value in params.items()}
    with np.errstate(under="ignore"):  # values rounding to subnormals or 0 are right, also under errstate(all="raise")
        return _numerical_gradient(checked, P, rng)


def _numerical_gradient(checked: _Checked, P: Params, rng: np.random.Generator | None) -> dict[str, FloatArray]:
    """Unchecked kernel of ``numerical_gradient``: ``P`` float64 parameters."""
    X64, Y64 = checked.X.astype(np.float64), checked.Y.astype(np.float64)
    weights = checked.weights
    total = int(X64.shape[1]) if weights is None else float(np.sum(weights))  # what the penalty is taken over
    epsilon = checked.epsilon

    def cost(candidate: Params) -> float:
        AL, _ = forward(X64, candidate, checked.activations, checked.keep_probs, copy.deepcopy(rng))
        data_cost = cost_value(checked.loss, AL, Y64) if weights is None else weighted_cost_value(checked.loss, AL, Y64, weights)
        return data_cost + l2_penalty(candidate, checked.lambd, total)

    grads: dict[str, FloatArray] = {}
    for key, value in P.items():
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            shifted = value.copy()
            shifted[index] = value[index] + epsilon
            plus = cost({**P, key: shifted})
            shifted[index] = value[index] - epsilon
            minus = cost({**P, key: shifted})
            grad[index] = (plus - minus) / (2 * epsilon)
        grads["d" + key] = grad
    return grads


def gradient_check(
    X: FloatArray,
    Y: FloatArray,
    params: Params,
    activations: Sequence[Activation | ActivationFunction],
    loss: Loss | LossFunction,
    *,
    epsilon: float = 1e-7,
    lambd: float = 0.0,
    keep_probs: float | Sequence[float] | None = None,
    rng: np.random.Generator | None = None,
    sample_weight: npt.ArrayLike | None = None,
) -> float:
    r"""The relative difference between backpropagation's gradient and the numerical one.

    .. math::

        \frac{\lVert g - \tilde g\rVert_2}{\lVert g\rVert_2 + \lVert \tilde g\rVert_2}

    over all parameters stacked into one vector, everything evaluated in float64. Below about
    ``1e-7`` the gradient is right; above ``1e-3`` something is wrong. Costs two forward passes
    per parameter entry: use a small network and a few samples.

    Where the true gradient is zero (a cost that is flat in every parameter, e.g. a hinge loss
    whose per-sample gradients cancel), the ratio is 0/0 up to rounding: the centred
    differences return rounding noise of about :math:`10^{-16} J / \epsilon` against an exact
    0. So when both norms sum to less than ``epsilon``, the absolute difference
    :math:`\lVert g - \tilde g\rVert_2` is returned instead.

    Parameters
    ----------
    X : ndarray of shape (n_0, m)
    Y : ndarray of shape (n_L, m)
        Targets the loss is defined for, as ``compute_cost`` takes them.
    params : dict of str to ndarray
    activations : sequence of str or ActivationFunction, length L
    loss : str or LossFunction
    epsilon : float, default 1e-7
        The step of the centred differences.
    lambd : float, default 0
        L2 strength, as in ``compute_cost``.
    keep_probs, rng : optional
        Dropout as in ``forward_propagation``; the masks are drawn from copies of ``rng`` in
        its current state, so they are the same for every evaluation. ``rng`` is not advanced.
    sample_weight : array-like of shape (m,), optional
        How much each sample counts, as in ``compute_cost`` and ``backward_propagation``.

    Returns
    -------
    difference : float
    """
    checked = _check_arguments(X, Y, params, activations, loss, epsilon, lambd, keep_probs, rng, sample_weight)
    P = {key: value.astype(np.float64) for key, value in params.items()}
    X64, Y64 = checked.X.astype(np.float64), checked.Y.astype(np.float64)
    with np.errstate(under="ignore"):  # as numerical_gradient's: the norms square tiny gradients too
        AL, caches = forward(X64, P, checked.activations, checked.keep_probs, copy.deepcopy(rng))
        analytic = backward(AL, Y64, caches, checked.loss, checked.lambd, weights=checked.weights)
        numeric = _numerical_gradient(checked, P, rng)
        g = np.concatenate([analytic[key].ravel() for key in analytic])
        g_tilde = np.concatenate([numeric[key].ravel() for key in analytic])
        difference = float(np.linalg.norm(g - g_tilde))
        denominator = float(np.linalg.norm(g) + np.linalg.norm(g_tilde))
    if denominator < checked.epsilon:  # both gradients are zero up to rounding: see the docstring
        return difference
    return difference / denominator


T = TypeVar("T")


class RecordCheckError(ValueError):
    """A user's ``ActivationFunction`` or ``LossFunction`` fails ``check_activation`` or ``check_loss``."""


def _relative_differences(analytic: FloatArray, numeric: FloatArray, rounding: FloatArray) -> FloatArray:
    r""":math:`|g - \tilde g| / \max(|g| + |\tilde g|, 10^{-8}, 10^5 \eta)`, elementwise.

    :math:`\eta` (``rounding``) bounds what rounding the values differenced puts into
    :math:`\tilde g`: an ulp of the largest value over :math:`\varepsilon`. Where
    :math:`|g| + |\tilde g|` is below :math:`10^5 \eta`, centred differences cannot resolve a
    relative :math:`10^{-5}` (a saturated sigmoid's :math:`10^{-11}`, a wide softmax's
    :math:`10^{-7}`), so those entries compare absolutely, with :math:`\eta` a difference
    of :math:`10^{-5}`.
    """
    scale = np.maximum(np.maximum(np.abs(analytic) + np.abs(numeric), 1e-8), 1e5 * rounding)
    differences: FloatArray = np.abs(analytic - numeric) / scale
    return differences


def _frozen(array: FloatArray) -> FloatArray:
    array.flags.writeable = False
    return array


def _call(what: str, function: Callable[..., T], *arguments: FloatArray) -> T:
    """``function(*arguments)`` on read-only arrays; an attempt to write one becomes a clear error."""
    try:
        result = function(*arguments)
    except ValueError as error:
        if "read-only" in str(error):
            raise RecordCheckError(f"{what} writes into one of its arguments ({error}); work on a copy") from error
        raise
    return result


def _check_output(what: str, result: object, like: FloatArray) -> FloatArray:
    if not isinstance(result, np.ndarray):
        raise RecordCheckError(f"{what} must return a numpy array, got {type(result).__name__}")
    if result.shape != like.shape or result.dtype != like.dtype:
        raise RecordCheckError(
            f"{what} must keep the shape and dtype of its input {like.shape} {like.dtype}, got {result.shape} {result.dtype}"
        )
    if not np.isfinite(result).all():
        raise RecordCheckError(f"{what} returned NaN or infinite values for finite inputs")
    return result


def _check_settings(
    rng: object, shape: object, epsilon: object, tolerance: object
) -> tuple[np.random.Generator, tuple[int, int], float, float]:
    """The settings of ``check_activation`` and ``check_loss``, checked, with the default generator."""
    given = check.check_generator("rng", rng, optional=True)
    rng = np.random.default_rng(0) if given is None else given
    if not isinstance(shape, tuple) or len(shape) != 2:
        raise TypeError(f"shape must be a tuple (rows, columns) of two integers >= 1, got {shape!r}")
    rows, columns = (check.check_positive_int(f"shape[{i}]", size) for i, size in enumerate(shape))
    epsilon = check.check_positive_float("epsilon", epsilon)
    return rng, (rows, columns), epsilon, check.check_positive_float("tolerance", tolerance)


def check_activation(
    activation: Activation | ActivationFunction,
    *,
    rng: np.random.Generator | None = None,
    shape: tuple[int, int] = (4, 6),
    epsilon: float = 1e-5,
    tolerance: float = 1e-5,
) -> float:
    r"""Check an activation's record before training with it; return the largest relative difference.

    On random inputs :math:`Z \sim 2\,\mathcal N(0, 1)` and upstream gradients :math:`dA`
    (entries of magnitude 0.5 to 1.5, either sign), all float64:

    - ``forward`` and ``backward`` (and ``backward_in_place``) keep the shape and dtype of
      their input, in float64 and float32, return finite values, and write into nothing;
    - ``forward``'s values lie in ``output_range``;
    - ``backward(dA, Z, A)`` matches centred differences of ``forward``: entry :math:`(i, j)`
      of the numeric gradient is
      :math:`\sum dA \odot (g(Z + \varepsilon e_{ij}) - g(Z - \varepsilon e_{ij})) / 2\varepsilon`,
      which is right for functions that couple the units of a column (softmax) too;
    - ``backward_in_place`` gives ``backward``'s values.

    Parameters
    ----------
    activation : str or ActivationFunction
        A record of your own, or a built-in name (they pass).
    rng : numpy.random.Generator, optional
        Draws the inputs; ``numpy.random.default_rng(0)`` if not given.
    shape : (int, int), default (4, 6)
        The shape of ``Z``, ``(n_l, m)``, both at least 1.
    epsilon : float > 0, default 1e-5
        The step of the centred differences.
    tolerance : float > 0, default 1e-5
        The largest relative difference :math:`|g - \tilde g| / (|g| + |\tilde g|)` accepted
        (entries where both are below 1e-8, or below what the differences can resolve to a
        relative 1e-5 given the rounding of ``forward``'s values, compare absolutely). A right
        backward pass gives about 1e-10; a wrong one, 1e-2 or more.

    Returns
    -------
    difference : float
        The largest relative difference between ``backward`` and the centred differences.

    Raises
    ------
    RecordCheckError
        (a ``ValueError``) naming the record and what is wrong: for a wrong backward pass, the
        largest relative difference and where it occurs.
    """
    record = resolve_activation("activation", activation)
    name = f"activation {record.name!r}"
    rng, shape, epsilon, tolerance = _check_settings(rng, shape, epsilon, tolerance)
    Z = _frozen(2 * rng.standard_normal(shape))
    dA = _frozen(rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape))
    for dtype in (np.float32, np.float64):
        Z_d, dA_d = _frozen(Z.astype(dtype)), _frozen(dA.astype(dtype))
        A_d = _frozen(_check_output(f"{name}: forward", _call(f"{name}: forward", record.forward, Z_d), Z_d))
        _check_output(f"{name}: backward", _call(f"{name}: backward", record.backward, dA_d, Z_d, A_d), Z_d)
    A = _frozen(_check_output(f"{name}: forward", record.forward(Z), Z))
    low, high = record.output_range
    if not ((A >= low) & (A <= high)).all():
        raise RecordCheckError(f"{name}: forward returned values in [{A.min()}, {A.max()}], outside its output_range [{low}, {high}]")
    record.forward(_frozen(Z[:, ::-1] + 1.0))  # another input in between: a backward reading what forward kept, not its arguments, fails
    analytic = record.backward(dA, Z, A)
    numeric, rounding = np.zeros_like(Z), np.zeros_like(Z)
    ulp = np.finfo(np.float64).eps * float(np.abs(A).max())  # an ulp of forward's largest value
    for index in np.ndindex(Z.shape):
        up, down = Z.copy(), Z.copy()  # two arrays: forward may return its input (linear)
        up[index] += epsilon
        down[index] -= epsilon
        plus, minus = record.forward(up), record.forward(down)
        numeric[index] = float(np.sum(dA * (plus - minus))) / (2 * epsilon)
        rounding[index] = ulp * float(np.sum(np.abs(dA)[plus != minus])) / epsilon  # over the values that moved
    differences = _relative_differences(analytic, numeric, rounding)
    worst = float(differences.max())
    if worst > tolerance:
        at = np.unravel_index(int(np.argmax(differences)), differences.shape)
        raise RecordCheckError(
            f"{name}: backward differs from centred differences of forward by a relative {worst:.3g} "
            f"(tolerance {tolerance:g}), largest at Z{tuple(int(i) for i in at)} = {Z[at]:.6g}: backward gave "
            f"{analytic[at]:.6g}, the differences {numeric[at]:.6g}"
        )
    if record.backward_in_place is not None:
        fresh = dA.copy()
        in_place = _check_output(f"{name}: backward_in_place", _call(f"{name}: backward_in_place", record.backward_in_place, fresh, Z, A), Z)
        if not np.allclose(in_place, analytic, rtol=1e-12, atol=1e-15):
            raise RecordCheckError(f"{name}: backward_in_place gives other values than backward")
    return worst


def _check_sample_costs(name: str, costs: object, cost: float, m: int, tolerance: float) -> None:
    """``costs``, a loss's ``sample_costs``, must be ``m`` finite numbers whose mean is ``cost``."""
    if not (isinstance(costs, np.ndarray) and costs.shape == (m,) and costs.dtype.kind in "iuf"):
        got = f"{costs.dtype} {costs.shape}" if isinstance(costs, np.ndarray) else f"{type(costs).__name__} {costs!r}"
        raise RecordCheckError(f"{name}: sample_costs must return an array of shape ({m},), one loss per column, got {got}")
    if not np.isfinite(costs).all():
        raise RecordCheckError(f"{name}: sample_costs returned non-finite values {costs.tolist()}")
    mean = float(np.mean(costs, dtype=np.float64))
    if abs(mean - cost) > tolerance * max(1.0, abs(cost)):
        raise RecordCheckError(
            f"{name}: the mean of sample_costs is {mean:.8g} but cost is {cost:.8g}: sample_costs must give each "
            "column's loss, whose mean over the columns is the cost"
        )


def check_loss(
    loss: Loss | LossFunction,
    *,
    rng: np.random.Generator | None = None,
    shape: tuple[int, int] = (3, 5),
    epsilon: float = 1e-6,
    tolerance: float = 1e-5,
) -> float:
    r"""Check a loss's record before training with it; return the largest relative difference.

    On random one-hot targets ``Y`` (every class among them when ``m >= n``; for one unit,
    ``shape=(1, m)``, labels 0 and 1 as well) and outputs ``AL`` (in (0.05, 0.95) if the
    loss needs probabilities, else :math:`\mathcal N(0, 1)`), float64:

    - ``cost`` returns a float; ``gradient`` keeps the shape and dtype of ``AL`` (float64
      and float32), returns finite values and writes into nothing;
    - ``gradient(AL, Y)``, per sample, matches :math:`m` times the centred differences of
      ``cost``;
    - ``sample_costs``, if given, returns ``m`` finite numbers whose mean is ``cost`` (to
      ``tolerance``, relative) and writes into nothing;
    - with a ``fused_activation`` :math:`g`: :math:`A_L - Y` matches :math:`m` times the
      centred differences of ``cost(g(Z), Y)`` with respect to :math:`Z`, the identity the
      fused backward pass relies on.

    Parameters and the result are as for ``check_activation``, except that ``shape`` is
    ``(n_L, m)``, default ``(3, 5)``, and ``epsilon`` defaults to ``1e-6``.

    Raises
    ------
    RecordCheckError
        (a ``ValueError``) naming the record and what is wrong.
    """
    record = resolve_loss("loss", loss)
    name = f"loss {record.name!r}"
    rng, shape, epsilon, tolerance = _check_settings(rng, shape, epsilon, tolerance)
    n, m = shape
    Y: FloatArray = np.zeros(shape)
    Y[rng.permutation(np.arange(m) % n), np.arange(m)] = 1.0  # every class, when m >= n: a loss wrong for one is caught
    Y = _frozen(Y)
    AL = _frozen(rng.uniform(0.05, 0.95, shape) if record.probability_output else rng.standard_normal(shape))
    # One unit: a one-hot column is always 1, so cost and gradient meet labels 0 and 1 instead (a
    # binary loss's); the fused pairing keeps the one-hot Y (softmax over one unit is 1 whatever y).
    labels = Y if n > 1 else _frozen(rng.permutation(np.arange(m) % 2).reshape(shape).astype(np.float64))
    for dtype in (np.float32, np.float64):
        AL_d, Y_d = _frozen(AL.astype(dtype)), _frozen(labels.astype(dtype))
        value: object = _call(f"{name}: cost", record.cost, AL_d, Y_d)
        number = cost_number(value)  # what training takes: a float, a NumPy scalar (np.mean's), a 0-d array
        if number is None or not math.isfinite(number):
            raise RecordCheckError(
                f"{name}: cost must return one finite number, the mean over the columns (a float or a NumPy scalar), "
                f"got {type(value).__name__} {value!r}"
            )
        _check_output(f"{name}: gradient", _call(f"{name}: gradient", record.gradient, AL_d, Y_d), AL_d)
        if record.sample_costs is not None:
            _check_sample_costs(name, _call(f"{name}: sample_costs", record.sample_costs, AL_d, Y_d), number, m, tolerance)

    def numeric_gradient(cost: Callable[[FloatArray], float], at: FloatArray) -> tuple[FloatArray, FloatArray]:
        """m times the centred differences of ``cost`` at ``at``, and what rounding the costs can put in them."""
        numeric, rounding = np.zeros_like(at), np.zeros_like(at)
        for index in np.ndindex(at.shape):
            up, down = at.copy(), at.copy()
            up[index] += epsilon
            down[index] -= epsilon
            plus, minus = cost(up), cost(down)
            numeric[index] = m * (plus - minus) / (2 * epsilon)
            rounding[index] = m * np.finfo(np.float64).eps * max(abs(plus), abs(minus)) / epsilon
        return numeric, rounding

    analytic = record.gradient(AL, labels)
    differences = _relative_differences(analytic, *numeric_gradient(lambda A: record.cost(A, labels), AL))
    worst = float(differences.max())
    if worst > tolerance:
        at = np.unravel_index(int(np.argmax(differences)), differences.shape)
        raise RecordCheckError(
            f"{name}: gradient differs from m times the centred differences of cost by a relative {worst:.3g} "
            f"(tolerance {tolerance:g}), largest at AL{tuple(int(i) for i in at)} = {AL[at]:.6g}"
        )
    fused = record.fused_activation
    if fused is not None:
        Z = _frozen(rng.standard_normal(shape))
        A = fused.forward(Z)
        differences = _relative_differences(A - Y, *numeric_gradient(lambda Z_: record.cost(fused.forward(Z_), Y), Z))
        fused_worst = float(differences.max())
        if fused_worst > tolerance:
            raise RecordCheckError(
                f"{name}: declares fused_activation {fused.name!r}, but AL - Y differs from the gradient of "
                f"cost({fused.name}(Z), Y) with respect to Z by a relative {fused_worst:.3g}: the pairing is wrong"
            )
        worst = max(worst, fused_worst)
    return worst
