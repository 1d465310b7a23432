"""Maintainer's review: "a number" checked in three places, and two of them forgot the overflow.

``check_positive_float`` refuses an integer beyond the floats' range naming the argument
("rotation must be a finite number, got an integer of 401 digits"); the pair checks of the
augmentations' ranges and of ``make_blobs``' ``center_box`` each wrote the number check out
again without that case, so ``float(10**400)`` escaped as a bare ``OverflowError`` ("int too
large to convert to float") that names no argument.
"""

from __future__ import annotations

import numpy as np
import pytest

from functional_nn.data import make_blobs, random_affine

HUGE = 10**400  # a Python int no float holds


def test_an_augmentation_range_bound_beyond_the_floats_is_refused_naming_it(rng: np.random.Generator) -> None:
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"^translation\[1\] must be a finite number, got an integer of 401 digits$"):
        random_affine(X, rng, image_shape=(2, 2), translation=(0, HUGE))
    with pytest.raises(ValueError, match=r"^scale\[0\] must be a finite number, got an integer of 401 digits$"):
        random_affine(X, rng, image_shape=(2, 2), scale=(HUGE, 2))


def test_a_center_box_bound_beyond_the_floats_is_refused_naming_it(rng: np.random.Generator) -> None:
    with pytest.raises(ValueError, match=r"^center_box\[1\] must be a finite number, got an integer of 401 digits$"):
        make_blobs(10, rng, center_box=(0, HUGE))


def test_the_number_checks_other_messages_stay(rng: np.random.Generator) -> None:
    X = np.zeros((4, 2))
    with pytest.raises(TypeError, match=r"^rotation\[0\] must be a number, got str 'a'$"):
        random_affine(X, rng, image_shape=(2, 2), rotation=("a", 1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^rotation\[1\] must be finite, got inf$"):
        random_affine(X, rng, image_shape=(2, 2), rotation=(0, float("inf")))
    with pytest.raises(TypeError, match=r"^center_box\[1\] must be a number, got NoneType None$"):
        make_blobs(10, rng, center_box=(0.0, None))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^center_box must be finite \(low, high\) with low < high, got \(0, inf\)$"):
        make_blobs(10, rng, center_box=(0, float("inf")))
