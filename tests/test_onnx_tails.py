"""ONNX models of the sigmoid family far out in the tails: onnxruntime's own float32 ``Sigmoid``
gives 0 there (from z = -18, with relative errors of 100% before), so the exporter writes
``sigmoid`` and ``silu`` as ``functional_nn.activations`` computes them, in float32 as in
float64. These tests hold onnxruntime's values to the library's in relative terms, out to the
extremes of float32. (Float32 ``gelu`` stays ONNX's fast ``Gelu``, whose tail is 0 below
z = -5.5: an absolute error below 1e-7, which ``test_onnx_export`` bounds.)"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np
import onnx
import onnxruntime
import pytest

from functional_nn import export_onnx
from functional_nn.activations import ACTIVATIONS
from functional_nn.propagation import predict_proba
from functional_nn.types import Activation, FloatArray

TINY: Final = float(np.finfo(np.float32).tiny)  # the smallest normal float32, 1.18e-38
LARGEST: Final = float(np.finfo(np.float32).max)

# Below these, sigma(z) is subnormal float32 numbers, with
# fewer significant bits than a normal number: a relative bound means nothing there.
NORMAL_INNER_FROM: Final[dict[Activation, float]] = {"sigmoid": -87.0, "silu": -87.0}
# Below this onnxruntime's own float32 Sigmoid kernel gives 0.
KERNEL_ZERO_BELOW: Final[dict[Activation, float]] = {"sigmoid": -18.0, "silu": -18.0}

# The tails, every order of magnitude, and the extremes: +-1e4, +-88, +-100, +-3e38, the
# largest float32, 0, subnormal and smallest-normal magnitudes, and +-inf (a Gemm that overflowed).
EXTREMES: Final = (
    0.0, -0.0, 88.0, -88.0, 100.0, -100.0, 1e4, -1e4, 3e38, -3e38, LARGEST, -LARGEST,
    TINY, -TINY, 1e-40, -1e-40, 1e-45, -1e-45, np.inf, -np.inf,
)  # fmt: skip
Z: Final = np.concatenate(
    [
        np.linspace(-120.0, 120.0, 24001),
        np.arange(-10.0, -20.5, -0.5),  # where onnxruntime's float32 Sigmoid falls to 0
        -np.logspace(-45, 38, 84),
        np.logspace(-45, 38, 84),
        EXTREMES,
    ]
).astype(np.float32)


def run(path: Path, X_rows: FloatArray) -> FloatArray:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    output: FloatArray = session.run(None, {"X": X_rows})[0]
    return output


@pytest.mark.parametrize("name", ["sigmoid", "silu"])
def test_float32_tails_agree_with_the_library_in_relative_terms(name: Activation, tmp_path: Path) -> None:
    params = {"W1": np.ones((1, 1), np.float32), "b1": np.zeros((1, 1), np.float32)}  # Gemm passes X on exactly
    X = Z[None, :]
    expected = ACTIVATIONS[name].forward(X)[0]  # predict_proba would refuse the infinite inputs
    path = export_onnx(params, (name,), tmp_path / "model.onnx")
    got = run(path, np.ascontiguousarray(X.T))[:, 0]
    assert got.dtype == np.float32 and got.shape == Z.shape
    normal = (Z >= NORMAL_INNER_FROM[name]) & (np.abs(expected) >= TINY)
    assert np.count_nonzero(normal & (Z < KERNEL_ZERO_BELOW[name])) > 500 and np.count_nonzero(~normal) > 500
    # A few units in the last place (about 1.2e-7 each), with room for another CPU's Exp.
    np.testing.assert_allclose(got[normal], expected[normal], rtol=2e-6, atol=0)
    # Beyond, within the smallest normal number: these values are as good as float32 has.
    np.testing.assert_allclose(got[~normal], expected[~normal], rtol=0, atol=TINY)


@pytest.mark.parametrize(
    ("name", "z", "value"),
    [
        # the auditor's points, where onnxruntime's float32 Sigmoid gave 0 and 8.9e-8
        ("sigmoid", -20.0, 2.0611537e-09),
        ("sigmoid", -17.0, 4.1399378e-08),
        ("silu", -20.0, -4.1223073e-08),
        ("silu", -1e4, -0.0),
        ("silu", -np.inf, -0.0),
        ("sigmoid", 3e38, 1.0),
    ],
)
def test_values_far_out_are_the_librarys(name: Activation, z: float, value: float, tmp_path: Path) -> None:
    params = {"W1": np.ones((1, 1), np.float32), "b1": np.zeros((1, 1), np.float32)}
    X = np.array([[z]], np.float32)
    expected = ACTIVATIONS[name].forward(X)[0, 0]
    assert expected == pytest.approx(value, rel=1e-6, abs=0)
    got = run(export_onnx(params, (name,), tmp_path / "model.onnx"), X)[0, 0]
    assert got == pytest.approx(expected, rel=2e-6, abs=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_silu_use_no_sigmoid_operator_and_run_at_opset_9(dtype: type[np.floating], tmp_path: Path) -> None:
    activations: tuple[Activation, ...] = ("silu", "silu", "sigmoid")
    params = {
        "W1": np.array([[1.0], [-2.0]], dtype), "b1": np.zeros((2, 1), dtype),
        "W2": np.array([[3.0, 1.0], [-1.0, 4.0]], dtype), "b2": np.array([[-1.0], [0.5]], dtype),
        "W3": np.array([[2.0, -6.0]], dtype), "b3": np.zeros((1, 1), dtype),
    }  # fmt: skip
    path = export_onnx(params, activations, tmp_path / "model.onnx", opset=9)
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == 9
    assert "Sigmoid" not in {node.op_type for node in model.graph.node}
    X = np.linspace(-30.0, 30.0, 121)[None, :].astype(dtype)
    got = run(path, np.ascontiguousarray(X.T))
    assert got.dtype == dtype
    rtol = 2e-5 if dtype == np.float32 else 1e-12  # three layers deep: roundings of W @ A compound
    np.testing.assert_allclose(got, predict_proba(X, params, activations).T, rtol=rtol, atol=0)
