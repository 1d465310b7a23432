"""``sample_weight`` in the scikit-learn estimators, as scikit-learn's MLP takes it: ``fit`` and
``partial_fit`` checked by scikit-learn's ``_check_sample_weight`` and handed to ``train``;
weights all 1 train bitwise as none, integer weights as repeated rows, weight 0 as a dropped
row; the early-stopping hold-out split with its samples and scored weighted; ``score``;
metadata routing through ``cross_val_score`` and ``GridSearchCV``."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.datasets import load_iris, make_regression
from sklearn.metrics import accuracy_score, r2_score, recall_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score, train_test_split
from sklearn.utils.class_weight import compute_sample_weight

from functional_nn.sklearn import MLPClassifier, MLPRegressor, _r2


def iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def regression(n_outputs: int = 2) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_regression(n_samples=120, n_features=5, n_targets=n_outputs, noise=1.0, random_state=0)
    return X, y / np.abs(y).max()


def assert_same_params(a: Any, b: Any) -> None:
    assert a.params_.keys() == b.params_.keys()
    for key in a.params_:
        np.testing.assert_array_equal(a.params_[key], b.params_[key], err_msg=key)


ESTIMATORS = [
    pytest.param(lambda: MLPClassifier((8,), epochs=15, batch_size=32, random_state=0), iris, id="classifier"),
    pytest.param(
        lambda: MLPClassifier((8,), epochs=25, batch_size=32, learning_rate=1e-2, early_stopping=True, n_iter_no_change=3, random_state=1),
        iris, id="classifier-early-stopping",
    ),
    pytest.param(lambda: MLPRegressor((8,), epochs=15, batch_size=None, random_state=0), regression, id="regressor-full-batch"),
    pytest.param(
        lambda: MLPRegressor((8,), epochs=25, batch_size=16, learning_rate=1e-2, early_stopping=True, random_state=2),
        regression, id="regressor-early-stopping",
    ),
]  # fmt: skip


# --------------------------------------------------------------------------------------------
# weights that change nothing, or what they stand for


@pytest.mark.parametrize(("make", "data"), ESTIMATORS)
def test_no_weights_none_and_weights_all_1_train_bitwise_alike(make: Any, data: Any) -> None:
    X, y = data()
    plain, none, ones = make().fit(X, y), make().fit(X, y, sample_weight=None), make().fit(X, y, sample_weight=np.ones(len(y)))
    for other in (none, ones):
        assert_same_params(plain, other)
        assert other.n_iter_ == plain.n_iter_ and other.t_ == plain.t_
        assert other.validation_scores_ == plain.validation_scores_
        assert other.best_validation_score_ == plain.best_validation_score_
    assert none.loss_curve_ == plain.loss_curve_
    # the weighted cost is a dot product with the weights over their sum: the same to rounding, not always to the bit
    np.testing.assert_allclose(ones.loss_curve_, plain.loss_curve_, rtol=4 * np.finfo(np.float64).eps, atol=0)


@pytest.mark.parametrize(
    ("make", "data"),
    [
        pytest.param(lambda: MLPClassifier((8,), epochs=20, batch_size=None, learning_rate=1e-2, random_state=0), iris, id="classifier"),
        pytest.param(lambda: MLPRegressor((8,), epochs=20, batch_size=None, learning_rate=1e-2, random_state=0), regression, id="regressor"),
    ],
)  # fmt: skip
def test_integer_weights_on_a_full_batch_fit_equal_repeating_the_rows(make: Any, data: Any) -> None:
    X, y = data()
    counts = np.random.default_rng(0).integers(1, 4, size=len(y))
    weighted = make().fit(X, y, sample_weight=counts)
    repeated = make().fit(np.repeat(X, counts, axis=0), np.repeat(y, counts, axis=0))
    for key in weighted.params_:  # the same sums, added in another order
        np.testing.assert_allclose(weighted.params_[key], repeated.params_[key], rtol=1e-11, atol=1e-13, err_msg=key)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-12)
    assert weighted.t_ == 20 * len(y) and repeated.t_ == 20 * int(counts.sum())  # t_ counts samples, not weight
    assert weighted.loss_curve_[-1] < weighted.loss_curve_[0]


@pytest.mark.parametrize(
    ("make", "data"),
    [
        pytest.param(lambda: MLPClassifier((8,), epochs=10, batch_size=16, random_state=0), iris, id="classifier-mini-batches"),
        pytest.param(lambda: MLPRegressor((8,), epochs=10, batch_size=None, random_state=0), regression, id="regressor-full-batch"),
    ],
)  # fmt: skip
def test_rows_of_weight_0_train_bitwise_as_dropping_them(make: Any, data: Any) -> None:
    X, y = data()
    weights = np.where(np.arange(len(y)) % 4 == 1, 0.0, 1.0)
    kept = weights > 0
    weighted = make().fit(X, y, sample_weight=weights)
    dropped = make().fit(X[kept], y[kept])
    assert_same_params(weighted, dropped)
    predicted = weighted.predict_proba(X) if isinstance(weighted, MLPClassifier) else weighted.predict(X)
    expected = dropped.predict_proba(X) if isinstance(dropped, MLPClassifier) else dropped.predict(X)
    np.testing.assert_array_equal(predicted, expected)
    np.testing.assert_allclose(weighted.loss_curve_, dropped.loss_curve_, rtol=4 * np.finfo(np.float64).eps, atol=0)
    # as scikit-learn's t_, the samples of weight 0 are counted: samples seen, not weight
    assert (weighted.t_, dropped.t_) == (10 * len(y), 10 * int(kept.sum()))


def test_two_partial_fits_with_weights_equal_one_fit_of_two_epochs_bitwise() -> None:
    X, y = iris()
    w = np.random.default_rng(1).uniform(0.5, 2.0, size=len(y))
    fitted = MLPClassifier((8,), epochs=2, batch_size=32, random_state=0).fit(X, y, sample_weight=w)
    stepped = MLPClassifier((8,), batch_size=32, random_state=0)
    stepped.partial_fit(X, y, w, [0, 1, 2])  # scikit-learn's order: sample_weight before classes
    stepped.partial_fit(X, y, sample_weight=w)
    assert_same_params(fitted, stepped)
    assert fitted.loss_curve_ == stepped.loss_curve_
    reg = MLPRegressor((8,), batch_size=32, random_state=0)
    Xr, yr = regression()
    wr = np.linspace(0.0, 2.0, len(yr))
    reg.partial_fit(Xr, yr, wr).partial_fit(Xr, yr, sample_weight=wr)
    assert_same_params(reg, MLPRegressor((8,), epochs=2, batch_size=32, random_state=0).fit(Xr, yr, sample_weight=wr))


def test_only_the_weights_ratios_count_but_for_alpha_and_the_cost_is_their_weighted_mean() -> None:
    X, y = iris()
    w = np.random.default_rng(2).uniform(0.1, 3.0, size=len(y))
    make = partial(MLPClassifier, (8,), epochs=5, batch_size=None, alpha=0.0, random_state=0)
    a, b = make().fit(X, y, sample_weight=w), make().fit(X, y, sample_weight=w * 8.0)  # a power of 2: w / S exactly alike
    assert_same_params(a, b)
    # alpha is divided by the batch's total weight, as scikit-learn's alpha / sw_sum: weights 8 times as large, a
    # penalty 8 times as weak, the same as alpha / 8
    a, b = make().set_params(alpha=1.0).fit(X, y, sample_weight=w), make().set_params(alpha=8.0).fit(X, y, sample_weight=w * 8.0)
    assert_same_params(a, b)
    make = partial(MLPClassifier, (8,), epochs=5, batch_size=None, alpha=1e-2, random_state=0)
    # the first epoch's cost is that of the initial weights: the weighted mean of the cross-entropies plus alpha / (2 S)
    initial = make().set_params(epochs=1)
    initial.fit(X, y, sample_weight=w)
    start = MLPClassifier((8,), epochs=1, batch_size=None, alpha=1e-2, random_state=0, learning_rate=1e-300).fit(X, y)
    proba = start.predict_proba(X)  # a step of 1e-300 leaves the initial weights as they were
    losses = -np.log(proba[np.arange(len(y)), y])
    penalty = 1e-2 / (2 * w.sum()) * sum(float(np.sum(c**2)) for c in start.coefs_)
    assert initial.loss_curve_[0] == pytest.approx(np.average(losses, weights=w) + penalty, rel=1e-12)


# --------------------------------------------------------------------------------------------
# what weights change


def test_balanced_class_weights_predict_the_rare_class_more_often() -> None:
    rng = np.random.default_rng(0)
    n_common, n_rare = 360, 40
    X = np.vstack([rng.normal(0.0, 1.0, size=(n_common, 2)), rng.normal(1.2, 1.0, size=(n_rare, 2))])
    y = np.r_[np.zeros(n_common, int), np.ones(n_rare, int)]
    weights = compute_sample_weight("balanced", y)
    assert weights[y == 1][0] == pytest.approx(5.0) and weights[y == 0][0] == pytest.approx(400 / 720)
    make = partial(MLPClassifier, (16,), epochs=150, learning_rate=1e-2, batch_size=None, random_state=0)
    plain = make().fit(X, y)
    balanced = make().fit(X, y, sample_weight=weights)
    rare_plain, rare_balanced = recall_score(y, plain.predict(X)), recall_score(y, balanced.predict(X))
    assert rare_plain < 0.5 < 0.75 < rare_balanced  # unweighted, the rare class is mostly missed (0.35 and 0.825)
    assert (balanced.predict(X) == 1).sum() > 3 * (plain.predict(X) == 1).sum()
    assert balanced.predict_proba(X)[:, 1].mean() > 2 * plain.predict_proba(X)[:, 1].mean()
    # each class's weights summing alike, the balanced fit's weighted accuracy is its mean recall
    assert balanced.score(X, y, sample_weight=weights) > plain.score(X, y, sample_weight=weights)
    assert plain.score(X, y) > balanced.score(X, y)  # and unweighted, the plain fit wins: the majority's accuracy


def test_score_takes_sample_weight_as_scikit_learns_metrics() -> None:
    X, y = iris()
    w = np.random.default_rng(3).uniform(0.0, 2.0, size=len(y))
    clf = MLPClassifier((4,), epochs=3, random_state=0).fit(X, y)
    assert clf.score(X, y, sample_weight=w) == accuracy_score(y, clf.predict(X), sample_weight=w)
    assert clf.score(X, y, sample_weight=w) != clf.score(X, y)
    Xr, yr = regression()
    wr = np.random.default_rng(4).uniform(0.0, 2.0, size=len(yr))
    reg = MLPRegressor((4,), epochs=3, random_state=0).fit(Xr, yr)
    assert reg.score(Xr, yr, sample_weight=wr) == r2_score(yr, reg.predict(Xr), sample_weight=wr)


# --------------------------------------------------------------------------------------------
# early stopping: the hold-out keeps its samples' weights


def held_out_rows(estimator: Any, y: np.ndarray) -> np.ndarray:
    """The rows a fitted estimator holds out, drawn as ``_split_dev`` draws them."""
    stratify = y if isinstance(estimator, MLPClassifier) else None
    rows = np.arange(len(y))
    _, dev = train_test_split(rows, test_size=estimator.validation_fraction, random_state=estimator._split_seed, stratify=stratify)
    return np.sort(dev)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_validation_scores_are_the_weighted_score_of_the_held_out_samples(kind: str) -> None:
    """One epoch per warm-started fit: its best epoch is its only one, so ``params_`` are those
    the epoch was scored with, and the score is recomputed from ``predict`` by scikit-learn's metric."""
    if kind == "classifier":
        X, y = iris()
        est: Any = MLPClassifier((4,), epochs=1, learning_rate=3e-3, early_stopping=True, validation_fraction=0.3, random_state=0)
        metric: Any = accuracy_score
    else:
        X, y = regression()
        est = MLPRegressor((8,), epochs=1, learning_rate=1e-2, early_stopping=True, validation_fraction=0.3, random_state=0)
        metric = r2_score
    w = np.random.default_rng(5).integers(0, 4, size=len(y)).astype(float)
    w[: len(y) // 2] *= 10  # weights that make the weighted score differ from the plain one
    est.set_params(warm_start=True)
    by_hand, plain = [], []
    for _ in range(6):
        est.fit(X, y, sample_weight=w)
        dev = held_out_rows(est, y)
        predicted = est.predict(X[dev])
        by_hand.append(metric(y[dev], predicted, sample_weight=w[dev]))
        plain.append(metric(y[dev], predicted))
        assert est.best_validation_score_ == est.validation_scores_[-1]
    np.testing.assert_allclose(est.validation_scores_, by_hand, rtol=1e-12, atol=1e-15)
    assert not np.allclose(by_hand, plain)
    assert est.t_ == 6 * (len(y) - len(dev))  # the samples trained on, those of weight 0 too


def test_the_regressors_weighted_r2_is_r2_scores_with_sample_weight() -> None:
    rng = np.random.default_rng(6)
    Y = rng.normal(size=(3, 20))
    AL = Y + rng.normal(scale=0.5, size=Y.shape)
    w = rng.uniform(0.0, 3.0, size=20)
    assert _r2(Y, AL, w) == pytest.approx(r2_score(Y.T, AL.T, sample_weight=w), rel=1e-13)
    assert _r2(Y, AL, w) != pytest.approx(_r2(Y, AL), rel=1e-3)
    constant = np.ones((1, 5))  # r2_score's force_finite: 1 for a constant target predicted exactly, else 0
    assert _r2(constant, constant, w[:5]) == 1.0 == r2_score(constant[0], constant[0], sample_weight=w[:5])
    assert _r2(constant, constant * 2, w[:5]) == 0.0 == r2_score(constant[0], constant[0] * 2, sample_weight=w[:5])


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize("part", ["held out", "trained on"])
def test_a_hold_out_or_training_part_all_of_weight_0_is_refused_naming_the_settings(kind: str, part: str) -> None:
    X, y = iris() if kind == "classifier" else regression()
    make: Any = MLPClassifier if kind == "classifier" else MLPRegressor
    unweighted = make((4,), epochs=1, early_stopping=True, validation_fraction=0.2, random_state=0).fit(X, y)
    dev = held_out_rows(unweighted, y)
    w = np.ones(len(y))
    if part == "held out":
        w[dev] = 0.0
    else:
        w[np.setdiff1d(np.arange(len(y)), dev)] = 0.0
    est = clone(unweighted)
    where = "it holds out to score the epochs" if part == "held out" else "it leaves to train on"
    with pytest.raises(ValueError, match=f"^sample_weight is 0 for every one of the [0-9]+ samples early_stopping {where} "):
        est.fit(X, y, sample_weight=w)
    with pytest.raises(ValueError, match="validation_fraction=0.2 of the") as raised:
        est.fit(X, y, sample_weight=w)
    assert ("classes" in str(raised.value)) == (kind == "classifier")
    assert not hasattr(est, "params_")
    clone(unweighted).set_params(early_stopping=False).fit(X, y, sample_weight=w)  # without a hold-out, a fit


# --------------------------------------------------------------------------------------------
# what is refused, what is taken


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.ones(151), r"sample_weight.shape == (151,), expected (150,)!"),
        (np.ones(149).tolist(), r"sample_weight.shape == (149,), expected (150,)!"),
        (np.ones((150, 1)), "Sample weights must be 1D array or scalar, got 2D array"),
        (np.r_[-1.0, np.ones(149)], "Negative values in data passed to `sample_weight`"),
        (np.r_[np.nan, np.ones(149)], "Input sample_weight contains NaN"),
        (np.r_[np.inf, np.ones(149)], "Input sample_weight contains infinity"),
        (np.zeros(150), "Sample weights must contain at least one non-zero number"),
    ],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_bad_weights_are_refused_as_scikit_learn_refuses_them(weights: Any, message: str, method: str) -> None:
    X, y = iris()
    clf = MLPClassifier((4,), epochs=1, random_state=0)
    arguments: dict[str, Any] = {"classes": [0, 1, 2]} if method == "partial_fit" else {}
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        getattr(clf, method)(X, y, sample_weight=weights, **arguments)
    assert not hasattr(clf, "params_")
    reg = MLPRegressor((4,), epochs=1, random_state=0)
    with pytest.raises(ValueError, match="(?i)sample.weight"):
        getattr(reg, method)(X, X[:, 0], sample_weight=weights)


def test_a_list_a_series_a_number_and_integers_are_taken_and_the_callers_array_is_not_written() -> None:
    X, y = iris()
    w = np.random.default_rng(7).integers(1, 4, size=len(y))
    make = partial(MLPClassifier, (4,), epochs=2, random_state=0)
    as_array = make().fit(X, y, sample_weight=w.astype(float))
    pd = pytest.importorskip("pandas")
    for given in (w.tolist(), pd.Series(w, index=np.arange(len(y))[::-1]), w.astype(np.int32), w.astype(np.float32)):
        assert_same_params(make().fit(X, y, sample_weight=given), as_array)
    assert_same_params(make().fit(X, y, sample_weight=2.5), make().fit(X, y, sample_weight=np.full(len(y), 2.5)))  # one for all
    mine = np.linspace(0.5, 1.5, len(y))
    before = mine.copy()
    make().fit(X, y, sample_weight=mine)
    np.testing.assert_array_equal(mine, before)


def test_classes_passed_in_sample_weights_place_are_named_on_the_first_partial_fit() -> None:
    X, y = iris()
    with pytest.raises(ValueError, match=re.escape("the third argument is sample_weight, as in scikit-learn's partial_fit(")):
        MLPClassifier((4,)).partial_fit(X, y, [0, 1, 2])


def test_a_partial_fit_on_a_batch_of_weight_0_but_one_trains_on_that_one() -> None:
    X, y = iris()
    w = np.zeros(len(y))
    w[7] = 3.0
    clf = MLPClassifier((4,), alpha=0.0, random_state=0).partial_fit(X, y, sample_weight=w, classes=[0, 1, 2])
    alone = MLPClassifier((4,), alpha=0.0, random_state=0).partial_fit(X[7:8], y[7:8], classes=[0, 1, 2])
    assert_same_params(clf, alone)  # one sample's weighted mean is its own loss, whatever its weight
    assert clf.loss_curve_ == alone.loss_curve_ and clf.t_ == len(y)


# --------------------------------------------------------------------------------------------
# metadata routing


def test_cross_val_score_and_grid_search_route_sample_weight_to_fit_and_score() -> None:
    X, y = iris()
    w = np.where(y == 2, 3.0, 1.0) * np.random.default_rng(8).uniform(0.5, 1.5, size=len(y))
    folds = KFold(3, shuffle=True, random_state=0)
    by_hand = []
    for train_rows, test_rows in folds.split(X):
        est = MLPClassifier((4,), epochs=3, random_state=0).fit(X[train_rows], y[train_rows], sample_weight=w[train_rows])
        by_hand.append(est.score(X[test_rows], y[test_rows], sample_weight=w[test_rows]))
    with sklearn.config_context(enable_metadata_routing=True):
        requesting = MLPClassifier((4,), epochs=3, random_state=0).set_fit_request(sample_weight=True)
        requesting.set_score_request(sample_weight=True)
        scores = cross_val_score(requesting, X, y, cv=folds, params={"sample_weight": w})
        np.testing.assert_array_equal(scores, by_hand)
        search = GridSearchCV(requesting, {"epochs": [1, 3]}, cv=folds).fit(X, y, sample_weight=w)
        assert search.cv_results_["mean_test_score"][1] == pytest.approx(np.mean(by_hand), rel=1e-15)
        refit = MLPClassifier((4,), random_state=0, **search.best_params_).fit(X, y, sample_weight=w)
        assert_same_params(search.best_estimator_, refit)
        # requested by fit only, the weights train and the score is unweighted
        fit_only = MLPClassifier((4,), epochs=3, random_state=0).set_fit_request(sample_weight=True).set_score_request(sample_weight=False)
        unweighted_scores = cross_val_score(fit_only, X, y, cv=folds, params={"sample_weight": w})
        np.testing.assert_array_equal(
            unweighted_scores,
            [
                clone(fit_only).fit(X[train_rows], y[train_rows], sample_weight=w[train_rows]).score(X[test_rows], y[test_rows])
                for train_rows, test_rows in folds.split(X)
            ],
        )
        assert not np.array_equal(unweighted_scores, scores)
        with pytest.raises(sklearn.exceptions.UnsetMetadataPassedError, match=r"MLPClassifier\.fit"):
            cross_val_score(MLPClassifier((4,), epochs=1), X, y, cv=folds, params={"sample_weight": w})
        partial = MLPRegressor((4,)).set_partial_fit_request(sample_weight=True)
        assert partial.get_metadata_routing().consumes("partial_fit", ["sample_weight"]) == {"sample_weight"}
