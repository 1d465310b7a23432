"""What a user review of the distributed API found: rounds that continue a resumed run
(``train_rounds(..., resume=True)``), read as epochs by ``epoch_states``, gave again an epoch
the run had ended before the resume, and counted only the rounds read towards the next."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from functional_nn import distributed as dist
from functional_nn.averaging import ema
from functional_nn.data import one_hot
from functional_nn.initializers import initialize_parameters
from functional_nn.optimizers import adam
from functional_nn.types import Activation, Loss

ACTIVATIONS: tuple[Activation, Activation] = ("relu", "softmax")
LOSS: Loss = "categorical_cross_entropy"


@pytest.mark.parametrize("stopped_after", [3, 4])
def test_epoch_states_of_a_resumed_run_continue_the_epochs_of_the_run_it_resumes(
    rng: np.random.Generator, tmp_path: Path, stopped_after: int
) -> None:
    X = rng.standard_normal((2, 40))
    Y = one_hot((X[0] > 0).astype(np.int64), 2)
    shards = dist.split_shards(X, Y, 3)  # 14, 13, 13 columns; 2 local steps of 5: 30 samples a round
    params = initialize_parameters((2, 5, 2), rng)
    settings = dict(
        activations=ACTIVATIONS, loss=LOSS, rounds=5, optimizer=ema(adam(0.05), 0.9), batch_size=5, local_steps=2
    )
    whole = list(dist.train_rounds(shards, params, **settings))  # type: ignore[arg-type]
    assert [state.history[-1].epochs for state in whole] == [0.75, 1.375, 2.0, 2.75, 3.375]
    expected = [
        (state.epoch, round_state.round, state.history[-1])
        for state, round_state in dist.epoch_states(whole, activations=ACTIVATIONS, loss=LOSS, dev=(X, Y))
    ]
    assert [(epoch, number) for epoch, number, _ in expected] == [(1, 2), (2, 3), (3, 5)]

    interrupted = dist.train_rounds(shards, params, checkpoint_dir=tmp_path, **settings)  # type: ignore[arg-type]
    for _ in range(stopped_after):
        next(interrupted)
    interrupted.close()  # interrupted: the run has ended, and its hold on the folder with it
    resumed = dist.train_rounds(shards, params, checkpoint_dir=tmp_path, resume=True, **settings)  # type: ignore[arg-type]
    read = [
        (state.epoch, round_state.round, state.history[-1])
        for state, round_state in dist.epoch_states(resumed, activations=ACTIVATIONS, loss=LOSS, dev=(X, Y))
    ]
    # round 4 ends no epoch (epoch 2 ended in round 3); epoch 3, ended by round 5, is rounds 4 and 5
    assert read == expected[-1:]
