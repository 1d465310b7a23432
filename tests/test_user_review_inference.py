"""A user's review of inference after training: what a network trained once is predicted with.

Training on integer pixels with ``input_divisor`` divides only ``X``; the dev set is given in
floats. A dev set of integers is refused, and the error must say how to divide it as the
batches are: its generic advice, ``x.astype(np.float64)``, would score the network on inputs
``input_divisor`` times larger than any it trained on, silently (dev figures, early stopping
and its ``best_params`` all of them).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from functional_nn import TrainResult, initialize_parameters, one_hot, train


@pytest.mark.parametrize(("dtype", "divisor", "hint"), [
    (np.float32, 16.0, "np.divide(dev[0], np.float32(16), dtype=np.float32)"),
    (np.float64, 255, "np.divide(dev[0], np.float64(255), dtype=np.float64) (for 255: scale_pixels(dev[0], dtype=np.float64)"),
])  # fmt: skip
def test_integer_dev_set_with_input_divisor_names_the_division(
    rng: np.random.Generator, dtype: type[np.float32] | type[np.float64], divisor: float, hint: str
) -> None:
    pixels = rng.integers(0, 17, size=(4, 30), dtype=np.uint8)
    Y = one_hot(rng.integers(0, 2, 30), 2, dtype=dtype)
    params = initialize_parameters([4, 3, 2], rng, dtype=dtype)

    def run(X: Any, X_dev: Any, input_divisor: float | None) -> TrainResult:
        return train(
            X, Y, params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=1, learning_rate=0.1,
            dev=(X_dev, Y), input_divisor=input_divisor,
        )  # fmt: skip

    with pytest.raises(TypeError, match=r"^dev\[0\] has dtype uint8, but input_divisor divides only X: .*" + re.escape(hint)):
        run(pixels, pixels, divisor)
    # the division named is the batches' own: training on it in floats is training on the integers
    divided = np.divide(pixels, dtype(divisor), dtype=dtype)
    on_integers, on_floats = run(pixels, divided, divisor), run(divided, divided, None)
    assert all(np.array_equal(on_integers.params[key], on_floats.params[key]) for key in params)
    assert on_integers.history == on_floats.history
