"""Per-layer diagnostics against hand computations, and the fold's observer hook."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functional_nn import backward_propagation, forward_propagation, initialize_parameters, train, update_parameters
from functional_nn.diagnostics import LayerStatistics, StepStatistics, layer_statistics, layer_statistics_observer, saturated
from functional_nn.fold_state import BatchProgress, Observer, StepView
from functional_nn.types import Activation, ActivationFunction, FloatArray


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# A 2-2-1 network small enough to follow by hand, on three samples.
X = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0]])
Y = np.array([[1.0, 1.0, 0.0]])
PARAMS = {
    "W1": np.array([[1.0, 1.0], [-1.0, -1.0]]),
    "b1": np.array([[0.0], [-2.0]]),
    "W2": np.array([[5.0, 0.0]]),
    "b2": np.array([[-1.0]]),
}
ACTS: tuple[Activation, ...] = ("relu", "sigmoid")


def test_layer_statistics_by_hand() -> None:
    AL, caches = forward_propagation(X, PARAMS, ACTS)
    grads = backward_propagation(AL, Y, caches, "binary_cross_entropy")
    new = update_parameters(PARAMS, grads, 0.5)
    first, second = layer_statistics(caches, grads, new)

    # layer 1: Z1 = [[1, 3, -1], [-3, -5, -1]], A1 = relu(Z1) = [[1, 3, 0], [0, 0, 0]]
    assert first.layer == 1 and first.activation == "relu"
    assert first.z_mean == pytest.approx(-1.0)
    assert first.z_std == pytest.approx(math.sqrt(40 / 6))  # deviations 2, 4, 0, -2, -4, 0
    assert first.a_mean == pytest.approx(2 / 3)
    assert first.a_std == pytest.approx(math.sqrt(11) / 3)
    assert first.saturated_fraction == pytest.approx(4 / 6)  # four outputs exactly 0
    assert first.dead_fraction == pytest.approx(1 / 2)  # unit 2 is 0 for every sample

    # layer 2: Z2 = 5 * [1, 3, 0] - 1 = [4, 14, -1]; only sigmoid(14) is within 0.01 of a bound
    s = [sigmoid(4), sigmoid(14), sigmoid(-1)]
    assert second.z_mean == pytest.approx(17 / 3)
    assert second.z_std == pytest.approx(math.sqrt(((4 - 17 / 3) ** 2 + (14 - 17 / 3) ** 2 + (-1 - 17 / 3) ** 2) / 3))
    assert second.a_mean == pytest.approx(sum(s) / 3)
    assert second.saturated_fraction == pytest.approx(1 / 3)
    assert second.dead_fraction == 0.0

    # gradients by hand: dZ2 = (A2 - Y) / 3, dW2 = dZ2 A1^T; dZ1 = (W2^T dZ2) * [Z1 > 0], dW1 = dZ1 X^T
    d = [(s[0] - 1) / 3, (s[1] - 1) / 3, s[2] / 3]
    dW2 = abs(d[0] * 1 + d[1] * 3)  # the second hidden unit's output is 0, so dW2 = [x, 0]
    dW1 = math.hypot(5 * (d[0] * 1 + d[1] * 2), 5 * (d[0] * 0 + d[1] * 1))  # row 2 is 0: a dead unit learns nothing
    assert second.gradient_norm == pytest.approx(dW2)
    assert first.gradient_norm == pytest.approx(dW1)
    # the update W - 0.5 dW, relative to ||W1|| = 2 and ||W2|| = 5
    assert first.update_ratio == pytest.approx(0.5 * dW1 / 2)
    assert second.update_ratio == pytest.approx(0.5 * dW2 / 5)
    assert first.weight_norm == pytest.approx(float(np.linalg.norm(new["W1"])))
    assert second.weight_norm == pytest.approx(math.hypot(5 - 0.5 * (d[0] + 3 * d[1]), 0.0))


def test_saturation_follows_the_output_range() -> None:
    A = np.array([[-1.0, -0.995, -0.98, 0.0, 0.989, 0.991, 1.0]])
    tanh_mask = saturated(A, "tanh")
    assert tanh_mask is not None
    assert tanh_mask.tolist() == [[True, True, False, False, False, True, True]]
    # ReLU is linear above 0: only an exact 0 is saturated, however small the positive output
    relu_mask = saturated(np.array([[0.0, 1e-9, 0.005, 2.0]]), "relu")
    assert relu_mask is not None and relu_mask.tolist() == [[True, False, False, False]]
    margin_mask = saturated(np.array([[0.04, 0.5, 0.96]]), "sigmoid", margin=0.05)
    assert margin_mask is not None and margin_mask.tolist() == [[True, False, True]]
    assert saturated(A, "linear") is None
    assert saturated(A, "leaky_relu") is None


def with_range(name: str, output_range: tuple[float, float]) -> ActivationFunction:
    """A user's record: the forward and backward passes do not matter to saturation."""
    return ActivationFunction(name, lambda Z: Z, lambda dA, Z, A: dA, output_range)


def test_saturation_of_a_users_activation_follows_its_range() -> None:
    A = np.array([[-1.0, -0.995, 0.0, 1.995, 2.0]])
    for elu_like in (saturated(A, with_range("my_elu", (-1.0, math.inf))), saturated(A, "elu")):
        assert elu_like is not None and elu_like.tolist() == [[True, False, False, False, False]]  # bounded below: the bound itself
    bounded = saturated(A, with_range("scaled_tanh", (-1.0, 2.0)))  # bounded on both sides: within 0.01
    assert bounded is not None and bounded.tolist() == [[True, True, False, True, True]]
    assert saturated(A, with_range("my_gelu", (-math.inf, math.inf))) is None
    with pytest.raises(ValueError, match="activation"):
        saturated(A, "swish")  # type: ignore[arg-type]


def test_unbounded_activations_have_no_fractions_and_float32_works(rng: np.random.Generator) -> None:
    params = initialize_parameters([3, 4, 2], rng, dtype=np.float32)
    X32 = rng.standard_normal((3, 5)).astype(np.float32)
    AL, caches = forward_propagation(X32, params, ("leaky_relu", "linear"))
    grads = backward_propagation(AL, np.zeros((2, 5), np.float32), caches, "mean_squared_error")
    stats = layer_statistics(caches, grads, params)
    assert all(s.saturated_fraction is None and s.dead_fraction is None for s in stats)
    assert all(s.update_ratio == 0.0 for s in stats)  # the parameters the forward pass used: no update
    assert all(isinstance(value, (int, float, str)) for s in stats for value in s if value is not None)
    assert stats[0].z_mean == pytest.approx(float(np.mean(caches[0].Z.astype(np.float64))), rel=1e-5)


def test_layer_statistics_reads_only() -> None:
    AL, caches = forward_propagation(X, PARAMS, ACTS)
    grads = backward_propagation(AL, Y, caches, "binary_cross_entropy")
    for array in [*grads.values(), *PARAMS.values(), *(a for c in caches for a in (c.A_prev, c.W, c.Z, c.A))]:
        array.flags.writeable = False
    try:
        assert len(layer_statistics(caches, grads, PARAMS)) == 2
    finally:
        for array in PARAMS.values():
            array.flags.writeable = True


def test_layer_statistics_refuses_mismatched_arguments() -> None:
    AL, caches = forward_propagation(X, PARAMS, ACTS)
    grads = backward_propagation(AL, Y, caches, "binary_cross_entropy")
    with pytest.raises(ValueError, match="grads has no 'dW2'"):
        layer_statistics(caches, {"dW1": grads["dW1"]}, PARAMS)
    with pytest.raises(ValueError, match=r"params\['W1'\] has shape \(3, 2\)"):
        layer_statistics(caches, grads, {**PARAMS, "W1": np.zeros((3, 2))})
    with pytest.raises(TypeError, match="caches"):
        layer_statistics([], grads, PARAMS)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="margin"):
        layer_statistics(caches, grads, PARAMS, margin=-0.1)


def test_layer_statistics_names_grads_and_params_that_are_not_arrays() -> None:
    AL, caches = forward_propagation(X, PARAMS, ACTS)
    grads = backward_propagation(AL, Y, caches, "binary_cross_entropy")
    with pytest.raises(TypeError, match=r"grads\['dW1'\] must be a numpy ndarray, got list"):
        layer_statistics(caches, {**grads, "dW1": grads["dW1"].tolist()}, PARAMS)
    with pytest.raises(TypeError, match=r"params must be a mapping of 'W1', ... to arrays, got NoneType"):
        layer_statistics(caches, grads, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"grads must be a mapping of 'dW1', ... to arrays, got tuple"):
        layer_statistics(caches, (grads["dW1"], grads["dW2"]), PARAMS)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"params\['W2'\] must have dtype float32 or float64, got int64"):
        layer_statistics(caches, grads, {**PARAMS, "W2": np.array([[5, 0]])})
    diverged = {**grads, "dW1": np.full((2, 2), np.nan)}  # diagnosing a run gone wrong: NaN is a value to report
    assert math.isnan(layer_statistics(caches, diverged, PARAMS)[0].gradient_norm)


@pytest.mark.parametrize(
    ("A", "margin", "error", "message"),
    [
        ([[0.5, 0.999]], 0.01, TypeError, r"A must be a numpy ndarray, got list"),
        (np.array([0.5, 0.999]), 0.01, ValueError, r"A must be 2-D, got shape \(2,\)"),
        (np.array([[0.5, 0.999]]), float("nan"), ValueError, r"margin must be a finite number >= 0, got nan"),
        (np.array([[0.5, 0.999]]), -0.01, ValueError, r"margin must be a finite number >= 0, got -0.01"),
        (np.array([[0.5, 0.999]]), "0.01", TypeError, r"margin must be a number, got str '0.01'"),
    ],
)
def test_saturated_checks_its_arguments(A: object, margin: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        saturated(A, "sigmoid", margin)  # type: ignore[arg-type]  # the checks under test
    mask = saturated(np.array([[0.5, 0.999, np.nan]]), "sigmoid", 0.01)
    assert mask is not None and mask.tolist() == [[False, True, False]]


def toy_problem(rng: np.random.Generator) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
    X = rng.standard_normal((2, 40))
    Y = (X[:1] * X[1:] > 0).astype(np.float64)
    return X, Y, initialize_parameters([2, 5, 4, 1], rng, scheme="xavier")


def test_observer_sees_the_steps_it_asked_for_and_changes_nothing(rng: np.random.Generator) -> None:
    X, Y, params = toy_problem(rng)
    settings = dict(activations=("tanh", "sigmoid", "sigmoid"), loss="binary_cross_entropy", epochs=3, learning_rate=0.5)
    plain = train(X, Y, params, batch_size=16, rng=np.random.default_rng(1), **settings)  # type: ignore[arg-type]

    seen: list[BatchProgress] = []
    writes_refused: list[bool] = []

    def look(view: StepView) -> None:
        seen.append(view.progress)
        for array in (view.X, view.Y, view.params["W1"], view.grads["dW1"], view.caches[0].Z, view.caches[1].A):
            with pytest.raises(ValueError, match="read-only"):
                array[...] = 0.0
        writes_refused.append(True)

    watched = train(X, Y, params, batch_size=16, rng=np.random.default_rng(1), on_batch=Observer(look, every=2), **settings)  # type: ignore[arg-type]
    # 3 batches an epoch, 9 steps: the run's steps 2, 4, 6, 8, counted across epochs
    assert [(p.epoch, p.step) for p in seen] == [(1, 2), (2, 1), (2, 3), (3, 2)]
    assert len(writes_refused) == 4
    for key in plain.params:
        np.testing.assert_array_equal(watched.params[key], plain.params[key])
    assert watched.history == plain.history

    per_epoch: list[BatchProgress] = []
    train(X, Y, params, batch_size=16, rng=np.random.default_rng(1), on_batch=Observer(lambda v: per_epoch.append(v.progress)), **settings)  # type: ignore[arg-type]
    assert [(p.epoch, p.step, p.steps) for p in per_epoch] == [(1, 3, 3), (2, 3, 3), (3, 3, 3)]


def test_observer_statistics_equal_a_hand_written_loop(rng: np.random.Generator) -> None:
    X, Y, params = toy_problem(rng)
    acts: tuple[Activation, ...] = ("relu", "sigmoid", "sigmoid")
    log: list[StepStatistics] = []
    train(X, Y, params, activations=acts, loss="binary_cross_entropy", epochs=4, learning_rate=0.3,
          on_batch=layer_statistics_observer(log.append, every=1))  # fmt: skip
    expected = []
    current = params
    for _ in range(4):
        AL, caches = forward_propagation(X, current, acts)
        grads = backward_propagation(AL, Y, caches, "binary_cross_entropy")
        current = update_parameters(current, grads, 0.3)
        expected.append(layer_statistics(caches, grads, current))
    assert [s.progress.epoch for s in log] == [1, 2, 3, 4]
    for got, want in zip(log, expected):
        assert len(got.layers) == len(want) == 3
        for g, w in zip(got.layers, want):
            for name in LayerStatistics._fields:
                value = getattr(w, name)
                assert getattr(g, name) == (pytest.approx(value, rel=1e-12) if isinstance(value, float) else value), name


def test_observer_works_with_checkpoints(tmp_path: Path, rng: np.random.Generator) -> None:
    X, Y, params = toy_problem(rng)
    settings = dict(activations=("relu", "relu", "sigmoid"), loss="binary_cross_entropy", learning_rate=0.2, batch_size=10)
    log: list[StepStatistics] = []
    observer = layer_statistics_observer(log.append)
    train(X, Y, params, epochs=2, rng=np.random.default_rng(3), checkpoint_dir=tmp_path, on_batch=observer, **settings)  # type: ignore[arg-type]
    resumed = train(X, Y, params, epochs=4, rng=np.random.default_rng(3), checkpoint_dir=tmp_path, resume=True,
                    on_batch=observer, **settings)  # type: ignore[arg-type]  # fmt: skip
    straight = train(X, Y, params, epochs=4, rng=np.random.default_rng(3), **settings)  # type: ignore[arg-type]
    assert [s.progress.epoch for s in log] == [1, 2, 3, 4]
    for key in straight.params:
        np.testing.assert_array_equal(resumed.params[key], straight.params[key])


def test_bad_observers_are_refused(rng: np.random.Generator) -> None:
    X, Y, params = toy_problem(rng)
    settings = dict(activations=("relu", "relu", "sigmoid"), loss="binary_cross_entropy", epochs=1, learning_rate=0.1)
    with pytest.raises(ValueError, match="Observer.every"):
        train(X, Y, params, on_batch=Observer(lambda v: None, every=0), **settings)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Observer.observe"):
        train(X, Y, params, on_batch=Observer(None, every=1), **settings)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="on_batch must be a function of a BatchProgress or an Observer"):
        train(X, Y, params, on_batch=42, **settings)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="every"):
        layer_statistics_observer(print, every=0)


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4),
    m=st.integers(1, 8),
    scale=st.sampled_from([0.1, 1.0, 10.0]),
    hidden=st.sampled_from(["relu", "sigmoid", "tanh", "elu"]),
    seed=st.integers(0, 2**16),
)
def test_fractions_are_shares_and_a_dead_unit_is_saturated_everywhere(
    sizes: list[int], m: int, scale: float, hidden: Activation, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    params = {k: v * scale for k, v in initialize_parameters(sizes, rng, scheme="standard_normal").items()}
    acts: tuple[Activation, ...] = (hidden,) * (len(sizes) - 2) + ("sigmoid",)
    AL, caches = forward_propagation(rng.standard_normal((sizes[0], m)), params, acts)
    grads = backward_propagation(AL, (rng.random(AL.shape) < 0.5).astype(np.float64), caches, "binary_cross_entropy")
    for s, cache in zip(layer_statistics(caches, grads, params), caches):
        assert s.saturated_fraction is not None and s.dead_fraction is not None  # all these ranges are bounded
        assert 0.0 <= s.dead_fraction <= s.saturated_fraction <= 1.0  # n_dead * m <= saturated outputs
        assert s.dead_fraction * cache.A.shape[0] == pytest.approx(round(s.dead_fraction * cache.A.shape[0]))
        assert s.update_ratio == 0.0 and s.z_std >= 0.0 and s.a_std >= 0.0


def test_activation_histograms_refuse_nan_or_infinite_values_by_name(tmp_path: Path) -> None:
    from functional_nn.plots import ActivationSnapshot, HistogramColumn, plot_activation_histograms

    good = np.linspace(0.0, 1.0, 12).reshape(3, 4)
    bad = good.copy()
    bad[1, 2] = np.nan
    columns = [
        HistogramColumn("sigmoid", [ActivationSnapshot("epoch 0", (good,))], (0.0, 1.0)),
        HistogramColumn("relu", [ActivationSnapshot("epoch 0", (good,)), ActivationSnapshot("epoch 5", (bad,))]),
    ]
    with pytest.raises(ValueError, match=r"^columns\[1\]\.snapshots\[1\]\.activations\[0\] contains 1 NaN or infinite value\(s\)$"):
        plot_activation_histograms(columns, tmp_path / "h.png")
    columns[1] = HistogramColumn("relu", [ActivationSnapshot("epoch 0", (np.where(good > 0.9, np.inf, good),))])
    with pytest.raises(ValueError, match=r"^columns\[1\]\.snapshots\[0\]\.activations\[0\] contains 2 NaN or infinite value\(s\)$"):
        plot_activation_histograms(columns, tmp_path / "h.png")
    assert list(tmp_path.iterdir()) == []
    columns[1] = HistogramColumn("relu", [ActivationSnapshot("epoch 0", (good,))])
    assert plot_activation_histograms(columns, tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"


def test_fractions_by_hand_on_built_caches() -> None:
    """Three layers whose outputs are chosen by hand; the saturated and dead counts are counted here."""
    from functional_nn.activations import resolve_activation
    from functional_nn.types import LayerCache

    def cache(A: FloatArray, name: Activation, W: FloatArray) -> LayerCache:
        return LayerCache(np.zeros((W.shape[1], A.shape[1])), W, A.copy(), A, resolve_activation("activation", name))

    A1 = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 2.0]])  # relu: 4 zeros of 6, unit 1 dead
    A2 = np.array([[0.995, 0.009, 0.5], [0.999, 0.992, 0.991]])  # sigmoid: all but 0.5 within 0.01 of 0 or 1; unit 2 dead
    A3 = np.array([[-0.995, 0.99, -0.98]])  # tanh: -0.995 and 0.99 (exactly at 1 - 0.01) saturated, -0.98 not
    W1, W2, W3 = np.array([[3.0, 4.0], [0.0, 0.0]]), np.eye(2), np.zeros((1, 2))
    caches = (cache(A1, "relu", W1), cache(A2, "sigmoid", W2), cache(A3, "tanh", W3))
    grads = {"dW1": np.ones((2, 2)), "dW2": np.zeros((2, 2)), "dW3": np.array([[3.0, 4.0]])}
    params = {"W1": 2 * W1, "W2": W2, "W3": np.array([[1.0, 0.0]])}
    first, second, third = layer_statistics(caches, grads, params)
    assert (first.saturated_fraction, first.dead_fraction) == (4 / 6, 1 / 2)
    assert (second.saturated_fraction, second.dead_fraction) == (5 / 6, 1 / 2)
    assert (third.saturated_fraction, third.dead_fraction) == (2 / 3, 0.0)
    assert (first.weight_norm, first.gradient_norm, first.update_ratio) == (10.0, 2.0, 1.0)  # ||W1|| = 5, moved by W1
    assert (second.gradient_norm, second.update_ratio) == (0.0, 0.0)
    assert (third.gradient_norm, third.update_ratio) == (5.0, math.inf)  # from W = 0
    assert first.a_mean == 0.5 and first.a_std == pytest.approx(math.sqrt((3 * 0.25 + 0.25 + 0.25 + 2.25) / 6))
