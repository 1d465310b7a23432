r"""A trained network as an ONNX model, to run wherever ONNX runs (onnxruntime, browsers, C++, ...).

``export_onnx`` writes layer :math:`l` as one ``Gemm`` and its activation as ONNX operators:

.. math:: Z_l = A_{l-1} W_l^\top + b_l^\top, \qquad A_l = g_l(Z_l)

in ONNX's samples-as-rows layout: the input ``X`` is ``(batch, n_0)`` with a dynamic
``batch``, ``W_l`` is stored exactly as in ``params`` (``(n_l, n_{l-1})``, read with
``transB=1``) and ``b_l`` as its ``n_l`` values. The output ``(batch, n_L)`` is
``predict_proba(X.T, params, activations).T`` to a few roundings, in the network's dtype (a
float32 network gives a float32 model, a float64 network a float64 one). That holds in
relative terms far into the tails, where onnxruntime's own ``Sigmoid`` gives 0: ``sigmoid``
and ``silu`` (and, in float64, ``gelu``) are written the way ``functional_nn.activations``
computes them, and agree with it to a few units in the last place wherever :math:`\sigma(z)`,
:math:`\Phi(z)` and the result are normal numbers; beyond (in float32, :math:`z < -87` for
``sigmoid`` and ``silu``) to within 3e-43. Three bounds are absolute: float32 ``gelu``, ONNX's
``Gelu`` operator, which onnxruntime runs fast but which gives 0 below :math:`z = -5.5` (where
the library's value is at most 8.2e-8 in size); ``elu`` near 0, where both compute
:math:`e^z - 1`, to the dtype's epsilon; and float32 ``tanh``, onnxruntime's own kernel, to
2.4e-7. See ``ONNX_ACTIVATIONS``.

Needs the ``onnx`` package: ``pip install -e ".[onnx]"`` (which brings onnxruntime
too, to run the model). ``onnx`` is imported when ``export_onnx`` is called, never when
``functional_nn`` is.
"""

from __future__ import annotations

import itertools
import json
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from functional_nn import _validation as check
from functional_nn import activations as act
from functional_nn.activations import ACTIVATIONS, LEAKY_RELU_SLOPE
from functional_nn.propagation import check_activations
from functional_nn.serialization import atomic_write, check_writable_target
from functional_nn.types import Activation, ActivationFunction, Params

if TYPE_CHECKING:
    import onnx

__all__ = ["DEFAULT_OPSET", "ONNX_ACTIVATIONS", "UnsupportedActivationError", "export_onnx"]

DEFAULT_OPSET: Final = 20
"""The ONNX operator set written by default: 20 is the first with a ``Gelu`` operator."""
MIN_OPSET: Final = 9  # Gemm with a broadcast bias and float64 kernels; activations may need more

NodeMaker = Callable[[str, str, np.dtype[Any]], "list[onnx.NodeProto]"]
"""Makes the ONNX nodes that compute ``A = g(Z)`` from the names ``Z`` and ``A``, in a dtype."""


class UnsupportedActivationError(ValueError):
    """An activation ``export_onnx`` cannot express with ONNX operators."""


def _node(op_type: str, inputs: Sequence[str], output: str, **attributes: Any) -> onnx.NodeProto:
    from onnx import helper

    node: onnx.NodeProto = helper.make_node(op_type, list(inputs), [output], name=output, **attributes)
    return node


def _constant(name: str, value: float, dtype: np.dtype[Any]) -> onnx.NodeProto:
    from onnx import numpy_helper

    return _node("Constant", [], name, value=numpy_helper.from_array(np.array(value, dtype=dtype), name=name))


def _single(op_type: str, **attributes: Any) -> NodeMaker:
    """One ONNX operator from ``Z`` to ``A``."""

    def make(Z: str, A: str, dtype: np.dtype[Any]) -> list[onnx.NodeProto]:
        return [_node(op_type, [Z], A, **attributes)]

    return make


def _float32_op_else(op_type: str, composite: NodeMaker, **attributes: Any) -> NodeMaker:
    """``op_type`` in float32; in float64 the same function from elementary operators, because
    onnxruntime implements ``LeakyRelu``, ``Elu``, ``Softplus`` and ``Gelu`` in float32 only."""

    def make(Z: str, A: str, dtype: np.dtype[Any]) -> list[onnx.NodeProto]:
        return _single(op_type, **attributes)(Z, A, dtype) if dtype == np.float32 else composite(Z, A, dtype)

    return make


def _leaky_relu(Z: str, A: str, dtype: np.dtype[Any]) -> list[onnx.NodeProto]:
    r""":math:`\max(z, 0.01 z)`, as ``activations.leaky_relu`` computes it."""
    return [
        _constant(f"{A}_slope", LEAKY_RELU_SLOPE, dtype),
        _node("Mul", [Z, f"{A}_slope"], f"{A}_scaled"),
        _node("Max", [Z, f"{A}_scaled"], A),
    ]


def _elu(Z: str, A: str, dtype: np.dtype[Any]) -> list[onnx.NodeProto]:
    r""":math:`\max(z, 0) + (e^{\min(z, 0)} - 1)`: one of the two parts is 0."""
    return [
        _constant(f"{A}_zero", 0.0, dtype),
        _constant(f"{A}_one", 1.0, dtype),
        _node("Min", [Z, f"{A}_zero"], f"{A}_negative"),
        _node("Exp", [f"{A}_negative"], f"{A}_exp"),
        _node("Sub", [f"{A}_exp", f"{A}_one"], f"{A}_expm1"),
        _node("Max", [Z, f"{A}_zero"], f"{A}_positive"),
        _node("Add", [f"{A}_positive", f"{A}_expm1"], A),
    ]


def _exp_of_minus_abs(Z: str, A: str, dtype: np.dtype[Any]) -> list[onnx.NodeProto]:
    r"""The nodes of :math:`e = e^{-|z|}` (``{A}_exp``, never overflowing), :math:`1 + e`
    (``{A}_one_plus_exp``) and the constants ``{A}_zero`` and ``{A}_one``: what the stable
    softplus and sigmoid start from."""
    return [
        _constant(f"{A}_zero", 0.0, dtype),
        _constant(f"{A}_one", 1.0, dtype),
        _node("Abs", [Z], f"{A}_abs"),
        _node("Neg", [f"{A}_abs"], f"{A}_negative"),
        _node("Exp", [f"{A}_negative"], f"{A}_exp"),
        _node("Add", [f"{A}_exp", f"{A}_one"], f"{A}_one_plus_exp"),
    ]


def _softplus(Z: str, A: str, dtype: np.dtype[Any]) -> list[onnx.NodeProto]:
    r""":math:`\max(z, 0) + \log(1 + e)` with :math:`e = e^{-|z|}`, as ``activations.softplus``: nothing overflows.

    ONNX has no ``log1p``; :math:`\log(1 + e)` is Goldberg's
    :math:`\log(u)\, e / (u - 1)` with :math:`u = 1 + e` (:math:`e` itself where :math:`u` rounds
    to 1), accurate to a few roundings where ``Log(u)`` alone would give 0 for :math:`e < 10^{-16}`.
    """
    return [
        *_exp_of_minus_abs(Z, A, dtype),
        _node("Log", [f"{A}_one_plus_exp"], f"{A}_log"),
        _node("Sub", [f"{A}_one_plus_exp", f"{A}_one"], f"{A}_rounded"),
        _node("Div", [f"{A}_exp", f"{A}_rounded"], f"{A}_ratio"),
        _node("Mul", [f"{A}_log", f"{A}_ratio"], f"{A}_log1p"),
        _node("Greater", [f"{A}_one_plus_exp", f"{A}_one"], f"{A}_above_one"),
        _node("Where", [f"{A}_above_one", f"{A}_log1p", f"{A}_exp"], f"{A}_tail"),
        _node("Max", [Z, f"{A}_zero"], f"{A}_positive"),
        _node("Add", [f"{A}_positive", f"{A}_tail"], A),
    ]


def _sigmoid(Z: str, A: str, dtype: np.dtype[Any]) -> list[onnx.NodeProto]:
    r""":math:`\sigma(z)` as ``activations.sigmoid``: :math:`e / (1 + e)` for :math:`z < 0`, else
    :math:`1 / (1 + e)`, with :math:`e = e^{-|z|}`, in both dtypes.

    onnxruntime's ``Sigmoid`` loses the tail: in float64 it gives 0 below :math:`z = -37`; in
    float32 its relative error passes 1e-5 at :math:`z = -4.9` and 50% at :math:`z = -15.8`
    (8.9e-8 at :math:`z = -17`, where :math:`\sigma = 4.1\text{e-}8`), and it gives 0 below
    :math:`z = -18`, where :math:`\sigma` is still 1.5e-8. This form keeps the relative
    accuracy of ``Exp`` down to the subnormal numbers.
    """
    return [
        *_exp_of_minus_abs(Z, A, dtype),
        _node("Less", [Z, f"{A}_zero"], f"{A}_below_zero"),
        _node("Where", [f"{A}_below_zero", f"{A}_exp", f"{A}_one"], f"{A}_numerator"),
        _node("Div", [f"{A}_numerator", f"{A}_one_plus_exp"], A),
    ]


def _silu(Z: str, A: str, dtype: np.dtype[Any]) -> list[onnx.NodeProto]:
    r""":math:`z\,\sigma(z)` with ``_sigmoid``'s :math:`\sigma`, and :math:`z = -\infty` taken as the
    dtype's lowest value, as ``activations.silu`` does: the limit 0 there, not :math:`-\infty \cdot 0`."""
    return [
        *_sigmoid(Z, f"{A}_sigmoid", dtype),
        _constant(f"{A}_lowest", float(np.finfo(dtype).min), dtype),
        _node("Max", [Z, f"{A}_lowest"], f"{A}_finite"),
        _node("Mul", [f"{A}_finite", f"{A}_sigmoid"], A),
    ]


def _gelu(Z: str, A: str, dtype: np.dtype[Any]) -> list[onnx.NodeProto]:
    r""":math:`z\,\Phi(z)` step by step as ``activations.gelu`` computes it (Cody's erf and erfc,
    the Gaussian split far out): float64's, since onnxruntime has no float64 ``Gelu`` nor
    ``Erf``, and ``Erf`` would lose the tail to :math:`1 + \operatorname{erf}(x)` anyway.

    In float32 the model uses ONNX's ``Gelu``. Its relative error passes 1e-5 at
    :math:`z = -2.8` and it gives 0 below :math:`z = -5.5`, where ``activations.gelu`` gives
    -8.2e-8 (and -7.6e-23 at :math:`z = -10`): an absolute error below 1e-7 in a hidden layer's
    output. This form keeps the tail but is some 170 elementwise nodes where ``Gelu`` is one:
    a float32 784-256-256-10 network over 1,000 rows took onnxruntime 25 ms on one thread
    with it against 3.2 ms with ``Gelu``, too high a price for those digits.
    """
    nodes: list[onnx.NodeProto] = []
    count = itertools.count()

    def const(value: float) -> str:
        name = f"{A}_c{next(count)}"
        nodes.append(_constant(name, value, dtype))
        return name

    def op(op_type: str, *inputs: str, output: str | None = None) -> str:
        name = output if output is not None else f"{A}_t{next(count)}"
        nodes.append(_node(op_type, inputs, name))
        return name

    def rational(x: str, lead: float, p: tuple[float, ...], q: tuple[float, ...]) -> str:
        numerator, denominator = op("Mul", x, const(lead)), x
        for p_i, q_i in zip(p[:-1], q[:-1]):
            numerator = op("Mul", op("Add", numerator, const(p_i)), x)
            denominator = op("Mul", op("Add", denominator, const(q_i)), x)
        return op("Div", op("Add", numerator, const(p[-1])), op("Add", denominator, const(q[-1])))

    x = op("Mul", Z, const(act._INV_SQRT_2))
    y = op("Min", op("Abs", x), const(act._ERFC_ZERO_BEYOND))
    x_small = op("Min", op("Max", x, const(-act._ERF_SMALL_LIMIT)), const(act._ERF_SMALL_LIMIT))
    erf_small = op("Mul", rational(op("Mul", x_small, x_small), act._ERF_SMALL_P_LEAD, act._ERF_SMALL_P, act._ERF_SMALL_Q), x_small)
    half_erfc_mid = rational(op("Min", y, const(act._ERFC_MID_LIMIT)), act._ERFC_MID_P_LEAD, act._ERFC_MID_P, act._ERFC_MID_Q)
    gaussian_mid = op("Exp", op("Neg", op("Mul", y, y)))
    large = op("Greater", y, const(act._ERFC_MID_LIMIT))
    y_large = op("Max", y, const(act._ERFC_MID_LIMIT))  # the large branch, kept only where y > 4
    inverse_square = op("Div", const(1.0), op("Mul", y_large, y_large))
    tail = op("Mul", rational(inverse_square, act._ERFC_LARGE_P_LEAD, act._ERFC_LARGE_P, act._ERFC_LARGE_Q), inverse_square)
    half_erfc_large = op("Div", op("Sub", const(act._INV_SQRT_PI), tail), y_large)
    w = op("Min", op("Abs", Z), const(act._SPLIT_GAUSSIAN_BEYOND))  # _split_gaussian
    c = op("Mul", op("Floor", op("Mul", w, const(16.0))), const(1 / 16))
    small = op("Exp", op("Mul", op("Mul", op("Sub", w, c), op("Add", w, c)), const(-0.5)))
    gaussian_large = op("Mul", op("Exp", op("Mul", op("Mul", c, c), const(-0.5))), small)
    half_erfc = op("Where", large, half_erfc_large, half_erfc_mid)
    gaussian = op("Where", large, gaussian_large, gaussian_mid)
    half_erfc = op("Mul", op("Mul", half_erfc, gaussian), const(0.5))
    Phi = op("Where", op("Less", x, const(0.0)), half_erfc, op("Sub", const(1.0), half_erfc))
    centre = op("Add", op("Mul", erf_small, const(0.5)), const(0.5))
    Phi = op("Where", op("Not", op("Greater", y, const(act._ERF_SMALL_LIMIT))), centre, Phi)
    op("Mul", Phi, op("Max", Z, const(float(np.finfo(dtype).min))), output=A)
    return nodes


def _gelu_operator(Z: str, A: str, dtype: np.dtype[Any]) -> list[onnx.NodeProto]:
    r"""ONNX's ``Gelu`` of :math:`z` taken no lower than the dtype's lowest value, as
    ``activations.gelu`` does: at :math:`z = -\infty` the limit 0, where ``Gelu`` alone computes
    :math:`-\infty \cdot 0`, NaN (a hidden unit whose logit overflowed)."""
    return [
        _constant(f"{A}_lowest", float(np.finfo(dtype).min), dtype),
        _node("Max", [Z, f"{A}_lowest"], f"{A}_finite"),
        _node("Gelu", [f"{A}_finite"], A, approximate="none"),
    ]


def _gelu_by_dtype(Z: str, A: str, dtype: np.dtype[Any]) -> list[onnx.NodeProto]:
    """``_gelu_operator`` in float32, ``_gelu`` step by step in float64 (onnxruntime has no float64 ``Gelu``)."""
    return _gelu_operator(Z, A, dtype) if dtype == np.float32 else _gelu(Z, A, dtype)


def _softmax(Z: str, A: str, dtype: np.dtype[Any]) -> list[onnx.NodeProto]:
    r"""``Softmax`` over each row (a sample) of ``Z`` clipped to the dtype's finite range, so that
    logits that overflowed to :math:`\pm\infty` give ``activations.softmax``'s limits (the
    infinite maxima share the mass, a row of :math:`-\infty` is uniform) where ONNX's
    ``Softmax`` alone gives NaN. Finite logits pass the clip unchanged."""
    finfo = np.finfo(dtype)
    return [
        _constant(f"{A}_largest", float(finfo.max), dtype),
        _constant(f"{A}_lowest", float(finfo.min), dtype),
        _node("Min", [Z, f"{A}_largest"], f"{A}_below_inf"),
        _node("Max", [f"{A}_below_inf", f"{A}_lowest"], f"{A}_finite"),
        _node("Softmax", [f"{A}_finite"], A, axis=1),  # per row (before opset 13 too: a 2-D input is flattened to itself)
    ]


ONNX_ACTIVATIONS: Final[Mapping[Activation, tuple[NodeMaker, int]]] = {
    "linear": (_single("Identity"), 1),
    "relu": (_single("Relu"), 1),
    "leaky_relu": (_float32_op_else("LeakyRelu", _leaky_relu, alpha=LEAKY_RELU_SLOPE), 8),
    "sigmoid": (_sigmoid, 9),  # Where needs 9
    "tanh": (_single("Tanh"), 6),
    "softmax": (_softmax, 8),  # Min and Max broadcast a constant from opset 8
    # The erf form, like activations.gelu. onnxruntime 1.32 runs Gelu in float32 only.
    "gelu": (_gelu_by_dtype, 20),
    "silu": (_silu, 9),
    "elu": (_float32_op_else("Elu", _elu, alpha=1.0), 8),
    "softplus": (_float32_op_else("Softplus", _softplus), 9),
}
"""For each built-in activation: the ONNX nodes from ``Z`` to ``A``, and the opset they need.

``linear``, ``relu`` and ``tanh`` are one ONNX operator each (``Identity``, ``Relu``,
``Tanh``), and so are ``leaky_relu``, ``elu`` and ``softplus`` in float32 (``LeakyRelu``,
``Elu``, ``Softplus``); in float64, for which onnxruntime has no kernel of those three, they are
written with elementary operators (``Max``, ``Exp``, ``Log``, ``Where``, ...) the way
``functional_nn.activations`` computes them, keeping float64's precision in the tails.
So is ``gelu`` in float64 (onnxruntime has no float64 ``Gelu``); in float32 it is ONNX's
``Gelu``, fast, though it gives 0 below :math:`z = -5.5` (see ``_gelu``). ``sigmoid`` and
``silu`` (:math:`z` times that ``sigmoid``) are written that way in both dtypes:
onnxruntime's ``Sigmoid`` loses the tail (0 below :math:`z = -37` in float64 and below
:math:`z = -18` in float32), where these forms keep the relative accuracy of the library's
own values, at some cost in speed (``sigmoid`` and ``silu`` networks run about 1.7 times as
long in onnxruntime as with its ``Sigmoid``). ``softmax`` clips
its logits to the dtype's finite range (``Min``, ``Max``) before ``Softmax``, so that logits
that overflowed to +-inf give the limits ``activations.softmax`` gives, not NaN.
"""


def _onnx_activation_names(records: Sequence[ActivationFunction], opset: int) -> list[Activation]:
    """The built-in name of each layer's activation ``records`` (``check_activations``' records),
    refusing with ``UnsupportedActivationError`` one that has no ONNX form (a user-defined
    ``ActivationFunction``) or needs an opset above ``opset``.

    What ``export_onnx`` and the skl2onnx converters (``functional_nn.onnx_sklearn``) both check.
    """
    names: list[Activation] = []
    for l, record in enumerate(records, start=1):
        name = _built_in_name(record)
        if name is None:
            raise UnsupportedActivationError(
                f"activations[{l - 1}] {record.name!r} is a user-defined activation, which export_onnx cannot "
                f"express: it writes the built-in activations {list(ONNX_ACTIVATIONS)} as ONNX operators"
            )
        needed = ONNX_ACTIVATIONS[name][1]
        if needed > opset:
            raise UnsupportedActivationError(f"activations[{l - 1}] {name!r} needs opset >= {needed}, got opset={opset}")
        names.append(name)
    return names


def _layer_nodes(
    A_in: str, W: str, b: str, Z: str, A_out: str, activation: Activation, dtype: np.dtype[Any], *, gemm_name: str
) -> list[onnx.NodeProto]:
    r"""One layer's ONNX nodes: :math:`Z = A_{in} W^\top + b` (a ``Gemm`` named ``gemm_name``,
    ``W`` ``(n_l, n_{l-1})`` as stored in ``params``, read with ``transB=1``, ``b`` its ``n_l``
    values) and then ``A_out`` = ``activation`` of ``Z`` in ``dtype`` (``ONNX_ACTIVATIONS``'
    nodes, which name their inner values and themselves after ``A_out``).

    The one place a layer becomes ONNX nodes: ``export_onnx`` writes each layer with it, and so
    do the skl2onnx converters of ``functional_nn.onnx_sklearn``.
    """
    from onnx import helper

    gemm: onnx.NodeProto = helper.make_node("Gemm", [A_in, W, b], [Z], name=gemm_name, transB=1)
    return [gemm, *ONNX_ACTIVATIONS[activation][0](Z, A_out, dtype)]


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError as error:
        raise ImportError('export_onnx needs the onnx package, which is not installed: pip install -e ".[onnx]"') from error
    return onnx


def export_onnx(
    params: Params,
    activations: Sequence[Activation | ActivationFunction],
    path: str | os.PathLike[str],
    *,
    input_name: str = "X",
    output_name: str = "output",
    opset: int = DEFAULT_OPSET,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    r"""Write the network ``params``, ``activations`` to ``path`` as an ONNX model, atomically.

    Parameters
    ----------
    params : dict of str to ndarray
        ``"W1"`` ``(n_1, n_0)``, ``"b1"`` ``(n_1, 1)``, ...; float32 or float64, kept as they
        are (the model computes in that dtype); not modified.
    activations : sequence of str or ActivationFunction, length L
        One built-in activation per layer, by name or record (see ``ONNX_ACTIVATIONS``).
    path : str or os.PathLike
        The ``.onnx`` file to write: not empty, no NUL byte, no trailing separator (a
        folder); its directory must exist. Written through a temporary file and renamed, so a
        failure leaves any earlier file as it was. A directory, a device or FIFO, or a
        read-only file there is refused before the model is built (``IsADirectoryError``,
        ``OSError``, ``PermissionError``); a symbolic link is followed.
    input_name, output_name : str, default "X" and "output"
        Names of the model's input ``(batch, n_0)`` and output ``(batch, n_L)``; ``batch``
        is dynamic. Neither may be a name the graph uses inside (``W1``, ``b1``, ``Z1``,
        ``A1``, ``layer1``, ...; the ``ValueError`` lists them).
    opset : int >= 9, default 20
        The ONNX operator set version; it must be one the installed ``onnx`` knows and at
        least what the activations need.
    metadata : mapping of str to str, optional
        Extra entries for the model's metadata properties. ``library``,
        ``library_version``, ``layer_sizes``, ``activations`` and ``dtype`` (the last three
        as JSON) are always written, and may not be given here.

    Returns
    -------
    path : pathlib.Path
        The file written. ``onnx.checker.check_model`` accepts it.

    Raises
    ------
    UnsupportedActivationError
        For a user-defined ``ActivationFunction``: export_onnx cannot see what its Python
        functions compute, so it cannot write them as ONNX operators. Also for a built-in that
        needs a later ``opset`` (``gelu``: 20).

    Examples
    --------
    A 4-3-2 classifier, exported and run by ONNX's own reference evaluator; its output rows
    are ``predict_proba``'s columns:

    >>> import tempfile
    >>> import onnx
    >>> from onnx.reference import ReferenceEvaluator
    >>> from functional_nn import initialize_parameters, predict_proba
    >>> params = initialize_parameters([4, 3, 2], np.random.default_rng(0))
    >>> X = np.random.default_rng(1).random((4, 5))  # (n_0, m): one sample per column
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = export_onnx(params, ("relu", "softmax"), Path(folder) / "model.onnx")
    ...     model = onnx.load(str(path))
    >>> rows = ReferenceEvaluator(model).run(None, {"X": X.T})[0]  # (batch, n_L)
    >>> rows.shape, rows.dtype
    ((5, 2), dtype('float64'))
    >>> bool(np.allclose(rows, predict_proba(X, params, ("relu", "softmax")).T, rtol=1e-12, atol=0))
    True

    With onnxruntime (the ``onnx`` extra brings it), a saved model runs the same way:

    >>> import onnxruntime                                                    # doctest: +SKIP
    >>> session = onnxruntime.InferenceSession("model.onnx")                  # doctest: +SKIP
    >>> probabilities = session.run(None, {"X": X_rows})[0]  # (batch, n_L)   # doctest: +SKIP
    """
    from functional_nn import __version__  # here, not at import: the package imports this module

    sizes = check.check_params(params)
    L = len(sizes) - 1
    records = check_activations(activations, L)
    given: tuple[tuple[str, object], ...] = (("input_name", input_name), ("output_name", output_name))
    for argument, value in given:  # typed, but users pass what they like
        if not isinstance(value, str) or not value:
            raise TypeError(f"{argument} must be a non-empty str, got {value!r}")
    if input_name == output_name:
        raise ValueError(f"input_name and output_name must differ, both are {input_name!r}")
    check.check_path("path", path, example="model.onnx", file=True)
    check_writable_target(path)  # before building the model: a directory, FIFO or read-only file is refused here
    target = Path(path)
    onnx = _import_onnx()
    from onnx import TensorProto, helper, numpy_helper

    latest = int(onnx.defs.onnx_opset_version())
    opset = check.check_positive_int("opset", opset, minimum=MIN_OPSET)
    if opset > latest:
        raise ValueError(f"opset must be at most {latest}, the newest the installed onnx {onnx.__version__} knows, got {opset}")
    names = _onnx_activation_names(records, opset)
    dtype = params["W1"].dtype
    element_type = TensorProto.FLOAT if dtype == np.float32 else TensorProto.DOUBLE
    derived = {
        "library": "functional_nn",
        "library_version": __version__,
        "layer_sizes": json.dumps(list(sizes)),
        "activations": json.dumps(list(names)),
        "dtype": dtype.name,
    }
    extra = _check_metadata(metadata, derived)

    nodes: list[Any] = []
    weights = [f"{kind}{l}" for l in range(1, L + 1) for kind in "Wb"]
    A = input_name
    for l, name in enumerate(names, start=1):
        A_next = output_name if l == L else f"A{l}"
        nodes.extend(_layer_nodes(A, f"W{l}", f"b{l}", f"Z{l}", A_next, name, dtype, gemm_name=f"layer{l}"))
        A = A_next
    _refuse_internal_names(nodes, weights, input_name, output_name)
    graph = helper.make_graph(
        nodes,
        "functional_nn_mlp",
        [helper.make_tensor_value_info(input_name, element_type, ["batch", sizes[0]])],
        [helper.make_tensor_value_info(output_name, element_type, ["batch", sizes[-1]])],
    )
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(
        graph,
        opset_imports=opsets,
        producer_name="functional_nn",
        producer_version=__version__,
        doc_string=f"A {'-'.join(map(str, sizes))} multilayer perceptron ({', '.join(names)}) exported by functional_nn",
        # the oldest IR that holds this opset, so that older runtimes load the model too
        ir_version=helper.find_min_ir_version_for(opsets),
    )
    helper.set_model_props(model, {**extra, **derived})
    # The weights go straight into the model, one tensor at a time, and the model is serialized
    # once and checked as those bytes: a list of initializers, make_graph and make_model each
    # holding its own copy, and check_model serializing once more, held 7 times the
    # parameters' bytes at the peak, where this holds about 4.
    for weight in weights:
        values = np.asarray(params[weight])
        model.graph.initializer.append(numpy_helper.from_array(values if weight[0] == "W" else values.reshape(-1), name=weight))
    data = model.SerializeToString()
    del model
    onnx.checker.check_model(data, full_check=True)
    with atomic_write(target) as handle:
        handle.write(data)
    return target


def _refuse_internal_names(nodes: Sequence[onnx.NodeProto], weights: Sequence[str], input_name: str, output_name: str) -> None:
    """Refuse an ``input_name`` or ``output_name`` that the graph also uses for something else.

    Every value of a graph must have one producer (the graph's input, an initializer or a
    node) and every node a name of its own (onnxruntime refuses a model with two). The
    internal values are the ``weights`` (the initializers' names) and all that the nodes produce, less the last node's
    production of ``output_name``; an input named like an initializer would silently replace
    it (``input_name="W1"``), other clashes make an invalid graph. An activation's nodes are
    named after its output, so ``output_name`` must not be a node's name either (``"layer1"``).
    """
    produced = Counter(weights)
    produced.update(name for node in nodes for name in node.output)
    produced[output_name] -= 1  # the last node's: the graph's output
    internal = sorted(name for name, count in produced.items() if count > 0)
    for argument, value in (("input_name", input_name), ("output_name", output_name)):
        if value in internal:
            raise ValueError(f"{argument} {value!r} is also the name of a value inside the graph, which uses {internal}: choose another")
    node_names = Counter(node.name for node in nodes)
    if max(node_names.values()) > 1:
        raise ValueError(
            f"output_name {output_name!r} would also name a node of the graph, whose nodes are named "
            f"{sorted(node_names)}: choose another"
        )


def _built_in_name(record: ActivationFunction) -> Activation | None:
    """The name of the built-in ``record`` is, or ``None`` for a user's own activation."""
    for name, built_in in ACTIVATIONS.items():
        if record == built_in and name in ONNX_ACTIVATIONS:
            return name
    return None


def _check_metadata(metadata: object, derived: Mapping[str, str]) -> dict[str, str]:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a mapping of str to str, got {type(metadata).__name__}")
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"metadata must map str to str, got {key!r}: {value!r}")
        if key in derived:
            raise ValueError(f"metadata[{key!r}] is written from the network itself; choose another key")
    return dict(metadata)
