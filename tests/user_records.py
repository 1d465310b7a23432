"""A user's own activation, shared by the tests of the features that take one: softsign,
written as a user might, at module level so that it pickles (Dask, scikit-learn's clone)."""

from __future__ import annotations

import numpy as np

from functional_nn.types import ActivationFunction, FloatArray

def softsign(Z: FloatArray) -> FloatArray:
    r""":math:`z / (1 + |z|)`."""
    A = np.abs(Z)
    A += 1
    np.divide(Z, A, out=A)
    return A


def softsign_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    r""":math:`dA / (1 + |z|)^2`."""
    dZ = np.abs(Z)
    dZ += 1
    dZ *= dZ
    np.divide(dA, dZ, out=dZ)
    return dZ


SOFTSIGN = ActivationFunction("softsign", softsign, softsign_backward, (-1.0, 1.0))
