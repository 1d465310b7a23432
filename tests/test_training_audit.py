"""Defects an audit of the training step found: the fused softmax of a batch of one sample,
and settings that a float dtype turns into zeros or infinities."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from functional_nn import (
    adam,
    adamw,
    apply_max_norm,
    ema,
    forward_propagation,
    fused,
    initialize_parameters,
    one_hot,
    rmsprop,
    train,
)
from functional_nn.optimizers import Optimizer
from functional_nn.types import FloatArray


def test_the_fused_softmax_sums_a_single_column_pairwise_as_numpy_does() -> None:
    # NumPy sums one column (a contiguous run) in eight partial sums, not row after row:
    # with 1 and eight halves of an ulp of 1, ((1 + h) + (h + h)) + ((h + h) + (h + h)) is
    # 1 + 3 ulp, exact, and + h rounds to the even 1 + 4 ulp; row after row stays at 1.
    h = 2.0**-53
    E = np.array([[1.0]] + [[h]] * 8)
    expected = E / E.sum(axis=0, keepdims=True)
    assert expected[0, 0] == 1 / (1 + 2.0**-50)
    fused.kernel("softmax_normalise")(E)
    assert E.tobytes() == expected.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("classes", [10, 200])  # 200: NumPy's pairwise sum halves runs beyond 128
def test_a_batch_of_one_sample_gets_numpys_softmax_bit_for_bit(dtype: type[np.floating], classes: int, rng: np.random.Generator) -> None:
    params = initialize_parameters((4, 6, classes), rng, dtype=dtype)
    params = {key: (value * dtype(8)).astype(dtype) for key, value in params.items()}  # spread-out logits
    for _ in range(30):
        X = rng.standard_normal((4, 1)).astype(dtype)
        AL_numpy, _ = forward_propagation(X, params, ("relu", "softmax"), kernel="numpy")
        AL_numba, _ = forward_propagation(X, params, ("relu", "softmax"), kernel="numba")
        assert AL_numba.tobytes() == AL_numpy.tobytes()


def test_a_last_batch_of_one_trains_bitwise_alike_with_either_kernel(rng: np.random.Generator) -> None:
    X = rng.standard_normal((5, 21))
    Y = one_hot(rng.integers(0, 10, 21), 10)
    params = initialize_parameters((5, 8, 10), rng)
    results = [
        train(
            X, Y, params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=3,
            learning_rate=0.5, batch_size=10, rng=np.random.default_rng(1), kernel=kernel,
        )  # fmt: skip
        for kernel in fused.KERNELS
    ]
    for key in params:
        assert results[0].params[key].tobytes() == results[1].params[key].tobytes(), key


def small_problem(rng: np.random.Generator, X: np.ndarray, dtype: type[np.floating] = np.float32) -> dict[str, object]:
    params = initialize_parameters((X.shape[0], 3, 2), rng, dtype=dtype)
    Y = one_hot(rng.integers(0, 2, int(X.shape[1])), 2, dtype=dtype)
    return dict(X=X, Y=Y, params=params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=1, learning_rate=0.1)


@pytest.mark.parametrize("batch_size", [None, 2])
@pytest.mark.parametrize(
    ("divisor", "match"),
    [
        (1e39, r"input_divisor must lie within float32's normal range \(1\.175e-38 to 3\.403e\+38\), got 1e\+39, which is inf in float32"),
        (1e-46, r"input_divisor must lie within float32's normal range .*, got 1e-46, which is 0 in float32"),
        (1e-37, r"input_divisor 1e-37 divides X's largest magnitude 255 beyond float32's range \(3\.403e\+38\)"),
    ],
)
def test_an_input_divisor_that_float32_cannot_divide_by_is_refused(
    divisor: float, match: str, batch_size: int | None, rng: np.random.Generator
) -> None:
    # float32(1e39) is inf: every batch was zeros and W1 never moved; 1e-46 is 0: infinities
    X = np.full((3, 4), 255, dtype=np.uint8)
    with pytest.raises(ValueError, match=match):
        train(**small_problem(rng, X), input_divisor=divisor, batch_size=batch_size, rng=rng)  # type: ignore[arg-type]


def test_an_input_divisor_is_checked_against_the_values_only_where_the_integer_type_could_overflow(rng: np.random.Generator) -> None:
    big = np.array([[0, 2**62, 1], [1, 2, 3]], dtype=np.int64)
    with pytest.raises(ValueError, match=r"largest magnitude 4611686018427387904 beyond float32's range"):
        train(**small_problem(rng, big), input_divisor=1e-20)  # type: ignore[arg-type]
    small = np.array([[0, 2, 1], [1, 2, 3]], dtype=np.int64)  # int64 could overflow, these values do not
    result = train(**{**small_problem(rng, small), "learning_rate": 1e-42}, input_divisor=1e-20)  # type: ignore[arg-type]
    assert result.epoch == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda eps: adam(1e-3, epsilon=eps),
        lambda eps: adamw(1e-3, epsilon=eps),
        lambda eps: rmsprop(1e-3, epsilon=eps),
        lambda eps: ema(adam(1e-3, epsilon=eps)),
    ],
)
@pytest.mark.parametrize(("dtype", "epsilon", "tiny"), [(np.float32, 1e-40, "1.175e-38"), (np.float64, 1e-310, "2.225e-308")])
def test_an_epsilon_below_the_dtypes_normal_numbers_is_refused_by_init(
    make: Callable[[float], Optimizer], dtype: type[np.floating], epsilon: float, tiny: str, rng: np.random.Generator
) -> None:
    # adam(epsilon=1e-40) on float32: Numba's flushed kernel read epsilon as 0 and a zero
    # gradient stepped by 0/0, NaN, where NumPy's stepped by 0
    optimizer = make(epsilon)
    params = initialize_parameters((2, 2), rng, dtype=dtype)
    with pytest.raises(ValueError, match=rf"epsilon must be at least {dtype.__name__}'s smallest normal number {tiny} for {dtype.__name__} params, got {epsilon:g}"):
        optimizer.init(params)
    assert make(1e-38 if dtype == np.float64 else 2e-38).init(params).step == 0


def test_a_max_norm_that_the_dtype_rounds_to_zero_is_refused(rng: np.random.Generator) -> None:
    # float32(1e-50) is 0: an all-zero row's scale was 0 / 0, a row of NaN
    params: dict[str, FloatArray] = {"W1": np.array([[0, 0], [1, 2]], np.float32), "b1": np.zeros((2, 1), np.float32)}
    message = r"max_norm must be a number > 0 in the params' dtype, got 1e-50, which float32 rounds to 0"
    with pytest.raises(ValueError, match=message):
        apply_max_norm(params, 1e-50)
    with pytest.raises(ValueError, match=message):
        train(**small_problem(rng, np.ones((2, 3), np.float32)), max_norm=1e-50)  # type: ignore[arg-type]
    np.testing.assert_array_equal(apply_max_norm({k: v.astype(np.float64) for k, v in params.items()}, 1e-50)["W1"][0], [0, 0])
