"""Augmentation values against an independent, pixel-by-pixel reference written here.

The reference applies the documented maths literally, one output pixel at a time, in float64:
the inverse affine map from ``np.linalg.inv``, a bilinear read with zeros outside, and a
Gaussian filter as a sum over the truncated kernel. The library's vectorised and compiled code
must agree with it, per image, with the parameters drawn exactly as the docstrings state.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from functional_nn import fused
from functional_nn.data.augmentation import elastic_distortion, random_affine, random_shift
from functional_nn.types import FloatArray


def read_bilinear(image: FloatArray, r: float, c: float) -> float:
    """``image`` at the real point ``(r, c)``, bilinearly, 0 outside."""
    h, w = image.shape

    def pixel(i: int, j: int) -> float:
        return float(image[i, j]) if 0 <= i < h and 0 <= j < w else 0.0

    i, j = math.floor(r), math.floor(c)
    fy, fx = r - i, c - j
    top = (1 - fx) * pixel(i, j) + fx * pixel(i, j + 1)
    bottom = (1 - fx) * pixel(i + 1, j) + fx * pixel(i + 1, j + 1)
    return (1 - fy) * top + fy * bottom


def affine_reference(image: FloatArray, theta: float, s: float, phi: float, t: tuple[float, float]) -> FloatArray:
    """The docstring's map p' = R(theta) H(phi) s (p - c) + c + t, inverted and read pixel by pixel."""
    h, w = image.shape
    th, ph = math.radians(theta), math.radians(phi)
    R = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
    H = np.array([[1.0, 0.0], [math.tan(ph), 1.0]])
    inverse = np.linalg.inv(R @ H * s)
    c = np.array([(h - 1) / 2, (w - 1) / 2])
    out = np.zeros((h, w))
    for i in range(h):
        for j in range(w):
            p = inverse @ (np.array([i, j]) - c - np.array(t)) + c
            out[i, j] = read_bilinear(image, float(p[0]), float(p[1]))
    return out


def gaussian_filter_reference(field: FloatArray, sigma: float) -> FloatArray:
    """The separable Gaussian filter, truncated at int(4 sigma + 0.5), zeros beyond the image."""
    radius = int(4 * sigma + 0.5)
    g = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    g /= g.sum()
    h, w = field.shape
    out = np.zeros((h, w))
    for r in range(h):
        for c in range(w):
            total = 0.0
            for a in range(-radius, radius + 1):
                for b in range(-radius, radius + 1):
                    if 0 <= r + a < h and 0 <= c + b < w:
                        total += g[a + radius] * g[b + radius] * field[r + a, c + b]
            out[r, c] = total
    return out


def batch(m: int, h: int, w: int, dtype: type[np.floating[Any]] = np.float64) -> tuple[FloatArray, FloatArray]:
    """Frozen images ``(m, h, w)`` and the same batch in the column layout ``(h * w, m)``."""
    pictures = np.random.default_rng(9).random((m, h, w)).astype(dtype)
    X = np.asfortranarray(pictures.reshape(m, -1).T)
    X.flags.writeable = False
    return pictures, X


def fixed_affine(X: FloatArray, shape: tuple[int, int], theta: float, s: float, phi: float, t: float) -> FloatArray:
    return random_affine(X, np.random.default_rng(0), image_shape=shape, rotation=(theta, theta), scale=(s, s),
                         shear=(phi, phi), translation=(t, t))  # fmt: skip


def test_hand_chosen_affine_maps() -> None:
    image = np.arange(12, dtype=np.float64).reshape(3, 4)  # asymmetric: every pixel differs
    X = image.reshape(-1, 1)
    # identity, and a whole-pixel move by (1, 1): row r reads row r - 1, column c column c - 1
    np.testing.assert_array_equal(fixed_affine(X, (3, 4), 0, 1, 0, 0)[:, 0].reshape(3, 4), image)
    moved = np.array([[0, 0, 0, 0], [0, 0, 1, 2], [0, 4, 5, 6]], dtype=np.float64)
    np.testing.assert_array_equal(fixed_affine(X, (3, 4), 0, 1, 0, 1)[:, 0].reshape(3, 4), moved)
    # scale 2 about the centre (1, 1.5) of a 3x4 image: output (r, c) reads ((r - 1) / 2 + 1, (c - 1.5) / 2 + 1.5)
    # row 0 reads row 0.5 = (row 0 + row 1) / 2 = [2, 3, 4, 5] + ..., at columns 0.75, 1.25, 1.75, 2.25
    scaled = fixed_affine(X, (3, 4), 0, 2, 0, 0)[:, 0].reshape(3, 4)
    expected_row_0 = np.array([2 + 0.75, 2 + 1.25, 2 + 1.75, 2 + 2.25])
    np.testing.assert_allclose(scaled[0], expected_row_0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(scaled[1], np.array([4.75, 5.25, 5.75, 6.25]), rtol=0, atol=1e-12)
    # a square asymmetric image turned by 90 degrees is np.rot90's
    square = np.arange(16, dtype=np.float64).reshape(4, 4) ** 1.5
    turned = fixed_affine(square.reshape(-1, 1), (4, 4), 90, 1, 0, 0)[:, 0].reshape(4, 4)
    np.testing.assert_allclose(turned, np.rot90(square), rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("compiled", [True, False] if fused.AVAILABLE else [False])
def test_random_affine_per_image_equals_the_reference_with_the_documented_draws(
    dtype: type[np.floating[Any]], compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fused, "AVAILABLE", compiled)
    m, h, w = 12, 6, 5
    pictures, X = batch(m, h, w, dtype)
    rotation, scale, shear, translation = (-20.0, 35.0), (0.6, 1.7), (-5.0, 25.0), (-3.0, 1.5)
    out = random_affine(X, np.random.default_rng(11), image_shape=(h, w), rotation=rotation, scale=scale,
                        shear=shear, translation=translation)  # fmt: skip
    assert out.dtype == dtype and out.shape == (h * w, m)
    u = np.random.default_rng(11).random((m, 5))  # rotation, scale, shear, down, right
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    for i in range(m):
        def drawn(bounds: tuple[float, float], k: int) -> float:
            return bounds[0] + (bounds[1] - bounds[0]) * float(u[i, k])

        expected = affine_reference(
            pictures[i].astype(np.float64), drawn(rotation, 0), drawn(scale, 1), drawn(shear, 2),
            (drawn(translation, 3), drawn(translation, 4)),
        )  # fmt: skip
        np.testing.assert_allclose(out[:, i].reshape(h, w), expected, rtol=0, atol=tolerance)


def test_pixels_read_outside_the_image_are_zero() -> None:
    _, X = batch(3, 5, 4)
    for t in (5.0, -5.0, 40.0):  # every source point beyond the last/first row and column
        assert not np.any(fixed_affine(X, (5, 4), 0, 1, 0, t))
    # moved by half a pixel down and right: the first row and column read half zeros
    image = np.ones((5, 4))
    half = fixed_affine(image.reshape(-1, 1), (5, 4), 0, 1, 0, 0.5)[:, 0].reshape(5, 4)
    assert half[0, 0] == 0.25 and np.all(half[0, 1:] == 0.5) and np.all(half[1:, 0] == 0.5) and np.all(half[1:, 1:] == 1)


def test_elastic_distortion_equals_the_reference() -> None:
    m, h, w = 3, 6, 7
    alpha, sigma = 3.0, 1.2
    pictures, X = batch(m, h, w)
    out = elastic_distortion(X, np.random.default_rng(2), image_shape=(h, w), alpha=alpha, sigma=sigma)
    field = np.random.default_rng(2).random((2, m, h, w)) * 2 - 1
    for i in range(m):
        dy = alpha * gaussian_filter_reference(field[0, i], sigma)
        dx = alpha * gaussian_filter_reference(field[1, i], sigma)
        expected = [[read_bilinear(pictures[i], r + dy[r, c], c + dx[r, c]) for c in range(w)] for r in range(h)]
        np.testing.assert_allclose(out[:, i].reshape(h, w), np.array(expected), rtol=0, atol=1e-12)


def test_shifts_are_the_drawn_ones_within_the_range() -> None:
    m, h, w, k = 400, 5, 6, 3
    pictures, X = batch(m, h, w)
    out = random_shift(X, np.random.default_rng(4), image_shape=(h, w), max_shift=k)
    shifts = np.random.default_rng(4).integers(-k, k + 1, size=(m, 2))
    assert shifts.min() == -k and shifts.max() == k  # the whole range is reachable
    for i in range(m):
        dy, dx = (int(v) for v in shifts[i])
        expected = [[pictures[i, r - dy, c - dx] if 0 <= r - dy < h and 0 <= c - dx < w else 0.0 for c in range(w)]
                    for r in range(h)]  # fmt: skip
        np.testing.assert_array_equal(out[:, i].reshape(h, w), np.array(expected))


def test_drawn_translations_stay_in_their_range_and_a_seed_reproduces() -> None:
    """A one-pixel image moved by (t_y, t_x) has its centre of mass at the centre plus t."""
    m, h, w = 300, 21, 21
    X = np.zeros((h * w, m))
    X[(h // 2) * w + w // 2] = 1.0
    out = random_affine(X, np.random.default_rng(7), image_shape=(h, w), rotation=0, scale=(1, 1), shear=0,
                        translation=(-2.0, 3.0))  # fmt: skip
    np.testing.assert_array_equal(out, random_affine(X, np.random.default_rng(7), image_shape=(h, w), rotation=0,
                                                     scale=(1, 1), shear=0, translation=(-2.0, 3.0)))  # fmt: skip
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    mass = out.sum(axis=0)
    np.testing.assert_allclose(mass, 1.0, atol=1e-12)
    t_down = (rows.reshape(-1, 1) * out).sum(axis=0) - h // 2
    t_right = (cols.reshape(-1, 1) * out).sum(axis=0) - w // 2
    u = np.random.default_rng(7).random((m, 5))
    np.testing.assert_allclose(t_down, -2.0 + 5.0 * u[:, 3], atol=1e-12)
    np.testing.assert_allclose(t_right, -2.0 + 5.0 * u[:, 4], atol=1e-12)
    assert -2.0 <= t_down.min() < -1.5 and 2.5 < t_down.max() <= 3.0
