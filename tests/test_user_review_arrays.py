"""Found by a user review of the kinds of arrays a user passes.

``train(..., input_divisor=255)`` takes integer pixels, best Fortran-ordered (``data.T``), and
with Numba installed gathers and divides each batch in one compiled pass. Integers in the other
byte order (``">u2"``, as a big-endian file gives them) reached that pass: Numba refused their
type with a page of its own traceback, or, once the pass had been compiled for an unaligned
array of the same integers, took them for that one and read their bytes swapped, so training
went on silently on other pixels. They now take NumPy's passes, which convert them.

The integer ``X`` of ``input_divisor`` was not checked as a float ``X`` is: a ``numpy.matrix``
or a masked array failed deep inside NumPy ("shapes (2,8) and (2,8) not aligned"), a subclass
was blamed on ``grads['dW1']``, a 1-D ``uint8`` ``X`` was told it was "already in floats", and
``timedelta64`` failed in ``np.iinfo``. And an optimizer's ``update`` given a list for a
gradient said only that "grads['dW1'] and params['W1'] must be numpy ndarrays".
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from functional_nn import Activation, FloatArray, adam, initialize_parameters, one_hot, train
from functional_nn.fused import Kernel

SIZES = (6, 4, 3)
ACTIVATIONS: tuple[Activation, ...] = ("relu", "softmax")


def _problem(rng: np.random.Generator) -> tuple[np.ndarray[Any, np.dtype[np.uint16]], FloatArray, dict[str, FloatArray]]:
    """Pixels as rows ``(m, n_0)`` of native ``uint16``, one-hot targets ``(3, m)`` and params."""
    pixels = rng.integers(0, 256, (10, SIZES[0])).astype(np.uint16)
    Y = one_hot(rng.integers(0, 3, 10), 3)
    return pixels, Y, initialize_parameters(list(SIZES), np.random.default_rng(1))


def _train(X: np.ndarray[Any, Any], Y: FloatArray, params: dict[str, FloatArray], kernel: Kernel) -> dict[str, FloatArray]:
    return train(
        X, Y, params, activations=ACTIVATIONS, loss="categorical_cross_entropy", epochs=2, learning_rate=0.1,
        batch_size=4, rng=np.random.default_rng(2), input_divisor=255, kernel=kernel,
    ).params  # fmt: skip


def _unaligned(rows: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """A copy of ``rows`` whose buffer starts one byte into a larger one (as a Dask worker may receive it)."""
    buffer = np.zeros(rows.nbytes + 1, np.uint8)
    copy = np.frombuffer(buffer[1:].data, dtype=rows.dtype).reshape(rows.shape)
    copy[...] = rows
    assert not copy.flags.aligned
    return copy


@pytest.mark.parametrize("kernel", ["numba", "numpy"])
def test_big_endian_pixels_train_as_the_same_native_ones_do(rng: np.random.Generator, kernel: Kernel) -> None:
    pixels, Y, params = _problem(rng)
    expected = _train(pixels.T, Y, params, kernel)  # Fortran-ordered, as the docstring advises
    trained = _train(pixels.astype(">u2").T, Y, params, kernel)
    for key in params:
        np.testing.assert_array_equal(trained[key], expected[key])


def test_big_endian_pixels_are_not_read_byte_swapped_after_an_unaligned_array(rng: np.random.Generator) -> None:
    pixels, Y, params = _problem(rng)
    expected = _train(pixels.T, Y, params, "numba")
    unaligned = _train(_unaligned(pixels).T, Y, params, "numba")  # compiles the pass for unaligned uint16
    trained = _train(pixels.astype(">u2").T, Y, params, "numba")
    for key in params:
        np.testing.assert_array_equal(unaligned[key], expected[key])
        np.testing.assert_array_equal(trained[key], expected[key])


def _matrix(pixels: np.ndarray[Any, Any]) -> np.matrix[Any, Any]:
    with warnings.catch_warnings():  # NumPy's advice against np.matrix, which is what this test passes
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return np.asmatrix(pixels)


class _Pixels(np.ndarray):  # a user's own subclass
    pass


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (_matrix, TypeError, r"^X is a numpy\.matrix, which is not supported: convert it with np\.asarray\(X\)$"),
        (lambda p: np.ma.MaskedArray(p, mask=p > 200), TypeError, r"^X is a numpy\.ma\.MaskedArray, which is not supported"),
        (lambda p: p.view(_Pixels), TypeError, r"^X is a .*_Pixels, a subclass of numpy\.ndarray, which is not supported"),
        (lambda p: p[0], ValueError, r"^X must be 2-D, got shape \(10,\)$"),
        (lambda p: p.astype("m8[s]"), TypeError, r"^input_divisor is for X of integers \(such as uint8 pixels\), got timedelta64\[s\] \(6, 10\)$"),
        (lambda p: p.tolist(), TypeError, r"got list \(np\.asarray\(X, dtype=np\.uint8\) converts 0\.\.255 pixels\)$"),
    ],
)  # fmt: skip
def test_integer_X_of_input_divisor_is_checked_as_a_float_X_is(
    rng: np.random.Generator, make: Any, error: type[Exception], message: str
) -> None:
    pixels, Y, params = _problem(rng)
    with pytest.raises(error, match=message):
        _train(make(pixels.T.astype(np.uint8)), Y, params, "numpy")


def test_an_optimizers_update_names_what_came_for_a_gradient() -> None:
    params = initialize_parameters([3, 2], np.random.default_rng(1))
    optimizer = adam(0.1)
    state = optimizer.init(params)
    listed: dict[str, Any] = {"dW1": np.zeros((2, 3)).tolist(), "db1": np.zeros((2, 1))}
    with pytest.raises(TypeError, match=r"^grads\['dW1'\] must be a numpy ndarray like params\['W1'\], got list \(np\.asarray\(grads\['dW1'\], dtype=np\.float64\) converts it\)$"):
        optimizer.update(listed, state, params)
    single = {"dW1": np.zeros((2, 3), np.float32), "db1": np.zeros((2, 1))}
    with pytest.raises(ValueError, match=r"float32 \(2, 3\) but params\['W1'\] is float64 \(2, 3\): convert it, grads\['dW1'\]\.astype\(np\.float64\)$"):
        optimizer.update(single, state, params)  # type: ignore[arg-type]
