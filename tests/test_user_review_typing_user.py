"""A user's own scripts, type-checked with ``mypy --strict`` against the installed package as
the README promises: natural code that needs no cast, ``type: ignore`` or annotation the
library does not offer."""

from __future__ import annotations

import textwrap
from pathlib import Path

from test_installed_typing import mypy_as_a_user

NAMES_IN_VARIABLES = '''
import sys

import numpy as np
from functional_nn import (TOY_DATASETS, Average, Color, Kernel, ToyName, f1_score, initialize_parameters,
                           load_image_folder, make_moons, one_hot, sgd, train)
from functional_nn.sklearn import DTypeName, MLPClassifier

fast = len(sys.argv) > 1
kernel: Kernel = "numba" if fast else "numpy"
rng = np.random.default_rng(0)
X, y = make_moons(20, rng)
train(X, one_hot(y, 2), initialize_parameters([2, 3, 2], rng), activations=("relu", "softmax"),
      loss="categorical_cross_entropy", epochs=1, optimizer=sgd(0.1, kernel=kernel), kernel=kernel)
averages: list[Average] = ["binary", "macro"]
scores = [f1_score(y, y, average=average) for average in averages]
color: Color = "rgb" if fast else "grayscale"
folder = load_image_folder("pictures", color=color)
names: list[ToyName] = ["moons", "xor"]
sets = [TOY_DATASETS[name](20, rng) for name in names]
dtypes: list[DTypeName] = ["float32", "float64"]
estimators = [MLPClassifier((4,), dtype=dtype) for dtype in dtypes]
'''

STEPS_AS_INTEGERS = '''
import numpy as np
from functional_nn.plots import LayerSeries, plot_layer_series

norms = np.ones((5, 2))
plot_layer_series([LayerSeries("gradients", np.arange(5), norms)], "norms.png", ylabel="norm")
'''


def test_names_in_variables_and_integer_steps_type_check(tmp_path: Path) -> None:
    """One mypy run (a few seconds) for both scripts.

    ``kernel=``, ``average=``, ``color=``, ``TOY_DATASETS[...]`` and the estimators' ``dtype=``
    took Literals whose aliases were not exported: a name kept in a variable needed a Literal
    spelt out by hand. ``LayerSeries.steps`` are "finite ints or floats" and run with ints,
    but were typed FloatArray: ``np.arange(n)`` was refused.
    """
    (tmp_path / "user_names.py").write_text(textwrap.dedent(NAMES_IN_VARIABLES))
    (tmp_path / "user_steps.py").write_text(textwrap.dedent(STEPS_AS_INTEGERS))
    finished = mypy_as_a_user(tmp_path, ["user_names.py", "user_steps.py"])
    errors = [line for line in finished.stdout.splitlines() if ": error:" in line]
    assert [line for line in errors if line.startswith("user_names.py")] == [], finished.stdout + finished.stderr
    assert [line for line in errors if line.startswith("user_steps.py")] == [], finished.stdout + finished.stderr
    assert finished.returncode == 0, finished.stdout + finished.stderr
