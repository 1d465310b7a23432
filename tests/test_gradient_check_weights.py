"""``gradient_check`` and ``numerical_gradient`` with sample weights: the centred differences
are of the weighted cost, so they check ``backward_propagation``'s weighted gradient."""

from __future__ import annotations

import numpy as np
import pytest

from functional_nn import Activation, Loss, backward_propagation, forward_propagation, gradient_check, initialize_parameters, one_hot
from functional_nn.gradient_check import numerical_gradient
from functional_nn.losses import MEAN_SQUARED_ERROR
from functional_nn.types import FloatArray


def _problem() -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 6))
    Y = one_hot(rng.integers(0, 3, 6), 3)
    return X, Y, dict(initialize_parameters((3, 4, 3), rng))


@pytest.mark.parametrize(
    ("loss", "activations"),
    [("categorical_cross_entropy", ("tanh", "softmax")), ("mean_squared_error", ("tanh", "sigmoid")), ("hinge", ("relu", "linear"))],
)
def test_the_weighted_gradient_passes_and_the_unweighted_one_fails(loss: Loss, activations: tuple[Activation, Activation]) -> None:
    X, Y, params = _problem()
    w = np.array([3.0, 0.0, 1.0, 0.5, 2.0, 0.0])
    assert gradient_check(X, Y, params, activations, loss, lambd=0.4, sample_weight=w) < 1e-6
    AL, caches = forward_propagation(X, params, activations)
    weighted = backward_propagation(AL, Y, caches, loss, lambd=0.4, sample_weight=w)
    numeric = numerical_gradient(X, Y, params, activations, loss, lambd=0.4, sample_weight=w)
    unweighted = backward_propagation(AL, Y, caches, loss, lambd=0.4)
    for key in weighted:
        np.testing.assert_allclose(weighted[key], numeric[key], rtol=1e-5, atol=1e-8)
    assert max(float(np.abs(unweighted[k] - numeric[k]).max()) for k in numeric) > 1e-2  # the check tells them apart


def test_weights_that_keep_one_column_give_that_column_s_gradient() -> None:
    X, Y, params = _problem()
    w = np.zeros(6)
    w[2] = 5.0  # only column 2 counts, however heavily: a weighted mean of one value is that value
    activations: tuple[Activation, ...] = ("tanh", "softmax")
    weighted = numerical_gradient(X, Y, params, activations, "categorical_cross_entropy", sample_weight=w)
    alone = numerical_gradient(X[:, 2:3], Y[:, 2:3], params, activations, "categorical_cross_entropy")
    for key in alone:
        np.testing.assert_allclose(weighted[key], alone[key], rtol=1e-6, atol=1e-9)


def test_gradient_check_refuses_weights_it_cannot_weigh() -> None:
    X, Y, params = _problem()
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(6,\), one weight for each of X's 6 columns, got shape \(5,\)"):
        gradient_check(X, Y, params, ("tanh", "softmax"), "categorical_cross_entropy", sample_weight=np.ones(5))
    own = MEAN_SQUARED_ERROR._replace(name="my_squares", sample_costs=None)
    with pytest.raises(ValueError, match="sample_weight needs each sample's loss, but loss 'my_squares' has no sample_costs"):
        gradient_check(X, Y, params, ("tanh", "sigmoid"), own, sample_weight=np.ones(6))
