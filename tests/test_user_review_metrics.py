"""A user's review of the figures of merit, every number checked against scikit-learn and by hand:
what still differed from what a user is owed."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from functional_nn.metrics import f1_score, precision, recall
from functional_nn.types import IntArray

Metric = Callable[..., float]


@pytest.mark.parametrize("metric", [precision, recall, f1_score])
def test_a_positive_class_beyond_num_classes_is_refused_not_scored_0(metric: Metric) -> None:
    # Every sample is of class 0 and num_classes says class 0 is the only one: class 1 cannot be
    # the positive class. The two arguments contradict each other; a silent 0.0 hid the mistake.
    labels: IntArray = np.zeros(4, dtype=np.int64)
    with pytest.raises(ValueError, match=r"positive_class is 1, but num_classes is 1: the positive class must be one of 0\.\.0"):
        metric(labels, labels, num_classes=1)
    with pytest.raises(ValueError, match=r"positive_class is 5, but num_classes is 2: the positive class must be one of 0\.\.1"):
        metric(labels, labels, positive_class=5, num_classes=2)
    # inside num_classes, an absent positive class is an ordinary all-negative set: 0/0 counts as 0
    assert metric(labels, labels, positive_class=1, num_classes=2) == 0.0
    assert metric(labels, labels, positive_class=0, num_classes=1) == 1.0
