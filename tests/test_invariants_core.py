"""The core modules' promised invariants, checked across their public functions: no input is
written (read-only, Fortran-ordered and strided views give the C-ordered copies' bits), a
float32 network stays float32, integer, bool, float16, complex and object arrays and ndarray
subclasses are refused naming the argument, nothing draws from NumPy's global generator, the
same seed gives the same bits, and malformed arguments are refused early, by name."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functional_nn import (
    adam,
    adamw,
    apply_max_norm,
    averaged_params,
    backward_propagation,
    check_activation,
    check_loss,
    clip_by_global_norm,
    compute_cost,
    ema,
    forward_propagation,
    global_norm,
    gradient_check,
    initialize_parameters,
    layer_statistics,
    log_loss,
    momentum,
    numerical_gradient,
    one_hot,
    predict,
    predict_proba,
    rmsprop,
    sgd,
    train,
    update_parameters,
)
from functional_nn.diagnostics import saturated
from functional_nn.optimizers import Optimizer, OptimizerState
from functional_nn.types import Activation, FloatArray, FloatDType, Loss

DTYPES: tuple[FloatDType, ...] = (np.float32, np.float64)
ACTIVATIONS: tuple[Activation, ...] = ("relu", "tanh", "softmax")
LOSS: Loss = "categorical_cross_entropy"
LAYOUTS = ("F", "strided", "reversed")


def optimizers() -> dict[str, Optimizer]:
    """One of each built-in optimizer (and ema around one), made afresh."""
    return {
        "sgd": sgd(0.1), "momentum": momentum(0.1, nesterov=True), "rmsprop": rmsprop(1e-2), "adam": adam(1e-2),
        "adamw": adamw(1e-2), "ema": ema(adam(1e-2), 0.9),
    }  # fmt: skip


def laid_out(array: FloatArray, layout: str) -> FloatArray:
    """A read-only array of ``array``'s values in another memory layout: Fortran order, a strided
    view into a larger array, or a view with negative strides."""
    if layout == "F":
        result = np.asfortranarray(array).copy(order="F")
    elif layout == "strided":
        larger = np.zeros((2 * array.shape[0], 3 * array.shape[1]), dtype=array.dtype)
        larger[::2, 1::3] = array
        result = larger[::2, 1::3]
    else:
        result = np.ascontiguousarray(array[::-1, ::-1])[::-1, ::-1]
    result.flags.writeable = False
    return result


def all_laid_out(arrays: Mapping[str, FloatArray], layout: str) -> dict[str, FloatArray]:
    return {key: laid_out(value, layout) for key, value in arrays.items()}


def state_laid_out(state: OptimizerState, layout: str) -> OptimizerState:
    return OptimizerState(state.step, {name: all_laid_out(slot, layout) for name, slot in state.slots.items()})


def same_bits(first: FloatArray, second: FloatArray) -> bool:
    return first.dtype == second.dtype and first.shape == second.shape and first.tobytes() == second.tobytes()


def problem(seed: int, dtype: FloatDType, m: int = 6) -> tuple[dict[str, FloatArray], FloatArray, FloatArray]:
    rng = np.random.default_rng(seed)
    params = initialize_parameters([3, 5, 4, 3], rng, dtype=dtype)
    X = rng.standard_normal((3, m)).astype(dtype)
    Y = one_hot(rng.integers(0, 3, m), 3, dtype=dtype)
    return params, X, Y


def close(first: FloatArray, second: FloatArray) -> bool:
    """Equal dtypes and shapes, values within the dtype's rounding: a product of another memory
    layout may take another BLAS kernel, which adds in another order."""
    tolerance = 1e-4 if first.dtype == np.float32 else 1e-12
    return first.dtype == second.dtype and first.shape == second.shape and np.allclose(first, second, rtol=tolerance, atol=tolerance)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(DTYPES), st.sampled_from(LAYOUTS), st.integers(1, 7), st.integers(0, 2**32 - 1))
def test_every_step_function_takes_any_layout_and_writes_nothing(dtype: FloatDType, layout: str, m: int, seed: int) -> None:
    # The laid-out arrays are read-only: a write into any of them raises.
    params, X, Y = problem(seed, dtype, m)
    kept = {key: value.tobytes() for key, value in (*params.items(), ("X", X), ("Y", Y))}
    P, X_, Y_ = all_laid_out(params, layout), laid_out(X, layout), laid_out(Y, layout)

    AL, caches = forward_propagation(X, params, ACTIVATIONS, keep_probs=0.7, rng=np.random.default_rng(seed))
    AL_, caches_ = forward_propagation(X_, P, ACTIVATIONS, keep_probs=0.7, rng=np.random.default_rng(seed))
    assert close(AL, AL_) and AL_.dtype == dtype
    for cache, cache_ in zip(caches, caches_):
        assert cache.dropout_mask is None or same_bits(cache.dropout_mask, cache_.dropout_mask)  # type: ignore[arg-type]
        assert close(cache.Z, cache_.Z) and close(cache.A, cache_.A)
    grads = backward_propagation(AL, Y, caches, LOSS, lambd=0.1)
    grads_ = backward_propagation(laid_out(AL_, layout), Y_, caches_, LOSS, lambd=0.1)
    assert all(close(value, grads_[key]) for key, value in grads.items())
    cost = compute_cost(AL, Y, LOSS, lambd=0.1, params=params)
    assert type(cost) is float and np.isclose(compute_cost(laid_out(AL, layout), Y_, LOSS, lambd=0.1, params=P), cost)
    assert close(predict_proba(X, params, ACTIVATIONS), predict_proba(X_, P, ACTIVATIONS))
    statistics, statistics_ = layer_statistics(caches, grads, params), layer_statistics(caches_, all_laid_out(grads_, layout), P)
    assert all(np.isclose(first.weight_norm, second.weight_norm, rtol=1e-12) for first, second in zip(statistics, statistics_))

    # the same values in another layout: BLAS's float32 dot (global_norm) may add in another
    # order, the elementwise updates give the same bits
    G = all_laid_out(grads, layout)
    assert np.isclose(global_norm(grads), global_norm(G), rtol=1e-6 if dtype == np.float32 else 1e-15)
    clipped, clipped_ = clip_by_global_norm(grads, 1e-3), clip_by_global_norm(G, 1e-3)
    assert all(close(clipped[key], clipped_[key]) for key in grads)
    assert all(close(apply_max_norm(params, 0.5)[key], apply_max_norm(P, 0.5)[key]) for key in params)
    stepped, stepped_ = update_parameters(params, grads, 0.1), update_parameters(P, G, 0.1)
    assert all(same_bits(stepped[key], stepped_[key]) for key in params)
    for name, optimizer in optimizers().items():
        state = optimizer.init(params)
        new, new_state = optimizer.update(grads, state, params)
        new, new_state = optimizer.update(grads, new_state, new)
        new_, new_state_ = optimizer.update(G, state_laid_out(optimizer.init(P), layout), P)
        new_, new_state_ = optimizer.update(G, state_laid_out(new_state_, layout), all_laid_out(new_, layout))
        assert new_state_.step == 2
        for key in params:
            assert same_bits(new[key], new_[key]), (name, key)
        for slot, arrays in new_state.slots.items():
            for key, value in arrays.items():
                assert same_bits(value, new_state_.slots[slot][key]) and not value.flags.writeable, (name, slot, key)
        average = averaged_params(new_state_, all_laid_out(new_, layout))
        assert all(average[key].dtype == dtype for key in params)
    assert {key: value.tobytes() for key, value in (*params.items(), ("X", X), ("Y", Y))} == kept


BAD_KINDS = ("int64", "bool", "float16", "complex128", "object", "matrix", "masked")


def bad(array: FloatArray, kind: str) -> Any:
    """``array``'s values as a kind of array the library refuses."""
    if kind == "matrix":
        with warnings.catch_warnings():  # numpy itself discourages the class: what users have anyway
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            return np.asmatrix(array)
    if kind == "masked":
        return np.ma.masked_array(array, mask=np.zeros(array.shape, dtype=bool))
    return array.astype(kind)


def refusal_cases() -> dict[str, tuple[str, Callable[[Callable[[FloatArray], Any]], object]]]:
    """Each public function's array arguments: a name to match in the message, and a call that
    replaces that one argument by ``spoil(the valid array)``, every other argument valid."""
    params, X, Y = problem(0, np.float64)
    AL, caches = forward_propagation(X, params, ACTIVATIONS)
    grads = backward_propagation(AL, Y, caches, LOSS)
    labels = np.array([0, 1, 2, 0, 1, 2])

    def replaced(arrays: Mapping[str, FloatArray], key: str, spoil: Callable[[FloatArray], Any]) -> dict[str, Any]:
        return {**arrays, key: spoil(arrays[key])}

    cases: dict[str, tuple[str, Callable[[Callable[[FloatArray], Any]], object]]] = {
        "forward_propagation X": ("X", lambda spoil: forward_propagation(spoil(X), params, ACTIVATIONS)),
        "forward_propagation params": ("params['W1']", lambda spoil: forward_propagation(X, replaced(params, "W1", spoil), ACTIVATIONS)),
        "predict_proba X": ("X", lambda spoil: predict_proba(spoil(X), params, ACTIVATIONS)),
        "predict params": ("params['b2']", lambda spoil: predict(X, replaced(params, "b2", spoil), ACTIVATIONS)),
        "backward_propagation AL": ("AL", lambda spoil: backward_propagation(spoil(AL), Y, caches, LOSS)),
        "backward_propagation Y": ("Y", lambda spoil: backward_propagation(AL, spoil(Y), caches, LOSS)),
        "compute_cost AL": ("AL", lambda spoil: compute_cost(spoil(AL), Y, LOSS)),
        "compute_cost Y": ("Y", lambda spoil: compute_cost(AL, spoil(Y), LOSS)),
        "compute_cost params": ("params['W3']", lambda spoil: compute_cost(AL, Y, LOSS, lambd=0.1, params=replaced(params, "W3", spoil))),
        "update_parameters grads": ("grads['dW2']", lambda spoil: update_parameters(params, replaced(grads, "dW2", spoil), 0.1)),
        "global_norm": ("grads['db1']", lambda spoil: global_norm(replaced(grads, "db1", spoil))),
        "clip_by_global_norm": ("grads['dW1']", lambda spoil: clip_by_global_norm(replaced(grads, "dW1", spoil), 1.0)),
        "apply_max_norm": ("params['W2']", lambda spoil: apply_max_norm(replaced(params, "W2", spoil), 1.0)),
        "gradient_check X": ("X", lambda spoil: gradient_check(spoil(X), Y, params, ACTIVATIONS, LOSS)),
        "numerical_gradient Y": ("Y", lambda spoil: numerical_gradient(X, spoil(Y), params, ACTIVATIONS, LOSS)),
        "layer_statistics grads": ("grads['dW1']", lambda spoil: layer_statistics(caches, replaced(grads, "dW1", spoil), params)),
        "saturated": ("A", lambda spoil: saturated(spoil(AL), "softmax")),
        "log_loss": ("probabilities", lambda spoil: log_loss(spoil(AL), labels)),
        "train X": ("X", lambda spoil: train(spoil(X), Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=1, learning_rate=0.1)),
        "train Y": ("Y", lambda spoil: train(X, spoil(Y), params, activations=ACTIVATIONS, loss=LOSS, epochs=1, learning_rate=0.1)),
        "train dev": ("dev[1]", lambda spoil: train(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=1, learning_rate=0.1, dev=(X, spoil(Y)))),
    }  # fmt: skip
    for name, optimizer in optimizers().items():
        state = optimizer.init(params)

        def spoiled_params(spoil: Callable[[FloatArray], Any], o: Optimizer = optimizer) -> object:
            return o.init(replaced(params, "b1", spoil))

        def spoiled_grads(spoil: Callable[[FloatArray], Any], o: Optimizer = optimizer, s: OptimizerState = state) -> object:
            return o.update(replaced(grads, "dW3", spoil), s, params)

        cases[f"{name}.init"] = ("params['b1']", spoiled_params)
        cases[f"{name}.update grads"] = ("grads['dW3']", spoiled_grads)
        for slot in state.slots:

            def spoiled_slot(spoil: Callable[[FloatArray], Any], o: Optimizer = optimizer, s: OptimizerState = state, slot: str = slot) -> object:
                return o.update(grads, OptimizerState(s.step, {**s.slots, slot: replaced(s.slots[slot], "W1", spoil)}), params)

            cases[f"{name}.update {slot}"] = (f"state.slots['{slot}']['W1']", spoiled_slot)
    return cases


REFUSALS = refusal_cases()


@pytest.mark.parametrize("kind", BAD_KINDS)
@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_arrays_of_other_kinds_are_refused_naming_the_argument(case: str, kind: str) -> None:
    argument, call = REFUSALS[case]
    with pytest.raises((TypeError, ValueError), match=re.escape(argument)):
        call(lambda array: bad(array, kind))


@pytest.mark.parametrize("name", sorted(optimizers()))
def test_an_update_refuses_a_state_of_the_wrong_form_naming_the_slot(name: str) -> None:
    optimizer = optimizers()[name]
    params, _, _ = problem(0, np.float32)
    grads = {"d" + key: np.ones_like(value) for key, value in params.items()}
    state = optimizer.init(params)
    expected = r"state must come from ema\(adam\)'s init" if name == "ema" else r"state has the slots NoneType None but "
    with pytest.raises(ValueError, match=expected):
        optimizer.update(grads, OptimizerState(0, None), params)  # type: ignore[arg-type]  # what is refused
    if not state.slots:
        return
    slot = next(iter(state.slots))
    with pytest.raises(TypeError, match=re.escape(f"state.slots['{slot}'] must be a mapping of the parameters' keys to arrays, got list")):
        optimizer.update(grads, OptimizerState(0, {**state.slots, slot: []}), params)  # type: ignore[dict-item]  # what is refused
    as_lists = {key: value.tolist() for key, value in state.slots[slot].items()}
    with pytest.raises(TypeError, match=re.escape(f"state.slots['{slot}']['W1'] must be a numpy ndarray, got list")):
        optimizer.update(grads, OptimizerState(0, {**state.slots, slot: as_lists}), params)


def test_averaged_params_refuse_a_state_whose_slots_are_not_a_mapping() -> None:
    params, _, _ = problem(0, np.float64)
    with pytest.raises(TypeError, match="optimizer_state.slots must be a mapping of slot names to arrays, got list"):
        averaged_params(OptimizerState(0, []), params)  # type: ignore[arg-type]  # what is refused


def test_a_masked_gradient_no_longer_becomes_masked_parameters() -> None:
    # The update came back as a MaskedArray whose masked entries held the gradient's own values
    # (W1[0, 0] was 1.0), which every later function refused, naming params instead of grads.
    params, _, _ = problem(0, np.float64)
    grads: dict[str, Any] = {"d" + key: np.ones_like(value) for key, value in params.items()}
    grads["dW1"] = np.ma.masked_array(grads["dW1"], mask=np.eye(*grads["dW1"].shape, dtype=np.bool_))
    optimizer = sgd(0.5)
    with pytest.raises(TypeError, match=r"grads\['dW1'\] is a numpy.ma.MaskedArray, which is not supported"):
        optimizer.update(grads, optimizer.init(params), params)


@pytest.mark.parametrize("where", ["compute_cost", "backward_propagation", "train Y", "train dev"])
def test_float64_targets_beyond_float32_are_refused_not_made_infinite(where: str) -> None:
    # Converted to the float32 network's dtype, 1e39 became inf: an infinite cost, NaN
    # gradients, or "training diverged ... try a smaller learning rate".
    params = initialize_parameters([2, 3, 1], np.random.default_rng(0), dtype=np.float32)
    X = np.ones((2, 4), dtype=np.float32)
    Y = np.array([[0.0, 1.0, -1e39, 2.0]])
    activations: tuple[Activation, ...] = ("relu", "linear")
    AL, caches = forward_propagation(X, params, activations)
    argument = "dev[1]" if where == "train dev" else "Y"
    message = re.escape(
        f"{argument} holds a value of magnitude 1e+39, beyond the range of the network's float32 (3.403e+38), which it "
        "is converted to: scale the targets, or use float64 params"
    )
    with pytest.raises(ValueError, match=message):
        if where == "compute_cost":
            compute_cost(AL, Y, "mean_squared_error")
        elif where == "backward_propagation":
            backward_propagation(AL, Y, caches, "mean_squared_error")
        else:
            good = np.zeros((1, 4))
            targets, dev = (Y, None) if where == "train Y" else (good, (X, Y))
            train(X, targets, params, activations=activations, loss="mean_squared_error", epochs=1, learning_rate=0.1, dev=dev)
    # within the range, float64 targets are converted as before, to the nearest float32
    assert compute_cost(AL, Y * 1e-30, "mean_squared_error") == compute_cost(AL, (Y * 1e-30).astype(np.float32), "mean_squared_error")


@pytest.mark.parametrize(
    "keywords, argument",
    [({"keep_probs": 10**400}, "keep_probs"), ({"keep_probs": [10**400, 0.5]}, "keep_probs[0]"), ({"input_keep_prob": -(10**400)}, "input_keep_prob")],
)
def test_keep_probabilities_beyond_the_floats_are_refused_by_name(keywords: dict[str, Any], argument: str) -> None:
    # float() of such an integer raised OverflowError, naming nothing
    params, X, _ = problem(0, np.float64)
    with pytest.raises(ValueError, match=re.escape(f"{argument} must be in (0, 1], got an integer beyond the range of floats")):
        forward_propagation(X, params, ACTIVATIONS, rng=np.random.default_rng(0), **keywords)


@settings(max_examples=8, deadline=None)
@given(st.sampled_from(DTYPES), st.integers(0, 2**32 - 1), st.sampled_from(sorted(optimizers())))
def test_same_seed_same_bits_and_no_global_draws(dtype: FloatDType, seed: int, name: str) -> None:
    def run() -> tuple[list[bytes], list[float], object]:
        rng = np.random.default_rng(seed)
        params, X, Y = problem(seed, dtype, m=9)
        params = initialize_parameters([3, 5, 4, 3], rng, scheme="xavier", dtype=dtype)
        AL, _ = forward_propagation(X, params, ACTIVATIONS, keep_probs=(0.6, 0.9), input_keep_prob=0.8, rng=rng)
        before = rng.bit_generator.state
        difference = gradient_check(X[:, :2], Y[:, :2], params, ACTIVATIONS, LOSS, keep_probs=0.5, rng=rng)
        assert rng.bit_generator.state == before  # documented: rng is not advanced
        result = train(
            X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=2, optimizer=optimizers()[name], batch_size=4,
            rng=rng, keep_probs=0.8, input_keep_prob=0.9, dev=(X, Y), max_norm=2.0, clip_norm=1.0,
        )  # fmt: skip
        assert all(value.dtype == dtype for value in result.params.values())
        assert all(value.dtype == dtype for slot in result.optimizer_state.slots.values() for value in slot.values())
        figures = [difference, check_activation("gelu", rng=rng), check_loss("hinge", rng=rng)]
        figures += [figure for record in result.history for figure in record[1:] if figure is not None]
        assert all(type(figure) is float for figure in figures)
        arrays = [AL, *result.params.values(), *(v for slot in result.optimizer_state.slots.values() for v in slot.values())]
        return [array.tobytes() for array in arrays], figures, rng.bit_generator.state

    np.random.seed(seed % 2**31)
    global_state = np.random.get_state(legacy=False)
    first, second = run(), run()
    assert first == second
    after = np.random.get_state(legacy=False)
    key, key_after = global_state["state"].pop("key"), after["state"].pop("key")
    assert np.array_equal(key, key_after) and after == global_state
