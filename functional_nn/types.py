"""Type aliases shared by the whole library.

Samples are columns: ``X`` is ``(n_0, m)``, ``W{l}`` is ``(n_l, n_{l-1})``, ``b{l}`` is
``(n_l, 1)`` and ``AL``, ``Y`` are ``(n_L, m)``. Shapes live in docstrings; these aliases
fix the dtypes and the names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.floating[Any]]
"""A float32 or float64 array; a network keeps the dtype of its parameters."""

IntArray: TypeAlias = npt.NDArray[np.integer[Any]]
"""Integer class labels or indices."""

Params: TypeAlias = Mapping[str, FloatArray]
"""``"W1"``, ``"b1"``, ..., ``"WL"``, ``"bL"``: weights ``(n_l, n_{l-1})``, biases ``(n_l, 1)``."""

Grads: TypeAlias = Mapping[str, FloatArray]
"""``"dW1"``, ``"db1"``, ...: each shaped like the parameter it belongs to."""

Activation: TypeAlias = Literal["linear", "relu", "leaky_relu", "sigmoid", "tanh", "softmax"]
Loss: TypeAlias = Literal["binary_cross_entropy", "categorical_cross_entropy", "mean_squared_error"]
InitScheme: TypeAlias = Literal["standard_normal", "uniform", "scaled_normal", "he", "xavier"]
FloatDType: TypeAlias = type[np.floating[Any]]
"""numpy.float32 or numpy.float64 (others are refused at run time)."""


class LayerCache(NamedTuple):
    """What layer ``l`` remembers from the forward pass for the backward pass.

    ``A`` is the activation before dropout; ``dropout_mask`` is ``None`` when the layer
    drops nothing, else the inverted-dropout mask already divided by the keep probability,
    so the layer's output was ``A * dropout_mask``.
    """

    A_prev: FloatArray  # (n_{l-1}, m)
    W: FloatArray  # (n_l, n_{l-1})
    Z: FloatArray  # (n_l, m)
    A: FloatArray  # (n_l, m)
    activation: Activation
    dropout_mask: FloatArray | None = None  # (n_l, m)


Caches: TypeAlias = tuple[LayerCache, ...]
"""``caches[l - 1]`` belongs to layer ``l``."""
