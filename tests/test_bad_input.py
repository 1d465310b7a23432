"""Every public function refuses what it cannot use, early, naming the argument: one table of cases.

Each row is (a call that must fail, the exception type, a regex the message must match).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dask.array as da
import numpy as np
import pytest

from functional_nn import (
    accuracy,
    backward_propagation,
    compute_cost,
    confusion_matrix,
    forward_propagation,
    gradient_check,
    initialize_parameters,
    one_hot,
    predict,
    train,
    update_parameters,
)
from functional_nn.data import minibatches
from functional_nn.types import Activation, Loss

RNG = np.random.default_rng(0)
P = initialize_parameters([3, 4, 2], np.random.default_rng(0))
X = RNG.standard_normal((3, 5))
Y = one_hot(np.array([0, 1, 1, 0, 1]), 2)
ACTS: tuple[Activation, ...] = ("relu", "softmax")
CE: Loss = "categorical_cross_entropy"
P32 = {key: value.astype(np.float32) for key, value in P.items()}
AL, CACHES = forward_propagation(X, P, ACTS)
GRADS = backward_propagation(AL, Y, CACHES, CE)


def with_value(array: np.ndarray[Any, Any], index: tuple[int, int], value: float) -> np.ndarray[Any, Any]:
    copy = array.copy()
    copy[index] = value
    return copy


def fit(**overrides: Any) -> Callable[[], object]:
    arguments: dict[str, Any] = dict(activations=ACTS, loss=CE, epochs=1, learning_rate=0.1)
    data: dict[str, Any] = dict(X=X, Y=Y, params=P)
    for key in ("X", "Y", "params"):
        if key in overrides:
            data[key] = overrides.pop(key)
    arguments.update(overrides)
    return lambda: train(data["X"], data["Y"], data["params"], **arguments)


CASES: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    # X
    ("integer X", lambda: forward_propagation(X.astype(np.int64), P, ACTS), TypeError, r"X must have dtype float32 or float64, got int64 \(convert"),
    ("object X", lambda: forward_propagation(X.astype(object), P, ACTS), TypeError, r"X must have dtype float32 or float64, got object"),
    ("list X", lambda: forward_propagation(X.tolist(), P, ACTS), TypeError, r"^X must be a numpy ndarray, got list \(np\.asarray\(X, dtype=np\.float64\) converts it\)$"),
    ("Dask X", lambda: fit(X=da.from_array(X))(), TypeError, r"^X must be a numpy ndarray, got Array \(a Dask array: X\.compute\(\) brings it into memory; functional_nn\.distributed\.train_rounds trains"),  # type: ignore[no-untyped-call]
    ("big-endian X", lambda: fit(X=X.astype(">f8"))(), TypeError, r"^X must have dtype float32 or float64, got >f8 in the other byte order \(convert it first: X\.astype\(np\.float64\)\)$"),
    ("float16 X", lambda: forward_propagation(X.astype(np.float16), P, ACTS), TypeError, r"^X must have dtype float32 or float64, got float16 \(convert it first: X\.astype\(np\.float32\)\)$"),
    ("string X", lambda: forward_propagation("X.csv", P, ACTS), TypeError, r"^X must be a numpy ndarray, got str$"),  # type: ignore[arg-type]
    ("1-D X", lambda: forward_propagation(X[:, 0], P, ACTS), ValueError, r"X must be 2-D, got shape \(3,\)"),
    ("empty X", lambda: forward_propagation(X[:, :0], P, ACTS), ValueError, r"X has no samples: shape \(3, 0\) has m = 0"),
    ("X rows vs W1", lambda: forward_propagation(X[:2], P, ACTS), ValueError, r"X has 2 rows \(features\) but W1 \(4, 3\) expects 3"),
    ("NaN in X", lambda: forward_propagation(with_value(X, (0, 0), np.nan), P, ACTS), ValueError, r"X contains 1 NaN or infinite"),
    ("inf in X", lambda: fit(X=with_value(X, (1, 1), np.inf))(), ValueError, r"X contains 1 NaN or infinite"),
    ("X dtype vs params", lambda: forward_propagation(X.astype(np.float32), P, ACTS), TypeError, r"X has dtype float32 but params\['W1'\] is float64"),
    # Y
    ("Y columns vs X", lambda: fit(Y=Y[:, :4])(), ValueError, r"Y must have shape \(2, 5\).*got \(2, 4\)"),
    ("Y rows vs output", lambda: fit(Y=one_hot(np.array([0, 1, 2, 0, 1]), 3))(), ValueError, r"Y must have shape \(2, 5\).*got \(3, 5\)"),
    ("NaN in Y", lambda: fit(Y=with_value(Y, (0, 0), np.nan))(), ValueError, r"Y contains 1 NaN"),
    ("integer Y", lambda: fit(Y=Y.astype(np.int64))(), TypeError, r"^Y must have dtype float32 or float64, got int64 \(class labels 0\.\.K-1\? one_hot\(labels, K\) makes the \(K, m\) targets; else Y\.astype\(np\.float64\)\)$"),
    ("backward Y shape", lambda: backward_propagation(AL, Y.T, CACHES, CE), ValueError, r"Y must have the shape of AL \(2, 5\), got \(5, 2\)"),
    ("compute_cost Y shape", lambda: compute_cost(AL, Y[:1], CE), ValueError, r"Y must have the shape of AL"),
    # params
    ("not a dict", lambda: forward_propagation(X, [P["W1"], P["b1"]], ACTS), TypeError, r"params must be a mapping"),  # type: ignore[arg-type]  # the wrong type is the test
    ("empty dict", lambda: forward_propagation(X, {}, ACTS), ValueError, r"params is empty"),
    ("missing key", lambda: forward_propagation(X, {k: v for k, v in P.items() if k != "b1"}, ACTS), ValueError, r"params is missing \['b1'\]"),
    ("foreign key", lambda: forward_propagation(X, {**P, "gamma1": P["b1"]}, ACTS), ValueError, r"params has an unexpected key 'gamma1'"),
    ("key with a newline", lambda: forward_propagation(X, {**P, "b2\n": np.full((1, 1), np.nan)}, ACTS), ValueError, r"params has an unexpected key 'b2\\n'"),
    ("layer 0", lambda: forward_propagation(X, {**P, "W0": P["W1"], "b0": P["b1"]}, ACTS), ValueError, r"params has an unexpected key '[Wb]0'"),  # layers count from 1
    ("grads as params", lambda: forward_propagation(X, GRADS, ACTS), ValueError, r"looks like a grads dict"),
    ("bias shape", lambda: forward_propagation(X, {**P, "b1": P["b1"].ravel()}, ACTS), ValueError, r"params\['b1'\] must be 2-D, got shape \(4,\)"),
    ("bias rows", lambda: forward_propagation(X, {**P, "b1": np.zeros((3, 1))}, ACTS), ValueError, r"params\['b1'\] must have shape \(4, 1\).*got \(3, 1\)"),
    ("inconsistent W", lambda: forward_propagation(X, {**P, "W2": np.zeros((2, 5))}, ACTS), ValueError, r"params\['W2'\] has shape \(2, 5\): its 5 columns must match the 4 units of layer 1"),
    ("mixed dtypes", lambda: forward_propagation(X, {**P, "b2": P["b2"].astype(np.float32)}, ACTS), TypeError, r"params mixes dtypes"),
    ("NaN in params", lambda: forward_propagation(X, {**P, "W1": with_value(P["W1"], (0, 0), np.nan)}, ACTS), ValueError, r"params\['W1'\] contains 1 NaN"),
    ("layer of no units", lambda: fit(params={"W1": np.zeros((0, 3)), "b1": np.zeros((0, 1)), "W2": np.zeros((2, 0)), "b2": P["b2"]})(), ValueError, r"params\['W1'\] has shape \(0, 3\): layer 1 has no units"),
    ("output of no units", lambda: predict(X, {**P, "W2": np.zeros((0, 4)), "b2": np.zeros((0, 1))}, ACTS), ValueError, r"params\['W2'\] has shape \(0, 4\): layer 2 has no units"),
    ("input of no features", lambda: forward_propagation(X[:0], {**P, "W1": np.zeros((4, 0))}, ACTS), ValueError, r"params\['W1'\] has shape \(4, 0\): the input has no features"),
    ("integer params", lambda: forward_propagation(X, {**P, "W1": P["W1"].astype(np.int32)}, ACTS), TypeError, r"params\['W1'\] must have dtype float32 or float64, got int32"),
    # names
    ("unknown activation", lambda: forward_propagation(X, P, ("relu", "softmx")), ValueError, r"unknown activations\[1\] 'softmx'.*did you mean 'softmax'"),  # type: ignore[arg-type]  # the typo is the test
    ("activation count", lambda: forward_propagation(X, P, ("relu",)), ValueError, r"one activation per layer: the params have 2 layers, got 1"),
    ("activations as a string", lambda: forward_propagation(X, P, "relu"), TypeError, r"activations must be a sequence of 2 names"),  # type: ignore[arg-type]  # the wrong type is the test
    ("unknown loss", lambda: compute_cost(AL, Y, "cross_entropy"), ValueError, r"unknown loss 'cross_entropy'"),  # type: ignore[arg-type]  # the wrong name is the test
    ("unknown scheme", lambda: initialize_parameters([2, 1], RNG, scheme="glorot"), ValueError, r"unknown scheme 'glorot': expected one of"),  # type: ignore[arg-type]  # the wrong name is the test
    ("cross-entropy after linear", lambda: fit(activations=("relu", "linear"))(), ValueError, r"'categorical_cross_entropy' needs outputs in \[0, 1\]"),
    # numbers
    ("learning_rate 0", lambda: fit(learning_rate=0)(), ValueError, r"learning_rate must be a finite number > 0, got 0"),
    ("learning_rate negative", lambda: update_parameters(P, GRADS, -0.1), ValueError, r"learning_rate must be a finite number > 0, got -0.1"),
    ("learning_rate NaN", lambda: update_parameters(P, GRADS, float("nan")), ValueError, r"learning_rate must be a finite number > 0, got nan"),
    ("no learning rate nor optimizer", lambda: fit(learning_rate=None)(), ValueError, r"give either learning_rate .* or optimizer"),
    ("epochs negative", lambda: fit(epochs=-1)(), ValueError, r"epochs must be >= 0, got -1"),
    ("epochs float", lambda: fit(epochs=2.5)(), TypeError, r"epochs must be an integer, got float 2.5"),
    ("layer size 0", lambda: initialize_parameters([3, 0, 2], RNG), ValueError, r"layer_sizes\[1\] must be >= 1, got 0"),
    ("batch_size 0", lambda: fit(batch_size=0, rng=RNG)(), ValueError, r"batch_size must be >= 1, got 0"),
    ("batch without rng", lambda: fit(batch_size=2)(), TypeError, r"^rng must be a numpy\.random\.Generator such as np\.random\.default_rng\(seed\) for batch_size, which draws from it, got None$"),
    ("seed instead of rng", lambda: fit(batch_size=2, rng=0)(), TypeError, r"^rng must be a numpy\.random\.Generator such as np\.random\.default_rng\(seed\) for batch_size, which draws from it, got int 0: to draw from seed 0, pass np\.random\.default_rng\(0\)$"),
    ("keep_probs 0", lambda: fit(keep_probs=0.0, rng=RNG)(), ValueError, r"keep_probs\[0\] must be in \(0, 1\], got 0.0"),
    # inverted dropout divides by the keep probability: 1/1e-39 is inf in float32, and 0 * inf NaN
    ("keep_probs' inverse overflows", lambda: forward_propagation(X.astype(np.float32), P32, ACTS, keep_probs=1e-39, rng=RNG), ValueError, r"keep_probs\[0\] is 1e-39: the kept units are divided by it, and 1/1e-39 overflows float32; expected at least 2.94e-39"),
    ("input_keep_prob's inverse overflows", lambda: fit(X=X.astype(np.float32), Y=Y.astype(np.float32), params=P32, input_keep_prob=1e-39, rng=RNG)(), ValueError, r"input_keep_prob is 1e-39: .* overflows float32"),
    ("keep_probs' inverse overflows float64", lambda: fit(keep_probs=1e-320, rng=RNG)(), ValueError, r"keep_probs\[0\] is 1e-320: .* overflows float64"),
    ("gradient_check keep_probs' inverse", lambda: gradient_check(X.astype(np.float32), Y.astype(np.float32), P32, ACTS, CE, keep_probs=1e-39, rng=RNG), ValueError, r"overflows float32"),
    ("resume not a bool", lambda: fit(resume="yes")(), TypeError, r"resume must be a bool, got str 'yes'"),
    # Path("") is the current directory: checkpoints would land wherever the script was started
    ("checkpoint_dir empty", lambda: fit(checkpoint_dir="")(), ValueError, r"checkpoint_dir is an empty path: name a folder \(or '.' for the current one\)"),
    ("checkpoint_dir not a path", lambda: fit(checkpoint_dir=3)(), TypeError, r"checkpoint_dir must be a str or an os.PathLike such as pathlib.Path\('runs'\), got int 3"),
    ("checkpoint_dir with a NUL", lambda: fit(checkpoint_dir="ck\0pt")(), ValueError, r"checkpoint_dir holds a NUL byte"),
    ("learning_rate beyond floats", lambda: update_parameters(P, GRADS, 10**400), ValueError, r"learning_rate must be a finite number, got an integer of 401 digits"),
    ("learning_rate beyond floats, negative", lambda: update_parameters(P, GRADS, -10**400), ValueError, r"learning_rate must be a finite number, got a negative integer of 401 digits$"),
    # str() refuses an int of more than 4,300 digits (ValueError, naming no argument)
    ("learning_rate beyond str's digits", lambda: update_parameters(P, GRADS, 2**20_000), ValueError, r"learning_rate must be a finite number, got an integer of 20,001 bits$"),
    ("compute_cost params of another network", lambda: compute_cost(AL, Y, CE, lambd=1.0, params=initialize_parameters([50, 7], RNG)), ValueError, r"params' last layer has 7 units but AL has 2 rows"),
    ("compute_cost params of another dtype", lambda: compute_cost(AL, Y, CE, lambd=0.0, params=P32), TypeError, r"AL has dtype float64 but params\['W1'\] is float32"),
    ("compute_cost params not params", lambda: compute_cost(AL, Y, CE, params="garbage"), TypeError, r"params must be a mapping"),  # type: ignore[arg-type]  # the wrong type is the test
    ("dropout without rng", lambda: fit(keep_probs=0.5)(), TypeError, r"^rng must be a numpy\.random\.Generator such as np\.random\.default_rng\(seed\) for dropout \(keep_probs < 1\), which draws from it, got None$"),
    ("lambd negative", lambda: fit(lambd=-1.0)(), ValueError, r"lambd must be a finite number >= 0, got -1.0"),
    ("dev not a pair", lambda: fit(dev=X)(), TypeError, r"dev must be a tuple \(X_dev, Y_dev\)"),
    ("dev shapes", lambda: fit(dev=(X, Y[:, :3]))(), ValueError, r"dev\[1\] must have shape \(2, 5\)"),
    # labels and the rest
    ("labels out of range", lambda: one_hot(np.array([0, 3]), 3), ValueError, r"labels must lie in 0..2, got 1 outside, e.g. \[3\]"),
    ("negative labels", lambda: one_hot(np.array([-1, 0]), 3), ValueError, r"labels must lie in 0..2, got 1 outside, e.g. \[-1\]"),
    ("float labels", lambda: one_hot(np.array([0.0, 1.0]), 2), TypeError, r"labels must hold integer labels, got dtype float64"),
    ("accuracy lengths", lambda: accuracy(np.array([0, 1]), np.array([0, 1, 1])), ValueError, r"predictions \(2,\) and labels \(3,\) must have the same shape"),
    ("confusion matrix beyond indexing", lambda: confusion_matrix(np.array([0, 1]), np.array([1, 0]), num_classes=2**32), ValueError, r"num_classes is 4294967296: a 4294967296 x 4294967296 confusion matrix has more cells than an array can index"),
    ("accuracy of nothing", lambda: accuracy(np.array([], dtype=int), np.array([], dtype=int)), ValueError, r"undefined"),
    ("predict with regression output", lambda: predict(X, {"W1": P["W1"], "b1": P["b1"], "W2": P["W2"][:1], "b2": P["b2"][:1]}, ("relu", "linear")), ValueError, r"use predict_proba for regression"),
    ("grads keys", lambda: update_parameters(P, {k: v for k, v in GRADS.items() if k != "db2"}, 0.1), ValueError, r"missing \['db2'\]"),
    ("grads shape", lambda: update_parameters(P, {**GRADS, "dW1": GRADS["dW1"].T}, 0.1), ValueError, r"grads\['dW1'\] has shape \(3, 4\) but params\['W1'\] is \(4, 3\)"),
    ("caches not caches", lambda: backward_propagation(AL, Y, [1, 2], CE), TypeError, r"caches must be the non-empty tuple of LayerCache"),  # type: ignore[arg-type]  # the wrong type is the test
    ("gradient_check targets", lambda: gradient_check(X, Y * 3, P, ACTS, CE), ValueError, r"Y has 5 column\(s\) that do not sum to 1 \(column 0 sums to 3\)"),
    ("gradient_check binary targets", lambda: gradient_check(X, Y - 0.5, P, ("relu", "sigmoid"), "binary_cross_entropy"), ValueError, r"Y holds values in \[-0.5, 0.5\] but binary cross-entropy needs targets in \[0, 1\]"),
    ("gradient_check epsilon", lambda: gradient_check(X, Y, P, ACTS, CE, epsilon=0), ValueError, r"epsilon must be a finite number > 0"),
    ("minibatches shapes", lambda: list(minibatches(X, Y[:, :2], 2, RNG)), ValueError, r"same number of columns, got \(3, 5\) and \(2, 2\)"),
]


@pytest.mark.parametrize(("call", "error", "message"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_refused_early_with_a_clear_message(call: Callable[[], object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()


def test_training_refuses_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    import functional_nn.training as training

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("training started before the arguments were checked")

    monkeypatch.setattr(training, "forward", fail)
    with pytest.raises(ValueError, match="Y contains 1 NaN"):
        training.train_epochs(X, with_value(Y, (1, 4), np.nan), P, activations=ACTS, loss=CE, epochs=3, learning_rate=0.1)
