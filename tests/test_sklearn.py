"""The scikit-learn estimators: scikit-learn's own estimator checks, a pipeline and a grid
search, the same parameters as ``train`` by hand (bitwise), continuation by ``partial_fit``
and ``warm_start``, early stopping, bad settings, and the load_digits comparison."""

from __future__ import annotations

import importlib
import json
import pickle
import re
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import (
    check_classifiers_multilabel_output_format_decision_function,
    check_methods_sample_order_invariance,
    parametrize_with_checks,
)

from functional_nn import export_onnx
from functional_nn.activations import ACTIVATIONS
from functional_nn.data import one_hot
from functional_nn.initializers import initialize_parameters
from functional_nn.losses import compute_cost
from functional_nn.onnx_export import UnsupportedActivationError
from functional_nn.optimizers import adam, momentum
from functional_nn.schedules import cosine_decay
from functional_nn.sklearn import MLPClassifier, MLPRegressor
from functional_nn.training import train
from user_records import SOFTSIGN, softsign

# Checks of scikit-learn's suite these estimators are expected to fail, with the reason.
# None: every check passes. xfail_strict makes a listed check that starts passing an error.
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


def expected_failed_checks(estimator: object) -> dict[str, str]:
    return EXPECTED_FAILED_CHECKS


@parametrize_with_checks(  # type: ignore[untyped-decorator]  # scikit-learn ships no type information
    [MLPClassifier(), MLPRegressor()], expected_failed_checks=expected_failed_checks, xfail_strict=True
)
def test_scikit_learn_estimator_checks(estimator: Any, check: Callable[[Any], None], monkeypatch: pytest.MonkeyPatch) -> None:
    # check_array_api_input runs with NumPy's namespace only (array_api_support is False) but
    # skips itself unless this is set; it needs no other array library.
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    run_check(estimator, check)


def run_check(estimator: Any, check: Callable[[Any], None]) -> None:
    """Run one of scikit-learn's checks, but for the one that would skip itself: the multilabel
    output check of ``decision_function``, which neither our classifier nor scikit-learn's has."""
    if getattr(check, "func", None) is check_classifiers_multilabel_output_format_decision_function:
        assert not hasattr(estimator, "decision_function")  # else the check has something to check: run it
        return
    check(estimator)


def expected_failed_checks_of_other_settings(estimator: Any) -> dict[str, str]:
    """Failures by design of the settings below, each with its reason."""
    failures: dict[str, str] = {}
    if estimator.warm_start:
        failures["check_supervised_y_2d"] = "with warm_start the check's second fit continues the first, by design"
        failures["check_classifiers_multilabel_representation_invariance"] = (
            "with warm_start the check's second and third fits continue the first, by design"
        )
    if estimator.dtype == "float32" and isinstance(estimator, MLPRegressor):
        failures["check_regressor_multioutput"] = "dtype='float32' predicts in float32, the network's dtype, by design"
    if estimator.early_stopping:
        failures["check_sample_weight_equivalence_on_dense_data"] = (
            "early_stopping holds out other samples of the repeated rows than of the weighted ones, by design "
            "(scikit-learn's own MLPClassifier and MLPRegressor with early_stopping=True fail the check too)"
        )
    return failures


# Non-default settings: float32, early stopping, dropout, another optimizer and activation, full
# batches, warm starts, L-BFGS. Strict: each listed failure is by design and happens on every machine.
@parametrize_with_checks(  # type: ignore[untyped-decorator]  # scikit-learn ships no type information
    [
        MLPClassifier((16,), warm_start=True, epochs=100, learning_rate=1e-2),
        MLPClassifier((16,), dtype="float32", early_stopping=True, dropout=0.1, optimizer="nesterov", learning_rate=0.05, epochs=100),
        MLPRegressor((16,), dtype="float32", early_stopping=True, activation="gelu", batch_size=None, learning_rate=0.02, epochs=100),
        MLPClassifier((16,), activation="tanh", optimizer="lbfgs", epochs=1000, alpha=1e-2, tol=1e-3),
    ],
    expected_failed_checks=expected_failed_checks_of_other_settings,
    xfail_strict=True,
)
def test_scikit_learn_estimator_checks_with_other_settings(
    estimator: Any, check: Callable[[Any], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    order_check = getattr(check, "func", None) is check_methods_sample_order_invariance
    if order_check and isinstance(estimator, MLPRegressor) and estimator.dtype == "float32":
        # the check's rtol of 1e-7 is below one float32 rounding (1.2e-7), and whether a BLAS
        # rounds reordered products differently depends on its kernels: the same property,
        # within a few float32 roundings
        assert_predicts_reordered_samples_within_float32_roundings(estimator)
        return
    run_check(estimator, check)


def assert_predicts_reordered_samples_within_float32_roundings(estimator: MLPRegressor) -> None:
    """A float32 network's products over reordered samples may round differently, but only in the last bits."""
    X, y = make_regression(n_samples=200, n_features=6, noise=0.1, random_state=0)
    reg = clone(estimator).set_params(random_state=0).fit(X, y)  # a clone: the checks share their estimator
    order = np.random.default_rng(1).permutation(X.shape[0])
    predicted = reg.predict(X)
    assert predicted.dtype == np.float32
    reordered = reg.predict(X[order])
    eps = float(np.finfo(np.float32).eps)  # a sum near zero may cancel: the tolerance is also the outputs' scale's
    np.testing.assert_allclose(reordered, predicted[order], rtol=8 * eps, atol=8 * eps * float(np.abs(predicted).max()))
    assert not np.allclose(predicted, predicted[order])  # the order matters to the comparison


def iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return X, np.array(["setosa", "versicolor", "virginica"])[y]


def test_the_estimator_learns_what_train_learns_by_hand_bitwise() -> None:
    """No training logic of its own: the same draws, the same data, the same parameters."""
    X, labels = iris()
    clf = MLPClassifier((8, 5), activation="tanh", learning_rate=1e-2, batch_size=32, epochs=7, alpha=0.1, dropout=0.2,
                        init="xavier", random_state=3).fit(X, labels)  # fmt: skip
    rng = np.random.default_rng(3)
    params = initialize_parameters([4, 8, 5, 3], rng, scheme="xavier")
    classes, y = np.unique(labels, return_inverse=True)
    result = train(
        np.asfortranarray(X.T), one_hot(y, 3), params, activations=("tanh", "tanh", "softmax"),
        loss="categorical_cross_entropy", epochs=7, optimizer=adam(1e-2), batch_size=32, rng=rng, lambd=0.1,
        keep_probs=0.8,
    )  # fmt: skip
    assert clf.classes_.tolist() == classes.tolist() == ["setosa", "versicolor", "virginica"]
    assert clf.params_.keys() == result.params.keys()
    for key, value in result.params.items():
        np.testing.assert_array_equal(clf.params_[key], value)
    assert clf.history_ == result.history
    assert clf.n_iter_ == 7 and clf.n_features_in_ == 4
    assert clf.optimizer_state_.step == 7 * 5  # 150 samples in batches of 32
    assert clf.activations_ == ("tanh", "tanh", "softmax")


def test_a_user_defined_activation_record_trains_like_train_by_hand(tmp_path: Path) -> None:
    X, labels = iris()
    clf = MLPClassifier((8,), activation=SOFTSIGN, learning_rate=1e-2, epochs=60, random_state=0).fit(X, labels)
    assert clf.activations_ == (SOFTSIGN, "softmax") and clf.score(X, labels) > 0.9
    rng = np.random.default_rng(0)
    params = initialize_parameters([4, 8, 3], rng)
    result = train(
        X.T, one_hot(np.unique(labels, return_inverse=True)[1], 3), params, activations=(SOFTSIGN, "softmax"),
        loss="categorical_cross_entropy", epochs=60, optimizer=adam(1e-2), batch_size=200, rng=rng, lambd=1e-4,
    )  # fmt: skip
    for key, value in result.params.items():
        np.testing.assert_array_equal(clf.params_[key], value)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), clf.predict_proba(X))
    with pytest.raises(UnsupportedActivationError, match="'softsign' is a user-defined activation"):
        export_onnx(clf.params_, clf.activations_, tmp_path / "model.onnx")
    built_in = MLPClassifier((8,), activation=ACTIVATIONS["gelu"], epochs=2, random_state=0).fit(X, labels)
    export_onnx(built_in.params_, built_in.activations_, tmp_path / "model.onnx")  # a built-in's record exports
    with pytest.raises(TypeError, match="activation must be one of .* or an ActivationFunction record"):
        MLPClassifier(activation=softsign).fit(X, labels)  # type: ignore[arg-type]


def test_labels_of_any_type_are_encoded_into_classes() -> None:
    X, names = iris()
    clf = MLPClassifier((16,), learning_rate=1e-2, epochs=100, random_state=0).fit(X, names)
    predicted = clf.predict(X)
    assert predicted.dtype == names.dtype and set(predicted) <= set(names)
    assert clf.score(X, names) > 0.9
    probabilities = clf.predict_proba(X)
    assert probabilities.shape == (150, 3) and probabilities.dtype == np.float64
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(clf.classes_[probabilities.argmax(axis=1)], predicted)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(probabilities))
    flags = MLPClassifier((4,), epochs=3, random_state=0).fit(X, names == "setosa")
    assert flags.classes_.tolist() == [False, True] and flags.predict(X).dtype == np.bool_


def test_partial_fit_runs_one_epoch_and_keeps_the_optimizer_state() -> None:
    X, labels = iris()
    settings = dict(hidden_layer_sizes=(6,), learning_rate=1e-2, batch_size=50, random_state=1)
    once = MLPClassifier(epochs=3, **settings).fit(X, labels)  # type: ignore[arg-type]
    stepwise = MLPClassifier(**settings)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="classes must be passed on the first call to partial_fit"):
        stepwise.partial_fit(X, labels)
    stepwise.partial_fit(X, labels, classes=np.unique(labels))
    assert stepwise.n_iter_ == 1 and stepwise.optimizer_state_.step == 3
    stepwise.partial_fit(X, labels).partial_fit(X, labels)
    assert stepwise.n_iter_ == 3 and stepwise.optimizer_state_.step == 9
    for key, value in once.params_.items():
        np.testing.assert_array_equal(stepwise.params_[key], value)  # Adam's moments and step carried over
    assert [r.epoch for r in stepwise.history_] == [1, 2, 3]
    with pytest.raises(ValueError, match=r"labels \['other'\] that are not among the fitted classes"):
        stepwise.partial_fit(X[:2], np.array(["setosa", "other"]))


def test_warm_start_continues_weights_optimizer_state_and_generator() -> None:
    X, y = make_regression(n_samples=80, n_features=5, noise=1.0, random_state=0)
    y = y / np.std(y)
    optimizer = momentum(cosine_decay(0.05, decay_steps=40))  # the schedule's position must carry over too
    once = MLPRegressor((7,), optimizer=optimizer, batch_size=16, epochs=4, dropout=0.1, random_state=2).fit(X, y)
    warm = MLPRegressor((7,), optimizer=optimizer, batch_size=16, epochs=1, dropout=0.1, random_state=2, warm_start=True)
    for _ in range(4):
        warm.fit(X, y)
    assert warm.n_iter_ == 4 and warm.optimizer_state_.step == once.optimizer_state_.step == 20
    for key, value in once.params_.items():
        np.testing.assert_array_equal(warm.params_[key], value)
    cold = MLPRegressor((7,), optimizer=optimizer, batch_size=16, epochs=1, dropout=0.1, random_state=2)
    cold.fit(X, y).fit(X, y)  # without warm_start, each fit starts afresh
    assert cold.n_iter_ == 1 and cold.optimizer_state_.step == 5
    warm.set_params(hidden_layer_sizes=(9,))
    with pytest.raises(ValueError, match=r"warm_start continues the fitted network, layer sizes \(5, 7, 1\)"):
        warm.fit(X, y)


def test_regressor_fits_one_and_several_outputs_in_float32() -> None:
    X, Y = make_regression(n_samples=200, n_features=4, n_targets=2, noise=0.1, random_state=0)
    X = StandardScaler().fit_transform(X)
    Y = Y / Y.std(axis=0)
    reg = MLPRegressor((32,), learning_rate=1e-2, epochs=100, random_state=0, dtype="float32").fit(X, Y)
    assert reg.params_["W1"].dtype == np.float32 and reg.n_outputs_ == 2
    predicted = reg.predict(X)
    assert predicted.shape == (200, 2) and predicted.dtype == np.float32
    assert reg.score(X, Y) > 0.95
    single = MLPRegressor((32,), learning_rate=1e-2, epochs=100, random_state=0).fit(X, Y[:, 0])
    assert single.predict(X).shape == (200,) and single.score(X, Y[:, 0]) > 0.95


def test_early_stopping_holds_out_a_validation_fraction_and_keeps_the_best_epoch() -> None:
    X, labels = iris()
    clf = MLPClassifier((16,), learning_rate=0.05, epochs=500, early_stopping=True, validation_fraction=0.2,
                        n_iter_no_change=5, tol=1e-3, random_state=0).fit(X, labels)  # fmt: skip
    assert clf.n_iter_ < 500
    best, best_cost = 0, np.inf  # the rule: an epoch improves when its held-out cost is lower by more than tol
    for index, record in enumerate(clf.history_):
        assert record.dev_cost is not None and record.dev_accuracy is not None
        if record.dev_cost < best_cost - 1e-3:
            best, best_cost = index, record.dev_cost
    assert clf.n_iter_ == best + 1 + 5  # stopped patience epochs after the best
    assert clf.score(X, labels) > 0.9
    # params_ are the best epoch's: their cost on the held-out rows (drawn as the module's
    # docstring says: the initial parameters, then the split's seed) is that epoch's dev cost.
    rng = np.random.default_rng(0)
    initialize_parameters([4, 16, 3], rng)
    _, dev_rows = train_test_split(np.arange(150), test_size=0.2, random_state=int(rng.integers(2**31)), stratify=labels)
    dev_cost = compute_cost(clf.predict_proba(X[dev_rows]).T, one_hot(np.searchsorted(clf.classes_, labels[dev_rows]), 3),
                            "categorical_cross_entropy")  # fmt: skip
    assert dev_cost == pytest.approx(best_cost, rel=1e-12)
    with pytest.raises(ValueError, match=r"validation_fraction must be in \(0, 1\), got 1.5"):
        clf.set_params(validation_fraction=1.5).fit(X, labels)


def test_pipeline_and_grid_search_over_two_settings() -> None:
    X, labels = iris()
    pipeline = make_pipeline(StandardScaler(), MLPClassifier((8,), learning_rate=1e-2, epochs=40, random_state=0))
    search = GridSearchCV(
        pipeline, {"mlpclassifier__hidden_layer_sizes": [(4,), (16,)], "mlpclassifier__activation": ["relu", "tanh"]},
        cv=3,
    )  # fmt: skip
    search.fit(X, labels)
    assert set(search.best_params_) == {"mlpclassifier__hidden_layer_sizes", "mlpclassifier__activation"}
    assert search.cv_results_["mean_test_score"].shape == (4,)
    assert search.best_score_ > 0.85 and search.score(X, labels) > 0.9
    fitted = search.best_estimator_[-1]
    assert fitted.params_["W1"].shape == (fitted.hidden_layer_sizes[0], 4)


def test_fitted_estimators_pickle_and_unfitted_ones_refuse_to_predict(tmp_path: Path) -> None:
    X, labels = iris()
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(X)
    with pytest.raises(NotFittedError):
        MLPRegressor().predict(X)
    clf = MLPClassifier((4,), epochs=5, random_state=0).fit(X, labels)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    restored.partial_fit(X, labels)  # the generator and the optimizer state came along
    clf.partial_fit(X, labels)
    np.testing.assert_array_equal(restored.params_["W1"], clf.params_["W1"])


def test_random_state_seeds_a_generator() -> None:
    X, labels = iris()
    a = MLPClassifier((4,), epochs=2, random_state=5).fit(X, labels)
    b = MLPClassifier((4,), epochs=2, random_state=np.random.default_rng(5)).fit(X, labels)
    c = MLPClassifier((4,), epochs=2, random_state=6).fit(X, labels)
    np.testing.assert_array_equal(a.params_["W1"], b.params_["W1"])
    assert not np.array_equal(a.params_["W1"], c.params_["W1"])


@pytest.mark.parametrize(
    ("setting", "error", "message"),
    [
        ({"activation": "rleu"}, ValueError, "unknown activation 'rleu'.*did you mean 'relu'"),
        ({"optimizer": "adma"}, ValueError, "unknown optimizer 'adma'.*did you mean 'adam'"),
        ({"optimizer": 3}, TypeError, "optimizer must be one of"),
        ({"dropout": 1.0}, ValueError, r"dropout must be in \[0, 1\)"),
        ({"hidden_layer_sizes": (4, 0)}, ValueError, r"hidden_layer_sizes\[1\] must be >= 1"),
        ({"epochs": 0}, ValueError, "epochs must be >= 1"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an integer"),
        ({"alpha": -1.0}, ValueError, "alpha must be a finite number >= 0"),
        ({"dtype": "float16"}, TypeError, "dtype must be 'float64' or 'float32'"),
        ({"init": "glorot"}, ValueError, "unknown init 'glorot'"),
        ({"random_state": "seed"}, TypeError, "random_state must be None, an int or a numpy.random.Generator"),
        ({"random_state": -1}, ValueError, r"random_state must be an int >= 0 \(a seed\), got -1"),
        ({"warm_start": "no"}, TypeError, "warm_start must be a bool, got 'no'"),
    ],
)
def test_bad_settings_are_refused_in_fit_naming_the_setting(setting: dict[str, object], error: type[Exception], message: str) -> None:
    X, labels = iris()
    clf = MLPClassifier(**setting)  # type: ignore[arg-type]  # stored as given: checked in fit
    with pytest.raises(error, match=message):
        clf.fit(X, labels)


@pytest.mark.parametrize(
    ("setting", "error", "message"),
    [
        ({"tol": "x"}, TypeError, "tol must be a number, got str 'x'"),
        ({"tol": -1}, ValueError, "tol must be a finite number >= 0, got -1"),
        ({"validation_fraction": 5}, ValueError, r"validation_fraction must be in \(0, 1\), got 5.0"),
        ({"validation_fraction": 0.0}, ValueError, "validation_fraction must be a finite number > 0, got 0.0"),
        ({"n_iter_no_change": -3}, ValueError, "n_iter_no_change must be >= 1, got -3"),
        ({"n_iter_no_change": None}, TypeError, "n_iter_no_change must be an integer, got NoneType None"),
        ({"early_stopping": "no"}, TypeError, "early_stopping must be a bool, got 'no'"),
        ({"epochs": 0}, ValueError, "epochs must be >= 1, got 0"),
    ],
)
@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_settings_that_go_unused_are_checked_all_the_same(
    estimator: type[MLPClassifier | MLPRegressor], setting: dict[str, object], error: type[Exception], message: str
) -> None:
    """As scikit-learn's estimators check every parameter in fit: a bad value is refused the
    same way whether or not early stopping (or, for partial_fit, the epoch count) would use it."""
    X, labels = iris()
    y = np.searchsorted(np.unique(labels), labels)  # numbers both estimators take
    calls: list[Callable[[MLPClassifier | MLPRegressor], object]] = [
        lambda model: model.fit(X, y),
        lambda model: model.partial_fit(X, y, classes=[0, 1, 2]) if isinstance(model, MLPClassifier) else model.partial_fit(X, y),
    ]
    for call in calls:
        for early_stopping in (False, True):
            model = estimator((4,), epochs=1, random_state=0).set_params(**{"early_stopping": early_stopping, **setting})
            with pytest.raises(error, match=f"^{message}$"):
                call(model)
            assert not hasattr(model, "params_")


@pytest.mark.parametrize("continuing", ["warm_start", "partial_fit"])
def test_switching_to_an_optimizer_that_cannot_continue_the_state_names_the_setting(continuing: str) -> None:
    X, labels = iris()
    clf = MLPClassifier((4,), epochs=2, warm_start=continuing == "warm_start", random_state=0).fit(X, labels)
    fitted = {key: value.copy() for key, value in clf.params_.items()}
    how = (
        "with warm_start=True, fit continues the last fit's optimizer state, so the optimizer must stay the same; "
        "set warm_start=False to start afresh"
        if continuing == "warm_start"
        else "partial_fit continues the last fit's optimizer state, so the optimizer must stay the same; "
        "fit with warm_start=False to start afresh"
    )

    def go_on(features: np.ndarray) -> object:
        return clf.fit(features, labels) if continuing == "warm_start" else clf.partial_fit(features, labels)

    for optimizer, named in (("sgd", "'sgd'"), (momentum(1e-2), "an Optimizer named 'momentum'")):
        clf.set_params(optimizer=optimizer)
        message = f"optimizer changed from 'adam' to {named} since the last fit: {how}"
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            go_on(X)
        # refused before training, and before the data are looked at (three features would be refused too)
        with pytest.raises(ValueError, match="^optimizer changed from 'adam'"):
            go_on(X[:, :3])
        assert clf.n_iter_ == 2
        for key, value in fitted.items():
            np.testing.assert_array_equal(clf.params_[key], value)
    clf.set_params(optimizer="adamw")  # keeps Adam's moments: it may take them over
    go_on(X)
    epochs = 2 + (2 if continuing == "warm_start" else 1)
    assert clf.n_iter_ == clf.optimizer_state_.step == epochs  # one batch of 150 samples per epoch
    clf.set_params(optimizer="sgd", warm_start=False).fit(X, labels)  # afresh, as the message says
    assert clf.n_iter_ == 2 and clf.optimizer_state_.slots == {}


def test_hidden_layer_sizes_may_be_an_integer_array_as_in_scikit_learn() -> None:
    X, labels = iris()
    from_array = MLPClassifier(hidden_layer_sizes=np.array([4, 3]), epochs=3, random_state=0).fit(X, labels)
    from_tuple = MLPClassifier(hidden_layer_sizes=(4, 3), epochs=3, random_state=0).fit(X, labels)
    assert [from_array.params_[f"W{l}"].shape for l in (1, 2, 3)] == [(4, 4), (3, 4), (3, 3)]
    for key, value in from_tuple.params_.items():
        np.testing.assert_array_equal(from_array.params_[key], value)


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        (np.array([[4, 3]]), r"1-d of integers, got shape \(1, 2\) dtype int64"),
        (np.array([4.0, 3.0]), r"1-d of integers, got shape \(2,\) dtype float64"),
    ],
)
def test_hidden_layer_sizes_arrays_other_than_1d_integers_are_refused(sizes: np.ndarray, message: str) -> None:
    X, labels = iris()
    with pytest.raises(TypeError, match=message):
        MLPClassifier(hidden_layer_sizes=sizes).fit(X, labels)


def test_a_single_class_is_refused() -> None:
    X, _ = iris()
    with pytest.raises(ValueError, match="at least 2 classes, got 1 class"):
        MLPClassifier().fit(X, np.zeros(150))


def test_a_fit_that_fails_on_its_data_leaves_an_unfitted_estimator() -> None:
    X, labels = iris()
    clf = MLPClassifier((4,), epochs=2, random_state=0)
    with pytest.raises(ValueError, match="at least 2 classes"):
        clf.fit(X, np.zeros(150))  # after validate_data has set n_features_in_
    with pytest.raises(NotFittedError):
        clf.predict(X)
    clf.fit(X, labels)
    with pytest.raises(ValueError, match="at least 2 classes"):
        clf.fit(X[:, :3], np.zeros(150))  # afresh: the first fit's network must not answer for 3 features
    with pytest.raises(NotFittedError):
        clf.predict(X[:, :3])
    assert not hasattr(clf, "classes_") and not hasattr(clf, "params_")
    reg = MLPRegressor((4,), epochs=2, random_state=0).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="Input y contains NaN"):
        reg.fit(X, np.full(150, np.nan))
    with pytest.raises(NotFittedError):
        reg.predict(X)
    assert clf.fit(X, labels).predict(X[:2]).shape == (2,)  # and it fits again


def test_on_load_digits_ours_is_at_least_as_accurate_as_scikit_learns() -> None:
    """The README's comparison for seed 0 (see scripts/compare_sklearn_digits.py)."""
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    sys.path.insert(0, str(Path(__file__).parent.parent / "scripts"))
    try:
        compare_sklearn_digits = importlib.import_module("compare_sklearn_digits")
    finally:
        sys.path.pop(0)
    with threadpool_limits(1):  # two BLAS threads on small products only slow both down
        run = compare_sklearn_digits.compare(seed=0, hidden=100, epochs=200)
    assert run["functional_nn"] >= run["scikit_learn"] > 0.95


def test_the_comparison_script_prints_both_accuracies_and_refuses_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(Path(__file__).parent.parent / "scripts"))
    try:
        compare_sklearn_digits = importlib.import_module("compare_sklearn_digits")
    finally:
        sys.path.pop(0)
    assert compare_sklearn_digits.main(["--seeds", "2", "--epochs", "2", "--hidden", "8"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["seed 0", "seed 1"]
    summary = json.loads(lines[-1])
    assert summary["epochs"] == 2 and len(summary["runs"]) == 2
    assert summary["functional_nn"] == pytest.approx(np.mean([run["functional_nn"] for run in summary["runs"]]))
    with pytest.raises(SystemExit) as exit_info:
        compare_sklearn_digits.main(["--epochs", "0"])
    # argparse's usage line, then the option that is wrong (it said "--seeds, --epochs and --hidden")
    assert exit_info.value.code == 2 and capsys.readouterr().err.splitlines()[-1].endswith("error: argument --epochs: must be >= 1, got 0")


def test_the_module_names_the_extra_when_scikit_learn_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in sys.modules if name == "sklearn" or name.startswith("sklearn.")]:
        monkeypatch.setitem(sys.modules, name, None)  # makes `import sklearn...` raise ImportError
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.delitem(sys.modules, "functional_nn.sklearn")
    with pytest.raises(ImportError, match=r'pip install -e "\.\[sklearn\]"'):
        importlib.import_module("functional_nn.sklearn")


def test_importing_functional_nn_imports_neither_scikit_learn_nor_onnx() -> None:
    code = "import sys, functional_nn; print(sorted(m for m in ('sklearn', 'onnx', 'onnxruntime') if m in sys.modules))"
    with warnings.catch_warnings():
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
