r"""Parameter updates: the tutorials' gradient-descent step and optimizers as pure state transitions.

An optimizer is a pair of pure functions bundled in an ``Optimizer``: ``init(params)`` makes
its state, and ``update(grads, state, params)`` returns ``(new_params, new_state)``. Neither
writes into its arguments, so a training loop is a fold::

    from functional_nn import adam, backward_propagation, forward_propagation, minibatches
    from functional_nn.types import Activation, Loss

    activations: tuple[Activation, ...] = ("relu", "softmax")  # annotated, or mypy widens them to str
    loss: Loss = "categorical_cross_entropy"
    opt = adam(1e-3)
    state = opt.init(params)
    for X_batch, Y_batch, _ in minibatches(X, Y, 64, rng):
        AL, caches = forward_propagation(X_batch, params, activations)
        grads = backward_propagation(AL, Y_batch, caches, loss)
        params, state = opt.update(grads, state, params)

Every optimizer shares one state type, ``OptimizerState(step, slots)``: ``step`` counts the
updates made so far and ``slots`` maps a slot name to a dict shaped like the parameters
(``slots["m"]["W1"]`` is Adam's first moment of ``W1``). The slot arrays an optimizer returns
are read-only and keep the parameters' dtype, so a float32 network stays float32.

The learning rate is a float or a schedule, a function of the step (see
``functional_nn.schedules``): update number ``t = state.step + 1`` uses the rate
``schedule(state.step)``.

``update`` checks the structure of its arguments (``state.step`` a count, the parameters'
keys, shapes and float dtype as ``check_params`` has them, the grads and slots shaped and
typed alike: cheap) but not that every entry is finite; ``train`` watches for divergence.

Speed. ``sgd``, ``momentum``, ``rmsprop``, ``adam`` and ``adamw`` (and ``ema`` wrapping any
of them) also carry ``update_in_place``, the same values computed by overwriting the
parameters and slots it is given: ``train`` makes its own copies
at the start of each epoch (``writeable_copies``) and updates them in place from one
mini-batch to the next, handing them out only in the epoch's ``TrainState``; a hand-written
loop keeps calling the pure ``update``. Their ``kernel`` is ``"numba"`` when Numba is
installed (``pip install -e ".[fast]"``; see ``functional_nn.fused``): one fused
pass per array instead of NumPy's chain of passes, bitwise the same results (Adam's and
AdamW's with subnormal numbers flushed to zero: ``functional_nn.fused.subnormals_flushed``).
"""

from __future__ import annotations

import contextlib
import inspect
import math
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any, Final, NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

from functional_nn import _validation as check
from functional_nn import fused
from functional_nn import schedules
from functional_nn.schedules import Schedule
from functional_nn.types import FloatArray, Grads, Params, record_repr

LearningRate: TypeAlias = float | Schedule | Callable[[int], float]
"""A constant rate, or a schedule mapping the number of updates made so far to the rate.

``Schedule`` is listed apart because mypy does not see a ``NamedTuple`` with ``__call__`` as
a ``Callable``."""


class OptimizerState(NamedTuple):
    """An optimizer's state: the number of updates made so far and its named slots.

    Each slot is shaped like the parameters (``slots["m"]["W1"]`` is Adam's first moment of
    ``W1``); plain gradient descent has none. States are never mutated: ``update`` returns a
    new one.
    """

    step: int
    slots: Mapping[str, Mapping[str, FloatArray]]

    def __repr__(self) -> str:
        return record_repr(self)


Update: TypeAlias = Callable[[Grads, OptimizerState, Params], tuple[dict[str, FloatArray], OptimizerState]]

Kernel = fused.Kernel
"""How an optimizer runs its arithmetic: NumPy's whole-array passes, or Numba's fused loops."""

KERNELS = fused.KERNELS


class Optimizer(NamedTuple):
    """A pure optimizer: ``init(params) -> state`` and ``update(grads, state, params) -> (params, state)``.

    ``name`` and ``hyperparameters`` describe it for logs and checkpoints.

    ``update_in_place``, when given, returns the values ``update`` would, computed by
    overwriting the arrays of ``params`` and ``state.slots`` (never ``grads``) and returned in
    those same arrays. It is for a caller that owns them (``train`` does, between the
    mini-batches of an epoch; see ``writeable_copies``); an optimizer without it is simply
    called through ``update``. A built-in optimizer's ``update_in_place`` is the in-place form
    of its own ``update`` only: ``train`` leaves it out of a record made from a built-in one
    with another ``update`` (``adam(1e-3)._replace(update=clipped)``), whose in-place step it
    would otherwise take instead of the new ``update``. An ``update_in_place`` of one's own is
    used as given: change it along with ``update``, or set it to ``None``.

    ``train`` and ``train_rounds`` check what an optimizer of one's own gives them, naming
    it: ``init`` an ``OptimizerState`` whose slots are shaped and typed like the params,
    ``update`` new params with the old ones' keys, shapes and dtypes (a float32 network
    stays float32) and an ``OptimizerState``; ``update`` is handed read-only arrays, so
    one that writes into its arguments is refused rather than writing into the caller's.
    """

    init: Callable[[Params], OptimizerState]
    update: Update
    name: str = "optimizer"
    hyperparameters: tuple[tuple[str, float], ...] = ()
    update_in_place: Update | None = None


_IN_PLACE_FORM_OF: Final = "_functional_nn_in_place_form_of"
"""The attribute that marks a built-in ``update_in_place`` with the ``update`` it computes."""


def _in_place_form(update: Update, update_in_place: Update) -> Update:
    """``update_in_place``, marked as the in-place form of ``update`` (see ``_without_stale_in_place``)."""
    setattr(update_in_place, _IN_PLACE_FORM_OF, update)
    return update_in_place


def _without_stale_in_place(optimizer: Optimizer) -> Optimizer:
    """``optimizer`` without its ``update_in_place`` if that is a built-in one's made for another ``update``.

    A record made from a built-in optimizer with ``_replace(update=...)`` (clipping, say) keeps
    the built-in's in-place step, which a caller of ``update_in_place`` (``train``) would take
    instead of the new ``update``, silently. An ``update_in_place`` of one's own carries no
    mark and is kept.
    """
    made_for = getattr(optimizer.update_in_place, _IN_PLACE_FORM_OF, None)
    if made_for is None or made_for is optimizer.update:
        return optimizer
    return optimizer._replace(update_in_place=None)


def writeable_copies(params: Params, state: OptimizerState) -> tuple[dict[str, FloatArray], OptimizerState]:
    """C-ordered, writeable copies of ``params`` and of every slot array of ``state``.

    What a caller of ``Optimizer.update_in_place`` owns: neither input shares memory with them.
    """
    copied = {key: np.array(value, order="C") for key, value in params.items()}
    slots = {name: {key: np.array(value, order="C") for key, value in slot.items()} for name, slot in state.slots.items()}
    return copied, OptimizerState(state.step, slots)


def freeze_state(state: OptimizerState) -> OptimizerState:
    """``state`` with every slot array made read-only, as ``update`` returns them; the same object."""
    for slot in state.slots.values():
        for array in slot.values():
            array.flags.writeable = False
    return state


def _check_writeable(params: Params, state: OptimizerState, optimizer: str) -> None:
    for name, arrays in (("params", params), *((f"state.slots[{slot!r}]", state.slots[slot]) for slot in state.slots)):
        for key, value in arrays.items():
            if not value.flags.writeable:
                raise ValueError(
                    f"{optimizer}'s update_in_place overwrites its arguments, but {name}[{key!r}] is read-only: "
                    "call update, or update_in_place on writeable_copies(params, state)"
                )


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
    if isinstance(learning_rate, Schedule):  # its repr would be the whole message: say how a schedule is followed
        raise TypeError(
            f"learning_rate must be a number, got the schedule {learning_rate.name}: pass schedule(step) for one step's "
            "rate, or let an optimizer follow it (sgd(schedule), adam(schedule), ...; see functional_nn.schedules)"
        )
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
            f"grads must have exactly the keys {sorted(expected)}, got {sorted(keys)}{check.key_difference(expected, keys)}"
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
        # One temporary instead of two: -alpha * g is fresh, so adding W into it in place is safe.
        # A Python float keeps a float32 array float32 (NEP 50).
        step = grads["d" + key] * -learning_rate
        step += value
        new_params[key] = step
    return new_params


def _sgd_in_place(params: Params, grads: Grads, learning_rate: float, kernel: Kernel) -> dict[str, FloatArray]:
    """``sgd_step``'s values written over ``params``' own arrays."""
    for key, value in params.items():
        g = grads["d" + key]
        if kernel == "numba" and fused.fusable(g, value):
            fused.kernel("sgd_in_place")(g.reshape(-1), value.reshape(-1), value.dtype.type(-learning_rate))
        else:
            step = g * -learning_rate
            np.add(step, value, out=value)  # step + W, as in sgd_step
    return dict(params)


_SCHEDULE_EXAMPLES: Final = {
    schedules.constant: "constant(1e-3)",
    schedules.step_decay: "step_decay(0.1, decay_rate=0.5, step_size=1000)",
    schedules.exponential_decay: "exponential_decay(0.1, decay_rate=0.5, decay_steps=1000)",
    schedules.cosine_decay: "cosine_decay(1e-3, decay_steps=1000)",
}
"""The functions of ``functional_nn.schedules`` that make a schedule, each with an example call."""


def _check_learning_rate(learning_rate: object) -> LearningRate:
    if isinstance(learning_rate, Schedule):
        return _check_schedule(learning_rate)
    if callable(learning_rate):
        _check_rule_signature(learning_rate)
        rule: Callable[[int], float] = learning_rate
        return rule
    return check.check_positive_float("learning_rate", learning_rate)


def _check_schedule(schedule: Schedule) -> Schedule:
    """A ``Schedule`` (one of one's own, say) whose rule takes the step and whose name and
    hyperparameters describe it as ``_describe_learning_rate`` reads them: refused here, not
    at the first update in Python's words."""
    rule: object = schedule.rule
    if not callable(rule):
        raise TypeError(f"learning_rate.rule must be a function of the step number returning the rate, got {type(rule).__name__} {rule!r}")
    _check_rule_signature(rule, "learning_rate.rule")
    if not isinstance(schedule.name, str):
        raise TypeError(f"learning_rate.name must be a str, got {type(schedule.name).__name__} {schedule.name!r}")
    given: object = schedule.hyperparameters  # typed, but users pass what they like
    if not check.is_named_pairs(given):
        raise TypeError(
            f"learning_rate.hyperparameters must be a tuple of (name, number) pairs, such as (('peak', 0.1),), got {given!r}"
        )
    return schedule


def _check_rule_signature(rule: Callable[..., object], argument: str = "learning_rate") -> None:
    """Refuse, when the optimizer is made, a schedule's maker given uncalled, or a function
    that cannot be called as ``rule(step)``: either would fail at the first update only, in
    Python's words about its arguments (``constant`` even takes the step for its value)."""
    example = next((call for maker, call in _SCHEDULE_EXAMPLES.items() if rule is maker), None)  # a rule may not hash
    if example is not None:
        raise TypeError(
            f"learning_rate must be a float or a schedule, got the function {rule.__name__} itself, which makes one: "
            f"call it, e.g. learning_rate={example}"
        )
    try:
        signature = inspect.signature(rule)
    except (TypeError, ValueError):  # some built-ins have none to read: their first call will tell
        return
    try:
        signature.bind(0)
    except TypeError:
        name = getattr(rule, "__qualname__", type(rule).__name__)
        expected = "a float, a Schedule or a function" if argument == "learning_rate" else "a function"
        raise TypeError(
            f"{argument} must be {expected} of the step number (0, 1, ...) returning the rate, "
            f"got {name}{signature}, which cannot be called with the step alone"
        ) from None


def _rate_at(learning_rate: LearningRate, step: int) -> float:
    """The learning rate of the update made when ``step`` updates have been made."""
    if isinstance(learning_rate, float):
        return learning_rate
    value: object = learning_rate(step)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"the learning-rate schedule returned {value!r} at step {step}: expected a float")
    rate = float(value)
    if not math.isfinite(rate) or rate < 0:
        raise ValueError(f"the learning-rate schedule returned {rate} at step {step}: expected a finite number >= 0")
    return rate


def _describe_learning_rate(learning_rate: LearningRate) -> tuple[tuple[str, float], ...]:
    if isinstance(learning_rate, float):
        return (("learning_rate", learning_rate),)
    if isinstance(learning_rate, Schedule):
        return tuple((f"learning_rate.{learning_rate.name}.{key}", value) for key, value in learning_rate.hyperparameters)
    return ()  # a plain function describes nothing we could store as numbers


def _check_coefficient(argument: str, value: object, *, allow_zero: bool = True) -> float:
    """A decay rate such as a beta: a number in [0, 1)."""
    number = check.check_positive_float(argument, value, allow_zero=allow_zero)
    if number >= 1:
        raise ValueError(f"{argument} must be in [0, 1), got {number}")
    return number


def _frozen(array: FloatArray) -> FloatArray:
    """Make a slot array we just created read-only: states are values, never mutated."""
    array.flags.writeable = False
    return array


def _zero_slots(params: Params, names: tuple[str, ...]) -> OptimizerState:
    """The state before the first update: a read-only zero array per slot name and parameter of
    ``params``, which the caller has checked."""
    slots = {name: {key: _frozen(np.zeros_like(value)) for key, value in params.items()} for name in names}
    return OptimizerState(step=0, slots=slots)


def _check_epsilon(epsilon: float, params: Params, optimizer: str) -> None:
    """Refuse an ``epsilon`` below the smallest normal number of the (checked) params' dtype.

    Where a gradient is 0 the step is 0 / epsilon: zero, or NaN once epsilon is read as 0,
    which a dtype too narrow for it does (float32(1e-46) is 0) and so does the fused kernels'
    flushing of subnormal numbers (``fused.subnormals_flushed``)."""
    dtype = next(iter(params.values())).dtype
    tiny = float(np.finfo(dtype).tiny)
    if epsilon < tiny:
        raise ValueError(
            f"{optimizer}'s epsilon must be at least {dtype}'s smallest normal number {tiny:.4g} for {dtype} params, "
            f"got {epsilon:g}: below it a zero gradient makes 0/0 (NaN) steps"
        )


_PARAMS_CHECKED: ContextVar[bool] = ContextVar("functional_nn.optimizers._PARAMS_CHECKED", default=False)


@contextlib.contextmanager
def _params_already_checked() -> Iterator[None]:
    """Within it, ``update`` and ``update_in_place`` leave out ``check_params``: for a fold
    (``train``'s epoch) that checked its parameters once and passes each update what the
    previous one returned (``distributed.local_steps`` likewise). ``check_params`` costs about
    6 us a call on 784-256-10, a seventh of SGD's whole ``update`` (45 us, float32, timed
    alone); the grads' and slots' checks (2-3 us) and the step's (0.2 us) stay. The epoch's
    hooks (``on_batch``, the augmentation) run within it too."""
    token = _PARAMS_CHECKED.set(True)
    try:
        yield
    finally:
        _PARAMS_CHECKED.reset(token)


def _check_step(grads: Grads, state: OptimizerState, params: Params, names: tuple[str, ...], optimizer: str) -> None:
    """Cheap structural checks of an ``update`` call: types, keys, shapes and dtypes, no pass over the data."""
    given: tuple[object, object, object] = (grads, state, params)  # typed, but users pass what they like
    if not isinstance(given[1], OptimizerState):
        raise TypeError(f"state must be the OptimizerState returned by {optimizer}'s init or update, got {type(state).__name__}")
    if not isinstance(given[2], Mapping) or not isinstance(given[0], Mapping):
        raise TypeError(f"params and grads must be mappings, got {type(params).__name__} and {type(grads).__name__}")
    check.check_positive_int("state.step", state.step, minimum=0)  # a negative step divides Adam's correction by 0
    if not _PARAMS_CHECKED.get():
        check.check_params(params, finite=False)
    slots: object = state.slots  # typed, but users pass what they like
    if not isinstance(slots, Mapping) or set(slots) != set(names):
        described = sorted(slots) if isinstance(slots, Mapping) else f"{type(slots).__name__} {slots!r}"
        raise ValueError(
            f"state has the slots {described} but {optimizer} keeps {sorted(names)}: "
            "was it made by another optimizer's init?"
        )
    for name in names:
        if not isinstance(slots[name], Mapping):
            raise TypeError(
                f"state.slots['{name}'] must be a mapping of the parameters' keys to arrays, got {type(slots[name]).__name__}"
            )
    if len(grads) != len(params):
        expected = ["d" + key for key in params]
        raise ValueError(
            f"grads must have one entry per parameter ({sorted(expected)}), got {sorted(grads)}{check.key_difference(expected, grads)}"
        )
    for key, value in params.items():
        grad = grads.get("d" + key)
        if grad is None:
            raise ValueError(f"grads has no 'd{key}' for params['{key}'] (grads has {sorted(grads)})")
        pair: tuple[object, object] = (grad, value)
        if not isinstance(pair[1], np.ndarray):  # check_params has refused it unless train checked it
            raise TypeError(f"params['{key}'] must be a numpy ndarray, got {type(value).__name__}")
        if not isinstance(pair[0], np.ndarray):
            raise TypeError(
                f"grads['d{key}'] must be a numpy ndarray like params['{key}'], got {type(grad).__name__} "
                f"(np.asarray(grads['d{key}'], dtype=np.{value.dtype.name}) converts it)"
            )
        if type(grad) is not np.ndarray:  # a numpy.matrix or MaskedArray would come back as the new parameters, its mask ignored
            check.refuse_matrix(f"grads['d{key}']", grad)
        if grad.shape != value.shape or grad.dtype != value.dtype:
            hint = f": convert it, grads['d{key}'].astype(np.{value.dtype.name})" if grad.shape == value.shape else ""
            raise ValueError(
                f"grads['d{key}'] is {grad.dtype} {grad.shape} but params['{key}'] is {value.dtype} {value.shape}{hint}"
            )
        for name in names:
            slot = state.slots[name].get(key)
            if slot is not None and type(slot) is not np.ndarray:
                if not isinstance(slot, np.ndarray):
                    raise TypeError(f"state.slots['{name}']['{key}'] must be a numpy ndarray, got {type(slot).__name__}")
                check.refuse_matrix(f"state.slots['{name}']['{key}']", slot)
            if slot is None or slot.shape != value.shape or slot.dtype != value.dtype:
                described = "missing" if slot is None else f"{slot.dtype} {slot.shape}"
                raise ValueError(
                    f"state.slots['{name}']['{key}'] is {described} but params['{key}'] is {value.dtype} {value.shape}: "
                    "initialise the state from these params"
                )


def check_optimizer_state(state: object, optimizer: Optimizer, params: Params, *, made_by: str | None = None) -> OptimizerState:
    """Return ``state`` if ``optimizer`` can continue from it with ``params``, else raise.

    It must be an ``OptimizerState`` with a ``step >= 0`` and the slots ``optimizer.init``
    makes, each holding an array per parameter with that parameter's shape and dtype.
    ``made_by`` (``"lion's init"``) names the function that made ``state``, which is then
    ``optimizer.init(params)`` itself: only its slots' arrays are checked.
    """
    if not isinstance(state, OptimizerState):
        raise TypeError(f"optimizer_state must be an OptimizerState (a result's optimizer_state), got {type(state).__name__}")
    argument = "optimizer_state" if made_by is None else f"{made_by} state"
    check.check_positive_int(f"{argument}.step", state.step, minimum=0)
    slots: object = state.slots  # typed, but users pass what they like
    if made_by is None:
        expected = slot_names(optimizer, params)
        if not isinstance(slots, Mapping) or set(slots) != expected:
            raise ValueError(
                f"optimizer_state has the slots {sorted(slots) if isinstance(slots, Mapping) else slots!r} but {optimizer.name} keeps {sorted(expected)}: "
                "was it made by another optimizer?"
            )
    elif not isinstance(slots, Mapping):
        raise TypeError(f"{argument}.slots must be a mapping of slot names to params-shaped dicts, got {type(slots).__name__}")
    hint = ": the state belongs to another network" if made_by is None else ": a slot holds an array per parameter, of its shape and dtype"
    for name, slot in slots.items():
        check.check_like_params(f"{argument}.slots[{name!r}]", slot, params, hint=hint)
    return state


def slot_names(optimizer: Optimizer, params: Params) -> set[str]:
    """The names of the slots ``optimizer.init`` makes for ``params``, found from a state made
    for a one-element view of each array (same keys, dtypes and dimensions): a continued run
    checks them on every call, and a full-size state would allocate and zero every slot only to
    be thrown away."""
    tiny = {key: value[(slice(1),) * value.ndim] for key, value in params.items()}
    try:
        return set(optimizer.init(tiny).slots)
    except Exception:  # an optimizer of one's own that refuses one-element arrays: the real init says why, or answers
        return set(optimizer.init(params).slots)


def checked_init(optimizer: Optimizer, params: Params) -> OptimizerState:
    """``optimizer.init(params)``, refused, naming the optimizer, unless it is an ``OptimizerState``
    whose slots each hold an array per parameter of its shape and dtype (one of one's own, say)."""
    state: object = optimizer.init(params)
    if not isinstance(state, OptimizerState):
        raise TypeError(f"{optimizer.name}'s init must return an OptimizerState(step, slots), got {type(state).__name__}")
    return check_optimizer_state(state, optimizer, params, made_by=f"{optimizer.name}'s init")


def read_only_views(params: Params, state: OptimizerState) -> tuple[dict[str, FloatArray], OptimizerState]:
    """Views of ``params`` and of ``state``'s slot arrays that refuse writes: what a fold hands
    an ``update`` that should not write into arrays others hold (the caller's, a state handed out)."""
    views = {key: read_only_view(value) for key, value in params.items()}
    slots = {name: {key: read_only_view(value) for key, value in slot.items()} for name, slot in state.slots.items()}
    return views, OptimizerState(state.step, slots)


def read_only_view(array: FloatArray) -> FloatArray:
    """A view of ``array`` that refuses writes: what a fold hands out of arrays it keeps as they are."""
    view = array.view()
    view.flags.writeable = False
    return view


def call_update(
    optimizer: Optimizer, grads: Grads, state: OptimizerState, params: Params, *, in_place: bool = False
) -> tuple[dict[str, FloatArray], OptimizerState]:
    """``optimizer.update(grads, state, params)`` (or ``update_in_place``), for a fold, refused,
    naming the optimizer, unless it returns ``(new_params, new_state)`` with the params' keys,
    shapes and dtypes and an ``OptimizerState``; an ``update`` that writes into the read-only
    arrays it is handed (``read_only_views``) is named too. Cheap: no pass over the data
    (the fold watches for divergence), so every update is checked, one of one's own included."""
    function = f"{optimizer.name}'s {'update_in_place' if in_place else 'update'}"
    try:
        result: object = (optimizer.update_in_place if in_place and optimizer.update_in_place else optimizer.update)(
            grads, state, params
        )
    except ValueError as error:
        if in_place or "read-only" not in str(error):
            raise
        raise ValueError(
            f"{function} wrote into its arguments ({error}): an update must leave params, state and grads as they are "
            "and return new arrays (update_in_place is the form that overwrites, on arrays the fold owns)"
        ) from error
    if not isinstance(result, tuple) or len(result) != 2:
        described = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
        raise TypeError(f"{function} must return (new_params, new_state), got {described}")
    new_params, new_state = result
    if not isinstance(new_params, Mapping) or new_params.keys() != params.keys():
        keys = sorted(new_params) if isinstance(new_params, Mapping) else type(new_params).__name__
        raise ValueError(f"{function} must return new params with the keys {sorted(params)}, got {keys}")
    for key, value in params.items():
        new = new_params[key]
        if type(new) is not np.ndarray or new.shape != value.shape or new.dtype != value.dtype:
            described = f"{new.dtype} {new.shape}" if isinstance(new, np.ndarray) else type(new).__name__
            raise ValueError(
                f"{function} returned params[{key!r}] as {described} but params[{key!r}] is {value.dtype} {value.shape}: "
                "an update must keep each parameter's shape and dtype"
            )
    if not isinstance(new_state, OptimizerState):
        raise TypeError(f"{function} must return (new_params, new_state) with an OptimizerState, got {type(new_state).__name__}")
    return dict(new_params), new_state


def sgd(learning_rate: LearningRate, *, kernel: Kernel | None = None) -> Optimizer:
    r"""Plain (stochastic) gradient descent; no slots.

    .. math:: \theta_t = \theta_{t-1} - \alpha_t\, g_t

    Parameters
    ----------
    learning_rate : float > 0 or schedule
        :math:`\alpha_t`.
    kernel : {"numpy", "numba"}, optional
        How ``update_in_place`` computes (``update`` always uses NumPy's two passes): by
        default Numba's fused loop when Numba is installed, else NumPy. Bitwise the same.
    """
    learning_rate = _check_learning_rate(learning_rate)
    chosen = fused.check_kernel(kernel)

    def init(params: Params) -> OptimizerState:
        check.check_params(params)
        return OptimizerState(step=0, slots={})

    def update(grads: Grads, state: OptimizerState, params: Params) -> tuple[dict[str, FloatArray], OptimizerState]:
        _check_step(grads, state, params, (), "sgd")
        rate = _rate_at(learning_rate, state.step)
        return sgd_step(params, grads, rate), OptimizerState(step=state.step + 1, slots={})

    def update_in_place(
        grads: Grads, state: OptimizerState, params: Params
    ) -> tuple[dict[str, FloatArray], OptimizerState]:
        _check_step(grads, state, params, (), "sgd")
        _check_writeable(params, state, "sgd")
        rate = _rate_at(learning_rate, state.step)
        return _sgd_in_place(params, grads, rate, chosen), OptimizerState(step=state.step + 1, slots={})

    return Optimizer(init, update, "sgd", _describe_learning_rate(learning_rate), _in_place_form(update, update_in_place))


def momentum(learning_rate: LearningRate, beta: float = 0.9, *, nesterov: bool = False, kernel: Kernel | None = None) -> Optimizer:
    r"""Gradient descent with heavy-ball (Polyak 1964) or Nesterov momentum (Sutskever et al. 2013).

    With the velocity :math:`v_0 = 0`:

    .. math::

        v_t = \beta\, v_{t-1} + g_t, \qquad
        \theta_t = \theta_{t-1} - \alpha_t\, v_t \quad \text{(heavy ball)}, \qquad
        \theta_t = \theta_{t-1} - \alpha_t\, (g_t + \beta\, v_t) \quad \text{(Nesterov)}

    The Nesterov line is Sutskever et al.'s look-ahead update written, as in Bengio et al.
    2013, in terms of the parameters the gradient is taken at, so it needs no extra
    forward pass. The velocity accumulates raw gradients (no :math:`1 - \beta` factor), so
    in steady state a step is :math:`\alpha / (1 - \beta)` times the gradient: start from a
    learning rate about ``1 - beta`` times that of plain SGD.

    Parameters
    ----------
    learning_rate : float > 0 or schedule
        :math:`\alpha_t`.
    beta : float in [0, 1), default 0.9
        The momentum coefficient.
    nesterov : bool, default False
    kernel : {"numpy", "numba"}, optional
        How ``update_in_place`` computes (``update`` always uses NumPy's passes): Numba's
        fused loop when Numba is installed, else NumPy's. Bitwise the same.

    Slots
    -----
    ``"velocity"``: :math:`v`, shaped like the parameters.
    """
    learning_rate = _check_learning_rate(learning_rate)
    beta = _check_coefficient("beta", beta)
    if not isinstance(nesterov, bool):
        raise TypeError(f"nesterov must be a bool, got {type(nesterov).__name__}")
    names = ("velocity",)
    name = "nesterov_momentum" if nesterov else "momentum"
    chosen = fused.check_kernel(kernel)

    def init(params: Params) -> OptimizerState:
        check.check_params(params)
        return _zero_slots(params, names)

    def step_of(v: FloatArray, g: FloatArray, rate: float) -> FloatArray:
        """:math:`\\alpha_t v_t`, or :math:`\\alpha_t (g_t + \\beta v_t)` with Nesterov, in a new array."""
        if not nesterov:
            return v * rate
        direction = v * beta
        direction += g
        direction *= rate
        return direction

    def update(grads: Grads, state: OptimizerState, params: Params) -> tuple[dict[str, FloatArray], OptimizerState]:
        _check_step(grads, state, params, names, name)
        rate = _rate_at(learning_rate, state.step)
        old_velocity = state.slots["velocity"]
        new_params: dict[str, FloatArray] = {}
        velocity: dict[str, FloatArray] = {}
        for key, value in params.items():
            g = grads["d" + key]
            v = old_velocity[key] * beta
            v += g  # v, and below direction, are fresh temporaries: in-place is safe
            direction = step_of(v, g, rate)
            new_params[key] = np.subtract(value, direction, out=direction)
            velocity[key] = _frozen(v)
        return new_params, OptimizerState(step=state.step + 1, slots={"velocity": velocity})

    def update_array(g: FloatArray, v: FloatArray, p: FloatArray, rate: float) -> None:
        if chosen == "numba" and fused.fusable(g, v, p):
            dtype = p.dtype.type
            kernel_name = "nesterov_in_place" if nesterov else "momentum_in_place"
            fused.kernel(kernel_name)(g.reshape(-1), v.reshape(-1), p.reshape(-1), dtype(beta), dtype(rate))
            return
        v *= beta  # update's passes, with the velocity and the parameters written where they lie
        v += g
        np.subtract(p, step_of(v, g, rate), out=p)

    def update_in_place(grads: Grads, state: OptimizerState, params: Params) -> tuple[dict[str, FloatArray], OptimizerState]:
        return _one_slot_in_place(grads, state, params, "velocity", name, learning_rate, update_array)

    hyperparameters = _describe_learning_rate(learning_rate) + (("beta", beta),)
    return Optimizer(init, update, name, hyperparameters, _in_place_form(update, update_in_place))


def rmsprop(
    learning_rate: LearningRate = 1e-3, rho: float = 0.9, epsilon: float = 1e-8, *, kernel: Kernel | None = None
) -> Optimizer:
    r"""RMSProp (Tieleman & Hinton 2012, Coursera lecture 6.5): divide by a running RMS of the gradient.

    With :math:`s_0 = 0` and element-wise operations:

    .. math::

        s_t = \rho\, s_{t-1} + (1 - \rho)\, g_t^2, \qquad
        \theta_t = \theta_{t-1} - \alpha_t\, \frac{g_t}{\sqrt{s_t} + \epsilon}

    Parameters
    ----------
    learning_rate : float > 0 or schedule, default 1e-3
    rho : float in [0, 1), default 0.9
        Decay of the mean square.
    epsilon : float > 0, default 1e-8
        ``init`` refuses params of a dtype whose smallest normal number is above it
        (1.2e-38 in float32, 2.2e-308 in float64): a zero gradient would step by 0/0.
    kernel : {"numpy", "numba"}, optional
        How ``update_in_place`` computes (``update`` always uses NumPy's passes): Numba's
        fused loop when Numba is installed, else NumPy's. Bitwise the same.

    Slots
    -----
    ``"mean_square"``: :math:`s`, shaped like the parameters.
    """
    learning_rate = _check_learning_rate(learning_rate)
    rho = _check_coefficient("rho", rho)
    epsilon = check.check_positive_float("epsilon", epsilon)
    names = ("mean_square",)
    chosen = fused.check_kernel(kernel)

    def init(params: Params) -> OptimizerState:
        check.check_params(params)
        _check_epsilon(epsilon, params, "rmsprop")  # before allocating the slots
        return _zero_slots(params, names)

    def update(grads: Grads, state: OptimizerState, params: Params) -> tuple[dict[str, FloatArray], OptimizerState]:
        _check_step(grads, state, params, names, "rmsprop")
        rate = _rate_at(learning_rate, state.step)
        old_s = state.slots["mean_square"]
        new_params: dict[str, FloatArray] = {}
        mean_square: dict[str, FloatArray] = {}
        for key, value in params.items():
            g = grads["d" + key]
            s = _moving_average_of_square(old_s[key], g, rho)
            direction = np.sqrt(s)
            direction += epsilon
            np.divide(g, direction, out=direction)
            direction *= rate
            new_params[key] = np.subtract(value, direction, out=direction)
            mean_square[key] = _frozen(s)
        return new_params, OptimizerState(step=state.step + 1, slots={"mean_square": mean_square})

    def update_array(g: FloatArray, s: FloatArray, p: FloatArray, rate: float) -> None:
        if chosen == "numba" and fused.fusable(g, s, p):
            dtype = p.dtype.type
            fused.kernel("rmsprop_in_place")(g.reshape(-1), s.reshape(-1), p.reshape(-1), dtype(1.0 - rho), dtype(epsilon), dtype(rate))
            return
        change = np.square(g)  # update's passes, with s and the parameters written where they lie
        change -= s
        change *= 1.0 - rho
        s += change  # old + change is _moving_average_of_square's change + old: the same sum
        direction = np.sqrt(s)
        direction += epsilon
        np.divide(g, direction, out=direction)
        direction *= rate
        np.subtract(p, direction, out=p)

    def update_in_place(grads: Grads, state: OptimizerState, params: Params) -> tuple[dict[str, FloatArray], OptimizerState]:
        return _one_slot_in_place(grads, state, params, "mean_square", "rmsprop", learning_rate, update_array)

    hyperparameters = _describe_learning_rate(learning_rate) + (("rho", rho), ("epsilon", epsilon))
    return Optimizer(init, update, "rmsprop", hyperparameters, _in_place_form(update, update_in_place))


def _one_slot_in_place(
    grads: Grads, state: OptimizerState, params: Params, slot: str, optimizer: str, learning_rate: LearningRate,
    update_array: Callable[[FloatArray, FloatArray, FloatArray, float], None],
) -> tuple[dict[str, FloatArray], OptimizerState]:
    """``update_in_place`` of an optimizer with one slot (momentum's velocity, RMSProp's mean
    square): the checks, then ``update_array(g, slot_array, p, rate)`` writing each parameter
    and its slot array where they lie."""
    _check_step(grads, state, params, (slot,), optimizer)
    _check_writeable(params, state, optimizer)
    rate = _rate_at(learning_rate, state.step)
    arrays = state.slots[slot]
    for key, value in params.items():
        update_array(grads["d" + key], arrays[key], value, rate)
    return dict(params), OptimizerState(step=state.step + 1, slots={slot: dict(arrays)})


def _moving_average_of_square(old: FloatArray, g: FloatArray, beta: float) -> FloatArray:
    r""":math:`\beta\, v + (1 - \beta)\, g^2` in a new array, written :math:`v + (1 - \beta)(g^2 - v)`."""
    new = np.square(g)
    new -= old
    new *= 1.0 - beta
    new += old
    return new


class _AdamCoefficients(NamedTuple):
    """The scalars of update number ``t``, as Python floats (cast to the arrays' dtype on use)."""

    beta1: float
    one_minus_beta2: float
    inv_sqrt_correction2: float  # 1 / sqrt(1 - beta2^t): sqrt(v_hat) = sqrt(v) * this
    epsilon: float
    rate_over_correction1: float  # alpha_t / (1 - beta1^t): alpha_t m_hat = m * this


def _adam_coefficients(step: int, rate: float, beta1: float, beta2: float, epsilon: float) -> _AdamCoefficients:
    t = step + 1
    return _AdamCoefficients(beta1, 1.0 - beta2, 1.0 / math.sqrt(1.0 - beta2**t), epsilon, rate / (1.0 - beta1**t))


_KernelScalars: TypeAlias = dict[tuple[np.dtype[Any], float], tuple[np.floating[Any], ...]]
"""An update's scalars in each dtype, per (dtype, decay): the fused kernels take numbers of the
arrays' dtype (a Python float would make Numba compute in float64)."""


def _adam_array(
    g: FloatArray, old_m: FloatArray, old_v: FloatArray, old_p: FloatArray, m: FloatArray, v: FloatArray,
    p: FloatArray, c: _AdamCoefficients, decay: float, kernel: Kernel, scalars_by_dtype: _KernelScalars,
) -> None:  # fmt: skip
    r"""Adam's update of one parameter array, written into ``m``, ``v`` and ``p``.

    Either all three outputs are fresh arrays, or they are ``old_m``, ``old_v`` and ``old_p``
    themselves (in place). ``p`` receives :math:`\text{decay} \cdot p - \alpha_t \hat m_t /
    (\sqrt{\hat v_t} + \epsilon)` (``decay`` is 1 but for AdamW's decayed arrays).
    ``scalars_by_dtype`` is the update's own dict, shared by its arrays: each array's
    scalars are converted once per update, not once per array.
    """
    in_place = m is old_m
    if kernel == "numba" and (fused.fusable(g, m, v, p) if in_place else fused.fusable(g, old_m, old_v, old_p, m, v, p)):
        scalars = scalars_by_dtype.get((g.dtype, decay))
        if scalars is None:
            dtype = g.dtype.type
            scalars = scalars_by_dtype[g.dtype, decay] = (*(dtype(x) for x in c), dtype(decay))
        if in_place:
            fused.kernel("adam_in_place")(g.reshape(-1), m.reshape(-1), v.reshape(-1), p.reshape(-1), *scalars)
        else:
            flat = (a.reshape(-1) for a in (g, old_m, old_v, old_p, m, v, p))
            fused.kernel("adam_into")(*flat, *scalars)
        return
    # The reference: thirteen passes, no temporary but the step, which may be the new
    # params array itself (p - step is then written over it).
    step = p if not in_place and decay == 1.0 else np.empty_like(g)
    np.subtract(old_m, g, out=m)  # m_t = beta1 (m - g) + g
    m *= c.beta1
    m += g
    np.square(g, out=step)  # v_t = v + (1 - beta2)(g^2 - v), with step as scratch
    step -= old_v
    step *= c.one_minus_beta2
    np.add(step, old_v, out=v)
    np.sqrt(v, out=step)
    step *= c.inv_sqrt_correction2  # sqrt(v_hat)
    step += c.epsilon
    np.divide(m, step, out=step)
    step *= c.rate_over_correction1  # alpha * m_hat / (sqrt(v_hat) + eps)
    if decay == 1.0:
        np.subtract(old_p, step, out=p)
    else:
        np.multiply(old_p, decay, out=p)
        p -= step


def _arithmetic(kernel: Kernel) -> contextlib.AbstractContextManager[None]:
    """Numba's Adam runs with subnormals flushed to zero (``fused.subnormals_flushed``), NumPy's as it is."""
    return fused.subnormals_flushed() if kernel == "numba" else contextlib.nullcontext()


def _adam_family(
    name: str, learning_rate: LearningRate, beta1: float, beta2: float, epsilon: float,
    decay: Callable[[str, float], float], kernel: Kernel, hyperparameters: tuple[tuple[str, float], ...],
) -> Optimizer:  # fmt: skip
    """Adam, or AdamW with ``decay(key, rate)`` the factor on each parameter array."""
    names = ("m", "v")

    def init(params: Params) -> OptimizerState:
        check.check_params(params)
        _check_epsilon(epsilon, params, name)  # before allocating the slots
        return _zero_slots(params, names)

    def update(grads: Grads, state: OptimizerState, params: Params) -> tuple[dict[str, FloatArray], OptimizerState]:
        _check_step(grads, state, params, names, name)
        rate = _rate_at(learning_rate, state.step)
        c = _adam_coefficients(state.step, rate, beta1, beta2, epsilon)
        old_m, old_v = state.slots["m"], state.slots["v"]
        new_params: dict[str, FloatArray] = {}
        m: dict[str, FloatArray] = {}
        v: dict[str, FloatArray] = {}
        scalars: _KernelScalars = {}
        with _arithmetic(kernel):
            for key, value in params.items():
                new_params[key], m[key], v[key] = np.empty_like(value), np.empty_like(value), np.empty_like(value)
                _adam_array(
                    grads["d" + key], old_m[key], old_v[key], value, m[key], v[key], new_params[key], c,
                    decay(key, rate), kernel, scalars,
                )  # fmt: skip
        return new_params, freeze_state(OptimizerState(step=state.step + 1, slots={"m": m, "v": v}))

    def update_in_place(
        grads: Grads, state: OptimizerState, params: Params
    ) -> tuple[dict[str, FloatArray], OptimizerState]:
        _check_step(grads, state, params, names, name)
        _check_writeable(params, state, name)
        rate = _rate_at(learning_rate, state.step)
        c = _adam_coefficients(state.step, rate, beta1, beta2, epsilon)
        m, v = state.slots["m"], state.slots["v"]
        scalars: _KernelScalars = {}
        with _arithmetic(kernel):
            for key, value in params.items():
                _adam_array(
                    grads["d" + key], m[key], v[key], value, m[key], v[key], value, c, decay(key, rate), kernel, scalars
                )
        return dict(params), OptimizerState(step=state.step + 1, slots={"m": dict(m), "v": dict(v)})

    return Optimizer(init, update, name, _describe_learning_rate(learning_rate) + hyperparameters, _in_place_form(update, update_in_place))


def adam(
    learning_rate: LearningRate = 1e-3, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8, *,
    kernel: Kernel | None = None,
) -> Optimizer:
    r"""Adam (Kingma & Ba 2015, Algorithm 1), with bias correction.

    With :math:`m_0 = v_0 = 0`, update number :math:`t = 1, 2, \dots` and element-wise
    operations:

    .. math::

        m_t = \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2

        \hat m_t = \frac{m_t}{1 - \beta_1^t}, \qquad
        \hat v_t = \frac{v_t}{1 - \beta_2^t}, \qquad
        \theta_t = \theta_{t-1} - \alpha_t\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    Parameters
    ----------
    learning_rate : float > 0 or schedule, default 1e-3
        :math:`\alpha_t`.
    beta1, beta2 : float in [0, 1), default 0.9 and 0.999
    epsilon : float > 0, default 1e-8
        ``init`` refuses params of a dtype whose smallest normal number is above it
        (1.2e-38 in float32, 2.2e-308 in float64): a zero gradient would step by 0/0.
    kernel : {"numpy", "numba"}, optional
        By default Numba's fused loop (one pass per array) when Numba is installed, else
        NumPy's thirteen passes. Numba's runs with subnormal numbers flushed to zero
        (``fused.subnormals_flushed``: a moment decaying towards zero skips the subnormal
        range, where x86 arithmetic is many times slower, and one in it is read as zero);
        otherwise bitwise the same results. With ``epsilon`` near the subnormal range (1e-30
        in float32) a moment read as zero changes the step greatly: use ``"numpy"`` there.

    Slots
    -----
    ``"m"`` and ``"v"``: the first and second moments, shaped like the parameters.
    """
    learning_rate = _check_learning_rate(learning_rate)
    beta1 = _check_coefficient("beta1", beta1)
    beta2 = _check_coefficient("beta2", beta2)
    epsilon = check.check_positive_float("epsilon", epsilon)
    hyperparameters = (("beta1", beta1), ("beta2", beta2), ("epsilon", epsilon))
    return _adam_family("adam", learning_rate, beta1, beta2, epsilon, _no_decay, fused.check_kernel(kernel), hyperparameters)


def _no_decay(key: str, rate: float) -> float:
    return 1.0


def adamw(
    learning_rate: LearningRate = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    *,
    weight_decay: float = 1e-2,
    decay_biases: bool = False,
    kernel: Kernel | None = None,
) -> Optimizer:
    r"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019, Algorithm 2).

    The moments and :math:`\hat m_t`, :math:`\hat v_t` are Adam's (see ``adam``); the decay
    acts on the parameters directly instead of going through the gradient's moments:

    .. math::

        \theta_t = \theta_{t-1} - \alpha_t \Big(\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}
            + \lambda\, \theta_{t-1}\Big)

    This is the paper's :math:`\theta_t = \theta_{t-1} - \eta_t (\alpha \hat m_t / (\sqrt{\hat v_t}
    + \epsilon) + \lambda' \theta_{t-1})` with the schedule multiplier :math:`\eta_t = \alpha_t /
    \alpha` and :math:`\lambda' = \alpha \lambda`: the decay follows the learning rate and its
    schedule, as in the common implementations, so ``weight_decay`` is a fraction of the step.

    Parameters
    ----------
    learning_rate : float > 0 or schedule, default 1e-3
        :math:`\alpha_t`.
    beta1, beta2 : float in [0, 1), default 0.9 and 0.999
    epsilon : float > 0, default 1e-8
        As in ``adam``.
    weight_decay : float >= 0, default 1e-2
        :math:`\lambda`; 0 gives Adam exactly.
    decay_biases : bool, default False
        By default only the weights ``W1, W2, ...`` decay; the biases ``b1, b2, ...`` follow
        plain Adam, as they are commonly left out of any norm penalty (and so are they out of
        ``lambd``'s L2 penalty). ``True`` decays them too.
    kernel : {"numpy", "numba"}, optional
        As in ``adam``.

    Slots
    -----
    ``"m"`` and ``"v"``, as in ``adam``.
    """
    learning_rate = _check_learning_rate(learning_rate)
    beta1 = _check_coefficient("beta1", beta1)
    beta2 = _check_coefficient("beta2", beta2)
    epsilon = check.check_positive_float("epsilon", epsilon)
    weight_decay = check.check_positive_float("weight_decay", weight_decay, allow_zero=True)
    if not isinstance(decay_biases, bool):
        raise TypeError(f"decay_biases must be a bool, got {type(decay_biases).__name__}")
    chosen = fused.check_kernel(kernel)

    def decay(key: str, rate: float) -> float:
        return 1.0 - rate * weight_decay if weight_decay and (decay_biases or key.startswith("W")) else 1.0

    hyperparameters = (
        ("beta1", beta1), ("beta2", beta2), ("epsilon", epsilon), ("weight_decay", weight_decay),
        ("decay_biases", float(decay_biases)),
    )  # fmt: skip
    return _adam_family("adamw", learning_rate, beta1, beta2, epsilon, decay, chosen, hyperparameters)


def global_norm(grads: Grads) -> float:
    r"""The Euclidean norm of all the arrays stacked into one vector, :math:`\sqrt{\sum_k \lVert g_k\rVert_F^2}`.

    Parameters
    ----------
    grads : dict of str to ndarray
        Any arrays, e.g. ``"dW1"``, ``"db1"``, ...; not modified.

    Returns
    -------
    norm : float
        Finite for finite arrays, even where their squares overflow (float32 entries past
        ~1e19, float64 past ~1e154: then measured in units of the largest magnitude), unless
        the norm itself exceeds float64's range.

    Raises
    ------
    ValueError
        ``grads`` is empty, or an array holds NaN or infinite values.
    """
    checked = _check_arrays("grads", grads)
    return _global_norm(checked)


def _global_norm(arrays: Mapping[str, FloatArray]) -> float:
    unit, root = _global_norm_parts(arrays)
    return unit * root  # may overflow to inf for a norm beyond float64's range, never for its parts


def _global_norm_parts(arrays: Mapping[str, FloatArray]) -> tuple[float, float]:
    r"""``(u, r)`` with the global norm :math:`\lVert g\rVert = u\, r`: ``u`` is 1 unless the
    squares overflow float64, then the largest magnitude, which ``r`` is measured in.

    The common path is one BLAS dot per array; when that sum is not finite (float32 squares
    overflow past ~1.8e19), the squares are summed again in float64; when even those overflow
    (float64 entries past ~1e154), the arrays are divided by their largest magnitude first,
    which tells a large but finite norm from a NaN or infinite gradient.
    """
    total = 0.0
    for value in arrays.values():
        total += float(np.vdot(value, value))  # BLAS dot: one pass, no temporary
    if math.isfinite(total):
        return 1.0, math.sqrt(total)
    with np.errstate(over="ignore"):
        total = sum(float(np.sum(np.square(value, dtype=np.float64))) for value in arrays.values())
    if math.isfinite(total):
        return 1.0, math.sqrt(total)
    unit = max(float(np.max(np.abs(value), initial=0.0)) for value in arrays.values())
    if not math.isfinite(unit):  # an infinite or NaN entry: the norm is what it is
        return 1.0, math.sqrt(total)
    scaled = sum(float(np.sum(np.square(np.divide(value, unit, dtype=np.float64)))) for value in arrays.values())
    return unit, math.sqrt(scaled)


def clip_by_global_norm(grads: Grads, max_norm: float) -> dict[str, FloatArray]:
    r"""Scale every gradient by one factor so that their global norm is at most ``max_norm``
    (Pascanu, Mikolov & Bengio 2013).

    .. math:: g_k \leftarrow g_k \cdot \frac{c}{\max(c, \lVert g\rVert)}, \qquad
              \lVert g\rVert = \sqrt{\textstyle\sum_k \lVert g_k\rVert_F^2}

    The direction of the whole gradient is kept; only its length is capped.

    Parameters
    ----------
    grads : dict of str to ndarray
        ``"dW1"``, ``"db1"``, ...; not modified.
    max_norm : float > 0
        :math:`c`.

    Returns
    -------
    grads : dict of str to ndarray
        A new dict, each array shaped and typed like the input one. When the norm is already
        at most ``max_norm`` the input arrays themselves are returned (nothing is copied).
        Gradients whose squares overflow float64 are scaled as :math:`(g_k / u)(c / r)`, with
        :math:`u` their largest magnitude and :math:`r = \lVert g / u\rVert`.
    """
    checked = _check_arrays("grads", grads)
    max_norm = check.check_positive_float("max_norm", max_norm)
    return _clip_by_global_norm(checked, max_norm)


def _clip_by_global_norm(grads: Grads, max_norm: float) -> dict[str, FloatArray]:
    unit, root = _global_norm_parts(grads)
    norm = unit * root
    if not norm > max_norm:  # also leaves a NaN norm alone: train reports the divergence
        return dict(grads)
    if unit == 1.0:
        scale = max_norm / norm
        return {key: value * scale for key, value in grads.items()}
    # squares beyond float64: g c / (u r) as (g / u) (c / r), in float64, never forming u r
    factor = max_norm / root
    return {key: (np.divide(value, unit, dtype=np.float64) * factor).astype(value.dtype) for key, value in grads.items()}


def apply_max_norm(params: Params, max_norm: float) -> dict[str, FloatArray]:
    r"""Max-norm regularisation (Srivastava et al. 2014): cap the norm of every unit's incoming weights.

    Row :math:`i` of :math:`W_l` holds the weights into unit :math:`i` of layer :math:`l`;
    rows longer than :math:`c` are scaled back onto the ball of radius :math:`c`:

    .. math:: W_{l,i\cdot} \leftarrow W_{l,i\cdot} \cdot \frac{c}{\max(c, \lVert W_{l,i\cdot}\rVert_2)}

    Every weight matrix ``W1 .. WL`` is constrained (the output layer too); biases are left
    as they are. Meant to follow each optimizer update. A row whose squared norm overflows its
    dtype (float32 entries past ~1e19, float64 past ~1e154) is scaled all the same, computed
    in float64 relative to its largest entry: :math:`(w / a)(c / \lVert w / a\rVert)`.

    Parameters
    ----------
    params : dict of str to ndarray
        ``"W1"``: ``(n_1, n_0)``, ``"b1"``: ``(n_1, 1)``, ...; not modified.
    max_norm : float > 0
        :math:`c`, typically 3 to 4; refused if the params' dtype rounds it to 0.

    Returns
    -------
    params : dict of str to ndarray
        A new dict; arrays with no row to shrink are the input arrays themselves.
    """
    check.check_params(params)
    max_norm = check_max_norm(max_norm, params["W1"].dtype)
    return _apply_max_norm(params, max_norm)


def check_max_norm(max_norm: object, dtype: np.dtype[Any]) -> float:
    """``max_norm`` as a float if it is finite, > 0 and not rounded to 0 in ``dtype`` (float32
    below 7e-46), where an all-zero row's scale would be 0 / 0; else ``ValueError``."""
    number = check.check_positive_float("max_norm", max_norm)
    if dtype.type(number) == 0:
        raise ValueError(f"max_norm must be a number > 0 in the params' dtype, got {number:g}, which {dtype} rounds to 0")
    return number


def _apply_max_norm(params: Params, max_norm: float, *, in_place: bool = False) -> dict[str, FloatArray]:
    """Unchecked kernel of ``apply_max_norm``; ``in_place`` scales the rows of ``params``' own arrays."""
    new_params: dict[str, FloatArray] = {}
    for key, value in params.items():
        if not key.startswith("W"):
            new_params[key] = value
            continue
        squares: FloatArray = np.einsum("ij,ij->i", value, value)  # squared row norms, no temporary
        largest = float(squares.max())
        # inf: some square overflowed the dtype (float32 past ~1.8e19, float64 past ~1e154), which
        # a max_norm past ~1e154 (whose square is inf too) would not tell
        if not largest > max_norm * max_norm and largest != math.inf:
            new_params[key] = value
            continue
        norms = np.sqrt(squares)
        scale = max_norm / np.maximum(norms, max_norm)  # 1 for rows within the ball; never divides by 0
        overflowed = None
        if largest == math.inf:  # those rows' norms are inf, their scale 0: redo them without squaring
            rows = np.flatnonzero(np.isinf(squares) & np.isfinite(value).all(axis=1))
            onto_ball, shrunk = _rows_onto_ball(value[rows], max_norm)  # before value is scaled in place
            scale[rows] = 1
            overflowed = rows[shrunk], onto_ball[shrunk]
            if overflowed[0].size == 0 and not (scale < 1).any():
                new_params[key] = value
                continue
        if in_place:  # for train's own copies: no new array of the weights' size every step
            value *= scale[:, np.newaxis]
            new_params[key] = value
        else:
            new_params[key] = value * scale[:, np.newaxis]
        if overflowed is not None:
            new_params[key][overflowed[0]] = overflowed[1]  # a fresh array, or train's own copy
    return new_params


def _rows_onto_ball(rows: FloatArray, max_norm: float) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    r"""Finite ``rows`` ``(k, n)`` whose squared norms overflow their dtype, each scaled by
    :math:`c / \max(c, \lVert w\rVert)`, and which of them shrank ``(k,)``.

    Computed in float64 as :math:`(w / a)\, (c / r)` with :math:`a = \max_j |w_j|` and
    :math:`r = \lVert w / a\rVert \in [1, \sqrt n]`, so that neither a square nor the norm
    :math:`a r` is ever formed; returned in the rows' dtype.
    """
    unit: FloatArray = np.max(np.abs(rows), axis=1).astype(np.float64)
    scaled = np.divide(rows, unit[:, np.newaxis], dtype=np.float64)
    root: FloatArray = np.sqrt(np.einsum("ij,ij->i", scaled, scaled))
    shrunk: npt.NDArray[np.bool_] = max_norm / unit / root < 1  # else within the ball (a max_norm past 1e154)
    result: FloatArray = (scaled * (max_norm / root)[:, np.newaxis]).astype(rows.dtype)
    return result, shrunk


def _check_arrays(argument: str, arrays: object) -> dict[str, FloatArray]:
    if not isinstance(arrays, Mapping):
        raise TypeError(f"{argument} must be a non-empty mapping of names to arrays, got {type(arrays).__name__}")
    if not arrays:
        raise ValueError(f"{argument} is empty: expected a non-empty mapping of names to arrays, such as {{'dW1': ..., 'db1': ...}}")
    return {key: check.check_float_array(f"{argument}[{key!r}]", value, ndim=None) for key, value in arrays.items()}
