"""Mutants of the loss and activation modules that no earlier test killed (mutation review of
serialization, checkpoints, diagnostics, gradient_check, metrics, onnx_export, losses, activations)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from functional_nn import compute_cost
from functional_nn.activations import gelu, gelu_backward


@pytest.mark.parametrize(("dtype", "off"), [(np.float64, 1e-6), (np.float32, 5e-4)])
def test_categorical_targets_off_by_more_than_1000_eps_are_refused(dtype: type[np.floating], off: float) -> None:
    # the documented tolerance is 1000 * eps of Y's dtype: 2.2e-13 in float64, 1.2e-4 in float32
    AL = np.array([[0.5, 0.25], [0.5, 0.75]], dtype=dtype)
    Y = np.array([[0.5, 1.0], [0.5 + off, 0.0]], dtype=dtype)
    with pytest.raises(ValueError, match=r"Y has 1 column\(s\) that do not sum to 1 \(column 0 sums to 1"):
        compute_cost(AL, Y, "categorical_cross_entropy")


def test_categorical_targets_within_1000_eps_are_taken() -> None:
    AL = np.array([[0.5], [0.5]])
    Y = np.array([[0.5], [0.5 + 1e-14]])
    assert compute_cost(AL, Y, "categorical_cross_entropy") == pytest.approx(-math.log(0.5) * (1 + 1e-14), rel=1e-15)


@pytest.mark.parametrize("m", [1, 8191, 8193])
def test_gelu_and_its_slope_fill_every_element_whatever_the_size(m: int) -> None:
    # the passes run 8192 elements at a time: a single element and the one past a whole chunk count too
    z = np.linspace(-3.0, 3.0, m) + 0.125 if m > 1 else np.array([0.75])
    Z = z.reshape(1, m)
    Phi = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in z])
    phi = np.exp(-(z**2) / 2) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(gelu(Z)[0], z * Phi, rtol=1e-12, atol=1e-15)
    dA = np.full_like(Z, 2.0)
    np.testing.assert_allclose(gelu_backward(dA, Z, gelu(Z))[0], 2.0 * (Phi + z * phi), rtol=1e-12, atol=1e-15)
