"""The toy data sets: shapes, dtypes, labels, geometry, the documented draw order, bad input."""

from __future__ import annotations

import math
from typing import get_args

import numpy as np
import pytest

from functional_nn.data.toy import (
    TOY_DATASETS,
    ToyName,
    blob_centers,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
)


@pytest.mark.parametrize("name", get_args(ToyName))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_maker_returns_columns_labels_and_dtype(name: ToyName, dtype: type[np.float32] | type[np.float64]) -> None:
    X, y = TOY_DATASETS[name](101, np.random.default_rng(3), noise=0.1, dtype=dtype)
    assert X.shape == (2, 101)
    assert X.dtype == dtype
    assert y.shape == (101,)
    assert y.dtype == np.int64
    assert np.isfinite(X).all()
    assert set(np.unique(y).tolist()) == {0, 1}


def test_registry_names_match_the_literal() -> None:
    assert set(TOY_DATASETS) == set(get_args(ToyName))


@pytest.mark.parametrize("name", get_args(ToyName))
def test_same_seed_same_data_and_float32_is_float64_rounded(name: ToyName) -> None:
    X64, y64 = TOY_DATASETS[name](50, np.random.default_rng(7), noise=0.2)
    X64b, y64b = TOY_DATASETS[name](50, np.random.default_rng(7), noise=0.2)
    X32, y32 = TOY_DATASETS[name](50, np.random.default_rng(7), noise=0.2, dtype=np.float32)
    np.testing.assert_array_equal(X64, X64b)
    np.testing.assert_array_equal(y64, y64b)
    np.testing.assert_array_equal(X32, X64.astype(np.float32))
    np.testing.assert_array_equal(y32, y64)


def test_moons_without_noise_lie_on_the_two_half_circles() -> None:
    X, y = make_moons(11, np.random.default_rng(0), noise=0.0)
    assert np.count_nonzero(y == 0) == 6 and np.count_nonzero(y == 1) == 5  # class 0 gets the odd one
    upper, lower = X[:, y == 0], X[:, y == 1]
    np.testing.assert_allclose(upper[0] ** 2 + upper[1] ** 2, 1.0)
    assert (upper[1] >= -1e-12).all()
    np.testing.assert_allclose((lower[0] - 1) ** 2 + (lower[1] - 0.5) ** 2, 1.0)
    assert (lower[1] <= 0.5 + 1e-12).all()
    # the sorted clean points come back as a permutation: both ends of the upper moon are there
    assert np.isclose(upper[0], 1.0).any() and np.isclose(upper[0], -1.0).any()


def test_circles_radii_and_factor() -> None:
    X, y = make_circles(40, np.random.default_rng(0), noise=0.0, factor=0.3)
    radius = np.hypot(X[0], X[1])
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.3)
    assert np.count_nonzero(y == 0) == np.count_nonzero(y == 1) == 20


def test_xor_labels_are_the_sign_rule_without_noise() -> None:
    X, y = make_xor(200, np.random.default_rng(1), noise=0.0)
    np.testing.assert_array_equal(y, (X[0] * X[1] < 0).astype(np.int64))
    assert (np.abs(X) <= 1).all()


def test_spirals_radius_and_classes() -> None:
    X, y = make_spirals(30, np.random.default_rng(0), noise=0.0, n_classes=3)
    assert X.shape == (2, 30)
    assert [int(np.count_nonzero(y == c)) for c in range(3)] == [10, 10, 10]
    radius = np.hypot(X[0], X[1])
    assert radius.max() == pytest.approx(1.0) and radius.min() == pytest.approx(0.0)


def test_blobs_with_given_centres_and_features() -> None:
    centres = np.array([[0.0, 10.0], [0.0, -10.0], [5.0, 5.0]])  # 3 features, 2 blobs
    X, y = make_blobs(400, np.random.default_rng(0), centers=centres, noise=0.5)
    assert X.shape == (3, 400)
    for c in range(2):
        np.testing.assert_allclose(X[:, y == c].mean(axis=1), centres[:, c], atol=0.15)
        np.testing.assert_allclose(X[:, y == c].std(axis=1), 0.5, atol=0.08)


def test_blobs_draw_centres_first_in_the_box() -> None:
    X, y = make_blobs(9, np.random.default_rng(5), centers=3, n_features=4, noise=0.0, center_box=(-2.0, 2.0))
    assert X.shape == (4, 9)
    expected_centres = np.random.default_rng(5).uniform(-2.0, 2.0, (4, 3))
    for c in range(3):
        np.testing.assert_array_equal(X[:, y == c], np.repeat(expected_centres[:, [c]], 3, axis=1))


@pytest.mark.parametrize(
    ("k", "n_features", "center_box", "dtype"), [(2, 2, (-5.0, 5.0), np.float64), (3, 4, (-2.0, 7.0), np.float32)]
)
def test_blob_centers_are_the_draw_make_blobs_makes(
    k: int, n_features: int, center_box: tuple[float, float], dtype: type[np.float32] | type[np.float64]
) -> None:
    """Drawn on their own, the centres give the same data set, and the generator ends where it would."""
    alone, apart = np.random.default_rng(4), np.random.default_rng(4)
    expected = make_blobs(50, alone, centers=k, n_features=n_features, center_box=center_box, dtype=dtype)
    centres = blob_centers(apart, centers=k, n_features=n_features, center_box=center_box)
    assert centres.shape == (n_features, k) and centres.dtype == np.float64
    X, y = make_blobs(50, apart, centers=centres, dtype=dtype)
    np.testing.assert_array_equal(X, expected.X)
    np.testing.assert_array_equal(y, expected.y)
    assert alone.random() == apart.random()


def test_blob_centers_give_a_held_out_set_of_the_same_blobs() -> None:
    """A second call with the same centres samples the same blobs: the class means agree."""
    rng = np.random.default_rng(0)
    centres = blob_centers(rng)
    train, held_out = make_blobs(400, rng, centers=centres), make_blobs(400, rng, centers=centres)
    for c in range(2):  # noise 1: each class mean within about 0.05 of its centre
        np.testing.assert_allclose(train.X[:, train.y == c].mean(axis=1), held_out.X[:, held_out.y == c].mean(axis=1), atol=0.3)
    with pytest.raises(ValueError, match="centers must be >= 1"):
        blob_centers(rng, centers=0)
    with pytest.raises(TypeError, match=r"^rng must be a numpy\.random\.Generator such as np\.random\.default_rng\(seed\), got int 0: to draw from seed 0, pass np\.random\.default_rng\(0\)$"):
        blob_centers(0)  # type: ignore[arg-type]  # a seed is not a generator: refused
    with pytest.raises(ValueError, match="center_box"):
        blob_centers(rng, center_box=(1.0, -1.0))


def test_draw_order_noise_then_permutation() -> None:
    """The documented contract, replayed by hand for the moons."""
    m = 8
    rng = np.random.default_rng(11)
    noise = 0.3 * rng.standard_normal((2, m))
    order = rng.permutation(m)
    t = np.linspace(0.0, math.pi, 4)
    clean = np.concatenate([np.stack([np.cos(t), np.sin(t)]), np.stack([1 - np.cos(t), 0.5 - np.sin(t)])], axis=1)
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    X, y = make_moons(m, np.random.default_rng(11), noise=0.3)
    np.testing.assert_array_equal(X, (clean + noise)[:, order])
    np.testing.assert_array_equal(y, labels[order])


def test_noise_draw_is_made_even_without_noise() -> None:
    rng_a, rng_b = np.random.default_rng(2), np.random.default_rng(2)
    make_circles(10, rng_a, noise=0.0)
    make_circles(10, rng_b, noise=0.5)
    assert rng_a.random() == rng_b.random()


def test_bad_arguments_are_named() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n_samples"):
        make_moons(0, rng)
    with pytest.raises(ValueError, match="n_samples must be >= 3"):
        make_spirals(2, rng, n_classes=3)
    with pytest.raises(TypeError, match="n_samples"):
        make_moons(10.5, rng)  # type: ignore[arg-type]  # the check under test refuses a float
    with pytest.raises(TypeError, match=r"^rng must be a numpy\.random\.Generator such as np\.random\.default_rng\(seed\), got int 0: to draw from seed 0, pass np\.random\.default_rng\(0\)$"):
        make_xor(10, 0)  # type: ignore[arg-type]  # a seed is not a generator: refused
    with pytest.raises(ValueError, match="noise"):
        make_moons(10, rng, noise=-0.1)
    with pytest.raises(ValueError, match="noise"):
        make_circles(10, rng, noise=float("nan"))
    with pytest.raises(TypeError, match="dtype"):
        make_moons(10, rng, dtype=np.int64)  # type: ignore[arg-type]  # only float dtypes are allowed
    with pytest.raises(ValueError, match="factor"):
        make_circles(10, rng, factor=1.0)
    with pytest.raises(ValueError, match="n_classes"):
        make_spirals(10, rng, n_classes=1)
    with pytest.raises(ValueError, match="centers must have shape"):
        make_blobs(10, rng, centers=[1.0, 2.0])  # type: ignore[list-item]  # a flat list is refused
    with pytest.raises(ValueError, match="center_box"):
        make_blobs(10, rng, center_box=(1.0, -1.0))


@pytest.mark.parametrize(
    ("center_box", "message"),
    [
        (("a", 1), r"center_box\[0\] must be a number, got str 'a'"),
        ((None, 1), r"center_box\[0\] must be a number, got NoneType None"),
        ((-1.0, True), r"center_box\[1\] must be a number, got bool True"),
    ],
)
def test_a_center_box_of_non_numbers_is_named(center_box: tuple[object, object], message: str) -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match=message):
        make_blobs(10, rng, center_box=center_box)  # type: ignore[arg-type]  # the check under test
    numpy_numbers = (np.int64(-1), np.float32(1.0))  # numbers too: accepted
    assert make_blobs(4, rng, centers=2, center_box=numpy_numbers, noise=0.0).X.shape == (2, 4)  # type: ignore[arg-type]


def test_the_generator_is_only_advanced_not_replaced() -> None:
    rng = np.random.default_rng(0)
    first = make_moons(20, rng)
    second = make_moons(20, rng)
    assert not np.array_equal(first.X, second.X)


def test_small_sets_by_hand_counts_and_noise_is_the_documented_draw() -> None:
    moons = make_moons(5, np.random.default_rng(0), noise=0.0)
    # class 0 (3 points): (cos t, sin t) at t = 0, pi/2, pi; class 1 (2 points): (1 - cos t, 1/2 - sin t) at t = 0, pi
    points = {(round(float(x), 12), round(float(y), 12), int(c)) for x, y, c in zip(moons.X[0], moons.X[1], moons.y)}
    assert points == {(1.0, 0.0, 0), (0.0, 1.0, 0), (-1.0, 0.0, 0), (0.0, 0.5, 1), (2.0, 0.5, 1)}
    spirals = make_spirals(9, np.random.default_rng(0), noise=0.0, n_classes=3)
    assert np.bincount(spirals.y).tolist() == [3, 3, 3]
    arm_1 = spirals.X[:, spirals.y == 1]  # radius t in (0, 1/2, 1) at angle 2 pi (1/3 + t)
    radius_1 = np.hypot(arm_1[0], arm_1[1])
    np.testing.assert_allclose(np.sort(radius_1), [0.0, 0.5, 1.0], atol=1e-12)
    outer = arm_1[:, np.argmax(radius_1)]
    np.testing.assert_allclose(outer, [math.cos(2 * math.pi * 4 / 3), math.sin(2 * math.pi * 4 / 3)], atol=1e-12)
    assert np.bincount(make_blobs(7, np.random.default_rng(0), centers=3).y).tolist() == [3, 2, 2]
    # noise: the clean points plus noise * one standard_normal draw, then the permutation draw
    noisy = make_moons(6, np.random.default_rng(5), noise=0.3, dtype=np.float32)
    clean = make_moons(6, np.random.default_rng(5), noise=0.0)
    order = np.random.default_rng(5)
    normal = order.standard_normal((2, 6))
    permutation = order.permutation(6)
    np.testing.assert_array_equal(noisy.X, (clean.X + 0.3 * normal[:, permutation]).astype(np.float32))
    assert noisy.X.dtype == np.float32 and noisy.y.dtype == np.int64
