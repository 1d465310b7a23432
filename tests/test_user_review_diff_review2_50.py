"""Diff review 2 of f4fd263 / f50b1e3 (review 50): messages that said something untrue (a third,
the dev pair's, is in test_user_review_final_review_50).

1. ``check_keep_probs``: a scalar ``keep_probs`` outside (0, 1] on a network with no hidden
   layer was said to drop hidden units ("keep_probs=1.5 drops hidden units"), not to be out
   of range as it is on any other network.
2. A continued fit that diverged by cost growth named the epoch as ``history_`` counts it, but
   compared the cost with "the first epoch's", which is this fit's first, not ``history_``'s.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from functional_nn import forward_propagation, initialize_parameters, train
from functional_nn.sklearn import MLPRegressor
from functional_nn.training import TrainingDivergedError


@pytest.mark.parametrize(("keep", "shown"), [(1.5, "1.5"), (0.0, "0.0"), (-1, "-1.0"), (float("nan"), "nan")])
def test_a_keep_prob_outside_0_1_on_a_network_with_no_hidden_layer_is_out_of_range(
    rng: np.random.Generator, keep: float, shown: str
) -> None:
    params = initialize_parameters([3, 1], rng)
    X, Y = rng.standard_normal((3, 4)), np.array([[0.0, 1.0, 1.0, 0.0]])
    message = f"^keep_probs must be in \\(0, 1\\], got {shown}$"  # was: "keep_probs=1.5 drops hidden units, ..."
    with pytest.raises(ValueError, match=message):
        forward_propagation(X, params, ["sigmoid"], keep_probs=keep, rng=rng)
    with pytest.raises(ValueError, match=message):
        train(X, Y, params, activations=["sigmoid"], loss="binary_cross_entropy", epochs=1, learning_rate=0.1, keep_probs=keep, rng=rng)
    with pytest.raises(ValueError, match=re.escape("keep_probs=0.5 drops hidden units, but the network has no hidden layer")):
        forward_propagation(X, params, ["sigmoid"], keep_probs=0.5, rng=rng)  # in range: still refused as before


def test_a_warm_fit_whose_cost_grew_names_this_fits_first_epochs_cost(rng: np.random.Generator) -> None:
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, 2.0, 3.0])

    def fitted() -> MLPRegressor:
        settings = dict(optimizer="sgd", learning_rate=0.01, epochs=3, batch_size=40, random_state=0, warm_start=True)
        return MLPRegressor((4,), **settings).fit(X, y)  # type: ignore[arg-type]

    first = fitted().set_params(learning_rate=1.0, epochs=1).fit(X, y).history_[-1].cost  # the continued fit's epoch 1
    model = fitted().set_params(learning_rate=1.0, epochs=30)
    with pytest.raises(TrainingDivergedError) as raised:
        model.fit(X, y)
    # was: "... more than 10000 times the first epoch's 13.83", while history_[0].cost is 18.51
    expected = rf"^training diverged at epoch 7 \(this fit's epoch 4\): the cost is \S+, more than 10000 times this fit's first epoch's {first:.4g};"
    assert re.match(expected, str(raised.value)), str(raised.value)
    assert f"{model.history_[0].cost:.4g}" != f"{first:.4g}"
