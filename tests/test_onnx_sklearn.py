"""skl2onnx converts pipelines holding functional_nn's estimators (``functional_nn.onnx_sklearn``):
onnxruntime's outputs of the converted ``StandardScaler`` + estimator pipeline against the
pipeline's own ``predict`` and ``predict_proba``, for every kind of classifier, the regressor,
every built-in activation in both dtypes, skl2onnx's ``zipmap`` option, and the refusals."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import onnxruntime
import skl2onnx  # imported at collection: it takes seconds, no test pays for it
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from functional_nn import export_onnx
from functional_nn.onnx_export import ONNX_ACTIVATIONS, UnsupportedActivationError
from functional_nn.onnx_sklearn import CLASSIFIER_ALIAS, REGRESSOR_ALIAS, register_skl2onnx
from functional_nn.sklearn import DTypeName, MLPClassifier, MLPRegressor
from functional_nn.types import Activation
from user_records import SOFTSIGN

register_skl2onnx()

RNG = np.random.default_rng(0)
X = RNG.normal(size=(48, 4)) * [1.0, 3.0, 0.5, 10.0] + [0.0, 5.0, -1.0, 2.0]  # the scaler has work to do
y3 = (X[:, 0] > 0).astype(np.int64) + (X[:, 2] > -1.0)  # classes 0, 1, 2
TOLERANCE = {"float64": 1e-12, "float32": 1e-6}


def pipeline(estimator: MLPClassifier | MLPRegressor, y: Any) -> Pipeline:
    return make_pipeline(StandardScaler(), estimator).fit(X, y)


def run(model: Any, X_rows: npt.NDArray[Any]) -> tuple[list[str], list[Any]]:
    """The model's output names and values for ``X_rows``, by onnxruntime."""
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["X"]
    return [o.name for o in session.get_outputs()], session.run(None, {"X": X_rows})


def convert_and_run(fitted: Pipeline, dtype: str, **options: Any) -> tuple[list[str], list[Any]]:
    X_rows = X.astype(dtype)
    return run(skl2onnx.to_onnx(fitted, X_rows[:1], options=options), X_rows)


def test_multiclass_labels_and_probabilities_in_float64() -> None:
    labels = np.array([3, 7, 11])[y3]  # not 0 .. 2: the label values are gathered from classes_
    fitted = pipeline(MLPClassifier((6,), epochs=3, random_state=0), labels)
    names, (label, probabilities) = convert_and_run(fitted, "float64", zipmap=False)
    assert names == ["label", "probabilities"]
    assert label.dtype == np.int64 and label.shape == (48,) and set(label) == {3, 7, 11}
    np.testing.assert_array_equal(label, fitted.predict(X))
    assert probabilities.dtype == np.float64 and probabilities.shape == (48, 3)
    np.testing.assert_allclose(probabilities, fitted.predict_proba(X), rtol=0, atol=1e-12)


def test_binary_string_labels_one_logistic_unit() -> None:
    labels = np.array(["no", "yes"])[(X[:, 0] + X[:, 2] > -1.0).astype(int)]
    fitted = pipeline(MLPClassifier((5,), epochs=3, random_state=0), labels)
    assert fitted[-1].n_outputs_ == 1
    names, (label, probabilities) = convert_and_run(fitted, "float64", zipmap=False)
    assert names == ["label", "probabilities"] and set(label) == {"no", "yes"}
    np.testing.assert_array_equal(label, fitted.predict(X))
    assert probabilities.shape == (48, 2)  # [1 - p, p] from the one unit
    np.testing.assert_allclose(probabilities, fitted.predict_proba(X), rtol=0, atol=1e-12)


def test_binary_label_at_exactly_one_half_is_the_first_class() -> None:
    """predict's rule p > 0.5: a network whose output is 0.5 for every row gives classes_[0]."""
    fitted = pipeline(MLPClassifier((3,), epochs=1, random_state=0), y3 % 2)
    for key in ("W2", "b2"):
        fitted[-1].params_[key][...] = 0.0  # sigmoid(0) = 0.5 exactly
    names, (label, probabilities) = convert_and_run(fitted, "float64", zipmap=False)
    assert (fitted.predict(X) == 0).all() and (label == 0).all() and (probabilities == 0.5).all()


def test_multilabel_label_matrix_and_sigmoid_outputs() -> None:
    Y = np.c_[y3 == 0, y3 == 1, X[:, 1] > 5.0].astype(np.int64)
    fitted = pipeline(MLPClassifier((6,), epochs=3, random_state=0), Y)
    names, (label, probabilities) = convert_and_run(fitted, "float64", zipmap=False)
    assert label.dtype == np.int64 and label.shape == (48, 3)
    np.testing.assert_array_equal(label, fitted.predict(X))
    np.testing.assert_allclose(probabilities, fitted.predict_proba(X), rtol=0, atol=1e-12)


def test_regressor_with_two_outputs() -> None:
    Y = np.c_[X[:, 0] * 2, X[:, 1] - X[:, 3]]
    fitted = pipeline(MLPRegressor((6,), epochs=3, random_state=0), Y)
    names, (variable,) = convert_and_run(fitted, "float64")
    assert names == ["variable"] and variable.shape == (48, 2)
    np.testing.assert_allclose(variable, fitted.predict(X), rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", list(ONNX_ACTIVATIONS))
def test_every_activation_export_onnx_writes_converts_in_both_dtypes(activation: Activation, dtype: DTypeName) -> None:
    """The hidden layers' activation, by the same nodes export_onnx writes (every node of its
    model has its like in the pipeline's)."""
    fitted = pipeline(MLPRegressor((5, 4), activation=activation, epochs=2, random_state=0, dtype=dtype), X[:, 0] - X[:, 3])
    model = skl2onnx.to_onnx(fitted, X[:1].astype(dtype))
    _, (variable,) = run(model, X.astype(dtype))
    assert variable.dtype == dtype and variable.shape == (48, 1)
    np.testing.assert_allclose(variable[:, 0], fitted.predict(X), rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])

    # skl2onnx sorts the nodes and drops Identity ones: count the op types instead
    network = Counter(node.op_type for node in _exported(fitted[-1]).graph.node if node.op_type != "Identity")
    assert not network - Counter(node.op_type for node in model.graph.node)


def _exported(estimator: MLPClassifier | MLPRegressor) -> Any:
    import tempfile

    import onnx

    with tempfile.TemporaryDirectory() as folder:
        return onnx.load(str(export_onnx(estimator.params_, estimator.activations_, Path(folder) / "m.onnx")))


def test_float32_estimator_with_the_default_zipmap() -> None:
    labels = np.array(["ant", "bee", "cat"])[y3]
    fitted = pipeline(MLPClassifier((6,), activation="leaky_relu", epochs=3, random_state=0, dtype="float32"), labels)
    names, (label, dictionaries) = convert_and_run(fitted, "float32")  # zipmap=True: a dict per row
    assert names == ["output_label", "output_probability"]
    np.testing.assert_array_equal(label, fitted.predict(X))
    assert len(dictionaries) == 48 and list(dictionaries[0]) == ["ant", "bee", "cat"]
    probabilities = np.array([[row[name] for name in ("ant", "bee", "cat")] for row in dictionaries])
    np.testing.assert_allclose(probabilities, fitted.predict_proba(X), rtol=0, atol=1e-6)


def test_a_float32_network_fed_float64_computes_in_float32_and_answers_in_float64() -> None:
    fitted = pipeline(MLPClassifier((6,), activation="gelu", epochs=3, random_state=0, dtype="float32"), y3)
    _, (label, probabilities) = convert_and_run(fitted, "float64", zipmap=False)
    assert probabilities.dtype == np.float64  # the input's dtype, as skl2onnx's own converters
    np.testing.assert_array_equal(label, fitted.predict(X))
    np.testing.assert_allclose(probabilities, fitted.predict_proba(X), rtol=0, atol=1e-6)


def test_an_activation_export_onnx_refuses_is_refused_with_its_error() -> None:
    fitted = pipeline(MLPClassifier((4,), activation=SOFTSIGN, epochs=1, random_state=0), y3)
    with pytest.raises(UnsupportedActivationError) as exported:
        _exported(fitted[-1])
    with pytest.raises(UnsupportedActivationError) as converted:
        skl2onnx.to_onnx(fitted, X[:1], options={"zipmap": False})
    assert str(converted.value) == str(exported.value)
    assert "activations[0] 'softsign' is a user-defined activation" in str(converted.value)

    fitted = pipeline(MLPClassifier((4,), activation="gelu", epochs=1, random_state=0), y3)
    with pytest.raises(UnsupportedActivationError, match=r"^activations\[0\] 'gelu' needs opset >= 20, got opset=19$"):
        skl2onnx.to_onnx(fitted, X[:1], options={"zipmap": False}, target_opset=19)


def test_registering_twice_is_harmless() -> None:
    from skl2onnx._supported_operators import sklearn_operator_name_map

    fitted = pipeline(MLPClassifier((4,), epochs=1, random_state=0), y3)
    before = skl2onnx.to_onnx(fitted, X[:1], options={"zipmap": False}).SerializeToString()
    register_skl2onnx()
    register_skl2onnx()
    assert sklearn_operator_name_map[MLPClassifier] == CLASSIFIER_ALIAS
    assert sklearn_operator_name_map[MLPRegressor] == REGRESSOR_ALIAS
    assert skl2onnx.to_onnx(fitted, X[:1], options={"zipmap": False}).SerializeToString() == before


def test_zipmap_columns_and_nocl_as_for_scikit_learns_mlp() -> None:
    fitted = pipeline(MLPClassifier((4,), epochs=2, random_state=0, dtype="float32"), np.array(["a", "b", "c"])[y3])
    probabilities = fitted.predict_proba(X)
    names, (label, *columns) = convert_and_run(fitted, "float32", zipmap="columns")
    assert names == ["output_label", "sa", "sb", "sc"]  # a tensor per class, named by skl2onnx
    np.testing.assert_array_equal(label, fitted.predict(X))
    np.testing.assert_allclose(np.stack(columns, axis=1), probabilities, rtol=0, atol=1e-6)
    _, (label, _) = convert_and_run(fitted, "float32", zipmap=False, nocl=True)  # class indices for labels
    np.testing.assert_array_equal(label, np.searchsorted(fitted[-1].classes_, fitted.predict(X)))


def test_without_skl2onnx_registering_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "skl2onnx", None)  # `import skl2onnx` raises ImportError, as when not installed
    with pytest.raises(ImportError, match=r'needs the skl2onnx package, which is not installed: pip install -e "\.\[onnx\]"'):
        register_skl2onnx()
