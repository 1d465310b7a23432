"""A user's review of the estimators as a drop-in for scikit-learn's own MLPClassifier and
MLPRegressor: scikit-learn's examples with the import swapped read ``coefs_``, ``loss_curve_``,
``validation_scores_``, ... and pass ``max_iter``, ``solver``, ``learning_rate_init``."""

from __future__ import annotations

import inspect
import re
import warnings
from typing import Any

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier as ScikitLearnClassifier
from sklearn.neural_network import MLPRegressor as ScikitLearnRegressor

from functional_nn import initialize_parameters
from functional_nn.sklearn import MLPClassifier, MLPRegressor


def _three_classes(rng: np.random.Generator, n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    X = rng.standard_normal((n, 4))
    return X, (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5)


@pytest.mark.parametrize(
    ("name", "value", "ours"),
    [
        ("max_iter", 50, r"max_iter: use epochs"),
        ("learning_rate_init", 1e-2, r"learning_rate_init: use learning_rate"),
        ("solver", "sgd", r"solver: use optimizer .*optimizer='nesterov'"),
        ("momentum", 0.9, r"momentum: use optimizer=functional_nn\.momentum\(learning_rate, beta=\.\.\.\)"),
        ("nesterovs_momentum", True, r"nesterovs_momentum: use optimizer='nesterov'"),
        ("beta_1", 0.9, r"beta_1: use optimizer=functional_nn\.adam\(learning_rate, beta1=\.\.\.\)"),
        ("beta_2", 0.999, r"beta_2: use optimizer=functional_nn\.adam\(learning_rate, beta2=\.\.\.\)"),
        ("epsilon", 1e-8, r"epsilon: use optimizer=functional_nn\.adam\(learning_rate, epsilon=\.\.\.\)"),
        ("power_t", 0.5, r"power_t: use learning_rate=a schedule"),
        ("shuffle", True, r"shuffle: drop it: the estimators always shuffle"),
        ("verbose", 10, r"verbose: drop it: .*history_"),
        ("max_fun", 100, r"max_fun: drop it: .*lbfgs"),
        ("loss", "poisson", r"loss: drop it: .*squared error"),
    ],
)
@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_scikit_learns_parameter_names_are_refused_naming_ours(
    estimator: type[MLPClassifier] | type[MLPRegressor], name: str, value: object, ours: str
) -> None:
    # Python's own TypeError named _BaseMLP.__init__ and the parameter, not what to use instead
    given: dict[str, Any] = {name: value}
    with pytest.raises(TypeError, match=rf"^{estimator.__name__} got scikit-learn's parameter {name}, not among its own: {ours}"):
        estimator(**given)


def test_scikit_learns_parameter_names_are_all_named_in_one_error() -> None:
    # plot_mnist_filters' constructor, as written there
    with pytest.raises(
        TypeError, match=r"^MLPClassifier got scikit-learn's parameters max_iter, solver, verbose, learning_rate_init, not among"
    ):
        MLPClassifier(hidden_layer_sizes=(40,), max_iter=8, alpha=1e-4, solver="sgd", verbose=10, random_state=1, learning_rate_init=0.2)  # type: ignore[call-arg]


def test_every_parameter_scikit_learn_has_and_ours_lacks_gets_a_hint_and_the_signature_is_kept() -> None:
    theirs = set(ScikitLearnClassifier().get_params()) | set(ScikitLearnRegressor().get_params())
    ours = set(MLPClassifier().get_params())
    for name in sorted(theirs - ours):
        given: dict[str, Any] = {name: None}
        with pytest.raises(TypeError, match=f"scikit-learn's parameter {name}, not among its own: "):
            MLPClassifier(**given)
    # what scikit-learn, help() and IDEs read is still __init__'s signature; other names get Python's error
    assert list(inspect.signature(MLPClassifier).parameters) == list(inspect.signature(MLPClassifier.__init__).parameters)[1:]
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'hidden_layers'"):
        MLPClassifier(hidden_layers=(4,))  # type: ignore[call-arg]


def test_set_params_and_a_grid_search_refuse_scikit_learns_names_as_the_constructor_does(rng: np.random.Generator) -> None:
    # set_params said only "Invalid parameter 'max_iter' ... Valid parameters are: [...]"
    X, y = _three_classes(rng)
    message = (
        "MLPClassifier got scikit-learn's parameter max_iter, not among its own: max_iter: use epochs (passes over the "
        "data per fit, all of them run unless early_stopping ends the fit)"
    )
    clf = MLPClassifier(epochs=2)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        clf.set_params(max_iter=5)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        GridSearchCV(clf, {"max_iter": [1, 2]}, cv=2, error_score="raise").fit(X, y)
    assert clf.get_params()["epochs"] == 2  # refused before anything was set
    with pytest.raises(ValueError, match=r"^Invalid parameter 'hidden_layers' for estimator"):
        clf.set_params(hidden_layers=(4,))  # not scikit-learn's either: its own error
    assert clf.set_params(epochs=3) is clf and clf.epochs == 3


@pytest.mark.parametrize("setting", ["adaptive", "invscaling", "constant"])
def test_scikit_learns_learning_rate_schedule_names_are_refused_naming_learning_rate_init(
    setting: str, rng: np.random.Generator
) -> None:
    X, y = _three_classes(rng)
    with pytest.raises(TypeError, match=rf"learning_rate must be a number or a schedule .*learning_rate_init\), got str '{setting}'"):
        MLPClassifier((4,), learning_rate=setting, epochs=1).fit(X, y)  # type: ignore[arg-type]


def test_scikit_learns_batch_size_auto_is_refused_naming_our_default(rng: np.random.Generator) -> None:
    X, y = _three_classes(rng)
    with pytest.raises(TypeError, match=r"got str 'auto': scikit-learn's 'auto', min\(200, n_samples\), is this estimator's default batch_size=200"):
        MLPClassifier((4,), batch_size="auto", epochs=1).fit(X, y)  # type: ignore[arg-type]


def test_coefs_and_intercepts_are_params_in_scikit_learns_layout(rng: np.random.Generator) -> None:
    X, y = _three_classes(rng)
    clf = MLPClassifier((6, 5), epochs=3, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = ScikitLearnClassifier((6, 5), max_iter=1, random_state=0).fit(X, y)
    assert [w.shape for w in clf.coefs_] == [w.shape for w in theirs.coefs_] == [(4, 6), (6, 5), (5, 3)]
    assert [b.shape for b in clf.intercepts_] == [b.shape for b in theirs.intercepts_] == [(6,), (5,), (3,)]
    for l, (W, b) in enumerate(zip(clf.coefs_, clf.intercepts_, strict=True), start=1):
        np.testing.assert_array_equal(W, clf.params_[f"W{l}"].T)
        np.testing.assert_array_equal(b, clf.params_[f"b{l}"][:, 0])
        assert np.shares_memory(W, clf.params_[f"W{l}"]) and np.shares_memory(b, clf.params_[f"b{l}"])
    assert clf.n_layers_ == theirs.n_layers_ == 4
    assert clf.n_outputs_ == theirs.n_outputs_ == 3
    assert clf.out_activation_ == theirs.out_activation_ == "softmax"
    # scikit-learn's network given our coefs_ and intercepts_ predicts what ours does
    theirs.coefs_ = [W.copy() for W in clf.coefs_]
    theirs.intercepts_ = [b.copy() for b in clf.intercepts_]
    np.testing.assert_allclose(theirs.predict_proba(X), clf.predict_proba(X), rtol=1e-12, atol=1e-15)


def test_the_regressors_attributes_match_scikit_learns(rng: np.random.Generator) -> None:
    X = rng.standard_normal((40, 3))
    Y = np.stack([X[:, 0], X[:, 1] ** 2], axis=1)
    reg = MLPRegressor((5,), epochs=2, random_state=0).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = ScikitLearnRegressor(hidden_layer_sizes=(5,), max_iter=1, random_state=0).fit(X, Y)
    assert [w.shape for w in reg.coefs_] == [w.shape for w in theirs.coefs_] == [(3, 5), (5, 2)]
    assert reg.n_layers_ == theirs.n_layers_ == 3
    assert reg.out_activation_ == theirs.out_activation_ == "identity"
    theirs.coefs_ = [W.copy() for W in reg.coefs_]
    theirs.intercepts_ = [b.copy() for b in reg.intercepts_]
    np.testing.assert_allclose(theirs.predict(X), reg.predict(X), rtol=1e-12, atol=1e-15)


def test_loss_curve_is_the_training_cost_scikit_learn_computes(rng: np.random.Generator) -> None:
    X, y = _three_classes(rng)
    clf = MLPClassifier((6,), batch_size=None, alpha=0.5, epochs=4, random_state=0).fit(X, y)
    assert clf.loss_curve_ == [record.cost for record in clf.history_]
    assert len(clf.loss_curve_) == clf.n_iter_ == 4
    assert clf.loss_ == clf.history_[-1].cost
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    # scikit-learn's full-batch partial_fit records the cost (log loss plus alpha/2m sum W^2) of the
    # weights it starts from, as ours does: given our weights, both record the same number
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = ScikitLearnClassifier((6,), solver="sgd", batch_size=X.shape[0], alpha=0.5, max_iter=1, random_state=0).fit(X, y)
    theirs.coefs_ = [W.copy() for W in clf.coefs_]
    theirs.intercepts_ = [b.copy() for b in clf.intercepts_]
    theirs.partial_fit(X, y)
    clf.partial_fit(X, y)
    assert clf.loss_curve_[-1] == pytest.approx(theirs.loss_curve_[-1], rel=1e-12)
    assert len(clf.loss_curve_) == clf.n_iter_ == 5


def test_validation_scores_and_best_validation_score_are_the_held_out_accuracies(rng: np.random.Generator) -> None:
    X, y = _three_classes(rng, 80)
    clf = MLPClassifier((32,), learning_rate=0.03, epochs=100, early_stopping=True, n_iter_no_change=4, tol=0.0,
                        validation_fraction=0.25, random_state=0).fit(X, y)  # fmt: skip
    assert clf.validation_scores_ == [record.dev_accuracy for record in clf.history_]
    assert len(clf.validation_scores_) == clf.n_iter_ < 100  # stopped early
    best = int(np.argmin(np.array([record.dev_cost for record in clf.history_], dtype=np.float64)))  # tol=0: the lowest held-out cost
    assert clf.n_iter_ == best + 1 + 4
    assert clf.best_validation_score_ == clf.history_[best].dev_accuracy
    assert clf.best_loss_ is None  # as scikit-learn's, with early stopping
    # the held-out samples, drawn as the module's docstring says: the seed follows the initial weights
    draws = np.random.default_rng(0)
    initialize_parameters((4, 32, 3), draws, scheme="he", dtype=np.float64)
    _, dev = train_test_split(np.arange(80), test_size=0.25, random_state=int(draws.integers(2**31)), stratify=y)
    assert clf.score(X[dev], y[dev]) == clf.best_validation_score_
    # a warm fit's best epoch is among its own epochs, counted on from the first fit's
    first = clf.n_iter_
    clf.set_params(warm_start=True, epochs=6).fit(X, y)
    own = np.array([record.dev_cost for record in clf.history_[first:]], dtype=np.float64)
    assert clf.best_validation_score_ == clf.history_[first + int(np.argmin(own))].dev_accuracy
    # partial_fit holds nothing out: its epoch has no score, and params_ are no best epoch's
    continued = clf.partial_fit(X, y)
    scores = continued.validation_scores_
    assert scores is not None and len(scores) == continued.n_iter_ and scores[-1] is None
    assert continued.best_validation_score_ is None
    assert continued.best_loss_ == min(continued.loss_curve_)


@pytest.mark.parametrize(
    "attribute",
    ["coefs_", "intercepts_", "n_layers_", "out_activation_", "loss_curve_", "loss_", "best_loss_",
     "n_outputs_", "validation_scores_", "best_validation_score_"],
)  # fmt: skip
def test_unfitted_estimators_have_none_of_scikit_learns_attributes(attribute: str) -> None:
    assert not hasattr(MLPClassifier(), attribute)
    with pytest.raises(AttributeError, match=rf"'MLPClassifier' object has no attribute '{attribute}': it is set by fit"):
        getattr(MLPClassifier(), attribute)
