"""backward_propagation against centred finite differences, for every activation and loss."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pytest

from functional_nn import gradient_check, initialize_parameters, one_hot
from functional_nn.gradient_check import numerical_gradient
from functional_nn.activations import ACTIVATIONS, SIGMOID
from functional_nn.losses import BINARY_CROSS_ENTROPY, LOSSES
from functional_nn.propagation import backward, check_loss_pairing, forward
from functional_nn.types import Activation, FloatArray, Loss

HIDDEN: tuple[Activation, ...] = get_args(Activation)


def targets(loss: Loss, n_out: int, m: int, rng: np.random.Generator) -> FloatArray:
    if loss == "categorical_cross_entropy":
        return one_hot(rng.integers(0, n_out, m), n_out)
    if loss in ("binary_cross_entropy", "hinge"):
        return (rng.random((n_out, m)) < 0.5).astype(np.float64)
    return rng.standard_normal((n_out, m))


def pairings() -> list[tuple[Activation, Loss]]:
    pairs = []
    for output in get_args(Activation):
        for loss in get_args(Loss):
            try:
                check_loss_pairing(LOSSES[loss], ACTIVATIONS[output])
            except ValueError:
                continue
            pairs.append((output, loss))
    return pairs


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize(("output", "loss"), pairings())
def test_every_activation_and_loss(hidden: Activation, output: Activation, loss: Loss, rng: np.random.Generator) -> None:
    params = initialize_parameters([3, 4, 3], rng, scheme="xavier")
    params = {**params, "b1": rng.standard_normal((4, 1)) * 0.1, "b2": rng.standard_normal((3, 1)) * 0.1}
    X = rng.standard_normal((3, 5))
    Y = targets(loss, 3, 5, rng)
    assert gradient_check(X, Y, params, (hidden, output), loss) < 1e-6


def test_refused_pairings_are_exactly_the_unbounded_outputs_with_cross_entropy() -> None:
    refused = {(o, l) for o in get_args(Activation) for l in get_args(Loss)} - set(pairings())
    assert refused == {
        (o, l)
        for o in ("linear", "relu", "leaky_relu", "tanh", "gelu", "silu", "elu", "softplus")
        for l in ("binary_cross_entropy", "categorical_cross_entropy")
    }


def test_deep_network_with_l2_and_dropout(rng: np.random.Generator) -> None:
    params = initialize_parameters([4, 6, 5, 2], rng)
    X = rng.standard_normal((4, 8))
    Y = one_hot(rng.integers(0, 2, 8), 2)
    activations: tuple[Activation, ...] = ("relu", "tanh", "softmax")
    assert gradient_check(X, Y, params, activations, "categorical_cross_entropy", lambd=0.7) < 1e-7
    assert gradient_check(X, Y, params, activations, "categorical_cross_entropy", keep_probs=(0.5, 0.8), rng=rng) < 1e-7


def test_gradient_check_notices_a_wrong_gradient(rng: np.random.Generator) -> None:
    params = initialize_parameters([2, 3, 1], rng, scheme="standard_normal")
    X = rng.standard_normal((2, 4))
    Y = np.array([[1.0, 0.0, 1.0, 0.0]])
    # Backpropagation without the L2 term against finite differences of the penalised cost.
    AL, caches = forward(X, params, (SIGMOID, SIGMOID))
    analytic = backward(AL, Y, caches, BINARY_CROSS_ENTROPY)
    numeric = numerical_gradient(X, Y, params, ("sigmoid", "sigmoid"), "binary_cross_entropy", lambd=5.0)
    difference = np.linalg.norm(analytic["dW1"] - numeric["dW1"]) / np.linalg.norm(analytic["dW1"] + numeric["dW1"])
    assert difference > 1e-2
    assert gradient_check(X, Y, params, ("sigmoid", "sigmoid"), "binary_cross_entropy", lambd=5.0) < 1e-7


@pytest.mark.parametrize("wrong", ["hidden activation", "output activation", "loss"])
def test_gradient_check_reports_a_wrong_backward_as_wrong(wrong: str, rng: np.random.Generator) -> None:
    """The check itself must catch a wrong gradient, not only pass a right one: each case gets
    one piece's derivative off by a factor (a chain rule any layer's error would break)."""
    params = initialize_parameters([2, 3, 1], rng, scheme="standard_normal")
    X = rng.standard_normal((2, 4))
    Y = np.array([[1.0, 0.0, 1.0, 0.0]])
    doubled = SIGMOID._replace(name="sigmoid_doubled", backward=lambda dA, Z, A: 2 * SIGMOID.backward(dA, Z, A), backward_in_place=None)
    halved = BINARY_CROSS_ENTROPY._replace(
        name="bce_halved", gradient=lambda AL, Y: 0.5 * BINARY_CROSS_ENTROPY.gradient(AL, Y), fused_activation=None
    )
    pieces = {
        "hidden activation": ((doubled, SIGMOID), BINARY_CROSS_ENTROPY),
        "output activation": ((SIGMOID, doubled), BINARY_CROSS_ENTROPY),
        "loss": ((SIGMOID, SIGMOID), halved),
    }
    activations, loss = pieces[wrong]
    assert gradient_check(X, Y, params, activations, loss) > 1e-2
    assert gradient_check(X, Y, params, (SIGMOID, SIGMOID), BINARY_CROSS_ENTROPY) < 1e-7  # the same network, right

def test_gradient_check_of_a_flat_cost_is_zero_not_one() -> None:
    # A width-1 softmax outputs exactly 1 whatever its input, so every sample gets the same
    # output a; under the hinge loss two samples labelled 1 and two labelled 0 (-1) with
    # |a| < 1 give J = mean(1 - a, 1 - a, 1 + a, 1 + a) = 1: flat in every parameter. The
    # true gradient is exactly 0; the centred differences give only rounding noise.
    params = {
        "W1": np.array([[0.7]]), "b1": np.array([[0.2]]),
        "W2": np.array([[0.4]]), "b2": np.array([[0.1]]),
    }  # fmt: skip
    X = np.array([[0.3, -1.2, 2.0, 0.5]])
    Y = np.array([[1.0, 1.0, 0.0, 0.0]])
    AL, caches = forward(X, params, (ACTIVATIONS["softmax"], ACTIVATIONS["linear"]))
    np.testing.assert_allclose(AL, 0.5)  # 0.4 * 1 + 0.1 for every sample
    grads = backward(AL, Y, caches, LOSSES["hinge"])
    assert all(not np.any(g) for g in grads.values())
    assert gradient_check(X, Y, params, ("softmax", "linear"), "hinge") < 1e-8
    # With an L2 term the gradient is no longer zero and the relative measure applies again.
    assert gradient_check(X, Y, params, ("softmax", "linear"), "hinge", lambd=1e-3) < 1e-7


BAD_RECORD_CHECK_SETTINGS: list[tuple[dict[str, object], type[Exception], str]] = [
    ({"shape": (0, 3)}, ValueError, r"shape\[0\] must be >= 1, got 0"),
    ({"shape": (4, -1)}, ValueError, r"shape\[1\] must be >= 1, got -1"),
    ({"shape": (4,)}, TypeError, r"shape must be a tuple \(rows, columns\) of two integers >= 1, got \(4,\)"),
    ({"shape": (4, 2.5)}, TypeError, r"shape\[1\] must be an integer, got float 2.5"),
    ({"rng": 0}, TypeError, r"^rng must be None or a numpy\.random\.Generator such as np\.random\.default_rng\(seed\), got int 0: to draw from seed 0, pass np\.random\.default_rng\(0\)$"),
    ({"epsilon": 0}, ValueError, r"epsilon must be a finite number > 0, got 0"),
    ({"epsilon": float("inf")}, ValueError, r"epsilon must be a finite number > 0, got inf"),
    ({"tolerance": float("nan")}, ValueError, r"tolerance must be a finite number > 0, got nan"),
    ({"tolerance": -1e-5}, ValueError, r"tolerance must be a finite number > 0, got -1e-05"),
]


@pytest.mark.parametrize(("settings", "error", "message"), BAD_RECORD_CHECK_SETTINGS)
def test_record_checks_refuse_bad_settings_by_name(settings: dict[str, object], error: type[Exception], message: str) -> None:
    """A zero size died in a NumPy reduction, epsilon 0 in a division, an int rng on an attribute,
    and a NaN tolerance passed every record."""
    from functional_nn.gradient_check import check_activation, check_loss

    with pytest.raises(error, match=message):
        check_activation("relu", **settings)  # type: ignore[arg-type]
    with pytest.raises(error, match=message):
        check_loss("mean_squared_error", **settings)  # type: ignore[arg-type]
