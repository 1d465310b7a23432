"""User review of sweeps: ``run_settings``, the public function that trains one setting, names
its argument when given the wrong kind of thing, as ``sweep`` and ``save_sweep_data`` do.

Before, a plain ``(X, Y)`` tuple for ``data`` or swapped arguments failed with an
``AttributeError`` about a missing field, an integer ``X`` with a message about a ``dtype``
argument the user never gave, and a missing optimizer with advice about ``learning_rate``,
which ``RunSettings`` does not have. And ``SweepData``, which those functions take, was missing
from the module's ``__all__`` (so from ``help`` and ``import *``).
"""

from __future__ import annotations

import pydoc

import numpy as np
import pytest

from functional_nn import distributed as dist
from functional_nn.optimizers import sgd
from functional_nn.types import FloatArray


def _setting() -> dist.RunSettings:
    return dist.RunSettings((8, 4, 2), ("relu", "softmax"), "categorical_cross_entropy", sgd(0.1), 1)


def _data(rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    X = rng.standard_normal((8, 20))
    return X, np.eye(2)[(X[0] > 0).astype(int)].T.copy()


def test_run_settings_names_data_given_as_a_plain_tuple(rng: np.random.Generator) -> None:
    X, Y = _data(rng)
    with pytest.raises(TypeError, match=r"^data must be a SweepData\(X, Y, dev\), got tuple$"):
        dist.run_settings(_setting(), (X, Y))  # type: ignore[arg-type]


def test_run_settings_names_its_arguments_given_the_wrong_way_round(rng: np.random.Generator) -> None:
    X, Y = _data(rng)
    with pytest.raises(TypeError, match=r"^settings must be a RunSettings, got SweepData$"):
        dist.run_settings(dist.SweepData(X, Y), _setting())  # type: ignore[arg-type]


def test_run_settings_names_data_x_of_integers(rng: np.random.Generator) -> None:
    X, Y = _data(rng)
    with pytest.raises(TypeError, match=r"^data\.X must have dtype float32 or float64, got int64"):
        dist.run_settings(_setting(), dist.SweepData((X * 10).astype(np.int64), Y))


def test_run_settings_names_a_missing_optimizer(rng: np.random.Generator) -> None:
    X, Y = _data(rng)
    with pytest.raises(TypeError, match=r"^settings\.optimizer must be an Optimizer such as sgd\(0\.1\), got NoneType$"):
        dist.run_settings(_setting()._replace(optimizer=None), dist.SweepData(X, Y))  # type: ignore[arg-type]


def test_run_settings_still_trains_what_sweep_trains(rng: np.random.Generator) -> None:
    X, Y = _data(rng)
    alone = dist.run_settings(_setting(), dist.SweepData(X, Y))
    (swept,) = dist.sweep([_setting()], X, Y)
    assert alone.history == swept.history and all(np.array_equal(alone.params[k], swept.params[k]) for k in alone.params)


def test_the_data_type_run_settings_takes_is_exported_and_in_the_modules_help() -> None:
    # run_settings, save_sweep_data and load_sweep_data take or give a SweepData: without it in
    # __all__, help(functional_nn.distributed) left the class out and `import *` did not bring it
    namespace: dict[str, object] = {}
    exec("from functional_nn.distributed import *", namespace)
    assert namespace.get("SweepData") is dist.SweepData
    assert "class SweepData" in pydoc.plain(pydoc.render_doc(dist))
