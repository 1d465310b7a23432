"""Checks shared by the public functions: each raises early, naming the argument, what was
expected and what came. Nothing here computes anything the caller keeps."""

from __future__ import annotations

import contextlib
import difflib
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeGuard, TypeVar, overload

import numpy as np

from functional_nn.types import FloatArray

NameT = TypeVar("NameT", bound=str)

PARAM_KEY = re.compile(r"([Wb])([1-9][0-9]*)")
"""A parameter's key, ``W1``, ``b1``, ...: its letter and its layer."""
_LAYER_KEY = re.compile(r"(d?[Wb])([1-9][0-9]*)")  # a parameter's key, or its gradient's


def read_only(array: FloatArray) -> FloatArray:
    """A view of ``array`` that refuses writes: what a record of one's own (an activation, a
    loss) is handed of arrays that others hold, the caller's targets and the network's caches."""
    view = array.view()
    view.flags.writeable = False
    return view


@contextlib.contextmanager
def writes_refused(owner: str, function: str, checker: str) -> Iterator[None]:
    """Within the block, ``owner``'s ``function`` runs on ``read_only`` arrays: NumPy's error for
    a write into one (``"output array is read-only"``) becomes a ``ValueError`` naming them."""
    try:
        yield
    except ValueError as error:
        if "read-only" not in str(error):
            raise
        raise ValueError(
            f"{owner}: {function} writes into one of its arguments ({error}), which belong to the caller and the "
            f"network's caches; work on a copy ({checker}(record) checks a record before training)"
        ) from error


def check_name(argument: str, value: object, allowed: Sequence[NameT], *, hints: Mapping[str, str] | None = None) -> NameT:
    """Return ``value`` if it is one of ``allowed``, else raise with a "did you mean" hint.

    ``hints`` maps names that other libraries use (folded: lower case, ``-`` as ``_``) to the
    hint for them, in place of the closest spelling: that of ``"he_normal"`` is
    ``"scaled_normal"``, another distribution, where ``"he"`` is meant."""
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be one of {list(allowed)}, got {type(value).__name__} {value!r}")
    for name in allowed:
        if value == name:
            return name
    # compared folded ("ReLU", "Leaky-ReLU" and "He" are the names "relu", "leaky_relu" and "he" as
    # papers write them): matched as given, "Relu" would be taken for "elu" and "ReLU" for nothing
    folded = {name.lower().replace("-", "_"): name for name in allowed}
    key = value.lower().replace("-", "_")
    if hints is not None and key in hints:
        raise ValueError(f"unknown {argument} {value!r}: expected one of {list(allowed)}; {hints[key]}")
    close = difflib.get_close_matches(key, list(folded), n=1)
    hint = f"; did you mean {folded[close[0]]!r}?" if close else ""
    raise ValueError(f"unknown {argument} {value!r}: expected one of {list(allowed)}{hint}")


def refuse_matrix(argument: str, value: object) -> None:
    """Refuse every ndarray subclass but ``np.memmap`` (a plain array backed by a file).

    ``numpy.matrix`` keeps ``*``, indexing and reductions 2-D; a ``numpy.ma.MaskedArray``
    hides its masked entries from every check (a masked ``inf`` passes ``np.isfinite(x).all()``)
    and then breaks the maths deep inside NumPy; any other subclass may override arithmetic
    likewise. Each is refused here, naming the type that came.
    """
    if not isinstance(value, np.ndarray) or type(value) is np.ndarray or isinstance(value, np.memmap):
        return
    if isinstance(value, np.matrix):
        raise TypeError(f"{argument} is a numpy.matrix, which is not supported: convert it with np.asarray({argument})")
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(
            f"{argument} is a numpy.ma.MaskedArray, which is not supported (its mask would be ignored): pass a plain "
            f"ndarray, e.g. {argument}.filled(value) with the value its masked entries should take"
        )
    kind = type(value)
    raise TypeError(
        f"{argument} is a {kind.__module__}.{kind.__qualname__}, a subclass of numpy.ndarray, which is not supported: "
        f"convert it with np.asarray({argument})"
    )


def check_float_array(
    argument: str, value: object, *, ndim: int | None = 2, finite: bool = True, targets: bool = False
) -> FloatArray:
    """Return ``value`` if it is a plain float32/float64 ndarray (or ``np.memmap``; no other
    subclass, see ``refuse_matrix``) of ``ndim`` dimensions with finite entries.

    ``targets`` marks a network's targets ``Y``, whose integers are most likely class labels:
    the error then says how to one-hot encode them, not how to scale pixels."""
    refuse_matrix(argument, value)
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{argument} must be a numpy ndarray, got {type(value).__name__}{_conversion_hint(argument, value)}")
    if value.dtype not in (np.float32, np.float64):
        hint = ""
        if value.dtype.kind == "f":
            native = value.dtype.newbyteorder("=")
            nearest = native.name if native in (np.float32, np.float64) else "float32" if native.itemsize < 4 else "float64"
            order = " in the other byte order" if native in (np.float32, np.float64) else ""
            hint = f"{order} (convert it first: {argument}.astype(np.{nearest}))"
        elif np.issubdtype(value.dtype, np.integer) or value.dtype == np.bool_:
            hint = (
                f" (class labels 0..K-1? one_hot(labels, K) makes the (K, m) targets; else {argument}.astype(np.float64))"
                if targets
                else " (convert it first, e.g. scale_pixels(x) for 0..255 pixels or x.astype(np.float64))"
            )
        raise TypeError(f"{argument} must have dtype float32 or float64, got {value.dtype}{hint}")
    if ndim is not None and value.ndim != ndim:
        hint = ""
        if targets and ndim == 2 and value.ndim == 1:  # labels or outputs of one unit, a sample per entry
            hint = (
                f": targets are (n_L, m), a column per sample; {argument}.reshape(1, -1) for one output unit, "
                "one_hot(labels, K) for K classes"
            )
        raise ValueError(f"{argument} must be {ndim}-D, got shape {value.shape}{hint}")
    if finite and not all_finite(value):
        count = int(value.size - np.count_nonzero(np.isfinite(value)))
        raise ValueError(f"{argument} contains {count} NaN or infinite value(s)")
    return value


FINITE_BLOCK: int = 1 << 18
"""Elements checked at a time by ``all_finite``: a 256 KB mask, not one a quarter of a float32 data set's size."""


def all_finite(value: np.ndarray[Any, Any]) -> bool:
    """``np.isfinite(value).all()``, checked a block of ``FINITE_BLOCK`` elements at a time in
    memory order, so that the boolean mask is never the size of ``value`` (a whole data set's
    count of bytes: 250 MB for a 1 GB float32 ``X``)."""
    if value.size <= FINITE_BLOCK:
        return bool(np.isfinite(value).all())
    flat = value.reshape(-1) if value.flags.c_contiguous else value.T.reshape(-1) if value.flags.f_contiguous else None
    if flat is not None:
        return all(bool(np.isfinite(flat[s : s + FINITE_BLOCK]).all()) for s in range(0, flat.size, FINITE_BLOCK))
    axis = int(np.argmax(np.abs(value.strides)))  # neither order: slices across the outermost axis in memory
    step = max(1, FINITE_BLOCK * value.shape[axis] // value.size)
    before = (slice(None),) * axis
    return all(
        bool(np.isfinite(value[before + (slice(s, s + step),)]).all()) for s in range(0, value.shape[axis], step)
    )


def _conversion_hint(argument: str, value: object) -> str:
    """How to turn ``value``, which is not an ndarray, into one: a Dask array is computed (it
    may not fit in memory, hence the pointer to the library's own way of training on a
    cluster), anything else NumPy can read is converted."""
    if type(value).__module__.split(".")[0] == "dask":
        return (
            f" (a Dask array: {argument}.compute() brings it into memory; functional_nn.distributed.train_rounds "
            "trains on data kept on a cluster)"
        )
    if hasattr(value, "__array__") or isinstance(value, (list, tuple)):
        return f" (np.asarray({argument}, dtype=np.float64) converts it)"
    return ""


def check_samples(argument: str, value: FloatArray) -> int:
    """Return ``m``, the number of columns, refusing an empty batch."""
    m = int(value.shape[1])
    if m == 0:
        raise ValueError(f"{argument} has no samples: shape {value.shape} has m = 0 columns")
    return m


def is_integer(value: object) -> TypeGuard[int | np.integer[Any]]:
    """A Python or NumPy integer, not a bool (which Python counts as an int)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_real_number(value: object) -> TypeGuard[int | float | np.integer[Any] | np.floating[Any]]:
    """A Python or NumPy integer or float, not a bool."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def is_named_pairs(value: object) -> bool:
    """A tuple or list of ``(name, value)`` pairs with str names, as an optimizer's or a
    schedule's ``hyperparameters`` are."""
    return isinstance(value, (tuple, list)) and all(
        isinstance(pair, (tuple, list)) and len(pair) == 2 and isinstance(pair[0], str) for pair in value
    )


def check_positive_int(argument: str, value: object, *, minimum: int = 1) -> int:
    if not is_integer(value):
        raise TypeError(f"{argument} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{argument} must be >= {minimum}, got {value}")
    return int(value)


def check_float_dtype(argument: str, dtype: object) -> None:
    """Refuse a ``dtype`` that is not ``numpy.float32`` or ``numpy.float64`` (the types, or
    ``np.dtype`` objects of them), naming ``argument``. An array given by mistake is refused in
    so many words: compared with the types, it would raise NumPy's own error."""
    if isinstance(dtype, np.ndarray):
        raise TypeError(f"{argument} must be numpy.float32 or numpy.float64, got a numpy array ({dtype.dtype} {dtype.shape}), not a dtype")
    if not isinstance(dtype, (type, np.dtype)) or dtype not in (np.float32, np.float64):
        raise TypeError(f"{argument} must be numpy.float32 or numpy.float64, got {dtype!r}")


def in_dtype(argument: str, values: FloatArray, dtype: np.dtype[Any], advice: str) -> FloatArray:
    """``values`` (finite, already checked) converted to the network's ``dtype``; ``ValueError``
    naming ``argument`` if one lies beyond that dtype's range, where the conversion would make
    it infinite (float64 values past 3.4e38 for a float32 network). ``advice`` ends the message
    ("scale the targets")."""
    if values.dtype == dtype:
        return values
    with np.errstate(over="ignore"):  # the overflow is reported below, naming the argument
        converted = values.astype(dtype)
    if not np.isfinite(converted).all():
        peak = float(np.max(np.abs(values)))
        raise ValueError(
            f"{argument} holds a value of magnitude {peak:.4g}, beyond the range of the network's {dtype} "
            f"({float(np.finfo(dtype).max):.4g}), which it is converted to: {advice}, or use float64 params"
        )
    return converted


def check_path(argument: str, value: object, *, example: str = "runs", file: bool = False) -> Path:
    """``value`` as a ``Path``: a str or an ``os.PathLike`` of one (else ``TypeError``), neither
    empty nor holding a NUL byte (else ``ValueError``). ``Path("")`` is the current directory,
    which an empty string from a blank setting never means.

    Parameters
    ----------
    example : str
        A good value, shown in the ``TypeError`` as ``pathlib.Path(example)``.
    file : bool
        ``value`` names a file to write, not a folder: a trailing separator is refused too
        (``ValueError``), since ``Path`` drops it and ``"out/new/"`` would write a file ``new``.
    """
    text = os.fspath(value) if isinstance(value, os.PathLike) else value
    if not isinstance(text, str):
        expected = f"a str or an os.PathLike such as pathlib.Path({example!r})"
        raise TypeError(f"{argument} must be {expected}, got {type(value).__name__} {value!r}")
    if not text:
        expected = "a file" if file else "a folder (or '.' for the current one)"
        raise ValueError(f"{argument} is an empty path: name {expected}")
    if "\0" in text:
        raise ValueError(f"{argument} holds a NUL byte, which no path can: {text!r}")
    if file and (text.endswith(os.sep) or (os.altsep is not None and text.endswith(os.altsep))):
        raise ValueError(f"{argument} must name a file, got {text!r}, which ends in a separator (a folder)")
    return Path(text)


@overload
def check_generator(
    argument: str, value: object, *, optional: Literal[False] = False, needed_by: str | None = None
) -> np.random.Generator: ...
@overload
def check_generator(
    argument: str, value: object, *, optional: bool, needed_by: str | None = None
) -> np.random.Generator | None: ...
def check_generator(
    argument: str, value: object, *, optional: bool = False, needed_by: str | None = None
) -> np.random.Generator | None:
    """Return ``value`` if it is a ``numpy.random.Generator`` (or ``None``, when ``optional``),
    else raise ``TypeError`` naming ``argument``, the fix and the type (and short value) that came.

    ``needed_by`` names what draws from the generator (``"batch_size"``, ``"dropout (keep_probs
    < 1)"``), which the message then gives as the reason; ``optional`` is then ignored. A seed,
    ``SeedSequence`` or ``BitGenerator`` given in its place gets the call that makes one of it."""
    if isinstance(value, np.random.Generator) or (value is None and optional and needed_by is None):
        return value
    expected = "a numpy.random.Generator such as np.random.default_rng(seed)"
    if needed_by is not None:
        expected += f" for {needed_by}, which draws from it"
    elif optional:
        expected = f"None or {expected}"
    if value is None:
        raise TypeError(f"{argument} must be {expected}, got None")
    if value is np.random.default_rng or value is np.random.Generator:  # the maker, not called
        maker = "np.random.default_rng" if value is np.random.default_rng else "np.random.Generator"
        raise TypeError(f"{argument} must be {expected}, got {maker} itself: call np.random.default_rng(seed)")
    if is_integer(value) and abs(int(value)) >= 10**20:
        raise TypeError(f"{argument} must be {expected}, got {describe_large_integer(int(value))}")
    came = type(value).__name__
    if isinstance(value, (int, float, complex, str, bytes, np.generic)) and len(repr(value)) <= 40:  # a short value
        came += f" {value!r}"
    if is_integer(value) and value >= 0:  # a seed in the generator's place
        hint = f": to draw from seed {int(value)}, pass np.random.default_rng({int(value)})"
    elif isinstance(value, (np.random.SeedSequence, np.random.BitGenerator)):
        hint = f": np.random.default_rng({argument}) makes a Generator of it"
    else:
        hint = ""
    raise TypeError(f"{argument} must be {expected}, got {came}{hint}")


def describe_large_integer(value: int) -> str:
    """``value`` named by its length, "an integer of 401 digits" (a minus sign not counted), for
    messages about integers too large to print; past ``str``'s limit on digits (4,300 by
    default), where ``str`` itself raises, by its bits."""
    sign = "a negative" if value < 0 else "an"
    try:
        return f"{sign} integer of {len(str(abs(value)))} digits"
    except ValueError:
        return f"{sign} integer of {abs(value).bit_length():,} bits"


def check_real_number(argument: str, value: object) -> float:
    """``value``, a Python or NumPy integer or float (not a bool), as a ``float``; an integer
    beyond the floats' range is refused naming ``argument``, not with ``float``'s ``OverflowError``."""
    if not is_real_number(value):
        raise TypeError(f"{argument} must be a number, got {type(value).__name__} {value!r}")
    try:
        return float(value)
    except OverflowError:  # an int beyond the floats' range
        raise ValueError(f"{argument} must be a finite number, got {describe_large_integer(int(value))}") from None


def check_positive_float(argument: str, value: object, *, allow_zero: bool = False) -> float:
    number = check_real_number(argument, value)
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        expected = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{argument} must be a finite number {expected}, got {value}")
    return number


def check_params(params: object, argument: str = "params", *, finite: bool = True) -> tuple[int, ...]:
    """Validate a parameter dict and return the layer sizes ``(n_0, n_1, ..., n_L)``.

    Keys must be exactly ``W1, b1, ..., WL, bL``; ``W{l}`` is ``(n_l, n_{l-1})`` with every
    ``n_l >= 1``, ``b{l}`` is ``(n_l, 1)``, all float arrays of one dtype with finite entries
    (unless ``finite`` is false: the structure alone, without a pass over the data).
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"{argument} must be a mapping of 'W1', 'b1', ... to arrays, got {type(params).__name__}")
    if len(params) == 0:
        raise ValueError(f"{argument} is empty: expected keys 'W1', 'b1', ..., 'WL', 'bL'")
    layers: set[int] = set()
    for key in params:
        match = PARAM_KEY.fullmatch(key) if isinstance(key, str) else None
        if match is None:
            raise ValueError(
                f"{argument} has an unexpected key {key!r}: a params dict holds only 'W1', 'b1', ..., 'WL', 'bL'"
                + (" (this looks like a grads dict)" if isinstance(key, str) and key.startswith("d") else "")
            )
        layers.add(int(match.group(2)))
    L = max(layers)
    missing = [f"{p}{l}" for l in range(1, L + 1) for p in "Wb" if f"{p}{l}" not in params]
    if missing:
        raise ValueError(f"{argument} is missing {missing} (has {sorted(params)})")
    sizes: list[int] = []
    dtype: np.dtype[Any] | None = None
    for l in range(1, L + 1):
        W = check_float_array(f"{argument}['W{l}']", params[f"W{l}"], finite=finite)
        b = check_float_array(f"{argument}['b{l}']", params[f"b{l}"], finite=finite)
        if dtype is None:
            dtype = W.dtype
        for key, value in ((f"W{l}", W), (f"b{l}", b)):
            if value.dtype != dtype:
                raise TypeError(f"{argument} mixes dtypes: {argument}['W1'] is {dtype}, {argument}['{key}'] is {value.dtype}")
        n_l, n_prev = int(W.shape[0]), int(W.shape[1])
        if n_l == 0 or (l == 1 and n_prev == 0):  # a later W's 0 columns fail the match with layer l - 1 below
            empty = f"layer {l} has no units" if n_l == 0 else "the input has no features"
            raise ValueError(f"{argument}['W{l}'] has shape {W.shape}: {empty}; every layer needs at least one")
        if l == 1:
            sizes.append(n_prev)
        elif n_prev != sizes[-1]:
            raise ValueError(
                f"{argument}['W{l}'] has shape {W.shape}: its {n_prev} columns must match the "
                f"{sizes[-1]} units of layer {l - 1}"
            )
        if b.shape != (n_l, 1):
            raise ValueError(f"{argument}['b{l}'] must have shape ({n_l}, 1) to match W{l} {W.shape}, got {b.shape}")
        sizes.append(n_l)
    return tuple(sizes)


def _network_position(key: object) -> tuple[int, int, str]:
    match = _LAYER_KEY.fullmatch(key) if isinstance(key, str) else None
    return (1, 0, repr(key)) if match is None else (0, int(match.group(2)), match.group(1))


def network_order(keys: Iterable[object]) -> list[object]:
    """``keys`` in the network's order, ``W1, b1, W2, ..., W10`` (``dW1, db1, ...``), not the
    strings' ``W1, W10, W11, W12, W2``; other keys, of any type, after them."""
    return sorted(keys, key=_network_position)


def key_difference(expected: Iterable[object], given: Iterable[object]) -> str:
    """`` (missing [...], unexpected [...])``: the keys ``given`` lacks and those it has beyond
    ``expected``, in the network's order, so that a message on a deep network names the one
    key that differs rather than listing two dozen; ``""`` when they are the same."""
    wanted, got = set(expected), set(given)
    parts = [f"{label} {network_order(keys)}" for label, keys in (("missing", wanted - got), ("unexpected", got - wanted)) if keys]
    return f" ({', '.join(parts)})" if parts else ""


def check_like_params(
    argument: str, arrays: object, params: Mapping[str, FloatArray], *, hint: str = "", reference: str = "params"
) -> None:
    """Refuse ``arrays`` (an optimizer slot, a best-parameters dict, a later snapshot) unless it
    maps exactly ``params``' keys to finite float arrays of each parameter's shape and dtype;
    ``params``, named ``reference`` in the messages, are checked already. ``hint`` ends the
    messages."""
    if not isinstance(arrays, Mapping) or set(arrays) != set(params):
        keys, difference = (sorted(arrays), key_difference(params, arrays)) if isinstance(arrays, Mapping) else (type(arrays).__name__, "")
        owner = "the params'" if reference == "params" else f"{reference}'s"
        raise ValueError(f"{argument} must have {owner} keys {sorted(params)}, got {keys}{difference}{hint}")
    for key, param in params.items():
        array = check_float_array(f"{argument}[{key!r}]", arrays[key], ndim=None)
        if array.shape != param.shape or array.dtype != param.dtype:
            raise ValueError(
                f"{argument}[{key!r}] is {array.dtype} {array.shape} but {reference}[{key!r}] is {param.dtype} {param.shape}{hint}"
            )


def check_same_dtype(argument: str, value: FloatArray, expected: np.dtype[Any], other: str) -> None:
    if value.dtype != expected:
        raise TypeError(
            f"{argument} has dtype {value.dtype} but {other} is {expected}: convert one, e.g. "
            f"{argument}.astype(np.{expected.name}), so that a float32 network stays float32"
        )
