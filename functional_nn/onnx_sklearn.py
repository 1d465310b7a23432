"""skl2onnx converters for ``functional_nn.sklearn``'s estimators: a whole scikit-learn pipeline to ONNX.

``skl2onnx.to_onnx(pipeline, X[:1])`` converts a ``Pipeline`` step by step, each step by the
converter registered for its class; after ``register_skl2onnx()`` it knows
``functional_nn.sklearn.MLPClassifier`` and ``MLPRegressor``:

>>> from functional_nn.onnx_sklearn import register_skl2onnx             # doctest: +SKIP
>>> register_skl2onnx()                                                  # doctest: +SKIP
>>> model = skl2onnx.to_onnx(make_pipeline(StandardScaler(), clf), X[:1],
...                          options={"zipmap": False})                  # doctest: +SKIP

Each layer is written by the code ``export_onnx`` writes it with (``onnx_export._layer_nodes``:
a ``Gemm`` and the activation's nodes of ``ONNX_ACTIVATIONS``), in the network's dtype (the
estimator's ``dtype``; an input of another dtype is cast to it first), so the network part of
the model computes what ``export_onnx``'s model computes. The outputs are those skl2onnx gives
scikit-learn's own ``MLPClassifier`` and ``MLPRegressor``, in the dtype of the converted step's
input:

- the classifier's ``label`` ``(N,)`` (``classes_``' labels: int64 for integer, boolean or
  integral float labels, strings for string labels; ``predict``'s rule: the largest softmax
  output, or for two classes ``classes_[1]`` where the one logistic unit's ``p > 0.5``) and
  ``probabilities`` ``(N, n_classes)`` (``predict_proba``: ``[1 - p, p]`` for two classes); for a
  multilabel fit, ``label`` is the 0/1 int64 matrix ``(N, n_labels)`` (``p > 0.5``) and
  ``probabilities`` the sigmoid outputs. skl2onnx's options ``zipmap`` (default ``True``: the
  probabilities as a list of dicts, ``output_label`` and ``output_probability``; ``False``: the
  tensors ``label`` and ``probabilities``; ``"columns"``), ``output_class_labels`` and ``nocl`` are
  honoured as for scikit-learn's ``MLPClassifier``. onnxruntime's ``ZipMap`` takes float32
  only: convert with a float64 input (``X[:1]`` of a float64 ``X``) and
  ``options={"zipmap": False}``, as for scikit-learn's own classifiers.
- the regressor's ``variable`` ``(N, n_outputs)`` (``predict``, one column for one output).

An activation ``export_onnx`` cannot write (a user-defined ``ActivationFunction``, or ``gelu``
below ``target_opset=20``) is refused with its ``UnsupportedActivationError`` and message.
An estimator not fitted yet is refused with scikit-learn's ``NotFittedError``.

Needs skl2onnx (``pip install -e ".[onnx]"``), imported when ``register_skl2onnx`` is called.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from functional_nn.onnx_export import MIN_OPSET, _layer_nodes, _onnx_activation_names
from functional_nn.propagation import check_activations

if TYPE_CHECKING:
    import onnx

    from functional_nn.sklearn import MLPClassifier, MLPRegressor

__all__ = ["CLASSIFIER_ALIAS", "REGRESSOR_ALIAS", "register_skl2onnx"]

CLASSIFIER_ALIAS: Final = "FunctionalNNMLPClassifier"
"""The name skl2onnx knows ``functional_nn.sklearn.MLPClassifier`` by, once registered."""
REGRESSOR_ALIAS: Final = "FunctionalNNMLPRegressor"
"""The name skl2onnx knows ``functional_nn.sklearn.MLPRegressor`` by, once registered."""

_CLASSIFIER_OPTIONS: Final[dict[str, list[Any]]] = {
    "zipmap": [True, False, "columns"],
    "output_class_labels": [False, True],
    "nocl": [True, False],
}
"""The options skl2onnx's converter of scikit-learn's ``MLPClassifier`` takes; the first two
are carried out by skl2onnx's classifier parser, ``nocl`` (labels ``0 .. n_classes - 1``) here."""


def register_skl2onnx() -> None:
    """Register converters for ``functional_nn.sklearn.MLPClassifier`` and ``MLPRegressor`` with
    skl2onnx, so that ``skl2onnx.to_onnx`` converts them, also as steps of a ``Pipeline``.

    Idempotent: a second call registers the same functions again, which changes nothing.

    Registration is a call, not a side effect of importing ``functional_nn`` or
    ``functional_nn.sklearn``: it writes into skl2onnx's global registry of converters (another
    library's state, which a user may have filled with converters of their own for these
    classes, and which this would silently replace), and it needs skl2onnx, an optional
    dependency that imports onnx and every converter of scikit-learn's models (seconds), which
    the estimators must not pay for. One call before ``to_onnx`` says where the converter
    comes from.

    Raises
    ------
    ImportError
        When skl2onnx or scikit-learn is not installed (``pip install -e ".[onnx,sklearn]"``).
    """
    try:
        from skl2onnx import update_registered_converter
    except ImportError as error:
        raise ImportError('register_skl2onnx needs the skl2onnx package, which is not installed: pip install -e ".[onnx]"') from error
    from functional_nn.sklearn import MLPClassifier, MLPRegressor

    update_registered_converter(
        MLPClassifier,
        CLASSIFIER_ALIAS,
        _classifier_shapes,
        _convert_classifier,
        options=dict(_CLASSIFIER_OPTIONS),
        parser=_parse_classifier,
    )
    update_registered_converter(MLPRegressor, REGRESSOR_ALIAS, _regressor_shapes, _convert_regressor, parser=_parse_regressor)


# -- the parsers: skl2onnx's own, once the estimator is known to be fitted --


def _fitted_then(scope: Any, model: Any, inputs: Any, custom_parsers: Any, parser_name: str) -> Any:
    """``check_is_fitted(model)``, so that an unfitted estimator is refused with scikit-learn's
    ``NotFittedError`` rather than skl2onnx's "No known ways to retrieve the number of classes"
    or an ``AttributeError`` from a shape calculator, then skl2onnx's parser ``parser_name``
    (private to skl2onnx, but the ones its ``update_registered_converter`` registers itself)."""
    from skl2onnx import _parse
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    return getattr(_parse, parser_name)(scope, model, inputs, custom_parsers=custom_parsers)


def _parse_classifier(scope: Any, model: Any, inputs: Any, custom_parsers: Any = None) -> Any:
    """skl2onnx's parser of classifiers, the one it registers for a converter with the ``zipmap`` option."""
    return _fitted_then(scope, model, inputs, custom_parsers, "_parse_sklearn_classifier")


def _parse_regressor(scope: Any, model: Any, inputs: Any, custom_parsers: Any = None) -> Any:
    """skl2onnx's parser of a model of one output, the one it uses for a class without a parser of its own."""
    return _fitted_then(scope, model, inputs, custom_parsers, "_parse_sklearn_simple_model")


# -- the network: export_onnx's layers, in skl2onnx's graph --


def _float_proto(dtype: np.dtype[Any]) -> int:
    from onnx import TensorProto

    return int(TensorProto.FLOAT if dtype == np.float32 else TensorProto.DOUBLE)


def _add_nodes(scope: Any, container: Any, nodes: Sequence[onnx.NodeProto], reserved: set[str]) -> None:
    """Add ``nodes`` (``_layer_nodes``') to skl2onnx's ``container``, each inner value and node
    named uniquely in ``scope`` (a name already taken elsewhere in the pipeline's graph is
    renamed, and so are its uses); ``reserved`` are names already taken from ``scope`` for these nodes."""
    from onnx import helper

    renamed: dict[str, str] = {}
    for node in nodes:
        for output in node.output:
            if output not in reserved and output not in renamed:
                renamed[output] = scope.get_unique_variable_name(output)
        attributes = {attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute}
        container.add_node(
            node.op_type,
            [renamed.get(name, name) for name in node.input],
            [renamed.get(name, name) for name in node.output],
            op_domain=node.domain,
            name=scope.get_unique_operator_name(node.name),
            **attributes,
        )


def _network(scope: Any, operator: Any, container: Any) -> tuple[str, np.dtype[Any]]:
    """The estimator's network from the operator's input: the name of its output ``(N, n_L)``,
    and the network's dtype it is in."""
    from onnx import numpy_helper

    estimator = operator.raw_operator
    params = estimator.params_
    L = len(params) // 2
    opset = container.target_opset
    if opset is not None and opset < MIN_OPSET:
        raise ValueError(f"functional_nn's networks need target_opset >= {MIN_OPSET}, got {opset}")
    names = _onnx_activation_names(check_activations(estimator.activations_, L), MIN_OPSET if opset is None else opset)
    dtype = params["W1"].dtype
    A = operator.inputs[0].full_name
    if _proto_of(operator.inputs[0].type) != _float_proto(dtype):
        cast = scope.get_unique_variable_name("fnn_input")
        container.add_node("Cast", [A], [cast], name=scope.get_unique_operator_name("fnn_Cast"), to=_float_proto(dtype))
        A = cast
    for l, name in enumerate(names, start=1):
        W, b = scope.get_unique_variable_name(f"fnn_W{l}"), scope.get_unique_variable_name(f"fnn_b{l}")
        container.add_initializer(W, None, None, numpy_helper.from_array(np.ascontiguousarray(params[f"W{l}"])))
        container.add_initializer(b, None, None, numpy_helper.from_array(np.ascontiguousarray(params[f"b{l}"].reshape(-1))))
        Z, A_next = scope.get_unique_variable_name(f"fnn_Z{l}"), scope.get_unique_variable_name(f"fnn_A{l}")
        nodes = _layer_nodes(A, W, b, Z, A_next, name, dtype, gemm_name=f"fnn_layer{l}")
        _add_nodes(scope, container, nodes, {Z, A_next})
        A = A_next
    return A, dtype


def _proto_of(variable_type: Any) -> int:
    from skl2onnx.common.data_types import guess_proto_type

    return int(guess_proto_type(variable_type))


def _to_output(scope: Any, container: Any, name: str, output: Any, dtype: np.dtype[Any]) -> None:
    """``name`` (in ``dtype``) as the operator's ``output``, cast to the output's type if it differs."""
    wanted = _proto_of(output.type)
    if wanted == _float_proto(dtype):
        container.add_node("Identity", [name], [output.full_name], name=scope.get_unique_operator_name("fnn_Identity"))
    else:
        container.add_node("Cast", [name], [output.full_name], name=scope.get_unique_operator_name("fnn_Cast"), to=wanted)


def _constant(scope: Any, container: Any, seed: str, values: npt.NDArray[Any]) -> str:
    from onnx import numpy_helper

    name: str = scope.get_unique_variable_name(seed)
    container.add_initializer(name, None, None, numpy_helper.from_array(values))
    return name


# -- the classifier --


def _labels(scope: Any, estimator: MLPClassifier) -> npt.NDArray[np.int64] | npt.NDArray[np.str_]:
    """The labels the model outputs, as int64 or str: ``classes_`` (``0 .. n_classes - 1`` with
    the option ``nocl``), refusing what skl2onnx cannot type as one of the two."""
    from skl2onnx.common.utils_classifier import get_label_classes

    classes = np.asarray(get_label_classes(scope, estimator))
    kind = classes.dtype.kind
    if kind in "bi" or (kind == "u" and (classes.size == 0 or int(classes.max()) <= np.iinfo(np.int64).max)):
        return classes.astype(np.int64)
    if kind == "f" and np.all(np.isfinite(classes)) and np.array_equal(classes, np.round(classes)):
        return classes.astype(np.int64)  # as skl2onnx types float labels that are whole numbers
    if kind == "U" or (kind == "O" and all(isinstance(label, str) for label in classes)):
        return classes.astype(np.str_)
    if kind == "O" and all(isinstance(label, numbers.Integral) for label in classes):
        return classes.astype(np.int64)
    raise ValueError(
        f"skl2onnx writes a classifier's labels as int64 or strings, so classes_ {classes.tolist()!r} "
        f"(dtype {classes.dtype}) cannot be converted: fit on integer or string labels"
    )


def _target_kind(estimator: MLPClassifier) -> str:
    """``"binary"`` for one logistic unit, ``"multilabel-indicator"``, or ``"multiclass"`` (a
    softmax unit per class, also two of them in a network pickled before one unit was kept)."""
    return str(estimator._target_kind)


def _classifier_shapes(operator: Any) -> None:
    """skl2onnx's shape calculator: ``label`` ``(N,)`` int64 or string (``(N, n_labels)`` int64
    for a multilabel fit) and ``probabilities`` ``(N, n_classes)``, in the type the parser gave."""
    from skl2onnx.common.data_types import (
        BooleanTensorType,
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )
    from skl2onnx.common.utils import check_input_and_output_numbers, check_input_and_output_types

    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=2)
    check_input_and_output_types(
        operator, good_input_types=[FloatTensorType, DoubleTensorType, Int64TensorType, BooleanTensorType]
    )
    estimator = operator.raw_operator
    N = operator.inputs[0].get_first_dimension()
    labels = _labels(operator.scope_inst, estimator)
    if _target_kind(estimator) == "multilabel-indicator":
        operator.outputs[0].set_type(Int64TensorType(shape=[N, labels.shape[0]]))
    elif labels.dtype.kind == "U":
        operator.outputs[0].set_type(StringTensorType(shape=[N]))
    else:
        operator.outputs[0].set_type(Int64TensorType(shape=[N]))
    operator.outputs[1].type.shape = [N, labels.shape[0]]


def _convert_classifier(scope: Any, operator: Any, container: Any) -> None:
    """skl2onnx's converter: ``predict`` as ``label`` and ``predict_proba`` as ``probabilities``."""
    from onnx import TensorProto

    estimator = operator.raw_operator
    output, dtype = _network(scope, operator, container)
    kind = _target_kind(estimator)
    label = operator.outputs[0].full_name

    def node(op_type: str, inputs: list[str], seed: str, **attributes: Any) -> str:
        name: str = scope.get_unique_variable_name(seed)
        container.add_node(op_type, inputs, [name], name=scope.get_unique_operator_name(f"fnn_{op_type}"), **attributes)
        return name

    probabilities = output
    if kind == "binary":  # one unit: [1 - p, p]; classes_[1] where p > 0.5, classes_[0] at 0.5 too
        one = _constant(scope, container, "fnn_one", np.array(1, dtype=dtype))
        probabilities = node("Concat", [node("Sub", [one, output], "fnn_negative"), output], "fnn_probabilities", axis=1)
    if kind != "multiclass":
        half = _constant(scope, container, "fnn_half", np.array(0.5, dtype=dtype))
        on = node("Cast", [node("Greater", [output, half], "fnn_above_half")], "fnn_on", to=TensorProto.INT64)
    if kind == "multilabel-indicator":  # the 0/1 matrix, as predict's
        container.add_node("Identity", [on], [label], name=scope.get_unique_operator_name("fnn_Identity"))
    else:
        if kind == "binary":
            index = node("Reshape", [on, _constant(scope, container, "fnn_flat", np.array([-1], dtype=np.int64))], "fnn_index")
        else:  # the first of equal largest, as numpy's argmax
            index = node("ArgMax", [output], "fnn_index", axis=1, keepdims=0)
        classes = _labels(scope, estimator)
        classes_name = scope.get_unique_variable_name("fnn_classes")
        if classes.dtype.kind == "U":
            container.add_initializer(
                classes_name, TensorProto.STRING, list(classes.shape), [value.encode("utf-8") for value in classes.tolist()]
            )
        else:
            container.add_initializer(classes_name, TensorProto.INT64, list(classes.shape), classes.tolist())
        container.add_node("Gather", [classes_name, index], [label], name=scope.get_unique_operator_name("fnn_Gather"), axis=0)
    _to_output(scope, container, probabilities, operator.outputs[1], dtype)


# -- the regressor --


def _regressor_shapes(operator: Any) -> None:
    """skl2onnx's shape calculator: ``variable`` ``(N, n_outputs)``, in the type the parser gave."""
    from skl2onnx.common.data_types import BooleanTensorType, DoubleTensorType, FloatTensorType, Int64TensorType
    from skl2onnx.common.utils import check_input_and_output_numbers, check_input_and_output_types

    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    check_input_and_output_types(
        operator, good_input_types=[FloatTensorType, DoubleTensorType, Int64TensorType, BooleanTensorType]
    )
    estimator: MLPRegressor = operator.raw_operator
    operator.outputs[0].type.shape = [operator.inputs[0].get_first_dimension(), int(estimator.n_outputs_)]


def _convert_regressor(scope: Any, operator: Any, container: Any) -> None:
    """skl2onnx's converter: ``predict`` as ``variable`` ``(N, n_outputs)``."""
    output, dtype = _network(scope, operator, container)
    _to_output(scope, container, output, operator.outputs[0], dtype)
