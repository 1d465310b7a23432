"""Type aliases shared by the whole library.

Samples are columns: ``X`` is ``(n_0, m)``, ``W{l}`` is ``(n_l, n_{l-1})``, ``b{l}`` is
``(n_l, 1)`` and ``AL``, ``Y`` are ``(n_L, m)``. Shapes live in docstrings; these aliases
fix the dtypes and the names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.floating[Any]]
"""A float32 or float64 array; a network keeps the dtype of its parameters."""

IntArray: TypeAlias = npt.NDArray[np.integer[Any]]
"""Integer class labels or indices."""

BoolArray: TypeAlias = npt.NDArray[np.bool_]
"""A mask: dropout's kept units, saturated units."""

Params: TypeAlias = Mapping[str, FloatArray]
"""``"W1"``, ``"b1"``, ..., ``"WL"``, ``"bL"``: weights ``(n_l, n_{l-1})``, biases ``(n_l, 1)``."""

Grads: TypeAlias = Mapping[str, FloatArray]
"""``"dW1"``, ``"db1"``, ...: each shaped like the parameter it belongs to."""

Activation: TypeAlias = Literal[
    "linear", "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "gelu", "silu", "elu", "softplus"
]
Loss: TypeAlias = Literal["binary_cross_entropy", "categorical_cross_entropy", "mean_squared_error", "hinge"]
InitScheme: TypeAlias = Literal["standard_normal", "uniform", "scaled_normal", "he", "xavier"]
FloatDType: TypeAlias = type[np.floating[Any]]
"""numpy.float32 or numpy.float64 (others are refused at run time)."""
FloatDTypeLike: TypeAlias = FloatDType | np.dtype[np.floating[Any]]
"""What a ``dtype=`` argument takes: numpy.float32 or numpy.float64, or its ``numpy.dtype``
(``X.dtype``); others are refused at run time."""

Forward: TypeAlias = Callable[[FloatArray], FloatArray]
"""``forward(Z) -> A``: shape and dtype of ``Z`` kept, ``Z`` never written."""
Backward: TypeAlias = Callable[[FloatArray, FloatArray, FloatArray], FloatArray]
"""``backward(dA, Z, A) -> dZ``, with ``dZ = dA * g'(Z)`` for an elementwise ``g``."""
LossValue: TypeAlias = Callable[[FloatArray, FloatArray], float]
"""``cost(AL, Y) -> float``: the mean over the ``m`` columns of the per-sample loss."""
LossGradient: TypeAlias = Callable[[FloatArray, FloatArray], FloatArray]
"""``gradient(AL, Y) -> dAL``: the per-sample gradient (no ``1/m``); ``AL`` and ``Y`` never written."""
SampleCosts: TypeAlias = Callable[[FloatArray, FloatArray], npt.NDArray[np.floating[Any]]]
"""``sample_costs(AL, Y) -> (m,)``: each column's loss, whose mean is the cost; ``AL`` and ``Y`` never written."""


def record_repr(record: tuple[Any, ...]) -> str:
    """A record's repr with every array shown as its dtype and shape, for records that hold
    parameter-sized arrays (``TrainState``, ``OptimizerState``, ``LayerCache``, ...).

    NumPy prints an array of up to 1,000 entries in full, one line per row, so the default
    repr of a ``TrainState`` of a 784-512-256-10 network ran to thousands of lines (every
    bias, moment and average ``(n_l, 1)``); in a notebook that is what ``train(...)`` as a
    cell's last line showed. Tuples of more than six items (a long ``history``) show their
    first three and last two. Arrays of at most ``_SHOWN_IN_FULL`` entries show their values.
    """
    names: tuple[str, ...] = getattr(record, "_fields")
    fields = ", ".join(f"{name}={_summary(value)}" for name, value in zip(names, record))
    return f"{type(record).__name__}({fields})"


_SHOWN_IN_FULL = 6
"""Arrays of at most this many entries (a 2-3-1 network's ``W1``) are shown with their values, on one line."""


def _summary(value: object) -> str:
    if isinstance(value, np.ndarray):
        if value.size <= _SHOWN_IN_FULL:  # a tutorial's 2-3-1 network: its numbers are what a learner looks for
            return " ".join(repr(value).split())
        return f"<{value.dtype} array of shape {value.shape}>"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key!r}: {_summary(item)}" for key, item in value.items()) + "}"
    if type(value) is tuple:  # records have their own repr
        items = [_summary(item) for item in value]
        if len(items) > 6:
            items = [*items[:3], f"... {len(items) - 5} more ...", *items[-2:]]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    return repr(value)


class ActivationFunction(NamedTuple):
    r"""An activation :math:`A = g(Z)`: the built-ins are records of this type, and so is yours.

    Pass a record wherever an activation name is accepted (``forward_propagation``, ``train``,
    ``predict``, ...). Check a record of your own with ``check_activation`` before training.

    Attributes
    ----------
    name : str
        Recorded in saved parameters and checkpoints; must not be a built-in name unless
        the record is that built-in.
    forward : callable ``(Z) -> A``
        ``Z`` and ``A`` of shape ``(n_l, m)`` in one dtype; ``Z`` is never written.
    backward : callable ``(dA, Z, A) -> dZ``
        The vector-Jacobian product :math:`dZ = dA \odot g'(Z)` (for a function that couples
        the units of a column, such as softmax, the full product), given the forward pass's
        ``Z`` and ``A`` so nothing is computed twice. Writes into none of its arguments.
    output_range : (float, float), default (-inf, inf)
        Closed bounds of :math:`g(z)` over finite :math:`z`; a loss that needs outputs in
        [0, 1] refuses an output activation whose range is wider.
    backward_in_place : callable ``(dA, Z, A) -> dZ``, optional
        The same values as ``backward``, but it may overwrite ``dA`` and return it, which
        saves an array per layer; the backward kernel calls it only on a ``dA`` it has just
        made. ``None``: ``backward`` is used.
    """

    name: str
    forward: Forward
    backward: Backward
    output_range: tuple[float, float] = (-np.inf, np.inf)
    backward_in_place: Backward | None = None


class LossFunction(NamedTuple):
    r"""A loss: its value, its gradient with respect to ``AL``, and how it meets the output layer.

    The built-in losses are records of this type, and so is yours; pass one wherever a loss
    name is accepted. Check a record of your own with ``check_loss`` before training.

    Attributes
    ----------
    name : str
        Recorded in checkpoints; must not be a built-in name unless the record is that built-in.
    cost : callable ``(AL, Y) -> float``
        :math:`J = \frac{1}{m}\sum_j \ell(a_j, y_j)` for ``AL``, ``Y`` of shape ``(n_L, m)``.
    gradient : callable ``(AL, Y) -> dAL``
        :math:`\partial \ell / \partial a` per sample, without the :math:`1/m`, an array of
        ``AL``'s shape and dtype; it may be one of its arguments (the gradient of
        :math:`\frac{1}{m}\sum y a` is ``Y``): the backward pass scales a copy.
    probability_output : bool, default False
        ``AL`` must lie in [0, 1]: an output activation with a wider ``output_range`` is refused.
    fused_activation : ActivationFunction, optional
        The output activation with which :math:`dZ_L = A_L - Y` exactly (sigmoid for binary,
        softmax for categorical cross-entropy); with that very record as the last layer,
        ``backward`` uses it instead of the chain rule. ``None``: always the chain rule.
    decision_threshold : float, optional
        For a classification loss: a single output unit predicts class 1 where
        :math:`a \ge` this (0.5 for probabilities, 0 for the hinge loss), which ``train``
        uses for its accuracies (several units under softmax: the largest wins; several of
        their own, multi-label: a sample counts when every unit is on its label's side of
        this, see ``propagation.count_correct``). ``None``: a regression
        loss, no accuracy.
    sample_costs : callable ``(AL, Y) -> (m,)``, optional
        :math:`\ell(a_j, y_j)` of each column, whose mean is ``cost``: what training with
        ``sample_weight`` weighs (see ``functional_nn.sample_weights``). Every built-in loss
        has one; ``None``: the loss cannot be trained with sample weights.
    """

    name: str
    cost: LossValue
    gradient: LossGradient
    probability_output: bool = False
    fused_activation: ActivationFunction | None = None
    decision_threshold: float | None = None
    sample_costs: SampleCosts | None = None


class LayerCache(NamedTuple):
    """What layer ``l`` remembers from the forward pass for the backward pass.

    ``A`` is the activation before dropout; ``dropout_mask`` is ``None`` when the layer
    drops nothing, else the inverted-dropout mask already divided by the keep probability,
    so the layer's output was ``A * dropout_mask``.
    """

    A_prev: FloatArray  # (n_{l-1}, m)
    W: FloatArray  # (n_l, n_{l-1})
    Z: FloatArray  # (n_l, m)
    A: FloatArray  # (n_l, m)
    activation: ActivationFunction
    dropout_mask: FloatArray | None = None  # (n_l, m)

    def __repr__(self) -> str:
        return record_repr(self)


Caches: TypeAlias = tuple[LayerCache, ...]
"""``caches[l - 1]`` belongs to layer ``l``."""
