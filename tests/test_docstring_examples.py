"""Every ``>>>`` example in the library's docstrings runs and prints what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

import functional_nn


def _modules() -> list[ModuleType]:
    names = [info.name for info in pkgutil.walk_packages(functional_nn.__path__, "functional_nn.")]
    return [functional_nn, *(importlib.import_module(name) for name in sorted(names))]


@pytest.mark.parametrize("module", _modules(), ids=lambda module: module.__name__)
def test_the_docstring_examples_of_each_module_pass(module: ModuleType) -> None:
    results = doctest.testmod(module, raise_on_error=False, report=True)
    assert results.failed == 0, f"{results.failed} of {results.attempted} examples in {module.__name__} failed (printed above)"


def test_the_examples_are_found() -> None:
    # a module whose examples doctest stopped finding would pass the test above without running them
    finder = doctest.DocTestFinder()
    attempted = {module.__name__: sum(len(test.examples) for test in finder.find(module)) for module in _modules()}
    assert {name for name, count in attempted.items() if count} >= {
        "functional_nn.data.augmentation", "functional_nn.diagnostics", "functional_nn.initializers",
        "functional_nn.lbfgs", "functional_nn.onnx_export", "functional_nn.sklearn", "functional_nn.training",
    }  # fmt: skip
    assert sum(attempted.values()) >= 38
