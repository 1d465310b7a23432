"""Sample weights in the rounds' records: ``RoundRecord.weight``, the epochs ``epoch_states`` makes
of weighted rounds (and their weighted dev figures), float32 rounds with extreme weights, and a
weighted run's re-sent shards counted on the caller's placement.

The rounds run in this process but for the one test that loses a shard on a cluster: a
``LocalCluster`` of worker threads on 127.0.0.1, started and shut down by the test's own
fixture, bounded in time by ``test_distributed``'s watchdog.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from distributed import Client

from functional_nn import checkpoints, compute_cost
from functional_nn import distributed as dist
from functional_nn.data import one_hot
from functional_nn.losses import resolve_loss
from functional_nn.optimizers import adam, momentum, sgd
from functional_nn.propagation import check_activations, forward_propagation
from functional_nn.training import check_dev_set, dev_figures, train
from functional_nn.types import Activation, FloatArray, Loss
from test_distributed import _assert_bitwise, _last, _params, deadline  # noqa: F401  (deadline: its autouse fixture, here too)

ACTIVATIONS: tuple[Activation, ...] = ("relu", "softmax")
LOSS: Loss = "categorical_cross_entropy"


def _data(rng: np.random.Generator, m: int, dtype: type[np.floating] = np.float64) -> tuple[FloatArray, FloatArray]:
    X = rng.standard_normal((5, m)).astype(dtype)
    labels = (X[0] + X[1] > 0).astype(np.int64) + (X[2] > 1).astype(np.int64)
    return X, one_hot(labels, 3, dtype=dtype)


def _weighted_figures(params: dict[str, FloatArray], X: FloatArray, Y: FloatArray, w: npt.NDArray[np.float64], lambd: float = 0.0) -> tuple[float, float]:
    """By hand: the weighted cost (with the L2 penalty over the total weight) and the weighted accuracy."""
    AL, _ = forward_propagation(X, params, ACTIVATIONS)
    cost = compute_cost(AL, Y, LOSS, lambd=lambd, params=params if lambd else None, sample_weight=w)
    right = np.argmax(AL, axis=0) == np.argmax(Y, axis=0)
    return cost, float(np.sum(w * right) / np.sum(w))


# --------------------------------------------------------------------------------------------
# RoundRecord.weight, and epochs weighed by it


def _global_batch(r: int, seed: int) -> list[int]:
    """The columns of round ``r`` (from 0) of two shards of 18, batches of 6: each shard's own draw."""
    pass_index, j = divmod(r, 3)
    batch: list[int] = []
    for s in range(2):
        order = dist.shard_generator(seed, s, dist.PERMUTATION_STREAM, pass_index).permutation(18)
        batch.extend(int(i) for i in 18 * s + order[6 * j : 6 * j + 6])
    return batch


def test_an_epoch_of_rounds_of_unequal_weight_is_the_weighted_mean_over_its_samples(rng: np.random.Generator) -> None:
    """Two shards of 18, batches of 6: three synchronous rounds an epoch, the first epoch's global
    batches weighing about 1e3, 1 and 1e-3 each sample. Each round's record holds its batches'
    total weight and the weighted figures of the parameters it started from (computed here from
    the data); the epoch is the mean of the rounds weighed by those weights."""
    X, Y = _data(rng, 36)
    w = rng.uniform(0.5, 2.0, 36)
    for r, scale in enumerate([1e3, 1.0, 1e-3]):
        w[_global_batch(r, seed=7)] *= scale
    params = _params()
    lambd = 0.3
    common: dict[str, Any] = dict(activations=ACTIVATIONS, loss=LOSS, optimizer=momentum(0.05), lambd=lambd, batch_size=6, seed=7)
    states = list(dist.train_rounds(dist.split_shards(X, Y, 2), params, rounds=6, sample_weight=w, **common))
    epochs = list(dist.epoch_states(states, activations=ACTIVATIONS, loss=LOSS))
    assert [state.epoch for state, _ in epochs] == [1, 2] and [rounds.round for _, rounds in epochs] == [3, 6]
    records = states[-1].history
    start = [params] + [state.params for state in states[:-1]]
    by_hand: list[tuple[float, float, float]] = []  # each round's total weight, cost and accuracy, from the data
    for r, record in enumerate(records):
        batch = _global_batch(r, seed=7)
        cost, accuracy = _weighted_figures(start[r], X[:, batch], Y[:, batch], w[batch], lambd)
        by_hand.append((float(np.sum(w[batch])), cost, accuracy))
        assert record.weight == pytest.approx(by_hand[-1][0], rel=1e-14) and record.samples == 12
        assert record.cost == pytest.approx(cost, rel=1e-12) and record.accuracy == pytest.approx(accuracy, rel=1e-12)
    assert by_hand[0][0] > 1e5 * by_hand[2][0]  # very unequal rounds
    for e, (state, _) in enumerate(epochs):
        rounds = by_hand[3 * e : 3 * e + 3]
        total = sum(W for W, _, _ in rounds)
        expected_cost = sum(W * c for W, c, _ in rounds) / total
        expected_accuracy = sum(W * a for W, _, a in rounds) / total
        epoch = state.history[-1]
        assert epoch.cost == pytest.approx(expected_cost, rel=1e-12)
        assert epoch.accuracy == pytest.approx(expected_accuracy, rel=1e-12)
        # the same from the rounds' own records
        own = records[3 * e : 3 * e + 3]
        assert epoch.cost == pytest.approx(sum(r.cost * (r.weight or 0.0) for r in own) / sum(r.weight or 0.0 for r in own), rel=1e-14)
    # the first epoch is its heavy round's, nearly: not the mean by samples epoch_states gave before
    first = epochs[0][0].history[0]
    assert first.cost == pytest.approx(by_hand[0][1], rel=1e-2)
    by_samples = sum(r.cost for r in records[:3]) / 3
    assert abs(first.cost - by_samples) > 1e-3 * by_samples


def test_local_sgd_records_the_weight_of_every_local_step(rng: np.random.Generator) -> None:
    """Local SGD's round weighs K full-shard steps of every shard: K times the total weight."""
    X, Y = _data(rng, 30)
    w = rng.uniform(0.5, 4.0, 30)
    w[[2, 20]] = 0.0  # left out: neither counted nor weighed
    state = _last(dist.train_rounds(dist.split_shards(X, Y, 3), _params(), activations=ACTIVATIONS, loss=LOSS, rounds=2,
                                    local_steps=3, learning_rate=0.1, sample_weight=w))  # fmt: skip
    for record in state.history:
        assert record.samples == 3 * 28 and record.weight == pytest.approx(3 * float(np.sum(w)), rel=1e-14)
    plain = _last(dist.train_rounds(dist.split_shards(X, Y, 3), _params(), activations=ACTIVATIONS, loss=LOSS, rounds=1,
                                    local_steps=3, learning_rate=0.1))  # fmt: skip
    assert plain.history[0].weight is None and len(plain.history[0]) == 10


def test_one_round_an_epoch_is_the_weighted_train_with_its_weighted_dev_figures(rng: np.random.Generator) -> None:
    """One shard, whole-shard synchronous rounds: each round an epoch, equal to train(..., sample_weight=w)'s
    EpochRecords to 1e-12, dev figures included (dev_sample_weight)."""
    X, Y = _data(rng, 40)
    dev = _data(rng, 15)
    w = 10.0 ** rng.uniform(-2.0, 2.0, 40)
    w[[5, 9]] = 0.0
    w_dev = 10.0 ** rng.uniform(-2.0, 2.0, 15)
    common: dict[str, Any] = dict(activations=ACTIVATIONS, loss=LOSS, optimizer=adam(0.02), lambd=0.2)
    expected = train(X, Y, _params(), epochs=4, sample_weight=w, dev=dev, dev_sample_weight=w_dev, **common)
    rounds = dist.train_rounds([dist.Shard(X, Y)], _params(), rounds=4, sample_weight=w, **common)
    epochs = list(dist.epoch_states(rounds, activations=ACTIVATIONS, loss=LOSS, dev=dev, dev_sample_weight=w_dev))
    got = epochs[-1][0].history
    assert [r.epoch for r in got] == [r.epoch for r in expected.history] == [1, 2, 3, 4]
    for field in ("cost", "accuracy", "dev_cost", "dev_accuracy"):
        np.testing.assert_allclose([getattr(r, field) for r in got], [getattr(r, field) for r in expected.history], rtol=1e-12, err_msg=field)
    # unweighted dev figures of the same rounds are others
    plain = list(dist.epoch_states([state for _, state in epochs], activations=ACTIVATIONS, loss=LOSS, dev=dev))
    assert plain[0][0].history[0].cost == got[0].cost and abs((plain[0][0].history[0].dev_cost or 0.0) - (got[0].dev_cost or 0.0)) > 1e-6


def test_weighted_dev_figures_are_trains_dev_figures_by_hand(rng: np.random.Generator) -> None:
    """Local SGD on mini-batches, several rounds an epoch: each epoch's dev figures are
    ``training.dev_figures`` of the epoch's last parameters with the dev weights, and by hand
    the weighted cost and the weight of the dev samples classified right over the dev weight."""
    X, Y = _data(rng, 48)
    X_dev, Y_dev = _data(rng, 20)
    w_dev = rng.uniform(0.0, 5.0, 20)
    rounds = list(dist.train_rounds(dist.split_shards(X, Y, 2), _params(), activations=ACTIVATIONS, loss=LOSS, rounds=6,
                                    local_steps=2, batch_size=6, optimizer=sgd(0.2), sample_weight=rng.uniform(0.1, 2.0, 48)))  # fmt: skip
    epochs = list(dist.epoch_states(rounds, activations=ACTIVATIONS, loss=LOSS, dev=(X_dev, Y_dev), dev_sample_weight=list(w_dev)))
    assert [state.epoch for state, _ in epochs] == [1, 2, 3]  # two rounds of 2 x 2 batches of 6 an epoch of 48
    checked = check_dev_set((X_dev, Y_dev), (5, 3), np.dtype(np.float64), resolve_loss("loss", LOSS))
    assert checked is not None
    for state, _ in epochs:
        record = state.history[-1]
        assert (record.dev_cost, record.dev_accuracy) == dev_figures(checked, w_dev, state.params, check_activations(ACTIVATIONS, 2), resolve_loss("loss", LOSS))
        cost, accuracy = _weighted_figures(state.params, X_dev, Y_dev, w_dev)
        assert record.dev_cost == pytest.approx(cost, rel=1e-13) and record.dev_accuracy == pytest.approx(accuracy, rel=1e-13)


def test_epoch_states_checks_dev_sample_weight_when_called(rng: np.random.Generator) -> None:
    X_dev, Y_dev = _data(rng, 6)

    def never() -> Iterator[dist.RoundState]:
        raise AssertionError("no round is read")
        yield  # a generator

    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        (dict(dev_sample_weight=np.ones(6)), ValueError, r"dev_sample_weight weighs the dev set's samples: pass dev=\(X_dev, Y_dev\) too"),
        (dict(dev=(X_dev, Y_dev), dev_sample_weight=np.ones(5)), ValueError, r"dev_sample_weight must have shape \(6,\), one weight for each of dev\[0\]'s 6 columns"),
        (dict(dev=(X_dev, Y_dev), dev_sample_weight=np.zeros(6)), ValueError, r"dev_sample_weight is 0 for every sample"),
        (dict(dev=(X_dev, Y_dev), dev_sample_weight="heavy"), TypeError, r"dev_sample_weight must be an array of 6 weights"),
    ]
    for extra, error, message in cases:
        with pytest.raises(error, match=message):
            dist.epoch_states(never(), activations=ACTIVATIONS, loss=LOSS, **extra)


def test_unweighted_epochs_are_weighed_by_samples_as_before(rng: np.random.Generator) -> None:
    """Records without weight (unweighted runs, and records built by hand as before) combine by samples."""
    records = (dist.RoundRecord(1, 0.5, 0.25, 6, 0.5, 0.1, 0.1), dist.RoundRecord(2, 2.0, 1.0, 2, 1.0, 0.1, 0.1))
    state = dist.RoundState(2, _params(), sgd(0.1).init(_params()), records)
    (epoch, _), = dist.epoch_states([state], activations=ACTIVATIONS, loss=LOSS)
    assert epoch.history[-1][1:3] == ((0.5 * 6 + 2.0 * 2) / 8, (0.25 * 6 + 1.0 * 2) / 8)
    weighted = dist.RoundState(2, state.params, state.optimizer_state, (records[0]._replace(weight=1.0), records[1]._replace(weight=3.0)))
    (epoch, _), = dist.epoch_states([weighted], activations=ACTIVATIONS, loss=LOSS)
    assert epoch.history[-1][1:3] == ((0.5 * 1 + 2.0 * 3) / 4, (0.25 * 1 + 1.0 * 3) / 4)
    # a record without weight in the epoch (an older checkpoint's): the epoch is weighed by samples
    mixed = dist.RoundState(2, state.params, state.optimizer_state, (records[0], records[1]._replace(weight=3.0)))
    (epoch, _), = dist.epoch_states([mixed], activations=ACTIVATIONS, loss=LOSS)
    assert epoch.history[-1][1:3] == ((0.5 * 6 + 2.0 * 2) / 8, (0.25 * 6 + 1.0 * 2) / 8)


def test_a_checkpoints_round_history_keeps_the_weights_and_an_older_shorter_one_resumes(rng: np.random.Generator, tmp_path: Path) -> None:
    X, Y = _data(rng, 40)
    w = rng.uniform(0.1, 3.0, 40)
    shards = dist.split_shards(X, Y, 2)
    common: dict[str, Any] = dict(activations=ACTIVATIONS, loss=LOSS, optimizer=adam(0.01), batch_size=10, seed=3, sample_weight=w)
    whole = _last(dist.train_rounds(shards, _params(), rounds=4, **common))
    _last(dist.train_rounds(shards, _params(), rounds=2, checkpoint_dir=tmp_path, **common))
    latest = checkpoints.latest_checkpoint(tmp_path)
    assert latest is not None
    saved = checkpoints.load_checkpoint(latest)
    history = saved.run["round_history"]
    assert [record[-1] for record in history] == [r.weight for r in whole.history[:2]]
    # as an older version wrote it: nine fields a round, no weight
    checkpoints.save_checkpoint(tmp_path, saved.state, rng=None, run={**saved.run, "round_history": [record[:9] for record in history]})
    states = list(dist.train_rounds(shards, _params(), rounds=4, checkpoint_dir=tmp_path, resume=True, **common))
    resumed = states[-1]
    _assert_bitwise(resumed.params, whole.params)
    assert [r.weight for r in resumed.history] == [None, None] + [r.weight for r in whole.history[2:]]
    assert [r.cost for r in resumed.history] == [r.cost for r in whole.history]
    # its epochs: the first (rounds 1 and 2, without weight) by samples, the second by weight, as the whole run's
    epochs = [state.history[-1] for state, _ in dist.epoch_states(states, activations=ACTIVATIONS, loss=LOSS)]
    expected = [state.history[-1] for state, _ in dist.epoch_states(dist.train_rounds(shards, _params(), rounds=4, **common), activations=ACTIVATIONS, loss=LOSS)]
    assert [e.epoch for e in epochs] == [2] and epochs[0] == expected[1]  # the first epoch ended before the states read


# --------------------------------------------------------------------------------------------
# float32 rounds with weights far from 1


@pytest.mark.parametrize(("low", "high", "m", "lambd"), [(0.5e38, 3e38, 60, 0.0), (0.2e-40, 1e-40, 24, 1e-41)])
def test_float32_synchronous_rounds_with_extreme_weights_equal_train(rng: np.random.Generator, low: float, high: float, m: int, lambd: float) -> None:
    """Weights near 1e38 (a shard's total weight beyond float32's 3.4e38) and near 1e-40 (below its
    smallest normal number 1.2e-38, the round's total weight's reciprocal beyond 3.4e38): the
    shards' weighted sums, kept in units of the largest weight, are train's full-batch steps to
    float32 rounding, as weights near 1 are (they overflowed to inf, or made NaN, in float32)."""
    X, Y = _data(rng, m, np.float32)
    w = rng.uniform(low, high, m).astype(np.float32)
    total = float(np.sum(w, dtype=np.float64))
    assert (float(np.sum(w[: m // 2], dtype=np.float64)) > 3.4e38) if high > 1 else (np.max(w) < 1.2e-38 and 1 / total > 3.4e38)
    params = _params(np.float32)
    common: dict[str, Any] = dict(activations=ACTIVATIONS, loss=LOSS, optimizer=sgd(0.5), lambd=lambd)
    expected = train(X, Y, params, epochs=5, sample_weight=w, **common)
    got = _last(dist.train_rounds(dist.split_shards(X, Y, 2), params, rounds=5, sample_weight=w, **common))
    scale = float(np.max(w))  # the same weights in units of the largest, and lambd alike: the same cost
    same = _last(dist.train_rounds(dist.split_shards(X, Y, 2), params, rounds=5, sample_weight=w.astype(np.float64) / scale, **{**common, "lambd": lambd / scale}))
    for key in params:
        assert got.params[key].dtype == np.float32
        np.testing.assert_allclose(got.params[key], expected.params[key], rtol=1e-5, atol=1e-6, err_msg=key)
        np.testing.assert_allclose(got.params[key], same.params[key], rtol=1e-5, atol=1e-6, err_msg=key)
    np.testing.assert_allclose([r.cost for r in got.history], [r.cost for r in expected.history], rtol=1e-5)
    assert got.history[0].weight == pytest.approx(total, rel=1e-12)
    assert all(type(value) is float for r in got.history for value in (r.cost, r.accuracy, r.weight))  # plain Python numbers


# --------------------------------------------------------------------------------------------
# on a cluster: a lost shard re-sent by a weighted run counts on the caller's placement


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with dist.cluster_client(n_workers=2, processes=False, timeout=30) as c:
        yield c


def test_a_weighted_runs_re_sent_shard_counts_on_the_callers_placement(rng: np.random.Generator, client: Client) -> None:
    X, Y = _data(rng, 40)
    w = rng.uniform(0.5, 2.0, 40)  # no weight 0: the run's copy shares the placement's shard futures
    shards = dist.split_shards(X, Y, 2)
    common: dict[str, Any] = dict(activations=ACTIVATIONS, loss=LOSS, rounds=3, learning_rate=0.1, sample_weight=w)
    placed = dist.place_shards(client, shards)
    states = dist.train_rounds(placed, _params(), **common)
    next(states)
    client.cancel([placed.futures[1]])  # type: ignore[no-untyped-call]  # lost, as with its worker
    there = _last(states)
    assert placed.replaced == 1 and placed.weights is None
    _assert_bitwise(there.params, _last(dist.train_rounds(shards, _params(), **common)).params)
