r"""Checking ``backward_propagation`` against centred finite differences of ``compute_cost``."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np

from functional_nn import _validation as check
from functional_nn.losses import l2_penalty, resolve_loss
from functional_nn.propagation import (
    backward,
    check_activations,
    check_keep_probs,
    check_loss_pairing,
    forward,
)
from functional_nn.types import Activation, ActivationFunction, FloatArray, Loss, LossFunction, Params


def numerical_gradient(
    X: FloatArray,
    Y: FloatArray,
    params: Params,
    activations: Sequence[Activation | ActivationFunction],
    loss: Loss | LossFunction,
    *,
    epsilon: float = 1e-7,
    lambd: float = 0.0,
    keep_probs: Sequence[float] | None = None,
    rng: np.random.Generator | None = None,
) -> dict[str, FloatArray]:
    r"""Centred differences :math:`(J(\theta + \varepsilon e_i) - J(\theta - \varepsilon e_i)) / 2\varepsilon`
    for every entry of every parameter, in float64. Keys ``"dW1"``, ``"db1"``, ...

    With dropout, every evaluation draws its masks from a copy of ``rng`` in the same state, so
    the masks are held fixed. Arguments are not checked here, only names resolved to their
    records; ``gradient_check`` checks them.
    """
    records = check_activations(activations, len(activations))
    loss_record = resolve_loss("loss", loss)
    P = {key: value.astype(np.float64) for key, value in params.items()}
    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)
    m = X.shape[1]

    def cost(candidate: Params) -> float:
        AL, _ = forward(X64, candidate, records, keep_probs, copy.deepcopy(rng))
        return loss_record.cost(AL, Y64) + l2_penalty(candidate, lambd, m)

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
) -> float:
    r"""The relative difference between backpropagation's gradient and the numerical one.

    .. math::

        \frac{\lVert g - \tilde g\rVert_2}{\lVert g\rVert_2 + \lVert \tilde g\rVert_2}

    over all parameters stacked into one vector, everything evaluated in float64. Below about
    ``1e-7`` the gradient is right; above ``1e-3`` something is wrong. Costs two forward passes
    per parameter entry: use a small network and a few samples.

    Parameters
    ----------
    X : ndarray of shape (n_0, m)
    Y : ndarray of shape (n_L, m)
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

    Returns
    -------
    difference : float
    """
    sizes = check.check_params(params)
    L = len(sizes) - 1
    names = check_activations(activations, L)
    record = resolve_loss("loss", loss)
    check_loss_pairing(record, names[-1])
    X = check.check_float_array("X", X)
    Y = check.check_float_array("Y", Y)
    check.check_samples("X", X)
    if X.shape[0] != sizes[0]:
        raise ValueError(f"X has {X.shape[0]} rows but W1 {params['W1'].shape} expects {sizes[0]}")
    if Y.shape != (sizes[-1], X.shape[1]):
        raise ValueError(f"Y must have shape {(sizes[-1], X.shape[1])} (n_L, m), got {Y.shape}")
    epsilon = check.check_positive_float("epsilon", epsilon)
    lambd = check.check_positive_float("lambd", lambd, allow_zero=True)
    keeps = check_keep_probs(keep_probs, L)
    if keeps is not None and not isinstance(rng, np.random.Generator):
        raise TypeError("gradient_check needs rng, a numpy.random.Generator, when keep_probs < 1")

    P = {key: value.astype(np.float64) for key, value in params.items()}
    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)
    AL, caches = forward(X64, P, names, keeps, copy.deepcopy(rng))
    analytic = backward(AL, Y64, caches, record, lambd)
    numeric = numerical_gradient(X64, Y64, P, names, record, epsilon=epsilon, lambd=lambd, keep_probs=keeps, rng=rng)
    g = np.concatenate([analytic[key].ravel() for key in analytic])
    g_tilde = np.concatenate([numeric[key].ravel() for key in analytic])
    denominator = float(np.linalg.norm(g) + np.linalg.norm(g_tilde))
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(g - g_tilde)) / denominator
