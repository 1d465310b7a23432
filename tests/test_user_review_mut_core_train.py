"""Tests for mutants of propagation, training, fold_state and _validation that no test killed
(mutation review of the core training modules)."""

from __future__ import annotations

import numpy as np
import pytest

from functional_nn import forward_propagation, predict_proba
from functional_nn.fold_state import EarlyStopping
from functional_nn.training import train


def _zero_params(sizes: tuple[int, ...]) -> dict[str, np.ndarray]:
    params: dict[str, np.ndarray] = {}
    for l in range(1, len(sizes)):
        params[f"W{l}"] = np.zeros((sizes[l], sizes[l - 1]))
        params[f"b{l}"] = np.zeros((sizes[l], 1))
    return params


def test_multi_label_accuracy_counts_an_output_and_a_target_of_exactly_one_half_as_class_1() -> None:
    # zero weights: every sigmoid output is sigmoid(0) = 0.5 exactly, on the threshold, so class 1;
    # targets of 0.5 are class 1 too: columns [1, 1] and [0.5, 0.5] are right, [0, 0] is not: 2/3
    X = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    Y = np.array([[1.0, 0.5, 0.0], [1.0, 0.5, 0.0]])
    result = train(
        X, Y, _zero_params((2, 3, 2)), activations=("relu", "sigmoid"), loss="binary_cross_entropy",
        epochs=1, learning_rate=0.1,
    )  # fmt: skip
    assert result.history[0].accuracy == pytest.approx(2 / 3, abs=0, rel=1e-15)


def test_a_keep_probability_whose_16_bit_draws_keep_1_7_percent_more_is_refused() -> None:
    # ceil(0.00075 * 65536) = ceil(49.152) = 50 draws of 65536 kept: 50 / 49.152 = 1.01725, past 1%
    X = np.ones((2, 3))
    params = _zero_params((2, 3, 1))
    with pytest.raises(ValueError, match=r"keep_probs\[0\] is 0\.00075, but dropout's 16-bit draws would keep 0\.0007629"):
        forward_propagation(X, params, ("relu", "sigmoid"), keep_probs=0.00075, rng=np.random.default_rng(0))


def test_an_input_divisor_subnormal_in_float32_is_refused_even_where_the_batches_stay_finite() -> None:
    # 1e-38 is below float32's smallest normal 1.1755e-38; 0/1 pixels divided by it stay finite (1e38)
    X = np.array([[0, 1, 1], [1, 0, 1]], dtype=np.uint8)
    Y = np.array([[0.0, 1.0, 1.0]], dtype=np.float32)
    params = {key: value.astype(np.float32) for key, value in _zero_params((2, 3, 1)).items()}
    with pytest.raises(ValueError, match=r"input_divisor must lie within float32's normal range"):
        train(X, Y, params, activations=("relu", "sigmoid"), loss="binary_cross_entropy", epochs=1, learning_rate=0.1,
              input_divisor=1e-38)  # fmt: skip


@pytest.mark.parametrize("layout", ["C", "strided"])
def test_a_nan_at_the_last_element_of_a_finite_check_block_is_found(layout: str) -> None:
    # all_finite checks arrays past 2**18 elements block by block: the NaN sits at the last
    # element of the first block (C order), or in the last column of a non-contiguous view
    m = 2**18 + 8
    if layout == "C":
        X = np.ones((1, m))
        X[0, 2**18 - 1] = np.nan
    else:
        X = np.ones((2, 2 * m))[:, ::2]
        X[1, m - 1] = np.nan
    params = _zero_params((X.shape[0], 1))
    with pytest.raises(ValueError, match=r"^X contains 1 NaN or infinite value\(s\)$"):
        predict_proba(X, params, ("sigmoid",))


def test_a_bias_of_two_columns_is_refused_naming_its_shape() -> None:
    params = _zero_params((2, 3, 1))
    params["b1"] = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"params\['b1'\] must have shape \(3, 1\) to match W1 \(3, 2\), got \(3, 2\)"):
        forward_propagation(np.ones((2, 4)), params, ("relu", "sigmoid"))


def test_early_stoppings_defaults_are_the_dev_cost_and_no_min_delta() -> None:
    stopping = EarlyStopping(3)
    assert stopping.monitor == "dev_cost"
    assert stopping.min_delta == 0.0
