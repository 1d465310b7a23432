"""Mutation testing of the session's commits (two classes' one logistic unit, weighted rounds):
the survivors that were real gaps. A multilabel classifier pickled before ``_target_kind`` was
kept must unpickle as multilabel (not as a softmax classifier's ``argmax``), and
``epoch_states``' dev figures with an ``ema`` optimizer must be those of the average, computed
here by hand from the rounds' parameters."""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from functional_nn import distributed as dist
from functional_nn import ema, initialize_parameters, one_hot, sgd
from functional_nn.sklearn import MLPClassifier
from functional_nn.types import FloatArray


def _relu_sigmoid(X: npt.NDArray[np.float64], coefs: list[FloatArray], intercepts: list[FloatArray]) -> FloatArray:
    """A network of one ReLU hidden layer and sigmoid outputs, by hand in scikit-learn's layout."""
    hidden = np.maximum(X @ coefs[0] + intercepts[0], 0.0)
    out: FloatArray = 1.0 / (1.0 + np.exp(-(hidden @ coefs[1] + intercepts[1])))
    return out


def test_a_multilabel_classifier_pickled_before_the_kind_of_y_was_kept_stays_multilabel() -> None:
    """``__setstate__`` reads an older pickle's sigmoid output as a multilabel fit: ``predict`` gives the
    indicator matrix (label on where its probability exceeds 0.5), and ``partial_fit`` continues it on one."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 3))
    Y = np.stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 2] > 0.5], axis=1).astype(np.int64)
    clf = MLPClassifier((4,), activation="relu", optimizer="sgd", learning_rate=0.1, epochs=5, random_state=0).fit(X, Y)
    state: dict[str, Any] = getattr(clf, "__getstate__")()
    state.pop("_target_kind")  # as versions before the kind of y was kept pickled it
    old: MLPClassifier = pickle.loads(pickle.dumps(clf))
    old.__dict__.clear()
    old.__setstate__(state)
    old = pickle.loads(pickle.dumps(old))
    probabilities = _relu_sigmoid(X, old.coefs_, old.intercepts_)
    expected = (probabilities > 0.5).astype(np.int64)
    assert 0 < expected.sum() < expected.size and (expected.sum(axis=1) != 1).any()  # several labels on in a row, or none
    assert old.out_activation_ == "logistic" and old.n_outputs_ == 3
    np.testing.assert_allclose(old.predict_proba(X), probabilities, rtol=1e-12)
    np.testing.assert_array_equal(old.predict(X), expected)
    old.partial_fit(X, Y)  # a multilabel matrix of 3 labels continues it
    assert old.predict(X).shape == (30, 3)


def _softmax_cost_and_accuracy(
    params: Mapping[str, FloatArray], X: FloatArray, Y: FloatArray, w: npt.NDArray[np.float64]
) -> tuple[float, float]:
    """By hand: ReLU then softmax, the weighted categorical cross-entropy and the weighted accuracy."""
    A1 = np.maximum(params["W1"] @ X + params["b1"], 0.0)
    Z2 = params["W2"] @ A1 + params["b2"]
    P = np.exp(Z2 - Z2.max(axis=0))
    P /= P.sum(axis=0)
    losses = -np.sum(Y * np.log(P), axis=0)
    right = np.argmax(P, axis=0) == np.argmax(Y, axis=0)
    return float(np.sum(w * losses) / np.sum(w)), float(np.sum(w * right) / np.sum(w))


def test_epoch_states_dev_figures_with_ema_are_those_of_the_average_of_the_rounds() -> None:
    """One shard, whole-shard synchronous rounds (a round an epoch), ``ema(sgd, decay=0.5)``: the
    bias-corrected average after two rounds is ``(theta_1 + 2 theta_2) / 3`` (rates 1, then
    0.5 / 0.75), whose weighted dev figures epoch 2 has, not those of ``theta_2``."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((4, 24))
    Y = one_hot((X[0] + X[1] > 0).astype(np.int64) + (X[2] > 0.5).astype(np.int64), 3)
    X_dev = rng.standard_normal((4, 10))
    Y_dev = one_hot((X_dev[0] + X_dev[1] > 0).astype(np.int64) + (X_dev[2] > 0.5).astype(np.int64), 3)
    w_dev = rng.uniform(0.2, 3.0, 10)
    params = initialize_parameters([4, 6, 3], np.random.default_rng(1))
    rounds = list(dist.train_rounds([dist.Shard(X, Y)], params, activations=("relu", "softmax"), loss="categorical_cross_entropy",
                                    rounds=2, optimizer=ema(sgd(1.0), decay=0.5)))  # fmt: skip
    theta_1, theta_2 = rounds[0].params, rounds[1].params
    average = {key: (theta_1[key] + 2.0 * theta_2[key]) / 3.0 for key in params}
    epochs = list(dist.epoch_states(rounds, activations=("relu", "softmax"), loss="categorical_cross_entropy",
                                    dev=(X_dev, Y_dev), dev_sample_weight=w_dev))  # fmt: skip
    assert [state.epoch for state, _ in epochs] == [1, 2]
    record = epochs[-1][0].history[-1]
    cost, accuracy = _softmax_cost_and_accuracy(average, X_dev, Y_dev, w_dev)
    last_cost, _ = _softmax_cost_and_accuracy(theta_2, X_dev, Y_dev, w_dev)
    assert abs(cost - last_cost) > 1e-3  # the average and the last parameters are told apart
    assert record.dev_cost is not None and record.dev_accuracy is not None
    np.testing.assert_allclose([record.dev_cost, record.dev_accuracy], [cost, accuracy], rtol=1e-12)
    first = epochs[0][0].history[0]  # after one round the average is theta_1 itself
    assert first.dev_cost is not None and first.dev_accuracy is not None
    np.testing.assert_allclose([first.dev_cost, first.dev_accuracy], list(_softmax_cost_and_accuracy(theta_1, X_dev, Y_dev, w_dev)), rtol=1e-12)
