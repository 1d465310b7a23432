r"""Initial weights and biases.

The order of random draws is part of the contract, so that a tutorial's run can be
reproduced from the same generator: layer by layer, ``W_l`` then ``b_l`` (only when the
scheme draws biases), one generator call per array with exactly that array's shape, always
drawn in float64 and then cast to ``dtype`` (a float32 network is the float64 one rounded).

======================  =================================================  ======================
scheme                  :math:`W_l`, shape ``(n_l, n_{l-1})``              :math:`b_l`, ``(n_l, 1)``
======================  =================================================  ======================
``"standard_normal"``   ``rng.standard_normal``: :math:`N(0, 1)`            ``rng.standard_normal``
``"uniform"``           ``rng.random(shape) - 0.5``: :math:`U[-0.5, 0.5)`  same
``"scaled_normal"``     :math:`0.01\,N(0, 1)`                               0
``"he"``                :math:`N(0, 2 / n_{l-1})`                           0
``"xavier"``            :math:`N(0, 2 / (n_{l-1} + n_l))` (Glorot)          0
======================  =================================================  ======================

``"he"`` and ``"xavier"`` are the *normal* variants (PyTorch's ``kaiming_normal_`` and
``xavier_normal_``, fan_in :math:`= n_{l-1}`, fan_out :math:`= n_l`); their uniform
variants are not offered, and ``"uniform"`` does not depend on the layer's size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, get_args

import numpy as np

from functional_nn import _validation as check
from functional_nn.types import FloatArray, FloatDTypeLike, InitScheme

INIT_SCHEMES: Final[tuple[InitScheme, ...]] = get_args(InitScheme)

_HE = "did you mean 'he'? It draws N(0, 2 / fan_in)"
_GLOROT = "did you mean 'xavier'? It draws Glorot normal, N(0, 2 / (fan_in + fan_out))"
_NO_UNIFORM = (
    "{} uniform is not offered: {!r} draws the same variance from a normal distribution, {}; "
    "'uniform' is U[-0.5, 0.5) whatever the layer's size"
)
# PyTorch's and Keras' names, which the closest spelling would take for another scheme
# ("he_normal" for "scaled_normal", "glorot_uniform" for "uniform")
_OTHER_LIBRARIES_NAMES: Final[dict[str, str]] = {
    **dict.fromkeys(("he_normal", "kaiming", "kaiming_normal"), _HE),
    **dict.fromkeys(("glorot", "glorot_normal", "xavier_normal"), _GLOROT),
    **dict.fromkeys(("he_uniform", "kaiming_uniform"), _NO_UNIFORM.format("He", "he", "N(0, 2 / fan_in)")),
    **dict.fromkeys(
        ("glorot_uniform", "xavier_uniform"), _NO_UNIFORM.format("Glorot", "xavier", "N(0, 2 / (fan_in + fan_out))")
    ),
}


def check_scheme(argument: str, value: object) -> InitScheme:
    """``value`` if it is one of ``INIT_SCHEMES``, else ``ValueError`` naming ``argument``
    (``TypeError`` for a non-string), with a hint for PyTorch's and Keras' names."""
    return check.check_name(argument, value, INIT_SCHEMES, hints=_OTHER_LIBRARIES_NAMES)


def _draw_layer(
    scheme: InitScheme, n_l: int, n_prev: int, rng: np.random.Generator
) -> tuple[np.ndarray[tuple[int, int], np.dtype[np.float64]], np.ndarray[tuple[int, int], np.dtype[np.float64]]]:
    shape_W, shape_b = (n_l, n_prev), (n_l, 1)
    if scheme == "standard_normal":
        W = rng.standard_normal(shape_W)
        return W, rng.standard_normal(shape_b)
    if scheme == "uniform":
        W = rng.random(shape_W) - 0.5
        return W, rng.random(shape_b) - 0.5
    if scheme == "scaled_normal":
        scale = 0.01
    elif scheme == "he":
        scale = math.sqrt(2.0 / n_prev)
    else:  # "xavier"
        scale = math.sqrt(2.0 / (n_prev + n_l))
    return rng.standard_normal(shape_W) * scale, np.zeros(shape_b)


def initialize_parameters(
    layer_sizes: Sequence[int],
    rng: np.random.Generator,
    *,
    scheme: InitScheme = "he",
    dtype: FloatDTypeLike = np.float64,
) -> dict[str, FloatArray]:
    r"""Weights and biases for a network with ``layer_sizes = (n_0, n_1, ..., n_L)``.

    Parameters
    ----------
    layer_sizes : sequence of int, length L + 1 >= 2
        Input features, then the units of each layer; every size >= 1.
    rng : numpy.random.Generator
        The only source of randomness; it is advanced by the draws (see the module's
        docstring for their order).
    scheme : {"he", "xavier", "scaled_normal", "standard_normal", "uniform"}, default "he"
    dtype : numpy.float32 or numpy.float64, default numpy.float64

    Returns
    -------
    params : dict of str to ndarray
        ``"W1"``: ``(n_1, n_0)``, ``"b1"``: ``(n_1, 1)``, ..., ``"WL"``, ``"bL"``.

    Examples
    --------
    >>> params = initialize_parameters([2, 3, 1], np.random.default_rng(0), scheme="standard_normal")
    >>> {k: v.shape for k, v in params.items()}
    {'W1': (3, 2), 'b1': (3, 1), 'W2': (1, 3), 'b2': (1, 1)}
    """
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, Sequence):
        raise TypeError(f"layer_sizes must be a sequence of ints such as [784, 10, 10], got {type(layer_sizes).__name__}")
    if len(layer_sizes) < 2:
        raise ValueError(f"layer_sizes needs at least the input size and one layer, got {list(layer_sizes)}")
    sizes = [check.check_positive_int(f"layer_sizes[{i}]", n) for i, n in enumerate(layer_sizes)]
    check.check_generator("rng", rng)
    scheme = check_scheme("scheme", scheme)
    check.check_float_dtype("dtype", dtype)
    params: dict[str, FloatArray] = {}
    for l in range(1, len(sizes)):
        W, b = _draw_layer(scheme, sizes[l], sizes[l - 1], rng)
        params[f"W{l}"] = W.astype(dtype)
        params[f"b{l}"] = b.astype(dtype)
    return params
