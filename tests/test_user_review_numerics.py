"""User review of numerical extremes: Adam's and RMSProp's moving average of the squared
gradient in float32, where g * g overflows (|g| beyond 1.8e19) though the average fits."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from functional_nn import Optimizer, adam, adamw, rmsprop
from functional_nn.types import FloatArray


def _params() -> dict[str, FloatArray]:
    return {"W1": np.ones((1, 2), dtype=np.float32), "b1": np.zeros((1, 1), dtype=np.float32)}


@pytest.mark.parametrize("kernel", ["numpy", "numba"])
@pytest.mark.parametrize("make", [adam, adamw, rmsprop])
def test_a_float32_gradient_whose_square_overflows_still_steps_and_never_makes_nan(make: Callable[..., Optimizer], kernel: str) -> None:
    # g^2 = 9e38 overflows float32 but (1 - beta2) g^2 fits (beta2 0.999, rho 0.9), as PyTorch's
    # Adam keeps it: the first step is float64's (Adam: W1 moves by the learning rate), and the
    # ordinary steps after it stay finite (they made inf - inf = NaN).
    optimizer = make(1e-3, kernel=kernel)
    params = _params()
    state = optimizer.init(params)
    huge = {"dW1": np.array([[3e19, -3e19]], dtype=np.float32), "db1": np.array([[3e19]], dtype=np.float32)}
    params, state = optimizer.update(huge, state, params)
    reference = make(1e-3, kernel=kernel)
    params64 = {key: value.astype(np.float64) for key, value in _params().items()}
    expected, _ = reference.update({key: value.astype(np.float64) for key, value in huge.items()}, reference.init(params64), params64)
    for key in params:
        assert params[key].dtype == np.float32
        np.testing.assert_allclose(params[key], expected[key], rtol=1e-6)
    assert all(np.isfinite(slot).all() for slots in state.slots.values() for slot in slots.values())
    ordinary = {"dW1": np.ones((1, 2), dtype=np.float32), "db1": np.ones((1, 1), dtype=np.float32)}
    for _ in range(3):
        params, state = optimizer.update(ordinary, state, params)
    assert all(np.isfinite(value).all() for value in params.values())
