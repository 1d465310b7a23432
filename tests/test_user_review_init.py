"""A user review of the initialisation: names from PyTorch and Keras, and the module's table."""

from __future__ import annotations

import re

import numpy as np
import pytest

import functional_nn.initializers
from functional_nn import initialize_parameters, sgd
from functional_nn.distributed import RunSettings, sweep
from functional_nn.sklearn import MLPClassifier

# Was "did you mean 'scaled_normal'?" for "he_normal", "xavier_normal" and "glorot_normal"
# (N(0, 1e-4) whatever the layer's size), "did you mean 'uniform'?" for "glorot_uniform" and
# "he_uniform" (U[-0.5, 0.5)), and "did you mean 'standard_normal'?" for "kaiming_normal".
OTHER_LIBRARIES = [
    ("he_normal", r"did you mean 'he'\? It draws N\(0, 2 / fan_in\)$"),
    ("kaiming_normal", r"did you mean 'he'\? It draws N\(0, 2 / fan_in\)$"),
    ("glorot_normal", r"did you mean 'xavier'\? It draws Glorot normal, N\(0, 2 / \(fan_in \+ fan_out\)\)$"),
    ("xavier_normal", r"did you mean 'xavier'\? It draws Glorot normal, N\(0, 2 / \(fan_in \+ fan_out\)\)$"),
    ("glorot_uniform", r"Glorot uniform is not offered: 'xavier' draws the same variance from a normal .*"
     r"'uniform' is U\[-0.5, 0.5\) whatever the layer's size$"),
    ("Xavier-Uniform", r"Glorot uniform is not offered: 'xavier' draws"),
    ("he_uniform", r"He uniform is not offered: 'he' draws the same variance from a normal distribution, N\(0, 2 / fan_in\)"),
    ("kaiming_uniform", r"He uniform is not offered: 'he' draws"),
]  # fmt: skip


@pytest.mark.parametrize(("given", "hint"), OTHER_LIBRARIES)
def test_a_scheme_named_as_pytorch_or_keras_name_it_is_hinted_by_its_distribution(
    rng: np.random.Generator, given: str, hint: str
) -> None:
    with pytest.raises(ValueError, match=rf"^unknown scheme '{given}': expected one of \[.*\]; " + hint):
        initialize_parameters([3, 2], rng, scheme=given)  # type: ignore[arg-type]  # the other library's name is the test


def test_the_estimators_and_the_sweeps_init_get_the_same_hints(rng: np.random.Generator) -> None:
    X, y = rng.standard_normal((6, 2)), np.array([0, 1, 0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"^unknown init 'he_normal': .*; did you mean 'he'\? It draws N\(0, 2 / fan_in\)$"):
        MLPClassifier((2,), init="he_normal", epochs=1).fit(X, y)  # type: ignore[arg-type]  # Keras' name is the test
    settings = RunSettings((2, 3, 1), ("tanh", "sigmoid"), "binary_cross_entropy", sgd(0.1), 1, init="glorot_uniform")  # type: ignore[arg-type]  # Keras' name is the test
    with pytest.raises(ValueError, match=r"^settings\[0\]: unknown init 'glorot_uniform': .*; Glorot uniform is not offered"):
        sweep([settings], np.ones((2, 4)), np.array([[0.0, 1.0, 0.0, 1.0]]))


def test_the_modules_table_of_schemes_keeps_every_cell_inside_its_column() -> None:
    # Was a malformed reStructuredText table: the "uniform" row's weights ran into the margin
    # before the biases' column (docutils: "Text in column margin in table line 5").
    doc = functional_nn.initializers.__doc__
    assert doc is not None
    lines = doc.splitlines()
    borders = [i for i, line in enumerate(lines) if re.fullmatch(r"=+( +=+)+", line)]
    assert len(borders) == 3
    margins = [m.span() for m in re.finditer(r" +", lines[borders[0]])]
    for line in lines[borders[0] + 1 : borders[-1]]:
        for start, end in margins:
            assert line[start:end].strip() == "", f"text in the column margin at {start}: {line!r}"
