"""A fresh-eyes review of the changes since c2962a1: the hint tables for other libraries'
names.

TensorFlow's ``"softmax_cross_entropy"`` was pointed at ``binary_cross_entropy`` and its
``"sigmoid_cross_entropy"`` at ``categorical_cross_entropy`` by the closest spelling, the
mistake the hint table was added to end for PyTorch's ``"cross_entropy"``; a mean absolute
error (``"mean_absolute_error"``, ``"MeanAbsoluteError"``) was pointed at the squared one, and
``"softsign"`` at ``"softplus"``, other functions.
"""

from __future__ import annotations

import numpy as np
import pytest

from functional_nn import compute_cost, forward_propagation, initialize_parameters


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("softmax_cross_entropy", "categorical_cross_entropy"),
        ("sparse_softmax_cross_entropy_with_logits", "categorical_cross_entropy"),
        ("sigmoid_cross_entropy", "binary_cross_entropy"),
        ("sigmoid_cross_entropy_with_logits", "binary_cross_entropy"),
    ],
)
def test_tensorflows_cross_entropy_names_point_at_the_loss_they_are(name: str, meant: str) -> None:
    AL = np.full((3, 2), 1 / 3)
    Y = np.eye(3)[:, :2]
    with pytest.raises(ValueError, match=rf"unknown loss '{name}': expected one of .*; did you mean '{meant}'\?"):
        compute_cost(AL, Y, name)  # type: ignore[arg-type]  # the other library's name is the test


@pytest.mark.parametrize("name", ["mean_absolute_error", "MeanAbsoluteError", "mae", "L1Loss"])
def test_a_mean_absolute_error_is_not_taken_for_the_squared_one(name: str) -> None:
    AL = np.zeros((1, 2))
    Y = np.ones((1, 2))
    with pytest.raises(ValueError, match=r"no mean absolute error loss is built in") as raised:
        compute_cost(AL, Y, name)  # type: ignore[arg-type]  # the other library's name is the test
    assert "did you mean" not in str(raised.value)


def test_softsign_is_not_taken_for_softplus(rng: np.random.Generator) -> None:
    params = initialize_parameters([2, 3, 1], rng)
    X = rng.standard_normal((2, 4))
    with pytest.raises(ValueError, match=r"unknown activations\[0\] 'softsign': .*softsign, z / \(1 \+ \|z\|\), is not built in") as raised:
        forward_propagation(X, params, ("softsign", "sigmoid"))  # type: ignore[arg-type]  # the other library's name is the test
    assert "did you mean" not in str(raised.value)
