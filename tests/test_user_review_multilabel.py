"""A user's review of multi-label training: k sigmoid outputs with binary cross-entropy (or k
linear outputs with the hinge loss) and 0/1 targets whose columns may hold several 1s, or none."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.metrics import accuracy_score

from functional_nn import train
from functional_nn.distributed import split_shards, train_rounds
from functional_nn.types import Activation, FloatArray, Loss

# Three inputs, three outputs, W1 = 10 I: unit k is above the loss's decision threshold (0.5 after
# a sigmoid, 0 after a linear output) exactly where input k is positive, and the largest output is
# the largest input.
X: FloatArray = np.array(
    [
        [-1.0, -3.0, 1.0, 3.0, 2.0],
        [2.0, -2.0, -1.0, -1.0, 1.0],
        [3.0, -1.0, 2.0, -1.0, -1.0],
    ]
)
Y: FloatArray = np.array(
    [
        [0.0, 0.0, 1.0, 1.0, 0.0],
        [1.0, 0.0, 1.0, 0.0, 1.0],
        [1.0, 0.0, 1.0, 0.0, 0.0],
    ]
)
# column 0: labels {1, 2}, every unit right, the largest output is unit 2 but Y's argmax is 1
# column 1: no label, every unit right (below the threshold), the largest output is unit 2
# column 2: labels {0, 1, 2}, unit 1 wrong
# column 3: one label, 0, the largest output: right
# column 4: one label, 1, but the largest output is unit 0: wrong
EXACT_MATCH = 3 / 5


def _params() -> dict[str, FloatArray]:
    return {"W1": 10 * np.eye(3), "b1": np.zeros((3, 1))}


@pytest.mark.parametrize(("output", "loss"), [("sigmoid", "binary_cross_entropy"), ("linear", "hinge")])
def test_the_accuracy_of_multi_label_targets_is_the_exact_match_not_argmax_against_argmax(output: Activation, loss: Loss) -> None:
    # The history's accuracy compared argmax(AL) with argmax(Y): a column with two labels counted
    # wrong though every unit was right (0.2 here, where scikit-learn's accuracy_score of the
    # thresholded outputs says 0.6), so a near-perfect multi-label network reported ~70%.
    threshold = 0.5 if output == "sigmoid" else 0.0
    predicted = (10 * X >= 0 if output == "linear" else 1 / (1 + np.exp(-10 * X)) >= threshold).astype(int)
    assert accuracy_score(Y.T.astype(int), predicted.T) == EXACT_MATCH
    # a step so small that it changes no prediction: train and dev accuracy are of these params
    for batch_size in (None, 2):
        result = train(X, Y, _params(), activations=(output,), loss=loss, epochs=1, learning_rate=1e-9,
                       batch_size=batch_size, rng=np.random.default_rng(0), dev=(X, Y))  # fmt: skip
        record = result.history[-1]
        assert (record.accuracy, record.dev_accuracy) == (EXACT_MATCH, EXACT_MATCH)
    # the data-parallel rounds count the same way
    rounds = list(train_rounds(split_shards(X, Y, 2), _params(), activations=(output,), loss=loss, rounds=1,
                               learning_rate=1e-9, dev=(X, Y)))  # fmt: skip
    assert (rounds[-1].history[-1].accuracy, rounds[-1].history[-1].dev_accuracy) == (EXACT_MATCH, EXACT_MATCH)


def test_a_column_of_one_label_with_another_unit_on_is_wrong_as_accuracy_score_counts_it() -> None:
    # the review of this change: a one-label column was scored by its largest output, so a network
    # that switched extra units on was counted right where scikit-learn's exact match says wrong
    from functional_nn.activations import ACTIVATIONS
    from functional_nn.propagation import count_correct

    AL = np.array([[0.9, 0.2, 0.6], [0.95, 0.7, 0.1], [0.1, 0.1, 0.4]])
    labels = np.array([[0, 0, 1], [1, 1, 0], [0, 0, 0]], dtype=np.int8)
    expected = accuracy_score(labels.T, (AL >= 0.5).astype(int).T) * AL.shape[1]
    assert expected == 2  # column 0: unit 0 on as well (wrong); columns 1 and 2 right
    assert count_correct(AL, labels, ACTIVATIONS["sigmoid"], 0.5) == expected
    # under softmax (a loss of one's own, not fused with it) the largest output is the prediction:
    # units 1, 1 and 0, each column's label, though no probability of column 0 reaches 0.5 alone
    assert count_correct(AL / AL.sum(axis=0), labels, ACTIVATIONS["softmax"], 0.5) == 3


@pytest.mark.parametrize(("output", "loss"), [("sigmoid", "binary_cross_entropy"), ("softmax", "categorical_cross_entropy")])
def test_a_cluster_scores_as_this_process_does(output: Activation, loss: Loss) -> None:
    # a worker unpickles its own copy of the activation and loss records: softmax recognised by
    # identity was missed there, and categorical targets were scored by exact match, which
    # softmax outputs spread over three units (W1 = 0.1 I: none reaches 0.5) never meet
    from functional_nn.distributed import cluster_client, place_shards

    if output == "sigmoid":
        targets, params, expected = Y, _params(), EXACT_MATCH
    else:  # argmax of 0.1 X is 2, 2, 2, 0, 0: right in the first three columns
        targets, params, expected = np.eye(3)[:, [2, 2, 2, 1, 1]], {"W1": 0.1 * np.eye(3), "b1": np.zeros((3, 1))}, 3 / 5
    settings: dict[str, Any] = dict(activations=(output,), loss=loss, rounds=1, learning_rate=1e-9, dev=(X, targets))
    here = list(train_rounds(split_shards(X, targets, 2), params, **settings))[-1].history[-1]
    with cluster_client(n_workers=1, processes=False) as client:
        there = list(train_rounds(place_shards(client, split_shards(X, targets, 2)), params, **settings))[-1].history[-1]
    assert (here.accuracy, here.dev_accuracy) == (expected, expected)
    assert (there.accuracy, there.dev_accuracy) == (expected, expected)
