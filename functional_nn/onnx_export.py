r"""A trained network as an ONNX model, to run wherever ONNX runs (onnxruntime, browsers, C++, ...).

``export_onnx`` writes layer :math:`l` as one ``Gemm`` and its activation as ONNX operators:

.. math:: Z_l = A_{l-1} W_l^\top + b_l^\top, \qquad A_l = g_l(Z_l)

in ONNX's samples-as-rows layout: the input ``X`` is ``(batch, n_0)`` with a dynamic
``batch``, ``W_l`` is stored exactly as in ``params`` (``(n_l, n_{l-1})``, read with
``transB=1``) and ``b_l`` as its ``n_l`` values. The output ``(batch, n_L)`` equals
``predict_proba(X.T, params, activations).T``. A float32 network gives a float32 model, a
float64 network a float64 one.

Needs the ``onnx`` package: ``pip install "functional-nn[onnx]"`` (which brings onnxruntime
too, to run the model). ``onnx`` is imported when ``export_onnx`` is called, never when
``functional_nn`` is.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from functional_nn import _validation as check
from functional_nn.activations import LEAKY_RELU_SLOPE
from functional_nn.propagation import check_activations
from functional_nn.serialization import atomic_write
from functional_nn.types import Activation, Params

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


def _single(op_type: str, **attributes: Any) -> NodeMaker:
    """One ONNX operator from ``Z`` to ``A``."""

    def make(Z: str, A: str, dtype: np.dtype[Any]) -> list[onnx.NodeProto]:
        from onnx import helper

        return [helper.make_node(op_type, [Z], [A], name=f"{A}_{op_type}", **attributes)]

    return make


def _leaky_relu(Z: str, A: str, dtype: np.dtype[Any]) -> list[onnx.NodeProto]:
    """``LeakyRelu`` in float32; in float64 ``Max(Z, slope * Z)``, as ``activations.leaky_relu``
    computes it, since onnxruntime implements ``LeakyRelu`` in float32 only."""
    from onnx import helper, numpy_helper

    if dtype == np.float32:
        return _single("LeakyRelu", alpha=LEAKY_RELU_SLOPE)(Z, A, dtype)
    slope = numpy_helper.from_array(np.array(LEAKY_RELU_SLOPE, dtype=dtype), name=f"{A}_slope")
    return [
        helper.make_node("Constant", [], [f"{A}_slope"], name=f"{A}_slope", value=slope),
        helper.make_node("Mul", [Z, f"{A}_slope"], [f"{A}_scaled"], name=f"{A}_Mul"),
        helper.make_node("Max", [Z, f"{A}_scaled"], [A], name=f"{A}_Max"),
    ]


ONNX_ACTIVATIONS: Final[Mapping[Activation, tuple[NodeMaker, int]]] = {
    "linear": (_single("Identity"), 1),
    "relu": (_single("Relu"), 1),
    "leaky_relu": (_leaky_relu, 8),
    "sigmoid": (_single("Sigmoid"), 6),
    "tanh": (_single("Tanh"), 6),
    "softmax": (_single("Softmax", axis=1), 1),  # per row (before opset 13 too: a 2-D input is flattened to itself)
}
"""For each built-in activation: the ONNX nodes from ``Z`` to ``A``, and the opset they need."""


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError as error:
        raise ImportError('export_onnx needs the onnx package, which is not installed: pip install "functional-nn[onnx]"') from error
    return onnx


def export_onnx(
    params: Params,
    activations: Sequence[Activation],
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
    activations : sequence of str, length L
        One built-in activation per layer (see ``ONNX_ACTIVATIONS``).
    path : path
        The ``.onnx`` file to write; its directory must exist. Written through a temporary
        file and renamed, so a failure leaves any earlier file as it was.
    input_name, output_name : str, default "X" and "output"
        Names of the model's input ``(batch, n_0)`` and output ``(batch, n_L)``; ``batch``
        is dynamic.
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
        For an activation that ONNX cannot express at ``opset``.

    Examples
    --------
    >>> export_onnx(params, ("relu", "softmax"), "model.onnx")           # doctest: +SKIP
    >>> import onnxruntime                                                # doctest: +SKIP
    >>> session = onnxruntime.InferenceSession("model.onnx")              # doctest: +SKIP
    >>> probabilities = session.run(None, {"X": X_rows})[0]               # (batch, n_L)
    """
    from functional_nn import __version__  # here, not at import: the package imports this module

    sizes = check.check_params(params)
    L = len(sizes) - 1
    names = check_activations(activations, L)
    given: tuple[tuple[str, object], ...] = (("input_name", input_name), ("output_name", output_name))
    for argument, value in given:  # typed, but users pass what they like
        if not isinstance(value, str) or not value:
            raise TypeError(f"{argument} must be a non-empty str, got {value!r}")
    if input_name == output_name:
        raise ValueError(f"input_name and output_name must differ, both are {input_name!r}")
    onnx = _import_onnx()
    from onnx import TensorProto, helper, numpy_helper

    latest = int(onnx.defs.onnx_opset_version())
    opset = check.check_positive_int("opset", opset, minimum=MIN_OPSET)
    if opset > latest:
        raise ValueError(f"opset must be at most {latest}, the newest the installed onnx {onnx.__version__} knows, got {opset}")
    for l, name in enumerate(names, start=1):
        if name not in ONNX_ACTIVATIONS:
            raise UnsupportedActivationError(f"activations[{l - 1}] {name!r} has no ONNX form in export_onnx")
        needed = ONNX_ACTIVATIONS[name][1]
        if needed > opset:
            raise UnsupportedActivationError(f"activations[{l - 1}] {name!r} needs opset >= {needed}, got opset={opset}")
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
    initializers = []
    A = input_name
    for l, name in enumerate(names, start=1):
        Z = f"Z{l}"
        A_next = output_name if l == L else f"A{l}"
        initializers.append(numpy_helper.from_array(np.asarray(params[f"W{l}"]), name=f"W{l}"))
        initializers.append(numpy_helper.from_array(np.asarray(params[f"b{l}"]).reshape(-1), name=f"b{l}"))
        nodes.append(helper.make_node("Gemm", [A, f"W{l}", f"b{l}"], [Z], name=f"layer{l}", transB=1))
        nodes.extend(ONNX_ACTIVATIONS[name][0](Z, A_next, dtype))
        A = A_next
    graph = helper.make_graph(
        nodes,
        "functional_nn_mlp",
        [helper.make_tensor_value_info(input_name, element_type, ["batch", sizes[0]])],
        [helper.make_tensor_value_info(output_name, element_type, ["batch", sizes[-1]])],
        initializer=initializers,
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
    onnx.checker.check_model(model, full_check=True)
    target = Path(path)
    with atomic_write(target) as handle:
        handle.write(model.SerializeToString())
    return target


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
