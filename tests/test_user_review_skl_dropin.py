"""A user review of four gaps between the estimators and scikit-learn's own MLPClassifier and
MLPRegressor, closed: a multilabel indicator ``y``, ``t_``, the regressor's
``validation_scores_`` and ``best_validation_score_`` (held-out R^2), and ``fit`` and
``partial_fit`` typed to return ``Self``. Each is checked against scikit-learn's own estimator,
a value computed by hand, or scikit-learn's metrics on the held-out samples."""

from __future__ import annotations

import copy
import pickle
import warnings
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as ScikitLearnClassifier
from sklearn.neural_network import MLPRegressor as ScikitLearnRegressor
from sklearn.preprocessing import StandardScaler

from functional_nn import adam, initialize_parameters, train
from functional_nn.sklearn import MLPClassifier, MLPRegressor

FloatMatrix = npt.NDArray[np.float64]
IntMatrix = npt.NDArray[np.int64]


def _multilabel(n: int = 60, labels: int = 3) -> tuple[FloatMatrix, IntMatrix]:
    """``n`` samples of 8 standardised features and a multilabel indicator ``y`` ``(n, labels)``."""
    X, Y = make_multilabel_classification(n_samples=n, n_features=8, n_classes=labels, random_state=0)
    return StandardScaler().fit_transform(X), Y.astype(np.int64)


def _held_out(
    sizes: tuple[int, ...], n: int, fraction: float, stratify: Any = None
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """The rows a first fit with ``random_state=0`` and ``early_stopping`` trains on and holds out,
    drawn as the module's docstring says: the initial parameters, then the split's seed."""
    rng = np.random.default_rng(0)
    initialize_parameters(sizes, rng, scheme="he")
    seed = int(rng.integers(2**31))
    train_rows, dev_rows = train_test_split(np.arange(n), test_size=fraction, random_state=seed, stratify=stratify)
    return np.sort(train_rows), np.sort(dev_rows)


def _pickled_before_the_new_attributes(estimator: MLPClassifier | MLPRegressor) -> bytes:
    """``estimator`` pickled as versions before ``t_`` and the regressor's R^2 scores: without
    ``_samples_seen`` and ``_validation_scores``."""
    older = copy.deepcopy(estimator)
    del older._samples_seen
    del older._validation_scores
    return pickle.dumps(older)


# -- 1. a multilabel indicator y ----------------------------------------------------------------


def test_a_multilabel_y_fits_as_scikit_learns_does_with_its_shapes_dtypes_classes_and_a_similar_score() -> None:
    X, Y = _multilabel(300)
    (X_train, Y_train), (X_test, Y_test) = (X[:200], Y[:200]), (X[200:], Y[200:])
    ours = MLPClassifier((16,), epochs=100, learning_rate=1e-2, batch_size=50, random_state=0).fit(X_train, Y_train)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = ScikitLearnClassifier((16,), max_iter=100, learning_rate_init=1e-2, batch_size=50, random_state=0)
        theirs.fit(X_train, Y_train)
    predicted, expected = ours.predict(X_test), theirs.predict(X_test)
    assert predicted.shape == expected.shape == (100, 3) and predicted.dtype == expected.dtype == np.int64
    proba = ours.predict_proba(X_test)
    assert proba.shape == theirs.predict_proba(X_test).shape and proba.dtype == theirs.predict_proba(X_test).dtype
    np.testing.assert_array_equal(predicted, (proba > 0.5).astype(np.int64))
    assert not np.allclose(proba.sum(axis=1), 1.0)  # a probability per label, not a distribution over them
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert ours.classes_.dtype == theirs.classes_.dtype
    assert (ours.out_activation_, ours.n_outputs_) == (theirs.out_activation_, theirs.n_outputs_) == ("logistic", 3)
    assert ours.activations_ == ("relu", "sigmoid")
    # score is the exact-match (subset) accuracy, as ClassifierMixin.score gives
    score = ours.score(X_test, Y_test)
    assert score == accuracy_score(Y_test, predicted) == np.mean((predicted == Y_test).all(axis=1))
    assert ours.score(X_train, Y_train) > 0.7 and theirs.score(X_train, Y_train) > 0.7
    assert abs(score - theirs.score(X_test, Y_test)) < 0.1  # 0.54 and 0.52 on this split


def test_a_multilabel_fit_trains_sigmoid_units_with_binary_cross_entropy_as_train_does() -> None:
    X, Y = _multilabel()
    clf = MLPClassifier((8,), epochs=3, batch_size=16, random_state=0).fit(X, Y)
    rng = np.random.default_rng(0)
    params = initialize_parameters((8, 8, 3), rng, scheme="he")
    result = train(
        X.T, Y.T.astype(np.float64), params, activations=("relu", "sigmoid"), loss="binary_cross_entropy", epochs=3,
        optimizer=adam(1e-3), batch_size=16, rng=rng, lambd=1e-4,
    )  # fmt: skip
    for key, value in result.params.items():
        np.testing.assert_array_equal(clf.params_[key], value)
    assert clf.history_ == result.history


def test_two_partial_fits_of_a_multilabel_y_equal_one_fit_of_two_epochs() -> None:
    X, Y = _multilabel()
    fitted = MLPClassifier((8,), epochs=2, batch_size=16, random_state=0).fit(X, Y)
    continued = MLPClassifier((8,), batch_size=16, random_state=0)
    continued.partial_fit(X, Y, classes=np.arange(3)).partial_fit(X, Y)
    np.testing.assert_array_equal(continued.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(continued.classes_, np.arange(3))


def test_early_stopping_on_a_multilabel_y_holds_samples_out_unstratified_and_scores_exact_matches() -> None:
    X, Y = _multilabel(50)
    clf = MLPClassifier((8,), epochs=4, early_stopping=True, validation_fraction=0.2, n_iter_no_change=10, random_state=0)
    clf.fit(X, Y)
    train_rows, dev_rows = _held_out((8, 8, 3), 50, 0.2)
    scores = clf.validation_scores_
    assert scores is not None and len(scores) == clf.n_iter_ == 4
    assert clf.best_validation_score_ == accuracy_score(Y[dev_rows], clf.predict(X[dev_rows]))
    assert clf.best_validation_score_ in scores
    assert clf.t_ == 4 * train_rows.shape[0] == 160


def test_partial_fit_of_a_multilabel_y_takes_the_label_indices_as_classes() -> None:
    X, Y = _multilabel()
    with pytest.raises(ValueError, match=r"classes must be passed on the first call to partial_fit"):
        MLPClassifier((4,)).partial_fit(X, Y)
    with pytest.raises(
        ValueError,
        match=r"classes=\[0, 1\] for a multilabel y of 3 columns must be their indices \[0, 1, 2\], as scikit-learn's",
    ):
        MLPClassifier((4,)).partial_fit(X, Y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"classes=\['a', 'b', 'c'\] for a multilabel y of 3 columns must be"):
        MLPClassifier((4,)).partial_fit(X, Y, classes=["a", "b", "c"])
    clf = MLPClassifier((4,), random_state=0).partial_fit(X, Y, classes=[2, 0, 1])
    assert clf.predict(X).shape == (60, 3)
    clf.partial_fit(X[:10], Y[:10], classes=np.arange(3))  # again, the same indices


def test_continuing_with_another_number_of_labels_or_kind_of_y_is_refused_naming_both() -> None:
    X, Y = _multilabel()
    warm = MLPClassifier((4,), epochs=1, warm_start=True, random_state=0).fit(X, Y)
    with pytest.raises(
        ValueError,
        match=r"^y is a multilabel indicator matrix of 2 labels, but the fitted network was fitted on a multilabel "
        r"indicator matrix of 3 labels: with warm_start=True, fit continues it, so y must be of the same kind and "
        r"number of labels; fit with warm_start=False to start afresh$",
    ):
        warm.fit(X, Y[:, :2])
    with pytest.raises(ValueError, match=r"^y is 1-D labels, but the fitted network was fitted on a multilabel .* partial_fit continues"):
        warm.partial_fit(X, Y[:, 0])
    with pytest.raises(ValueError, match=r"y is a multilabel indicator matrix of 4 labels, .* of 3 labels: partial_fit"):
        warm.partial_fit(X, np.c_[Y, Y[:, :1]])
    single = MLPClassifier((4,), epochs=1, warm_start=True, random_state=0).fit(X, Y[:, 0])
    with pytest.raises(ValueError, match=r"fitted on 1-D labels of the classes \[0, 1\]: with warm_start=True"):
        single.fit(X, Y)
    # afresh, another number of labels is a new network
    assert warm.set_params(warm_start=False).fit(X, Y[:, :2]).predict(X).shape == (60, 2)


def test_a_2d_y_that_is_not_a_label_indicator_is_refused_naming_its_type() -> None:
    X, Y = _multilabel()
    with pytest.raises(
        ValueError,
        match=r"y of shape \(60, 2\) is 'multiclass-multioutput' \(scikit-learn's type_of_target\): MLPClassifier "
        r"takes 1-D labels or a multilabel indicator matrix",
    ):
        MLPClassifier((4,)).fit(X, np.c_[Y[:, 0], 2 * Y[:, 1]])


def test_a_multilabel_estimator_pickles_and_predicts_the_same() -> None:
    X, Y = _multilabel()
    clf = MLPClassifier((4,), epochs=2, random_state=0).fit(X, Y)
    loaded: MLPClassifier = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    assert loaded.out_activation_ == "logistic"


# -- 2. t_ ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("early_stopping", [False, True])
def test_t_counts_the_samples_trained_on_as_scikit_learns_does(rng: np.random.Generator, early_stopping: bool) -> None:
    X = rng.standard_normal((20, 3))
    y = np.arange(20) % 2
    settings: dict[str, Any] = dict(early_stopping=early_stopping, validation_fraction=0.25, n_iter_no_change=10)
    ours = MLPClassifier((4,), epochs=4, random_state=0, **settings).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = ScikitLearnClassifier((4,), max_iter=4, random_state=0, **settings).fit(X, y)
    trained_on = 15 if early_stopping else 20  # validation_fraction 0.25 of 20 samples held out
    assert ours.t_ == theirs.t_ == 4 * trained_on
    # a warm start adds its epochs' samples, as scikit-learn's does
    ours.set_params(warm_start=True, epochs=2).fit(X, y)
    assert ours.t_ == 6 * trained_on


def test_t_adds_each_partial_fits_batch_and_a_fresh_fit_counts_afresh(rng: np.random.Generator) -> None:
    X = rng.standard_normal((20, 3))
    y = np.arange(20) % 2
    ours = MLPClassifier((4,), random_state=0).partial_fit(X[:10], y[:10], classes=[0, 1]).partial_fit(X[:7], y[:7])
    theirs = ScikitLearnClassifier((4,), random_state=0).partial_fit(X[:10], y[:10], classes=[0, 1]).partial_fit(X[:7], y[:7])
    assert ours.t_ == theirs.t_ == 17
    assert ours.set_params(epochs=3).fit(X, y).t_ == 60
    reg = MLPRegressor((4,), epochs=2, random_state=0).fit(X, X[:, 0]).partial_fit(X[:5], X[:5, 0])
    assert reg.t_ == 45


def test_t_of_an_estimator_pickled_before_it_was_counted_says_so() -> None:
    X, Y = _multilabel()
    older = pickle.loads(_pickled_before_the_new_attributes(MLPClassifier((4,), epochs=1, random_state=0).fit(X, Y[:, 0])))
    message = r"^t_ is unknown: this MLPClassifier was fitted and pickled by a version of functional_nn that did not count"
    with pytest.raises(AttributeError, match=message):
        older.t_  # noqa: B018
    older.partial_fit(X, Y[:, 0])  # it continues, still unknown
    assert not hasattr(older, "t_")
    assert older.set_params(epochs=1).fit(X, Y[:, 0]).t_ == 60  # afresh, counted


@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_unfitted_estimators_have_no_t_nor_validation_scores(estimator: type[MLPClassifier | MLPRegressor]) -> None:
    for attribute in ("t_", "validation_scores_", "best_validation_score_"):
        message = rf"'{estimator.__name__}' object has no attribute '{attribute}': it is set by fit"
        with pytest.raises(AttributeError, match=message):
            getattr(estimator(), attribute)


# -- 3. MLPRegressor's validation_scores_ and best_validation_score_ -----------------------------


def test_the_regressors_validation_scores_are_the_held_out_r2_of_each_epoch(rng: np.random.Generator) -> None:
    X = rng.standard_normal((40, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(40)
    _, dev_rows = _held_out((3, 8, 1), 40, 0.25)
    reg = MLPRegressor(
        (8,), epochs=1, learning_rate=1e-2, early_stopping=True, validation_fraction=0.25, warm_start=True, random_state=0
    )
    expected: list[float] = []
    for _ in range(3):  # each fit's one epoch is its best: params_ are of it
        reg.fit(X, y)
        expected.append(r2_score(y[dev_rows], reg.predict(X[dev_rows])))
        assert reg.best_validation_score_ == pytest.approx(expected[-1], rel=1e-12, abs=1e-12)
    assert reg.validation_scores_ == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert expected[0] < expected[1] < expected[2]  # learning
    # R^2 is 1 - (the epoch's held-out squared error) / (the held-out targets' sum of squares)
    total = np.sum((y[dev_rows] - y[dev_rows].mean()) ** 2)
    from_costs = [1 - record.dev_cost * dev_rows.shape[0] / total for record in reg.history_ if record.dev_cost is not None]
    assert from_costs == pytest.approx(expected, rel=1e-9)


def test_the_regressors_scores_within_one_fit_are_each_epochs_and_the_best_is_the_stopping_epochs(
    rng: np.random.Generator,
) -> None:
    # one fit of several epochs that stops early, its best epoch (the lowest held-out cost) before the last
    X = rng.standard_normal((40, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(40)
    _, dev_rows = _held_out((3, 8, 1), 40, 0.25)
    reg = MLPRegressor(
        (8,), epochs=40, learning_rate=0.1, early_stopping=True, validation_fraction=0.25, n_iter_no_change=2, tol=0.0,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    total = np.sum((y[dev_rows] - y[dev_rows].mean()) ** 2)
    # one output: R^2 = 1 - (the epoch's held-out mean squared error) * n_dev / (the held-out sum of squares)
    from_costs = [1 - record.dev_cost * dev_rows.shape[0] / total for record in reg.history_ if record.dev_cost is not None]
    scores = reg.validation_scores_
    assert scores is not None and reg.n_iter_ == len(from_costs) == 6 and scores == pytest.approx(from_costs, rel=1e-9)
    best = int(np.argmin([record.dev_cost or np.inf for record in reg.history_]))
    assert best == 3 and reg.best_validation_score_ == scores[best]  # not the last epoch's
    assert reg.best_validation_score_ == pytest.approx(r2_score(y[dev_rows], reg.predict(X[dev_rows])), rel=1e-9)


def test_the_regressors_validation_scores_of_several_outputs_average_their_r2(rng: np.random.Generator) -> None:
    X = rng.standard_normal((40, 3))
    Y = np.c_[X[:, 0] - X[:, 1], 10 * X[:, 2]]
    _, dev_rows = _held_out((3, 8, 2), 40, 0.25)
    reg = MLPRegressor((8,), epochs=1, early_stopping=True, validation_fraction=0.25, random_state=0).fit(X, Y)
    expected = r2_score(Y[dev_rows], reg.predict(X[dev_rows]))  # multioutput="uniform_average"
    assert reg.validation_scores_ == pytest.approx([expected], rel=1e-12)
    assert reg.best_validation_score_ == pytest.approx(expected, rel=1e-12)


def test_the_regressors_scores_are_none_without_early_stopping_as_scikit_learns(rng: np.random.Generator) -> None:
    X = rng.standard_normal((20, 3))
    ours = MLPRegressor((4,), epochs=2, random_state=0).fit(X, X[:, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = ScikitLearnRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X, X[:, 0])
    assert ours.validation_scores_ is theirs.validation_scores_ is None
    assert ours.best_validation_score_ is theirs.best_validation_score_ is None
    # a partial_fit after an early-stopped fit holds nothing out: None for its epoch
    stopped = MLPRegressor((4,), epochs=2, early_stopping=True, validation_fraction=0.25, random_state=0).fit(X, X[:, 0])
    scores = stopped.partial_fit(X, X[:, 0]).validation_scores_
    assert scores is not None and len(scores) == 3 and scores[2] is None and None not in scores[:2]


def test_the_regressors_scores_survive_pickling_and_an_older_pickle_says_they_are_unknown(rng: np.random.Generator) -> None:
    X = rng.standard_normal((20, 3))
    stopped = MLPRegressor((4,), epochs=2, early_stopping=True, validation_fraction=0.25, random_state=0).fit(X, X[:, 0])
    assert pickle.loads(pickle.dumps(stopped)).validation_scores_ == stopped.validation_scores_
    older = pickle.loads(_pickled_before_the_new_attributes(stopped))
    with pytest.raises(AttributeError, match=r"^validation_scores_ is unknown: this MLPRegressor was fitted with early_stopping"):
        older.validation_scores_  # noqa: B018
    with pytest.raises(AttributeError, match=r"^best_validation_score_ is unknown: this MLPRegressor was fitted with"):
        older.best_validation_score_  # noqa: B018
    np.testing.assert_array_equal(older.partial_fit(X, X[:, 0]).predict(X), stopped.partial_fit(X, X[:, 0]).predict(X))
    plain = pickle.loads(_pickled_before_the_new_attributes(MLPRegressor((4,), epochs=1, random_state=0).fit(X, X[:, 0])))
    assert plain.validation_scores_ is None  # nothing was held out: known
    # an older classifier's held-out accuracies are in its history_
    clf = MLPClassifier((4,), epochs=2, early_stopping=True, validation_fraction=0.25, random_state=0).fit(X, np.arange(20) % 2)
    assert pickle.loads(_pickled_before_the_new_attributes(clf)).validation_scores_ == clf.validation_scores_


# -- 4. fit and partial_fit return Self ----------------------------------------------------------


class _MyClassifier(MLPClassifier):
    """A user's subclass: its fit must type-check as returning it (mypy --strict checks this file)."""

    def describe(self) -> str:
        return f"{self.n_iter_} epochs"


class _MyRegressor(MLPRegressor):
    def describe(self) -> str:
        return f"{self.n_iter_} epochs"


def test_fit_and_partial_fit_return_the_subclass(rng: np.random.Generator) -> None:
    X = rng.standard_normal((10, 2))
    y = np.arange(10) % 2
    clf: _MyClassifier = _MyClassifier((3,), epochs=1, random_state=0).fit(X, y)
    continued: _MyClassifier = clf.partial_fit(X, y)
    reg: _MyRegressor = _MyRegressor((3,), epochs=1, random_state=0).fit(X, X[:, 0]).partial_fit(X, X[:, 0])
    assert (continued.describe(), reg.describe()) == ("2 epochs", "2 epochs")
    for method in (MLPClassifier.fit, MLPClassifier.partial_fit, MLPRegressor.fit, MLPRegressor.partial_fit):
        assert method.__annotations__["return"] == "Self"
