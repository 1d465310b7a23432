"""User review of the maths of data-parallel training: epoch_states given rounds with gaps or repeats."""

from __future__ import annotations

import numpy as np
import pytest

from functional_nn import Activation, Loss, initialize_parameters
from functional_nn.data import make_moons, one_hot
from functional_nn.distributed import RoundState, epoch_states, split_shards, train_rounds

ACTIVATIONS: tuple[Activation, ...] = ("relu", "softmax")
LOSS: Loss = "categorical_cross_entropy"


def _rounds(rng: np.random.Generator) -> list[RoundState]:
    """8 synchronous rounds of half an epoch each (3 shards of 4 samples, batches of 2)."""
    moons = make_moons(12, rng, noise=0.1)
    shards = split_shards(moons.X, one_hot(moons.y, 2), 3)
    start = initialize_parameters([2, 3, 2], rng)
    return list(train_rounds(shards, start, activations=ACTIVATIONS, loss=LOSS, rounds=8, learning_rate=0.5, batch_size=2))


def test_epoch_states_of_every_other_round_count_the_rounds_left_out(rng: np.random.Generator) -> None:
    states = _rounds(rng)
    history = states[-1].history
    assert [record.epochs for record in history] == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]
    # epoch e is rounds 2e - 1 and 2e: its cost is their sample-weighted mean, as the docstring says
    expected = [
        sum(r.cost * r.samples for r in history[2 * e : 2 * e + 2]) / sum(r.samples for r in history[2 * e : 2 * e + 2])
        for e in range(4)
    ]
    every = [state.history[-1].cost for state, _ in epoch_states(states, activations=ACTIVATIONS, loss=LOSS)]
    assert every == pytest.approx(expected, rel=1e-12)
    # rounds 2, 4, 6, 8 only: rounds 3, 5 and 7 are in their history, and belong to epochs 2, 3 and 4
    thinned = list(epoch_states(states[1::2], activations=ACTIVATIONS, loss=LOSS))
    assert [(state.epoch, read.round) for state, read in thinned] == [(1, 2), (2, 4), (3, 6), (4, 8)]
    assert [record.cost for record in thinned[-1][0].history] == pytest.approx(expected, rel=1e-12)


def test_epoch_states_refuses_a_round_read_twice_or_out_of_order(rng: np.random.Generator) -> None:
    states = _rounds(rng)
    # a round counted twice would weigh its cost twice in its epoch's mean
    with pytest.raises(ValueError, match=r"states\[1\] is round 1, but states\[0\] was round 1: epoch_states reads the rounds"):
        epoch_states([states[0], states[0], states[1]], activations=ACTIVATIONS, loss=LOSS)
    read = epoch_states(iter([states[2], states[1]]), activations=ACTIVATIONS, loss=LOSS)
    with pytest.raises(ValueError, match=r"states\[1\] is round 2, but states\[0\] was round 3: .* in order, each once"):
        list(read)
