"""A user's review of the estimators' per-call overhead, streaming small chunks through
``partial_fit``: what was wrong."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from functional_nn import adam
from functional_nn.optimizers import Optimizer, OptimizerState
from functional_nn.sklearn import MLPClassifier
from functional_nn.types import Params


def test_continuing_partial_fit_does_not_build_a_full_size_optimizer_state_to_compare_slot_names(
    rng: np.random.Generator,
) -> None:
    # Every partial_fit after the first compared the fitted state's slot names with those of
    # optimizer.init(params_), twice (the estimator's check, then train's): two full-size
    # states (Adam's m and v, zeroed) built per call only to be thrown away, a few percent
    # of a 200-row MNIST-sized step. The names come from a state of one-element arrays.
    shapes_seen: list[tuple[int, ...]] = []
    base = adam(1e-3)

    def init(params: Params) -> OptimizerState:
        shapes_seen.append(params["W1"].shape)
        return base.init(params)

    optimizer = base._replace(init=init)
    assert isinstance(optimizer, Optimizer)
    X = rng.standard_normal((30, 6))
    y = np.arange(30) % 3
    reference = MLPClassifier((5,), random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    clf = MLPClassifier((5,), optimizer=optimizer, random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    assert shapes_seen == [(5, 6)]  # the first call's state, which training starts from
    for _ in range(2):
        clf.partial_fit(X, y)
        reference.partial_fit(X, y)
    assert all(shape == (1, 1) for shape in shapes_seen[1:]), shapes_seen
    assert len(shapes_seen) == 5  # still checked on every call, by the estimator and by train
    for key, value in reference.params_.items():  # the same training, bit for bit
        np.testing.assert_array_equal(clf.params_[key], value)


@pytest.mark.parametrize(
    ("y", "kind"),
    [([0.5, 1, 2, 0, 1, 2], "continuous"), (np.array([0, 1, 2, 0, 1, 2], dtype=object), "unknown")],
)
def test_labels_that_are_not_integers_are_still_checked_on_every_partial_fit(
    y: list[float] | npt.NDArray[np.object_], kind: str, rng: np.random.Generator
) -> None:
    # integer labels skip scikit-learn's check_classification_targets (they always pass it:
    # binary or multiclass), another few percent of a 200-row step; other labels are checked as before
    X = rng.standard_normal((6, 3))
    clf = MLPClassifier((2,), random_state=0).partial_fit(X, np.array([0, 1, 2, 0, 1, 2], dtype=np.uint8), classes=[0, 1, 2])
    with pytest.raises(ValueError, match=f"^Unknown label type: {kind}. Maybe you are trying to fit a classifier"):
        clf.partial_fit(X, y)
