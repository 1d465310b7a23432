"""Edges of the small pieces: activations at extreme inputs, diagnostics of float32 networks,
ONNX models far out in the tails, and ema's state. Warnings are errors."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx.reference import ReferenceEvaluator

from functional_nn import initialize_parameters, predict_proba
from functional_nn.activations import ACTIVATIONS
from functional_nn.averaging import AVERAGE_SLOT, averaged_params, ema
from functional_nn.diagnostics import layer_statistics
from functional_nn.onnx_export import export_onnx
from functional_nn.optimizers import OptimizerState, sgd
from functional_nn.types import Activation, LayerCache

DTYPES = (np.float32, np.float64)


def _frozen(array: Any) -> Any:
    array.flags.writeable = False
    return array


# --- activations -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["gelu", "silu"])
def test_gelu_and_silu_at_infinities_take_their_limits(name: Activation, dtype: type[np.floating[Any]]) -> None:
    # g(z) = z Phi(z) or z sigma(z): g(-inf) = 0, g(inf) = inf; g'(-inf) = 0, g'(inf) = 1.
    record = ACTIVATIONS[name]
    Z = _frozen(np.array([[-np.inf], [np.inf], [np.nan]], dtype=dtype))
    A = record.forward(Z)
    assert A.dtype == dtype
    np.testing.assert_array_equal(A, np.array([[0.0], [np.inf], [np.nan]], dtype=dtype))
    dZ = record.backward(_frozen(np.ones_like(Z)), Z, A)
    assert dZ.dtype == dtype
    np.testing.assert_array_equal(dZ, np.array([[0.0], [1.0], [np.nan]], dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activations_at_extremes_give_nan_only_for_nan(name: Activation, dtype: type[np.floating[Any]]) -> None:
    info = np.finfo(dtype)
    values = [1e4, -1e4, -0.0, 0.0, info.smallest_subnormal, -info.smallest_subnormal, info.max, -info.max, -745.0, 30.0]
    values += [np.inf, -np.inf]  # softmax too: it takes its limits at infinite logits
    record = ACTIVATIONS[name]
    Z = _frozen(np.array(values, dtype=dtype).reshape((1, -1) if name == "softmax" else (-1, 1)))
    with np.errstate(all="raise"):  # the module promises no floating-point error for any input
        A = record.forward(Z)
        dZ = record.backward(_frozen(np.full_like(Z, info.smallest_subnormal)), Z, A)
        dZ_one = record.backward(_frozen(np.ones_like(Z)), Z, A)
    for result in (A, dZ, dZ_one):
        assert result.dtype == dtype and result.shape == Z.shape
        assert not np.isnan(result).any(), Z[np.isnan(result)]
    low, high = record.output_range
    finite = np.isfinite(Z)
    assert ((A >= low) & (A <= high))[finite].all()


# --- diagnostics ---------------------------------------------------------------------------


def _one_layer_caches(W: Any, Z: Any) -> tuple[LayerCache, ...]:
    A_prev = np.ones((W.shape[1], Z.shape[1]), dtype=W.dtype)
    return (LayerCache(_frozen(A_prev), _frozen(W), _frozen(Z), _frozen(Z.copy()), ACTIVATIONS["linear"]),)


def test_layer_statistics_of_float32_beyond_the_square_root_of_its_range() -> None:
    # Exploding float32 weights and gradients (1e20: their squares leave float32's range) are
    # what diagnostics are for: the figures are Python floats and must come out finite.
    big = 1e20
    W = np.full((2, 3), big, dtype=np.float32)
    Z = np.array([[big, -big], [big, -big]], dtype=np.float32)
    (stats,) = layer_statistics(_one_layer_caches(W, Z), {"dW1": _frozen(W.copy())}, {"W1": _frozen(W * np.float32(0.5))})
    exact = float(np.float32(big)) * math.sqrt(6)
    assert stats.weight_norm == pytest.approx(exact / 2, rel=1e-12)
    assert stats.gradient_norm == pytest.approx(exact, rel=1e-12)
    assert stats.update_ratio == pytest.approx(0.5, rel=1e-12)
    assert stats.z_mean == 0.0
    assert stats.z_std == pytest.approx(float(np.float32(big)), rel=1e-12)


def test_layer_statistics_refuses_params_and_grads_of_another_dtype() -> None:
    W = np.ones((2, 3), dtype=np.float64)
    caches = _one_layer_caches(W, np.ones((2, 4), dtype=np.float64))
    with pytest.raises(TypeError, match=r"params\['W1'\] has dtype float32 but the caches' W1 is float64"):
        layer_statistics(caches, {"dW1": W}, {"W1": W.astype(np.float32)})
    with pytest.raises(TypeError, match=r"grads\['dW1'\] has dtype float32 but the caches' W1 is float64"):
        layer_statistics(caches, {"dW1": W.astype(np.float32)}, {"W1": W})


# --- ONNX export ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_onnx_models_match_predict_proba_far_out(name: Activation, dtype: type[np.floating[Any]], tmp_path: Path) -> None:
    # Inputs out to |z| = 1e3, where the naive formulas overflow, through one layer of two units.
    params = {"W1": np.array([[1.0], [-0.5]], dtype=dtype), "b1": np.array([[0.0], [0.25]], dtype=dtype)}
    z = np.concatenate([np.linspace(-1e3, 1e3, 2001), np.linspace(-40.0, 40.0, 4001), [-0.0, 1e-30, -1e-30]])
    X = z[None, :].astype(dtype)
    activations = (name,)
    expected = predict_proba(X, params, activations).T
    path = export_onnx(params, activations, tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    by_runtime = session.run(None, {"X": np.ascontiguousarray(X.T)})[0]
    with warnings.catch_warnings():  # onnx.reference's own Sigmoid and Elu overflow inside NumPy, harmlessly
        warnings.simplefilter("ignore", RuntimeWarning)
        evaluated: Any = ReferenceEvaluator(onnx.load(str(path))).run(None, {"X": np.ascontiguousarray(X.T)})
    by_reference = evaluated[0]
    # float32: onnxruntime's Tanh is within 2.4e-7 of the exact values near its bounds;
    # float64: onnxruntime flushes subnormal results to 0.
    rtol, atol = (1e-6, 3e-7) if dtype == np.float32 else (1e-12, 1e-300)
    for output in (by_runtime, by_reference):
        assert output.dtype == dtype and output.shape == (z.size, 2)
        np.testing.assert_allclose(output, expected, rtol=rtol, atol=atol)


# --- averaging -----------------------------------------------------------------------------


def test_ema_names_an_average_slot_that_holds_no_arrays() -> None:
    params = initialize_parameters([3, 2], np.random.default_rng(0))
    optimizer = ema(sgd(0.1))
    state = optimizer.init(params)
    grads = {"dW1": np.ones((2, 3)), "db1": np.ones((2, 1))}
    lists = OptimizerState(state.step, {**state.slots, AVERAGE_SLOT: {k: v.tolist() for k, v in params.items()}})
    message = r"state.slots\['average'\]\['W1'\] must be a numpy ndarray, got list"
    with pytest.raises(TypeError, match=message):
        averaged_params(lists, params)
    with pytest.raises(TypeError, match=message):
        optimizer.update(grads, lists, params)
    missing = OptimizerState(state.step, {**state.slots, AVERAGE_SLOT: None})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match=r"state.slots\['average'\] must be a mapping of 'W1', 'b1', ... to arrays, got NoneType"):
        optimizer.update(grads, missing, params)
