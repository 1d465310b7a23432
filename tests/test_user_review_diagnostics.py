"""User review of the per-layer diagnostics: figures checked against what the layers do."""

from __future__ import annotations

import numpy as np
import pytest

from functional_nn import backward_propagation, forward_propagation, initialize_parameters, layer_statistics
from functional_nn.diagnostics import saturated
from functional_nn.types import Activation


@pytest.mark.parametrize("hidden", ["gelu", "silu"])
def test_a_gelu_or_silu_layer_flat_at_zero_is_dead(hidden: Activation, rng: np.random.Generator) -> None:
    # Every hidden unit's input is far below 0 (-1000), where GELU and SiLU are flat at 0: each output
    # is 0 for every sample and no gradient reaches the layer's weights. Their ranges' lower
    # bounds (-0.17, -0.28) are minima that no output reaches, so reading saturation at the
    # bound called every such unit alive (0.0 dead, 0.0 saturated), whatever the layer did.
    X = rng.standard_normal((3, 8))
    Y = (rng.random((1, 8)) < 0.5).astype(np.float64)
    params = initialize_parameters([3, 4, 1], rng)
    params["b1"] = params["b1"] - 1000.0
    AL, caches = forward_propagation(X, params, (hidden, "sigmoid"))
    grads = backward_propagation(AL, Y, caches, "binary_cross_entropy")
    assert np.all(caches[0].A == 0.0) and float(np.abs(grads["dW1"]).max()) < 1e-15  # flat: nothing learns
    first = layer_statistics(caches, grads, params)[0]
    assert first.saturated_fraction == 1.0
    assert first.dead_fraction == 1.0
    mask = saturated(np.array([[0.0, -0.16997, 0.5]]), hidden)
    assert mask is not None and mask.tolist() == [[True, False, False]]  # at its flat 0, not at its minimum
