"""Metrics against small examples counted by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from functional_nn.losses import compute_cost
from functional_nn.metrics import accuracy, confusion_matrix, f1_score, log_loss, precision, recall

# A binary example, pair by pair (true, predicted):
# (0,0) (0,1) (0,1) (1,1) (1,1) (1,0) (1,1) (0,0)
# TN = 2 (samples 0, 7), FP = 2 (1, 2), FN = 1 (5), TP = 3 (3, 4, 6).
BIN_LABELS = np.array([0, 0, 0, 1, 1, 1, 1, 0])
BIN_PREDS = np.array([0, 1, 1, 1, 1, 0, 1, 0])

# A three-class example: (0,0) (0,0) (0,1) (1,1) (1,2) (2,2)
# C = [[2, 1, 0], [0, 1, 1], [0, 0, 1]]; predicted per class (column sums) [2, 2, 2],
# actual (row sums) [3, 2, 1], correct (diagonal) [2, 1, 1].
MC_LABELS = np.array([0, 0, 0, 1, 1, 2])
MC_PREDS = np.array([0, 0, 1, 1, 2, 2])


def test_confusion_matrix_rows_are_true_columns_predicted() -> None:
    C = confusion_matrix(BIN_PREDS, BIN_LABELS)
    np.testing.assert_array_equal(C, [[2, 2], [1, 3]])  # [[TN, FP], [FN, TP]]
    assert C.dtype == np.int64
    np.testing.assert_array_equal(confusion_matrix(MC_PREDS, MC_LABELS), [[2, 1, 0], [0, 1, 1], [0, 0, 1]])


def test_confusion_matrix_num_classes_pads_and_checks() -> None:
    C = confusion_matrix(np.array([0, 1]), np.array([1, 1]), num_classes=3)
    np.testing.assert_array_equal(C, [[0, 0, 0], [1, 1, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="num_classes is 2"):
        confusion_matrix(np.array([0, 2]), np.array([0, 1]), num_classes=2)
    with pytest.raises(ValueError, match="labels must be class indices >= 0"):
        confusion_matrix(np.array([0, 1]), np.array([0, -1]))
    with pytest.raises(ValueError, match="same shape"):
        confusion_matrix(np.array([0, 1]), np.array([0, 1, 1]))
    with pytest.raises(TypeError, match="integer labels"):
        confusion_matrix(np.array([0.0, 1.0]), np.array([0, 1]))  # floats are refused at run time
    with pytest.raises(ValueError, match="empty"):
        confusion_matrix(np.array([], dtype=np.int64), np.array([], dtype=np.int64))


def test_binary_precision_recall_f1_by_hand() -> None:
    assert precision(BIN_PREDS, BIN_LABELS) == pytest.approx(3 / 5)  # TP / (TP + FP)
    assert recall(BIN_PREDS, BIN_LABELS) == pytest.approx(3 / 4)  # TP / (TP + FN)
    assert f1_score(BIN_PREDS, BIN_LABELS) == pytest.approx(2 * 0.6 * 0.75 / (0.6 + 0.75))
    assert f1_score(BIN_PREDS, BIN_LABELS) == pytest.approx(2 / 3)
    assert accuracy(BIN_PREDS, BIN_LABELS) == pytest.approx(5 / 8)


def test_binary_with_class_zero_as_positive() -> None:
    # class 0: TP = 2, predicted 0 three times, present four times
    assert precision(BIN_PREDS, BIN_LABELS, positive_class=0) == pytest.approx(2 / 3)
    assert recall(BIN_PREDS, BIN_LABELS, positive_class=0) == pytest.approx(1 / 2)
    assert f1_score(BIN_PREDS, BIN_LABELS, positive_class=0) == pytest.approx(4 / 7)


def test_macro_average_of_the_binary_example() -> None:
    assert precision(BIN_PREDS, BIN_LABELS, average="macro") == pytest.approx((2 / 3 + 3 / 5) / 2)
    assert recall(BIN_PREDS, BIN_LABELS, average="macro") == pytest.approx((1 / 2 + 3 / 4) / 2)
    assert f1_score(BIN_PREDS, BIN_LABELS, average="macro") == pytest.approx((4 / 7 + 2 / 3) / 2)


def test_macro_average_three_classes_by_hand() -> None:
    # per class precision [2/2, 1/2, 1/2], recall [2/3, 1/2, 1/1], F1 = 2TP/(pred + actual) = [4/5, 2/4, 2/3]
    assert precision(MC_PREDS, MC_LABELS, average="macro") == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert recall(MC_PREDS, MC_LABELS, average="macro") == pytest.approx((2 / 3 + 0.5 + 1) / 3)
    assert f1_score(MC_PREDS, MC_LABELS, average="macro") == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)


def test_zero_over_zero_counts_as_zero() -> None:
    # class 3 never occurs: its precision, recall and F1 are 0/0 -> 0, pulling the macro mean down
    assert precision(MC_PREDS, MC_LABELS, average="macro", num_classes=4) == pytest.approx((1 + 0.5 + 0.5 + 0) / 4)
    never_predicted = np.array([0, 0, 0])
    labels = np.array([0, 1, 1])
    assert precision(never_predicted, labels) == 0.0  # 0 / (0 + 0)
    assert recall(never_predicted, labels) == 0.0  # 0 / (0 + 2)
    assert f1_score(never_predicted, labels) == 0.0
    all_negative = np.array([0, 0])
    assert precision(all_negative, all_negative) == 0.0  # no positive anywhere
    assert f1_score(all_negative, all_negative) == 0.0


def test_binary_average_refuses_several_classes() -> None:
    with pytest.raises(ValueError, match="average='macro'"):
        precision(MC_PREDS, MC_LABELS)
    with pytest.raises(ValueError, match="positive_class=1"):
        recall(np.array([0, 2]), np.array([2, 0]))
    with pytest.raises(ValueError, match="unknown average 'micro'"):
        f1_score(BIN_PREDS, BIN_LABELS, average="micro")  # type: ignore[arg-type]  # the check under test


def test_log_loss_binary_by_hand_and_equal_to_the_cost() -> None:
    P = np.array([[0.9, 0.2, 0.6]])
    labels = np.array([1, 0, 0])
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.4)) / 3
    assert log_loss(P, labels) == pytest.approx(expected, rel=1e-14)
    assert log_loss(P, labels) == pytest.approx(compute_cost(P, labels[None, :].astype(np.float64), "binary_cross_entropy"))


def test_log_loss_multiclass_by_hand() -> None:
    P = np.array([[0.7, 0.1], [0.2, 0.3], [0.1, 0.6]])
    assert log_loss(P, np.array([0, 2])) == pytest.approx(-(math.log(0.7) + math.log(0.6)) / 2, rel=1e-14)
    assert log_loss(P.astype(np.float32), np.array([0, 2])) == pytest.approx(-(math.log(0.7) + math.log(0.6)) / 2, rel=1e-6)


def test_log_loss_takes_bool_labels_as_the_classes_0_and_1() -> None:
    """Bool labels are classes, as in the other metrics, not a mask over the rows of probabilities."""
    P = np.array([[0.7, 0.1, 0.4], [0.3, 0.9, 0.6]])
    expected = -(math.log(0.7) + math.log(0.9) + math.log(0.6)) / 3
    assert log_loss(P, np.array([False, True, True])) == pytest.approx(expected, rel=1e-14)
    two = P[:, :2]
    assert log_loss(two, np.array([False, True])) == pytest.approx(-(math.log(0.7) + math.log(0.9)) / 2, rel=1e-14)
    sigmoid_row = np.array([[0.9, 0.2, 0.6]])
    assert log_loss(sigmoid_row, np.array([True, False, False])) == pytest.approx(
        -(math.log(0.9) + math.log(0.8) + math.log(0.4)) / 3, rel=1e-14
    )


def test_log_loss_is_clipped_and_finite() -> None:
    certain_and_wrong = np.array([[0.0, 1.0]])
    eps = np.finfo(np.float64).eps
    assert log_loss(certain_and_wrong, np.array([1, 0])) == pytest.approx(-math.log(eps))
    assert log_loss(np.array([[1.0, 0.0]]), np.array([1, 0])) == pytest.approx(-math.log(1 - eps))
    eps32 = float(np.finfo(np.float32).eps)
    assert log_loss(certain_and_wrong.astype(np.float32), np.array([1, 0])) == pytest.approx(-math.log(eps32))


def test_log_loss_bad_input() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        log_loss(np.array([[0.5, 0.5], [0.6, 0.5]]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"lie in \[0, 1\]"):
        log_loss(np.array([[1.5, 0.5]]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"labels must lie in 0..1"):
        log_loss(np.array([[0.5, 0.5]]), np.array([0, 2]))
    with pytest.raises(ValueError, match=r"labels must have shape \(2,\)"):
        log_loss(np.array([[0.5, 0.5]]), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="2-D"):
        log_loss(np.array([0.5, 0.5]), np.array([0, 1]))
    with pytest.raises(ValueError, match="NaN"):
        log_loss(np.array([[np.nan, 0.5]]), np.array([0, 1]))


def test_inputs_are_not_modified() -> None:
    preds, labels = BIN_PREDS.copy(), BIN_LABELS.copy()
    preds.flags.writeable = False
    labels.flags.writeable = False
    P = np.array([[0.9, 0.2, 0.6, 0.5, 0.5, 0.5, 0.5, 0.5]])
    P.flags.writeable = False
    confusion_matrix(preds, labels)
    f1_score(preds, labels, average="macro")
    log_loss(P, labels)
    np.testing.assert_array_equal(preds, BIN_PREDS)
