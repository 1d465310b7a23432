r"""Weight averaging: an exponential moving average of the parameters (Polyak averaging).

``ema(optimizer, decay)`` wraps any optimizer: the wrapped one updates the parameters as
before, and its state carries, in one more slot, ``"average"``, a moving average of the
parameters it returned. The average is plain optimizer state: ``update`` makes a new,
read-only array each step and writes into none it was given, while ``update_in_place``
moves the average in place, as it does the parameters and slots, on the copies that
``train`` makes for itself and has handed to nobody (see ``ema``'s Notes). Either way it sits
in every checkpoint with the other slots and a resumed run continues it bitwise. ``train`` notices the slot: with an ``ema`` optimizer the dev
figures (and early stopping's ``best_params``) are those of the averaged parameters, and
``averaged_params`` gives them for prediction::

    result = train(X, Y, params, ..., optimizer=ema(adam(1e-3), decay=0.999))
    labels = predict(X_test, averaged_params(result.optimizer_state, result.params), activations)

The average is taken as in Optax's ``ema(debias=True)``, written so that the slot itself holds
the debiased value: after update :math:`t`,

.. math::

    \bar\theta_t = \bar\theta_{t-1} + \eta_t\,(\theta_t - \bar\theta_{t-1}), \qquad
    \eta_t = \frac{1 - \beta}{1 - \beta^t}

which equals :math:`\sum_{s \le t} (1 - \beta) \beta^{t - s} \theta_s / (1 - \beta^t)`: the
weights of the parameters after updates :math:`1..t` sum to one, so the first updates are
averaged evenly (:math:`\eta_1 = 1`, :math:`\eta_t \approx 1/t` while :math:`t \ll 1/(1-\beta)`)
and the starting parameters, drawn at random, count for nothing. Later the average forgets
with a time constant of :math:`1 / (1 - \beta)` updates.

Reference: Polyak & Juditsky 1992, "Acceleration of stochastic approximation by averaging".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np

from functional_nn import _validation as check
from functional_nn import fused
from functional_nn.optimizers import (
    Optimizer,
    OptimizerState,
    _check_coefficient,
    _check_writeable,
    _frozen,
    _in_place_form,
    _without_stale_in_place,
)
from functional_nn.types import FloatArray, Grads, Params

AVERAGE_SLOT: Final = "average"
"""The slot of an ``ema`` optimizer's state that holds the averaged parameters."""

__all__ = ["AVERAGE_SLOT", "averaged_params", "ema"]


def ema(optimizer: Optimizer, decay: float = 0.999, *, kernel: fused.Kernel | None = None) -> Optimizer:
    r"""``optimizer``, keeping also an exponential moving average of the parameters it returns.

    Parameters
    ----------
    optimizer : Optimizer
        Any optimizer (``adam(1e-3)``, ``momentum(...)``, ...); its updates are unchanged.
    decay : float in [0, 1), default 0.999
        :math:`\beta`: the average spans about :math:`1 / (1 - \beta)` updates (1000 here,
        about 2.5 epochs of MNIST in batches of 128). 0 keeps the last parameters.
    kernel : {"numpy", "numba"}, optional
        How ``update_in_place`` moves the average (``update`` always uses NumPy's passes):
        Numba's fused loop when Numba is installed, else NumPy's. Bitwise the same.

    Returns
    -------
    Optimizer
        Named ``"ema(<name>)"``, with the hyperparameters of ``optimizer`` and ``ema_decay``.
        Its state holds ``optimizer``'s slots and ``"average"`` (shaped like the parameters,
        in their dtype, read-only); its ``step`` is ``optimizer``'s.

    Notes
    -----
    The average follows the parameters ``update`` returns; a constraint applied after the
    update (``train``'s ``max_norm``) acts on the parameters trained, not on their average.

    When ``optimizer`` has ``update_in_place``, so does this: the wrapped optimizer's update
    in place, then the average moved in place. ``train`` uses it between the mini-batches of
    an epoch, on its own copies; without it every step would make a new average and the
    wrapped optimizer's new parameters and slots, two generations of each alive at once.
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an Optimizer such as adam(1e-3), got {type(optimizer).__name__}")
    optimizer = _without_stale_in_place(optimizer)  # its in-place step must be its update's
    decay = _check_coefficient("decay", decay)
    chosen = fused.check_kernel(kernel)

    def init(params: Params) -> OptimizerState:
        inner = optimizer.init(params)
        if AVERAGE_SLOT in inner.slots:
            raise ValueError(f"{optimizer.name} already keeps a slot named {AVERAGE_SLOT!r}: it cannot be wrapped in ema twice")
        check.check_params(params)
        average = {key: _frozen(value.copy()) for key, value in params.items()}
        return OptimizerState(inner.step, {**inner.slots, AVERAGE_SLOT: average})

    def split(state: OptimizerState) -> tuple[Params, OptimizerState]:
        """The average, and the wrapped optimizer's own state."""
        given: object = state  # typed, but users pass what they like
        slots: object = state.slots if isinstance(given, OptimizerState) else None
        if not isinstance(slots, Mapping) or AVERAGE_SLOT not in slots:
            raise ValueError(f"state must come from ema({optimizer.name})'s init or update: it has no {AVERAGE_SLOT!r} slot")
        inner = OptimizerState(state.step, {name: slot for name, slot in state.slots.items() if name != AVERAGE_SLOT})
        return state.slots[AVERAGE_SLOT], inner

    def rate_after(step: int) -> float:
        """:math:`\\eta_t` of update ``t = step + 1``; a Python float keeps float32 slots float32."""
        t = step + 1
        return (1.0 - decay) / (1.0 - decay**t)

    def update(grads: Grads, state: OptimizerState, params: Params) -> tuple[dict[str, FloatArray], OptimizerState]:
        old_average, inner = split(state)
        new_params, new_inner = optimizer.update(grads, inner, params)  # checks params first
        olds = _averages_like(old_average, new_params)
        rate = rate_after(state.step)
        average: dict[str, FloatArray] = {}
        for key, value in new_params.items():
            old = olds[key]
            new = value - old
            new *= rate  # new is a fresh temporary
            new += old
            average[key] = _frozen(new)
        return new_params, OptimizerState(new_inner.step, {**new_inner.slots, AVERAGE_SLOT: average})

    def update_in_place(grads: Grads, state: OptimizerState, params: Params) -> tuple[dict[str, FloatArray], OptimizerState]:
        assert optimizer.update_in_place is not None  # offered only then
        old_average, inner = split(state)
        _check_writeable(params, state, "ema")  # the average among the slots
        # every check before the first write, so that a refused call leaves its arguments as they were
        averages = _averages_like(old_average, params)
        new_params, new_inner = optimizer.update_in_place(grads, inner, params)
        rate = rate_after(state.step)
        for key, value in new_params.items():
            average = averages[key]
            if chosen == "numba" and fused.fusable(value, average):
                fused.kernel("ema_in_place")(value.reshape(-1), average.reshape(-1), value.dtype.type(rate))
            else:
                step = value - average
                step *= rate
                np.add(average, step, out=average)  # old + new is update's new + old: the same sum
        return new_params, OptimizerState(new_inner.step, {**new_inner.slots, AVERAGE_SLOT: dict(old_average)})

    in_place = _in_place_form(update, update_in_place) if optimizer.update_in_place is not None else None
    return Optimizer(init, update, f"ema({optimizer.name})", optimizer.hyperparameters + (("ema_decay", decay),), in_place)


def _averages_like(average: Params, params: Params) -> dict[str, FloatArray]:
    """The arrays of ``average`` in the order of ``params``, refused unless they match the
    parameters key for key, shape for shape and dtype for dtype."""
    given: object = average  # a state's slot, which users may have built by hand
    if not isinstance(given, Mapping):
        raise TypeError(f"state.slots['{AVERAGE_SLOT}'] must be a mapping of 'W1', 'b1', ... to arrays, got {type(given).__name__}")
    if len(average) != len(params) or not all(key in average for key in params):
        raise ValueError(
            f"params hold {sorted(params)} but state.slots['{AVERAGE_SLOT}'] holds {sorted(average)}: "
            f"initialise the state from these params{check.key_difference(params, average)}"
        )
    olds: dict[str, FloatArray] = {}
    for key, value in params.items():
        old = check.check_float_array(f"state.slots['{AVERAGE_SLOT}'][{key!r}]", average[key], ndim=None, finite=False)
        if old.shape != value.shape or old.dtype != value.dtype:
            raise ValueError(
                f"state.slots['{AVERAGE_SLOT}']['{key}'] is {old.dtype} {old.shape} but params['{key}'] is "
                f"{value.dtype} {value.shape}: initialise the state from these params"
            )
        olds[key] = old
    return olds


def averaged_params(optimizer_state: OptimizerState, params: Params) -> dict[str, FloatArray]:
    """The parameters to evaluate and predict with: the average an ``ema`` optimizer keeps in
    ``optimizer_state``, else ``params`` themselves.

    Parameters
    ----------
    optimizer_state : OptimizerState
        E.g. ``result.optimizer_state`` of ``train``.
    params : dict of str to ndarray
        The trained parameters, e.g. ``result.params``; returned themselves (a ``dict``) when
        the state holds no average, else the average's arrays, which must have their keys,
        shapes and dtype.

    Returns
    -------
    params : dict of str to ndarray
        ``"W1"``, ``"b1"``, ...: read-only arrays when they are the average.
    """
    if not isinstance(optimizer_state, OptimizerState):
        raise TypeError(f"optimizer_state must be an OptimizerState, got {type(optimizer_state).__name__}")
    slots: object = optimizer_state.slots  # typed, but users pass what they like
    if not isinstance(slots, Mapping):
        raise TypeError(f"optimizer_state.slots must be a mapping of slot names to arrays, got {type(slots).__name__}")
    check.check_params(params, finite=False)
    average = optimizer_state.slots.get(AVERAGE_SLOT)
    if average is None:
        return params if isinstance(params, dict) else dict(params)
    return _averages_like(average, params)
