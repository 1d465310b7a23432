r"""Training as a fold: each epoch maps one ``TrainState`` to the next.

``train_epochs`` is the lazily evaluated sequence of states after epochs 1, 2, ...;
``train`` runs it to the end and returns its last state. Nothing is mutated along the way:
every state holds its own parameters, optimizer state and history, so a script can show
progress, log, keep any state it likes, or stop by simply not asking for the next one.

Random draws, in order, from ``rng``: per epoch one ``rng.permutation(m)`` when
``batch_size`` is set, then per mini-batch the augmentation's draws (if any), then the
dropout masks, the input's first (see ``forward_propagation``).

One step on a mini-batch ``(X_B, Y_B)``, exactly as a hand-written loop would write it::

    X_B = augmentation(X_B, rng)                                   # if augmentation is set
    AL, caches = forward_propagation(X_B, params, activations, keep_probs=keep_probs,
                                     input_keep_prob=input_keep_prob, rng=rng)
    grads = backward_propagation(AL, Y_B, caches, loss, lambd=lambd)
    grads = clip_by_global_norm(grads, clip_norm)                  # if clip_norm is set
    params, opt_state = optimizer.update(grads, opt_state, params)
    params = apply_max_norm(params, max_norm)                      # if max_norm is set

Early stopping is part of the fold too: each ``TrainState`` carries the best parameters seen
so far on the monitored dev figure, and the fold ends when patience runs out. With an
optimizer wrapped in ``ema`` (see ``functional_nn.averaging``), the dev figures and
``best_params`` are those of the averaged parameters.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from functional_nn import _validation as check
from functional_nn import checkpoints
from functional_nn import fused
from functional_nn.activations import ACTIVATIONS, SOFTMAX, check_one_record_per_name
from functional_nn.averaging import averaged_params
from functional_nn.data.augmentation import Augmentation
from functional_nn.data.augmentation import describe as describe_augmentation
from functional_nn.data.preparation import _divided, _minibatches
from functional_nn.fold_state import (
    MONITORS,
    Monitor,
    BatchProgress,
    EarlyStopping,
    EpochRecord,
    Observer,
    StepView,
    TrainResult,
    TrainState,
)
from functional_nn.losses import (
    LOSSES,
    check_targets,
    check_weighable,
    cost_value,
    gradient_value,
    l2_penalty,
    targets_in_dtype,
    weighted_cost_value,
)
from functional_nn.optimizers import (
    LearningRate,
    Optimizer,
    OptimizerState,
    _apply_max_norm,
    _check_learning_rate,
    _clip_by_global_norm,
    _params_already_checked,
    _without_stale_in_place,
    call_update,
    check_max_norm,
    check_optimizer_state,
    checked_init,
    freeze_state,
    read_only_view,
    read_only_views,
    sgd,
    writeable_copies,
)
from functional_nn.propagation import (
    CheckedNetwork,
    _activation_backward,
    backward,
    check_input_keep_prob,
    check_keep_probs,
    check_trainable_network,
    correct_columns,
    count_correct,
    forward,
    forward_output,
)
from functional_nn.sample_weights import Weights, check_sample_weight, weighted_mean
from functional_nn.serialization import check_writable_directory, remove_stale_temporaries
from functional_nn.types import Activation, ActivationFunction, Caches, FloatArray, IntArray, Loss, LossFunction, Params

# The fold's value types live in fold_state; they stay importable from here too.
__all__ = [
    "BatchProgress",
    "EarlyStopping",
    "EpochRecord",
    "Monitor",
    "Observer",
    "StepView",
    "TrainResult",
    "TrainState",
    "DIVERGENCE_FACTOR",
    "Divergence",
    "DivergenceWords",
    "TrainingDivergedError",
    "train",
    "train_epochs",
    "weight_bound",
]


class DivergenceWords(NamedTuple):
    """How a ``TrainingDivergedError`` names what to change, in the words of whoever set
    ``train``'s arguments: by default ``train``'s own. A wrapper whose user set them through
    settings of its own passes its words to ``TrainingDivergedError.worded`` (the estimators of
    ``functional_nn.sklearn`` name ``learning_rate``, ``coefs_[0]`` and ``dtype='float64'``)."""

    learning_rate: str = "learning rate"
    """What sets the step size, as in "try a smaller learning rate"."""
    parameter: Callable[[str], str] = str
    """A parameter's name from its key (``"W1"``)."""
    wider_dtype: str = "use float64 params"
    """How to train in float64, for a float32 weight past its bound."""
    data: str = "the data"
    """What holds the samples and targets, as in "check the data for extreme values"."""
    epochs_before: int = 0
    """Epochs the wrapper ran before this ``train`` call, which counts its own from 1: a
    continued fit (the estimators' ``warm_start`` and ``partial_fit``) names the epoch as its
    ``history_`` numbers it, and this call's own number after it."""


class Divergence(NamedTuple):
    """What ``run_epoch`` (or ``lbfgs.train_lbfgs``) found when training diverged, for ``TrainingDivergedError.worded``:
    where (``epoch``, and the ``step`` of a cost that was not finite), what (``finding``, said
    after the name of ``parameter`` when a parameter ran away) and whether the parameter's
    values are ``finite`` (then past the bound of their dtype: rescaling the data may help)
    in float32 (``narrow``: float64 may help). ``cause``: a piece of one's own at fault, which
    is said instead of advice on the settings. ``first_cost``: for a cost that grew past
    ``DIVERGENCE_FACTOR`` times the first epoch's, that first cost (of this ``train`` call)."""

    epoch: int
    step: int | None
    finding: str
    parameter: str | None = None
    finite: bool = False
    narrow: bool = False
    cause: str | None = None
    first_cost: float | None = None
    line_search: str | None = None
    """scipy's message when L-BFGS (``lbfgs.train_lbfgs``) ended there: ``epoch`` is then its
    iteration, and the advice names no learning rate, which L-BFGS has none of."""

    def message(self, words: DivergenceWords = DivergenceWords()) -> str:
        """``TrainingDivergedError``'s message, in ``words`` (by default ``train``'s own)."""
        unit = "epoch" if self.line_search is None else "iteration"
        where = f"{unit} {self.epoch + words.epochs_before}"
        if words.epochs_before:  # "the first epoch's" cost, if named, is this call's first
            where += f" (this fit's {unit} {self.epoch})"
        if self.step is not None:
            where += f", step {self.step}"
        subject = "" if self.parameter is None else f"{words.parameter(self.parameter)} "
        finding = self.finding
        if self.first_cost is not None:  # said as this call's first epoch when a wrapper counts on from earlier ones
            first = "this fit's first epoch's" if words.epochs_before else "the first epoch's"
            # a first cost below 1 counts as 1: say so, rather than call 1 the first epoch's cost
            against = f"{first} {self.first_cost:.4g}" if self.first_cost >= 1 else f"1 ({first} cost, {self.first_cost:.4g}, counts as 1)"
            finding += f", more than {DIVERGENCE_FACTOR:g} times {against}"
        stepped = self.line_search is None  # a step size to make smaller
        if self.cause is not None:
            advice = self.cause
        elif self.parameter is None:
            advice = f"check {words.data} for extreme values"
            if stepped:
                advice = f"try a smaller {words.learning_rate} (or {advice})"
        else:
            advice = _advice(self.finite, self.narrow, words, stepped=stepped)
        if not stepped:
            return f"L-BFGS ended at {where} ({self.line_search}) where {subject}{finding}; {advice}"
        return f"training diverged at {where}: {subject}{finding}; {advice}"


class TrainingDivergedError(FloatingPointError):
    """Training ran away: the cost or the parameters became NaN or infinite, the epoch's cost
    grew past ``DIVERGENCE_FACTOR`` times the first epoch's, or a weight passed the dtype's
    bound ``1 / eps`` (see ``run_epoch``).

    ``divergence``: what ``run_epoch`` found, from which ``worded`` says the message again in
    a wrapper's words (``None`` for an error raised elsewhere)."""

    def __init__(self, message: str, *, divergence: Divergence | None = None) -> None:
        super().__init__(message)
        self.divergence = divergence

    def worded(self, words: DivergenceWords) -> TrainingDivergedError:
        """A new error saying this one in ``words`` (raise it ``from`` this one); one with this
        one's message when it records no ``divergence``."""
        message = str(self) if self.divergence is None else self.divergence.message(words)
        return TrainingDivergedError(message, divergence=self.divergence)


def _diverged(divergence: Divergence) -> TrainingDivergedError:
    return TrainingDivergedError(divergence.message(), divergence=divergence)


DIVERGENCE_FACTOR: Final = 1e4
"""An epoch whose mean cost exceeds this many times ``max(first epoch's cost, 1)`` diverged."""


def weight_bound(dtype: np.dtype[Any]) -> float:
    r"""The largest magnitude a trained parameter may reach in ``dtype``: :math:`1/\epsilon`.

    There the spacing of the dtype's numbers reaches 1, so a step of order 1 is rounded to a
    whole number (and from :math:`2/\epsilon`, where the spacing is 2, ``w + 1 == w`` for even
    ``w``): training is losing the ability to move the weight finely. About 8.4e6 in float32,
    4.5e15 in float64.
    """
    return 1.0 / float(np.finfo(dtype).eps)


def _check_divergence(
    epoch: int, cost: float, first_cost: float | None, params: Params, last_step: _LastStep | None = None
) -> None:
    """Once per epoch, so it costs nothing per step: the cost against the first epoch's,
    and one scan of the parameters (which finds NaN and inf too: they fail ``peak <= bound``).
    ``last_step``: the loss, targets and caches of the epoch's last step, whose update made
    NaN or inf parameters (a backward pass of one's own is named, ``_own_backward_cause``)."""
    first = cost if first_cost is None else first_cost
    reference = max(first, 1.0)
    if cost > DIVERGENCE_FACTOR * reference:
        raise _diverged(Divergence(epoch, None, f"the cost is {cost:.4g}", first_cost=first))
    diverged = diverged_parameter(params)
    if diverged is not None:
        key, what = diverged
        value = params[key]
        finite, narrow = bool(np.isfinite(value).all()), value.dtype == np.float32
        cause = None if finite or last_step is None else _own_backward_cause(*last_step)
        raise _diverged(Divergence(epoch, None, f"holds {what} after the last step", key, finite, narrow, cause))


_LastStep = tuple[LossFunction, FloatArray | None, Caches]
"""A step's loss, targets ``Y`` (``None`` before the first step) and caches: what
``_own_backward_cause`` reads again."""


def _nonfinite_cost_cause(
    loss: LossFunction, AL: FloatArray, Y: FloatArray, caches: Caches, loss_finite: bool, previous: _LastStep | None = None,
    function: str = "cost",
) -> str | None:
    """Why a step's cost is not finite, once it is found so, to end ``TrainingDivergedError``'s
    message: a record of one's own that made NaN or inf of finite inputs, named (a smaller
    learning rate only delays that: an unclipped logarithm meets an output of exactly 0 or 1
    sooner or later), else ``None``: a run that diverged. ``loss_finite``: the loss's own
    cost was finite (the L2 penalty of runaway weights was not). The layers are scanned in
    order, only now: a step whose cost is finite pays nothing. A piece is named only for
    moderate inputs (``_moderate``): of runaway ones, an innocent square overflows too, and so
    it does of extreme targets ``Y`` (the loss's other input). ``previous``: the step before's
    loss, targets and caches, whose backward pass may have made the parameters NaN that made
    this cost NaN (``_own_backward_cause``). ``function``: the loss's function that gave the
    cost, ``"sample_costs"`` under sample weights."""
    forward_cause = _own_forward_cause(caches)
    if forward_cause is not None:
        return forward_cause
    if not loss_finite and loss.name not in LOSSES and _moderate(AL) and _moderate(Y):
        return (
            f"loss {loss.name!r} gave it for finite outputs AL in [{float(AL.min()):.8g}, {float(AL.max()):.8g}]: its {function}, "
            "not the learning rate (a logarithm of AL or 1 - AL at exactly 0, say: the built-in cross-entropies clip AL)"
        )
    return None if previous is None else _own_backward_cause(*previous)


def _own_forward_cause(caches: Caches) -> str | None:
    """The first layer whose activation of one's own made NaN or inf of moderate ``Z`` in its
    forward pass, named, or ``None``. An infinite output may leave the cost finite, when the
    next layer saturates (a sigmoid of inf is 1), and the parameters NaN: it is named then too."""
    for l, cache in enumerate(caches, start=1):
        if cache.activation.name not in ACTIVATIONS and _moderate(cache.Z) and not np.isfinite(cache.A).all():
            return (
                f"layer {l}'s activation {cache.activation.name!r} returned NaN or infinite values for finite Z: its forward, "
                "not the learning rate (check_activation(record) checks it on random Z)"
            )
    return None


def _own_backward_cause(loss: LossFunction, Y: FloatArray | None, caches: Caches) -> str | None:
    """A piece of one's own whose backward pass made NaN or inf of a step's moderate inputs,
    named, or ``None``: read again only once NaN or inf was found, so a step pays nothing.

    The loss's ``gradient`` (when ``Y`` is known and the loss is not fused with the output
    layer) of the step's output, then each layer's ``backward`` (or ``backward_in_place``, as
    the step called it), from the last layer down as the backward pass runs, on the cache's
    ``Z`` and ``A`` with an upstream gradient of ones: :math:`g'(z)` itself, which a right
    derivative keeps finite for finite ``z`` and a wrong one (``(A / Z) ** 2`` for softsign's,
    0/0 at ``Z = 0``) does not, whatever the upstream gradient (inf or NaN times it stays so).
    Only for moderate ``Z``, as for the forward pass, which is named first when its ``A`` is
    not finite: a sampling ``check_activation`` can miss a single point such as ``Z = 0``."""
    if not caches:
        return None
    forward_cause = _own_forward_cause(caches)  # an inf the next layer saturated: the cost was finite
    if forward_cause is not None:
        return forward_cause
    last = caches[-1]
    fused_output = loss.fused_activation is not None and loss.fused_activation == last.activation  # as backward decides
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if Y is not None and not fused_output and loss.name not in LOSSES and _moderate(last.A) and _moderate(Y):
            gradient = np.asarray(gradient_value(loss, last.A, Y))
            if not np.isfinite(gradient).all():
                return (
                    f"loss {loss.name!r} returned NaN or infinite values for finite outputs AL in "
                    f"[{float(last.A.min()):.8g}, {float(last.A.max()):.8g}]: its gradient, not the learning rate "
                    "(a division by AL or 1 - AL at exactly 0, say: check_loss(record) checks it on random AL)"
                )
        for l in range(len(caches), 0, -1):
            cache = caches[l - 1]
            if (l == len(caches) and fused_output) or cache.activation.name in ACTIVATIONS:
                continue
            if not _moderate(cache.Z):  # a forward that made NaN or inf of moderate Z was named above
                continue
            dZ = _activation_backward(cache.activation, np.ones_like(cache.Z), cache, l)
            bad = ~np.isfinite(dZ)
            if bad.any():
                return (
                    f"layer {l}'s activation {cache.activation.name!r} returned NaN or infinite values for finite Z "
                    f"(at Z = {float(cache.Z[bad][0]):.8g}): its backward, not the learning rate (check_activation(record) "
                    "checks it on random Z, which can miss a single point such as 0)"
                )
    return None


def _moderate(values: FloatArray) -> bool:
    """Whether ``values`` are finite and small enough that the sum of their squares (or of
    their differences' squares) cannot overflow: inputs of which a piece making NaN or inf is
    at fault, where those of a diverging run (a float32 output of 5e22) overflow any square."""
    bound = math.sqrt(float(np.finfo(values.dtype).max) / max(values.size, 1)) / 2
    return bool(np.abs(values).max(initial=0.0) <= bound)  # False for NaN and inf too


def diverged_advice(value: FloatArray) -> str:
    """What to try once ``diverged_parameter`` named ``value``: a smaller learning rate and,
    for finite weights past the bound, what helps when the data need weights that large. A
    regression onto targets in the millions reaches float32's 8.4e6 while its cost falls, and
    a smaller rate only delays it: the data must be rescaled, or the network made float64."""
    return _advice(bool(np.isfinite(value).all()), value.dtype == np.float32, DivergenceWords())


def _advice(finite: bool, narrow: bool, words: DivergenceWords, *, stepped: bool = True) -> str:
    """``diverged_advice`` in ``words``, for a parameter whose values are ``finite`` (past the
    bound) or not, in float32 (``narrow``) or not; without a learning rate to make smaller
    when the steps were not ``stepped`` by one (L-BFGS's line search chose them)."""
    if not finite:
        return f"try a smaller {words.learning_rate}" if stepped else f"check {words.data} for extreme values"
    advice = f"try a smaller {words.learning_rate}, or, " if stepped else ""
    advice += f"if {words.data} need weights this large (targets of that size, say), rescale {words.data}"
    if narrow:
        advice += f" or {words.wider_dtype} (bound {weight_bound(np.dtype(np.float64)):.4g})"
    return advice


def diverged_parameter(params: Mapping[str, FloatArray]) -> tuple[str, str] | None:
    """The first parameter beyond ``weight_bound`` of its dtype and what it holds
    (``"NaN or infinite values"``, or the magnitude against the bound); ``None`` if none is.

    One scan of each array: NaN and inf fail ``peak <= bound`` too. A softmax output layer
    turns logits that overflowed into its limits rather than NaN, so the cost can stay finite
    while the weights run away: the bound is what tells.
    """
    for key, value in params.items():
        bound = weight_bound(value.dtype)
        peak = float(np.abs(value).max()) if value.size else 0.0  # the method: np.max's wrapper doubled a small network's check
        if not peak <= bound:
            what = (
                "NaN or infinite values" if not math.isfinite(peak)
                else f"a value of magnitude {peak:.4g}, beyond the {value.dtype} bound {bound:.4g} (1/eps, where the spacing of its numbers reaches 1)"
            )  # fmt: skip
            return key, what
    return None


def classification_labels(Y: FloatArray, loss: LossFunction) -> IntArray | None:
    """The labels of the targets ``Y`` ``(n_L, m)`` that ``count_correct`` scores outputs
    against, or ``None`` for regression.

    One unit: class 1 where ``y >= 0.5`` (labels in {0, 1}, or {-1, 1} for the hinge loss).
    Several units fused with softmax (categorical cross-entropy): the class of each column,
    its largest target. Several units of their own (binary cross-entropy, the hinge loss):
    1 where ``y >= 0.5``, else 0, ``(n_L, m)`` int8, as a sample may hold several labels, or none.
    """
    if loss.decision_threshold is None:
        return None
    if Y.shape[0] == 1:
        positive: IntArray = (Y[0] >= 0.5).astype(np.int64)
        return positive
    if loss.fused_activation != SOFTMAX:  # not "is not": a worker unpickles its own copy of the record
        several: IntArray = (Y >= 0.5).astype(np.int8)
        return several
    labels: IntArray = np.argmax(Y, axis=0)
    return labels


_StepHook = Callable[[BatchProgress, FloatArray, FloatArray, Caches, dict[str, FloatArray], dict[str, FloatArray]], None]
"""What the step loop calls after an update: progress, batch X and Y, caches, grads, new params."""


class _Problem(NamedTuple):
    """Everything about a training run that stays fixed across epochs, validated once."""

    X: FloatArray
    Y: FloatArray
    labels: IntArray | None
    activations: tuple[ActivationFunction, ...]
    loss: LossFunction
    optimizer: Optimizer
    batch_size: int | None
    rng: np.random.Generator | None
    dev: tuple[FloatArray, FloatArray, IntArray | None] | None
    lambd: float
    keep_probs: tuple[float, ...] | None
    clip_norm: float | None = None
    max_norm: float | None = None
    early_stopping: EarlyStopping | None = None
    checkpointing: tuple[Path, dict[str, object], checkpoints.DirectoryLock] | None = None  # directory, run description, its hold on it
    on_batch: _StepHook | None = None
    arrays_observed: bool = False  # on_batch is an Observer, shown the params and caches
    augmentation: Augmentation | None = None
    input_keep_prob: float | None = None
    input_divisor: float | None = None  # X holds integers, each batch divided by this
    kernel: fused.Kernel = "numpy"  # "numba" fuses the ReLU and softmax layers' passes and the batches' division
    weights: Weights | None = None  # sample_weight, all > 0 (X and Y hold only those samples)
    dev_weights: Weights | None = None  # dev_sample_weight


def _check_data(
    argument_X: str, argument_Y: str, X: object, Y: object, sizes: tuple[int, ...], dtype: np.dtype[Any],
    *, integers: bool = False,
) -> tuple[FloatArray, FloatArray]:  # fmt: skip
    """``X`` in ``dtype``, or of integers when ``integers`` (``input_divisor`` given), and ``Y`` made ``dtype``."""
    if integers:
        X = _check_integer_inputs(argument_X, X)
    elif argument_X == "X" and isinstance(X, np.ndarray) and np.issubdtype(X.dtype, np.integer):
        raise TypeError(
            f"X has dtype {X.dtype}: pass input_divisor (255 for 0..255 pixels) to convert each batch, "
            "or convert X first (e.g. scale_pixels(X))"
        )
    else:
        X = check.check_float_array(argument_X, X)
    Y = check.check_float_array(argument_Y, Y, targets=True)
    check.check_samples(argument_X, X)
    if X.shape[0] != sizes[0]:
        raise ValueError(
            f"{argument_X} has {X.shape[0]} rows (features) but W1 expects {sizes[0]}: "
            f"{argument_X} is (n_features, m), one sample per column"
        )
    if Y.shape != (sizes[-1], X.shape[1]):
        raise ValueError(
            f"{argument_Y} must have shape {(sizes[-1], X.shape[1])}: (n_L, m) to match the output layer and "
            f"{argument_X}'s {X.shape[1]} samples, got {Y.shape}"
        )
    if not integers:
        check.check_same_dtype(argument_X, X, dtype, "params['W1']")
    return X, targets_in_dtype(argument_Y, Y, dtype)


def _check_integer_inputs(argument: str, X: object) -> FloatArray:
    """``X`` if it is a plain 2-D array of integers, which ``input_divisor`` converts batch by
    batch: no ``numpy.matrix``, masked array or other subclass (refused as ``check_float_array``
    refuses them for float ``X``), no ``timedelta64`` (which NumPy files under its integers)."""
    check.refuse_matrix(argument, X)
    if not isinstance(X, np.ndarray) or X.dtype.kind not in "iu":
        described = f"{X.dtype} {X.shape}" if isinstance(X, np.ndarray) else type(X).__name__
        if isinstance(X, np.ndarray) and X.dtype.kind == "f":
            tail = f"; {argument} already in floats needs no input_divisor"
        elif not isinstance(X, np.ndarray) and isinstance(X, (list, tuple)):
            tail = f" (np.asarray({argument}, dtype=np.uint8) converts 0..255 pixels)"
        else:
            tail = ""
        raise TypeError(f"input_divisor is for {argument} of integers (such as uint8 pixels), got {described}{tail}")
    if X.ndim != 2:
        raise ValueError(f"{argument} must be 2-D, got shape {X.shape}")
    converted: FloatArray = X  # typed as the batches it becomes
    return converted


def _check_divisor_range(divisor: float, X: np.ndarray[Any, np.dtype[Any]], dtype: np.dtype[Any]) -> None:
    """Refuse an ``input_divisor`` that ``dtype`` holds as infinity, zero or a subnormal number, or
    that divides the largest magnitude in the integers ``X`` into an infinity of ``dtype``.

    ``X`` is scanned only when its integer type's extremes would overflow, never for ``uint8``
    pixels and a divisor such as 255."""
    info = np.finfo(dtype)
    with np.errstate(over="ignore", under="ignore"):
        d = dtype.type(divisor)
        if not d <= info.max or d < info.tiny:  # float32(1e39) is inf, float32(1e-46) is 0
            raise ValueError(
                f"input_divisor must lie within {dtype}'s normal range ({float(info.tiny):.4g} to {float(info.max):.4g}), "
                f"got {divisor:g}, which is {float(d):g} in {dtype}"
            )
        bounds = np.iinfo(X.dtype)
        if math.isfinite(dtype.type(max(-int(bounds.min), int(bounds.max))) / d):
            return
        peak = max(-int(X.min()), int(X.max()))
        if not math.isfinite(dtype.type(peak) / d):
            raise ValueError(
                f"input_divisor {divisor:g} divides X's largest magnitude {peak} beyond {dtype}'s range "
                f"({float(info.max):.4g}): the batches would hold infinities; use a larger divisor"
            )


def resolve_optimizer(learning_rate: LearningRate | None, optimizer: Optimizer | None) -> Optimizer:
    """The run's optimizer: ``optimizer``, or ``sgd(learning_rate)``; exactly one must be given."""
    if (learning_rate is None) == (optimizer is None):
        raise ValueError("give either learning_rate (plain gradient descent) or optimizer, not both and not neither")
    if optimizer is None:
        assert learning_rate is not None
        return sgd(_check_learning_rate(learning_rate))
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an Optimizer such as sgd(0.1), got {type(optimizer).__name__}")
    return _without_stale_in_place(optimizer)  # a built-in's in-place step stands for its own update only


def check_dev_set(
    dev: object, sizes: tuple[int, ...] | None, dtype: np.dtype[Any] | None, loss: LossFunction,
    *, input_divisor: float | None = None,
) -> tuple[FloatArray, FloatArray, IntArray | None] | None:
    """A held-out ``(X_dev, Y_dev)`` checked like the training data (shapes, dtype, targets the
    loss is defined for), with its class labels; ``None`` for no dev set.

    ``sizes`` and ``dtype`` are the network's; ``None`` checks the pair on its own, before the
    network is known (``distributed.epoch_states``): float arrays, finite, with as many
    columns in ``Y_dev`` as in ``X_dev``, and targets the loss is defined for.
    ``input_divisor``, training's, divides ``X`` only: integers in ``X_dev`` are refused with
    the division that makes them what the batches are (not a bare ``astype``, whose inputs
    the network never saw)."""
    if dev is None:
        return None
    if not isinstance(dev, tuple) or len(dev) != 2:
        got = f"a tuple of {len(dev)}" if isinstance(dev, tuple) else type(dev).__name__
        raise TypeError(f"dev must be a tuple (X_dev, Y_dev), got {got}")
    X_given = dev[0]
    if input_divisor is not None and dtype is not None and isinstance(X_given, np.ndarray) and X_given.dtype.kind in "iu":
        name = dtype.name
        pixels = f" (for 255: scale_pixels(dev[0], dtype=np.{name}), the same numbers)" if input_divisor == 255 else ""
        raise TypeError(
            f"dev[0] has dtype {X_given.dtype}, but input_divisor divides only X: give the dev set in floats, divided "
            f"as X's batches are, np.divide(dev[0], np.{name}({input_divisor:g}), dtype=np.{name}){pixels}"
        )
    if sizes is None or dtype is None:  # the pair's own rows and dtype stand for the network's
        X_own = check.check_float_array("dev[0]", dev[0])
        Y_own = check.check_float_array("dev[1]", dev[1], targets=True)
        rows, columns = X_own.shape
        outputs, samples = Y_own.shape
        if samples != columns:  # no network yet to say which is wrong: the pair's own mismatch, and what would mend it
            mends = [  # (the samples a transposition would give, the transposition): those that make the pair agree
                (rows, "dev[0].T", rows == samples), (columns, "dev[1].T", outputs == columns),
                (rows, "(dev[0].T, dev[1].T)", rows == outputs),
            ]  # fmt: skip
            # a reading of one sample is no sign of a transposition (one feature, one output unit)
            fits = sorted(((m, mend) for m, mend, agree in mends if agree and m > 1), reverse=True)
            hint = "; if samples are rows, pass " + ", or ".join(f"{mend} ({m} samples)" for m, mend in fits) if fits else ""
            raise ValueError(
                f"dev[0] and dev[1] must hold the same samples, one per column, but dev[0] {X_own.shape} has {columns} "
                f"and dev[1] {Y_own.shape} has {samples}{hint}"
            )
        sizes, dtype = (int(rows), int(Y_own.shape[0])), X_own.dtype
    X_dev, Y_dev = _check_data("dev[0]", "dev[1]", dev[0], dev[1], sizes, dtype)
    check_targets("dev[1]", Y_dev, loss)
    return X_dev, Y_dev, classification_labels(Y_dev, loss)


def train_epochs(
    X: FloatArray | IntArray,
    Y: FloatArray,
    params: Params,
    *,
    activations: Sequence[Activation | ActivationFunction],
    loss: Loss | LossFunction,
    epochs: int,
    learning_rate: LearningRate | None = None,
    optimizer: Optimizer | None = None,
    batch_size: int | None = None,
    rng: np.random.Generator | None = None,
    dev: tuple[FloatArray, FloatArray] | None = None,
    lambd: float = 0.0,
    keep_probs: float | Sequence[float] | None = None,
    clip_norm: float | None = None,
    max_norm: float | None = None,
    early_stopping: EarlyStopping | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    on_batch: Callable[[BatchProgress], object] | Observer | None = None,
    optimizer_state: OptimizerState | None = None,
    augmentation: Augmentation | None = None,
    input_keep_prob: float | None = None,
    input_divisor: float | None = None,
    kernel: fused.Kernel | None = None,
    sample_weight: npt.ArrayLike | None = None,
    dev_sample_weight: npt.ArrayLike | None = None,
) -> Generator[TrainState, None, None]:
    r"""The states of training after each of ``epochs`` epochs, computed one at a time as asked.

    Every argument is checked when this is called, before any training. See ``train`` for
    the arguments; a loop over this iterator that runs to the end ends in ``train``'s result.
    With ``early_stopping`` the iterator ends early, after the state whose ``stopped`` is
    ``True``.

    Each epoch starts from copies of the state yielded before it, which is the caller's:
    training never writes into it, and writing into its arrays between epochs (pruning a
    weight, say) is what the next epoch starts from.

    Each state's ``history`` is a tuple of every epoch's record so far, so yielding it copies
    the records: a few microseconds per thousand epochs, each epoch. Over tens of thousands of
    epochs of a small network that is most of an epoch's time (50,000 epochs of the tutorial's
    2-3-1 network: from 173 µs an epoch at the start to 446 at the end); ``train``, which hands
    out only its last state, keeps the records aside and does not pay it.

    Examples
    --------
    Two features, the label whether they have the same sign, one epoch at a time:

    >>> import numpy as np
    >>> from functional_nn import initialize_parameters, one_hot
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2, 200))                      # (n_0, m)
    >>> Y = one_hot((X[0] * X[1] > 0).astype(int), 2)         # (2, m)
    >>> params = initialize_parameters((2, 8, 2), rng)
    >>> for state in train_epochs(X, Y, params, activations=("relu", "softmax"), loss="categorical_cross_entropy",
    ...                           epochs=3, learning_rate=0.5, batch_size=32, rng=rng):
    ...     print(state.epoch, f"{state.history[-1].cost:.2f}")
    1 0.79
    2 0.62
    3 0.48
    """
    problem, start = _prepare(
        X, Y, params, activations=activations, loss=loss, learning_rate=learning_rate, optimizer=optimizer,
        batch_size=batch_size, rng=rng, dev=dev, lambd=lambd, keep_probs=keep_probs, clip_norm=clip_norm,
        max_norm=max_norm, early_stopping=early_stopping, checkpoint_dir=checkpoint_dir, resume=resume,
        on_batch=on_batch, optimizer_state=optimizer_state, augmentation=augmentation, input_keep_prob=input_keep_prob,
        input_divisor=input_divisor, kernel=kernel, sample_weight=sample_weight, dev_sample_weight=dev_sample_weight,
    )  # fmt: skip
    with _released_on_error(problem.checkpointing):
        epochs = check.check_positive_int("epochs", epochs, minimum=0)
        check_resumed_within("epochs", epochs, start.epoch, "epoch")
    return _fold(problem, start, epochs)


def train(
    X: FloatArray | IntArray,
    Y: FloatArray,
    params: Params,
    *,
    activations: Sequence[Activation | ActivationFunction],
    loss: Loss | LossFunction,
    epochs: int,
    learning_rate: LearningRate | None = None,
    optimizer: Optimizer | None = None,
    batch_size: int | None = None,
    rng: np.random.Generator | None = None,
    dev: tuple[FloatArray, FloatArray] | None = None,
    lambd: float = 0.0,
    keep_probs: float | Sequence[float] | None = None,
    clip_norm: float | None = None,
    max_norm: float | None = None,
    early_stopping: EarlyStopping | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    on_batch: Callable[[BatchProgress], object] | Observer | None = None,
    optimizer_state: OptimizerState | None = None,
    augmentation: Augmentation | None = None,
    input_keep_prob: float | None = None,
    input_divisor: float | None = None,
    kernel: fused.Kernel | None = None,
    sample_weight: npt.ArrayLike | None = None,
    dev_sample_weight: npt.ArrayLike | None = None,
) -> TrainResult:
    r"""Train the network and return the last state of ``train_epochs``.

    Each step runs ``forward``, ``backward`` and the optimizer's ``update`` on one batch:

    .. math:: \theta \leftarrow \mathrm{update}(\nabla_\theta J(\theta; X_B, Y_B), \ldots)

    Parameters
    ----------
    X : ndarray of shape (n_0, m)
        Training inputs, one sample per column, in the params' dtype; or integers, such as
        ``uint8`` pixels, with ``input_divisor``. Fortran order (``data.T`` for
        row-per-sample ``data``) makes gathering mini-batches fastest.
    Y : ndarray of shape (n_L, m)
        Targets, as ``compute_cost`` takes them (one-hot columns, values in [0, 1] for binary
        cross-entropy, any real values for mean squared error); converted to the params' dtype
        (refused if a value lies beyond its range, as ``dev``'s are).
    params : dict of str to ndarray
        The starting parameters; not modified.
    activations : sequence of str or ActivationFunction, length L
        Built-in names or records of your own (see ``check_activation``). A ``"softmax"``
        output over a single unit is refused (``ValueError``): it is always 1 and cannot learn;
        one output unit takes ``"sigmoid"``.
    loss : {"binary_cross_entropy", "categorical_cross_entropy", "mean_squared_error", ...} or LossFunction
    epochs : int >= 0
        Passes over the data, counted from the start of the run (a resumed run continues
        up to ``epochs``); 0 returns the starting state.
    learning_rate : float > 0 or schedule, optional
        Plain gradient descent with this step (``sgd(learning_rate)``); give this or
        ``optimizer``, not both.
    optimizer : Optimizer, optional
        Any optimizer, e.g. ``adam(1e-3)`` or ``momentum(cosine_decay(0.05, decay_steps=5000))``.
        A schedule's step counts the mini-batches since the start of the run.
    batch_size : int >= 1, optional
        ``None``: full-batch gradient descent over the columns in the order given, as in the
        tutorials. Else the columns are shuffled with ``rng`` every epoch and cut into
        batches of this size (see ``minibatches``).
    rng : numpy.random.Generator, optional
        Required with ``batch_size``, ``augmentation``, or dropout (``keep_probs`` or
        ``input_keep_prob`` below 1), which draw from it, and advanced by those draws; when
        given, it must be a ``numpy.random.Generator`` (``TypeError`` otherwise), such as
        ``np.random.default_rng(seed)``.
    dev : (X_dev, Y_dev), optional
        A held-out set evaluated after every epoch.
    sample_weight : array-like of shape (m,), optional
        How much each sample (column of ``X``) counts: finite weights >= 0, not all 0. Each
        batch's cost is the weighted mean of its samples' losses, its L2 penalty taken over
        the batch's total weight :math:`S_B` instead of its size
        (:math:`\frac{1}{S_B}\sum_{j \in B} w_j\ell_j + \frac{\lambda}{2S_B}\sum_l\lVert W_l\rVert^2`,
        as scikit-learn's MLP weighs a batch), so a weight of 2 counts a sample as a copy of
        it in the same batch would. A sample of weight 0 is left out before training, as if
        it were not there (``X`` and ``Y`` are then copied without it). The history's cost
        and accuracy are weighted means over the epoch's samples. Needs a loss with
        ``sample_costs`` (every built-in has them). Weights all 1 give bitwise the parameters
        of no weights (the history's costs to rounding: a weighted sum is another sum).
    dev_sample_weight : array-like of shape (m_dev,), optional
        The dev set's weights, likewise: the dev cost and accuracy become weighted means
        (and so does what ``early_stopping`` watches). Needs ``dev``.
    lambd : float >= 0, default 0
        L2 strength (see ``compute_cost``).
    keep_probs : float or sequence of float, optional
        Dropout keep probabilities for the hidden layers (see ``forward_propagation``).
    input_divisor : float > 0, optional
        For integer ``X``: each batch is gathered as integers and only then converted to
        the params' dtype, :math:`X_B / d`. With 255 that is ``scale_pixels``' arithmetic,
        so training on ``uint8`` pixels gives bitwise the results of training on
        ``scale_pixels(pixels)``, while the data set takes a quarter of the memory (float32;
        an eighth against float64). Full-batch (``batch_size=None``), ``X`` is converted once.
        ``dev`` stays in floats. Refused (``ValueError``) when :math:`d` in the params' dtype
        is infinite or below its smallest normal number, or when it leaves the largest
        magnitude in ``X`` beyond the dtype's range: the batches would be zeros or infinities.
    kernel : {"numpy", "numba"}, optional
        How the ReLU layers' elementwise work runs (bias, :math:`\max(z, 0)`, dropout and,
        going back, the mask and :math:`[a > 0]`): NumPy's passes, or one fused Numba pass
        each way (``functional_nn.fused``); likewise a softmax layer's bias and activation
        (two fused loops around NumPy's exp) and, with ``input_divisor``, each batch's gather
        and division (one). Bitwise the same training either way. Default: ``"numba"``
        when Numba is installed (the ``fast`` extra), else ``"numpy"``. The optimizer's own
        arithmetic is the optimizer's choice (``adam(..., kernel=...)``).
    input_keep_prob : float in (0, 1], optional
        Dropout on the input layer: each input entry kept with this probability (0.8 in
        Srivastava et al. 2014); the dev set and predictions never drop.
    augmentation : function of (X_batch, rng), optional
        Applied to each training mini-batch before its forward pass, never to the dev set:
        e.g. ``functools.partial(random_shift, image_shape=(28, 28))`` or a ``compose`` of
        several (see ``functional_nn.data.augmentation``). It must return a new batch of the
        same shape and dtype and draw only from the ``rng`` it is given.
    clip_norm : float > 0, optional
        Clip each mini-batch gradient to this global norm before the update (see
        ``clip_by_global_norm``): the gradient of the whole cost, ``lambd``'s L2 term
        included (PyTorch's ``clip_grad_norm_`` comes before its ``weight_decay`` is added).
    max_norm : float > 0, optional
        After each update, cap the norm of every unit's incoming weights (the rows of every
        ``W_l``) at this value (see ``apply_max_norm``). An ``ema`` optimizer averages the
        parameters before the cap, so their average may exceed it.
    early_stopping : EarlyStopping, optional
        Needs ``dev``. Training ends early when the monitored dev figure has not improved
        for ``patience`` epochs.
    on_batch : callable or Observer, optional
        A callable is called after every update with a ``BatchProgress`` (epoch, step, steps,
        samples seen, running mean cost), e.g. to move a progress bar. An ``Observer`` is
        called after every ``every``-th update (or the last of each epoch) with a
        ``StepView``: the progress, the batch, its caches and gradients and the updated
        parameters, all read-only, e.g. to record per-layer statistics (see
        ``functional_nn.diagnostics``). Either observes; neither changes the run.
    checkpoint_dir : path, optional
        Write a checkpoint (see ``functional_nn.checkpoints``) at the end of every epoch:
        parameters, optimizer state, the fold's state and the generator's state, atomically;
        the last two are kept (``save_checkpoint``'s ``keep_last``), the older pruned once the
        newest is written. Created if missing. A directory that already holds checkpoints is refused unless
        ``resume`` is set, and so, before any training (``ValueError``), is a path that is
        (or lies under) a file, that cannot be created, or where no file can be created (a
        read-only file system): that is tried, with a file created and removed at once.
        The run holds the directory while it lives (``checkpoints.LOCK_NAME``, a locked
        file naming the process and host, gone when the run ends, fails, is closed or its
        process dies): another run into it meanwhile is refused (``CheckpointError``). An
        iterator of ``train_epochs`` left unfinished holds it until ``.close()``.
    resume : bool, default False
        Continue from the last checkpoint in ``checkpoint_dir`` (start afresh if it holds
        none). ``epochs`` still counts the whole run, so a run killed at any moment and
        resumed with the same arguments ends bitwise equal to one never interrupted; a
        checkpoint of a later epoch than ``epochs`` is refused (``ValueError``). The
        checkpoint must come from the same run (network, loss, optimizer, batch size,
        regularisation, data), else ``CheckpointError`` lists what differs; a learning rate
        given as a plain function is the one setting that cannot be compared (a ``Schedule``
        records its hyperparameters, which are). The draws
        continue from the saved generator state in a new generator; ``rng`` itself is then
        not advanced.
    optimizer_state : OptimizerState, optional
        The optimizer's state to continue from, e.g. the ``optimizer_state`` of an earlier
        run's result (default: ``optimizer.init(params)``). It must come from the same
        optimizer and match the params key for key, shape for shape, dtype for dtype; its
        ``step`` keeps counting, so schedules and Adam's bias correction continue. Chaining
        two runs this way with the same ``rng`` equals one longer run bit for bit.

    Returns
    -------
    TrainResult
        The last state: ``epoch``, ``params`` (after the last epoch run), ``optimizer_state``
        and ``history`` (one ``EpochRecord`` per epoch: cost, accuracy, dev cost and dev
        accuracy). With early stopping, also ``best_params`` and ``best_epoch``, the
        parameters to keep, and ``stopped`` (``True`` if patience ran out, at ``epochs`` or before).

    Raises
    ------
    TrainingDivergedError
        When the cost or the parameters become NaN or infinite (naming the epoch and step),
        when an epoch's cost exceeds ``DIVERGENCE_FACTOR`` (1e4) times ``max(first epoch's
        cost, 1)``, or when a parameter's magnitude passes ``weight_bound(dtype)`` (1/eps).
    """
    problem, state = _prepare(
        X, Y, params, activations=activations, loss=loss, learning_rate=learning_rate, optimizer=optimizer,
        batch_size=batch_size, rng=rng, dev=dev, lambd=lambd, keep_probs=keep_probs, clip_norm=clip_norm,
        max_norm=max_norm, early_stopping=early_stopping, checkpoint_dir=checkpoint_dir, resume=resume,
        on_batch=on_batch, optimizer_state=optimizer_state, augmentation=augmentation, input_keep_prob=input_keep_prob,
        input_divisor=input_divisor, kernel=kernel, sample_weight=sample_weight, dev_sample_weight=dev_sample_weight,
    )  # fmt: skip
    with _released_on_error(problem.checkpointing):
        epochs = check.check_positive_int("epochs", epochs, minimum=0)
        check_resumed_within("epochs", epochs, state.epoch, "epoch")
    # Only the last state leaves train: the records are gathered here, and the fold's states in
    # between carry the first and the latest only, rather than copying the whole history every
    # epoch (50,000 epochs of a small network spent longer copying it than training).
    history = list(state.history)
    for state in _fold(problem, state, epochs, lean=True):
        history.append(state.history[-1])
    return state._replace(history=tuple(history))


def check_resumed_within(argument: str, total: int, reached: int, unit: str) -> None:
    """Refuse a run resumed from a checkpoint past its end: ``total`` (``epochs``, ``rounds``)
    counts the whole run, so a checkpoint of a later ``unit`` cannot be continued to it, and
    returning that later state, or nothing, would hide the mistake."""
    if reached > total:
        raise ValueError(
            f"{argument}={total}, but the checkpoint resumed is of {unit} {reached}: {argument} counts the whole run, "
            f"so pass {argument} >= {reached} to continue it (checkpoints.load_checkpoint reads it as it is)"
        )


def _prepare(
    X: FloatArray | IntArray,
    Y: FloatArray,
    params: Params,
    *,
    activations: Sequence[Activation | ActivationFunction],
    loss: Loss | LossFunction,
    learning_rate: LearningRate | None,
    optimizer: Optimizer | None,
    batch_size: int | None,
    rng: np.random.Generator | None,
    dev: tuple[FloatArray, FloatArray] | None,
    lambd: float,
    keep_probs: float | Sequence[float] | None,
    clip_norm: float | None,
    max_norm: float | None,
    early_stopping: EarlyStopping | None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    on_batch: Callable[[BatchProgress], object] | Observer | None = None,
    optimizer_state: OptimizerState | None = None,
    augmentation: Augmentation | None = None,
    input_keep_prob: float | None = None,
    input_divisor: float | None = None,
    kernel: fused.Kernel | None = None,
    sample_weight: npt.ArrayLike | None = None,
    dev_sample_weight: npt.ArrayLike | None = None,
) -> tuple[_Problem, TrainState]:
    (sizes, names, loss_record), inputs, Y, weights, divisor = checked_data(
        X, Y, params, activations, loss, input_divisor, sample_weight
    )
    L = len(sizes) - 1
    dtype = params["W1"].dtype
    optimizer = resolve_optimizer(learning_rate, optimizer)
    if batch_size is not None:
        batch_size = check.check_positive_int("batch_size", batch_size)
    keeps = check_keep_probs(keep_probs, L, dtype)
    input_keep = check_input_keep_prob(input_keep_prob, dtype)
    if augmentation is not None and not callable(augmentation):
        raise TypeError(f"augmentation must be a function of (X_batch, rng), got {type(augmentation).__name__}")
    _check_rng(rng, batch_size, augmentation, keeps, input_keep)
    lambd = check.check_positive_float("lambd", lambd, allow_zero=True)
    checked_dev = check_dev_set(dev, sizes, dtype, loss_record, input_divisor=divisor)
    dev_weights = check_dev_weights(dev_sample_weight, checked_dev, loss_record)
    if clip_norm is not None:
        clip_norm = check.check_positive_float("clip_norm", clip_norm)
    if max_norm is not None:
        max_norm = check_max_norm(max_norm, dtype)
    if early_stopping is not None:
        early_stopping = _check_early_stopping(early_stopping, checked_dev)
    if divisor is not None and batch_size is None:  # one batch, every epoch: convert it once
        inputs, divisor = _divided(inputs, divisor, dtype), None
    problem = _Problem(
        inputs, Y, classification_labels(Y, loss_record), names, loss_record, optimizer, batch_size, rng, checked_dev, lambd,
        keeps, clip_norm, max_norm, early_stopping,
    )  # fmt: skip
    if on_batch is not None:
        problem = problem._replace(on_batch=_step_hook(on_batch), arrays_observed=isinstance(on_batch, Observer))
    problem = problem._replace(
        augmentation=augmentation, input_keep_prob=input_keep, input_divisor=divisor, kernel=fused.check_kernel(kernel),
        weights=weights, dev_weights=dev_weights,
    )  # fmt: skip
    start_params = dict(params)
    if optimizer_state is None:
        optimizer_state = checked_init(optimizer, start_params)
    else:  # continuing a run (warm start, partial fit): the state must fit these params
        optimizer_state = check_optimizer_state(optimizer_state, optimizer, start_params)
    start = TrainState(0, start_params, optimizer_state, ())
    if not isinstance(resume, (bool, np.bool_)):
        raise TypeError(f"resume must be a bool, got {type(resume).__name__} {resume!r}")
    if checkpoint_dir is None:
        if resume:
            raise ValueError("resume=True needs checkpoint_dir, the directory of the checkpoints to resume from")
        return problem, start
    return _resume_or_start(problem, start, check.check_path("checkpoint_dir", checkpoint_dir), resume, sizes)


class CheckedData(NamedTuple):
    """What ``checked_data`` made of a trainer's network and data."""

    network: CheckedNetwork
    X: FloatArray  # integers when ``divisor`` is set (input_divisor)
    Y: FloatArray  # in the network's dtype
    weights: Weights | None  # sample_weight, all > 0: X and Y hold only those samples
    divisor: float | None


def checked_data(
    X: object, Y: object, params: Params, activations: object, loss: Loss | LossFunction,
    input_divisor: object = None, sample_weight: object = None,
) -> CheckedData:  # fmt: skip
    """The checks every trainer makes of the network, its data, ``input_divisor`` and
    ``sample_weight``, in ``train``'s order and words (``train`` and ``lbfgs.train_lbfgs``
    call it): ``check_trainable_network``, ``X`` and ``Y`` against the network (shapes,
    dtype, finite), the loss's targets once per data set, and the weights, a sample of
    weight 0 left out as if it were not there."""
    network = check_trainable_network(params, activations, loss)
    dtype = params["W1"].dtype
    divisor = None if input_divisor is None else check.check_positive_float("input_divisor", input_divisor)
    inputs, targets = _check_data("X", "Y", X, Y, network.sizes, dtype, integers=divisor is not None)
    if divisor is not None:
        _check_divisor_range(divisor, inputs, dtype)
    check_targets("Y", targets, network.loss)  # once per data set, not per mini-batch
    weights = None
    if sample_weight is not None:
        check_weighable("sample_weight", network.loss)
        m = targets.shape[1]
        weights = check_sample_weight("sample_weight", sample_weight, m, f"X's {m} columns")
        if not weights.all():  # a sample of weight 0 is left out, as if it were not there
            kept = np.flatnonzero(weights)
            inputs, targets, weights = inputs.T[kept].T, targets.T[kept].T, weights[kept]  # column-major, as X.T's rows gather fastest
    return CheckedData(network, inputs, targets, weights, divisor)


def _check_rng(
    rng: object, batch_size: int | None, augmentation: object, keeps: tuple[float, ...] | None, input_keep: float | None
) -> None:
    """``rng`` must be a ``Generator`` when something draws from it, and whenever it is given."""
    needs = (
        "batch_size" if batch_size is not None
        else "augmentation" if augmentation is not None
        else "dropout (keep_probs < 1)" if keeps is not None
        else "dropout (input_keep_prob < 1)" if input_keep is not None
        else None
    )  # fmt: skip
    check.check_generator("rng", rng, optional=True, needed_by=needs)  # when given, a checkpoint stores its state, say


def _step_hook(on_batch: object) -> _StepHook:
    """The step loop's one call, made from a user's ``on_batch`` callable or ``Observer``."""
    if isinstance(on_batch, Observer):
        observe, every = on_batch
        if not callable(observe):
            raise TypeError(f"Observer.observe must be a function of a StepView, got {type(observe).__name__}")
        if every is not None:
            every = check.check_positive_int("Observer.every", every)

        def watch(
            progress: BatchProgress, X: FloatArray, Y: FloatArray, caches: Caches,
            grads: dict[str, FloatArray], params: dict[str, FloatArray],
        ) -> None:  # fmt: skip
            if every is None:
                due = progress.step == progress.steps
            else:  # every k-th step of the run; every epoch has the same number of steps
                due = ((progress.epoch - 1) * progress.steps + progress.step) % every == 0
            if due:
                observe(StepView(progress, read_only_view(X), read_only_view(Y), _frozen_caches(caches), _frozen(grads), _frozen(params)))

        return watch
    if not callable(on_batch):
        raise TypeError(f"on_batch must be a function of a BatchProgress or an Observer, got {type(on_batch).__name__}")
    report: Callable[[BatchProgress], object] = on_batch

    def progress_only(progress: BatchProgress, *arrays: object) -> None:
        report(progress)  # what it returns (a progress bar's update may return a bool) is not ours

    return progress_only


def _frozen(arrays: dict[str, FloatArray]) -> dict[str, FloatArray]:
    return {key: read_only_view(value) for key, value in arrays.items()}


def _frozen_caches(caches: Caches) -> Caches:
    # field by field, so a cache record with more or other arrays is frozen just as well
    return tuple(type(cache)._make(read_only_view(f) if isinstance(f, np.ndarray) else f for f in cache) for cache in caches)


def _describe_run(problem: _Problem, sizes: tuple[int, ...]) -> dict[str, object]:
    """What a checkpoint must agree on to be resumed by this run, as JSON values."""
    p = problem
    description: dict[str, object] = {
        "layer_sizes": list(sizes),
        "dtype": p.Y.dtype.name,  # the network's: X may hold integers
        "activations": [a.name for a in p.activations],
        "loss": p.loss.name,
        "optimizer": p.optimizer.name,
        "optimizer_hyperparameters": checkpoints.described_hyperparameters(p.optimizer.name, p.optimizer.hyperparameters),
        "batch_size": p.batch_size,
        "lambd": p.lambd,
        "keep_probs": None if p.keep_probs is None else list(p.keep_probs),
        "input_keep_prob": p.input_keep_prob,
        "augmentation": None if p.augmentation is None else describe_augmentation(p.augmentation),
        "clip_norm": p.clip_norm,
        "max_norm": p.max_norm,
        "early_stopping": None if p.early_stopping is None else list(p.early_stopping),
        "generator": None if p.rng is None else type(p.rng.bit_generator).__name__,
        "data": checkpoints.data_digest(p.X, p.Y),
        "dev_data": None if p.dev is None else checkpoints.data_digest(p.dev[0], p.dev[1]),
    }
    if p.input_divisor is not None:  # only then: older checkpoints, which lack it, still resume
        description["input_divisor"] = p.input_divisor
    if p.weights is not None:  # likewise
        description["sample_weight"] = checkpoints.data_digest(p.weights)
    if p.dev_weights is not None:
        description["dev_sample_weight"] = checkpoints.data_digest(p.dev_weights)
    return description


def _check_checkpoint_dir(directory: Path) -> None:
    """Make sure ``checkpoint_dir`` can be created and take files (tried, leaving nothing
    behind), or raise ``ValueError``: the first checkpoint is written only after an epoch of
    training (a round, for ``distributed.train_rounds``, which calls this too)."""
    check_writable_directory(directory, "checkpoint_dir", "hold checkpoints")


def _resume_or_start(
    problem: _Problem, start: TrainState, directory: Path, resume: bool, sizes: tuple[int, ...]
) -> tuple[_Problem, TrainState]:
    check_one_record_per_name("activations", problem.activations, "a checkpoint")
    _check_checkpoint_dir(directory)
    run = _describe_run(problem, sizes)
    lock = checkpoints.DirectoryLock.acquire(directory)  # before looking: another run may be writing there
    problem = problem._replace(checkpointing=(directory, run, lock))
    with _released_on_error(problem.checkpointing):
        return _resumed(problem, start, directory, resume, run)


@contextlib.contextmanager
def _released_on_error(checkpointing: tuple[object, object, checkpoints.DirectoryLock] | None) -> Iterator[None]:
    """Release the checkpoint directory's lock if the block raises: the run will not start."""
    try:
        yield
    except BaseException:
        if checkpointing is not None:
            checkpointing[2].release()
        raise


def _resumed(
    problem: _Problem, start: TrainState, directory: Path, resume: bool, run: dict[str, object]
) -> tuple[_Problem, TrainState]:
    found = checkpoints.checkpoint_to_resume(directory, resume)
    if found is None:
        return problem, start
    latest, saved = found
    differences = checkpoints.mismatches(saved.run, run)
    if differences:
        raise checkpoints.CheckpointError(f"{latest} belongs to another run: " + "; ".join(differences))
    remove_stale_temporaries(directory, "checkpoint-*.npz")  # left by a run killed mid-write
    if saved.rng_state is not None and problem.rng is not None:
        problem = problem._replace(rng=checkpoints.restored_generator(problem.rng, saved.rng_state))
    return problem, saved.state


def _check_early_stopping(
    early_stopping: object, dev: tuple[FloatArray, FloatArray, IntArray | None] | None
) -> EarlyStopping:
    if not isinstance(early_stopping, EarlyStopping):
        raise TypeError(
            f"early_stopping must be an EarlyStopping(patience, monitor, min_delta), got {type(early_stopping).__name__}"
        )
    patience = check.check_positive_int("early_stopping.patience", early_stopping.patience)
    monitor = check.check_name("early_stopping.monitor", early_stopping.monitor, MONITORS)
    min_delta = check.check_positive_float("early_stopping.min_delta", early_stopping.min_delta, allow_zero=True)
    if dev is None:
        raise ValueError("early_stopping watches the dev set: pass dev=(X_dev, Y_dev)")
    if monitor == "dev_accuracy" and dev[2] is None:
        raise ValueError("early_stopping.monitor 'dev_accuracy' needs a classification loss; monitor 'dev_cost' instead")
    return EarlyStopping(patience, monitor, min_delta)


def _fold(problem: _Problem, state: TrainState, epochs: int, *, lean: bool = False) -> Generator[TrainState, None, None]:
    """The states after each epoch. ``lean``: for a caller that keeps the records itself
    (``train``), each state's history holds only the first and the latest record, all that
    ``run_epoch`` reads; not with checkpoints, which save the whole history every epoch."""
    try:
        while state.epoch < epochs and not state.stopped:
            with np.errstate(under="ignore"):  # tiny values rounding to 0 are right, not errors, even under errstate(all="raise")
                state = run_epoch(problem, state)
            if problem.checkpointing is not None:
                directory, run, _ = problem.checkpointing
                checkpoints.save_checkpoint(directory, state, rng=problem.rng, run=run)
            if lean and problem.checkpointing is None and len(state.history) > 2:
                state = state._replace(history=(state.history[0], state.history[-1]))
            yield state
    finally:  # ended, failed or closed: the directory is free for the next run (a resume)
        if problem.checkpointing is not None:
            problem.checkpointing[2].release()


def _track_best(early_stopping: EarlyStopping, previous: TrainState, state: TrainState) -> TrainState:
    """Early stopping's bookkeeping, from the state before the epoch and the new one."""
    record = state.history[-1]
    value = record.dev_cost if early_stopping.monitor == "dev_cost" else record.dev_accuracy
    assert value is not None  # _check_early_stopping made sure the figure exists
    best = previous.best_value
    if best is None or math.isnan(best):  # the first epoch sets the best; a NaN best (a dev set that overflowed) any number beats
        improved = best is None or not math.isnan(value)
    elif early_stopping.monitor == "dev_cost":  # a NaN figure improves on nothing
        improved = value < best - early_stopping.min_delta
    else:
        improved = value > best + early_stopping.min_delta
    if improved:
        best_params = averaged_params(state.optimizer_state, state.params)  # the parameters the figure is of
        return state._replace(best_params=best_params, best_epoch=state.epoch, best_value=value, epochs_since_best=0)
    since = previous.epochs_since_best + 1
    return state._replace(
        best_params=previous.best_params,
        best_epoch=previous.best_epoch,
        best_value=best,
        epochs_since_best=since,
        stopped=since >= early_stopping.patience,
    )


def run_epoch(problem: _Problem, state: TrainState) -> TrainState:
    """One epoch: the pure step from one state of the fold to the next.

    With an optimizer that has ``update_in_place``, the epoch's first update copies the
    parameters and the optimizer's slots (``writeable_copies``) and every update from there
    overwrites those copies, which no one else has seen: the epoch hands them out only in
    the state it returns (the slots read-only), and the next epoch makes its own copies. So
    no array of ``state``, and no array handed out, is ever written.
    """
    p = problem
    epoch = state.epoch + 1
    params, opt_state = state.params, state.optimizer_state
    m = p.X.shape[1]
    if p.batch_size is None:  # integers were made floats once, by _prepare
        batches: Iterator[tuple[FloatArray, FloatArray, IntArray | None]] = iter([(p.X, p.Y, None)])
    else:  # integers (input_divisor) made the network's floats batch by batch, as they are gathered
        assert p.rng is not None
        batches = _minibatches(p.X, p.Y, p.batch_size, p.rng.permutation(m), p.input_divisor, p.kernel)
    steps = 1 if p.batch_size is None else -(-m // p.batch_size)
    # Sums over the epoch's samples, each counted by its weight (1 without sample_weight) over the
    # largest weight: sums that overflow no more than the weights' own sum, which the check bounds
    unit = 1.0 if p.weights is None else float(np.max(p.weights))
    cost_sum = 0.0
    weight_seen = 0.0
    correct: float = 0
    seen = 0
    weights: Weights | None = None
    loss = p.loss
    owned = False  # whether params and opt_state are this epoch's own copies
    # An Observer keeps views of the params and caches (whose W are the params): then every
    # update makes new arrays, so that nothing it was shown is written afterwards.
    in_place = p.optimizer.update_in_place is not None and not p.arrays_observed
    if not in_place:  # handed out already (the caller's, an earlier state's): an update writing into them is named
        params, opt_state = read_only_views(params, opt_state)
    # A diverging run overflows on its way to inf/NaN; the checks below report it with the
    # epoch and step, so numpy's overflow warnings would only repeat it less clearly. The
    # params were checked once, by _prepare (or load_checkpoint), and each update is given
    # what the last returned: the updates leave out check_params.
    # Y_batch and caches stay the step before's until this step's cost is found finite: a NaN
    # cost may come of that step's update, and its backward pass is then read again (two names
    # rebound a step, no check).
    Y_batch: FloatArray | None = None
    caches: Caches = ()
    with np.errstate(over="ignore", invalid="ignore"), _params_already_checked():
        for step, (X_batch, Y_fresh, indices) in enumerate(batches, start=1):
            if p.augmentation is not None:
                X_batch = _augmented(p.augmentation, X_batch, p.rng)
            AL, fresh = forward(X_batch, params, p.activations, p.keep_probs, p.rng, p.input_keep_prob, p.kernel)
            b = X_batch.shape[1]
            if p.weights is None:
                data_cost = cost_value(loss, AL, Y_fresh)  # a float, whatever a loss of one's own returns
                size = float(b)
            else:
                weights = p.weights if indices is None else p.weights[indices]
                data_cost = weighted_cost_value(loss, AL, Y_fresh, weights)
                size = float(np.sum(weights))
            cost = data_cost + l2_penalty(params, p.lambd, size)
            if not math.isfinite(cost):
                cause = _nonfinite_cost_cause(
                    loss, AL, Y_fresh, fresh, math.isfinite(data_cost), (loss, Y_batch, caches),
                    "cost" if p.weights is None else "sample_costs",
                )  # fmt: skip
                raise _diverged(Divergence(epoch, step, f"the cost is {cost}", cause=cause))
            Y_batch, caches = Y_fresh, fresh
            cost_sum += cost * (size / unit)
            weight_seen += size / unit
            if p.labels is not None:
                batch_labels = p.labels if indices is None else p.labels[..., indices]
                if weights is None:
                    correct += count_correct(AL, batch_labels, p.activations[-1], loss.decision_threshold)
                else:
                    correct += float(weights @ correct_columns(AL, batch_labels, p.activations[-1], loss.decision_threshold)) / unit
            grads = backward(AL, Y_batch, caches, p.loss, p.lambd, p.kernel, weights)
            if p.clip_norm is not None:
                grads = _clip_by_global_norm(grads, p.clip_norm)
            if not in_place or p.optimizer.update_in_place is None:
                params, opt_state = call_update(p.optimizer, grads, opt_state, params)
            else:
                if not owned:
                    params, opt_state = writeable_copies(params, opt_state)
                    owned = True
                params, opt_state = call_update(p.optimizer, grads, opt_state, params, in_place=True)
            if p.max_norm is not None:
                params = _apply_max_norm(params, p.max_norm, in_place=owned)
            if p.on_batch is not None:
                seen += b
                p.on_batch(BatchProgress(epoch, step, steps, seen, cost_sum / weight_seen), X_batch, Y_batch, caches, grads, params)
    total = m if p.weights is None else weight_seen
    _check_divergence(epoch, cost_sum / total, state.history[0].cost if state.history else None, params, (loss, Y_batch, caches))
    if owned:  # handed out from here on, read-only like the slots update returns
        opt_state = freeze_state(opt_state)
    record = EpochRecord(epoch, cost_sum / total, None if p.labels is None else correct / total)
    if p.dev is not None:
        evaluated = averaged_params(opt_state, params)  # ema's average, if the optimizer keeps one
        dev_cost, dev_accuracy = dev_figures(p.dev, p.dev_weights, evaluated, p.activations, loss)
        record = record._replace(dev_cost=dev_cost, dev_accuracy=dev_accuracy)
    new_state = TrainState(epoch, params, opt_state, state.history + (record,))
    if p.early_stopping is None:
        return new_state
    return _track_best(p.early_stopping, state, new_state)


def dev_figures(
    dev: tuple[FloatArray, FloatArray, IntArray | None],
    weights: Weights | None,
    params: Params,
    activations: Sequence[ActivationFunction],
    loss: LossFunction,
) -> tuple[float, float | None]:
    """A checked dev set's cost and accuracy (``None`` for regression) under ``params``, weighted
    by ``weights`` (``dev_sample_weight``) when given: ``train``'s and ``train_rounds``' dev figures."""
    X_dev, Y_dev, dev_labels = dev
    AL_dev = forward_output(X_dev, params, activations)  # no caches: the dev set may be large
    accuracy = output_accuracy(AL_dev, dev_labels, activations[-1], loss, weights)
    if weights is None:
        return cost_value(loss, AL_dev, Y_dev), accuracy
    return weighted_cost_value(loss, AL_dev, Y_dev, weights), accuracy


def output_accuracy(
    AL: FloatArray, labels: IntArray | None, output: ActivationFunction, loss: LossFunction, weights: Weights | None
) -> float | None:
    """The accuracy of the outputs ``AL`` ``(n_L, m)`` against ``classification_labels``' ``labels``
    (``None`` for regression, which has none), by the loss's ``decision_threshold``: the fraction
    of columns right, or with ``weights`` ``(m,)`` their weighted mean (``train``'s dev figures,
    ``lbfgs.train_lbfgs``' history)."""
    if labels is None:
        return None
    threshold = loss.decision_threshold
    if weights is None:
        return count_correct(AL, labels, output, threshold) / int(AL.shape[1])
    return weighted_mean(weights, correct_columns(AL, labels, output, threshold))


def check_dev_weights(
    dev_sample_weight: object, dev: tuple[FloatArray, FloatArray, IntArray | None] | None, loss: LossFunction
) -> Weights | None:
    """``dev_sample_weight`` checked against the checked ``dev`` set (``None`` when not given),
    as ``train`` and ``train_rounds`` take it."""
    if dev_sample_weight is None:
        return None
    if dev is None:
        raise ValueError("dev_sample_weight weighs the dev set's samples: pass dev=(X_dev, Y_dev) too")
    check_weighable("dev_sample_weight", loss)
    m_dev = dev[1].shape[1]
    return check_sample_weight("dev_sample_weight", dev_sample_weight, m_dev, f"dev[0]'s {m_dev} columns")


def _augmented(augmentation: Augmentation, X_batch: FloatArray, rng: np.random.Generator | None) -> FloatArray:
    """``augmentation(X_batch, rng)``, refused unless it is a batch of the same shape and dtype; the
    augmentation is handed a read-only view, and one that writes into it is named."""
    assert rng is not None  # _prepare made sure
    try:  # read-only: without batch_size the batch is the training set itself, every epoch
        result: object = augmentation(read_only_view(X_batch), rng)
    except ValueError as error:
        if "read-only" not in str(error):
            raise
        raise ValueError(
            f"augmentation wrote into the batch it was given ({error}): it must return a new batch "
            "and leave its input as it is (start from X_batch.copy())"
        ) from error
    if not isinstance(result, np.ndarray) or result.shape != X_batch.shape or result.dtype != X_batch.dtype:
        described = f"{result.dtype} {result.shape}" if isinstance(result, np.ndarray) else type(result).__name__
        raise ValueError(
            f"augmentation must return an array shaped and typed like its batch ({X_batch.dtype} {X_batch.shape}), "
            f"got {described}"
        )
    return result
