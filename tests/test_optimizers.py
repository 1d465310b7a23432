"""Optimizers: several steps against the published formulas written out by hand, a parabola for
every optimizer, purity (read-only inputs, states never mutated), dtypes, and bad arguments."""

from __future__ import annotations

import math
import re
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from functional_nn.optimizers import (
    Optimizer,
    OptimizerState,
    _without_stale_in_place,
    adam,
    adamw,
    momentum,
    rmsprop,
    sgd,
)
from functional_nn.schedules import Schedule, cosine_decay, step_decay
from functional_nn.types import FloatArray

KEYS = ("W1", "b1", "W2", "b2")
SHAPES = {"W1": (3, 2), "b1": (3, 1), "W2": (1, 3), "b2": (1, 1)}


def tiny_params(rng: np.random.Generator, dtype: type[np.floating] = np.float64) -> dict[str, FloatArray]:
    return {key: rng.standard_normal(SHAPES[key]).astype(dtype) for key in KEYS}


def grad_sequence(rng: np.random.Generator, steps: int, dtype: type[np.floating] = np.float64) -> list[dict[str, FloatArray]]:
    return [{"d" + key: rng.standard_normal(SHAPES[key]).astype(dtype) for key in KEYS} for _ in range(steps)]


def frozen(arrays: dict[str, FloatArray]) -> dict[str, FloatArray]:
    out = {key: value.copy() for key, value in arrays.items()}
    for value in out.values():
        value.flags.writeable = False
    return out


def run(opt: Optimizer, params: dict[str, FloatArray], grads: list[dict[str, FloatArray]]) -> list[dict[str, FloatArray]]:
    """The parameters after each update, every input read-only."""
    state = opt.init(frozen(params))
    current = frozen(params)
    trajectory = []
    for g in grads:
        current, state = opt.update(frozen(g), state, current)
        trajectory.append(current)
        current = frozen(current)
    return trajectory


# Each reference below is the paper's formula, in plain NumPy, one step at a time.


def test_sgd_by_hand(rng: np.random.Generator) -> None:
    params, grads = tiny_params(rng), grad_sequence(rng, 3)
    theta = {k: v.copy() for k, v in params.items()}
    got = run(sgd(0.1), params, grads)
    for t, g in enumerate(grads):
        theta = {k: theta[k] - 0.1 * g["d" + k] for k in KEYS}
        for k in KEYS:
            np.testing.assert_allclose(got[t][k], theta[k], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_by_hand(rng: np.random.Generator, nesterov: bool) -> None:
    params, grads = tiny_params(rng), grad_sequence(rng, 4)
    alpha, beta = 0.05, 0.8
    theta = {k: v.copy() for k, v in params.items()}
    v = {k: np.zeros_like(params[k]) for k in KEYS}
    got = run(momentum(alpha, beta, nesterov=nesterov), params, grads)
    for t, g in enumerate(grads):
        for k in KEYS:
            v[k] = beta * v[k] + g["d" + k]
            step = g["d" + k] + beta * v[k] if nesterov else v[k]
            theta[k] = theta[k] - alpha * step
            np.testing.assert_allclose(got[t][k], theta[k], rtol=1e-13, atol=1e-15)


def test_nesterov_is_heavy_ball_at_the_look_ahead_point() -> None:
    """Sutskever et al. 2013: v <- mu v - eps grad(theta + mu v); theta <- theta + v, on f = x^2 / 2.

    With phi = theta + mu v (the look-ahead point), our Nesterov iterates are the phi's."""
    mu, eps = 0.9, 0.1
    theta, vel = 1.0, 0.0
    phis = []
    for _ in range(5):
        vel = mu * vel - eps * (theta + mu * vel)  # grad f(x) = x
        theta = theta + vel
        phis.append(theta + mu * vel)
    opt = momentum(eps, mu, nesterov=True)
    params = {"W1": np.array([[1.0]]), "b1": np.array([[0.0]])}
    state = opt.init(params)
    for t in range(5):
        params, state = opt.update({"dW1": params["W1"], "db1": np.zeros((1, 1))}, state, params)
        assert params["W1"][0, 0] == pytest.approx(phis[t], rel=1e-13)


def test_rmsprop_by_hand(rng: np.random.Generator) -> None:
    params, grads = tiny_params(rng), grad_sequence(rng, 4)
    alpha, rho, eps = 0.01, 0.9, 1e-8
    theta = {k: v.copy() for k, v in params.items()}
    s = {k: np.zeros_like(params[k]) for k in KEYS}
    got = run(rmsprop(alpha, rho, eps), params, grads)
    for t, g in enumerate(grads):
        for k in KEYS:
            s[k] = rho * s[k] + (1 - rho) * g["d" + k] ** 2
            theta[k] = theta[k] - alpha * g["d" + k] / (np.sqrt(s[k]) + eps)
            np.testing.assert_allclose(got[t][k], theta[k], rtol=1e-13, atol=1e-15)


def adam_reference(
    params: dict[str, FloatArray],
    grads: list[dict[str, FloatArray]],
    alpha: Callable[[int], float] | Schedule,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float = 0.0,
    decayed: tuple[str, ...] = (),
) -> list[dict[str, FloatArray]]:
    """Kingma & Ba 2015, Algorithm 1; with weight_decay, Loshchilov & Hutter 2019, Algorithm 2."""
    theta = {k: v.copy() for k, v in params.items()}
    m = {k: np.zeros_like(params[k]) for k in KEYS}
    v = {k: np.zeros_like(params[k]) for k in KEYS}
    out = []
    for t0, g in enumerate(grads):
        t = t0 + 1
        new: dict[str, FloatArray] = {}
        for k in KEYS:
            m[k] = beta1 * m[k] + (1 - beta1) * g["d" + k]
            v[k] = beta2 * v[k] + (1 - beta2) * g["d" + k] ** 2
            m_hat = m[k] / (1 - beta1**t)
            v_hat = v[k] / (1 - beta2**t)
            decay = weight_decay * theta[k] if k in decayed else 0.0
            new[k] = theta[k] - alpha(t0) * (m_hat / (np.sqrt(v_hat) + eps) + decay)
        theta = new
        out.append(new)
    return out


def test_adam_by_hand(rng: np.random.Generator) -> None:
    params, grads = tiny_params(rng), grad_sequence(rng, 5)
    got = run(adam(0.01, 0.9, 0.999, 1e-8), params, grads)
    want = adam_reference(params, grads, lambda t: 0.01, 0.9, 0.999, 1e-8)
    for t in range(5):
        for k in KEYS:
            np.testing.assert_allclose(got[t][k], want[t][k], rtol=1e-12, atol=1e-15)


def test_adam_first_step_moves_every_entry_by_the_learning_rate(rng: np.random.Generator) -> None:
    """With bias correction, m_hat / sqrt(v_hat) = g / |g| on step 1: each entry moves by alpha."""
    params, grads = tiny_params(rng), grad_sequence(rng, 1)
    (got,) = run(adam(0.01, epsilon=1e-12), params, grads)
    for k in KEYS:
        np.testing.assert_allclose(got[k], params[k] - 0.01 * np.sign(grads[0]["d" + k]), rtol=1e-9)


def test_adam_with_a_schedule_uses_the_rate_of_each_step(rng: np.random.Generator) -> None:
    params, grads = tiny_params(rng), grad_sequence(rng, 4)
    schedule = step_decay(0.02, decay_rate=0.5, step_size=2)
    got = run(adam(schedule), params, grads)
    want = adam_reference(params, grads, schedule, 0.9, 0.999, 1e-8)
    for t in range(4):
        for k in KEYS:
            np.testing.assert_allclose(got[t][k], want[t][k], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("decay_biases", [False, True])
def test_adamw_by_hand(rng: np.random.Generator, decay_biases: bool) -> None:
    params, grads = tiny_params(rng), grad_sequence(rng, 4)
    decayed = KEYS if decay_biases else ("W1", "W2")
    got = run(adamw(0.01, weight_decay=0.1, decay_biases=decay_biases), params, grads)
    want = adam_reference(params, grads, lambda t: 0.01, 0.9, 0.999, 1e-8, weight_decay=0.1, decayed=decayed)
    for t in range(4):
        for k in KEYS:
            np.testing.assert_allclose(got[t][k], want[t][k], rtol=1e-12, atol=1e-15)


def test_adamw_decay_is_decoupled_from_the_gradient(rng: np.random.Generator) -> None:
    """With a zero gradient Adam does not move, and AdamW shrinks the weights by (1 - alpha lambda)
    per step: the decay is not divided by sqrt(v_hat) as L2 through Adam would be."""
    params = tiny_params(rng)
    zero: list[dict[str, FloatArray]] = [{"d" + k: np.zeros(SHAPES[k]) for k in KEYS}] * 3
    (*_, after_adam) = run(adam(0.1), params, zero)
    (*_, after_adamw) = run(adamw(0.1, weight_decay=0.5), params, zero)
    for k in KEYS:
        np.testing.assert_array_equal(after_adam[k], params[k])
        expected = params[k] * (1 - 0.1 * 0.5) ** 3 if k.startswith("W") else params[k]
        np.testing.assert_allclose(after_adamw[k], expected, rtol=1e-14)


def test_adamw_without_decay_is_adam(rng: np.random.Generator) -> None:
    params, grads = tiny_params(rng), grad_sequence(rng, 3)
    for a, b in zip(run(adam(0.01), params, grads), run(adamw(0.01, weight_decay=0.0), params, grads)):
        for k in KEYS:
            np.testing.assert_array_equal(a[k], b[k])


def test_sgd_schedule_and_step_count(rng: np.random.Generator) -> None:
    params, grads = tiny_params(rng), grad_sequence(rng, 3)
    rates = [0.3, 0.2, 0.1]
    opt = sgd(lambda step: rates[step])
    state = opt.init(params)
    theta = params
    for t, g in enumerate(grads):
        assert state.step == t
        new, state = opt.update(g, state, theta)
        for k in KEYS:
            np.testing.assert_allclose(new[k], theta[k] - rates[t] * g["d" + k], rtol=1e-15)
        theta = new
    assert state.step == 3


ALL_OPTIMIZERS: list[tuple[str, Callable[[], Optimizer]]] = [
    ("sgd", lambda: sgd(0.1)),
    ("momentum", lambda: momentum(0.02, 0.9)),
    ("nesterov", lambda: momentum(0.02, 0.9, nesterov=True)),
    ("rmsprop", lambda: rmsprop(cosine_decay(0.05, decay_steps=400))),
    ("adam", lambda: adam(cosine_decay(0.1, decay_steps=400, warmup_steps=10))),
    ("adamw", lambda: adamw(cosine_decay(0.1, decay_steps=400), weight_decay=1e-3, decay_biases=True)),
]


@pytest.mark.parametrize(("name", "make"), ALL_OPTIMIZERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_optimizer_minimises_a_parabola(
    rng: np.random.Generator, name: str, make: Callable[[], Optimizer], dtype: type[np.floating]
) -> None:
    """f(theta) = sum_k ||theta_k - c_k||^2 / 2, gradient theta - c, minimum at c."""
    target = tiny_params(rng, dtype)
    params = {k: v + dtype(3) for k, v in target.items()}
    opt = make()
    state = opt.init(params)
    start = max(float(np.abs(params[k] - target[k]).max()) for k in KEYS)
    for _ in range(400):
        grads = {"d" + k: params[k] - target[k] for k in KEYS}
        params, state = opt.update(grads, state, params)
    error = max(float(np.abs(params[k] - target[k]).max()) for k in KEYS)
    tolerance = 2e-2 if name == "adamw" else 1e-3  # AdamW's decay pulls the minimum towards 0 a little
    assert error < tolerance * start
    for k in KEYS:
        assert params[k].dtype == dtype
        for slot in state.slots.values():
            assert slot[k].dtype == dtype


@pytest.mark.parametrize(("name", "make"), ALL_OPTIMIZERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_states_are_values_never_mutated(
    rng: np.random.Generator, name: str, make: Callable[[], Optimizer], dtype: type[np.floating]
) -> None:
    opt = make()
    params = frozen(tiny_params(rng, dtype))
    state0 = opt.init(params)
    grads = [frozen(g) for g in grad_sequence(rng, 3, dtype)]
    params1, state1 = opt.update(grads[0], state0, params)
    snapshot = {name: {k: v.copy() for k, v in slot.items()} for name, slot in state1.slots.items()}
    params1_copy = {k: v.copy() for k, v in params1.items()}
    params2, state2 = opt.update(grads[1], state1, params1)
    # the same state again gives the same result: update is a function of its arguments
    params2_again, state2_again = opt.update(grads[1], state1, params1)
    assert state0.step == 0 and state1.step == 1 and state2.step == 2
    for slot_name, slot in state1.slots.items():
        for k in KEYS:
            np.testing.assert_array_equal(slot[k], snapshot[slot_name][k])
            assert not slot[k].flags.writeable  # slots are handed out read-only
            np.testing.assert_array_equal(state2.slots[slot_name][k], state2_again.slots[slot_name][k])
            assert state2.slots[slot_name][k].dtype == dtype
            if state0.slots:
                np.testing.assert_array_equal(state0.slots[slot_name][k], np.zeros(SHAPES[k]))
    for k in KEYS:
        np.testing.assert_array_equal(params1[k], params1_copy[k])
        np.testing.assert_array_equal(params2[k], params2_again[k])
        assert params2[k].dtype == dtype
        assert not np.shares_memory(params2[k], params1[k])


def test_hyperparameters_describe_the_optimizer() -> None:
    assert sgd(0.1).hyperparameters == (("learning_rate", 0.1),)
    assert adam().name == "adam"
    assert dict(adam().hyperparameters) == {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    assert momentum(0.1, nesterov=True).name == "nesterov_momentum"
    described = dict(momentum(step_decay(0.1, decay_rate=0.5, step_size=100)).hyperparameters)
    assert described == {
        "learning_rate.step_decay.initial": 0.1,
        "learning_rate.step_decay.decay_rate": 0.5,
        "learning_rate.step_decay.step_size": 100.0,
        "beta": 0.9,
    }
    assert dict(adamw(weight_decay=0.05, decay_biases=True).hyperparameters)["decay_biases"] == 1.0


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: sgd(0.0), ValueError, "learning_rate must be a finite number > 0"),
        (lambda: sgd(-1.0), ValueError, "learning_rate"),
        (lambda: sgd("0.1"), TypeError, "learning_rate must be a number"),  # type: ignore[arg-type]  # the error is the point
        (lambda: momentum(0.1, 1.0), ValueError, r"beta must be in \[0, 1\)"),
        (lambda: momentum(0.1, nesterov=1), TypeError, "nesterov must be a bool"),  # type: ignore[arg-type]  # the error is the point
        (lambda: rmsprop(rho=-0.1), ValueError, "rho"),
        (lambda: adam(beta2=1.5), ValueError, "beta2"),
        (lambda: adam(epsilon=0.0), ValueError, "epsilon"),
        (lambda: adamw(weight_decay=-1.0), ValueError, "weight_decay"),
        (lambda: adamw(weight_decay=math.nan), ValueError, "weight_decay"),
    ],
)
def test_bad_hyperparameters_are_refused_at_construction(
    make: Callable[[], Optimizer], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        make()


def test_bad_updates_name_what_is_wrong(rng: np.random.Generator) -> None:
    params = tiny_params(rng)
    grads = grad_sequence(rng, 1)[0]
    opt = adam()
    state = opt.init(params)
    with pytest.raises(ValueError, match="grads has no 'dW1'"):
        opt.update({**{k: v for k, v in grads.items() if k != "dW1"}, "dW9": grads["dW1"]}, state, params)
    with pytest.raises(ValueError, match=r"grads\['db2'\] is float32"):
        opt.update({**grads, "db2": grads["db2"].astype(np.float32)}, state, params)
    with pytest.raises(ValueError, match="slots"):
        opt.update(grads, momentum(0.1).init(params), params)
    with pytest.raises(TypeError, match="OptimizerState"):
        opt.update(grads, (0, {}), params)  # type: ignore[arg-type]  # the error is the point
    with pytest.raises(ValueError, match=r"state.slots\['m'\]\['W1'\]"):
        opt.update(grads, OptimizerState(0, {"m": {}, "v": {}}), params)
    with pytest.raises(ValueError, match="schedule returned -1.0 at step 0"):
        sgd(lambda step: -1.0).update(grads, OptimizerState(0, {}), params)
    with pytest.raises(ValueError, match="schedule returned nan at step 0"):
        sgd(lambda step: math.nan).update(grads, OptimizerState(0, {}), params)


ALL_UPDATES: list[tuple[str, Callable[[], Optimizer], bool]] = [
    (f"{name}{'.update_in_place' if in_place else '.update'}", make, in_place)
    for name, make in ALL_OPTIMIZERS
    for in_place in (False, True)
]


@pytest.mark.parametrize(("name", "make", "in_place"), ALL_UPDATES, ids=[case[0] for case in ALL_UPDATES])
def test_updates_refuse_a_bad_step_and_bad_params_by_name(
    rng: np.random.Generator, name: str, make: Callable[[], Optimizer], in_place: bool
) -> None:
    """Adam at step -1 divided by zero, step 2.5 passed, and sgd took int64 params (returning
    float64), float16 params and a 1-D bias."""
    opt = make()
    update = opt.update_in_place if in_place else opt.update
    assert update is not None
    params = tiny_params(rng)
    grads = grad_sequence(rng, 1)[0]
    state = opt.init(params)

    def call(grads: dict[str, Any], state: OptimizerState, params: dict[str, Any]) -> None:
        assert update is not None
        writeable = {key: value.copy() for key, value in params.items()}
        slots = {slot: {key: value.copy() for key, value in arrays.items()} for slot, arrays in state.slots.items()}
        update(grads, OptimizerState(state.step, slots), writeable)

    bad_steps: list[tuple[object, type[Exception], str]] = [
        (-1, ValueError, r"state.step must be >= 0, got -1"),
        (2.5, TypeError, r"state.step must be an integer, got float 2.5"),
        (True, TypeError, r"state.step must be an integer, got bool True"),
    ]
    for step, error, message in bad_steps:
        with pytest.raises(error, match=message):
            call(grads, state._replace(step=step), params)  # type: ignore[arg-type]  # the wrong step is the test
    for dtype in (np.int64, np.float16):
        cast = {key: value.astype(dtype) for key, value in params.items()}
        cast_grads = {key: value.astype(dtype) for key, value in grads.items()}
        cast_state = OptimizerState(0, {slot: {key: value.astype(dtype) for key, value in arrays.items()} for slot, arrays in state.slots.items()})
        with pytest.raises(TypeError, match=rf"params\['W1'\] must have dtype float32 or float64, got {np.dtype(dtype).name}"):
            call(cast_grads, cast_state, cast)
    flat = {**params, "b1": params["b1"].ravel()}
    flat_grads = {**grads, "db1": grads["db1"].ravel()}
    flat_state = OptimizerState(0, {slot: {**arrays, "b1": arrays["b1"].ravel()} for slot, arrays in state.slots.items()})
    with pytest.raises(ValueError, match=r"params\['b1'\] must be 2-D, got shape \(3,\)"):
        call(flat_grads, flat_state, flat)
    with pytest.raises(ValueError, match=r"params has an unexpected key 'gamma'"):
        call({**grads, "dgamma": grads["db1"]}, state, {**params, "gamma": params["b1"]})
    call(grads, state._replace(step=np.int64(3)), params)  # type: ignore[arg-type]  # a NumPy integer counts steps too


@pytest.mark.parametrize("in_place", [False, True])
def test_ema_refuses_params_whose_keys_are_not_the_average_s(rng: np.random.Generator, in_place: bool) -> None:
    """Params with a key the average lacks died in a bare KeyError; params lacking one of its
    keys dropped it from the average without a word."""
    from functional_nn.averaging import ema

    params = tiny_params(rng)
    grads = grad_sequence(rng, 1)[0]
    one_layer = {key: params[key] for key in ("W1", "b1")}
    opt = ema(sgd(0.1), 0.5)
    for start, given in ((one_layer, params), (params, one_layer)):
        state = opt.init(start)
        update = opt.update_in_place if in_place else opt.update
        assert update is not None
        owned = {key: value.copy() for key, value in given.items()}
        slots = {name: {key: value.copy() for key, value in slot.items()} for name, slot in state.slots.items()}
        message = re.escape(f"params hold {sorted(given)} but state.slots['average'] holds {sorted(start)}: initialise the state from these params")
        with pytest.raises(ValueError, match=message):
            update({"d" + key: grads["d" + key] for key in given}, OptimizerState(state.step, slots), owned)
        assert all(np.array_equal(owned[key], given[key]) for key in given)  # refused before anything was written


def test_averaged_params_refuses_params_that_do_not_fit(rng: np.random.Generator) -> None:
    """A list of params was an obscure TypeError, and params of other shapes than the average
    gave back the old-shaped average."""
    from functional_nn.averaging import averaged_params, ema

    params = tiny_params(rng)
    averaged, plain = ema(adam(), 0.5).init(params), adam().init(params)
    for state in (averaged, plain):
        with pytest.raises(TypeError, match=r"params must be a mapping of 'W1', 'b1', ... to arrays, got list"):
            averaged_params(state, [1, 2])  # type: ignore[arg-type]  # the wrong type is the test
        with pytest.raises(TypeError, match=r"params\['W1'\] must have dtype float32 or float64, got int64"):
            averaged_params(state, {**params, "W1": params["W1"].astype(np.int64)})
    wider = {"W1": np.zeros((5, 2)), "b1": np.zeros((5, 1)), "W2": np.zeros((1, 5)), "b2": np.zeros((1, 1))}
    with pytest.raises(ValueError, match=re.escape("state.slots['average']['W1'] is float64 (3, 2) but params['W1'] is float64 (5, 2)")):
        averaged_params(averaged, wider)
    one_layer = {key: params[key] for key in ("W1", "b1")}
    with pytest.raises(ValueError, match=re.escape("params hold ['W1', 'b1'] but state.slots['average'] holds ['W1', 'W2', 'b1', 'b2']")):
        averaged_params(averaged, one_layer)
    assert averaged_params(plain, wider) is wider
    assert all(averaged_params(averaged, params)[key] is averaged.slots["average"][key] for key in KEYS)


# --------------------------------------------------------------------------------------------
# a built-in's update_in_place stands for its own update only


def _counted(update: Any, calls: list[str], name: str) -> Any:
    def counting(*args: Any) -> Any:
        calls.append(name)
        return update(*args)

    return counting


def test_train_calls_a_replaced_update_not_the_built_in_in_place_step() -> None:
    # adam(...)._replace(update=...) kept adam's update_in_place, which train called instead:
    # the new update ran 0 times (a clipping or logging update silently did nothing)
    from functional_nn import initialize_parameters, train
    from functional_nn.averaging import ema

    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 40))
    Y = (X[:1] > 0).astype(np.float64)
    params = initialize_parameters([3, 4, 1], np.random.default_rng(1))
    common: dict[str, Any] = dict(activations=("relu", "sigmoid"), loss="binary_cross_entropy", epochs=2, batch_size=10)
    built_in = adam(1e-2)
    calls: list[str] = []
    replaced = built_in._replace(update=_counted(built_in.update, calls, "update"))
    result = train(X, Y, params, optimizer=replaced, rng=np.random.default_rng(2), **common)
    assert calls == ["update"] * 8
    expected = train(X, Y, params, optimizer=built_in, rng=np.random.default_rng(2), **common)
    for key in params:  # the same arithmetic, by update instead of in place: the same bits
        assert result.params[key].tobytes() == expected.params[key].tobytes()
    calls.clear()
    train(X, Y, params, optimizer=ema(replaced), rng=np.random.default_rng(2), **common)
    assert calls == ["update"] * 8  # ema's in-place form wraps the inner one's: not taken either
    # an update_in_place of one's own is taken as given, and the built-ins keep theirs
    own = Optimizer(built_in.init, built_in.update, "own", (), _counted(built_in.update_in_place, calls, "in place"))
    calls.clear()
    train(X, Y, params, optimizer=own, rng=np.random.default_rng(2), **common)
    assert calls == ["in place"] * 8
    assert _without_stale_in_place(built_in) is built_in and _without_stale_in_place(ema(built_in)).update_in_place is not None
    assert _without_stale_in_place(replaced).update_in_place is None


@pytest.mark.parametrize("make", [rmsprop, adam, adamw], ids=["rmsprop", "adam", "adamw"])
def test_a_too_small_epsilon_is_refused_before_the_slots_are_allocated(make: Callable[..., Optimizer]) -> None:
    params = {"W1": np.ones((1000, 1000), np.float32), "b1": np.zeros((1000, 1), np.float32)}
    optimizer = make(1e-3, epsilon=1e-40)  # below float32's smallest normal number
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="epsilon must be at least float32's smallest normal number"):
            optimizer.init(params)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the params check's finiteness mask of W1 takes 1,000,000 bytes; one slot for W1 would take 4,000,000
    assert peak < 2_000_000
