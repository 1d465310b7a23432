"""User review of the augmentations' pixels: a float32 image whose zero-bordered copy
(``(h + 3) (w + 3)`` positions) is past 2^24 must still be read at the right pixels.

The bilinear sampling made each read's index ``y * stride + x`` in the images' dtype; in
float32, whole numbers past 2^24 round to even, so odd indices read the neighbouring pixel.
"""

from __future__ import annotations

import numpy as np
import pytest

from functional_nn import fused
from functional_nn.data.augmentation import random_affine


@pytest.mark.parametrize("compiled", [True, False] if fused.AVAILABLE else [False])
def test_the_identity_affine_returns_a_float32_image_of_more_than_2_to_the_23_pixels_exactly(
    compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fused, "AVAILABLE", compiled)
    w = 2**23 + 64  # one row: its pixels' padded indices run from w + 4 to 2 w + 3, past 2^24 at the end
    X = (np.arange(w, dtype=np.float32) % 251).reshape(w, 1)
    out = random_affine(X, np.random.default_rng(0), image_shape=(1, w), rotation=0, scale=(1, 1), shear=0, translation=0)
    assert out.dtype == np.float32
    wrong = np.flatnonzero(out[:, 0] != X[:, 0])
    assert wrong.size == 0, f"pixels {wrong[:4].tolist()} read {out[wrong[:4], 0].tolist()}, not {X[wrong[:4], 0].tolist()}"
