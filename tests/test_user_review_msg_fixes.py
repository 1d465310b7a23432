"""Messages said in the words of whoever wrote the call: a diverged estimator names its settings,
and dropout without a hidden layer is refused (a dev pair's transposition: test_user_review_final_review_50)."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest

from functional_nn.sklearn import MLPClassifier, MLPRegressor
from functional_nn.training import TrainingDivergedError
from functional_nn.types import FloatArray


def _regression(rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    X = rng.normal(size=(40, 3))
    return X, X @ np.array([1.0, -2.0, 0.5])


# 1. a diverged estimator names its own settings, not train's arguments


def test_a_diverged_regressor_advises_a_smaller_learning_rate_setting(rng: np.random.Generator) -> None:
    X, y = _regression(rng)
    with pytest.raises(TrainingDivergedError) as caught:
        MLPRegressor((8,), learning_rate=1e6, epochs=5, random_state=0).fit(X, y)
    message = str(caught.value)
    assert message.startswith("training diverged at epoch 2: the cost is ")
    assert message.endswith("; try a smaller learning_rate (now 1e+06) (or check X and y for extreme values)")
    assert isinstance(caught.value, FloatingPointError)
    cause = caught.value.__cause__
    assert isinstance(cause, TrainingDivergedError)  # train's own, chained
    assert str(cause).endswith("; try a smaller learning rate (or check the data for extreme values)")


def test_a_float32_weight_past_its_bound_is_named_as_coefs_and_float64_as_dtype(rng: np.random.Generator) -> None:
    X, y = _regression(rng)
    with pytest.raises(TrainingDivergedError) as caught:
        MLPClassifier((), learning_rate=1e7, epochs=5, random_state=0, dtype="float32").fit(X, (y > 0).astype(int))
    message = str(caught.value)
    assert message.startswith(
        "training diverged at epoch 1: coefs_[0] (the weights into the output layer) holds a value of magnitude 1e+07, "
        "beyond the float32 bound 8.389e+06"
    ), message
    assert message.endswith(
        "; try a smaller learning_rate (now 1e+07), or, if X and y need weights this large (targets of that size, say), "
        "rescale X and y or fit with dtype='float64' (bound 4.504e+15)"
    ), message
    for core_word in ("W1", "float64 params", "learning rate"):
        assert core_word not in message
    assert "W1 holds" in str(caught.value.__cause__)


def test_the_worded_error_pickles_with_its_message(rng: np.random.Generator) -> None:
    X, y = _regression(rng)
    with pytest.raises(TrainingDivergedError) as caught:
        MLPRegressor((8,), optimizer="sgd", learning_rate=1e6, epochs=5, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(caught.value))
    assert type(again) is TrainingDivergedError and str(again) == str(caught.value)
    assert "learning_rate (now 1e+06)" in str(again)


# 2. dropout needs a hidden layer to drop units of


@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_dropout_without_a_hidden_layer_is_refused_at_fit(estimator: type[MLPClassifier | MLPRegressor], rng: np.random.Generator) -> None:
    X, y = _regression(rng)
    model = estimator((), dropout=0.5, epochs=1, random_state=0)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "dropout=0.5 drops hidden units, but hidden_layer_sizes=() gives the network no hidden layer: set "
            "dropout=0.0 (no dropout), or give hidden_layer_sizes a layer such as (100,)"
        ),
    ):
        model.fit(X, (y > 0).astype(int))
    assert not hasattr(model, "params_")
    fitted = estimator((), dropout=0.0, epochs=1, random_state=0).fit(X, (y > 0).astype(int))  # no dropout: fine
    assert fitted.n_iter_ == 1
