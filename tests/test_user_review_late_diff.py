"""Found by a review of the late commits (0562866, 94b3859, 38452e9, 6fbc081): two findings.

A single ``ActivationFunction`` given as ``activations`` (``activations=RELU``, or a
``RunSettings`` with one record where a tuple of them was meant) is a tuple itself, a
NamedTuple of five fields, so it was read as five activations: "got 5 names ['relu',
<function relu at 0x...>, ...]". It is refused as a single name is.

A NaN or infinite cost was blamed on a loss of one's own ("its cost, not the learning rate")
whenever the outputs were moderate, even for targets so large that the built-in loss of the
same values overflows too; that loss is then told to check the data, and so is one's own.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from functional_nn import ACTIVATIONS, LOSSES, TrainingDivergedError, initialize_parameters, sgd, train
from functional_nn import distributed as dist

RELU = ACTIVATIONS["relu"]


def test_a_single_activation_record_is_refused_as_a_single_name_is(rng: np.random.Generator) -> None:
    X, Y = rng.normal(size=(2, 8)), np.eye(2)[:, np.arange(8) % 2]
    params = initialize_parameters((2, 3, 2), rng)
    single = r"activations must be a sequence of 2 names or ActivationFunction records, one per layer, such as \('relu', 'softmax'\), got the single ActivationFunction 'relu'$"
    with pytest.raises(TypeError, match=single):
        train(X, Y, params, activations=RELU, loss="categorical_cross_entropy", epochs=1, learning_rate=0.1)  # type: ignore[arg-type]  # the wrong type is the test
    settings = dist.RunSettings((2, 3, 2), RELU, "categorical_cross_entropy", sgd(0.1), 1)  # type: ignore[arg-type]  # the wrong type is the test
    with pytest.raises(TypeError, match=single):
        dist.run_settings(settings, dist.SweepData(X, Y))
    with pytest.raises(TypeError, match=r"^activations must be a sequence of names or ActivationFunction records, one per layer, .* got ActivationFunction\(name='relu'"):
        dist.epoch_states([], activations=RELU, loss="categorical_cross_entropy")  # type: ignore[arg-type]  # the wrong type is the test
    # a tuple of records of the wrong length still names layer_sizes
    settings = dist.RunSettings((2, 3, 2), (RELU,), "categorical_cross_entropy", sgd(0.1), 1)
    with pytest.raises(ValueError, match=r"^activations must name one activation per layer: layer_sizes \(2, 3, 2\) has 2 layers, got 1 names"):
        dist.run_settings(settings, dist.SweepData(X, Y))


MY_MSE = LOSSES["mean_squared_error"]._replace(name="my_mse")  # the built-in's cost and gradient, as one's own


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_extreme_targets_are_not_blamed_on_a_loss_of_ones_own(rng: np.random.Generator) -> None:
    X, Y = rng.normal(size=(2, 4)), np.full((1, 4), 1e155)  # squares overflow float64, whatever the loss
    params = initialize_parameters((2, 3, 1), rng)
    for loss in (LOSSES["mean_squared_error"], MY_MSE):
        with pytest.raises(TrainingDivergedError) as raised:
            train(X, Y, params, activations=("relu", "linear"), loss=loss, epochs=1, learning_rate=1e-3)
        message = str(raised.value)
        assert re.fullmatch(
            r"training diverged at epoch 1, step 1: the cost is inf; try a smaller learning rate \(or check the data for extreme values\)",
            message,
        ), message
