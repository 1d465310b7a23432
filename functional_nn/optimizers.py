r"""Parameter updates: the tutorials' gradient-descent step and optimizers as pure state transitions.

An optimizer is a pair of pure functions bundled in an ``Optimizer``: ``init(params)`` makes
its state, and ``update(grads, state, params)`` returns ``(new_params, new_state)``. Neither
writes into its arguments, so a training loop is a fold::

    opt = sgd(0.1)
    state = opt.init(params)
    for X_batch, Y_batch in batches:
        AL, caches = forward_propagation(X_batch, params, activations)
        grads = backward_propagation(AL, Y_batch, caches, loss)
        params, state = opt.update(grads, state, params)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from functional_nn import _validation as check
from functional_nn.types import FloatArray, Grads, Params

class OptimizerState(NamedTuple):
    """An optimizer's state: the number of updates made so far and its named slots.

    Each slot is shaped like the parameters (``slots["m"]["W1"]`` is Adam's first moment of
    ``W1``); plain gradient descent has none. States are never mutated: ``update`` returns a
    new one.
    """

    step: int
    slots: Mapping[str, Mapping[str, FloatArray]]


class Optimizer(NamedTuple):
    """A pure optimizer: ``init(params) -> state`` and ``update(grads, state, params) -> (params, state)``.

    ``name`` and ``hyperparameters`` describe it for logs and checkpoints.
    """

    init: Callable[[Params], OptimizerState]
    update: Callable[[Grads, OptimizerState, Params], tuple[dict[str, FloatArray], OptimizerState]]
    name: str = "optimizer"
    hyperparameters: tuple[tuple[str, float], ...] = ()


def update_parameters(params: Params, grads: Grads, learning_rate: float) -> dict[str, FloatArray]:
    r"""One step of gradient descent: :math:`W_l \leftarrow W_l - \alpha\, dW_l`, :math:`b_l \leftarrow b_l - \alpha\, db_l`.

    Parameters
    ----------
    params : dict of str to ndarray
        ``"W1"``, ``"b1"``, ...; not modified.
    grads : dict of str to ndarray
        ``"dW1"``, ``"db1"``, ...: shaped like the parameters.
    learning_rate : float
        :math:`\alpha > 0`.

    Returns
    -------
    params : dict of str to ndarray
        A new dict of new arrays, in the parameters' dtype.
    """
    check.check_params(params)
    learning_rate = check.check_positive_float("learning_rate", learning_rate)
    check_grads(grads, params)
    return sgd_step(params, grads, learning_rate)


def check_grads(grads: object, params: Params) -> None:
    """Refuse grads that do not match the params key for key, shape for shape, dtype for dtype."""
    if not isinstance(grads, Mapping):
        raise TypeError(f"grads must be a mapping of 'dW1', 'db1', ... to arrays, got {type(grads).__name__}")
    expected = {"d" + key for key in params}
    keys = set(grads)
    if keys != expected:
        raise ValueError(
            f"grads must have exactly the keys {sorted(expected)}, got {sorted(keys)}"
            f" (missing {sorted(expected - keys)}, unexpected {sorted(keys - expected)})"
        )
    for key, value in params.items():
        grad = check.check_float_array(f"grads['d{key}']", grads["d" + key])
        if grad.shape != value.shape:
            raise ValueError(f"grads['d{key}'] has shape {grad.shape} but params['{key}'] is {value.shape}")
        check.check_same_dtype(f"grads['d{key}']", grad, value.dtype, f"params['{key}']")


def sgd_step(params: Params, grads: Grads, learning_rate: float) -> dict[str, FloatArray]:
    """Unchecked kernel of ``update_parameters``."""
    new_params: dict[str, FloatArray] = {}
    for key, value in params.items():
        new_params[key] = value - value.dtype.type(learning_rate) * grads["d" + key]
    return new_params


def sgd(learning_rate: float) -> Optimizer:
    r"""Plain (stochastic) gradient descent, :math:`\theta \leftarrow \theta - \alpha\, d\theta`; no slots."""
    learning_rate = check.check_positive_float("learning_rate", learning_rate)

    def init(params: Params) -> OptimizerState:
        return OptimizerState(step=0, slots={})

    def update(grads: Grads, state: OptimizerState, params: Params) -> tuple[dict[str, FloatArray], OptimizerState]:
        return sgd_step(params, grads, learning_rate), OptimizerState(step=state.step + 1, slots={})

    return Optimizer(init, update, "sgd", (("learning_rate", learning_rate),))
