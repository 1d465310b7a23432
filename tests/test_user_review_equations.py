"""A learner's review of the docstrings' equations: inverted dropout's scaling, checked against the draws."""

from __future__ import annotations

import numpy as np
import pytest

from functional_nn import forward_propagation, gradient_check, train
from functional_nn.propagation import dropout_keeps


def _network() -> dict[str, np.ndarray]:
    one = np.ones((1, 1))
    return {"W1": one, "b1": np.zeros((1, 1)), "W2": one.copy(), "b2": np.zeros((1, 1))}


def test_the_draws_keep_half_again_as_many_units_as_a_keep_of_1e_5_asks(rng: np.random.Generator) -> None:
    # the fact behind the refusals below: ceil(1e-5 * 2**16) / 2**16 = 1.53e-5 of the units are kept
    kept = float(np.mean(dropout_keeps(rng, (1, 2**22), 1e-5)))
    assert kept == pytest.approx(2.0**-16, rel=0.3)


@pytest.mark.parametrize("keep", [1e-5, 1e-9, 1.5 / 2**16, 1e-4])
def test_a_keep_probability_finer_than_the_draws_is_refused(keep: float, rng: np.random.Generator) -> None:
    # inverted dropout divides by keep so that E[A * mask] = A; the 16-bit draws keep
    # ceil(keep 2^16) / 2^16 of the units, which for these keeps is 6.8% to 15,000 times more than asked
    X = np.ones((1, 4))
    with pytest.raises(ValueError, match=r"keep_probs\[0\] is .*16-bit draws would keep .* expected at least 0\.001526"):
        forward_propagation(X, _network(), ("relu", "linear"), keep_probs=keep, rng=rng)
    with pytest.raises(ValueError, match=r"input_keep_prob is .*16-bit draws would keep"):
        forward_propagation(X, _network(), ("relu", "linear"), input_keep_prob=keep, rng=rng)
    with pytest.raises(ValueError, match=r"keep_probs\[0\] is .*16-bit draws would keep"):
        train(X, X, _network(), activations=("relu", "linear"), loss="mean_squared_error", epochs=1,
              learning_rate=0.1, keep_probs=keep, rng=rng)  # fmt: skip
    with pytest.raises(ValueError, match=r"keep_probs\[0\] is .*16-bit draws would keep"):
        gradient_check(X, X, _network(), ("relu", "linear"), "mean_squared_error", keep_probs=keep, rng=rng)


@pytest.mark.parametrize("keep", [100 / 2**16, 0.01, 3 / 2**16, 0.5, 0.8])
def test_keep_probabilities_the_draws_follow_are_accepted(keep: float, rng: np.random.Generator) -> None:
    _, caches = forward_propagation(np.ones((1, 4)), _network(), ("relu", "linear"), keep_probs=keep, rng=rng)
    mask = caches[0].dropout_mask
    assert mask is not None and mask.shape == (1, 4)


def test_the_estimators_refuse_such_a_dropout_in_their_own_terms() -> None:
    from functional_nn.sklearn import MLPClassifier

    X, y = np.random.default_rng(0).standard_normal((20, 3)), np.arange(20) % 2
    with pytest.raises(ValueError, match=r"^dropout=0\.99999 keeps each hidden unit with probability 1e-05: .*16-bit draws would keep"):
        MLPClassifier(hidden_layer_sizes=(4,), dropout=0.99999, epochs=1).fit(X, y)
