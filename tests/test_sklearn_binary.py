"""Two classes in ``functional_nn.sklearn.MLPClassifier`` as in scikit-learn's own: one logistic
output unit trained with binary cross-entropy, ``predict_proba`` ``[1 - p, p]``, ``predict``
``classes_[1]`` where ``p > 0.5``, and held-out scores that agree with ``predict`` on an output
of exactly 0.5."""

from __future__ import annotations

import copy
import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as ScikitLearnClassifier

from functional_nn import initialize_parameters, one_hot, sgd, train
from functional_nn.sklearn import MLPClassifier


def _two_classes(n: int = 40, seed: int = 0) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.str_]]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    return X, np.where(X[:, 0] + 0.5 * rng.standard_normal(n) > 0, "yes", "no")


def _held_out(sizes: tuple[int, ...], y: Any, fraction: float, *, stratify: bool = True) -> npt.NDArray[np.intp]:
    """The rows a first fit with ``random_state=0`` and ``early_stopping`` holds out, stratified by
    ``y`` (else at random), drawn as functional_nn.sklearn's docstring says: the initial parameters,
    then the split's seed."""
    rng = np.random.default_rng(0)
    initialize_parameters(sizes, rng, scheme="he")
    seed = int(rng.integers(2**31))
    _, dev_rows = train_test_split(np.arange(len(y)), test_size=fraction, random_state=seed, stratify=y if stratify else None)
    return np.sort(dev_rows)


def _output(clf: MLPClassifier, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The one logistic unit's output ``(n,)``, by hand from ``coefs_`` and ``intercepts_`` (ReLU hidden layers)."""
    A = X
    for W, b in zip(clf.coefs_[:-1], clf.intercepts_[:-1]):
        A = np.maximum(A @ W + b, 0)
    z = (A @ clf.coefs_[-1] + clf.intercepts_[-1])[:, 0]
    return 1 / (1 + np.exp(-z))


def test_two_classes_have_one_logistic_unit_with_scikit_learns_attributes() -> None:
    X, y = _two_classes()
    clf = MLPClassifier((5,), epochs=3, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = ScikitLearnClassifier((5,), max_iter=3, random_state=0).fit(X, y)
    assert clf.n_outputs_ == theirs.n_outputs_ == 1
    assert clf.out_activation_ == theirs.out_activation_ == "logistic"
    assert [W.shape for W in clf.coefs_] == [W.shape for W in theirs.coefs_] == [(3, 5), (5, 1)]
    assert [b.shape for b in clf.intercepts_] == [b.shape for b in theirs.intercepts_] == [(5,), (1,)]
    assert clf.activations_ == ("relu", "sigmoid") and clf.classes_.tolist() == ["no", "yes"]
    assert not clf._multilabel  # binary 1-D labels are not a multilabel indicator matrix


def test_one_full_batch_partial_fit_step_equals_scikit_learns_from_the_same_weights() -> None:
    X, y = _two_classes(30)
    clf = MLPClassifier((4,), optimizer="sgd", learning_rate=0.3, batch_size=None, alpha=0.7, random_state=0)
    clf.partial_fit(X, y, classes=["no", "yes"])
    theirs = ScikitLearnClassifier(
        (4,), solver="sgd", momentum=0.0, nesterovs_momentum=False, learning_rate_init=0.3, batch_size=30, alpha=0.7,
        shuffle=False, random_state=0,
    )  # fmt: skip
    theirs.partial_fit(X, y, classes=["no", "yes"])
    theirs.coefs_ = [W.copy() for W in clf.coefs_]  # as scikit-learn allows: its next step starts from ours
    theirs.intercepts_ = [b.copy() for b in clf.intercepts_]
    np.testing.assert_allclose(theirs.predict_proba(X), clf.predict_proba(X), rtol=1e-14, atol=1e-15)
    clf.partial_fit(X, y)
    theirs.partial_fit(X, y)
    for ours, their in zip(clf.coefs_ + clf.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(ours, their, rtol=1e-12, atol=1e-14)
    assert clf.loss_curve_[-1] == pytest.approx(theirs.loss_curve_[-1], rel=1e-12)  # the cost of the weights it started from
    np.testing.assert_allclose(clf.predict_proba(X), theirs.predict_proba(X), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(clf.predict(X), theirs.predict(X))


def test_predict_proba_is_one_minus_p_and_p_of_the_network_output_in_its_dtype() -> None:
    X, y = _two_classes()
    clf = MLPClassifier((6, 3), epochs=5, learning_rate=0.05, random_state=1).fit(X, y)
    proba = clf.predict_proba(X)
    p = _output(clf, X)
    assert proba.shape == (40, 2) and proba.dtype == np.float64
    np.testing.assert_allclose(proba[:, 1], p, rtol=1e-13)
    np.testing.assert_array_equal(proba[:, 0], 1 - proba[:, 1])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(clf.predict_log_proba(X), np.log(proba))
    np.testing.assert_array_equal(clf.predict(X), np.where(p > 0.5, "yes", "no"))
    assert clf.score(X, y) == accuracy_score(y, clf.predict(X))
    small = MLPClassifier((6,), epochs=2, dtype="float32", random_state=0).fit(X, y)
    assert small.predict_proba(X).dtype == np.float32 and small.predict_proba(X).shape == (40, 2)


def test_an_output_of_exactly_one_half_predicts_classes_0_as_scikit_learns() -> None:
    X, y = _two_classes(8)
    clf = MLPClassifier((3,), epochs=1, random_state=0).fit(X, y)
    for key in clf.params_:
        clf.params_[key][...] = 0  # z == 0: sigmoid(0) == 0.5
    np.testing.assert_array_equal(clf.predict_proba(X), 0.5)
    np.testing.assert_array_equal(clf.predict(X), ["no"] * 8)  # not > 0.5: classes_[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = ScikitLearnClassifier((3,), max_iter=1, random_state=0).fit(X, y)
    theirs.coefs_ = [np.zeros_like(W) for W in theirs.coefs_]
    theirs.intercepts_ = [np.zeros_like(b) for b in theirs.intercepts_]
    np.testing.assert_array_equal(theirs.predict(X), clf.predict(X))
    assert clf.score(X, y) == np.mean(y == "no") == 4 / 8


def test_held_out_scores_at_exactly_one_half_agree_with_predict_not_with_the_cores_rule() -> None:
    # X all 0 and a full batch of 8 samples of each class: z stays b, whose gradient mean(0.5 - y) is
    # exactly 0, so every output is exactly 0.5 all along; predict says classes_[0] ("a") for each
    X, y = np.zeros((20, 2)), np.repeat(["a", "b"], 10)
    dev = _held_out((2, 1), y, 0.2)
    assert sorted(y[dev]) == ["a", "a", "b", "b"]
    weights = np.ones(20)
    weights[dev[y[dev] == "b"]] = 3.0  # the held-out "b"s count three times: 2 of weight 8 right as "a"s
    clf = MLPClassifier((), optimizer="sgd", learning_rate=0.5, batch_size=None, epochs=3, early_stopping=True,
                        validation_fraction=0.2, random_state=0).fit(X, y, sample_weight=weights)  # fmt: skip
    np.testing.assert_array_equal(clf.predict_proba(X), 0.5)
    expected = accuracy_score(y[dev], clf.predict(X[dev]), sample_weight=weights[dev])
    assert expected == 2 / 8
    assert clf.validation_scores_ == [expected] * 3 and clf.best_validation_score_ == expected
    assert [record.dev_accuracy for record in clf.history_] == [6 / 8] * 3  # the core's documented >= 0.5: "b"
    # a multilabel fit alike (split at random): each label on for half the training rows, both on in the
    # held-out ones, which predict's all-off at 0.5 gets wrong and the core's all-on right
    dev = _held_out((2, 2), y, 0.2, stratify=False)
    Y = np.zeros((20, 2), dtype=np.int64)
    Y[np.setdiff1d(np.arange(20), dev)[:8]] = 1
    Y[dev] = 1
    multilabel = MLPClassifier((), optimizer="sgd", batch_size=None, epochs=2, early_stopping=True,
                               validation_fraction=0.2, random_state=0).fit(X, Y)  # fmt: skip
    np.testing.assert_array_equal(multilabel.predict_proba(X), 0.5)
    np.testing.assert_array_equal(multilabel.predict(X), 0)
    assert multilabel.validation_scores_ == [accuracy_score(Y[dev], multilabel.predict(X[dev]))] * 2 == [0.0, 0.0]
    assert [record.dev_accuracy for record in multilabel.history_] == [1.0, 1.0]


def test_weighted_held_out_scores_are_accuracy_score_of_predict_on_the_held_out_rows() -> None:
    X, y = _two_classes(60, seed=3)
    weights = np.random.default_rng(4).integers(1, 4, 60).astype(np.float64)
    dev = _held_out((3, 8, 1), y, 0.25)
    for epochs in (1, 6):
        clf = MLPClassifier((8,), learning_rate=0.02, epochs=epochs, early_stopping=True, validation_fraction=0.25,
                            n_iter_no_change=20, random_state=0).fit(X, y, sample_weight=weights)  # fmt: skip
        scores = clf.validation_scores_
        assert scores is not None and len(scores) == epochs
        expected = accuracy_score(y[dev], clf.predict(X[dev]), sample_weight=weights[dev])  # of the best epoch's params_
        assert clf.best_validation_score_ == expected
    assert weights[dev].sum() == 33  # the held-out weight: the scores are weights right of 33
    assert scores == pytest.approx([16 / 33, 19 / 33, 19 / 33, 22 / 33, 22 / 33, 23 / 33], rel=1e-15)
    # the split is stratified for two classes, as scikit-learn's: the held-out rows keep y's proportions
    assert np.mean(y[dev] == "yes") == pytest.approx(np.mean(y == "yes"), abs=1 / len(dev))


def test_partial_fit_with_two_classes_and_a_batch_of_one_trains_one_unit_as_train_does() -> None:
    X, _ = _two_classes(12)
    clf = MLPClassifier((4,), optimizer="sgd", learning_rate=0.1, batch_size=None, alpha=0.0, random_state=0)
    clf.partial_fit(X, np.full(12, "yes"), classes=["yes", "no"])
    assert clf.classes_.tolist() == ["no", "yes"] and clf.n_outputs_ == 1
    rng = np.random.default_rng(0)
    start = initialize_parameters((3, 4, 1), rng, scheme="he")
    result = train(X.T, np.ones((1, 12)), start, activations=("relu", "sigmoid"), loss="binary_cross_entropy", epochs=1,
                   optimizer=sgd(0.1), rng=rng)  # fmt: skip  # targets 1.0 for classes_[1], "yes"
    for key, value in result.params.items():
        np.testing.assert_array_equal(clf.params_[key], value)
    clf.partial_fit(X, np.full(12, "no"))  # the other class: targets 0.0
    result = train(X.T, np.zeros((1, 12)), result.params, activations=("relu", "sigmoid"), loss="binary_cross_entropy",
                   epochs=1, optimizer=sgd(0.1), rng=rng, optimizer_state=result.optimizer_state)  # fmt: skip
    for key, value in result.params.items():
        np.testing.assert_array_equal(clf.params_[key], value)


def test_continuing_a_binary_fit_refuses_other_targets_naming_what_was_fitted() -> None:
    X, y = _two_classes(12)
    clf = MLPClassifier((3,), epochs=1, warm_start=True, random_state=0).fit(X, y)
    with pytest.raises(ValueError) as raised:
        clf.fit(X, np.where(np.arange(12) < 4, "maybe", y))
    assert str(raised.value) == "y holds labels ['maybe'] that are not among the fitted classes ['no', 'yes']"
    with pytest.raises(ValueError) as raised:
        clf.partial_fit(X, np.ones((12, 2), dtype=np.int64))
    assert str(raised.value) == (
        "y is a multilabel indicator matrix of 2 labels, but the fitted network was fitted on 1-D labels of the classes "
        "['no', 'yes']: partial_fit continues it, so y must be of the same kind and number of labels; fit with "
        "warm_start=False to start afresh"
    )
    multilabel = MLPClassifier((3,), epochs=1, warm_start=True, random_state=0).fit(X, np.ones((12, 2), dtype=np.int64))
    with pytest.raises(ValueError, match=r"^y is 1-D labels, but the fitted network was fitted on a multilabel indicator matrix of 2 labels"):
        multilabel.fit(X, y)
    assert clf.n_outputs_ == 1 and multilabel.n_outputs_ == 2


def test_the_onnx_export_of_a_binary_classifier_is_its_one_unit_and_predict_proba_column_1(tmp_path: Path) -> None:
    onnxruntime = pytest.importorskip("onnxruntime")
    from functional_nn import export_onnx

    X, y = _two_classes()
    clf = MLPClassifier((5,), epochs=4, learning_rate=0.05, random_state=0).fit(X, y)
    path = export_onnx(clf.params_, clf.activations_, tmp_path / "binary.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {"X": X})
    assert output.shape == (40, 1)
    np.testing.assert_allclose(output[:, 0], clf.predict_proba(X)[:, 1], rtol=1e-12, atol=1e-15)


def _legacy(clf: MLPClassifier) -> MLPClassifier:
    """``clf`` as a version before one logistic unit pickled a fit on two classes: two softmax
    units whose logits ``-z/2, z/2`` give ``softmax(...)[1] == sigmoid(z)``, and no ``_target_kind``."""
    state: dict[str, Any] = getattr(clf, "__getstate__")()  # scikit-learn's, with its version
    W, b = clf.params_["W2"], clf.params_["b2"]
    params = {"W1": clf.params_["W1"].copy(), "b1": clf.params_["b1"].copy(), "W2": np.vstack([-W / 2, W / 2]),
              "b2": np.vstack([-b / 2, b / 2])}  # fmt: skip
    for key in ("_target_kind", "_trained_params", "_validation_scores", "_samples_seen"):
        state.pop(key)
    state.update(params_=params, activations_=("relu", "softmax"), _output_activation="softmax",
                 _loss="categorical_cross_entropy")  # fmt: skip
    legacy: MLPClassifier = pickle.loads(pickle.dumps(clf))
    legacy.__dict__.clear()
    legacy.__setstate__(state)
    return legacy


def test_an_estimator_pickled_with_two_softmax_units_for_two_classes_keeps_predicting_through_them() -> None:
    X, y = _two_classes()
    clf = MLPClassifier((5,), optimizer="sgd", learning_rate=0.05, epochs=3, random_state=0).fit(X, y)
    legacy = pickle.loads(pickle.dumps(_legacy(clf)))
    assert legacy.n_outputs_ == 2 and legacy.out_activation_ == "softmax" and legacy.coefs_[-1].shape == (5, 2)
    np.testing.assert_allclose(legacy.predict_proba(X), clf.predict_proba(X), rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(legacy.predict(X), clf.predict(X))
    assert legacy.score(X, y) == clf.score(X, y)
    # continuing it keeps its two units, trained as before: softmax with categorical cross-entropy
    rng = copy.deepcopy(legacy.rng_)
    expected = train(X.T, one_hot((y == "yes").astype(np.int64), 2), legacy.params_, activations=("relu", "softmax"),
                     loss="categorical_cross_entropy", epochs=1, optimizer=sgd(0.05), batch_size=200, rng=rng,
                     lambd=1e-4, optimizer_state=legacy.optimizer_state_)  # fmt: skip
    legacy.partial_fit(X, y)
    for key, value in expected.params.items():
        np.testing.assert_array_equal(legacy.params_[key], value)
    assert legacy.n_outputs_ == 2 and legacy.coefs_[-1].shape == (5, 2) and legacy.predict_proba(X).shape == (40, 2)
    legacy.set_params(warm_start=True, epochs=1).fit(X, y)
    assert legacy.n_outputs_ == 2 and legacy.n_iter_ == 5
    # a fit afresh makes scikit-learn's layout
    legacy.set_params(warm_start=False).fit(X, y)
    assert legacy.n_outputs_ == 1 and legacy.out_activation_ == "logistic"
