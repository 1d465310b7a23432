"""A user's review of the skl2onnx converters (``functional_nn.onnx_sklearn``): a pipeline
holding an estimator not fitted yet is refused with scikit-learn's ``NotFittedError``, as
``predict`` refuses it, not with skl2onnx's "No known ways to retrieve the number of
classes" or an ``AttributeError`` from inside the converter."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import skl2onnx
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from functional_nn.onnx_sklearn import register_skl2onnx
from functional_nn.sklearn import MLPClassifier, MLPRegressor


@pytest.mark.parametrize(
    ("estimator", "options"),
    [
        (MLPClassifier((3,)), None),  # skl2onnx's classifier parser (zipmap) meets it first
        (MLPClassifier((3,)), {"zipmap": False}),
        (MLPRegressor((3,)), None),
    ],
    ids=["classifier-zipmap", "classifier-tensors", "regressor"],
)
def test_an_unfitted_estimator_in_a_pipeline_is_refused_as_not_fitted(
    rng: np.random.Generator, estimator: MLPClassifier | MLPRegressor, options: dict[str, Any] | None
) -> None:
    register_skl2onnx()
    X = rng.normal(size=(6, 3))
    pipeline = make_pipeline(StandardScaler().fit(X), estimator)
    with pytest.raises(NotFittedError, match=rf"^This {type(estimator).__name__} instance is not fitted yet"):
        skl2onnx.to_onnx(pipeline, X[:1], options=options)
