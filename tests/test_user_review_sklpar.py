"""A user's review of the scikit-learn estimators inside scikit-learn's own tools: what was wrong."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pytest
import sklearn

from functional_nn.sklearn import MLPRegressor


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_target_holding_nan_or_infinity_is_named_as_such_when_assume_finite_skips_scikit_learns_check(
    bad: float, dtype: Literal["float64", "float32"], rng: np.random.Generator
) -> None:
    # sklearn.set_config(assume_finite=True) (scikit-learn's documented speed-up) skips
    # validate_data's finiteness check; the regressor still refused such a y, but called NaN or
    # infinity a value "beyond the range of the network's dtype" and advised to rescale y.
    X = rng.standard_normal((20, 4))
    y = X[:, 0].copy()
    y[3] = bad
    message = r"^y contains 1 NaN or infinite value\(s\)$"
    with sklearn.config_context(assume_finite=True):
        with pytest.raises(ValueError, match=message):
            MLPRegressor((4,), epochs=1, random_state=0, dtype=dtype).fit(X, y)
        fitted = MLPRegressor((4,), epochs=1, random_state=0, dtype=dtype).fit(X, X[:, 0])
        with pytest.raises(ValueError, match=message):
            fitted.partial_fit(X, y)
        # a finite y too large for float32 is still told so
        if dtype == "float32":
            with pytest.raises(ValueError, match=r"y holds values up to 1e\+300 in magnitude, beyond the range"):
                fitted.partial_fit(X, np.where(np.arange(20) == 3, 1e300, X[:, 0]))
