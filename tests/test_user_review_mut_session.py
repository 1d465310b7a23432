"""User review by mutation testing of the session's commits: tests that kill mutants the suite
let live (an own forward pass's inf that the next layer saturates, named as train names one
that makes the cost NaN; the worded error's record; the layer the backward pass meets first; a
network with no hidden layer; a shard after the first; a square dev[0]; the classifier's sparse
and 0.5 multilabel y and its refit on 1-D labels; the regressor's R^2 edges and its R^2 of an ema average; the
estimators' words for a bias and for an Optimizer given)."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
import scipy.sparse  # type: ignore[import-untyped]  # untyped; a dependency of scikit-learn's
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPClassifier as ScikitLearnClassifier
from sklearn.preprocessing import LabelBinarizer

from functional_nn import ActivationFunction, TrainingDivergedError, adam, ema, initialize_parameters, sgd, train
from functional_nn import distributed as dist
from functional_nn.data.preparation import one_hot
from functional_nn.sklearn import MLPClassifier, MLPRegressor
from functional_nn.types import FloatArray
from test_user_review_own_nan import BACKWARD_NAMED, MY_BCE, SOFTSIGN, _zero_columns
from test_user_review_skl_dropin import _held_out

WHOLE = "training diverged at epoch 1: W1 holds NaN or infinite values after the last step; "


def _reciprocal(Z: FloatArray) -> FloatArray:
    A: FloatArray = 1.0 / Z  # inf at Z = 0 exactly
    return A


def _reciprocal_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    dZ: FloatArray = -dA / Z**2
    return dZ


RECIPROCAL = ActivationFunction("reciprocal", _reciprocal, _reciprocal_backward)


# -- the finding: an own forward pass's inf that a sigmoid saturates left the cost finite ----------


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_a_forward_pass_of_ones_own_whose_inf_the_next_layer_saturates_is_named(rng: np.random.Generator) -> None:
    X, Y = _zero_columns(rng)  # Z1 = b1 = 0 for the blank samples: 1 / 0 = inf, then sigmoid(inf) = 1, a finite cost
    params = initialize_parameters((2, 1, 1), rng)
    named = (
        "layer 1's activation 'reciprocal' returned NaN or infinite values for finite Z: its forward, not the learning "
        "rate (check_activation(record) checks it on random Z)"
    )
    with pytest.raises(TrainingDivergedError, match=f"^{re.escape(WHOLE + named)}$"):
        train(X, Y, params, activations=(RECIPROCAL, "sigmoid"), loss="binary_cross_entropy", epochs=2, learning_rate=0.1)


# -- training's divergence messages ----------------------------------------------------------------


def test_the_estimators_worded_error_keeps_what_train_found(rng: np.random.Generator) -> None:
    X = rng.normal(size=(40, 3))
    with pytest.raises(TrainingDivergedError) as caught:
        MLPRegressor((8,), learning_rate=1e6, epochs=5, random_state=0).fit(X, X @ np.array([1.0, -2.0, 0.5]))
    cause = caught.value.__cause__
    assert isinstance(cause, TrainingDivergedError) and cause.divergence is not None
    assert caught.value.divergence == cause.divergence
    assert (cause.divergence.epoch, cause.divergence.step, cause.divergence.parameter) == (2, None, None)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_of_two_wrong_backward_passes_the_last_layers_is_named_as_the_backward_pass_meets_it_first(rng: np.random.Generator) -> None:
    X, Y = _zero_columns(rng)  # Z is 0 in both layers for the blank samples
    params = initialize_parameters((2, 3, 3, 1), rng)
    expected = WHOLE + BACKWARD_NAMED.format(l=2, name="softsign")
    with pytest.raises(TrainingDivergedError, match=f"^{re.escape(expected)}$"):
        train(X, Y, params, activations=(SOFTSIGN, SOFTSIGN, "sigmoid"), loss="binary_cross_entropy", epochs=3, learning_rate=0.1)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_a_loss_gradient_of_ones_own_is_named_on_a_network_with_no_hidden_layer(rng: np.random.Generator) -> None:
    X = (30 * rng.standard_normal((2, 16))).astype(np.float32)  # float32 sigmoids of such Z round to exactly 1
    Y = (X[0:1] > 0).astype(np.float32)
    params = initialize_parameters((2, 1), rng, dtype=np.float32)
    with pytest.raises(TrainingDivergedError, match=r"; loss 'my_bce' returned NaN or infinite values for finite outputs AL in "):
        train(X, Y, params, activations=("sigmoid",), loss=MY_BCE, epochs=3, learning_rate=1.0)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_train_rounds_names_the_piece_on_a_shard_after_the_first(rng: np.random.Generator) -> None:
    X, Y = _zero_columns(rng)
    X[:, :4] = rng.normal(size=(2, 4))  # shard 0 (the first 4 samples) has no blank sample; shard 1 has two
    params = initialize_parameters((2, 3, 1), rng)
    named = BACKWARD_NAMED.format(l=1, name="softsign")
    expected = f"training diverged at round 1 on shard 1: the gradient sum dW1 holds NaN or infinite values; {named}"
    with pytest.raises(TrainingDivergedError, match=f"^{re.escape(expected)}$"):
        list(dist.train_rounds(dist.split_shards(X, Y, 2), params, activations=(SOFTSIGN, "sigmoid"), loss="binary_cross_entropy", rounds=2, learning_rate=0.1))
    with pytest.raises(TrainingDivergedError, match=f"^training diverged at round 1 on shard 1: .*; {re.escape(named)}$"):
        list(dist.train_rounds(
            dist.split_shards(X, Y, 2), params, activations=(SOFTSIGN, "sigmoid"), loss="binary_cross_entropy", rounds=2,
            learning_rate=0.1, local_steps=2,
        ))  # fmt: skip


def test_a_square_dev_0_the_right_way_round_is_taken(rng: np.random.Generator) -> None:
    X_dev, Y_dev = rng.normal(size=(3, 3)), one_hot(np.array([0, 1, 1]), 2)  # 3 features, 3 samples
    states = dist.epoch_states([], activations=("relu", "softmax"), loss="categorical_cross_entropy", dev=(X_dev, Y_dev))
    assert list(states) == []


# -- the estimators --------------------------------------------------------------------------------


def test_a_sparse_multilabel_y_fits_as_its_dense_array(rng: np.random.Generator) -> None:
    X, Y = rng.normal(size=(30, 3)), (rng.random((30, 3)) > 0.5).astype(int)
    dense = MLPClassifier((4,), epochs=2, random_state=0).fit(X, Y)
    sparse = MLPClassifier((4,), epochs=2, random_state=0).fit(X, scipy.sparse.csr_matrix(Y))
    np.testing.assert_array_equal(sparse.predict_proba(X), dense.predict_proba(X))


def test_a_fresh_fit_on_1d_labels_after_a_multilabel_fit_is_softmax_again(rng: np.random.Generator) -> None:
    X, y = rng.normal(size=(30, 3)), np.arange(30) % 3
    clf = MLPClassifier((4,), epochs=2, random_state=0).fit(X, (rng.random((30, 2)) > 0.5).astype(int))
    clf.fit(X, y)
    fresh = MLPClassifier((4,), epochs=2, random_state=0).fit(X, y)
    assert clf.out_activation_ == "softmax" and clf.predict(X).shape == (30,)
    np.testing.assert_array_equal(clf.predict_proba(X), fresh.predict_proba(X))


def test_a_multilabel_probability_of_exactly_one_half_predicts_0_as_scikit_learns_threshold() -> None:
    # X all 0 and each label on for half the samples: the output's gradient mean(A - Y) is exactly 0, A stays 0.5
    X, Y = np.zeros((4, 2)), np.array([[1, 0], [0, 1], [1, 0], [0, 1]])
    clf = MLPClassifier((), epochs=3, random_state=0).fit(X, Y)
    np.testing.assert_array_equal(clf.predict_proba(X), 0.5)
    np.testing.assert_array_equal(LabelBinarizer().fit(Y).inverse_transform(np.full((4, 2), 0.5)), 0)  # scikit-learn's
    np.testing.assert_array_equal(clf.predict(X), np.zeros((4, 2)))


def test_the_classifier_tags_itself_multi_label_as_scikit_learns() -> None:
    theirs = ScikitLearnClassifier().__sklearn_tags__().classifier_tags.multi_label
    assert MLPClassifier().__sklearn_tags__().classifier_tags.multi_label is theirs is True


def test_the_regressors_r2_of_one_held_out_sample_is_nan_as_r2_scores(rng: np.random.Generator) -> None:
    X = rng.normal(size=(10, 2))
    with pytest.warns(UndefinedMetricWarning):
        assert math.isnan(r2_score([1.0], [2.0]))  # scikit-learn's for a single sample
    reg = MLPRegressor((3,), epochs=2, early_stopping=True, validation_fraction=0.1, random_state=0).fit(X, X[:, 0])
    scores = reg.validation_scores_
    assert scores is not None and len(scores) == 2 and all(s is not None and math.isnan(s) for s in scores)


def test_the_regressors_r2_of_constant_targets_predicted_exactly_is_1_as_r2_scores() -> None:
    X, y = np.zeros((20, 2)), np.zeros(20)  # no hidden layer, X all 0: the output is b, whose gradient is 0
    assert r2_score(np.zeros(5), np.zeros(5)) == 1.0
    reg = MLPRegressor((), epochs=2, early_stopping=True, validation_fraction=0.25, random_state=0).fit(X, y)
    assert reg.validation_scores_ == [1.0, 1.0]


def test_the_regressors_r2_with_an_ema_optimizer_is_of_the_average_it_predicts_with(rng: np.random.Generator) -> None:
    X = rng.standard_normal((40, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    _, dev_rows = _held_out((3, 8, 1), 40, 0.25)
    reg = MLPRegressor(
        (8,), epochs=1, optimizer=ema(adam(1e-2), decay=0.5), early_stopping=True, validation_fraction=0.25,
        warm_start=True, random_state=0,
    )  # fmt: skip
    for _ in range(3):  # each fit's one epoch is its best; params_ are the average, as predict uses them
        reg.fit(X, y)
        expected = r2_score(y[dev_rows], reg.predict(X[dev_rows]))
        assert reg.best_validation_score_ == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_a_float32_bias_past_its_bound_is_named_as_intercepts() -> None:
    X, y = np.zeros((40, 3)), (np.arange(40) % 4 == 0).astype(int)  # X all 0: only the biases move (alpha 0)
    with pytest.raises(TrainingDivergedError) as caught:
        MLPClassifier((), alpha=0.0, learning_rate=1e7, epochs=5, random_state=0, dtype="float32").fit(X, y)
    assert str(caught.value).startswith("training diverged at epoch 1: intercepts_[0] (the biases of the output layer) holds "), str(caught.value)


def test_a_diverged_estimator_with_an_optimizer_given_names_its_learning_rate(rng: np.random.Generator) -> None:
    X = rng.normal(size=(40, 3))
    with pytest.raises(TrainingDivergedError) as caught:
        MLPRegressor((8,), optimizer=sgd(1e6), epochs=5, random_state=0).fit(X, X @ np.array([1.0, -2.0, 0.5]))
    assert str(caught.value).endswith(
        "; try a smaller learning rate in the Optimizer given as optimizer ('sgd'; learning_rate does not set it) "
        "(or check X and y for extreme values)"
    ), str(caught.value)
