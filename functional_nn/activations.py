r"""Activation functions :math:`A = g(Z)` and their backward passes :math:`dZ = dA \odot g'(Z)`.

Every function keeps the shape and dtype of its input and never writes into it. The backward
pass takes the forward pass's ``Z`` and ``A`` so that nothing is computed twice: the sigmoid's
derivative is :math:`A(1 - A)`, the tanh's :math:`1 - A^2`. Softmax couples the units of a
column, so its backward pass is the Jacobian-vector product
:math:`dZ = A \odot (dA - \mathbf{1}\,\mathbf{1}^\top (A \odot dA))`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, get_args

import numpy as np

from functional_nn import _validation as check
from functional_nn.types import Activation, ActivationFunction, FloatArray, LossFunction

LEAKY_RELU_SLOPE: Final = 0.01



def linear(Z: FloatArray) -> FloatArray:
    r""":math:`g(z) = z`. Returns ``Z`` itself: arrays are never written in place here."""
    return Z


def relu(Z: FloatArray) -> FloatArray:
    r""":math:`g(z) = \max(z, 0)`, elementwise; shape and dtype of ``Z``."""
    # max against an array of zeros, not the scalar 0: NumPy vectorises the array-array loop
    # only, which makes this several times faster on the hidden layers of a training step.
    A = np.zeros_like(Z)
    np.maximum(Z, A, out=A)  # A is a fresh temporary
    return A


def leaky_relu(Z: FloatArray) -> FloatArray:
    r""":math:`g(z) = z` for :math:`z > 0`, else :math:`0.01\,z`.

    Computed as :math:`\max(z, 0.01\,z)`, which is the same for a slope in (0, 1).
    """
    with np.errstate(under="ignore"):  # 0.01 z of a subnormal z rounds, rightly
        A = Z * LEAKY_RELU_SLOPE
    np.maximum(Z, A, out=A)  # A is a fresh temporary
    return A


def sigmoid(Z: FloatArray) -> FloatArray:
    r""":math:`\sigma(z) = 1 / (1 + e^{-z})`, computed without overflow for any finite ``z``.

    With :math:`e = e^{-|z|} \in (0, 1]`: :math:`\sigma(z) = 1/(1+e)` for :math:`z \ge 0` and
    :math:`e/(1+e)` for :math:`z < 0`, so ``exp`` never sees a large positive argument.
    """
    # Far in the tails e^{-|z|} falls below the smallest normal number: rounding it to zero
    # is the right answer, not an error, even for a caller running under errstate(all="raise").
    with np.errstate(under="ignore"):
        e = np.abs(Z)
        np.negative(e, out=e)
        np.exp(e, out=e)  # e is a fresh temporary, written in place from here on
        denominator = e + 1
        # The numerator, 1 for z >= 0 and e for z < 0, as max(e, [z >= 0]) since 0 < e <= 1:
        # a vectorised max instead of a masked copy, which NumPy runs element by element.
        A = (Z >= 0).astype(Z.dtype)
        np.maximum(A, e, out=A)
        A /= denominator
    return A


def tanh(Z: FloatArray) -> FloatArray:
    r""":math:`g(z) = \tanh z`."""
    return np.tanh(Z)


def softmax(Z: FloatArray) -> FloatArray:
    r"""Softmax over each column: :math:`a_{ij} = e^{z_{ij} - \max_k z_{kj}} / \sum_k e^{z_{kj} - \max_k z_{kj}}`.

    Subtracting each column's maximum keeps every exponent :math:`\le 0`, so nothing overflows
    and each column sums to 1 within the dtype's precision.

    Infinite logits give the formula's limits, never NaN. In a column whose maximum is
    :math:`+\infty`, the entries equal to :math:`+\infty` share the mass equally and every
    other entry is 0; a column of :math:`n` entries all :math:`-\infty` is uniform, the limit
    of equal logits:

    .. math::

        a_{ij} = \begin{cases} 1/|K_j| & i \in K_j \\ 0 & i \notin K_j \end{cases}
        \quad \text{where } K_j = \{i : z_{ij} = +\infty\} \ne \emptyset, \qquad
        a_{ij} = 1/n \quad \text{if every } z_{kj} = -\infty

    A column holding NaN gives NaN throughout. The other columns' values are the formula's,
    bit for bit: the limits cost them one test of the ``(1, m)`` row of maxima.

    Parameters
    ----------
    Z : ndarray of shape (n, m)
        Logits, one sample per column; not modified.

    Returns
    -------
    A : ndarray of shape (n, m)
        A fresh array in ``Z``'s dtype, each column a distribution (or NaN, as above).
    """
    column_max: FloatArray = Z.max(axis=0, keepdims=True)
    # Logits more than the dtype's range apart make Z - max overflow to -inf, and e^-inf = 0
    # is the right answer; tiny exponentials likewise round to 0. An infinite maximum makes
    # inf - inf (invalid) in its column, whose shifts are then replaced by the limits' own.
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        E = Z - column_max
        infinite = np.isinf(column_max)
        if np.count_nonzero(infinite):  # 0.5 us on a (1, 128) row, where .any() takes 1.1 us
            # E = 0 where z equals the maximum and -inf elsewhere, in those columns only: then
            # e^E is 1 at the k maxima (all n entries of a column of -inf) and 0 elsewhere, and
            # the division by the column sum gives 1/k. A NaN maximum is not infinite: it stays.
            limits = np.where(Z == column_max, Z.dtype.type(0), Z.dtype.type(-np.inf))
            np.copyto(E, limits, where=infinite)
        np.exp(E, out=E)  # E is a fresh temporary
    column_sum: FloatArray = E.sum(axis=0, keepdims=True)
    E /= column_sum
    return E


# Backward passes. Each ``*_backward`` leaves ``dA`` untouched; each ``*_backward_in_place``
# computes the same values but may overwrite ``dA`` and return it, which the propagation
# kernel uses on the fresh ``W^T dZ`` it has just made, saving an array per layer.


def linear_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    r""":math:`dZ = dA`: returns ``dA`` itself, which it does not write."""
    return dA


def _relu_mask(A: FloatArray) -> FloatArray:
    """1 where :math:`a > 0` (for relu's output: where :math:`z > 0`), else 0, in ``A``'s dtype."""
    # A float mask: multiplying by it runs the vectorised float loop, not a bool-to-float cast.
    return (A > 0).astype(A.dtype)


def relu_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    r""":math:`dZ = dA \odot [a > 0]`, with ``A`` relu's output (``(n_l, m)``, as ``dA``)."""
    dZ = _relu_mask(A)
    dZ *= dA  # dZ is a fresh temporary
    return dZ


def relu_backward_in_place(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    r"""``relu_backward``'s values, written into ``dA`` and returned: only for a ``dA`` the caller owns."""
    dA *= _relu_mask(A)
    return dA


def _leaky_relu_slopes(Z: FloatArray) -> FloatArray:
    """:math:`g'(z)`: 1 where :math:`z > 0`, else the slope, in ``Z``'s dtype."""
    slopes = np.full_like(Z, LEAKY_RELU_SLOPE)
    np.maximum(slopes, _relu_mask(Z), out=slopes)  # max(slope, [z > 0]), slope < 1
    return slopes


def leaky_relu_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    r""":math:`dZ = dA \odot g'(z)`, :math:`g'(z) = 1` for :math:`z > 0`, else ``LEAKY_RELU_SLOPE``."""
    dZ = _leaky_relu_slopes(Z)
    with np.errstate(under="ignore"):
        dZ *= dA  # dZ is a fresh temporary
    return dZ


def leaky_relu_backward_in_place(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    r"""``leaky_relu_backward``'s values, written into ``dA`` and returned: only for a ``dA`` the caller owns."""
    with np.errstate(under="ignore"):
        dA *= _leaky_relu_slopes(Z)
    return dA


def sigmoid_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    r""":math:`dZ = dA \odot a (1 - a)`."""
    dZ = 1 - A
    with np.errstate(under="ignore"):
        dZ *= A  # dZ is a fresh temporary
        dZ *= dA
    return dZ


def tanh_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    r""":math:`dZ = dA \odot (1 - a^2)`."""
    with np.errstate(under="ignore"):
        dZ = A * A
        np.subtract(1, dZ, out=dZ)  # dZ is a fresh temporary
        dZ *= dA
    return dZ


def softmax_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    r""":math:`dZ_{kj} = a_{kj}\big(dA_{kj} - \sum_i a_{ij}\, dA_{ij}\big)`: the softmax Jacobian applied to each column.

    ``dA``, ``A`` and the result are ``(n_L, m)``. With categorical cross-entropy the fold skips
    this and uses :math:`dZ = A - Y` directly.
    """
    with np.errstate(under="ignore"):
        dZ = A * dA
        weighted: FloatArray = dZ.sum(axis=0, keepdims=True)
        np.subtract(dA, weighted, out=dZ)  # dZ is a fresh temporary
        dZ *= A
    return dZ


# The activations users of other libraries expect. Their backward passes take the forward
# pass's Z (their derivatives are not functions of A alone) and write into nothing.

# W. J. Cody's rational Chebyshev approximations of erf and erfc (Math. Comp. 23, 1969,
# pp. 631-638; the coefficients of his CALERF), accurate to the float64 rounding: the first
# for erf on |x| <= 0.46875, the second for erfc on (0.46875, 4], the third for erfc beyond.
_ERF_SMALL_P: Final = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03)
_ERF_SMALL_P_LEAD: Final = 1.85777706184603153e-1
_ERF_SMALL_Q: Final = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_ERFC_MID_P: Final = (
    5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
    8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
)  # fmt: skip
_ERFC_MID_P_LEAD: Final = 2.15311535474403846e-8
_ERFC_MID_Q: Final = (
    1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
    3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03,
)  # fmt: skip
_ERFC_LARGE_P: Final = (
    3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
    6.58749161529837803e-4,
)  # fmt: skip
_ERFC_LARGE_P_LEAD: Final = 1.63153871373020978e-2
_ERFC_LARGE_Q: Final = (
    2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
    2.33520497626869185e-3,
)  # fmt: skip
_ERF_SMALL_LIMIT: Final = 0.46875
_ERFC_MID_LIMIT: Final = 4.0
_ERFC_ZERO_BEYOND: Final = 40.0  # erfc(40) = 1e-697 is 0 in every float dtype
_INV_SQRT_PI: Final = 1 / math.sqrt(math.pi)
_INV_SQRT_2: Final = 1 / math.sqrt(2)
_SPLIT_GAUSSIAN_BEYOND: Final = _ERFC_ZERO_BEYOND * math.sqrt(2)  # z beyond which erfc(|z| / sqrt 2) is 0
_INV_SQRT_2PI: Final = 1 / math.sqrt(2 * math.pi)


def _rational(x: FloatArray, lead: float, p: tuple[float, ...], q: tuple[float, ...]) -> FloatArray:
    """Cody's nested form: ``(((lead x + p0) x + p1) x ... + p_n) / (((x + q0) x + q1) x ... + q_n)``."""
    numerator = x * lead
    denominator = x.copy()
    for p_i, q_i in zip(p[:-1], q[:-1]):
        numerator += p_i
        numerator *= x
        denominator += q_i
        denominator *= x
    numerator += p[-1]
    denominator += q[-1]
    numerator /= denominator
    return numerator


_CHUNK: Final = 8192
"""Elements per step of the GELU passes: their dozen temporaries stay small enough for the
allocator to reuse (and for the cache to hold), instead of a dozen fresh arrays per layer."""


def _cdf_and_gaussian(z: FloatArray) -> tuple[FloatArray, FloatArray]:
    r""":math:`\Phi(z)` and :math:`e^{-z^2/2}` for a 1-D chunk ``z``, in its dtype.

    With :math:`x = z/\sqrt2`: :math:`\Phi = \tfrac12(1 + \operatorname{erf} x)` from Cody's
    erf for :math:`|x| \le 0.46875`, else :math:`\tfrac12 \operatorname{erfc}|x|` (for
    :math:`x < 0`) or one minus it. Every branch is evaluated on clipped values, so none
    overflows, and the right one is kept per element; :math:`|x|` beyond 40, where erfc is 0
    in every dtype, is clipped to 40. Beyond :math:`|x| = 4` the Gaussian is
    ``_split_gaussian``'s, free of the rounding of a large exponent.
    """
    # Values that round to 0 or to subnormals (e^{-x^2} far out, x^2 of a tiny x) are the
    # right answers here, not errors, even for a caller under errstate(all="raise").
    with np.errstate(under="ignore"):
        x = z * _INV_SQRT_2
        y = np.abs(x)
        np.minimum(y, _ERFC_ZERO_BEYOND, out=y)
        x_small = np.clip(x, -_ERF_SMALL_LIMIT, _ERF_SMALL_LIMIT)
        erf_small = _rational(x_small * x_small, _ERF_SMALL_P_LEAD, _ERF_SMALL_P, _ERF_SMALL_Q)
        erf_small *= x_small
        half_erfc = _rational(np.minimum(y, _ERFC_MID_LIMIT), _ERFC_MID_P_LEAD, _ERFC_MID_P, _ERFC_MID_Q)
        gaussian = y * y
        np.negative(gaussian, out=gaussian)
        np.exp(gaussian, out=gaussian)
        large = y > _ERFC_MID_LIMIT
        if large.any():
            y_large = y[large]
            inverse_square = 1 / (y_large * y_large)
            tail = _rational(inverse_square, _ERFC_LARGE_P_LEAD, _ERFC_LARGE_P, _ERFC_LARGE_Q)
            tail *= inverse_square
            half_erfc[large] = (_INV_SQRT_PI - tail) / y_large
            gaussian[large] = _split_gaussian(z[large])
        half_erfc *= gaussian
        half_erfc *= 0.5
        Phi = np.where(x < 0, half_erfc, 1 - half_erfc)
        erf_small *= 0.5
        erf_small += 0.5
        np.copyto(Phi, erf_small, where=y <= _ERF_SMALL_LIMIT)
    return Phi, gaussian


def _split_gaussian(z: FloatArray) -> FloatArray:
    r""":math:`e^{-z^2/2}` for a 1-D ``z``, without the rounding of :math:`z^2`; :math:`|z|` is clipped to :math:`40\sqrt2`.

    Far out the exponent is large (about 700 at :math:`z = -37.5`, where :math:`\Phi` leaves
    the normal numbers) and its rounding alone, or that of :math:`x = z/\sqrt2`, would cost
    up to 2e-13 of the result. As in Cody's CALERF, split :math:`|z| = c + r` with
    :math:`c = \lfloor 16|z| \rfloor / 16`, whose square is exact:
    :math:`e^{-z^2/2} = e^{-c^2/2}\, e^{-r(|z| + c)/2}`, the second exponent small.
    """
    w = np.abs(z)
    np.minimum(w, _SPLIT_GAUSSIAN_BEYOND, out=w)  # no overflow of 16 |z|; e^{-z^2/2} is 0 there anyway
    c = w * 16
    np.floor(c, out=c)
    c *= 1 / 16
    small = w - c
    small *= w + c
    small *= -0.5
    np.exp(small, out=small)
    np.square(c, out=c)
    c *= -0.5
    np.exp(c, out=c)
    c *= small
    return c


def _by_chunks(function: Callable[[FloatArray], FloatArray], Z: FloatArray) -> FloatArray:
    """``function`` applied to ``Z`` ``_CHUNK`` elements at a time: a fresh array shaped like ``Z``."""
    flat = Z.reshape(-1)  # a view of the C-ordered Z that W @ A + b makes
    out = np.empty_like(flat)
    for start in range(0, flat.size, _CHUNK):
        out[start : start + _CHUNK] = function(flat[start : start + _CHUNK])
    return out.reshape(Z.shape)


def _finite(Z: FloatArray, *, upper: bool = True) -> FloatArray:
    r"""``Z`` with -inf (and +inf, if ``upper``) replaced by the dtype's largest finite values, in a new array.

    Where ``z`` multiplies a factor that is 0 at an infinite ``z`` (:math:`\Phi(-\infty)`,
    :math:`\sigma(-\infty)`, :math:`1 - \sigma(\infty)`), the product takes its limit 0
    instead of NaN; NaN stays NaN.
    """
    info = np.finfo(Z.dtype)
    return np.clip(Z, info.min, info.max) if upper else np.maximum(Z, info.min)


def normal_cdf(Z: FloatArray) -> FloatArray:
    r"""The standard normal distribution function :math:`\Phi(z) = \tfrac12\big(1 + \operatorname{erf}(z/\sqrt2)\big)`.

    Vectorised from W. J. Cody's rational approximations of erf and erfc (NumPy has no erf
    and SciPy is not a dependency), computed in ``Z``'s dtype. In float64 it is within 1e-14
    (relative) of the exact :math:`\Phi(z)` wherever that is a normal number
    (:math:`z \ge -37.5`), and exact to the rounding near the centre; below, within
    1e-321 (absolute). The tail :math:`z < 0` is taken from erfc, so it keeps its relative
    accuracy far out, and no step can overflow. ``0.5 * math.erfc(-z / math.sqrt(2))`` is
    itself up to 2e-13 off far out, where the rounding of :math:`z/\sqrt2` is magnified.
    """
    return _by_chunks(lambda z: _cdf_and_gaussian(z)[0], Z)


def _gelu_slope(z: FloatArray) -> FloatArray:
    r""":math:`g'(z) = \Phi(z) + z\,\varphi(z)` for a 1-D chunk ``z``."""
    Phi, gaussian = _cdf_and_gaussian(z)
    with np.errstate(under="ignore"):
        gaussian *= _finite(z)  # at z = +-inf: 0, not inf * 0
        gaussian *= _INV_SQRT_2PI
    Phi += gaussian
    return Phi


def gelu(Z: FloatArray) -> FloatArray:
    r"""GELU, the erf form: :math:`g(z) = z\,\Phi(z) = \tfrac{z}{2}\big(1 + \operatorname{erf}(z/\sqrt2)\big)`.

    Hendrycks and Gimpel (2016). Their approximation
    :math:`\tfrac{z}{2}\big(1 + \tanh(\sqrt{2/\pi}\,(z + 0.044715 z^3))\big)`, used by
    some libraries for speed (PyTorch's ``approximate="tanh"``), differs from this by up to
    4.7e-4 (absolute): it is another function, and a network trained with one and run with
    the other changes a little. Its minimum is :math:`g(-0.7518) = -0.16997`.
    """
    A = normal_cdf(Z)
    with np.errstate(under="ignore"):  # z * Phi(z) rounds to 0 far in the tail
        A *= _finite(Z, upper=False)  # A is a fresh temporary; g(-inf) = 0, not -inf * 0
    return A


def gelu_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    r""":math:`dZ = dA \odot \big(\Phi(z) + z\,\varphi(z)\big)`."""
    dZ = _by_chunks(_gelu_slope, Z)
    with np.errstate(under="ignore"):
        dZ *= dA  # dZ is a fresh temporary
    return dZ


def silu(Z: FloatArray) -> FloatArray:
    r"""SiLU (swish with :math:`\beta = 1`): :math:`g(z) = z\,\sigma(z)`; its minimum is :math:`g(-1.2785) = -0.27846`."""
    A = sigmoid(Z)
    with np.errstate(under="ignore"):
        A *= _finite(Z, upper=False)  # A is a fresh temporary; g(-inf) = 0, not -inf * 0
    return A


def silu_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    r""":math:`dZ = dA \odot \sigma(z)\big(1 + z(1 - \sigma(z))\big)`."""
    s = sigmoid(Z)
    with np.errstate(under="ignore"):
        dZ = 1 - s
        dZ *= _finite(Z)  # dZ is a fresh temporary; at z = +-inf the limits 1 and 0, not inf * 0
        dZ += 1
        dZ *= s
        dZ *= dA
    return dZ


def elu(Z: FloatArray) -> FloatArray:
    r"""ELU with :math:`\alpha = 1`: :math:`g(z) = z` for :math:`z > 0`, else :math:`e^z - 1` (Clevert et al., 2016)."""
    # As max(e^{min(z, 0)} - 1, z), which is the same since e^z - 1 >= z: one temporary and
    # the vectorised exp, where expm1 runs element by element (ten times slower); the
    # absolute error near 0 is the float's epsilon either way.
    A = np.minimum(Z, 0)
    with np.errstate(under="ignore"):
        np.exp(A, out=A)  # A is a fresh temporary
    A -= 1
    np.maximum(A, Z, out=A)
    return A


def elu_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    r""":math:`dZ = dA` for :math:`z > 0`, else :math:`dA \odot e^z`."""
    dZ = np.minimum(Z, 0)
    with np.errstate(under="ignore"):
        np.exp(dZ, out=dZ)  # dZ is a fresh temporary: e^z below 0, 1 above
        dZ *= dA
    return dZ


def softplus(Z: FloatArray) -> FloatArray:
    r""":math:`g(z) = \log(1 + e^z)`, as :math:`\max(z, 0) + \log(1 + e^{-|z|})` so nothing overflows."""
    with np.errstate(under="ignore"):
        tail = np.abs(Z)
        np.negative(tail, out=tail)
        np.exp(tail, out=tail)  # tail is a fresh temporary
        np.log1p(tail, out=tail)
    A = np.maximum(Z, 0)
    A += tail
    return A


def softplus_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    r""":math:`dZ = dA \odot \sigma(z)`."""
    dZ = sigmoid(Z)
    with np.errstate(under="ignore"):
        dZ *= dA  # dZ is a fresh temporary
    return dZ


# The built-ins are records of the public type, so a user's activation is read the same way.
LINEAR: Final = ActivationFunction("linear", linear, linear_backward, (-math.inf, math.inf), linear_backward)
RELU: Final = ActivationFunction("relu", relu, relu_backward, (0.0, math.inf), relu_backward_in_place)
LEAKY_RELU: Final = ActivationFunction(
    "leaky_relu", leaky_relu, leaky_relu_backward, (-math.inf, math.inf), leaky_relu_backward_in_place
)
SIGMOID: Final = ActivationFunction("sigmoid", sigmoid, sigmoid_backward, (0.0, 1.0), sigmoid_backward)
TANH: Final = ActivationFunction("tanh", tanh, tanh_backward, (-1.0, 1.0), tanh_backward)
SOFTMAX: Final = ActivationFunction("softmax", softmax, softmax_backward, (0.0, 1.0), softmax_backward)
GELU: Final = ActivationFunction("gelu", gelu, gelu_backward, (-0.17, math.inf))  # min g = -0.16997
SILU: Final = ActivationFunction("silu", silu, silu_backward, (-0.2785, math.inf))  # min g = -0.27846
ELU: Final = ActivationFunction("elu", elu, elu_backward, (-1.0, math.inf))
SOFTPLUS: Final = ActivationFunction("softplus", softplus, softplus_backward, (0.0, math.inf))

ACTIVATIONS: Final[Mapping[Activation, ActivationFunction]] = {
    "linear": LINEAR,
    "relu": RELU,
    "leaky_relu": LEAKY_RELU,
    "sigmoid": SIGMOID,
    "tanh": TANH,
    "softmax": SOFTMAX,
    "gelu": GELU,
    "silu": SILU,
    "elu": ELU,
    "softplus": SOFTPLUS,
}

ACTIVATION_NAMES: Final[tuple[Activation, ...]] = get_args(Activation)

# Other libraries' names for built-ins, which no close spelling finds: scikit-learn's
# "logistic" and "identity", the "swish" of Ramachandran et al. (2017); "softsign", which the
# closest spelling took for "softplus", another function
_OTHER_LIBRARIES_NAMES: Final[dict[str, str]] = {
    "logistic": "did you mean 'sigmoid'? It is the logistic function 1 / (1 + e^-z)",
    "identity": "did you mean 'linear'? It is the identity g(z) = z",
    "swish": "did you mean 'silu'? It is swish with beta = 1, z * sigmoid(z)",
    "softsign": "softsign, z / (1 + |z|), is not built in ('softplus' is log(1 + e^z)): 'tanh' has its range, "
    "or write an ActivationFunction of your own (check_activation checks its derivative)",
}


def resolve_activation(argument: str, value: object) -> ActivationFunction:
    """The record for ``value``, a built-in name or an ``ActivationFunction``; raise naming ``argument``.

    A record is checked for its form (a name, callables, a closed range), not its maths:
    ``check_activation`` does that. A record may not borrow a built-in's name.
    """
    if isinstance(value, str):
        return ACTIVATIONS[check.check_name(argument, value, ACTIVATION_NAMES, hints=_OTHER_LIBRARIES_NAMES)]
    if not isinstance(value, ActivationFunction):
        raise TypeError(
            f"{argument} must be one of {list(ACTIVATION_NAMES)} or an ActivationFunction record, "
            f"got {type(value).__name__} {value!r}"
        )
    check_record_name(argument, value, ACTIVATIONS)
    for field in ("forward", "backward"):
        if not callable(getattr(value, field)):
            raise TypeError(f"{argument} {value.name!r}: {field} must be a function, got {getattr(value, field)!r}")
    if value.backward_in_place is not None and not callable(value.backward_in_place):
        raise TypeError(f"{argument} {value.name!r}: backward_in_place must be a function or None")
    bounds: object = value.output_range
    if (
        not isinstance(bounds, tuple)
        or len(bounds) != 2
        or not all(isinstance(b, (int, float)) and not math.isnan(b) for b in bounds)
        or bounds[0] > bounds[1]
    ):
        raise ValueError(f"{argument} {value.name!r}: output_range must be (low, high) with low <= high, got {bounds!r}")
    return value


def check_record_name(argument: str, record: ActivationFunction | LossFunction, built_ins: Mapping[Any, object]) -> None:
    """Refuse a record without a name, or one named like a built-in that it is not."""
    name: object = record.name
    if not isinstance(name, str) or not name:
        raise ValueError(f"{argument} must have a non-empty str name, got {name!r}")
    if name in built_ins and built_ins[name] != record:
        raise ValueError(
            f"{argument} is named {record.name!r} like the built-in but is another function: give it a name "
            "of its own, so that saved parameters and checkpoints cannot mistake one for the other"
        )


def check_one_record_per_name(argument: str, records: Sequence[ActivationFunction], keeper: str) -> None:
    """Refuse two different records under one name where ``keeper`` (a parameters file, a
    checkpoint) keeps activations by name: loaded or resumed, one would stand for the other."""
    first: dict[str, int] = {}
    for i, record in enumerate(records):
        j = first.setdefault(record.name, i)
        if records[j] != record:
            raise ValueError(
                f"{argument}[{j}] and {argument}[{i}] are different activations both named {record.name!r}: "
                f"{keeper} keeps activations by name, so one would be taken for the other; give each a name of its own"
            )
