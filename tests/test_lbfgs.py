"""L-BFGS (functional_nn.lbfgs.train_lbfgs and the estimators' optimizer="lbfgs"): the
objective scipy minimises is compute_cost and backward_propagation's gradient; the run reaches
a stationary point, agrees with scikit-learn's solver="lbfgs" from the same start, and keeps
train's dtype, sample-weight and input rules."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as ScikitLearnClassifier

from functional_nn import backward_propagation, compute_cost, forward_propagation, initialize_parameters, one_hot, predict_proba, train
from functional_nn.lbfgs import flatten_params, objective, train_lbfgs, unflatten_params
from functional_nn.sklearn import MLPClassifier, MLPRegressor
from functional_nn.types import FloatArray

TUTORIAL: Any = {"activations": ("sigmoid", "sigmoid"), "loss": "binary_cross_entropy"}


def xor_signs(m: int = 200, seed: int = 0) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
    """The 2-3-1 sigmoid tutorial network on the XOR of two features' signs."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2, m))
    Y = (X[0:1] * X[1:2] > 0).astype(np.float64)
    return X, Y, initialize_parameters([2, 3, 1], rng, scheme="standard_normal")


def three_classes(m: int = 60, seed: int = 1) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((3, m))
    Y = one_hot(np.argmax(X, axis=0), 3)
    return X, Y, initialize_parameters([3, 4, 3], rng, scheme="xavier")


def test_flatten_and_unflatten_are_inverse_in_layer_order() -> None:
    params = initialize_parameters([2, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1], np.random.default_rng(0), dtype=np.float32)
    vector = flatten_params(params)
    assert vector.dtype == np.float64 and vector.shape == (sum(v.size for v in params.values()),)
    assert vector[:6].tolist() == params["W1"].ravel().tolist() and vector[6:9].tolist() == params["b1"].ravel().tolist()
    assert vector[-3:-1].tolist() == params["W10"].ravel().tolist()  # W10 after W9, not after W1
    back = unflatten_params(vector, params)
    assert list(back) == [f"{p}{l}" for l in range(1, 11) for p in "Wb"]
    for key, value in params.items():
        assert back[key].dtype == np.float32 and back[key] is not value
        np.testing.assert_array_equal(back[key], value)
    with pytest.raises(ValueError, match=r"vector must have shape \(62,\), one number for each of the parameters, got shape \(5,\)"):
        unflatten_params(np.zeros(5), params)


def test_the_objective_is_compute_cost_and_its_centred_difference_with_weights_and_l2() -> None:
    X, Y, params = three_classes()
    weights = np.random.default_rng(2).uniform(0.2, 3.0, X.shape[1])
    settings: Any = {"activations": ("tanh", "softmax"), "loss": "categorical_cross_entropy", "lambd": 0.3}
    f, x0 = objective(X, Y, params, sample_weight=weights, **settings)
    cost, gradient = f(x0)
    AL, caches = forward_propagation(X, params, settings["activations"])
    expected = compute_cost(AL, Y, settings["loss"], lambd=0.3, params=params, sample_weight=weights)
    assert cost == expected
    grads = backward_propagation(AL, Y, caches, settings["loss"], lambd=0.3, sample_weight=weights)
    np.testing.assert_array_equal(gradient, flatten_params({key[1:]: value for key, value in grads.items()}))
    h = 1e-5
    centred = np.array([(f(x0 + h * e)[0] - f(x0 - h * e)[0]) / (2 * h) for e in np.eye(x0.size)])
    np.testing.assert_allclose(gradient, centred, rtol=1e-6, atol=1e-9)
    assert np.abs(gradient).max() > 1e-2  # a gradient worth comparing


def test_lambd_is_scikit_learns_alpha_over_2m() -> None:
    X, Y, params = xor_signs(50)
    f0, x0 = objective(X, Y, params, lambd=0.0, **TUTORIAL)
    f1, _ = objective(X, Y, params, lambd=0.7, **TUTORIAL)
    squares = sum(float(np.sum(params[k] ** 2)) for k in ("W1", "W2"))
    assert f1(x0)[0] - f0(x0)[0] == pytest.approx(0.7 / (2 * 50) * squares, rel=1e-12)
    difference = f1(x0)[1] - f0(x0)[1]
    np.testing.assert_allclose(difference[:6], 0.7 / 50 * params["W1"].ravel(), rtol=1e-10)  # W1's penalty
    np.testing.assert_array_equal(difference[6:9], 0.0)  # b1: biases are not penalised


def test_lbfgs_beats_gradient_descent_and_ends_at_a_stationary_point() -> None:
    X, Y, params = xor_signs()
    result = train_lbfgs(X, Y, params, max_iter=500, tol=1e-5, **TUTORIAL)
    assert result.converged and re.search("(?i)projected.gradient", result.message)  # SciPy's words vary by version
    descent = train(X, Y, params, epochs=result.n_fun, learning_rate=1.0, **TUTORIAL)
    assert result.cost < 1e-4 < 0.4 < descent.history[-1].cost  # as many gradients, a thousandth of the cost
    f, _ = objective(X, Y, params, **TUTORIAL)
    cost, gradient = f(flatten_params(result.params))
    assert cost == result.cost and np.abs(gradient).max() <= 1e-5  # stationary: scipy's gtol, every component
    assert len(result.history) == result.n_iter <= result.n_fun and result.history[-1].cost == result.cost
    assert [r.epoch for r in result.history[:3]] == [1, 2, 3] and result.history[-1].accuracy == 1.0
    costs = [record.cost for record in result.history]
    assert all(later <= earlier for earlier, later in zip(costs, costs[1:]))  # the line search only accepts decreases


@pytest.mark.parametrize(("alpha", "iterations"), [(0.0, 15), (0.05, 15), (0.05, 200)])
def test_agrees_with_scikit_learns_lbfgs_from_the_same_start(alpha: float, iterations: int) -> None:
    """From our initial weights, copied into scikit-learn's after a first fit sets up its layout,
    its L-BFGS takes the same steps: 15 iterations in the middle of the descent, or all 49 to
    convergence with alpha (without it the weights grow without bound, along a valley so flat
    that the two part after some 40 iterations at equal costs)."""
    X, Y, params = xor_signs(40)
    ours = train_lbfgs(X, Y, params, lambd=alpha, max_iter=iterations, tol=1e-12, **TUTORIAL)
    theirs = ScikitLearnClassifier((3,), activation="logistic", solver="lbfgs", alpha=alpha, max_iter=1, tol=1e-12, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X.T, Y[0])  # to set its classes and layout; the weights are replaced below
        theirs.coefs_ = [params["W1"].T.copy(), params["W2"].T.copy()]
        theirs.intercepts_ = [params["b1"][:, 0].copy(), params["b2"][:, 0].copy()]
        theirs.set_params(max_iter=iterations).fit(X.T, Y[0])  # warm_start: from our initial weights
    assert theirs.n_iter_ == ours.n_iter == (iterations if iterations == 15 else 49)
    assert ours.converged == (iterations == 200)
    assert abs(theirs.loss_ - ours.cost) <= 1e-10 * ours.cost
    for l in (1, 2):
        np.testing.assert_allclose(theirs.coefs_[l - 1], ours.params[f"W{l}"].T, rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(theirs.intercepts_[l - 1], ours.params[f"b{l}"][:, 0], rtol=1e-8, atol=1e-9)
    f, x0 = objective(X, Y, params, lambd=alpha, **TUTORIAL)
    assert ours.cost < 0.7 * f(x0)[0]  # the iterations moved


def test_a_float32_network_stays_float32() -> None:
    X, Y, params = xor_signs()
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    params32 = {key: value.astype(np.float32) for key, value in params.items()}
    result = train_lbfgs(X32, Y32, params32, max_iter=100, **TUTORIAL)
    assert all(value.dtype == np.float32 for value in result.params.values())
    f, x0 = objective(X32, Y32, params32, **TUTORIAL)
    cost, gradient = f(x0)
    assert gradient.dtype == np.float64 and np.isfinite(cost)
    assert result.cost == f(flatten_params(result.params))[0] < 0.2 * cost
    float64 = train_lbfgs(X, Y, params, max_iter=100, **TUTORIAL)
    assert result.cost == pytest.approx(float64.cost, abs=0.05)  # the same descent, to float32's roundings


def test_integer_weights_equal_repeated_samples_and_weight_zero_equals_dropped() -> None:
    X, Y, params = three_classes(30)
    settings: Any = {"activations": ("tanh", "softmax"), "loss": "categorical_cross_entropy", "lambd": 0.1, "max_iter": 20}
    counts = np.asarray(np.random.default_rng(3).integers(0, 4, size=X.shape[1]))
    weighted = train_lbfgs(X, Y, params, sample_weight=counts, **settings)
    rows = np.repeat(np.arange(X.shape[1]), counts)
    repeated = train_lbfgs(X[:, rows], Y[:, rows], params, **settings)
    assert weighted.n_iter == repeated.n_iter == 20
    assert weighted.cost == pytest.approx(repeated.cost, rel=1e-10)
    for key, value in repeated.params.items():
        np.testing.assert_allclose(weighted.params[key], value, rtol=1e-10, atol=1e-12)
    kept = counts > 0
    dropped = train_lbfgs(X[:, kept], Y[:, kept], params, sample_weight=counts[kept], **settings)
    assert dropped.cost == weighted.cost and all(np.array_equal(dropped.params[k], v) for k, v in weighted.params.items())


def test_inputs_are_not_written_and_read_only_inputs_serve() -> None:
    X, Y, params = three_classes()
    weights = np.linspace(0.0, 2.0, X.shape[1])
    given = [X, Y, weights, *params.values()]
    copies = [array.copy() for array in given]
    for array in given:
        array.flags.writeable = False
    result = train_lbfgs(X, Y, params, activations=("relu", "softmax"), loss="categorical_cross_entropy", sample_weight=weights, max_iter=10)
    for array, copy in zip(given, copies):
        np.testing.assert_array_equal(array, copy)
    assert all(result.params[key] is not value and result.params[key].flags.writeable for key, value in params.items())


def test_input_divisor_trains_on_integer_pixels_as_on_their_division() -> None:
    rng = np.random.default_rng(4)
    pixels = rng.integers(0, 256, (4, 40), dtype=np.uint8)
    Y = (pixels[:1] > 127).astype(np.float64)
    params = initialize_parameters([4, 3, 1], rng)
    divided = train_lbfgs(pixels / 255.0, Y, params, max_iter=10, **TUTORIAL)
    integers = train_lbfgs(pixels, Y, params, input_divisor=255, max_iter=10, **TUTORIAL)
    assert integers.cost == divided.cost


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"X": np.arange(20).reshape(2, 10)}, TypeError),  # integers without input_divisor
        ({"X": np.zeros((3, 10))}, ValueError),  # W1 expects 2 features
        ({"X": np.full((2, 10), np.nan)}, ValueError),
        ({"Y": np.zeros((1, 9))}, ValueError),
        ({"Y": np.full((1, 10), 2.0)}, ValueError),  # outside binary cross-entropy's [0, 1]
        ({"activations": ("sigmoid", "relu")}, ValueError),  # a cross-entropy after relu
        ({"loss": "hinge_loss"}, ValueError),
        ({"X": np.zeros((2, 10), np.float32)}, TypeError),  # float32 X, float64 params
        ({"sample_weight": -np.ones(10)}, ValueError),
        ({"sample_weight": np.zeros(10)}, ValueError),
        ({"lambd": -1.0}, ValueError),
        ({"input_divisor": 255}, TypeError),  # float X with input_divisor
    ],
)
def test_bad_input_is_refused_as_train_refuses_it(change: dict[str, Any], error: type[Exception]) -> None:
    rng = np.random.default_rng(5)
    arguments: dict[str, Any] = {
        "X": rng.standard_normal((2, 10)), "Y": np.ones((1, 10)), "params": initialize_parameters([2, 3, 1], rng), **TUTORIAL,
        **change,
    }  # fmt: skip
    with pytest.raises(error) as by_train:
        train(**arguments, epochs=1, learning_rate=0.1)
    with pytest.raises(error) as by_lbfgs:
        train_lbfgs(**arguments)
    assert str(by_lbfgs.value) == str(by_train.value)


@pytest.mark.parametrize(
    ("setting", "message"),
    [({"max_iter": 0}, "max_iter must be >= 1"), ({"max_fun": 0}, "max_fun must be >= 1"), ({"tol": -1.0}, "tol must be a finite number >= 0")],
)
def test_its_own_settings_are_checked(setting: dict[str, Any], message: str) -> None:
    X, Y, params = xor_signs(10)
    with pytest.raises(ValueError, match=message):
        train_lbfgs(X, Y, params, **TUTORIAL, **setting)


def test_max_fun_bounds_the_evaluations() -> None:
    X, Y, params = xor_signs()
    result = train_lbfgs(X, Y, params, max_fun=10, **TUTORIAL)
    assert not result.converged and re.search("(?i)evaluations.exceeds.limit", result.message) and result.n_fun <= 10 + 20


# -- the estimators ---------------------------------------------------------------------------


def iris_like(seed: int = 0) -> tuple[FloatArray, Any]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((60, 4))
    return X, np.array(["a", "b", "c"])[np.argmax(X[:, :3], axis=1)]


def test_the_estimator_fits_what_train_lbfgs_fits() -> None:
    X, y = iris_like()
    clf = MLPClassifier((5,), activation="tanh", optimizer="lbfgs", epochs=100, alpha=0.01, random_state=0).fit(X, y)
    params = initialize_parameters([4, 5, 3], np.random.default_rng(0))
    Y = one_hot(np.unique(y, return_inverse=True)[1], 3)
    result = train_lbfgs(X.T.copy(), Y, params, activations=("tanh", "softmax"), loss="categorical_cross_entropy", lambd=0.01, max_iter=100)
    for key, value in result.params.items():
        np.testing.assert_array_equal(clf.params_[key], value)
    assert result.converged and clf.n_iter_ == result.n_iter == len(clf.loss_curve_) < 100 and clf.loss_ == result.cost
    assert clf.loss_curve_ == [record.cost for record in result.history] and clf.t_ == result.n_iter * 60
    assert clf.optimizer_state_.slots == {} and clf.validation_scores_ is None
    assert clf.score(X, y) > 0.9


def test_the_estimator_warns_when_the_iteration_bound_stops_it() -> None:
    X, y = iris_like()
    with pytest.warns(ConvergenceWarning, match=r"(?i)stopped before converging after 3 iteration\(s\): STOP: TOTAL NO\. OF ITERATIONS .* raise epochs \(now 3\)"):
        MLPClassifier((5,), optimizer="lbfgs", epochs=3, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MLPClassifier((5,), optimizer="lbfgs", epochs=500, random_state=0, tol=1e-3).fit(X, y)  # converges: no warning


def test_partial_fit_is_refused_as_scikit_learn_refuses_it() -> None:
    X, y = iris_like()
    clf = MLPClassifier((5,), optimizer="lbfgs", epochs=5)
    assert not hasattr(clf, "partial_fit") and not hasattr(MLPRegressor(optimizer="lbfgs"), "partial_fit")
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as raised:
        clf.partial_fit(X, y, classes=["a", "b", "c"])
    assert "not optimizer='lbfgs', which minimises the cost of all the data at once" in str(raised.value.__cause__)
    assert hasattr(MLPClassifier(), "partial_fit")


def test_warm_start_continues_from_params_and_mixes_with_other_optimizers() -> None:
    X, y = iris_like()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier((5,), optimizer="lbfgs", epochs=4, warm_start=True, random_state=0).fit(X, y)
        start = {key: value.copy() for key, value in clf.params_.items()}
        clf.fit(X, y)
    Y = one_hot(np.unique(y, return_inverse=True)[1], 3)
    continued = train_lbfgs(X.T.copy(), Y, start, activations=("relu", "softmax"), loss="categorical_cross_entropy", lambd=1e-4, max_iter=4)
    for key, value in continued.params.items():
        np.testing.assert_array_equal(clf.params_[key], value)
    assert clf.n_iter_ == 8 and [r.epoch for r in clf.history_] == list(range(1, 9))
    clf.set_params(optimizer="adam", learning_rate=1e-2, epochs=2).fit(X, y)  # Adam starts its moments afresh
    assert clf.optimizer_state_.step == 2 and clf.n_iter_ == 10
    clf.set_params(optimizer="lbfgs", epochs=300).fit(X, y)  # and L-BFGS takes no state
    assert clf.optimizer_state_.slots == {} and clf.score(X, y) > 0.9


def test_the_estimator_takes_sample_weight_and_float32_and_ignores_batches_and_early_stopping() -> None:
    X, y = iris_like()
    weights = np.random.default_rng(6).integers(1, 3, X.shape[0])
    settings: Any = {"optimizer": "lbfgs", "epochs": 20, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = MLPClassifier((5,), **settings).fit(X, y, sample_weight=weights)
        repeated = MLPClassifier((5,), **settings).fit(np.repeat(X, weights, axis=0), np.repeat(y, weights))
        ignored = MLPClassifier((5,), batch_size=7, early_stopping=True, **settings).fit(X, y, sample_weight=weights)
        narrow = MLPRegressor((5,), dtype="float32", **settings).fit(X, X[:, 0] * X[:, 1])
    np.testing.assert_allclose(weighted.params_["W1"], repeated.params_["W1"], rtol=1e-8, atol=1e-10)
    assert weighted.t_ == 20 * 60 and repeated.t_ == 20 * weights.sum()  # samples, as scikit-learn counts them
    for key, value in weighted.params_.items():
        np.testing.assert_array_equal(ignored.params_[key], value)
    assert ignored.validation_scores_ is None and ignored.best_loss_ == min(ignored.loss_curve_)
    assert narrow.params_["W1"].dtype == np.float32 and narrow.predict(X).dtype == np.float32


def test_dropout_is_refused_with_lbfgs_and_the_hints_name_it() -> None:
    X, y = iris_like()
    with pytest.raises(ValueError, match=r"dropout=0.2 draws new masks at every evaluation, but optimizer='lbfgs'"):
        MLPClassifier((5,), optimizer="lbfgs", dropout=0.2).fit(X, y)
    with pytest.raises(TypeError, match=r"solver: use optimizer \(.*'lbfgs'.*its 'lbfgs' is optimizer='lbfgs'"):
        MLPClassifier(solver="lbfgs")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"max_fun: drop it: .*train_lbfgs\(\.\.\., max_fun=\.\.\.\)"):
        MLPClassifier(max_fun=100)  # type: ignore[call-arg]


def test_a_start_already_within_tol_records_that_point_so_loss_is_its_cost() -> None:
    """L-BFGS-B runs no iteration when the starting gradient is within ``tol``: the result's
    history still ends at the point returned, and a fresh estimator fit has its ``loss_``."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3, 30))
    Y = (X[0:1] > 0).astype(np.float64)
    params = initialize_parameters([3, 4, 1], rng)
    result = train_lbfgs(X, Y, params, activations=("tanh", "sigmoid"), loss="binary_cross_entropy", tol=10.0)
    cost = compute_cost(predict_proba(X, params, ("tanh", "sigmoid")), Y, "binary_cross_entropy")
    assert (result.n_iter, result.converged) == (0, True)
    assert [record.epoch for record in result.history] == [1] and result.history[0].cost == pytest.approx(cost, rel=1e-15)
    assert all(np.array_equal(result.params[key], params[key]) for key in params)
    clf = MLPClassifier((4,), optimizer="lbfgs", tol=10.0, random_state=0).fit(X.T, Y[0].astype(int))
    assert clf.n_iter_ == 1 and clf.loss_ == clf.history_[0].cost
