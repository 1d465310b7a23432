"""The estimators' settings are declared with their ``__init__`` parameters' types.

Left to be inferred from ``self.init = init`` in ``__init__``, pyright (VS Code's Pylance)
widens a ``Literal`` parameter type to ``str``: ``clf.init`` was ``str`` and
``clf.activation`` ``ActivationFunction | str``, so that a user's
``MLPClassifier(init=clf.init, activation=clf.activation)`` was an error in Pylance while
``mypy --strict`` passed it. A class-level declaration is read alike by every checker;
``typing.get_type_hints`` sees it, so each setting is compared with its parameter here.
"""

from __future__ import annotations

import inspect
import typing

import pytest

from functional_nn.sklearn import MLPClassifier, MLPRegressor


@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_every_setting_is_declared_with_its_parameters_type(estimator: type[MLPClassifier] | type[MLPRegressor]) -> None:
    parameters = typing.get_type_hints(estimator.__init__)
    declared = typing.get_type_hints(estimator)
    settings = [name for name in inspect.signature(estimator).parameters]
    assert settings, "no settings read"
    assert {name: declared.get(name) for name in settings} == {name: parameters[name] for name in settings}
