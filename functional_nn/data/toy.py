r"""Small synthetic data sets for classification, in the library's column layout.

Every maker takes the number of samples and an explicit ``np.random.Generator`` and returns a
``ToyDataset(X, y)``: ``X`` of shape ``(n_features, m)`` (one sample per column; 2 features
except for ``make_blobs``) and ``y`` of shape ``(m,)``, int64 class labels ``0 .. k - 1``.

The ``m`` samples are shared out between the ``k`` classes as evenly as possible: class ``c``
gets ``m // k`` samples, plus one more when ``c < m % k``. The columns come shuffled, so any
contiguous slice is a fair sample.

The order of random draws is part of the contract (the same generator state gives the same
data set): first what a maker draws for the clean points (documented per maker; the moons and
the circles draw nothing), then **one** ``rng.standard_normal((n_features, m))`` call for the
noise, **always made**, even when ``noise == 0``, and scaled by ``noise``, and last **one**
``rng.permutation(m)`` call that shuffles the columns. Everything is computed in float64 and
then cast, so a float32 data set is the float64 one rounded. A setting whose data would not be
finite in ``dtype`` (a ``noise`` of ``1e39`` in float32, say) is refused with a ``ValueError``
naming it, never returned as ``inf``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final, Literal, NamedTuple, Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

from functional_nn import _validation as check
from functional_nn.types import FloatArray, FloatDTypeLike, IntArray

_Float64Array = npt.NDArray[np.float64]


class ToyDataset(NamedTuple):
    """A labelled data set: ``X`` of shape ``(n_features, m)``, ``y`` of shape ``(m,)``, int64."""

    X: FloatArray
    y: IntArray


def _check_common(
    n_samples: object, rng: object, noise: object, dtype: object, n_classes: int
) -> tuple[int, np.random.Generator, float]:
    m = check.check_positive_int("n_samples", n_samples)
    if m > np.iinfo(np.intp).max:  # NumPy would say "Python int too large to convert to C long", or worse
        raise ValueError(f"n_samples must be at most {np.iinfo(np.intp).max}, the longest array NumPy can index, got {m}")
    if m < n_classes:
        raise ValueError(f"n_samples must be >= {n_classes} so that each of the {n_classes} classes gets a sample, got {m}")
    rng = check.check_generator("rng", rng)
    sigma = check.check_positive_float("noise", noise, allow_zero=True)
    check.check_float_dtype("dtype", dtype)
    return m, rng, sigma


def _class_sizes(m: int, k: int) -> list[int]:
    return [m // k + (1 if c < m % k else 0) for c in range(k)]


def _sorted_labels(m: int, k: int) -> IntArray:
    labels: IntArray = np.repeat(np.arange(k, dtype=np.int64), _class_sizes(m, k))
    return labels


def _finish(
    clean: _Float64Array, labels: IntArray, noise: float, rng: np.random.Generator, dtype: FloatDTypeLike
) -> ToyDataset:
    """Add the noise draw, then shuffle with the permutation draw (the module's contract)."""
    n, m = clean.shape
    with np.errstate(over="ignore"):  # an overflow is reported below, naming noise
        X = clean + noise * rng.standard_normal((n, m))
        order = rng.permutation(m)
        result = X[:, order].astype(dtype)
    if not np.isfinite(result).all():  # the clean points are finite in dtype: the noise overflowed
        count = int(result.size - np.count_nonzero(np.isfinite(result)))
        name = np.dtype(dtype).name
        raise ValueError(
            f"noise={noise:g} is too large for {name} data: X would hold {count} infinite value(s) "
            f"(the largest {name} is {float(np.finfo(dtype).max):.3g})"
        )
    return ToyDataset(result, labels[order])


def make_moons(
    n_samples: int, rng: np.random.Generator, *, noise: float = 0.1, dtype: FloatDTypeLike = np.float64
) -> ToyDataset:
    r"""Two interleaving half circles: class 0 the upper moon, class 1 the lower one.

    For class 0 and :math:`t` evenly spaced in :math:`[0, \pi]`, the point is
    :math:`(\cos t, \sin t)`; for class 1 it is :math:`(1 - \cos t, \tfrac12 - \sin t)`; then
    Gaussian noise of standard deviation ``noise`` is added to each coordinate.

    Parameters
    ----------
    n_samples : int >= 2
    rng : numpy.random.Generator
        Advanced by the noise and the permutation draws (see the module's docstring).
    noise : float >= 0, default 0.1
    dtype : numpy.float32 or numpy.float64, default numpy.float64

    Returns
    -------
    ToyDataset
        ``X`` of shape ``(2, n_samples)``, ``y`` of shape ``(n_samples,)``.
    """
    m, rng, noise = _check_common(n_samples, rng, noise, dtype, 2)
    n0, n1 = _class_sizes(m, 2)
    t0, t1 = np.linspace(0.0, math.pi, n0), np.linspace(0.0, math.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)])
    lower = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    return _finish(np.concatenate([upper, lower], axis=1), _sorted_labels(m, 2), noise, rng, dtype)


def make_circles(
    n_samples: int,
    rng: np.random.Generator,
    *,
    noise: float = 0.05,
    factor: float = 0.5,
    dtype: FloatDTypeLike = np.float64,
) -> ToyDataset:
    r"""Two concentric circles: class 0 of radius 1, class 1 of radius ``factor``.

    Each class's angles are evenly spaced over :math:`[0, 2\pi)`; Gaussian noise of standard
    deviation ``noise`` is then added to each coordinate.

    Parameters
    ----------
    n_samples : int >= 2
    rng : numpy.random.Generator
        Advanced by the noise and the permutation draws (see the module's docstring).
    noise : float >= 0, default 0.05
    factor : float in (0, 1), default 0.5
        Radius of the inner circle relative to the outer one.
    dtype : numpy.float32 or numpy.float64, default numpy.float64

    Returns
    -------
    ToyDataset
        ``X`` of shape ``(2, n_samples)``, ``y`` of shape ``(n_samples,)``.
    """
    m, rng, noise = _check_common(n_samples, rng, noise, dtype, 2)
    factor = check.check_positive_float("factor", factor)
    if not factor < 1:
        raise ValueError(f"factor must lie in (0, 1): the inner circle's radius relative to the outer one, got {factor}")
    n0, n1 = _class_sizes(m, 2)
    t0 = np.linspace(0.0, 2 * math.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2 * math.pi, n1, endpoint=False)
    outer = np.stack([np.cos(t0), np.sin(t0)])
    inner = factor * np.stack([np.cos(t1), np.sin(t1)])
    return _finish(np.concatenate([outer, inner], axis=1), _sorted_labels(m, 2), noise, rng, dtype)


def make_xor(
    n_samples: int, rng: np.random.Generator, *, noise: float = 0.1, dtype: FloatDTypeLike = np.float64
) -> ToyDataset:
    r"""The XOR quadrants: class 1 where exactly one coordinate is negative.

    Points are drawn uniformly from the square :math:`[-1, 1]^2` by **one**
    ``rng.uniform(-1, 1, (2, m))`` call, labelled :math:`y = [x_1 x_2 < 0]` from the clean
    point, and then moved by Gaussian noise of standard deviation ``noise`` (so with noise a
    few points stray across the axes with their label). Unlike the other makers the clean
    points are not split by class in advance, so the class sizes are only roughly even.

    Parameters
    ----------
    n_samples : int >= 1
    rng : numpy.random.Generator
        Advanced by the uniform, the noise and the permutation draws, in that order.
    noise : float >= 0, default 0.1
    dtype : numpy.float32 or numpy.float64, default numpy.float64

    Returns
    -------
    ToyDataset
        ``X`` of shape ``(2, n_samples)``, ``y`` of shape ``(n_samples,)``.
    """
    m, rng, noise = _check_common(n_samples, rng, noise, dtype, 1)
    clean = rng.uniform(-1.0, 1.0, (2, m))
    labels: IntArray = (clean[0] * clean[1] < 0).astype(np.int64)
    return _finish(clean, labels, noise, rng, dtype)


def make_spirals(
    n_samples: int,
    rng: np.random.Generator,
    *,
    noise: float = 0.1,
    n_classes: int = 2,
    turns: float = 1.0,
    dtype: FloatDTypeLike = np.float64,
) -> ToyDataset:
    r"""Interleaved spiral arms, one per class.

    For class :math:`c` of :math:`k` and :math:`t` evenly spaced in :math:`[0, 1]`, the point
    lies at radius :math:`t` and angle :math:`2\pi(c / k + \text{turns}\cdot t)`; Gaussian
    noise of standard deviation ``noise`` is then added to each coordinate. The arms wind
    around each other ``turns`` times from the centre to radius 1.

    Parameters
    ----------
    n_samples : int >= n_classes
    rng : numpy.random.Generator
        Advanced by the noise and the permutation draws (see the module's docstring).
    noise : float >= 0, default 0.1
    n_classes : int >= 2, default 2
    turns : float > 0, default 1.0
        At most about ``2.9e307``, so that the angles stay finite.
    dtype : numpy.float32 or numpy.float64, default numpy.float64

    Returns
    -------
    ToyDataset
        ``X`` of shape ``(2, n_samples)``, ``y`` of shape ``(n_samples,)`` in ``0 .. n_classes - 1``.
    """
    k = check.check_positive_int("n_classes", n_classes, minimum=2)
    m, rng, noise = _check_common(n_samples, rng, noise, dtype, k)
    turns = check.check_positive_float("turns", turns)
    largest_turns = float(np.finfo(np.float64).max) / (2 * math.pi) - 1
    if turns > largest_turns:
        raise ValueError(
            f"turns must be at most {largest_turns:.3g} so that the angles 2 pi (c / k + turns t) stay finite, got {turns:g}"
        )
    arms = []
    for c, size in enumerate(_class_sizes(m, k)):
        t = np.linspace(0.0, 1.0, size)
        angle = 2 * math.pi * (c / k + turns * t)
        arms.append(np.stack([t * np.cos(angle), t * np.sin(angle)]))
    return _finish(np.concatenate(arms, axis=1), _sorted_labels(m, k), noise, rng, dtype)


def make_blobs(
    n_samples: int,
    rng: np.random.Generator,
    *,
    centers: int | Sequence[Sequence[float]] | FloatArray = 2,
    n_features: int = 2,
    noise: float = 1.0,
    center_box: tuple[float, float] = (-5.0, 5.0),
    dtype: FloatDTypeLike = np.float64,
) -> ToyDataset:
    r"""Gaussian blobs: class :math:`c` is :math:`N(\mu_c, \text{noise}^2 I)`.

    Parameters
    ----------
    n_samples : int >= number of centres
    rng : numpy.random.Generator
        When ``centers`` is a number, first advanced by **one**
        ``rng.uniform(low, high, (n_features, k))`` call that places the centres; then by the
        noise and the permutation draws (see the module's docstring).
    centers : int >= 1, or array-like of shape (n_features, k), default 2
        The number of blobs, their centres drawn uniformly from ``center_box`` in every
        coordinate; or the centres themselves, one per column (then ``n_features`` is their
        number of rows and the argument ``n_features`` is ignored): real numbers within the
        range of ``dtype``. A number draws new centres at every call, so two calls sample two
        different distributions: for a held-out set of the same blobs, draw the centres once
        with ``blob_centers`` and pass them to both calls.
    n_features : int >= 1, default 2
    noise : float >= 0, default 1.0
        The standard deviation of every blob in every coordinate.
    center_box : (float, float), default (-5.0, 5.0)
        ``(low, high)`` with ``low < high``, both within the range of ``dtype`` and
        ``high - low`` finite.
    dtype : numpy.float32 or numpy.float64, default numpy.float64

    Returns
    -------
    ToyDataset
        ``X`` of shape ``(n_features, n_samples)``, ``y`` of shape ``(n_samples,)`` in ``0 .. k - 1``.
    """
    given: _Float64Array | None = None
    if isinstance(centers, (int, np.integer)) and not isinstance(centers, bool):
        k = check.check_positive_int("centers", centers)
        n = check.check_positive_int("n_features", n_features)
    else:
        try:
            raw = np.asarray(centers)
            complex_values = raw.dtype.kind == "c"  # converting would drop the imaginary parts with a mere warning
            given = None if complex_values else np.array(raw, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"centers must be an int or an array of shape (n_features, k), got {centers!r}") from exc
        if given is None:
            raise TypeError(f"centers must hold real numbers, got {raw.dtype} values")
        if given.ndim != 2 or given.size == 0:
            raise ValueError(f"centers must have shape (n_features, k), one centre per column, got shape {given.shape}")
        if not np.isfinite(given).all():
            raise ValueError("centers contains NaN or infinite values")
        n, k = int(given.shape[0]), int(given.shape[1])
    m, rng, noise = _check_common(n_samples, rng, noise, dtype, k)
    largest = float(np.finfo(dtype).max)
    if given is None:
        low, high = _check_box(center_box, dtype)
        given = rng.uniform(low, high, (n, k))
    elif float(np.abs(given).max()) > largest:
        raise ValueError(
            f"centers must lie within the range of {np.dtype(dtype).name} (+-{largest:.3g}), "
            f"got values up to {float(np.abs(given).max()):g}"
        )
    clean = np.repeat(given, _class_sizes(m, k), axis=1)
    return _finish(clean, _sorted_labels(m, k), noise, rng, dtype)


def blob_centers(
    rng: np.random.Generator,
    *,
    centers: int = 2,
    n_features: int = 2,
    center_box: tuple[float, float] = (-5.0, 5.0),
) -> _Float64Array:
    """The centres ``make_blobs`` draws when ``centers`` is a number, drawn on their own.

    The draw is the one ``make_blobs`` makes, **one** ``rng.uniform(low, high, (n_features, k))``
    call, so that ``make_blobs(m, rng, centers=blob_centers(rng))`` makes the same draws in the
    same order as ``make_blobs(m, rng)`` and returns the same data set; the centres can then be
    passed again, to draw more samples of the same blobs (a held-out set):

    >>> rng = np.random.default_rng(0)
    >>> centres = blob_centers(rng)
    >>> X, y = make_blobs(200, rng, centers=centres)
    >>> X_test, y_test = make_blobs(1000, rng, centers=centres)
    >>> bool((X == make_blobs(200, np.random.default_rng(0)).X).all())
    True

    Parameters
    ----------
    rng : numpy.random.Generator
        Advanced by the one uniform draw.
    centers : int >= 1, default 2
        The number of blobs ``k``.
    n_features : int >= 1, default 2
    center_box : (float, float), default (-5.0, 5.0)
        ``(low, high)`` with ``low < high``, both finite and ``high - low`` finite.

    Returns
    -------
    ndarray of shape (n_features, centers), float64
        One centre per column, for ``make_blobs``'s ``centers``.
    """
    k = check.check_positive_int("centers", centers)
    n = check.check_positive_int("n_features", n_features)
    rng = check.check_generator("rng", rng)
    low, high = _check_box(center_box, np.float64)
    drawn: _Float64Array = rng.uniform(low, high, (n, k))
    return drawn


def _check_box(center_box: object, dtype: FloatDTypeLike) -> tuple[float, float]:
    if not isinstance(center_box, tuple) or len(center_box) != 2:
        raise TypeError(f"center_box must be a tuple (low, high), got {center_box!r}")
    low, high = (check.check_real_number(f"center_box[{i}]", value) for i, value in enumerate(center_box))
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"center_box must be finite (low, high) with low < high, got {center_box}")
    largest = float(np.finfo(dtype).max)
    if max(-low, high) > largest or not math.isfinite(high - low):  # rng.uniform draws low + (high - low) u
        raise ValueError(
            f"center_box must lie within the range of {np.dtype(dtype).name} (+-{largest:.3g}) with high - low finite, "
            f"got {center_box}"
        )
    return low, high


class ToyMaker(Protocol):
    """The signature every maker shares: ``maker(n_samples, rng, *, noise=..., dtype=...)``."""

    def __call__(
        self, n_samples: int, rng: np.random.Generator, *, noise: float = ..., dtype: FloatDTypeLike = ...
    ) -> ToyDataset: ...


ToyName: TypeAlias = Literal["moons", "circles", "xor", "spirals", "blobs"]

TOY_DATASETS: Final[Mapping[ToyName, ToyMaker]] = {
    "moons": make_moons,
    "circles": make_circles,
    "xor": make_xor,
    "spirals": make_spirals,
    "blobs": make_blobs,
}
"""The makers by name, e.g. for a script's ``--data`` option; each with its default extras."""
