"""Data-parallel rounds against hand computations: what the mutation audit of ``distributed`` found unpinned.

Every expected value is computed here from the public pieces (``forward_propagation``,
``backward_propagation``, ``compute_cost``, ``shard_generator``), not from the module's own
helpers: shards of unequal sizes, batches that run over more than one pass of a shard, local
steps across rounds, dev figures every few rounds, and epochs read from rounds of unequal
sample counts. Everything runs in this process (plain shards): no cluster is needed.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from distributed import Client

from functional_nn import distributed as dist
from functional_nn.data import one_hot
from functional_nn.fold_state import RoundState
from functional_nn.initializers import initialize_parameters
from functional_nn.losses import compute_cost, l2_penalty, resolve_loss
from functional_nn.optimizers import adam, sgd
from functional_nn.propagation import backward_propagation, check_activations, forward_propagation, predict_proba
from functional_nn.training import train
from functional_nn.types import Activation, FloatArray, IntArray, Loss

ACTIVATIONS: tuple[Activation, ...] = ("relu", "softmax")
LOSS: Loss = "categorical_cross_entropy"


def _data(m: int = 17, seed: int = 0) -> tuple[FloatArray, FloatArray]:
    X = np.random.default_rng(seed).standard_normal((4, m))
    labels = (X[0] + X[1] > 0).astype(np.int64) + (X[2] > 0.8).astype(np.int64)
    return X, one_hot(labels, 3)


def _params() -> dict[str, FloatArray]:
    return initialize_parameters((4, 5, 3), np.random.default_rng(1))


def _all(states: Iterator[RoundState]) -> list[RoundState]:
    return list(states)


def _columns(seed: int, s: int, m_s: int, batch_size: int, step: int) -> IntArray:
    """Shard ``s``'s batch at its ``step``-th step, as the module's notes describe it."""
    per_pass = -(-m_s // batch_size)
    pass_index, j = divmod(step, per_pass)
    order = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(s, 0, pass_index))).permutation(m_s)
    columns: IntArray = order[j * batch_size : (j + 1) * batch_size]
    return columns


def _correct(AL: FloatArray, Y: FloatArray) -> int:
    return int(np.count_nonzero(AL.argmax(axis=0) == Y.argmax(axis=0)))


def _sgd_step(params: dict[str, FloatArray], X: FloatArray, Y: FloatArray, rate: float, lambd: float = 0.0) -> dict[str, FloatArray]:
    AL, caches = forward_propagation(X, params, ACTIVATIONS)
    grads = backward_propagation(AL, Y, caches, LOSS, lambd=lambd)
    return {k: params[k] - rate * grads["d" + k] for k in params}


# --------------------------------------------------------------------------------------------
# synchronous rounds


def test_synchronous_minibatch_rounds_by_hand_over_several_passes_of_unequal_shards() -> None:
    X, Y = _data(17)
    shards = dist.split_shards(X, Y, 2)  # 9 and 8 columns: 3 and 2 batches of at most 4 a pass
    params = _params()
    states = _all(dist.train_rounds(shards, params, activations=ACTIVATIONS, loss=LOSS, rounds=5, learning_rate=0.5, batch_size=4, seed=11))
    by_hand = dict(params)
    costs, accuracies, samples = [], [], []
    for r in range(5):
        picks = [_columns(11, s, shard.X.shape[1], 4, r) for s, shard in enumerate(shards)]
        X_r = np.concatenate([shard.X[:, c] for shard, c in zip(shards, picks)], axis=1)
        Y_r = np.concatenate([shard.Y[:, c] for shard, c in zip(shards, picks)], axis=1)
        AL, _ = forward_propagation(X_r, by_hand, ACTIVATIONS)
        costs.append(compute_cost(AL, Y_r, LOSS))
        accuracies.append(_correct(AL, Y_r) / X_r.shape[1])
        samples.append(X_r.shape[1])
        by_hand = _sgd_step(by_hand, X_r, Y_r, 0.5)
        for key in params:
            np.testing.assert_allclose(states[r].params[key], by_hand[key], rtol=0, atol=1e-12)
    history = states[-1].history
    assert samples == [8, 8, 5, 8, 8]  # shard 0's third batch has 1 column, shard 1's pass has 2 batches
    assert [record.samples for record in history] == samples
    assert [record.round for record in history] == [1, 2, 3, 4, 5]
    assert [record.epochs for record in history] == pytest.approx([8 / 17, 16 / 17, 21 / 17, 29 / 17, 37 / 17], rel=1e-15)
    assert [record.cost for record in history] == pytest.approx(costs, rel=1e-12)
    assert [record.accuracy for record in history] == pytest.approx(accuracies, rel=1e-15)
    assert states[-1].optimizer_state.step == 5 and states[-1].round == 5


def test_synchronous_rounds_clip_then_cap_as_trains_full_batch_epochs() -> None:
    X, Y = _data(30)
    params = _params()
    common = dict(activations=ACTIVATIONS, loss=LOSS, optimizer=adam(0.05), lambd=0.3, clip_norm=0.05, max_norm=0.9)
    expected = train(X, Y, params, epochs=6, **common)  # type: ignore[arg-type]
    got = _all(dist.train_rounds(dist.split_shards(X, Y, 3), params, rounds=6, **common))[-1]  # type: ignore[arg-type]
    for key in params:
        np.testing.assert_allclose(got.params[key], expected.params[key], rtol=0, atol=1e-12)
    # the cost includes the L2 penalty of the round's starting parameters over all its samples
    assert [r.cost for r in got.history] == pytest.approx([r.cost for r in expected.history], rel=1e-12)
    for name, slot in got.optimizer_state.slots.items():
        for key in slot:
            np.testing.assert_allclose(slot[key], expected.optimizer_state.slots[name][key], rtol=0, atol=1e-12)


def test_gradient_sum_is_the_batch_mean_times_its_size_with_its_cost_and_correct_count() -> None:
    X, Y = _data(9)
    params = _params()
    task = dist._Task(check_activations(ACTIVATIONS, 2), resolve_loss("loss", LOSS), 0, None, None, 0.7, None, None, sgd(0.1), None)
    got = dist.gradient_sum(dist.Shard(X, Y), 0, dist.RoundInput(params, sgd(0.1).init(params), 0, task))
    AL, caches = forward_propagation(X, params, ACTIVATIONS)
    means = backward_propagation(AL, Y, caches, LOSS)  # no L2 term: the driver adds it once
    assert got.samples == 9 and got.correct == _correct(AL, Y)
    assert got.cost == pytest.approx(compute_cost(AL, Y, LOSS) * 9, rel=1e-14)
    assert got.grads.keys() == means.keys()
    for key in means:
        np.testing.assert_allclose(got.grads[key], means[key] * 9, rtol=1e-14, atol=0)


@pytest.mark.parametrize("local_steps", [None, 1], ids=["synchronous", "local SGD"])
def test_dropout_masks_come_from_each_shards_own_stream_for_each_round(local_steps: int | None) -> None:
    # one plain SGD step a round on whole shards: the weighted average of the shards' steps is the summed step
    X, Y = _data(12)
    shards = dist.split_shards(X, Y, 2)
    params = _params()
    state = _all(
        dist.train_rounds(shards, params, activations=ACTIVATIONS, loss=LOSS, rounds=2, learning_rate=0.4, keep_probs=0.7,
                          seed=4, local_steps=local_steps)
    )[-1]  # fmt: skip
    by_hand = dict(params)
    for r in range(2):
        total = {f"d{k}": np.zeros_like(v) for k, v in by_hand.items()}
        for s, shard in enumerate(shards):
            rng = np.random.default_rng(np.random.SeedSequence(4, spawn_key=(s, 1, r)))
            AL, caches = forward_propagation(shard.X, by_hand, ACTIVATIONS, keep_probs=0.7, rng=rng)
            grads = backward_propagation(AL, shard.Y, caches, LOSS)
            for key in total:
                total[key] = total[key] + grads[key] * shard.X.shape[1]
        by_hand = {k: by_hand[k] - 0.4 * total["d" + k] / 12 for k in by_hand}
    for key in params:
        np.testing.assert_allclose(state.params[key], by_hand[key], rtol=0, atol=1e-12)


# --------------------------------------------------------------------------------------------
# local SGD


def test_local_sgd_by_hand_with_minibatches_across_rounds_on_unequal_shards() -> None:
    X, Y = _data(17)
    shards = dist.split_shards(X, Y, 2)  # 9 and 8 columns
    params = _params()
    K, lambd = 2, 0.2
    states = _all(
        dist.train_rounds(shards, params, activations=ACTIVATIONS, loss=LOSS, rounds=2, learning_rate=0.3,
                          batch_size=4, local_steps=K, lambd=lambd, seed=6)
    )  # fmt: skip
    by_hand = dict(params)
    for r in range(2):
        ends, cost_sum, samples, correct = [], 0.0, 0, 0
        for s, shard in enumerate(shards):
            local = dict(by_hand)
            for k in range(K):
                c = _columns(6, s, shard.X.shape[1], 4, r * K + k)  # step t = r K + k of the shard
                X_B, Y_B = shard.X[:, c], shard.Y[:, c]
                AL, _ = forward_propagation(X_B, local, ACTIVATIONS)
                cost_sum += (compute_cost(AL, Y_B, LOSS) + l2_penalty(local, lambd, X_B.shape[1])) * X_B.shape[1]
                samples += X_B.shape[1]
                correct += _correct(AL, Y_B)
                local = _sgd_step(local, X_B, Y_B, 0.3, lambd)
            ends.append(local)
        by_hand = {k: ends[0][k] * (9 / 17) + ends[1][k] * (8 / 17) for k in by_hand}
        record = states[r].history[-1]
        assert record.samples == samples == (16, 13)[r]  # shard 0's step 2 is its pass's last column
        assert record.cost == pytest.approx(cost_sum / samples, rel=1e-12)
        assert record.accuracy == correct / samples
        assert record.epochs == pytest.approx((16, 29)[r] / 17, rel=1e-15)
        for key in params:
            np.testing.assert_allclose(states[r].params[key], by_hand[key], rtol=0, atol=1e-12)
    assert states[-1].optimizer_state.step == 2 * K


def test_local_sgd_on_one_shard_is_trains_full_batch_epochs_with_clip_cap_and_l2() -> None:
    X, Y = _data(20)
    params = _params()
    common = dict(activations=ACTIVATIONS, loss=LOSS, optimizer=adam(0.05), lambd=0.4, clip_norm=0.05, max_norm=0.8)
    expected = train(X, Y, params, epochs=6, **common)  # type: ignore[arg-type]
    states = _all(dist.train_rounds([dist.Shard(X, Y)], params, rounds=2, local_steps=3, **common))  # type: ignore[arg-type]
    last = states[-1]
    for key in params:
        np.testing.assert_allclose(last.params[key], expected.params[key], rtol=0, atol=1e-12)
    assert last.optimizer_state.step == 6
    for name, slot in last.optimizer_state.slots.items():
        for key in slot:
            np.testing.assert_allclose(slot[key], expected.optimizer_state.slots[name][key], rtol=0, atol=1e-12)
    # a round's cost: the mean over its three steps of each step's cost with its L2 penalty
    epoch_costs = [r.cost for r in expected.history]
    assert [r.cost for r in last.history] == pytest.approx([sum(epoch_costs[:3]) / 3, sum(epoch_costs[3:]) / 3], rel=1e-12)
    assert [r.epochs for r in last.history] == [3.0, 6.0] and [r.samples for r in last.history] == [60, 60]


def test_averaged_slots_are_read_only_and_keep_the_parameters_dtype() -> None:
    X, Y = _data(16)
    params = {k: v.astype(np.float32) for k, v in _params().items()}
    state = _all(
        dist.train_rounds(dist.split_shards(X.astype(np.float32), Y.astype(np.float32), 3), params, activations=ACTIVATIONS,
                          loss=LOSS, rounds=1, optimizer=adam(0.01), local_steps=2)
    )[-1]  # fmt: skip
    for slot in state.optimizer_state.slots.values():
        for value in slot.values():
            assert value.dtype == np.float32 and not value.flags.writeable
    assert all(value.dtype == np.float32 for value in state.params.values())


# --------------------------------------------------------------------------------------------
# what the rounds record, and epochs read from them


def test_dev_figures_every_dev_every_rounds_and_after_the_last() -> None:
    X, Y = _data(17)
    X_dev, Y_dev = _data(11, seed=3)
    states = _all(
        dist.train_rounds(dist.split_shards(X, Y, 2), _params(), activations=ACTIVATIONS, loss=LOSS, rounds=5,
                          learning_rate=0.5, dev=(X_dev, Y_dev), dev_every=2)
    )  # fmt: skip
    history = states[-1].history
    assert [r.dev_cost is not None for r in history] == [False, True, False, True, True]
    assert [r.dev_accuracy is not None for r in history] == [False, True, False, True, True]
    for state in (states[1], states[3], states[4]):
        AL = predict_proba(X_dev, state.params, ACTIVATIONS)
        assert state.history[-1].dev_cost == pytest.approx(compute_cost(AL, Y_dev, LOSS), rel=1e-12)
        assert state.history[-1].dev_accuracy == _correct(AL, Y_dev) / 11


def test_epoch_states_weigh_each_rounds_cost_and_accuracy_by_its_samples() -> None:
    X, Y = _data(17)
    X_dev, Y_dev = _data(11, seed=3)
    rounds = _all(
        dist.train_rounds(dist.split_shards(X, Y, 2), _params(), activations=ACTIVATIONS, loss=LOSS, rounds=5,
                          learning_rate=0.5, batch_size=4, seed=11)
    )  # fmt: skip
    records = rounds[-1].history  # samples 8, 8, 5, 8, 8: epochs end in rounds 3 (21/17) and 5 (37/17)
    read = list(dist.epoch_states(iter(rounds), activations=ACTIVATIONS, loss=LOSS, dev=(X_dev, Y_dev)))
    assert [(state.epoch, round_state.round) for state, round_state in read] == [(1, 3), (2, 5)]
    first, second = read[0][0].history[0], read[1][0].history[1]
    assert first.cost == pytest.approx((8 * records[0].cost + 8 * records[1].cost + 5 * records[2].cost) / 21, rel=1e-14)
    assert second.cost == pytest.approx((records[3].cost + records[4].cost) / 2, rel=1e-14)
    accuracies = [r.accuracy for r in records]
    assert all(a is not None for a in accuracies)
    a = [float(x) for x in accuracies if x is not None]
    assert first.accuracy == pytest.approx((8 * a[0] + 8 * a[1] + 5 * a[2]) / 21, rel=1e-14)
    assert second.accuracy == pytest.approx((a[3] + a[4]) / 2, rel=1e-14)
    for (state, round_state), summary in zip(read, (first, second)):
        AL = predict_proba(X_dev, round_state.params, ACTIVATIONS)
        assert summary.dev_cost == pytest.approx(compute_cost(AL, Y_dev, LOSS), rel=1e-12)
        assert summary.dev_accuracy == _correct(AL, Y_dev) / 11
        assert state.params is round_state.params


def test_each_rounds_waiting_is_a_part_of_its_wall_time() -> None:
    X, Y = _data(17)
    for local_steps in (None, 2):
        history = _all(
            dist.train_rounds(dist.split_shards(X, Y, 2), _params(), activations=ACTIVATIONS, loss=LOSS, rounds=3,
                              learning_rate=0.1, local_steps=local_steps)
        )[-1].history  # fmt: skip
        for record in history:
            assert 0 < record.waiting <= record.seconds < 60


def test_a_sweep_runs_priority_is_three_times_epochs_samples_and_weights() -> None:
    # the longest runs start first: the estimate is 3 x epochs x m x (4 * 5 + 5 * 3) multiply-adds
    settings = dist.RunSettings((4, 5, 3), ACTIVATIONS, LOSS, sgd(0.1), epochs=2)
    assert dist._work(settings, 12) == 3 * 2 * 12 * (20 + 15)
    assert dist._work(settings._replace(layer_sizes=(4, 6, 5, 3)), 7) == 3 * 2 * 7 * (24 + 30 + 15)


# --------------------------------------------------------------------------------------------
# split_shards checks its own arrays


def test_split_shards_refuses_integer_or_non_finite_data_naming_the_array() -> None:
    X, Y = _data(6)
    with pytest.raises(TypeError, match="^X must have dtype float32 or float64, got int64"):
        dist.split_shards(X.astype(np.int64), Y.astype(np.int64), 2)
    broken = Y.copy()
    broken[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"^Y contains 1 NaN or infinite value\(s\)$"):
        dist.split_shards(X, broken, 2)


# --------------------------------------------------------------------------------------------
# accuracy with a hinge loss: outputs are scored at 0, targets at 0.5


@pytest.mark.parametrize("local_steps", [None, 1], ids=["synchronous", "local SGD"])
def test_hinge_rounds_score_outputs_at_zero_and_labels_at_one_half(local_steps: int | None) -> None:
    X = np.random.default_rng(5).standard_normal((4, 30))
    Y = (X[0] - X[3] > 0).astype(np.float64)[None, :]  # labels in {0, 1}
    params = initialize_parameters((4, 6, 1), np.random.default_rng(2))
    acts: tuple[Activation, ...] = ("relu", "linear")
    states = _all(
        dist.train_rounds(dist.split_shards(X, Y, 3), params, activations=acts, loss="hinge", rounds=3,
                          learning_rate=0.05, local_steps=local_steps)
    )  # fmt: skip
    # the accuracy of a round is that of the parameters it started from, on all 30 samples
    for start, state in zip([params] + [s.params for s in states[:-1]], states):
        AL = predict_proba(X, start, acts)
        assert np.any((AL[0] >= 0) & (AL[0] < 0.5))  # outputs where the two thresholds disagree
        assert state.history[-1].accuracy == np.count_nonzero((AL[0] >= 0) == (Y[0] >= 0.5)) / 30


# --------------------------------------------------------------------------------------------
# a sweep on a cluster


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with dist.cluster_client(n_workers=1, processes=False, timeout=30) as c:
        yield c


def test_a_sweep_run_of_zero_epochs_on_a_cluster_returns_its_starting_state(client: Client) -> None:
    X, Y = _data(12)
    settings = [
        dist.RunSettings((4, 5, 3), ACTIVATIONS, LOSS, sgd(0.1), epochs=0, seed=3),
        dist.RunSettings((4, 5, 3), ACTIVATIONS, LOSS, sgd(0.1), epochs=2, seed=3),
    ]
    results = dist.sweep(settings, X, Y, client=client)
    start = initialize_parameters((4, 5, 3), np.random.default_rng(3))
    assert results[0].epoch == 0 and results[0].history == ()
    for key in start:
        assert np.array_equal(results[0].params[key], start[key])
    expected = train(X, Y, start, activations=ACTIVATIONS, loss=LOSS, epochs=2, optimizer=sgd(0.1))
    assert results[1].epoch == 2
    for key in start:
        np.testing.assert_allclose(results[1].params[key], expected.params[key], rtol=0, atol=1e-12)


def test_an_epoch_counts_a_round_of_zero_accuracy_as_zero() -> None:
    params = _params()
    records = (dist.RoundRecord(1, 0.5, 0.0, 6, 0.5, 0.1, 0.1), dist.RoundRecord(2, 0.25, 1.0, 6, 1.0, 0.1, 0.1))
    rounds = [dist.RoundState(1, params, sgd(0.1).init(params), records[:1]), dist.RoundState(2, params, sgd(0.1).init(params), records)]
    (state, _), = dist.epoch_states(rounds, activations=ACTIVATIONS, loss=LOSS)
    assert state.epoch == 1 and (state.history[0].cost, state.history[0].accuracy) == (0.375, 0.5)
