"""Initial parameters: shapes, dtypes, the documented order of draws, and each scheme's scale."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pytest

from functional_nn import initialize_parameters
from functional_nn.types import FloatDType, InitScheme


@pytest.mark.parametrize("scheme", get_args(InitScheme))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shapes_and_dtypes(scheme: InitScheme, dtype: FloatDType, rng: np.random.Generator) -> None:
    params = initialize_parameters([4, 3, 2], rng, scheme=scheme, dtype=dtype)
    assert list(params) == ["W1", "b1", "W2", "b2"]
    assert {k: v.shape for k, v in params.items()} == {"W1": (3, 4), "b1": (3, 1), "W2": (2, 3), "b2": (2, 1)}
    assert all(v.dtype == dtype for v in params.values())


def test_standard_normal_draws_W_then_b_layer_by_layer() -> None:
    params = initialize_parameters([2, 3, 1], np.random.default_rng(7), scheme="standard_normal")
    rng = np.random.default_rng(7)
    expected = [rng.standard_normal((3, 2)), rng.standard_normal((3, 1)), rng.standard_normal((1, 3)), rng.standard_normal((1, 1))]
    for value, key in zip(expected, ["W1", "b1", "W2", "b2"]):
        np.testing.assert_array_equal(params[key], value)


def test_uniform_is_the_mnist_tutorials_draw() -> None:
    params = initialize_parameters([784, 10, 10], np.random.default_rng(3), scheme="uniform")
    rng = np.random.default_rng(3)
    W1 = rng.random((10, 784)) - 0.5
    b1 = rng.random((10, 1)) - 0.5
    W2 = rng.random((10, 10)) - 0.5
    b2 = rng.random((10, 1)) - 0.5
    for key, value in {"W1": W1, "b1": b1, "W2": W2, "b2": b2}.items():
        np.testing.assert_array_equal(params[key], value)


def test_float32_is_the_float64_draw_rounded() -> None:
    p64 = initialize_parameters([5, 4, 3], np.random.default_rng(1))
    p32 = initialize_parameters([5, 4, 3], np.random.default_rng(1), dtype=np.float32)
    for key in p64:
        np.testing.assert_array_equal(p32[key], p64[key].astype(np.float32))


@pytest.mark.parametrize(
    ("scheme", "expected_std"),
    [("he", np.sqrt(2 / 400)), ("xavier", np.sqrt(2 / (400 + 300))), ("scaled_normal", 0.01), ("standard_normal", 1.0)],
)
def test_scales_and_zero_biases(scheme: InitScheme, expected_std: float, rng: np.random.Generator) -> None:
    params = initialize_parameters([400, 300], rng, scheme=scheme)
    assert params["W1"].std() == pytest.approx(expected_std, rel=0.02)
    if scheme != "standard_normal":
        np.testing.assert_array_equal(params["b1"], 0)


def test_refusals(rng: np.random.Generator) -> None:
    with pytest.raises(ValueError, match=r"layer_sizes\[1\] must be >= 1, got 0"):
        initialize_parameters([3, 0, 1], rng)
    with pytest.raises(ValueError, match="at least the input size"):
        initialize_parameters([3], rng)
    with pytest.raises(ValueError, match="did you mean 'xavier'"):
        initialize_parameters([3, 1], rng, scheme="xavir")  # type: ignore[arg-type]  # the typo is the test
    with pytest.raises(TypeError, match=r"^rng must be a numpy\.random\.Generator such as np\.random\.default_rng\(seed\), got int 0: to draw from seed 0, pass np\.random\.default_rng\(0\)$"):
        initialize_parameters([3, 1], 0)  # type: ignore[arg-type]  # a seed is not a generator
    with pytest.raises(TypeError, match="float32 or numpy.float64"):
        initialize_parameters([3, 1], rng, dtype=np.int64)  # type: ignore[arg-type]  # ints are refused
