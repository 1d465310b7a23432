r"""Full-batch training by L-BFGS: scipy's L-BFGS-B minimising the cost ``train`` minimises.

scikit-learn's MLP trains small data sets this way by default (``solver="lbfgs"``): the
parameters become one vector, and ``scipy.optimize.minimize(method="L-BFGS-B", jac=True)``
minimises the full-batch cost over it, asking for the cost and its gradient at the points it
chooses. Here the cost is ``compute_cost``'s and the gradient ``backward_propagation``'s, by
the same kernels ``train`` runs (``forward``, ``backward``); no step of L-BFGS is written here.

Needs SciPy, which comes with the ``sklearn`` extra (``pip install -e ".[sklearn]"``); it is
imported when ``train_lbfgs`` runs, never with the package.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from functional_nn import _validation as check
from functional_nn import fused
from functional_nn.data.preparation import _divided
from functional_nn.fold_state import EpochRecord
from functional_nn.losses import cost_value, l2_penalty, weighted_cost_value
from functional_nn.propagation import backward, forward
from functional_nn.sample_weights import Weights
from functional_nn.training import (
    Divergence,
    TrainingDivergedError,
    checked_data,
    classification_labels,
    diverged_parameter,
    output_accuracy,
)
from functional_nn.types import Activation, ActivationFunction, FloatArray, IntArray, Loss, LossFunction, Params

__all__ = ["LbfgsResult", "flatten_params", "objective", "train_lbfgs", "unflatten_params"]

Vector = npt.NDArray[np.float64]
"""The parameters as one float64 vector, ``W1, b1, W2, b2, ...``, each array in C order."""

Layout = tuple[tuple[str, tuple[int, ...]], ...]
"""The keys and shapes of a parameter dict, in the vector's order."""


class LbfgsResult(NamedTuple):
    """What ``train_lbfgs`` returns."""

    params: dict[str, FloatArray]
    """The parameters L-BFGS ended at: new arrays, in the network's dtype."""
    cost: float
    """The cost there (with the L2 penalty): ``history``'s last, of ``params`` even when a line
    search ended abnormally (scipy's own ``fun`` is then of a trial it rejected)."""
    n_iter: int
    """L-BFGS iterations run (scipy's ``nit``)."""
    n_fun: int
    """Evaluations of the cost and gradient (scipy's ``nfev``), line searches' included."""
    converged: bool
    """Whether L-BFGS-B stopped on its own tests (projected gradient within ``tol``, or the
    cost's relative reduction within scipy's ``ftol``), not at ``max_iter`` or ``max_fun``."""
    message: str
    """scipy's message, e.g. ``"CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL"``."""
    history: tuple[EpochRecord, ...]
    """One record per iteration, numbered from 1 as ``train``'s epochs: the cost (and, for a
    classification loss, the training accuracy) at the point the iteration ended at; when
    L-BFGS stopped where it started (``n_iter`` 0: the gradient already within ``tol``), one
    record of that point, so that the last record is always of ``params``."""


def _layout(params: Mapping[str, FloatArray]) -> Layout:
    L = len(params) // 2
    return tuple((f"{p}{l}", tuple(params[f"{p}{l}"].shape)) for l in range(1, L + 1) for p in "Wb")


def flatten_params(params: Mapping[str, FloatArray]) -> Vector:
    """The parameters as one new float64 vector, ``W1, b1, W2, b2, ...`` in layer order (``W10``
    after ``W9``), each array in C order: what L-BFGS-B works on. ``unflatten_params`` undoes it.

    >>> import numpy as np
    >>> flatten_params({"W1": np.array([[1.0, 2.0]]), "b1": np.array([[3.0]])}).tolist()
    [1.0, 2.0, 3.0]
    """
    check.check_params(params, finite=False)  # all of W1, b1, ..., WL, bL: none left out of the vector
    return np.concatenate([params[key].ravel() for key, _ in _layout(params)]).astype(np.float64, copy=False)


def unflatten_params(vector: Vector, like: Mapping[str, FloatArray]) -> dict[str, FloatArray]:
    """``vector`` (``flatten_params``' order) as new arrays shaped and typed like those of ``like``.

    >>> import numpy as np
    >>> like = {"W1": np.zeros((1, 2), np.float32), "b1": np.zeros((1, 1), np.float32)}
    >>> {key: value.tolist() for key, value in unflatten_params(np.array([1.0, 2.0, 3.0]), like).items()}
    {'W1': [[1.0, 2.0]], 'b1': [[3.0]]}
    """
    check.check_params(like, "like", finite=False)
    return _unflatten(_check_vector(vector, like), like)


def _check_vector(vector: npt.ArrayLike, like: Mapping[str, FloatArray]) -> Vector:
    """``vector`` as an array, refused unless it holds one number for each parameter of ``like`` (checked)."""
    total = sum(math.prod(shape) for _, shape in _layout(like))
    shape = np.shape(vector)
    if shape != (total,):
        raise ValueError(f"vector must have shape ({total},), one number for each of the parameters, got shape {shape}")
    return np.asarray(vector, dtype=np.float64)


def _unflatten(vector: Vector, like: Mapping[str, FloatArray]) -> dict[str, FloatArray]:
    """``unflatten_params`` of a vector and parameters already checked: each evaluation's."""
    params: dict[str, FloatArray] = {}
    start = 0
    for key, shape in _layout(like):
        stop = start + math.prod(shape)
        params[key] = vector[start:stop].reshape(shape).astype(like[key].dtype)  # a copy in either dtype
        start = stop
    return params


class _Problem(NamedTuple):
    """The checked data and network an objective is of."""

    X: FloatArray
    Y: FloatArray
    like: Params  # the starting parameters: their keys, shapes and dtype
    activations: tuple[ActivationFunction, ...]
    loss: LossFunction
    lambd: float
    weights: Weights | None
    labels: IntArray | None
    kernel: fused.Kernel


class _Evaluation(NamedTuple):
    cost: float
    gradient: Vector
    AL: FloatArray


def _problem(
    X: object, Y: object, params: Params, activations: object, loss: Loss | LossFunction, lambd: object,
    sample_weight: object, input_divisor: object,
) -> _Problem:  # fmt: skip
    """``train``'s checks, in its words (``training.checked_data``), and ``X`` divided once."""
    (_, records, loss_record), inputs, targets, weights, divisor = checked_data(
        X, Y, params, activations, loss, input_divisor, sample_weight
    )
    lambd = check.check_positive_float("lambd", lambd, allow_zero=True)
    dtype = params["W1"].dtype
    if divisor is not None:  # one batch, every evaluation: converted once, as train's full batch is
        inputs = _divided(inputs, divisor, dtype)
    labels = classification_labels(targets, loss_record)
    return _Problem(inputs, targets, dict(params), records, loss_record, lambd, weights, labels, fused.check_kernel(None))


def _evaluate(problem: _Problem, vector: Vector) -> _Evaluation:
    r"""The one objective: the full-batch cost at ``vector`` and its gradient, as one step of
    ``train`` computes them on the whole data set (``forward``, the weighted or plain mean cost
    plus ``l2_penalty``, ``backward``), the parameters cast to the network's dtype first and
    the gradient back to float64."""
    p = problem
    params = _unflatten(vector, p.like)
    AL, caches = forward(p.X, params, p.activations, kernel=p.kernel)
    if p.weights is None:
        data_cost, size = cost_value(p.loss, AL, p.Y), float(p.X.shape[1])
    else:
        data_cost, size = weighted_cost_value(p.loss, AL, p.Y, p.weights), float(np.sum(p.weights))
    cost = data_cost + l2_penalty(params, p.lambd, size)
    grads = backward(AL, p.Y, caches, p.loss, p.lambd, p.kernel, p.weights)
    gradient = np.concatenate([grads[f"d{key}"].ravel() for key, _ in _layout(p.like)]).astype(np.float64, copy=False)
    return _Evaluation(cost, gradient, AL)


def _cost_and_gradient(problem: _Problem, vector: Vector) -> tuple[float, Vector]:
    evaluation = _evaluate(problem, _check_vector(vector, problem.like))  # objective's: a user's vector
    return evaluation.cost, evaluation.gradient


def objective(
    X: FloatArray | IntArray,
    Y: FloatArray,
    params: Params,
    *,
    activations: Sequence[Activation | ActivationFunction],
    loss: Loss | LossFunction,
    lambd: float = 0.0,
    sample_weight: npt.ArrayLike | None = None,
    input_divisor: float | None = None,
) -> tuple[Callable[[Vector], tuple[float, Vector]], Vector]:
    """The function ``train_lbfgs`` hands L-BFGS-B, and the vector it starts from
    (``flatten_params(params)``): ``f(vector) -> (cost, gradient)``, the full-batch
    ``compute_cost`` (with ``lambd``'s penalty and ``sample_weight``'s weighting) and its
    gradient as a float64 vector. The arguments are checked as ``train_lbfgs`` checks them."""
    problem = _problem(X, Y, params, activations, loss, lambd, sample_weight, input_divisor)
    return functools.partial(_cost_and_gradient, problem), flatten_params(problem.like)


def train_lbfgs(
    X: FloatArray | IntArray,
    Y: FloatArray,
    params: Params,
    *,
    activations: Sequence[Activation | ActivationFunction],
    loss: Loss | LossFunction,
    lambd: float = 0.0,
    max_iter: int = 200,
    tol: float = 1e-4,
    max_fun: int = 15000,
    sample_weight: npt.ArrayLike | None = None,
    input_divisor: float | None = None,
) -> LbfgsResult:
    r"""Minimise the full-batch cost by L-BFGS-B (``scipy.optimize.minimize``), as
    scikit-learn's ``MLPClassifier(solver="lbfgs")`` does.

    The objective is the cost ``train`` minimises over the whole data set, the function of
    the parameters :math:`\theta = (W_1, b_1, \ldots, W_L, b_L)` flattened into one vector
    (``flatten_params``):

    .. math::

        J(\theta) = \frac{1}{S}\sum_{j=1}^{m} w_j\,\ell(a_j(\theta), y_j)
            + \frac{\lambda}{2S}\sum_l \lVert W_l\rVert_F^2, \qquad S = \sum_j w_j

    (:math:`w_j = 1`, :math:`S = m` without ``sample_weight``), exactly ``compute_cost``
    of the network's output, and its gradient :math:`\nabla J`, exactly
    ``backward_propagation``'s. L-BFGS keeps the last few (scipy: 10) pairs of steps
    :math:`s_k = \theta_{k+1} - \theta_k` and gradient changes
    :math:`y_k = \nabla J_{k+1} - \nabla J_k`, from which it builds an approximation of the
    inverse Hessian and so a quasi-Newton direction :math:`-H_k \nabla J_k`; a line search
    along it (satisfying the Wolfe conditions) picks the step, evaluating :math:`J` and
    :math:`\nabla J` once or more per iteration. With no bounds given, L-BFGS-B is plain
    L-BFGS. It stops when the largest component of the gradient is at most ``tol``
    (scipy's ``gtol``), when the cost's relative reduction falls below scipy's ``ftol``
    (about 2.2e-9), or after ``max_iter`` iterations or ``max_fun`` evaluations.

    No learning rate, batches, dropout or generator: the objective is deterministic, as a
    line search needs. Nothing is drawn, so the same arguments give the same result.

    Parameters
    ----------
    X, Y, params, activations, loss, lambd, sample_weight, input_divisor
        As ``train`` takes them, and checked as ``train`` checks them, with its messages
        (shapes, dtypes, finite values, the activations and loss, the loss's targets, the
        weights; a sample of weight 0 left out). ``params`` is the starting point; neither it
        nor the data are written.
    max_iter : int >= 1, default 200
        The most L-BFGS iterations (scipy's ``maxiter``; scikit-learn's ``max_iter``).
    tol : float >= 0, default 1e-4
        Stop once every component of the gradient is at most this in magnitude (scipy's
        ``gtol``; scikit-learn's ``tol`` for ``"lbfgs"``).
    max_fun : int >= 1, default 15000
        The most evaluations of the cost and gradient (scipy's ``maxfun``; scikit-learn's
        ``max_fun``). scipy checks it after an iteration, so it may be passed by a line search's few.

    Returns
    -------
    LbfgsResult
        ``params`` (new arrays in the network's dtype), ``cost``, ``n_iter``, ``n_fun``,
        ``converged`` (``False`` when stopped by ``max_iter`` or ``max_fun``, or by a line
        search that could not go on), scipy's ``message`` and ``history``, the cost (and
        training accuracy) after each iteration.

    Raises
    ------
    TrainingDivergedError
        When L-BFGS ends at non-finite parameters or cost, or at a weight past
        ``weight_bound`` of the network's dtype.

    Notes
    -----
    scipy works in float64: the vector is float64 whatever the network's dtype. A float32
    network is evaluated in float32, each evaluation casting the vector to float32 and the
    gradient back, and ends float32. Its cost is then exact only to float32's roundings,
    relative 1e-7 or so, far above the ``ftol`` at which L-BFGS-B compares successive costs:
    it may stop on a relative reduction that is only rounding (``converged`` is then true,
    with the ``RELATIVE REDUCTION OF F`` message), or at a line search that finds no decrease
    (``ABNORMAL:``; before SciPy 1.15 ``ABNORMAL_TERMINATION_IN_LNSRCH``; not converged),
    before the gradient reaches a small ``tol``. A ``tol`` below about 1e-4 asks for more
    than float32 can tell; train in float64 for tight tolerances. scikit-learn's L-BFGS on float32 data computes with the float64
    parameters scipy hands it.

    Examples
    --------
    The 2-3-1 sigmoid network of the tutorial, on the XOR of two features' signs:

    >>> import numpy as np
    >>> from functional_nn import initialize_parameters, train
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2, 200))
    >>> Y = (X[0:1] * X[1:2] > 0).astype(np.float64)
    >>> params = initialize_parameters([2, 3, 1], rng, scheme="standard_normal")
    >>> result = train_lbfgs(X, Y, params, activations=("sigmoid", "sigmoid"), loss="binary_cross_entropy", max_iter=500)
    >>> result.converged, result.cost < 1e-4, result.params["W1"].shape
    (True, True, (3, 2))

Gradient descent given as many evaluations of the gradient is far from there:

    >>> descent = train(X, Y, params, activations=("sigmoid", "sigmoid"), loss="binary_cross_entropy",
    ...                 epochs=result.n_fun, learning_rate=1.0)
    >>> round(descent.history[-1].cost, 2)
    0.5
    """
    problem = _problem(X, Y, params, activations, loss, lambd, sample_weight, input_divisor)
    max_iter = check.check_positive_int("max_iter", max_iter)
    max_fun = check.check_positive_int("max_fun", max_fun)
    tol = check.check_positive_float("tol", tol, allow_zero=True)
    try:  # the sklearn extra's; not imported with the package
        from scipy.optimize import minimize  # type: ignore[import-untyped]  # untyped
    except ImportError as error:
        raise ImportError(
            'functional_nn.lbfgs needs SciPy, which is not installed; the sklearn extra brings it: pip install -e ".[sklearn]"'
        ) from error

    last: list[tuple[Vector, _Evaluation]] = []  # the last evaluation, which the iteration's end usually is

    def cost_and_gradient(vector: Vector) -> tuple[float, Vector]:
        evaluation = _evaluate(problem, vector)
        last[:] = [(vector.copy(), evaluation)]
        return evaluation.cost, evaluation.gradient

    history: list[EpochRecord] = []

    def record(vector: Vector) -> None:
        seen, evaluation = last[0]
        if not np.array_equal(seen, vector):  # scipy ended the iteration elsewhere: evaluated again
            evaluation = _evaluate(problem, vector)
        p = problem
        accuracy = output_accuracy(evaluation.AL, p.labels, p.activations[-1], p.loss, p.weights)
        history.append(EpochRecord(len(history) + 1, evaluation.cost, accuracy))

    start = flatten_params(problem.like)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):  # a line search's trial may overflow: the result is checked
        result = minimize(
            cost_and_gradient, start, method="L-BFGS-B", jac=True, callback=record,
            options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol},
        )  # fmt: skip
        if not history:  # stopped where it started (within tol, or no lower cost found): that point's figures, so history ends at result.x too
            record(np.asarray(result.x, dtype=np.float64))
    message = str(result.message)
    trained = _unflatten(np.asarray(result.x, dtype=np.float64), problem.like)
    # the cost of result.x: scipy's result.fun is its last evaluation's, which after a failed line
    # search (ABNORMAL) is a rejected trial's while result.x is the iterate before it
    cost = history[-1].cost
    diverged = diverged_parameter(trained)
    if diverged is not None or not math.isfinite(cost):  # a Divergence, which the estimators word in their settings' names
        if diverged is None:
            divergence = Divergence(int(result.nit), None, f"the cost is {cost}", line_search=message.strip())
        else:
            key, what = diverged
            finite, narrow = bool(np.isfinite(trained[key]).all()), trained[key].dtype == np.float32
            divergence = Divergence(int(result.nit), None, f"holds {what}", key, finite, narrow, line_search=message.strip())
        raise TrainingDivergedError(divergence.message(), divergence=divergence)
    return LbfgsResult(trained, cost, int(result.nit), int(result.nfev), bool(result.success), message, tuple(history))

