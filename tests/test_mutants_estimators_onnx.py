"""Mutation audit of ``functional_nn.sklearn`` and ``functional_nn.onnx_export``: behaviour that
no earlier test pinned, each test killing mutants that survived the estimators' and the
export's test files (what the estimators compute against the core's own forward pass, the
settings as numpy types, continuation; the ONNX graph's values bit for bit against the
library's under ONNX's reference evaluator, and the model's recorded fields)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx.reference import ReferenceEvaluator
from sklearn.model_selection import train_test_split

import functional_nn
from functional_nn import export_onnx
from functional_nn.data import one_hot
from functional_nn.fold_state import EarlyStopping
from functional_nn.initializers import initialize_parameters
from functional_nn.optimizers import Optimizer, adam, adamw, momentum, rmsprop, sgd
from functional_nn.propagation import forward_propagation, predict_proba
from functional_nn.sklearn import MLPClassifier, MLPRegressor, OptimizerName
from functional_nn.training import train
from functional_nn.types import Activation, FloatArray


def iris_like() -> tuple[FloatArray, FloatArray]:
    """30 samples of 3 features and 3 well-separated classes 0, 1, 2: small and fast to fit."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 10)
    X = rng.standard_normal((30, 3)) + 3.0 * np.eye(3)[y]
    return X, y.astype(np.float64)


def reference_output(path: Path, X_rows: FloatArray) -> FloatArray:
    """The model's output under ONNX's reference evaluator, which computes with NumPy."""
    evaluated: Any = ReferenceEvaluator(onnx.load(str(path))).run(None, {"X": X_rows})
    output: FloatArray = evaluated[0]
    return output


# -- onnx_export ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "dtype"),
    [
        ("gelu", np.float64),  # kills Floor -> Ceil in _gelu's Gaussian split (off by an ulp far out)
        ("sigmoid", np.float64),
        ("sigmoid", np.float32),
        ("silu", np.float64),
        ("silu", np.float32),
        ("elu", np.float64),
        ("leaky_relu", np.float64),
    ],
)
def test_the_composite_activations_are_the_librarys_bit_for_bit(
    name: Activation, dtype: type[np.floating], tmp_path: Path
) -> None:
    # The activations written with elementary operators take the library's own steps, so the
    # reference evaluator (NumPy underneath) gives its values exactly, tails included.
    params = {"W1": np.ones((1, 1), dtype), "b1": np.zeros((1, 1), dtype)}
    z = np.concatenate([np.linspace(-40.0, 40.0, 801), [-37.56, -12.3, -6.1, 5.7, 8.3]]).astype(dtype)
    path = export_onnx(params, (name,), tmp_path / "m.onnx")
    output = reference_output(path, z.reshape(-1, 1))
    assert output.dtype == dtype
    np.testing.assert_array_equal(output[:, 0], predict_proba(z.reshape(1, -1), params, (name,))[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "activations",
    [("relu", "softmax"), ("tanh", "linear"), ("leaky_relu", "sigmoid"), ("relu", "relu"), ("silu", "tanh")],
)
def test_a_two_layer_model_is_forward_propagation_bit_for_bit(
    activations: tuple[Activation, Activation], dtype: type[np.floating], tmp_path: Path
) -> None:
    params = initialize_parameters([4, 6, 3], np.random.default_rng(0), scheme="standard_normal", dtype=dtype)
    X = np.random.default_rng(1).standard_normal((4, 40)).astype(dtype)
    output = reference_output(export_onnx(params, activations, tmp_path / "m.onnx"), np.ascontiguousarray(X.T))
    AL, _ = forward_propagation(X, params, activations)
    assert output.dtype == dtype and output.shape == (40, 3)
    np.testing.assert_array_equal(output, AL.T)


@pytest.mark.parametrize(("opset", "ir_version"), [(9, 4), (17, 8), (20, 9)])
def test_the_model_records_its_producer_description_and_the_oldest_ir_for_its_opset(
    opset: int, ir_version: int, tmp_path: Path
) -> None:
    params = {"W1": np.ones((3, 2)), "b1": np.zeros((3, 1)), "W2": np.ones((2, 3)), "b2": np.zeros((2, 1))}
    model = onnx.load(str(export_onnx(params, ("relu", "softmax"), tmp_path / "m.onnx", opset=opset)))
    assert model.ir_version == ir_version  # onnx's helper.find_min_ir_version_for, by hand
    assert model.producer_name == "functional_nn" and model.producer_version == functional_nn.__version__
    assert model.doc_string == "A 2-3-2 multilayer perceptron (relu, softmax) exported by functional_nn"
    assert model.graph.name == "functional_nn_mlp"
    assert [node.name for node in model.graph.node if node.op_type == "Gemm"] == ["layer1", "layer2"]


# -- sklearn -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_may_be_the_numpy_type_itself(dtype: type[np.floating]) -> None:
    X, y = iris_like()
    clf = MLPClassifier((4,), epochs=2, random_state=0, dtype=dtype).fit(X, y)
    assert clf.params_["W1"].dtype == dtype and clf.predict_proba(X).dtype == dtype
    named = MLPClassifier((4,), epochs=2, random_state=0, dtype=np.dtype(dtype).name).fit(X, y)  # type: ignore[arg-type]
    for key, value in named.params_.items():
        np.testing.assert_array_equal(clf.params_[key], value)


@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_the_defaults_are_the_documented_ones(estimator: type[MLPClassifier | MLPRegressor]) -> None:
    assert estimator().get_params() == {
        "hidden_layer_sizes": (100,), "activation": "relu", "optimizer": "adam", "learning_rate": 1e-3,
        "batch_size": 200, "epochs": 200, "alpha": 1e-4, "dropout": 0.0, "init": "he", "early_stopping": False,
        "validation_fraction": 0.1, "n_iter_no_change": 10, "tol": 1e-4, "warm_start": False, "random_state": None,
        "dtype": "float64",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("name", "optimizer"),
    [
        ("adam", adam(0.05)),
        ("adamw", adamw(0.05)),
        ("sgd", sgd(0.05)),
        ("momentum", momentum(0.05)),
        ("nesterov", momentum(0.05, nesterov=True)),
        ("rmsprop", rmsprop(0.05)),
    ],
)
def test_each_optimizer_name_builds_that_optimizer_with_learning_rate(name: OptimizerName, optimizer: Optimizer) -> None:
    X, y = iris_like()
    by_name = MLPClassifier((4,), optimizer=name, learning_rate=0.05, batch_size=8, epochs=3, random_state=0).fit(X, y)
    by_record = MLPClassifier((4,), optimizer=optimizer, learning_rate=1.0, batch_size=8, epochs=3, random_state=0).fit(X, y)
    for key, value in by_record.params_.items():
        np.testing.assert_array_equal(by_name.params_[key], value)
    assert set(by_name.optimizer_state_.slots) == set(by_record.optimizer_state_.slots)


def test_nesterov_and_momentum_are_different_optimizers() -> None:
    X, y = iris_like()
    fits = [MLPClassifier((4,), optimizer=name, learning_rate=0.05, epochs=3, random_state=0).fit(X, y) for name in ("momentum", "nesterov")]
    assert not np.array_equal(fits[0].params_["W1"], fits[1].params_["W1"])


@pytest.mark.parametrize("sizes", [5, np.int64(5), [5]])
def test_an_integer_hidden_layer_size_is_one_hidden_layer(sizes: Any) -> None:
    X, y = iris_like()
    clf = MLPClassifier(sizes, epochs=1, random_state=0).fit(X, y)
    assert [clf.params_[f"W{l}"].shape for l in (1, 2)] == [(5, 3), (3, 5)]
    with pytest.raises(TypeError, match=r"^hidden_layer_sizes must be a sequence of ints such as \(100,\), got True$"):
        MLPClassifier(True).fit(X, y)  # a bool is not a size


def test_zero_tol_and_zero_alpha_are_accepted() -> None:
    X, y = iris_like()
    clf = MLPClassifier((4,), epochs=3, alpha=0.0, tol=0.0, early_stopping=True, random_state=0).fit(X, y)
    assert clf.n_iter_ == 3


SETTINGS: dict[str, Any] = dict(
    hidden_layer_sizes=(5,), activation="tanh", learning_rate=0.05, batch_size=8, epochs=40, early_stopping=True,
    validation_fraction=0.3, n_iter_no_change=3, tol=1e-2, random_state=4,
)  # fmt: skip


def early_stopped_by_hand(X: FloatArray, Y: FloatArray, sizes: list[int], stratify: Any, classifier: bool = True) -> Any:
    """``train`` with the draws the module's docstring lists: parameters, the split's seed, training."""
    settings = SETTINGS
    rng = np.random.default_rng(settings["random_state"])
    params = initialize_parameters(sizes, rng)
    seed = int(rng.integers(2**31))
    train_rows, dev_rows = train_test_split(
        np.arange(X.shape[0]), test_size=settings["validation_fraction"], random_state=seed, stratify=stratify
    )
    train_rows, dev_rows = np.sort(train_rows), np.sort(dev_rows)
    return train(
        X[train_rows].T, Y[:, train_rows], params, activations=("tanh", "softmax" if classifier else "linear"),
        loss="categorical_cross_entropy" if classifier else "mean_squared_error", epochs=settings["epochs"],
        optimizer=adam(settings["learning_rate"]), batch_size=settings["batch_size"], rng=rng,
        dev=(X[dev_rows].T, Y[:, dev_rows]), lambd=1e-4,
        early_stopping=EarlyStopping(settings["n_iter_no_change"], "dev_cost", settings["tol"]),
    )  # fmt: skip


def test_early_stopping_is_train_on_the_sorted_stratified_split_bitwise() -> None:
    X, y = iris_like()
    clf = MLPClassifier(**SETTINGS).fit(X, y)
    result = early_stopped_by_hand(X, one_hot(y.astype(np.int64), 3), [3, 5, 3], stratify=y)
    assert result.best_params is not None and clf.n_iter_ == len(result.history) < 40  # it stopped early
    for key, value in result.best_params.items():
        np.testing.assert_array_equal(clf.params_[key], value)  # the best epoch's, not the last
    assert clf.history_ == result.history


def test_early_stopping_splits_at_random_when_a_class_is_too_small_to_stratify() -> None:
    X, y = iris_like()
    y = y.copy()
    y[0] = 3.0  # a class of one sample: train_test_split cannot stratify
    clf = MLPClassifier(**SETTINGS).fit(X, y)
    result = early_stopped_by_hand(X, one_hot(y.astype(np.int64), 4), [3, 5, 4], stratify=None)
    for key, value in (result.params if result.best_params is None else result.best_params).items():
        np.testing.assert_array_equal(clf.params_[key], value)


def test_the_regressor_holds_out_an_unstratified_split() -> None:
    X, y = iris_like()
    target = X @ np.array([1.0, -2.0, 0.5])
    reg = MLPRegressor(**SETTINGS).fit(X, target)
    result = early_stopped_by_hand(X, target.reshape(1, -1), [3, 5, 1], stratify=None, classifier=False)
    for key, value in (result.params if result.best_params is None else result.best_params).items():
        np.testing.assert_array_equal(reg.params_[key], value)


def test_a_float32_classifier_is_train_in_float32_bitwise_and_predicts_in_float32() -> None:
    X, y = iris_like()
    clf = MLPClassifier((4,), learning_rate=0.05, batch_size=8, epochs=3, random_state=1, dtype="float32").fit(X, y)
    rng = np.random.default_rng(1)
    params = initialize_parameters([3, 4, 3], rng, dtype=np.float32)
    X32 = X.astype(np.float32)
    result = train(
        X32.T, one_hot(y.astype(np.int64), 3, dtype=np.float32), params, activations=("relu", "softmax"),
        loss="categorical_cross_entropy", epochs=3, optimizer=adam(0.05), batch_size=8, rng=rng, lambd=1e-4,
    )  # fmt: skip
    for key, value in result.params.items():
        assert clf.params_[key].dtype == np.float32
        np.testing.assert_array_equal(clf.params_[key], value)
    probabilities = clf.predict_proba(X)  # float64 rows, converted to the network's dtype
    assert probabilities.dtype == np.float32
    np.testing.assert_array_equal(probabilities, predict_proba(X32.T, result.params, ("relu", "softmax")).T)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(probabilities, axis=1)])


def test_warm_start_refuses_a_change_of_dtype() -> None:
    X, y = iris_like()
    clf = MLPClassifier((4,), epochs=1, warm_start=True, random_state=0).fit(X, y)
    clf.set_params(dtype="float32")
    with pytest.raises(ValueError, match=r"layer sizes \(3, 4, 3\) in float64, but the settings and data now ask for \(3, 4, 3\) in float32"):
        clf.fit(X, y)


def test_partial_fit_refuses_another_number_of_features_as_scikit_learn_words_it() -> None:
    X, y = iris_like()
    clf = MLPClassifier((4,), random_state=0).partial_fit(X, y, classes=[0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="^X has 2 features, but MLPClassifier is expecting 3 features as input"):
        clf.partial_fit(X[:, :2], y)


def test_partial_fit_takes_classes_beyond_those_in_y_and_refuses_others_later() -> None:
    X, y = iris_like()
    seen = y < 2
    clf = MLPClassifier((4,), random_state=0).partial_fit(X[seen], y[seen], classes=[2.0, 0.0, 1.0])
    assert clf.classes_.tolist() == [0.0, 1.0, 2.0] and clf.predict_proba(X).shape == (30, 3)
    clf.partial_fit(X, y, classes=[1.0, 2.0, 0.0])  # the same classes, in any order
    with pytest.raises(ValueError, match=r"^classes=\[0.0, 1.0, 2.0, 3.0\] differs from the classes of the fitted network \[0.0, 1.0, 2.0\]$"):
        clf.partial_fit(X, y, classes=[0.0, 1.0, 2.0, 3.0])
    assert clf.n_iter_ == 2


def test_regressor_partial_fit_runs_one_epoch_each_like_fit_with_two() -> None:
    X, y = iris_like()
    target = X @ np.array([1.0, -2.0, 0.5])
    once = MLPRegressor((4,), learning_rate=0.05, batch_size=8, epochs=2, random_state=0).fit(X, target)
    stepwise = MLPRegressor((4,), learning_rate=0.05, batch_size=8, random_state=0).partial_fit(X, target)
    assert stepwise.n_iter_ == 1
    stepwise.partial_fit(X, target)
    assert stepwise.n_iter_ == 2 and stepwise.optimizer_state_.step == once.optimizer_state_.step == 8
    for key, value in once.params_.items():
        np.testing.assert_array_equal(stepwise.params_[key], value)
    with pytest.raises(ValueError, match="^y has 2 outputs but the fitted network predicts 1$"):
        stepwise.partial_fit(X, np.stack([target, target], axis=1))


def test_regressor_predicts_its_forward_pass_one_output_flat_two_as_columns() -> None:
    X, y = iris_like()
    Y = np.stack([X[:, 0], X[:, 1] - X[:, 2]], axis=1)
    two = MLPRegressor((4,), epochs=2, random_state=0).fit(X, Y)
    assert two.n_outputs_ == 2 and two.__sklearn_tags__().target_tags.multi_output
    np.testing.assert_array_equal(two.predict(X), predict_proba(X.T, two.params_, ("relu", "linear")).T)
    one = MLPRegressor((4,), epochs=2, random_state=0).fit(X, Y[:, :1])  # one output as a column: predicted flat
    assert one.n_outputs_ == 1
    np.testing.assert_array_equal(one.predict(X), predict_proba(X.T, one.params_, ("relu", "linear"))[0])
    assert not MLPClassifier().__sklearn_tags__().target_tags.multi_output


def test_log_probabilities_that_underflowed_are_minus_infinity_without_a_warning() -> None:
    X, y = iris_like()
    clf = MLPClassifier((4,), activation="linear", learning_rate=0.1, epochs=30, random_state=0).fit(X, y)
    far = X * 1e6  # logits apart by far more than float64's exponent range
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        logs = clf.predict_log_proba(far)
    assert np.isneginf(logs).any()
    np.testing.assert_array_equal(np.exp(logs), clf.predict_proba(far))
