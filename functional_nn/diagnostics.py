r"""Per-layer diagnostics: what each layer's values and gradients look like at one step.

The backward pass multiplies by :math:`W_l^\top` and by :math:`g'(Z_{l-1})` at every layer,

.. math:: dZ_{l-1} = (W_l^\top dZ_l) \odot g_{l-1}'(Z_{l-1}),

so when the weights are large and the units saturated (:math:`g' \approx 0`) the gradients of
the first layers shrink layer after layer and those layers stop learning. ``layer_statistics``
measures the quantities that show it, from the values a step already has (its caches, its
gradients and the parameters its update made); ``layer_statistics_observer`` records them
while ``train`` runs. Everything here is a pure function of its arguments, which it never
modifies.

Which outputs count as *saturated* is read from the activation's output range
(``ActivationFunction.output_range``), not from a list of names, so a record of your own
is read like the built-ins:

- a range bounded on both sides (sigmoid :math:`[0, 1]`, tanh :math:`[-1, 1]`, softmax):
  the function flattens as it nears a bound, so an output within ``margin`` (0.01) of a bound
  is saturated;
- a range bounded on one side (ReLU :math:`[0, \infty)`): the function is flat on that side,
  at its limit there, so only an output exactly at that limit is (its gradient is 0). The limit
  is read as :math:`g(-\infty)` or :math:`g(\infty)`, whichever is finite and in the range
  (the nearer to the bound if both are): ReLU's 0, ELU's -1, and 0 for GELU and SiLU, whose
  bounds are a minimum inside the range (-0.17 and -0.28) that no output reaches; the bound
  itself when neither is (``flat_level``);
- an unbounded range (linear, leaky ReLU): nothing saturates, and the fractions are ``None``.

A unit is *dead* when its output is saturated for every sample of the batch: a ReLU that is
0 for every sample, a sigmoid stuck within 0.01 of 0 or 1. No gradient reaches its weights
from this batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from functional_nn import _validation as check
from functional_nn.activations import resolve_activation
from functional_nn.fold_state import BatchProgress, Observer, StepView
from functional_nn.propagation import check_caches
from functional_nn.types import Activation, ActivationFunction, BoolArray, Caches, FloatArray, Grads, Params

SATURATION_MARGIN = 0.01
"""How close to a bound of a bounded activation an output must be to count as saturated."""


class LayerStatistics(NamedTuple):
    r"""The figures of layer ``l`` at one step.

    ``z_mean``, ``z_std``, ``a_mean``, ``a_std`` are the mean and standard deviation over
    every entry of :math:`Z_l` and :math:`A_l` (``(n_l, m)``, ``A`` before dropout).
    ``saturated_fraction`` is the fraction of the entries of :math:`A_l` that are saturated
    and ``dead_fraction`` the fraction of the ``n_l`` units saturated for every sample (see
    the module's docstring); both are ``None`` for an activation whose range is unbounded.
    ``weight_norm`` is :math:`\lVert W_l \rVert_F` of the parameters after the update,
    ``gradient_norm`` is :math:`\lVert dW_l \rVert_F`, and ``update_ratio`` is the size of the
    update relative to the weights it changed,
    :math:`\lVert W_l^{new} - W_l^{old} \rVert_F / \lVert W_l^{old} \rVert_F` (``inf`` when
    :math:`W_l^{old} = 0` and the update is not).
    """

    layer: int
    activation: str  # the activation's name
    z_mean: float
    z_std: float
    a_mean: float
    a_std: float
    saturated_fraction: float | None
    dead_fraction: float | None
    weight_norm: float
    gradient_norm: float
    update_ratio: float


class StepStatistics(NamedTuple):
    """``layer_statistics`` at one step of a training run: ``layers[l - 1]`` is layer ``l``."""

    progress: BatchProgress
    layers: tuple[LayerStatistics, ...]


def saturated(A: FloatArray, activation: Activation | ActivationFunction, margin: float = SATURATION_MARGIN) -> BoolArray | None:
    """Where the outputs ``A`` of an activation are saturated; ``None`` if it cannot saturate.

    Parameters
    ----------
    A : ndarray of shape (n_l, m)
        The activation's outputs.
    activation : str or ActivationFunction
        A built-in's name or a record, yours or a built-in; its ``output_range`` decides
        (see the module's docstring).
    margin : float >= 0, default 0.01
        How close to a bound of a range bounded on both sides counts as saturated.

    Returns
    -------
    mask : ndarray of bool, shape (n_l, m), or None
    """
    A = check.check_float_array("A", A, finite=False)  # NaN and inf: the values being diagnosed
    record = resolve_activation("activation", activation)
    low, high = record.output_range
    margin = check.check_positive_float("margin", margin, allow_zero=True)
    if math.isinf(low) and math.isinf(high):
        return None
    if math.isfinite(low) and math.isfinite(high):
        mask: BoolArray = (A <= low + margin) | (A >= high - margin)
        return mask
    level = flat_level(record, A.dtype)
    assert level is not None  # bounded on one side
    flat: BoolArray = A == level
    return flat


def flat_level(activation: Activation | ActivationFunction, dtype: npt.DTypeLike = np.float64) -> float | None:
    r"""The output at which an activation whose range is bounded on one side is flat; else ``None``.

    Of :math:`g(-\infty)` and :math:`g(\infty)` (computed in ``dtype``), the one that is finite
    and lies in ``output_range``, the nearer to the bound if both do; the bound itself if
    neither does. ReLU and softplus: 0; ELU: -1; GELU and SiLU: 0, not their bounds -0.17 and
    -0.28, which are minima that no output reaches and where the functions are not flat.
    """
    record = resolve_activation("activation", activation)
    low, high = record.output_range
    if math.isfinite(low) == math.isfinite(high):
        return None
    bound = low if math.isfinite(low) else high
    try:
        with np.errstate(all="ignore"):
            limits = np.asarray(record.forward(np.array([[-np.inf, np.inf]], dtype=dtype)), dtype=np.float64).ravel()
    except Exception:  # noqa: BLE001 - a forward of one's own that refuses infinities: its bound, as before
        return bound
    inside = [float(v) for v in limits if math.isfinite(v) and low <= v <= high]
    return min(inside, key=lambda v: abs(v - bound)) + 0.0 if inside else bound  # + 0.0: -0.0 (GELU) as 0


def layer_statistics(
    caches: Caches, grads: Grads, params: Params, *, margin: float = SATURATION_MARGIN
) -> tuple[LayerStatistics, ...]:
    r"""Per layer: the spread of :math:`Z_l` and :math:`A_l`, saturated and dead units, and the
    norms of the weights, of their gradient and of the last update.

    Parameters
    ----------
    caches : tuple of LayerCache, length L
        From ``forward_propagation`` on a batch; ``caches[l - 1].W`` are the weights the
        forward pass used (before the update).
    grads : dict of str to ndarray
        ``backward_propagation``'s gradients for that batch: ``"dW1"`` ``(n_1, n_0)``, ...
    params : dict of str to ndarray
        The parameters after the update that used ``grads``: ``"W1"`` ``(n_1, n_0)``, ...
        Passing the parameters the forward pass used gives an ``update_ratio`` of 0. Both
        ``grads`` and ``params`` in the dtype of the caches' arrays.
    margin : float >= 0, default 0.01
        See ``saturated``.

    Returns
    -------
    tuple of LayerStatistics, length L
        ``[l - 1]`` describes layer ``l``.

    Examples
    --------
    >>> import numpy as np
    >>> from functional_nn import backward_propagation, forward_propagation, initialize_parameters, update_parameters
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.standard_normal((3, 8)), (rng.random((1, 8)) < 0.5).astype(float)
    >>> params = initialize_parameters([3, 4, 1], rng)
    >>> AL, caches = forward_propagation(X, params, ("relu", "sigmoid"))
    >>> grads = backward_propagation(AL, Y, caches, "binary_cross_entropy")
    >>> stats = layer_statistics(caches, grads, update_parameters(params, grads, 0.1))
    >>> [s.layer for s in stats], stats[0].activation
    ([1, 2], 'relu')
    """
    caches = check_caches(caches)
    margin = check.check_positive_float("margin", margin, allow_zero=True)
    L = len(caches)
    # typed, but users pass what they like
    given: tuple[tuple[str, object, str], ...] = (("grads", grads, "dW"), ("params", params, "W"))
    for name, arrays, prefix in given:
        if not isinstance(arrays, Mapping):
            raise TypeError(f"{name} must be a mapping of '{prefix}1', ... to arrays, got {type(arrays).__name__}")
        for l, cache in enumerate(caches, start=1):
            key = f"{prefix}{l}"
            if key not in arrays:
                raise ValueError(f"{name} has no {key!r}: the caches describe {L} layers")
            array = check.check_float_array(f"{name}[{key!r}]", arrays[key], finite=False)
            check.check_same_dtype(f"{name}[{key!r}]", array, cache.W.dtype, f"the caches' W{l}")
            if arrays[key].shape != cache.W.shape:
                raise ValueError(f"{name}[{key!r}] has shape {arrays[key].shape} but layer {l}'s W is {cache.W.shape}")
    statistics = []
    for l, cache in enumerate(caches, start=1):
        mask = saturated(cache.A, cache.activation, margin)
        W_old, W_new = cache.W, params[f"W{l}"]
        old_norm = _norm(W_old)
        step = _norm(np.subtract(W_new, W_old, dtype=np.float64))  # float32 weights may differ by more than float32 holds
        statistics.append(
            LayerStatistics(
                layer=l,
                activation=cache.activation.name,
                # in float64: float32 sums and squares of large values would overflow
                z_mean=float(np.mean(cache.Z, dtype=np.float64)),
                z_std=float(np.std(cache.Z, dtype=np.float64)),
                a_mean=float(np.mean(cache.A, dtype=np.float64)),
                a_std=float(np.std(cache.A, dtype=np.float64)),
                saturated_fraction=None if mask is None else float(np.mean(mask)),
                dead_fraction=None if mask is None else float(np.mean(mask.all(axis=1))),
                weight_norm=_norm(W_new),
                gradient_norm=_norm(grads[f"dW{l}"]),
                update_ratio=step / old_norm if old_norm else (0.0 if step == 0 else math.inf),
            )
        )
    return tuple(statistics)


def _norm(array: FloatArray) -> float:
    r"""The Frobenius norm :math:`\sqrt{\sum_{ij} a_{ij}^2}`, in float64: the squares of float32
    entries beyond 1.8e19 would overflow float32."""
    return float(np.linalg.norm(np.asarray(array, dtype=np.float64)))


def layer_statistics_observer(
    record: Callable[[StepStatistics], object], *, every: int | None = None, margin: float = SATURATION_MARGIN
) -> Observer:
    """An ``Observer`` for ``train``'s ``on_batch`` that computes ``layer_statistics`` as it goes.

    Parameters
    ----------
    record : callable
        Called with a ``StepStatistics`` for every step observed, e.g. ``log.append``.
    every : int >= 1, optional
        Observe every ``every``-th update of the run; by default the last update of every
        epoch.
    margin : float >= 0, default 0.01
        See ``saturated``.

    Returns
    -------
    Observer

    Examples
    --------
    >>> log: list[StepStatistics] = []
    >>> state = train(X, Y, params, ..., on_batch=layer_statistics_observer(log.append, every=10))  # doctest: +SKIP
    >>> [s.layers[0].gradient_norm for s in log]                                                   # doctest: +SKIP
    """
    if not callable(record):
        raise TypeError(f"record must be a function of a StepStatistics, such as log.append, got {type(record).__name__}")
    margin = check.check_positive_float("margin", margin, allow_zero=True)
    if every is not None:
        every = check.check_positive_int("every", every)

    def observe(view: StepView) -> None:
        record(StepStatistics(view.progress, layer_statistics(view.caches, view.grads, view.params, margin=margin)))

    return Observer(observe, every)
