"""Mutation testing of L-BFGS (functional_nn.lbfgs, the estimators' optimizer="lbfgs") and the
skl2onnx converters (functional_nn.onnx_sklearn): the tests that a mutant of them survived,
each with its expected value worked out by NumPy rather than by the code under test."""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt
import onnxruntime
import pytest
import skl2onnx
from sklearn.exceptions import ConvergenceWarning

from functional_nn.onnx_sklearn import register_skl2onnx
from functional_nn.lbfgs import train_lbfgs
from functional_nn.sklearn import MLPClassifier
from functional_nn.training import TrainingDivergedError


def test_the_history_accuracy_of_a_weighted_hinge_fit_is_the_weighted_share_right_at_zero() -> None:
    """The hinge loss decides at 0 (not 0.5), and sample_weight weights the accuracy as it weights the cost."""
    rng = np.random.default_rng(10)  # two iterations leave outputs in (0, 0.5) and samples of either side wrong
    X = rng.standard_normal((2, 16))
    Y = np.where(X[0:1] + 0.8 * X[1:2] ** 2 > 0.3, 1.0, -1.0)
    weights = rng.integers(1, 5, size=16).astype(np.float64)
    params = {"W1": rng.standard_normal((3, 2)), "b1": np.zeros((3, 1)), "W2": rng.standard_normal((1, 3)), "b2": np.zeros((1, 1))}
    result = train_lbfgs(X, Y, params, activations=("tanh", "linear"), loss="hinge", sample_weight=weights, max_iter=2)
    p = result.params
    output = p["W2"] @ np.tanh(p["W1"] @ X + p["b1"]) + p["b2"]  # by hand
    right = (output[0] >= 0) == (Y[0] > 0)
    assert result.n_iter == 2
    assert result.history[-1].accuracy == pytest.approx(np.sum(weights * right) / np.sum(weights), abs=1e-12)  # 26/35 here


def test_a_start_whose_cost_overflows_is_refused_as_diverged_without_numpy_warnings() -> None:
    """Finite weights, but (1e200 w)^2 overflows: TrainingDivergedError naming the cost, and no
    RuntimeWarning from the evaluation of the start (train says the same, without warnings)."""
    X = np.array([[1e200, -1e200, 2e200, 1.0]])
    Y = np.array([[1.0, 0.0, 1.0, 0.0]])
    params = {"W1": np.array([[1.0]]), "b1": np.zeros((1, 1))}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as pytest's configuration has it; said here so the test says it too
        with pytest.raises(TrainingDivergedError, match=r"L-BFGS ended at iteration 0 \(ABNORMAL[^)]*\) where the cost is inf"):
            train_lbfgs(X, Y, params, activations=("linear",), loss="mean_squared_error", max_iter=5)


def test_n_fun_counts_the_evaluations_with_the_first_at_the_start() -> None:
    """scipy evaluates the start once before any iteration, and each iteration at least once more."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 30))
    Y = (X[0:1] * X[1:2] > 0).astype(np.float64)
    params = {"W1": rng.standard_normal((3, 2)), "b1": np.zeros((3, 1)), "W2": rng.standard_normal((1, 3)), "b2": np.zeros((1, 1))}
    result = train_lbfgs(X, Y, params, activations=("sigmoid", "sigmoid"), loss="binary_cross_entropy", max_iter=5)
    assert result.n_iter == 5 and result.n_fun >= result.n_iter + 1


def test_the_convergence_warning_points_at_the_users_fit() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(np.int64)
    with pytest.warns(ConvergenceWarning) as caught:
        MLPClassifier((3,), optimizer="lbfgs", epochs=2, random_state=0).fit(X, y)
    assert [w.filename for w in caught] == [__file__]


def _onnx_session(estimator: MLPClassifier, X: npt.NDArray[np.float64]) -> onnxruntime.InferenceSession:
    register_skl2onnx()
    model = skl2onnx.to_onnx(estimator, X[:1], options={"zipmap": False})
    return onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


ONNX_X = np.random.default_rng(0).normal(size=(24, 3))


def test_boolean_labels_convert_to_int64_zero_and_one() -> None:
    y = ONNX_X[:, 0] > 0
    clf = MLPClassifier((3,), epochs=20, random_state=0).fit(ONNX_X, y)
    label, probabilities = _onnx_session(clf, ONNX_X).run(None, {"X": ONNX_X})
    assert label.dtype == np.int64 and set(label.tolist()) <= {0, 1}
    assert np.array_equal(label, np.asarray(clf.predict(ONNX_X)).astype(np.int64))


def test_a_multiclass_tie_gives_the_first_class_as_numpys_argmax() -> None:
    """All weights 0: every softmax output is 1/3, and predict (argmax) gives classes_[0]."""
    y = np.array([5, 7, 9])[np.argmax(ONNX_X, axis=1)]
    clf = MLPClassifier((3,), epochs=2, random_state=0).fit(ONNX_X, y)
    for value in clf.params_.values():
        value[...] = 0.0
    label, probabilities = _onnx_session(clf, ONNX_X).run(None, {"X": ONNX_X})
    assert (label == 5).all() and np.allclose(probabilities, 1 / 3, rtol=1e-15)



def test_string_labels_held_as_objects_convert_to_strings() -> None:
    y = np.array(["no", "yes"], dtype=object)[(ONNX_X[:, 0] > 0).astype(np.int64)]
    clf = MLPClassifier((3,), epochs=20, random_state=0).fit(ONNX_X, y)
    label, probabilities = _onnx_session(clf, ONNX_X).run(None, {"X": ONNX_X})
    assert label.tolist() == np.asarray(clf.predict(ONNX_X)).tolist() and set(label.tolist()) <= {"no", "yes"}
