"""Final review of the session's change (review 50): the dev pair ``epoch_states`` checks before
any network is known.

With no network to say which array is wrong, the check says the pair's own mismatch of samples
and every transposition that would mend it, most samples first. Before, it blamed ``dev[0]``
whenever its rows matched ``dev[1]``'s samples: a one-feature regression whose targets were
given as a column, ``(x, y[:, None])``, was told to pass ``dev[0].T`` (a pair the check then
took and the first round refused), and a pair of two features and two one-hot classes
(``make_moons``' shapes) the same; a transposed ``dev[1]`` was told "dev[1] must have shape
(6, 6)", its own rows taken for the output layer's; and rows of one (one feature, one output
unit) were taken for a transposition.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from functional_nn.data.preparation import one_hot
from functional_nn.distributed import epoch_states

MISMATCH = "dev[0] and dev[1] must hold the same samples, one per column, but dev[0] {} has {} and dev[1] {} has {}"


@pytest.mark.parametrize(
    ("X_shape", "Y_shape", "hint"),
    [
        ((3, 4), (2, 3), "; if samples are rows, pass dev[0].T (3 samples)"),  # dev[0] transposed
        ((4, 6), (6, 3), "; if samples are rows, pass dev[1].T (6 samples)"),  # dev[1] transposed
        ((6, 4), (6, 3), "; if samples are rows, pass (dev[0].T, dev[1].T) (6 samples)"),  # both, scikit-learn's way
        ((1, 50), (50, 1), "; if samples are rows, pass dev[1].T (50 samples)"),  # targets as a column: not dev[0].T
        ((2, 6), (6, 2), "; if samples are rows, pass dev[1].T (6 samples), or dev[0].T (2 samples)"),  # either fits
        ((6, 2), (2, 6), "; if samples are rows, pass dev[0].T (6 samples), or dev[1].T (2 samples)"),
        ((4, 6), (3, 5), ""),  # a plain mismatch
        ((1, 20), (1, 19), ""),  # one feature, one output, off by one sample: no "(dev[0].T, dev[1].T)"
        ((3, 1), (1, 2), ""),  # one sample against two: no "dev[1].T" of one sample
    ],
)
def test_a_dev_pair_of_mismatched_samples_says_so_and_what_would_mend_it(
    rng: np.random.Generator, X_shape: tuple[int, int], Y_shape: tuple[int, int], hint: str
) -> None:
    X_dev, Y_dev = rng.normal(size=X_shape), rng.normal(size=Y_shape)
    message = MISMATCH.format(X_shape, X_shape[1], Y_shape, Y_shape[1]) + hint
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        epoch_states([], dev=(X_dev, Y_dev), activations=("tanh", "linear"), loss="mean_squared_error")


def test_a_dev_pair_the_right_way_round_is_taken(rng: np.random.Generator) -> None:
    X_dev, Y_dev = rng.normal(size=(2, 6)), one_hot(np.array([0, 1, 1, 0, 0, 1]), 2)
    assert list(epoch_states([], dev=(X_dev, Y_dev), activations=("relu", "softmax"), loss="categorical_cross_entropy")) == []
