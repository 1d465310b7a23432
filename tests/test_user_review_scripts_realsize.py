"""User review of the scripts at real size: what they hold and what they say."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import inspect_network  # noqa: E402  (the scripts folder is not a package)

from functional_nn import ACTIVATIONS, initialize_parameters, save_parameters  # noqa: E402


def test_inspect_network_names_a_params_file_given_for_the_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # predict_digit.py takes RUN/params.npz: a user passes the same path here
    params = initialize_parameters([784, 4, 10], np.random.default_rng(0), dtype=np.float32)
    path = tmp_path / "params.npz"
    save_parameters(path, params, metadata={"activations": ["relu", "softmax"]})
    assert inspect_network.main([str(path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: RUN_DIR {path} is a file: give the folder that holds it ({tmp_path}), the --out of scripts/train_mnist.py"
    )


def test_inspect_network_looks_inside_without_compiling_kernels(kernels_called: list[str]) -> None:
    # one forward pass for the pictures: Numba's kernels (and LLVM, ~130 MB of the 377 MB peak at
    # MNIST size) buy nothing here; NumPy's passes give the same arrays bitwise
    rng = np.random.default_rng(0)
    params = initialize_parameters([784, 8, 10], rng, dtype=np.float32)
    activations = (ACTIVATIONS["relu"], ACTIVATIONS["softmax"])
    X = rng.random((784, 5), dtype=np.float32)
    inside = inspect_network.look_inside(X, params, activations)
    assert kernels_called == []
    assert inside.probabilities.dtype == np.float32 and inside.probabilities.shape == (10, 5)
    np.testing.assert_allclose(inside.probabilities.sum(axis=0), 1.0, rtol=1e-5)
