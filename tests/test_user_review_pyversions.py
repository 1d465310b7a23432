"""What a user on each Python the project declares (``requires-python``) can install and sees.

pyproject.toml is read with ``re`` and ``ast`` rather than ``tomllib``, which is Python 3.11's:
these tests run on 3.10 too.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from functional_nn.data.digit_files import load_digits_csv
from functional_nn.sklearn import MLPClassifier, MLPRegressor

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

ONNXRUNTIME_LAST_FOR_PYTHON_3_10 = "1.23.2"
"""onnxruntime's last release with wheels for Python 3.10 (1.24 and later need 3.11)."""


def _extra(name: str) -> list[Requirement]:
    """The requirements of the extra ``name`` in pyproject.toml's ``[project.optional-dependencies]``."""
    text = PYPROJECT.read_text()
    section = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    match = re.search(rf"^{re.escape(name)} = (\[.*?\])$", section, re.M | re.S)
    assert match is not None, f"no extra {name} in pyproject.toml"
    return [Requirement(line) for line in ast.literal_eval(match.group(1))]


def _requires_python() -> SpecifierSet:
    match = re.search(r'^requires-python = "(.*)"$', PYPROJECT.read_text(), re.M)
    assert match is not None
    return SpecifierSet(match.group(1))


def test_the_onnx_extra_installs_on_python_3_10() -> None:
    # `pip install ".[onnx]"` on Python 3.10 failed: "No matching distribution found for
    # onnxruntime>=1.31", whose reason (a float64 kernel for the SiLU fusion) went when silu stopped
    # being exported as ONNX's Sigmoid; 1.21-1.23.2 pass every ONNX test on 3.10.
    assert _requires_python().contains("3.10.13")
    (onnxruntime,) = [r for r in _extra("onnx") if r.name == "onnxruntime"]
    environment = {"python_version": "3.10", "python_full_version": "3.10.13", "extra": "onnx"}
    assert onnxruntime.marker is None or onnxruntime.marker.evaluate(environment)
    assert onnxruntime.specifier.contains(ONNXRUNTIME_LAST_FOR_PYTHON_3_10), str(onnxruntime)


def test_the_estimators_signatures_are_their_settings_on_every_python() -> None:
    # Python 3.10's inspect.signature took _RefusesScikitLearnNames.__new__ before the inherited
    # __init__: help(MLPClassifier) and an editor's call hints showed (*args: Any, **kwargs: Any) -> Self
    for estimator in (MLPClassifier, MLPRegressor):
        init = list(inspect.signature(estimator.__init__).parameters.values())
        assert list(inspect.signature(estimator).parameters.values()) == init[1:]
        assert list(inspect.signature(estimator).parameters)[:2] == ["hidden_layer_sizes", "activation"]


# as a user's script runs it: NumPy's DeprecationWarning from inside the library is not shown, let alone raised
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(("cell", "error"), [("256", "pixel values must lie in 0..255, got 256"), ("-1", "pixel values must lie in 0..255, got -1"), ("1.5", "is not an integer: '1.5'")])
def test_a_kaggle_cell_that_is_no_pixel_is_refused_on_every_numpy(tmp_path: Path, cell: str, error: str) -> None:
    # NumPy 2.2 (the newest Python 3.10 gets) read 256 as 0, -1 as 255 and 1.5 as 1 into uint8, silently
    path = tmp_path / "test.csv"
    path.write_text(",".join(f"pixel{i}" for i in range(784)) + "\n" + ",".join(["0"] * 783 + [cell]) + "\n")
    with pytest.raises(ValueError, match=re.escape(f"{path}: line 2, column 784 ('pixel783'){':' if cell != '1.5' else ''} {error}")):
        load_digits_csv(path)
