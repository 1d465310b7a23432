"""A user moving from PyTorch: its names for a loss or an activation are pointed at ours.

``"cross_entropy"`` is PyTorch's multi-class loss (``F.cross_entropy``,
``nn.CrossEntropyLoss``), yet the closest spelling pointed it at ``binary_cross_entropy``,
which a softmax network then trains with, unrefused; ``"bce"``, ``"mse"``, scikit-learn's
``"logistic"`` and ``"identity"`` and ``"swish"`` got no hint at all. TensorFlow's
``"softmax_cross_entropy"`` and ``"sigmoid_cross_entropy"`` were pointed at each other's loss, a
mean absolute error at the squared one and ``"softsign"`` at ``"softplus"``.
"""

from __future__ import annotations

import numpy as np
import pytest

from functional_nn import compute_cost, forward_propagation, initialize_parameters


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("cross_entropy", "categorical_cross_entropy"),
        ("CrossEntropyLoss", "categorical_cross_entropy"),
        ("nll_loss", "categorical_cross_entropy"),
        ("bce", "binary_cross_entropy"),
        ("BCELoss", "binary_cross_entropy"),
        ("mse", "mean_squared_error"),
        ("MSELoss", "mean_squared_error"),
        # TensorFlow's, which the closest spelling swapped (the review of this change)
        ("softmax_cross_entropy", "categorical_cross_entropy"),
        ("sparse_softmax_cross_entropy_with_logits", "categorical_cross_entropy"),
        ("sigmoid_cross_entropy", "binary_cross_entropy"),
        ("sigmoid_cross_entropy_with_logits", "binary_cross_entropy"),
    ],
)
def test_other_libraries_loss_names_point_at_ours(name: str, meant: str) -> None:
    AL = np.full((3, 2), 1 / 3)
    Y = np.eye(3)[:, :2]
    with pytest.raises(ValueError, match=rf"unknown loss '{name}': expected one of .*; did you mean '{meant}'\?"):
        compute_cost(AL, Y, name)  # type: ignore[arg-type]  # the other library's name is the test


@pytest.mark.parametrize(("name", "meant"), [("logistic", "sigmoid"), ("identity", "linear"), ("swish", "silu")])
def test_other_libraries_activation_names_point_at_ours(name: str, meant: str, rng: np.random.Generator) -> None:
    params = initialize_parameters([2, 3, 1], rng)
    X = rng.standard_normal((2, 4))
    with pytest.raises(ValueError, match=rf"unknown activations\[0\] '{name}': expected one of .*; did you mean '{meant}'\?"):
        forward_propagation(X, params, (name, "sigmoid"))  # type: ignore[arg-type]  # the other library's name is the test


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
