r"""Data augmentation: random distortions of a batch of images, as pure functions of ``(X, rng)``.

Every function here takes a batch in the library's column layout, ``X`` of shape
``(h * w, m)`` (each column one image, its pixels row by row, as ``load_mnist`` gives
them), and the ``image_shape`` ``(h, w)``; it returns a new array of the same shape and
dtype (float32 stays float32), never writes into ``X``, and draws only from the
``numpy.random.Generator`` passed in, in the order its docstring states, so the same
generator state gives the same output. All images of the batch are distorted at once,
each with its own random draw.

The functions that move pixels by fractions of a pixel (``random_affine``,
``elastic_distortion``) compute, for every output pixel, where in the input image it comes
from, and read the input there by bilinear interpolation; outside the image is 0.

``X`` is checked for its shape and dtype but not for NaN or infinite pixels: ``train``
checks the whole data set once, and a pass over every batch would cost each step that much
more. A NaN pixel given here moves with its image (and, interpolated, spreads to its
neighbours) like any other value.

A batch function with everything but ``(X, rng)`` fixed is an ``Augmentation``, the shape
``train`` takes (applied to each training mini-batch, never to the dev set)::

    augment = functools.partial(random_shift, image_shape=(28, 28), max_shift=2)
    train(X, Y, params, ..., augmentation=augment)

``compose`` chains several into one.

References: Simard, Steinkraus & Platt 2003, "Best practices for convolutional neural
networks applied to visual document analysis" (elastic distortions); Cireşan et al. 2010,
"Deep, big, simple neural nets for handwritten digit recognition" (affine and elastic).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeAlias

import numpy as np

from functional_nn import _validation as check
from functional_nn import fused
from functional_nn.propagation import float32_bits
from functional_nn.types import FloatArray

Augmentation: TypeAlias = Callable[[FloatArray, np.random.Generator], FloatArray]
"""A function of a mini-batch ``X`` ``(n_0, m)`` and a generator, returning a new batch of
the same shape and dtype: e.g. ``functools.partial(random_shift, image_shape=(28, 28))``."""

__all__ = ["Augmentation", "compose", "elastic_distortion", "random_affine", "random_shift"]


def random_shift(X: FloatArray, rng: np.random.Generator, *, image_shape: tuple[int, int] | tuple[int, int, int], max_shift: int = 2) -> FloatArray:
    r"""Move each image by a whole number of pixels, up to ``max_shift`` in each direction.

    Image :math:`i` is shifted down by :math:`d_y` and right by :math:`d_x`, each drawn
    uniformly from :math:`\{-k, \dots, k\}`; the pixels moved in from outside are 0:

    .. math:: x'_i[r, c] = x_i[r - d_{y,i},\ c - d_{x,i}] \quad (0 \text{ outside the image})

    Parameters
    ----------
    X : ndarray of shape (h * w, m)
        The images, one per column, pixels row by row; float32 or float64; not modified.
    rng : numpy.random.Generator
        Draws ``rng.integers(-max_shift, max_shift + 1, size=(m, 2))``: per image the
        vertical shift, then the horizontal one. Nothing else.
    image_shape : (int, int) or (int, int, 1)
        ``(h, w)``, or a grayscale folder's ``(h, w, 1)`` as ``load_image_folder`` gives it.
    max_shift : int >= 0, default 2
        :math:`k`; smaller than both ``h`` and ``w``.

    Returns
    -------
    X_shifted : ndarray of shape (h * w, m), in ``X``'s dtype
    """
    images, h, w = _check_batch(X, rng, image_shape)
    max_shift = check.check_positive_int("max_shift", max_shift, minimum=0)
    if max_shift >= min(h, w):
        raise ValueError(f"max_shift must be smaller than the image ({h}x{w}), got {max_shift}")
    m = images.shape[0]
    shifts = rng.integers(-max_shift, max_shift + 1, size=(m, 2))
    rows = np.arange(h)[np.newaxis, :] - shifts[:, 0:1]  # (m, h): the source row of each output row
    cols = np.arange(w)[np.newaxis, :] - shifts[:, 1:2]
    # Out-of-image sources point at the zero border of the padded copy (see _padded).
    padded, stride = _padded(images)
    source = (np.clip(rows, -1, h) + 1) * stride
    flat = (np.arange(m) * padded.shape[1] * stride)[:, np.newaxis, np.newaxis] + source[:, :, np.newaxis]
    flat = flat + (np.clip(cols, -1, w) + 1)[:, np.newaxis, :]
    return _columns(np.take(padded.reshape(-1), flat))  # np.take: faster than indexing with an array


def random_affine(
    X: FloatArray,
    rng: np.random.Generator,
    *,
    image_shape: tuple[int, int] | tuple[int, int, int],
    rotation: float | tuple[float, float] = 10.0,
    scale: tuple[float, float] = (0.9, 1.1),
    shear: float | tuple[float, float] = 10.0,
    translation: float | tuple[float, float] = 2.0,
) -> FloatArray:
    r"""Rotate, scale, shear and move each image by its own random amounts; bilinear interpolation.

    About the image centre :math:`c = ((h - 1) / 2, (w - 1) / 2)`, in (row, column)
    coordinates, a point :math:`p` of image :math:`i` moves to

    .. math::

        p' = R(\theta_i)\, H(\phi_i)\, s_i\, (p - c) + c + t_i, \qquad
        R(\theta) = \begin{pmatrix} \cos\theta & -\sin\theta \\ \sin\theta & \cos\theta \end{pmatrix},
        \quad H(\phi) = \begin{pmatrix} 1 & 0 \\ \tan\phi & 1 \end{pmatrix}

    so a positive :math:`\theta` turns the digit counter-clockwise as displayed (rows down),
    like ``np.rot90``; :math:`H` slants it horizontally, :math:`s` scales it and :math:`t`
    moves it (pixels, down and right). Each output pixel reads the input at
    :math:`p = (R H s)^{-1} (p' - c - t) + c`, interpolated bilinearly, 0 outside.

    Parameters
    ----------
    X : ndarray of shape (h * w, m)
        The images, one per column, pixels row by row; float32 or float64; not modified.
    rng : numpy.random.Generator
        Draws ``rng.random((m, 5))``: per image, in this order, the rotation, the scale, the
        shear, the vertical and the horizontal translation, each mapped linearly onto its
        range. Nothing else.
    image_shape : (int, int) or (int, int, 1)
        ``(h, w)``, or a grayscale folder's ``(h, w, 1)`` as ``load_image_folder`` gives it.
    rotation : float or (float, float), default 10
        Degrees: a number :math:`r` draws :math:`\theta` uniformly in :math:`[-r, r]`, a pair
        in ``[low, high]``; ``high - low`` must be finite (:math:`r` at most about ``9e307``).
    scale : (float, float), default (0.9, 1.1)
        :math:`s` is drawn uniformly in ``[low, high]``; both > 0, and not so small that
        :math:`1 / s` times the image's size overflows ``X``'s dtype (for 28x28 images and
        the default ranges, about ``4e-37`` in float32 and ``8e-307`` in float64; a
        ``ValueError`` gives the bound).
    shear : float or (float, float), default 10
        Degrees, as ``rotation``; each in (-90, 90).
    translation : float or (float, float), default 2
        Pixels, as ``rotation``, drawn separately for each axis; not so large that the source
        coordinates overflow ``X``'s dtype (for 28x28 images and the default ranges, about
        ``6.5e37`` in float32 and ``3.4e307`` in float64; a ``ValueError`` gives the bound).

    Returns
    -------
    X_transformed : ndarray of shape (h * w, m), in ``X``'s dtype

    Examples
    --------
    The identity (all ranges zero, scale 1) gives the input back exactly:

    >>> X = np.random.default_rng(0).random((784, 3), dtype=np.float32)
    >>> same = random_affine(X, np.random.default_rng(1), image_shape=(28, 28), rotation=0, scale=(1, 1),
    ...                      shear=0, translation=0)
    >>> bool(np.array_equal(same, X))
    True
    """
    images, h, w = _check_batch(X, rng, image_shape)
    low_rotation, high_rotation = _range("rotation", rotation)
    if not math.isfinite(high_rotation - low_rotation):  # the angles low + (high - low) u would be inf, the maps NaN
        raise ValueError(
            f"rotation must span a finite number of degrees, high - low at most {float(np.finfo(np.float64).max):.3g}, "
            f"got {rotation!r}"
        )
    low_scale, high_scale = _range("scale", scale, symmetric=False)
    low_shear, high_shear = _range("shear", shear)
    low_shift, high_shift = _range("translation", translation)
    if low_scale <= 0:
        raise ValueError(f"scale must be a pair of numbers > 0 such as (0.9, 1.1), got {scale!r}")
    if max(abs(low_shear), abs(high_shear)) >= 90:
        raise ValueError(f"shear must lie within (-90, 90) degrees, got {shear!r}")
    # The inverse map's entries reach (1 + |tan phi|) / s, and a source coordinate that times
    # the extent of the grid and the translation: a tiny scale would make them overflow the
    # images' dtype, and the output NaN.
    largest = float(np.finfo(images.dtype).max)
    tan_max = math.tan(math.radians(max(abs(low_shear), abs(high_shear))))
    extent = h + w + 2 * max(abs(low_shift), abs(high_shift))
    smallest_scale = 2 * (1 + tan_max) * extent / largest
    if low_scale < smallest_scale and 2 * (1 + tan_max) * (h + w) / largest <= low_scale:
        # the translation alone makes the map overflow: name it, and the largest it may be
        allowed = (low_scale * largest / (2 * (1 + tan_max)) - h - w) / 2
        raise ValueError(
            f"translation {translation!r} is too large for {images.dtype.name} images of {h}x{w} at scale {low_scale:g}: "
            f"the source coordinates would overflow {images.dtype.name} (largest {largest:.3g}); translation must lie "
            f"within +-{allowed:.3g} pixels"
        )
    if low_scale < smallest_scale:
        raise ValueError(
            f"scale {scale!r} is too small for {images.dtype.name} images of {h}x{w}: the inverse map would overflow "
            f"{images.dtype.name} (largest {largest:.3g}); scale must be >= {smallest_scale:.3g}"
        )
    m = images.shape[0]
    u = rng.random((m, 5))
    theta = np.radians(low_rotation + (high_rotation - low_rotation) * u[:, 0])
    s = low_scale + (high_scale - low_scale) * u[:, 1]
    tan_phi = np.tan(np.radians(low_shear + (high_shear - low_shear) * u[:, 2]))
    t = low_shift + (high_shift - low_shift) * u[:, 3:5]  # (m, 2): down, right
    cos, sin = np.cos(theta), np.sin(theta)
    # R H s = s [[cos - sin tan, -sin], [sin + cos tan, cos]], whose determinant is s^2, so
    # its inverse is [[cos, sin], [-(sin + cos tan), cos - sin tan]] / s, per image in float64.
    # Written out rather than np.linalg.inv and a stacked matmul: with two BLAS threads those
    # hand 128 tiny products to the BLAS one by one, which doubled the function's time.
    inverse = (
        (cos / s, sin / s),
        (-(sin + cos * tan_phi) / s, (cos - sin * tan_phi) / s),
    )  # fmt: skip
    centre = ((h - 1) / 2, (w - 1) / 2)
    # p = inverse (p' - c) - inverse t + c: the constant part per image, then the grid part.
    dtype = images.dtype
    grid_rows, grid_cols = _centred_grid(h, w, dtype)  # (h * w,) each
    # per image and axis, in the images' dtype: the coordinate is (a grid_rows + b grid_cols) + offset
    coefficients = np.empty((m, 6), dtype=dtype)
    for axis, ((a, b), c) in enumerate(zip(inverse, centre)):
        coefficients[:, 3 * axis] = a
        coefficients[:, 3 * axis + 1] = b
        coefficients[:, 3 * axis + 2] = c - (a * t[:, 0] + b * t[:, 1])
    if fused.AVAILABLE:  # the coordinates made and sampled in one compiled loop, bitwise as below
        return _columns(_sample("affine_bilinear", images, coefficients, grid_rows, grid_cols))
    source = []
    for a, b, offset in (coefficients[:, :3].T, coefficients[:, 3:].T):
        coordinate = a[:, np.newaxis] * grid_rows  # (m, h * w), fresh
        coordinate += b[:, np.newaxis] * grid_cols
        coordinate += offset[:, np.newaxis]
        source.append(coordinate)
    return _columns(_bilinear_numpy(images, source[0], source[1]))


MAX_SIGMA: Final = 1e5
"""The largest ``sigma`` of ``elastic_distortion``, in pixels: its kernel's ``8 sigma + 1`` taps are computed."""


def elastic_distortion(
    X: FloatArray, rng: np.random.Generator, *, image_shape: tuple[int, int] | tuple[int, int, int], alpha: float = 34.0, sigma: float = 4.0
) -> FloatArray:
    r"""Simard et al.'s elastic distortion: move every pixel along a smooth random field.

    For each image, two fields of independent uniform numbers in :math:`[-1, 1)`,
    :math:`U_y` and :math:`U_x` of shape ``(h, w)``, are smoothed by a Gaussian of width
    :math:`\sigma` and scaled by :math:`\alpha`; output pixel :math:`(r, c)` then reads the
    input, by bilinear interpolation (0 outside), at

    .. math::

        (r + \alpha\, (G_h U_y G_w)[r, c],\ \ c + \alpha\, (G_h U_x G_w)[r, c])

    where :math:`G_n` is the ``(n, n)`` matrix of the normalised Gaussian kernel
    :math:`g(k) \propto e^{-k^2 / 2\sigma^2}`, truncated at :math:`|k| \le 4\sigma`, with the
    field taken as 0 beyond the image (as ``scipy.ndimage.gaussian_filter(mode="constant")``):
    the separable filter is two small matrix products per field. A large :math:`\sigma`
    makes the field nearly a translation; a small one, random noise.

    Parameters
    ----------
    X : ndarray of shape (h * w, m)
        The images, one per column, pixels row by row; float32 or float64; not modified.
    rng : numpy.random.Generator
        Draws ``rng.random((2, m, h, w), dtype=X.dtype)`` (the vertical fields, then the
        horizontal ones), whatever ``alpha``. Nothing else.
    image_shape : (int, int) or (int, int, 1)
        ``(h, w)``, or a grayscale folder's ``(h, w, 1)`` as ``load_image_folder`` gives it.
    alpha : float >= 0, default 34
        :math:`\alpha`, the strength, in pixels per unit of the smoothed field; 0 gives the
        input back. Simard et al. use 34 with :math:`\sigma = 4` on 28x28 digits. At most
        the largest number of ``X``'s dtype divided by the :math:`h w` pixels (about
        ``4.3e35`` for 28x28 float32 images), so that the displacements stay finite.
    sigma : float > 0, default 4
        :math:`\sigma`, the smoothness, in pixels; at most ``1e5`` (the kernel's
        :math:`2 \lfloor 4\sigma + 0.5 \rfloor + 1` taps are computed, and far beyond the
        image's size a larger :math:`\sigma` only weakens the field).

    Returns
    -------
    X_distorted : ndarray of shape (h * w, m), in ``X``'s dtype
    """
    images, h, w = _check_batch(X, rng, image_shape)
    alpha = check.check_positive_float("alpha", alpha, allow_zero=True)
    sigma = check.check_positive_float("sigma", sigma)
    m = images.shape[0]
    dtype = images.dtype
    largest = float(np.finfo(dtype).max)
    if alpha > largest / (h * w):  # the displacements, up to alpha, and the coordinates would overflow
        raise ValueError(
            f"alpha={alpha:g} is too large for {dtype.name} images of {h}x{w}: alpha times the {h * w} pixels must stay "
            f"below the largest {dtype.name} ({largest:.3g}), so alpha <= {largest / (h * w):.3g}"
        )
    if sigma > MAX_SIGMA:
        raise ValueError(
            f"sigma={sigma:g} is too large: at most {MAX_SIGMA:.3g} pixels (its Gaussian kernel's 2 * round(4 sigma) + 1 "
            "taps are computed, and far beyond the image's size a larger sigma only weakens the field)"
        )
    field = _uniform(rng, (2, m, h, w), dtype)
    field *= dtype.type(2)  # field is a fresh array: [0, 1) -> [-1, 1)
    field -= dtype.type(1)
    # Smooth along the columns with one product over all rows of all fields, then along the
    # rows with one product over all columns: (h, h) @ (h, 2 m w). G is symmetric.
    along_rows = field.reshape(-1, w) @ (_gaussian_matrix(w, sigma, dtype) * dtype.type(alpha))
    by_row = along_rows.reshape(2 * m, h, w).transpose(1, 0, 2).reshape(h, -1)
    smooth = (_gaussian_matrix(h, sigma, dtype) @ by_row).reshape(h, 2, m, w)  # [r, axis, i, c]
    if fused.AVAILABLE:  # the source coordinates made and sampled in one compiled loop, bitwise as below
        return _columns(_sample("displaced_bilinear", images, smooth))
    rows = smooth[:, 0].transpose(1, 0, 2) + np.arange(h, dtype=dtype)[:, np.newaxis]  # (m, h, w)
    cols = smooth[:, 1].transpose(1, 0, 2) + np.arange(w, dtype=dtype)
    return _columns(_bilinear_numpy(images, rows.reshape(m, -1), cols.reshape(m, -1)))


def compose(*augmentations: Augmentation) -> Augmentation:
    """One augmentation that applies ``augmentations`` in the order given, each to the
    previous one's output, all drawing from the same generator in that order.

    Returns
    -------
    Augmentation
        A picklable function of ``(X, rng)``; with no argument, the identity (``X`` itself).
    """
    for i, augmentation in enumerate(augmentations):
        if not callable(augmentation):
            raise TypeError(f"augmentations[{i}] must be a function of (X, rng), got {type(augmentation).__name__}")
    return functools.partial(_composed, augmentations=tuple(augmentations))


def _composed(X: FloatArray, rng: np.random.Generator, *, augmentations: tuple[Augmentation, ...]) -> FloatArray:
    for augmentation in augmentations:
        X = augmentation(X, rng)
    return X


def describe(augmentation: Callable[..., Any]) -> str:
    """A stable text naming an augmentation and its fixed arguments, for checkpoints' run
    descriptions: ``"random_shift(image_shape=(28, 28), max_shift=2)"``. Functions are named,
    other arguments given by their ``repr`` less any memory address (an object of one's own
    with Python's default ``repr`` is ``<module.Class object>``), the same in every process."""
    if isinstance(augmentation, functools.partial):
        inner = describe(augmentation.func)
        if inner.endswith(")"):  # a partial of a partial: fold the arguments into one call
            inner = inner[: inner.index("(")]
        arguments = [_describe_value(a) for a in augmentation.args]
        arguments += [f"{key}={_describe_value(value)}" for key, value in sorted(augmentation.keywords.items())]
        return f"{inner}({', '.join(arguments)})"
    name = getattr(augmentation, "__qualname__", None) or type(augmentation).__qualname__
    return str(name)


def _describe_value(value: object) -> str:
    if isinstance(value, tuple) and value and all(callable(v) for v in value):
        return "(" + ", ".join(describe(v) for v in value) + ")"
    if callable(value):
        return describe(value)
    # without its memory address, which Python's default repr holds ("<Noise object at 0x7f...>"):
    # it differs in every process, and a run resumed in a new one would be taken for another
    return _ADDRESS.sub("", repr(value))


_ADDRESS: Final = re.compile(r" at 0x[0-9a-fA-F]+")
"""A memory address in a default ``repr``."""


# --------------------------------------------------------------------------------------------
# shared pieces


def _check_batch(X: object, rng: object, image_shape: object) -> tuple[FloatArray, int, int]:
    """Validate the common arguments; return the images as an ``(m, h, w)`` view and ``h, w``."""
    X = check.check_float_array("X", X, finite=False)
    check.check_samples("X", X)
    check.check_generator("rng", rng)
    sizes = list(image_shape) if isinstance(image_shape, Sequence) and not isinstance(image_shape, str) else None
    if sizes is not None and len(sizes) == 3 and isinstance(sizes[2], (int, np.integer)) and not isinstance(sizes[2], bool) and sizes[2] == 1:
        sizes = sizes[:2]  # a grayscale folder's (h, w, 1), as load_image_folder gives it
    if sizes is None or len(sizes) != 2 or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1 for n in sizes):
        raise TypeError(
            f"image_shape must be (h, w), two positive integers such as (28, 28), or a grayscale folder's (h, w, 1); got {image_shape!r}"
        )
    h, w = int(sizes[0]), int(sizes[1])
    if X.shape[0] != h * w:
        raise ValueError(
            f"X has {X.shape[0]} rows but image_shape {h}x{w} has {h * w} pixels: X is (h * w, m), one image per column"
        )
    return X.T.reshape(X.shape[1], h, w), h, w  # a view for the loaders' Fortran-ordered X


def _uniform(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype[Any]) -> FloatArray:
    """``rng.random(shape, dtype=dtype)``: the same numbers, the generator left alike, faster for float32.

    For float32 and the default bit generator, PCG64, ``rng.random`` makes each number from
    a 32-bit integer ``u`` as ``(u >> 8) 2^{-24}``; done on a whole array of them
    (``propagation.float32_bits``) it takes 0.21 ms instead of 0.29 ms for an elastic
    distortion's 200,704 numbers (measured), and leaves the generator's state exactly as
    ``rng.random`` does. For other bit generators, and for float64, ``rng.random`` itself
    draws them.
    """
    bits = float32_bits(rng, math.prod(shape)) if dtype == np.float32 else None
    if bits is None:
        floats: FloatArray = rng.random(shape, dtype=dtype)
        return floats
    whole = (bits >> np.uint32(8)).view(np.int32)  # below 2^24
    uniform: FloatArray = whole.astype(np.float32)  # exact; via int32, which converts faster than uint32
    uniform *= np.float32(2.0**-24)  # exact: a power of two
    return uniform.reshape(shape)


def _range(argument: str, value: object, *, symmetric: bool = True) -> tuple[float, float]:
    """``r`` -> ``(-r, r)`` (when ``symmetric``) or ``(low, high)`` as given, checked."""
    if symmetric and not isinstance(value, (tuple, list)):
        r = check.check_positive_float(argument, value, allow_zero=True)
        return -r, r
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        expected = "a number r >= 0 or a pair (low, high)" if symmetric else "a pair (low, high)"
        raise TypeError(f"{argument} must be {expected}, got {value!r}")
    low, high = (_finite(f"{argument}[{i}]", v) for i, v in enumerate(value))
    if low > high:
        raise ValueError(f"{argument} must be a pair (low, high) with low <= high, got {value!r}")
    return low, high


def _finite(argument: str, value: object) -> float:
    number = check.check_real_number(argument, value)
    if not math.isfinite(number):
        raise ValueError(f"{argument} must be finite, got {value}")
    return number


def _padded(images: FloatArray) -> tuple[FloatArray, int]:
    """``images`` ``(m, h, w)`` inside a zero border, 1 pixel before and 2 after each axis,
    flattened to ``(m, (h + 3), (w + 3))``, and the row stride ``w + 3``.

    A source coordinate clipped to ``[-1, h]`` (``[-1, w]``) then lands on the image or on
    the border, and so does its bilinear neighbour one further on: no index check per pixel.
    """
    m, h, w = images.shape
    padded = np.zeros((m, h + 3, w + 3), dtype=images.dtype)
    padded[:, 1 : h + 1, 1 : w + 1] = images  # padded is a fresh array
    return padded, w + 3


def _sample(kernel: str, images: FloatArray, *where: FloatArray) -> FloatArray:
    """``fused.kernel(kernel)`` (``"affine_bilinear"`` or ``"displaced_bilinear"``) on ``images`` at ``where``:
    ``_bilinear_numpy`` at the coordinates those make, ``(m, h * w)``, in one compiled loop per image."""
    m, h, w = images.shape
    padded, stride = _padded(images)
    one = images.dtype.type(1)
    bounds = (-one, one * h, one * w, one, one * stride)
    out: FloatArray = np.empty((m, h * w), dtype=images.dtype)
    fused.kernel(kernel)(padded.reshape(-1), *where, out, bounds, stride, padded.shape[1] * stride)
    return out


def _bilinear_numpy(images: FloatArray, rows: FloatArray, cols: FloatArray) -> FloatArray:
    r"""``images`` ``(m, h, w)`` read at the real coordinates ``rows``, ``cols`` ``(m, n)``,
    interpolated bilinearly, 0 outside: returns ``(m, n)`` in the images' dtype.

    .. math:: v = (1 - f_y)\,[(1 - f_x) v_{00} + f_x v_{01}] + f_y\,[(1 - f_x) v_{10} + f_x v_{11}]

    written as ``v00 + fx (v01 - v00)`` so that integer coordinates give the pixels exactly.
    In NumPy's whole-array passes: the code without Numba, and the reference that the
    compiled sampling (``_sample``) matches bit for bit.
    """
    m, h, w = images.shape
    padded, stride = _padded(images)
    # Clipped to [-1, h] and moved by the border's 1, a coordinate is >= 0: its whole part
    # is the padded row (column) of the upper-left neighbour, its fractional part the weight.
    fy = np.clip(rows, -1, h)
    fy += 1  # fy is a fresh array
    fx = np.clip(cols, -1, w)
    fx += 1
    y = np.floor(fy)  # (np.modf is several times slower than floor and a subtraction)
    x = np.floor(fx)
    fy -= y
    fx -= x
    # the padded index y * stride + x, in integers: it reaches (h + 3) (w + 3), which for an
    # image of 2^23 pixels or more is past 2^24, where float32 rounds whole numbers to even
    flat = y.astype(np.intp)
    flat *= stride
    np.add(flat, x, out=flat, casting="unsafe")  # x: whole numbers, added exactly in float64
    flat += (np.arange(m) * padded.shape[1] * stride)[:, np.newaxis]
    values = padded.reshape(-1)
    # offset views instead of offset indices; np.take is faster than indexing with an array
    v00, v01 = np.take(values, flat), np.take(values[1:], flat)
    v10, v11 = np.take(values[stride:], flat), np.take(values[stride + 1 :], flat)
    v01 -= v00  # the gathered arrays are fresh copies
    v01 *= fx
    v01 += v00
    v11 -= v10
    v11 *= fx
    v11 += v10
    v11 -= v01
    v11 *= fy
    v11 += v01
    result: FloatArray = v11.astype(images.dtype, copy=False)
    return result


def _columns(images: FloatArray) -> FloatArray:
    """``(m, h, w)`` or ``(m, h * w)`` back to the column layout ``(h * w, m)`` (a transposed view)."""
    columns: FloatArray = images.reshape(images.shape[0], -1).T
    return columns


@functools.lru_cache(maxsize=16)
def _centred_grid(h: int, w: int, dtype: np.dtype[Any]) -> FloatArray:
    """Every pixel's ``(row, column)`` minus the image centre ``((h - 1) / 2, (w - 1) / 2)``,
    as a read-only ``(2, h * w)`` array of ``dtype`` (computed in float64, then cast)."""
    rows, cols = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    grid: FloatArray = np.stack([rows.reshape(-1) - (h - 1) / 2, cols.reshape(-1) - (w - 1) / 2]).astype(dtype)
    grid.flags.writeable = False
    return grid


@functools.lru_cache(maxsize=16)
def _gaussian_matrix_cached(n: int, sigma: float, dtype_name: str) -> FloatArray:
    radius = int(4.0 * sigma + 0.5)
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    difference = np.arange(n)[:, np.newaxis] - np.arange(n)[np.newaxis, :]
    inside = np.abs(difference) <= radius
    matrix = np.where(inside, kernel[np.clip(difference + radius, 0, 2 * radius)], 0.0).astype(dtype_name)
    matrix.flags.writeable = False  # shared between calls
    return matrix


def _gaussian_matrix(n: int, sigma: float, dtype: np.dtype[Any]) -> FloatArray:
    r"""The ``(n, n)`` symmetric matrix :math:`G` with :math:`G_{ij} = g(i - j)`: ``G @ u`` is the
    Gaussian filter of ``u`` with zeros beyond its ends."""
    return _gaussian_matrix_cached(n, sigma, dtype.name)
