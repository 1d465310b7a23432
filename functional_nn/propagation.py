r"""Forward and backward propagation through a multilayer perceptron.

For layers :math:`l = 1, \dots, L`, with :math:`A_0 = X` of shape ``(n_0, m)``:

.. math::

    Z_l = W_l A_{l-1} + b_l, \qquad A_l = g_l(Z_l)

and, going back from :math:`dZ_L` (``AL - Y`` for sigmoid + binary cross-entropy and softmax
+ categorical cross-entropy, else the chain rule through the loss and :math:`g_L`):

.. math::

    dW_l = \tfrac{1}{m}\, dZ_l A_{l-1}^\top + \tfrac{\lambda}{m} W_l, \quad
    db_l = \tfrac{1}{m}\, dZ_l \mathbf{1}, \quad
    dA_{l-1} = W_l^\top dZ_l, \quad
    dZ_{l-1} = dA_{l-1} \odot g_{l-1}'(Z_{l-1})

The public functions validate their arguments once and then call the unchecked kernels
``forward`` and ``backward``, which ``train`` uses on every mini-batch after validating the
whole data set up front.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from functional_nn import _validation as check
from functional_nn import fused
from functional_nn.activations import ACTIVATIONS, RELU, SOFTMAX, resolve_activation
from functional_nn.losses import check_targets, gradient_value, resolve_loss, targets_in_dtype
from functional_nn.sample_weights import Weights, batch_scale, check_sample_weight
from functional_nn.types import (
    Activation,
    ActivationFunction,
    BoolArray,
    Caches,
    FloatArray,
    IntArray,
    LayerCache,
    Loss,
    LossFunction,
    Params,
)


def check_activations(activations: object, L: int, *, layers: str | None = None) -> tuple[ActivationFunction, ...]:
    """Resolve one activation per layer, a built-in name or an ``ActivationFunction``, to records.

    ``layers``: what has the ``L`` layers, named when the count differs (by default the params).
    A single record (a tuple itself) is refused as a single name is, not read as its fields."""
    if isinstance(activations, (str, ActivationFunction)) or not isinstance(activations, Sequence):
        got = f"the single ActivationFunction {activations.name!r}" if isinstance(activations, ActivationFunction) else repr(activations)
        raise TypeError(
            f"activations must be a sequence of {L} names or ActivationFunction records, one per layer, such as "
            f"('relu', 'softmax'), got {got}"
        )
    if len(activations) != L:
        has = f"the params have {L} layers" if layers is None else layers
        raise ValueError(f"activations must name one activation per layer: {has}, got {len(activations)} names {list(activations)}")
    return tuple(resolve_activation(f"activations[{i}]", a) for i, a in enumerate(activations))


def check_loss_pairing(loss: LossFunction, output_activation: ActivationFunction) -> None:
    """Refuse a probability loss after an output activation whose values can leave [0, 1]."""
    low, high = output_activation.output_range
    if loss.probability_output and not (low >= 0 and high <= 1):
        suggestion = "'sigmoid' or 'softmax'" if loss.fused_activation is None else repr(loss.fused_activation.name)
        raise ValueError(
            f"loss {loss.name!r} needs outputs in [0, 1], but the output activation {output_activation.name!r} ranges "
            f"over [{low}, {high}]: use {suggestion} as the last activation, or 'mean_squared_error'"
        )


def check_softmax_units(
    activations: Sequence[ActivationFunction],
    sizes: Sequence[int],
    *,
    named: Callable[[int], tuple[str, str]] | None = None,
) -> None:
    """Refuse a softmax over a single unit in any layer, before any training.

    Over one unit, :math:`\\mathrm{softmax}(z) = e^z / e^z = 1` whatever :math:`z`: the layer's
    output is constant and its gradient 0, so no step moves the weights into it. As the
    output layer, ``predict`` would say class 1 for every sample; as a hidden layer, every
    later layer sees a constant input.

    ``named(l)``: how a wrapper's user wrote layer ``l``'s number of units and its activation,
    such as ``("hidden_layer_sizes[0]", "activation")``, named in the error instead of the
    parameters (``params' W1``) and ``activations[0]``, which that user never wrote.
    """
    L = len(sizes) - 1
    for l, activation in enumerate(activations, start=1):
        if sizes[l] != 1 or activation.name != SOFTMAX.name:  # a record of your own cannot take a built-in name
            continue
        if named is not None:
            size_name, activation_name = named(l)
            units = f"{size_name} is 1"
        else:
            units = "params' last W has 1 row" if l == L else f"params' W{l} has 1 row"
            activation_name = "its activation" if l == L else f"its activation (activations[{l - 1}])"
        which, then = (
            ("the output layer", "so training could never learn: use 'sigmoid' for one output unit (0/1 labels), or one unit per class with one-hot targets")
            if l == L
            else (f"hidden layer {l}", "so the layers after it would see a constant: give that layer more units or another activation, such as 'relu' or 'tanh'")
        )
        raise ValueError(f"{which} has 1 unit ({units}) but {activation_name} is 'softmax', whose output over one unit is always 1, {then}")


class CheckedNetwork(NamedTuple):
    """A network ``check_network`` accepted: its layer sizes ``(n_0, ..., n_L)``, one
    activation record per layer and the loss record."""

    sizes: tuple[int, ...]
    activations: tuple[ActivationFunction, ...]
    loss: LossFunction


def check_network(params: Params, activations: object, loss: Loss | LossFunction) -> CheckedNetwork:
    """The checks of a network and its loss before its data: the parameters' keys and
    shapes, one known activation per layer and a known loss that suits the output
    activation (``check_loss_pairing``)."""
    sizes = check.check_params(params)
    records = check_activations(activations, len(sizes) - 1)
    loss_record = resolve_loss("loss", loss)
    check_loss_pairing(loss_record, records[-1])
    return CheckedNetwork(sizes, records, loss_record)


def check_trainable_network(params: Params, activations: object, loss: Loss | LossFunction) -> CheckedNetwork:
    """``check_network``, and no softmax over one unit (``check_softmax_units``): the checks
    every trainer makes of the network before its data."""
    network = check_network(params, activations, loss)
    check_softmax_units(network.activations, network.sizes)
    check_decision_threshold(network.loss, network.activations[-1], network.sizes[-1])
    return network


def check_decision_threshold(loss: LossFunction, output_activation: ActivationFunction, units: int) -> None:
    r"""Refuse one output unit whose activation keeps every output on one side of the loss's
    ``decision_threshold``, before any training.

    With one unit, the epochs' accuracies call a sample class 1 where the output is at or above
    the threshold: the hinge loss's 0 after ``'sigmoid'``, ``'relu'`` or ``'softplus'``, whose
    outputs are never negative, would score every sample class 1 whatever the network learns
    (and ``predict`` would read a sigmoid's output at 0.5, contradicting them). The hinge loss
    wants a score on both sides of 0, a margin :math:`t a \ge 1` for either label.
    """
    threshold = loss.decision_threshold
    if units != 1 or threshold is None:
        return
    low, high = output_activation.output_range
    if low < threshold <= high:
        return
    everything = 1 if low >= threshold else 0
    suggestion = (
        "use 'linear' or 'tanh' as the last activation with it (or 'sigmoid' with 'binary_cross_entropy' and 0/1 labels)"
        if loss.name == "hinge"
        else f"use a last activation whose outputs lie on both sides of {threshold:g}"
    )
    raise ValueError(
        f"loss {loss.name!r} calls a sample class 1 where the one output unit is >= {threshold:g}, but the output "
        f"activation {output_activation.name!r} ranges over [{low}, {high}]: every sample would be class {everything} "
        f"whatever the network learns; {suggestion}"
    )


def check_keep_probs(
    keep_probs: float | Sequence[float] | None, L: int, dtype: npt.DTypeLike | None = None
) -> tuple[float, ...] | None:
    """Validate dropout keep probabilities for the ``L - 1`` hidden layers; ``None`` if none drop.

    With the network's ``dtype``, each must also have an inverse finite in it (``_check_inverse``),
    and the 16-bit draws must keep units with about that probability (``_check_resolution``).
    """
    if keep_probs is None:
        return None
    given: object = keep_probs  # typed, but users pass what they like
    if check.is_real_number(given):
        keep = _as_float("keep_probs", keep_probs)  # type: ignore[arg-type]  # is_real_number checked it
        if L == 1 and keep != 1:  # the scalar is each hidden layer's, and there is none: it would drop nothing
            if not 0 < keep <= 1:  # nor is it a probability: say that, as for a network with hidden layers
                raise ValueError(f"keep_probs must be in (0, 1], got {keep}")
            raise ValueError(f"keep_probs={keep} drops hidden units, but the network has no hidden layer: pass None (no dropout)")
        keeps: tuple[float, ...] = (keep,) * (L - 1)
    elif isinstance(given, Sequence) and not isinstance(given, str):
        for i, keep in enumerate(given):
            if not check.is_real_number(keep):
                raise TypeError(f"keep_probs[{i}] must be a number in (0, 1], got {type(keep).__name__} {keep!r}")
        keeps = tuple(_as_float(f"keep_probs[{i}]", k) for i, k in enumerate(given))
        if len(keeps) != L - 1:
            raise ValueError(f"keep_probs must give one probability per hidden layer ({L - 1}), got {len(keeps)}")
    else:
        raise TypeError(f"keep_probs must be a number or a sequence of {L - 1} numbers in (0, 1], got {keep_probs!r}")
    for i, keep in enumerate(keeps):
        if not 0 < keep <= 1:
            raise ValueError(f"keep_probs[{i}] must be in (0, 1], got {keep}")
        _check_inverse(f"keep_probs[{i}]", keep, dtype)
        _check_resolution(f"keep_probs[{i}]", keep)
    return keeps if any(keep < 1 for keep in keeps) else None


def _as_float(argument: str, keep: float) -> float:
    """A keep probability that ``is_real_number`` let through, as a float: an integer too large
    for one (``float`` raises ``OverflowError``) is outside (0, 1] like any other but 1."""
    try:
        return float(keep)
    except OverflowError:
        raise ValueError(f"{argument} must be in (0, 1], got an integer beyond the range of floats") from None


def _check_inverse(argument: str, keep: float, dtype: npt.DTypeLike | None) -> None:
    """Inverted dropout divides the kept units by ``keep``: refuse a ``keep`` so small that
    ``1 / keep`` overflows ``dtype`` (below 2.9e-39 in float32), which would make every kept
    unit infinite and the dropped ones ``0 * inf = NaN``."""
    if dtype is None:
        return
    largest = float(np.finfo(dtype).max)
    if 1 / keep > largest:
        raise ValueError(
            f"{argument} is {keep}: the kept units are divided by it, and 1/{keep} overflows {np.dtype(dtype).name}; "
            f"expected at least {1 / largest:.3g}"
        )


def _check_resolution(argument: str, keep: float) -> None:
    r"""Refuse a ``keep`` that the 16-bit draws cannot follow: they keep a unit with probability
    :math:`\lceil keep\,2^{16} \rceil / 2^{16}`, and the kept units are divided by ``keep``, so
    a layer's expected output grows by that ratio, which is 1.5 at 1e-5 and grows without bound
    as ``keep`` shrinks. Accepted when the draws keep at most 1% more than asked: always from
    ``DROPOUT_SMALLEST_KEEP`` (100 / 65536, about 0.0015) up, and below it for multiples of
    :math:`2^{-16}`, which the draws keep exactly."""
    kept = dropout_limit(keep) / 2.0**DROPOUT_DRAW_BITS
    if kept > 1.01 * keep:
        raise ValueError(
            f"{argument} is {keep:g}, but dropout's 16-bit draws would keep {kept:.4g} of the units, "
            f"{kept / keep - 1:.1%} more, and the kept units are divided by {keep:g}, which would inflate the "
            f"layer's output by {kept / keep:.3g} times on average; expected at least {DROPOUT_SMALLEST_KEEP:.4g} "
            "(100 / 65536) or a multiple of 1 / 65536"
        )


DROPOUT_DRAW_BITS: Final = 16
r"""Bits of a dropout draw: each unit's uniform number lies on the grid :math:`k\,2^{-16}`."""

DROPOUT_SMALLEST_KEEP: Final = 100 / 2**DROPOUT_DRAW_BITS
"""From this keep probability up, the draws keep at most 1% more units than asked (``_check_resolution``)."""


def dropout_keeps(rng: np.random.Generator, shape: tuple[int, ...], keep: float) -> BoolArray:
    r"""Dropout's draw: ``True`` where a unit is kept, each with probability ``keep`` (to within :math:`2^{-16}`).

    Each unit draws a 16-bit integer :math:`k` and is kept when the uniform number
    :math:`u = k\,2^{-16}` is below ``keep``, which is when :math:`k < \lceil keep\,2^{16} \rceil`:

    ``rng.integers(0, 2**16, size=shape, dtype=np.uint16) < ceil(keep * 2**16)``

    the same booleans and the generator left alike. The probability a unit is kept is
    :math:`\lceil keep\,2^{16} \rceil / 2^{16}`, at most :math:`2^{-16}` above ``keep``.
    Sixteen bits take a quarter of a raw 64-bit output where ``rng.random`` takes half
    (float32) or all of it (float64): a step of 784-512-256-10 keeping 0.8 spent 166 us of
    1.74 ms on its masks with float draws and spends 94 us of 1.54 ms.

    NumPy makes these integers from the generator's 32-bit numbers, low half first. For
    PCG64 (``default_rng``'s) they are the halves of ``float32_bits``'s numbers, taken from
    the raw outputs without NumPy's loop over units; another bit generator, or a big-endian
    machine, takes ``rng.integers`` itself. ``tests/test_propagation.py`` checks both against it.
    """
    size = math.prod(shape)
    limit = dropout_limit(keep)
    draws = dropout_draws(rng, size)
    kept = draws < np.uint16(limit) if limit < 2**DROPOUT_DRAW_BITS else np.ones(size, dtype=bool)
    return kept.reshape(shape)


def dropout_limit(keep: float) -> int:
    r""":math:`\lceil keep\,2^{16} \rceil`: a unit is kept when its 16-bit draw is below it."""
    return math.ceil(keep * 2.0**DROPOUT_DRAW_BITS)


def dropout_draws(rng: np.random.Generator, size: int) -> npt.NDArray[np.uint16]:
    """``rng.integers(0, 2**16, size=size, dtype=np.uint16)``: ``dropout_keeps``' draws, 1-D."""
    bits = float32_bits(rng, (size + 1) // 2)  # an odd size leaves the last half unused, as rng.integers does
    if bits is None:
        drawn: npt.NDArray[np.uint16] = rng.integers(0, 2**DROPOUT_DRAW_BITS, size=size, dtype=np.uint16)
        return drawn
    return bits.view(np.uint16)[:size]


def float32_bits(rng: np.random.Generator, size: int) -> npt.NDArray[np.uint32] | None:
    """The ``size`` 32-bit numbers ``u`` that ``rng.random(size, dtype=np.float32)`` turns into
    its floats ``(u >> 8) 2^{-24}``, drawn, with the generator left exactly as ``rng.random``
    leaves it; ``None``, with nothing drawn, for another bit generator than PCG64 or on a
    big-endian machine (where ``view(np.uint32)`` would put the high half first).

    PCG64 makes 32-bit numbers from its 64-bit outputs, the low half first, keeping the high
    half in a one-number buffer (``state["has_uint32"]``, ``state["uinteger"]``) for the next
    32-bit draw. So: the buffered half if there is one, then the halves of
    ``bit_generator.random_raw`` outputs in order, and the buffer set as those draws leave it.
    A generator whose last 32-bit draw had an odd length (a permutation of fewer than
    :math:`2^{32}` items may leave one) has a half buffered: half of the epochs of a run.
    """
    bit_generator = rng.bit_generator
    if type(bit_generator) is not np.random.PCG64 or sys.byteorder != "little":
        return None
    before = bit_generator.state
    buffered = int(before["has_uint32"]) if size else 0
    needed = size - buffered  # the halves to take from fresh outputs
    raw = bit_generator.random_raw((needed + 1) // 2)
    bits: npt.NDArray[np.uint32] = raw.view(np.uint32)
    if buffered:
        bits = np.concatenate((np.array([before["uinteger"]], dtype=np.uint32), bits))
    if raw.size:  # rng.random leaves the last output's high half in the buffer, pending if unused
        bit_generator.state = {**bit_generator.state, "has_uint32": needed % 2, "uinteger": int(raw[-1] >> np.uint64(32))}
    elif buffered:  # the buffered half alone, used up
        bit_generator.state = {**before, "has_uint32": 0}
    return bits[:size]


def forward(
    X: FloatArray,
    params: Params,
    activations: Sequence[ActivationFunction],
    keep_probs: Sequence[float] | None = None,
    rng: np.random.Generator | None = None,
    input_keep_prob: float | None = None,
    kernel: fused.Kernel = "numpy",
) -> tuple[FloatArray, Caches]:
    """Unchecked kernel of ``forward_propagation``: arguments must already be valid.

    Per layer: one matmul into a fresh ``Z``, the bias added in place, and the activation's
    one or two passes; nothing else touches arrays of the batch's size. With
    ``kernel="numba"`` a ReLU layer's bias, activation and dropout are one fused pass
    (``_relu_layer``) and a softmax layer's bias and activation two (``_softmax_layer``),
    bitwise the same arrays.
    """
    A = X
    if input_keep_prob is not None and input_keep_prob < 1:
        assert rng is not None
        # No gradient flows to X, so the input mask need not be cached: layer 1's A_prev is
        # the dropped input itself.
        A = X * dropout_keeps(rng, X.shape, input_keep_prob)
        A *= X.dtype.type(1 / input_keep_prob)  # A is a fresh temporary
    caches: list[LayerCache] = []
    L = len(activations)
    for l in range(1, L + 1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        Z = W @ A
        activation = activations[l - 1]
        keep = keep_probs[l - 1] if keep_probs is not None and l < L else 1.0
        if kernel == "numba" and activation == RELU and b.dtype == Z.dtype:
            A_next, mask, dropped = _relu_layer(Z, b, keep, rng)
        else:
            if kernel == "numba" and activation == SOFTMAX and b.dtype == Z.dtype:
                A_next = _softmax_layer(Z, b)
            else:
                Z += b  # Z is a fresh temporary
                A_next = _record_output(_own_forward(activation, Z, l), Z, activation.name, l, "forward")
            mask = None
            if keep < 1:
                assert rng is not None
                mask = dropout_keeps(rng, Z.shape, keep).astype(Z.dtype)
                mask *= Z.dtype.type(1 / keep)  # mask is a fresh temporary
            dropped = A_next if mask is None else A_next * mask
        caches.append(LayerCache(A, W, Z, A_next, activation, mask))
        A = dropped
    return A, tuple(caches)


def _relu_layer(
    Z: FloatArray, b: FloatArray, keep: float, rng: np.random.Generator | None
) -> tuple[FloatArray, FloatArray | None, FloatArray]:
    """A ReLU layer's ``A = max(Z + b, 0)``, dropout ``mask`` and ``A * mask`` by one fused pass.

    ``Z`` is the fresh product ``W A_prev`` and gets its bias in place, as in ``forward``'s
    NumPy code; ``mask`` is ``None`` and the dropped activations are ``A`` when ``keep`` is 1.
    The draws are ``dropout_keeps``', so the generator moves as it does there.
    """
    A = np.empty_like(Z)
    bias = b.reshape(-1)
    if keep == 1:
        fused.kernel("relu_forward")(Z, bias, A)
        return A, None, A
    assert rng is not None
    mask, dropped = np.empty_like(Z), np.empty_like(Z)
    draws = dropout_draws(rng, Z.size)
    fused.kernel("relu_dropout_forward")(Z, bias, draws, dropout_limit(keep), Z.dtype.type(1 / keep), A, mask, dropped)
    return A, mask, dropped


def _softmax_layer(Z: FloatArray, b: FloatArray) -> FloatArray:
    """A softmax layer's ``A = softmax(Z + b)``: ``activations.softmax``'s bits in two fused loops around NumPy's exp.

    ``Z`` is the fresh product ``W A_prev`` and gets its bias in place, as in ``forward``'s
    NumPy code. Six NumPy calls on an output layer's few rows become three, which is what
    pays: a 10 x 128 layer's passes cost next to nothing, each call's start does not.
    """
    E = np.empty_like(Z)
    fused.kernel("softmax_shift")(Z, b.reshape(-1), E)
    with np.errstate(over="ignore", under="ignore"):  # as softmax: e^-inf = 0 and tiny exponentials are right
        np.exp(E, out=E)
    fused.kernel("softmax_normalise")(E)
    return E


def backward(
    AL: FloatArray, Y: FloatArray, caches: Caches, loss: LossFunction, lambd: float = 0.0, kernel: fused.Kernel = "numpy",
    weights: Weights | None = None,
) -> dict[str, FloatArray]:
    r"""Unchecked kernel of ``backward_propagation``: arguments must already be valid.

    The mean's :math:`1/m` is applied once, to :math:`dZ_L` (``n_L x m`` numbers), and so
    carried into every :math:`dZ_l`, :math:`dW_l` and :math:`db_l` by linearity instead of
    scaling each ``dW`` afterwards. Every :math:`dA_{l-1} = W_l^\top dZ_l` is a fresh array,
    so the dropout mask and the activation's backward pass are applied to it in place; the
    caches are only read. :math:`db_l = dZ_l \mathbf{1}` is a matrix-vector product. With
    ``kernel="numba"`` a ReLU layer's mask and derivative are one fused pass, bitwise the same.
    With sample ``weights`` :math:`w` (``(m,)``, summing to :math:`S > 0`) column :math:`j`
    is scaled by :math:`w_j / S` instead, and the L2 term by :math:`\lambda / S`.
    """
    L = len(caches)
    m = AL.shape[1]
    dtype = AL.dtype
    Y = Y.astype(dtype, copy=False)
    scale: FloatArray | np.floating[Any]
    if weights is None:
        scale, total = dtype.type(1 / m), float(m)
    else:
        scale, total = batch_scale(weights, dtype)
    last = caches[-1]
    dZ: FloatArray
    if loss.fused_activation is not None and loss.fused_activation == last.activation:  # the pairing it declares
        dZ = AL - Y
        dZ *= scale  # dZ is a fresh temporary
    else:
        # Scaled into a new array: a loss of one's own may return one of its arguments (the
        # gradient of mean(Y * AL) is Y), which scaling in place would write into.
        dA_L = _record_output(gradient_value(loss, AL, Y), AL, loss.name, 0, "gradient") * scale
        dZ = _activation_backward(last.activation, dA_L, last, L)
    ones = np.ones((m, 1), dtype=dtype)
    grads: dict[str, FloatArray] = {}
    for l in range(L, 0, -1):
        cache = caches[l - 1]
        if l < L:
            dA = caches[l].W.T @ dZ
            mask = cache.dropout_mask
            if kernel == "numba" and cache.activation == RELU and fused.fusable(dA, cache.A, mask):
                if mask is None:
                    fused.kernel("relu_backward")(dA, cache.A)
                else:
                    fused.kernel("relu_dropout_backward")(dA, mask, cache.A)
                dZ = dA  # dA is a fresh temporary
            else:
                if mask is not None:
                    dA *= mask  # dA is a fresh temporary
                dZ = _activation_backward(cache.activation, dA, cache, l)
        dW = dZ @ cache.A_prev.T
        if lambd:
            dW += cache.W * dtype.type(lambd / total)  # dW is a fresh temporary
        grads[f"dW{l}"] = dW
        grads[f"db{l}"] = dZ @ ones
    return {f"d{p}{l}": grads[f"d{p}{l}"] for l in range(1, L + 1) for p in "Wb"}


def _own_forward(activation: ActivationFunction, Z: FloatArray, l: int) -> FloatArray:
    """Layer ``l``'s ``activation.forward(Z)``; a record of one's own gets ``Z`` read-only, the
    cache's ``Z`` that its backward pass reads, and one that writes into it is named."""
    if activation.name in ACTIVATIONS:  # a built-in: writes into nothing
        return activation.forward(Z)
    frozen = check.read_only(Z)
    with check.writes_refused(f"layer {l}'s activation {activation.name!r}", "forward", "check_activation"):
        A = activation.forward(frozen)
    return Z if A is frozen else A  # an identity of one's own: Z itself, as the built-in linear gives


def _activation_backward(activation: ActivationFunction, dA: FloatArray, cache: LayerCache, l: int) -> FloatArray:
    """Layer ``l``'s ``dZ`` from the fresh ``dA``: the record's in-place backward pass if it has one.
    A record of one's own gets the cache's ``Z`` and ``A`` read-only (``dA`` is its to write)."""
    function = "backward" if activation.backward_in_place is None else "backward_in_place"
    derivative = activation.backward if activation.backward_in_place is None else activation.backward_in_place
    if activation.name in ACTIVATIONS:  # a built-in: writes into nothing but dA
        return _record_output(derivative(dA, cache.Z, cache.A), cache.Z, activation.name, l, function)
    with check.writes_refused(f"layer {l}'s activation {activation.name!r}", function, "check_activation"):
        dZ = derivative(dA, check.read_only(cache.Z), check.read_only(cache.A))
    return _record_output(dZ, cache.Z, activation.name, l, function)


def _record_output(result: object, like: FloatArray, name: str, l: int, function: str) -> FloatArray:
    """``result``, what a record's ``function`` returned, if it is an ndarray of ``like``'s shape and dtype.

    Else raise (``TypeError`` for another type or dtype, ``ValueError`` for another shape), naming
    layer ``l``'s activation, or for ``l = 0`` the loss, ``name``: a user's function of the wrong
    shape would broadcast into gradients of the right shapes and wrong values, and one of
    another dtype would turn a float32 network float64. Three comparisons, no pass over the data.
    """
    if isinstance(result, np.ndarray) and result.shape == like.shape and result.dtype == like.dtype:
        return result
    owner = f"loss {name!r}" if l == 0 else f"layer {l}'s activation {name!r}"
    given = "AL" if l == 0 else "Z"
    got = f"{result.dtype} {result.shape}" if isinstance(result, np.ndarray) else type(result).__name__
    error = ValueError if isinstance(result, np.ndarray) and result.dtype == like.dtype else TypeError
    raise error(
        f"{owner}: {function} returned {got} for {given} of {like.dtype} {like.shape}; it must return an array of "
        f"{given}'s shape and dtype (check_{'loss' if l == 0 else 'activation'}(record) checks a record before training)"
    )


def forward_propagation(
    X: FloatArray,
    params: Params,
    activations: Sequence[Activation | ActivationFunction],
    *,
    keep_probs: float | Sequence[float] | None = None,
    rng: np.random.Generator | None = None,
    input_keep_prob: float | None = None,
    kernel: fused.Kernel | None = None,
) -> tuple[FloatArray, Caches]:
    r"""Run ``X`` through the network: :math:`Z_l = W_l A_{l-1} + b_l`, :math:`A_l = g_l(Z_l)`.

    Parameters
    ----------
    X : ndarray of shape (n_0, m)
        One sample per column, float32 or float64 like the params.
    params : dict of str to ndarray
        ``"W1"``: ``(n_1, n_0)``, ``"b1"``: ``(n_1, 1)``, ...; not modified.
    activations : sequence of str or ActivationFunction, length L
        One per layer: a built-in name (``"linear"``, ``"relu"``, ``"leaky_relu"``,
        ``"sigmoid"``, ``"tanh"``, ``"softmax"``, ...) or a record of your own.
    keep_probs : float or sequence of float, length L - 1, optional
        Inverted dropout on the hidden layers: each unit of hidden layer ``l`` is kept with
        probability ``keep_probs[l - 1]`` and the kept ones are divided by it. The output layer
        never drops. ``None`` (the default, and always at prediction) drops nothing.
    rng : numpy.random.Generator, optional
        Draws the dropout masks, one ``dropout_keeps(rng, (n_l, m), keep)`` per dropping
        layer (16-bit draws: ``rng.integers(0, 2**16, (n_l, m), dtype=np.uint16) < ceil(keep 2^16)``),
        in layer order (the input first); required when a keep probability is below 1.
    input_keep_prob : float in (0, 1], optional
        Inverted dropout on the input: each entry of ``X`` is kept with this probability and
        the kept ones are divided by it (Srivastava et al. 2014 keep 0.8 of the pixels).
        Independent of ``keep_probs``, which stay the hidden layers'. ``None`` or 1: none.
    kernel : {"numpy", "numba"}, optional
        How the work after each layer's product runs: NumPy's passes, or Numba's fused loops
        (``functional_nn.fused``) for the built-in ``relu`` and ``softmax`` layers. A ReLU
        layer's bias, activation and dropout become one pass; a softmax layer's bias, column
        maxima and shift one loop, and its column sums and division another, around NumPy's
        own ``exp``. Other layers, and the input dropout, run NumPy's passes either way.
        Bitwise the same arrays. Default: ``"numba"`` when Numba is installed, else ``"numpy"``.

    Returns
    -------
    AL : ndarray of shape (n_L, m)
        The output of the last layer.
    caches : tuple of LayerCache, length L
        ``caches[l - 1]`` holds ``A_prev``, ``W``, ``Z``, ``A``, the layer's
        ``ActivationFunction`` and its dropout mask.

    Raises
    ------
    TypeError, ValueError
        For an ``ActivationFunction`` whose ``forward`` returns something other than an array
        of ``Z``'s dtype (``TypeError``) and shape (``ValueError``), naming the layer and record.
    """
    X, names = _check_inputs(X, params, activations)
    keeps = check_keep_probs(keep_probs, len(names), X.dtype)
    input_keep = check_input_keep_prob(input_keep_prob, X.dtype)
    dropping = "keep_probs" if keeps is not None else "input_keep_prob" if input_keep is not None else None
    # needed to draw masks; else unused, but a seed or a RandomState given for it is a mistake to say, not to ignore
    check.check_generator("rng", rng, optional=True, needed_by=None if dropping is None else f"dropout ({dropping} < 1)")
    with np.errstate(under="ignore"):  # values rounding to subnormals or 0 are right, not errors: also under errstate(all="raise")
        return forward(X, params, names, keeps, rng, input_keep, fused.check_kernel(kernel))


def check_input_keep_prob(input_keep_prob: object, dtype: npt.DTypeLike | None = None) -> float | None:
    """Validate the input layer's keep probability; ``None`` if it drops nothing (with
    ``dtype``, its inverse must be finite in it, as ``check_keep_probs``' are)."""
    if input_keep_prob is None:
        return None
    if not check.is_real_number(input_keep_prob):
        raise TypeError(f"input_keep_prob must be a number in (0, 1], got {type(input_keep_prob).__name__} {input_keep_prob!r}")
    keep = _as_float("input_keep_prob", input_keep_prob)  # type: ignore[arg-type]  # is_real_number checked it
    if not 0 < keep <= 1:
        raise ValueError(f"input_keep_prob must be in (0, 1], got {keep}")
    _check_inverse("input_keep_prob", keep, dtype)
    _check_resolution("input_keep_prob", keep)
    return keep if keep < 1 else None


def _check_inputs(X: object, params: object, activations: object) -> tuple[FloatArray, tuple[ActivationFunction, ...]]:
    """Validate the arguments of a forward pass; return ``X`` and the activations' records."""
    sizes = check.check_params(params)
    assert isinstance(params, Mapping)  # check_params made sure
    names = check_activations(activations, len(sizes) - 1)
    X = check.check_float_array("X", X)
    check.check_samples("X", X)
    if X.shape[0] != sizes[0]:
        raise ValueError(f"X has {X.shape[0]} rows (features) but W1 {params['W1'].shape} expects {sizes[0]}: X is (n_features, m), one sample per column")
    check.check_same_dtype("X", X, params["W1"].dtype, "params['W1']")
    return X, names


def check_caches(caches: object) -> Caches:
    """``caches`` if it is what ``forward_propagation`` returns (a non-empty tuple of ``LayerCache``), else ``TypeError``."""
    if not isinstance(caches, tuple) or not caches or not all(isinstance(c, LayerCache) for c in caches):
        raise TypeError("caches must be the non-empty tuple of LayerCache returned by forward_propagation")
    return caches


def check_output_of_caches(AL: FloatArray, caches: Caches) -> None:
    """Refuse an ``AL`` (of the caches' shape and dtype, already checked) that is not the output
    of the forward pass that made ``caches``: the gradients combine ``AL`` with every layer's
    cached inputs, so the output of another batch's pass (caches kept from an earlier batch),
    or the targets given in its place, would make gradients of no cost at all, silently.
    One comparison of ``n_L x m`` numbers; none when ``AL`` is the cached array itself."""
    A = caches[-1].A
    if AL is A or np.array_equal(AL, A):
        return
    differing = np.flatnonzero((AL != A).any(axis=0))
    column = int(differing[0])
    raise ValueError(
        f"AL is not the output of the forward pass that made these caches: {differing.size} of its {AL.shape[1]} "
        f"column(s) differ from caches[-1].A, e.g. column {column} is {AL[:, column].tolist()[:5]}, the caches' "
        f"{A[:, column].tolist()[:5]}; pass backward_propagation the AL that forward_propagation returned with these "
        "caches (caches kept from another batch, or AL and Y swapped?)"
    )


def backward_propagation(
    AL: FloatArray, Y: FloatArray, caches: Caches, loss: Loss | LossFunction, *, lambd: float = 0.0,
    kernel: fused.Kernel | None = None, sample_weight: npt.ArrayLike | None = None,
) -> dict[str, FloatArray]:
    r"""Gradients of ``compute_cost(AL, Y, loss, lambd=lambd, sample_weight=sample_weight)``
    with respect to every parameter.

    .. math::

        dZ_L = A_L - Y \ \text{(fused pairs)}, \quad
        dW_l = \tfrac{1}{m} dZ_l A_{l-1}^\top + \tfrac{\lambda}{m} W_l, \quad
        db_l = \tfrac{1}{m} dZ_l \mathbf{1}, \quad
        dZ_{l-1} = (W_l^\top dZ_l) \odot D_{l-1} \odot g'(Z_{l-1})

    where :math:`D_{l-1}` is the layer's dropout mask (all ones without dropout). With
    ``sample_weight`` :math:`w`, :math:`dZ_L`'s column :math:`j` is scaled by
    :math:`w_j / S` instead of :math:`1/m`, and :math:`\lambda/m` becomes :math:`\lambda/S`,
    :math:`S = \sum_j w_j`.

    Parameters
    ----------
    AL : ndarray of shape (n_L, m)
        Output of ``forward_propagation``, in the dtype of the caches' arrays: the forward pass
        that made ``caches`` (its values are checked against ``caches[-1].A``; the output of
        another batch's, or other weights', pass is refused).
    Y : ndarray of shape (n_L, m)
        Targets, as ``compute_cost`` takes them; converted to ``AL``'s dtype (refused if a
        value lies beyond its range).
    caches : tuple of LayerCache, length L
        As returned by ``forward_propagation``; not modified.
    loss : {"binary_cross_entropy", "categorical_cross_entropy", "mean_squared_error", "hinge"} or LossFunction
        When the last layer's activation is the loss's ``fused_activation`` (sigmoid for
        binary, softmax for categorical cross-entropy), :math:`dZ_L = A_L - Y`; other
        pairings use the chain rule. A cross-entropy after an
        activation whose values can leave [0, 1] is refused.
    lambd : float, default 0
        L2 strength, as in ``compute_cost``.
    kernel : {"numpy", "numba"}, optional
        A ReLU layer's dropout mask and derivative as NumPy's passes or one fused Numba pass,
        bitwise the same gradients. Default: ``"numba"`` when Numba is installed.
    sample_weight : array-like of shape (m,), optional
        How much each sample (column) counts, as in ``compute_cost``: finite, >= 0, not all 0.

    Returns
    -------
    grads : dict of str to ndarray
        ``"dW1"``: ``(n_1, n_0)``, ``"db1"``: ``(n_1, 1)``, ...: shaped like the parameters,
        in the parameters' dtype.

    Raises
    ------
    TypeError, ValueError
        Besides the checks of the arguments: for a record whose ``backward`` (or
        ``backward_in_place``), or a loss whose ``gradient``, returns something other than an
        array of ``Z``'s (``AL``'s) dtype (``TypeError``) and shape (``ValueError``).
    """
    record = resolve_loss("loss", loss)
    caches = check_caches(caches)
    AL = check.check_float_array("AL", AL)
    Y = check.check_float_array("Y", Y, targets=True)
    check.check_samples("AL", AL)
    if AL.shape != caches[-1].A.shape:
        raise ValueError(f"AL has shape {AL.shape} but the caches' last layer produced {caches[-1].A.shape}")
    check.check_same_dtype("AL", AL, caches[-1].A.dtype, "the caches' last layer's A")
    if Y.shape != AL.shape:
        raise ValueError(f"Y must have the shape of AL {AL.shape}, got {Y.shape}")
    check_loss_pairing(record, caches[-1].activation)
    check_targets("Y", Y, record)
    Y = targets_in_dtype("Y", Y, AL.dtype)
    lambd = check.check_positive_float("lambd", lambd, allow_zero=True)
    kernel = fused.check_kernel(kernel)
    weights = None
    if sample_weight is not None:
        weights = check_sample_weight("sample_weight", sample_weight, AL.shape[1], f"AL's {AL.shape[1]} columns")
    check_output_of_caches(AL, caches)  # last: a pass over AL, once every other argument is known good
    with np.errstate(under="ignore"):  # as forward_propagation's
        return backward(AL, Y, caches, record, lambd, kernel, weights)


PREDICT_CHUNK: Final = 2048
"""Samples per forward pass in ``predict_proba`` (and ``train``'s dev-set scoring each epoch):
bounds the activations alive at once. 2,048 scored MNIST's 10,000 dev images through
784-512-256-10 in 33 ms against 45 ms at 4,096 (whose 8 MB activations the allocator maps
afresh, page by page, for every chunk); 1,024 and 512 were no faster."""


def forward_output(X: FloatArray, params: Params, activations: Sequence[ActivationFunction]) -> FloatArray:
    """Unchecked kernel of ``predict_proba``: the output of ``forward`` without its caches.

    Runs ``PREDICT_CHUNK`` columns at a time and keeps no layer's activations once the next
    layer has used them, so predicting on a whole data set needs memory for the output and one
    chunk's two widest layers, not for every layer of every sample.
    """
    m = X.shape[1]
    AL: FloatArray | None = None
    for start in range(0, m, PREDICT_CHUNK):
        A = X[:, start : start + PREDICT_CHUNK]
        for l, activation in enumerate(activations, start=1):
            Z = params[f"W{l}"] @ A
            Z += params[f"b{l}"]  # Z is a fresh temporary
            del A  # the layer's input, no longer needed: two layers alive at once, not three
            A = _record_output(activation.forward(Z), Z, activation.name, l, "forward")
            del Z
        if m <= PREDICT_CHUNK:
            return A
        if AL is None:
            AL = np.empty((A.shape[0], m), dtype=A.dtype)
        AL[:, start : start + PREDICT_CHUNK] = A  # AL is a fresh array
    assert AL is not None
    return AL


def predict_proba(
    X: FloatArray, params: Params, activations: Sequence[Activation | ActivationFunction]
) -> FloatArray:
    """The network's output ``AL`` of shape ``(n_L, m)``, without dropout.

    The same values as ``forward_propagation``'s ``AL`` to rounding (bit for bit up to 2,048
    columns), computed in chunks of columns without keeping caches (see ``forward_output``):
    BLAS may sum a chunk's products in another order than the whole matrix's.
    """
    X, names = _check_inputs(X, params, activations)
    with np.errstate(under="ignore"):  # as forward_propagation's
        return forward_output(X, params, names)


def predict(X: FloatArray, params: Params, activations: Sequence[Activation | ActivationFunction]) -> IntArray:
    """Class predictions of shape ``(m,)``.

    One output unit giving a probability (sigmoid): 1 where it is >= 0.5, else 0. Several output units:
    the index of the largest output in each column.
    """
    X, records = _check_inputs(X, params, activations)
    with np.errstate(under="ignore"):  # as forward_propagation's
        return labels_from_output(forward_output(X, params, records), records[-1])


def labels_from_output(AL: FloatArray, output_activation: ActivationFunction, threshold: float | None = None) -> IntArray:
    """``predict``'s rule applied to an output ``AL`` of shape ``(n_L, m)``.

    One unit: class 1 where ``a >= threshold``; without a threshold (``predict``), the unit
    must give a probability and the threshold is 0.5. Several units: the largest wins.
    """
    if AL.shape[0] == 1:
        low, high = output_activation.output_range
        if threshold is None and not (low >= 0 and high <= 1):
            raise ValueError(
                f"predict needs a classifier: one output unit must give a probability ('sigmoid'), got "
                f"{output_activation.name!r}; use predict_proba for regression (or predict_proba(...) >= 0 after "
                "a hinge loss)"
            )
        positive: IntArray = (AL[0] >= (0.5 if threshold is None else threshold)).astype(np.int64)
        return positive
    labels: IntArray = np.argmax(AL, axis=0)
    return labels


def count_correct(
    AL: FloatArray, labels: IntArray, output_activation: ActivationFunction, threshold: float | None = None
) -> int:
    """How many columns of the output ``AL`` ``(n_L, m)`` are right, ``labels`` being
    ``classification_labels``' for the targets.

    1-D ``labels`` (one class per sample): the prediction of ``labels_from_output``, the
    largest output winning, must be that class. ``(n_L, m)`` 0/1 ``labels`` (several units
    of their own, such as sigmoids with binary cross-entropy, each a yes or no of its own,
    so that a sample may hold several labels, or none): a column is right where every unit
    is on the side of ``threshold`` (default 0.5) its label is on, the exact match that
    scikit-learn's ``accuracy_score`` takes of multi-label samples, whatever the number of
    labels in the column (a column of one label whose other units are on too is wrong).
    Under softmax (a loss of one's own, not fused with it), whose units share one sample,
    the largest output must be the column's largest label, as for 1-D ``labels``.
    """
    return int(np.count_nonzero(correct_columns(AL, labels, output_activation, threshold)))


def correct_columns(
    AL: FloatArray, labels: IntArray, output_activation: ActivationFunction, threshold: float | None = None
) -> BoolArray:
    """Which columns of ``AL`` ``(n_L, m)`` are right, shape ``(m,)``: ``count_correct``'s rule."""
    if labels.ndim == 2 and output_activation == SOFTMAX:  # equal, not identical: a worker unpickles its own copy
        labels = np.argmax(labels, axis=0)
    right: BoolArray
    if labels.ndim == 1:
        right = labels_from_output(AL, output_activation, threshold) == labels
    else:
        right = ((AL >= (0.5 if threshold is None else threshold)) == labels).all(axis=0)
    return right
