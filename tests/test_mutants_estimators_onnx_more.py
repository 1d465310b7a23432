"""Mutation audit of ``functional_nn.sklearn`` and ``functional_nn.onnx_export``, second pass:
behaviour that neither the estimators' and the export's test files nor
tests/test_mutants_estimators_onnx.py pinned, each test killing mutants of the ones that pass
left unrun."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
import sklearn
from onnx.reference import ReferenceEvaluator

from functional_nn import export_onnx
from functional_nn.propagation import predict_proba

from functional_nn.sklearn import MLPClassifier
from functional_nn.types import Activation

# -- sklearn -------------------------------------------------------------------------------


def test_predict_proba_gives_the_same_bits_for_a_fortran_ordered_x() -> None:
    # kills dropping order="C" in _output: 64 features make BLAS sum a Fortran-ordered X otherwise
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 64))
    y = rng.integers(0, 3, 50)
    clf = MLPClassifier((16,), epochs=1, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(np.asfortranarray(X)), clf.predict_proba(np.ascontiguousarray(X)))


@pytest.mark.parametrize(
    ("setting", "error", "message"),
    [
        ({"optimizer": 3}, TypeError, r"^optimizer must be one of \[.*\] or an Optimizer such as adam\(1e-3\), got 3$"),
        ({"dropout": -0.5}, ValueError, r"^dropout must be a finite number >= 0, got -0.5$"),
    ],
)
def test_a_bad_setting_is_refused_in_the_estimators_own_words(setting: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        MLPClassifier((2,), **setting).fit(np.eye(4), [0, 1, 0, 1])


def test_an_estimator_without_its_fitted_optimizer_setting_names_only_the_new_one() -> None:
    # As an estimator pickled by an older version, which recorded no _fitted_optimizer.
    X = np.eye(4)
    clf = MLPClassifier((2,), random_state=0).partial_fit(X, [0, 1, 0, 1], classes=[0, 1])
    del clf._fitted_optimizer
    clf.set_params(optimizer="sgd")
    with pytest.raises(ValueError, match=r"^optimizer 'sgd' keeps another state than the optimizer of the last fit: partial_fit continues"):
        clf.partial_fit(X, [0, 1, 0, 1])


def test_partial_fit_request_is_scikit_learns_metadata_routing_not_the_type_checkers_stub() -> None:
    # kills `if TYPE_CHECKING:` -> True over the set_partial_fit_request stub (it would return None)
    with sklearn.config_context(enable_metadata_routing=True):
        clf = MLPClassifier()
        assert clf.set_partial_fit_request(classes=True) is clf
        assert clf.get_metadata_routing().consumes("partial_fit", ["classes"]) == {"classes"}


# -- onnx_export ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["linear", "relu", "tanh", "elu", "softplus"])
def test_every_activation_but_gelu_exports_at_the_oldest_opset(name: Activation, dtype: type[np.floating], tmp_path: Path) -> None:
    # kills raising the opset an activation needs in ONNX_ACTIVATIONS (softplus: 9 -> 10)
    params = {"W1": np.array([[1.0], [-2.0]], dtype), "b1": np.array([[0.5], [0.0]], dtype)}
    model = onnx.load(str(export_onnx(params, (name,), tmp_path / "m.onnx", opset=9)))
    assert model.opset_import[0].version == 9
    z = np.linspace(-3.0, 3.0, 7, dtype=dtype).reshape(-1, 1)
    evaluated: Any = ReferenceEvaluator(model).run(None, {"X": z})
    np.testing.assert_allclose(evaluated[0], predict_proba(z.T, params, (name,)).T, rtol=1e-6 if dtype == np.float32 else 1e-12)
