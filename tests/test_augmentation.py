"""Augmentation: pure functions of (images, rng) in the column layout."""

from __future__ import annotations

import functools
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from functional_nn.data.augmentation import (
    Augmentation,
    compose,
    describe,
    elastic_distortion,
    random_affine,
    random_shift,
)
from functional_nn.types import FloatArray

SHAPE = (7, 9)  # not square, so that a swapped height and width shows

AUGMENTATIONS: dict[str, Augmentation] = {
    "shift": functools.partial(random_shift, image_shape=SHAPE, max_shift=2),
    "affine": functools.partial(random_affine, image_shape=SHAPE),
    "elastic": functools.partial(elastic_distortion, image_shape=SHAPE, alpha=8.0, sigma=1.5),
}


def images(m: int = 5, dtype: type[np.floating[Any]] = np.float32, shape: tuple[int, int] = SHAPE) -> FloatArray:
    """A frozen batch in the loaders' layout: (h * w, m), Fortran order."""
    X = np.asfortranarray(np.random.default_rng(42).random((shape[0] * shape[1], m)).astype(dtype))
    X.flags.writeable = False
    return X


def zero_filled_shift(image: FloatArray, dy: int, dx: int) -> FloatArray:
    """The image moved down by dy and right by dx with zeros moved in, by np.roll and masking."""
    moved = np.roll(image, (dy, dx), axis=(0, 1))
    h, w = image.shape
    rows, cols = np.arange(h), np.arange(w)
    outside = ((rows - dy < 0) | (rows - dy >= h))[:, None] | ((cols - dx < 0) | (cols - dx >= w))[None, :]
    return np.where(outside, 0, moved).astype(image.dtype)


def test_a_shift_equals_the_rolled_zero_filled_image() -> None:
    X = images(m=40)
    shifted = random_shift(X, np.random.default_rng(3), image_shape=SHAPE, max_shift=2)
    # the documented draw, replayed
    shifts = np.random.default_rng(3).integers(-2, 3, size=(40, 2))
    assert {int(d) for d in shifts.ravel()} == {-2, -1, 0, 1, 2}  # every shift is exercised
    for i in range(40):
        expected = zero_filled_shift(X[:, i].reshape(SHAPE), int(shifts[i, 0]), int(shifts[i, 1]))
        np.testing.assert_array_equal(shifted[:, i].reshape(SHAPE), expected)


def test_a_shift_by_hand() -> None:
    X = np.arange(1, 7, dtype=np.float64).reshape(6, 1)  # one 2x3 image [[1, 2, 3], [4, 5, 6]]
    rng = np.random.default_rng(0)
    dy, dx = np.random.default_rng(0).integers(-1, 2, size=(1, 2))[0]
    out = random_shift(X, rng, image_shape=(2, 3), max_shift=1).reshape(2, 3)
    grid = np.array([[1.0, 2, 3], [4, 5, 6]])
    for r in range(2):
        for c in range(3):
            source = (r - dy, c - dx)
            inside = 0 <= source[0] < 2 and 0 <= source[1] < 3
            assert out[r, c] == (grid[source] if inside else 0.0)


def test_max_shift_zero_is_the_identity() -> None:
    X = images()
    np.testing.assert_array_equal(random_shift(X, np.random.default_rng(0), image_shape=SHAPE, max_shift=0), X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_identity_affine_returns_the_input(dtype: type[np.floating[Any]]) -> None:
    X = images(dtype=dtype)
    out = random_affine(X, np.random.default_rng(0), image_shape=SHAPE, rotation=0, scale=(1, 1), shear=0, translation=0)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_alpha_zero_returns_the_input(dtype: type[np.floating[Any]]) -> None:
    X = images(dtype=dtype)
    out = elastic_distortion(X, np.random.default_rng(0), image_shape=SHAPE, alpha=0.0, sigma=2.0)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, X)


@pytest.mark.parametrize("shape", [(8, 8), (9, 9)])
def test_a_rotation_by_90_degrees_matches_rot90(shape: tuple[int, int]) -> None:
    X = images(m=3, dtype=np.float64, shape=shape)
    for degrees, k in ((90.0, 1), (-90.0, -1), (180.0, 2)):
        out = random_affine(
            X, np.random.default_rng(0), image_shape=shape, rotation=(degrees, degrees), scale=(1, 1), shear=0, translation=0
        )
        for i in range(3):
            np.testing.assert_allclose(out[:, i].reshape(shape), np.rot90(X[:, i].reshape(shape), k), atol=1e-12)


def test_a_whole_pixel_translation_matches_the_shift() -> None:
    X = images(dtype=np.float64)
    moved = random_affine(X, np.random.default_rng(0), image_shape=SHAPE, rotation=0, scale=(1, 1), shear=0, translation=(2, 2))
    for i in range(X.shape[1]):
        np.testing.assert_allclose(moved[:, i].reshape(SHAPE), zero_filled_shift(X[:, i].reshape(SHAPE), 2, 2), atol=1e-12)


def test_a_fractional_translation_is_bilinear_interpolation_by_hand() -> None:
    X = images(m=2, dtype=np.float64)
    u = np.random.default_rng(5).random((2, 5))
    t = -1 + 2 * u[:, 3:5]  # the documented mapping of the fourth and fifth draws onto [-1, 1]
    out = random_affine(X, np.random.default_rng(5), image_shape=SHAPE, rotation=0, scale=(1, 1), shear=0, translation=1)
    for i in range(2):
        image = np.pad(X[:, i].reshape(SHAPE), 2)
        h, w = SHAPE
        expected = np.zeros(SHAPE)
        for r in range(h):
            for c in range(w):
                y, x = r - t[i, 0] + 2, c - t[i, 1] + 2
                y0, x0 = int(np.floor(y)), int(np.floor(x))
                fy, fx = y - y0, x - x0
                expected[r, c] = (
                    (1 - fy) * ((1 - fx) * image[y0, x0] + fx * image[y0, x0 + 1])
                    + fy * ((1 - fx) * image[y0 + 1, x0] + fx * image[y0 + 1, x0 + 1])
                )  # fmt: skip
        np.testing.assert_allclose(out[:, i].reshape(SHAPE), expected, atol=1e-12)


def test_elastic_displacements_are_the_smoothed_scaled_field() -> None:
    # A linear ramp image read at (r + dy, c + dx) gives back its gradient times the
    # displacement wherever the displaced point stays inside: check that against a
    # displacement field computed here with a direct (non-matrix) Gaussian filter.
    h, w, alpha, sigma = 12, 10, 1.5, 1.0
    ramp = np.add.outer(np.arange(h) * 10.0, np.arange(w) * 1.0)  # value = 10 r + c
    X = ramp.reshape(-1, 1)
    out = elastic_distortion(X, np.random.default_rng(7), image_shape=(h, w), alpha=alpha, sigma=sigma).reshape(h, w)
    field = np.random.default_rng(7).random((2, 1, h, w)) * 2 - 1
    radius = int(4 * sigma + 0.5)
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()

    def smooth(u: FloatArray) -> FloatArray:
        padded = np.pad(u, radius)
        rows = np.array([[kernel @ padded[r + radius, c : c + 2 * radius + 1] for c in range(w)] for r in range(h)])
        padded = np.pad(rows, radius)
        return np.array([[kernel @ padded[r : r + 2 * radius + 1, c + radius] for c in range(w)] for r in range(h)])

    dy, dx = alpha * smooth(field[0, 0]), alpha * smooth(field[1, 0])
    y, x = np.arange(h)[:, None] + dy, np.arange(w)[None, :] + dx
    inside = (y >= 0) & (y <= h - 1) & (x >= 0) & (x <= w - 1)
    assert inside.mean() > 0.5 and np.abs(dy).max() > 0.05
    np.testing.assert_allclose(out[inside], (10 * y + x)[inside], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", sorted(AUGMENTATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shape_dtype_purity_and_the_same_generator_gives_the_same_output(name: str, dtype: type[np.floating[Any]]) -> None:
    augment = AUGMENTATIONS[name]
    X = images(m=6, dtype=dtype)
    before = X.copy()
    first = augment(X, np.random.default_rng(11))
    second = augment(X, np.random.default_rng(11))
    assert first.shape == X.shape and first.dtype == dtype
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(X, before)
    assert not np.array_equal(first, X)  # it did distort
    assert not np.array_equal(augment(X, np.random.default_rng(12)), first)
    assert np.isfinite(first).all() and first.min() >= 0 and first.max() <= X.max() + 1e-6  # interpolation stays in range
    # a C-ordered input gives the same result as the Fortran-ordered one
    np.testing.assert_array_equal(augment(np.ascontiguousarray(X), np.random.default_rng(11)), first)
    # each image gets its own draw: two equal images come out different
    twins = np.asfortranarray(np.repeat(X[:, :1], 2, axis=1))
    out = augment(twins, np.random.default_rng(1))
    assert not np.array_equal(out[:, 0], out[:, 1])


@pytest.mark.parametrize("name", sorted(AUGMENTATIONS))
def test_the_draws_are_the_documented_ones(name: str) -> None:
    X = images(m=4)
    rng = np.random.default_rng(2)
    AUGMENTATIONS[name](X, rng)
    replay = np.random.default_rng(2)
    if name == "shift":
        replay.integers(-2, 3, size=(4, 2))
    elif name == "affine":
        replay.random((4, 5))
    else:
        replay.random((2, 4, *SHAPE), dtype=np.float32)
    assert rng.bit_generator.state == replay.bit_generator.state


def test_compose_applies_in_order_drawing_from_one_generator() -> None:
    X = images()
    both = compose(AUGMENTATIONS["shift"], AUGMENTATIONS["elastic"])
    rng = np.random.default_rng(4)
    expected = AUGMENTATIONS["elastic"](AUGMENTATIONS["shift"](X, rng), rng)
    np.testing.assert_array_equal(both(X, np.random.default_rng(4)), expected)
    np.testing.assert_array_equal(compose()(X, np.random.default_rng(4)), X)
    again = pickle.loads(pickle.dumps(both))
    np.testing.assert_array_equal(again(X, np.random.default_rng(4)), expected)
    with pytest.raises(TypeError, match=r"augmentations\[1\]"):
        compose(AUGMENTATIONS["shift"], "elastic")  # type: ignore[arg-type]


def test_describe_names_the_function_and_its_arguments() -> None:
    assert describe(AUGMENTATIONS["shift"]) == "random_shift(image_shape=(7, 9), max_shift=2)"
    affine = functools.partial(random_affine, image_shape=SHAPE)
    both = compose(AUGMENTATIONS["shift"], functools.partial(affine, rotation=5.0))  # a partial of a partial
    assert describe(both) == (
        "_composed(augmentations=(random_shift(image_shape=(7, 9), max_shift=2), "
        "random_affine(image_shape=(7, 9), rotation=5.0)))"
    )


BAD: list[tuple[Callable[[], object], type[Exception], str]] = [
    (lambda: random_shift(images(), np.random.default_rng(0), image_shape=(8, 9)), ValueError, "X has 63 rows but image_shape 8x9"),
    (lambda: random_shift(images(), np.random.default_rng(0), image_shape=(7,)), TypeError, "image_shape must be"),  # type: ignore[arg-type]
    (lambda: random_shift(images(), np.random.default_rng(0), image_shape=SHAPE, max_shift=-1), ValueError, "max_shift must be >= 0"),
    (lambda: random_shift(images(), np.random.default_rng(0), image_shape=SHAPE, max_shift=7), ValueError, "smaller than the image"),
    (lambda: random_shift(images(), np.random.default_rng(0), image_shape=SHAPE, max_shift=1.5), TypeError, "max_shift must be an integer"),  # type: ignore[arg-type]
    (lambda: random_shift(images(), 0, image_shape=SHAPE), TypeError, r"^rng must be a numpy\.random\.Generator such as np\.random\.default_rng\(seed\), got int 0: to draw from seed 0, pass np\.random\.default_rng\(0\)$"),  # type: ignore[arg-type]
    (lambda: random_shift(images().astype(np.int64), np.random.default_rng(0), image_shape=SHAPE), TypeError, "float32 or float64"),
    (lambda: random_shift(images()[:, 0], np.random.default_rng(0), image_shape=SHAPE), ValueError, "must be 2-D"),
    (lambda: random_affine(images(), np.random.default_rng(0), image_shape=SHAPE, scale=(0, 1)), ValueError, "scale must be"),
    (lambda: random_affine(images(), np.random.default_rng(0), image_shape=SHAPE, scale=1.1), TypeError, "scale must be a pair"),  # type: ignore[arg-type]
    (lambda: random_affine(images(), np.random.default_rng(0), image_shape=SHAPE, rotation=(5, -5)), ValueError, "low <= high"),
    (lambda: random_affine(images(), np.random.default_rng(0), image_shape=SHAPE, rotation=-5), ValueError, "rotation must be a finite number >= 0"),
    (lambda: random_affine(images(), np.random.default_rng(0), image_shape=SHAPE, shear=90), ValueError, r"shear must lie within \(-90, 90\)"),
    (lambda: random_affine(images(), np.random.default_rng(0), image_shape=SHAPE, translation=(0, float("nan"))), ValueError, "translation\\[1\\] must be finite"),
    (lambda: elastic_distortion(images(), np.random.default_rng(0), image_shape=SHAPE, alpha=-1), ValueError, "alpha must be a finite number >= 0"),
    (lambda: elastic_distortion(images(), np.random.default_rng(0), image_shape=SHAPE, sigma=0), ValueError, "sigma must be a finite number > 0"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "error", "message"), BAD)
def test_bad_arguments_are_refused_clearly(call: Callable[[], object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("name", list(AUGMENTATIONS))
def test_an_empty_batch_is_refused_by_name(name: str) -> None:
    with pytest.raises(ValueError, match=r"^X has no samples: shape \(63, 0\) has m = 0 columns$"):
        AUGMENTATIONS[name](images(0), np.random.default_rng(0))


@pytest.mark.parametrize(
    ("dtype", "scale", "bound"),
    # 2 (1 + tan 10 degrees) (7 + 9 + 2 * 2) / the dtype's largest number
    [(np.float64, 1e-310, "2.62e-307"), (np.float64, 1e-307, "2.62e-307"), (np.float32, 1e-300, "1.38e-37"), (np.float32, 1e-37, "1.38e-37")],
)
def test_a_scale_whose_inverse_overflows_is_refused_not_turned_into_nan(dtype: type[np.floating[Any]], scale: float, bound: str) -> None:
    with pytest.raises(ValueError, match=rf"scale \({scale}, 1.0\) is too small for {dtype.__name__} images of 7x9: .*scale must be >= {bound}"):
        random_affine(images(dtype=dtype), np.random.default_rng(0), image_shape=SHAPE, scale=(scale, 1.0))


@pytest.mark.parametrize(("dtype", "scale"), [(np.float64, 1e-300), (np.float32, 1e-35)])
def test_a_tiny_scale_that_fits_the_dtype_gives_finite_images(dtype: type[np.floating[Any]], scale: float) -> None:
    # the source coordinates lie far outside the image: every output pixel is 0, none NaN (warnings are errors here)
    out = random_affine(images(dtype=dtype), np.random.default_rng(0), image_shape=SHAPE, scale=(scale, scale), translation=0.5)
    assert out.dtype == dtype and np.isfinite(out).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 5)])
def test_the_elastic_fields_draws_are_rng_randoms_own(dtype: type[np.floating], shape: tuple[int, ...]) -> None:
    from functional_nn.data.augmentation import _uniform

    for offset in (0, 1):  # a generator with and without a half-used 32-bit buffer
        ours, theirs = np.random.default_rng(11), np.random.default_rng(11)
        if offset:
            ours.random(1, dtype=np.float32), theirs.random(1, dtype=np.float32)
        drawn = _uniform(ours, shape, np.dtype(dtype))
        assert drawn.dtype == dtype and np.array_equal(drawn, theirs.random(shape, dtype=dtype))
        assert ours.bit_generator.state == theirs.bit_generator.state  # left alike, the unused buffer too
