"""A user's review of ONNX export: what a deployed model gives where the library's own
arithmetic has limits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime

from functional_nn import export_onnx
from functional_nn.propagation import predict_proba


def test_a_float32_gelu_logit_that_overflowed_to_minus_infinity_gives_0_not_nan(tmp_path: Path) -> None:
    # 1e30 * -1e30 overflows float32: the hidden logit is -inf, where activations.gelu gives its
    # limit 0 (as float64 gelu, silu and softmax do in the model); ONNX's Gelu alone gives NaN
    params = {
        "W1": np.array([[-1e30], [1.0]], dtype=np.float32),
        "b1": np.zeros((2, 1), dtype=np.float32),
        "W2": np.array([[1.0, 1.0]], dtype=np.float32),
        "b2": np.zeros((1, 1), dtype=np.float32),
    }
    X = np.array([[1e30, 2.0]], dtype=np.float32)  # (n_0, m): two samples
    with np.errstate(over="ignore"):
        expected = predict_proba(X, params, ("gelu", "linear")).T
    assert np.isfinite(expected).all()
    path = export_onnx(params, ("gelu", "linear"), tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rows = session.run(None, {"X": X.T})[0]
    assert rows.dtype == np.float32
    np.testing.assert_allclose(rows, expected, rtol=1e-6, atol=1e-7)
