"""Sample weights in data-parallel rounds, local SGD and sweeps: against the core's weighted ``train``.

The clusters here are ``LocalCluster``\\ s on 127.0.0.1 of worker threads, started and shut down by
the tests' own fixture, each test bounded in time by a watchdog, as in ``test_distributed.py``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from distributed import Client

from functional_nn import distributed as dist
from functional_nn.checkpoints import CheckpointError
from functional_nn.data import one_hot
from functional_nn.initializers import initialize_parameters
from functional_nn.optimizers import adam, momentum, sgd
from functional_nn.losses import resolve_loss
from functional_nn.propagation import backward_propagation, check_activations, forward_propagation
from functional_nn.sample_weights import check_sample_weight
from functional_nn.training import train
from functional_nn.types import Activation, FloatArray, Loss
from test_distributed import _assert_bitwise, _last, _params, deadline  # noqa: F401  (deadline: its autouse fixture, here too)

ACTIVATIONS: tuple[Activation, ...] = ("relu", "softmax")
LOSS: Loss = "categorical_cross_entropy"


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with dist.cluster_client(n_workers=2, processes=False, timeout=30) as c:
        yield c


def _data(rng: np.random.Generator, m: int = 90) -> tuple[FloatArray, FloatArray]:
    X = rng.standard_normal((5, m))
    labels = (X[0] + X[1] > 0).astype(np.int64) + (X[2] > 1).astype(np.int64)
    return X, one_hot(labels, 3, dtype=np.float64)


def _weights(rng: np.random.Generator, m: int, zeros: bool = True) -> npt.NDArray[np.float64]:
    w = rng.uniform(0.2, 3.0, m)
    if zeros:
        w[rng.choice(m, m // 6, replace=False)] = 0.0
    return w


def _floats(values: Iterable[float | None]) -> list[float]:
    """Figures that may be ``None`` (a round without dev figures) as floats, ``None`` as NaN."""
    return [math.nan if value is None else value for value in values]


# --------------------------------------------------------------------------------------------
# the weighted rounds against the weighted train


@pytest.mark.parametrize("n_shards", [1, 4])
@pytest.mark.parametrize("lambd", [0.0, 0.7])
@pytest.mark.parametrize("make_optimizer", [lambda: sgd(0.3), lambda: momentum(0.1)])
def test_synchronous_full_shard_weighted_rounds_equal_weighted_full_batch_train(
    rng: np.random.Generator, n_shards: int, lambd: float, make_optimizer: object
) -> None:
    """As test_distributed's unweighted test: one shard (one worker's) or four, the same weights."""
    X, Y = _data(rng)
    dev = _data(rng, m=30)
    w, w_dev = _weights(rng, 90), _weights(rng, 30)
    params = _params()
    optimizer = make_optimizer()  # type: ignore[operator]
    common: dict[str, Any] = dict(activations=ACTIVATIONS, loss=LOSS, optimizer=optimizer, lambd=lambd, dev=dev)
    expected = train(X, Y, params, epochs=25, sample_weight=w, dev_sample_weight=w_dev, **common)
    got = _last(dist.train_rounds(dist.split_shards(X, Y, n_shards), params, rounds=25, sample_weight=w, dev_sample_weight=w_dev, **common))
    for key in params:
        np.testing.assert_allclose(got.params[key], expected.params[key], rtol=0, atol=1e-12)
    # the round's cost and accuracy: train's weighted full-batch figures of the parameters the round started from
    np.testing.assert_allclose([r.cost for r in got.history], [r.cost for r in expected.history], rtol=1e-12)
    np.testing.assert_allclose(_floats(r.accuracy for r in got.history), _floats(r.accuracy for r in expected.history), rtol=1e-12)
    np.testing.assert_allclose(_floats(r.dev_cost for r in got.history), _floats(r.dev_cost for r in expected.history), rtol=1e-11)
    np.testing.assert_allclose(_floats(r.dev_accuracy for r in got.history), _floats(r.dev_accuracy for r in expected.history), rtol=1e-12)
    # the weight-0 samples are left out, as train leaves them out
    kept = int(np.count_nonzero(w))
    assert got.history[-1].samples == kept and got.history[-1].epochs == 25.0 and got.optimizer_state.step == 25
    # the figures are weighted: not the unweighted ones
    plain = _last(dist.train_rounds(dist.split_shards(X, Y, n_shards), params, rounds=1, **common))
    assert abs(plain.history[0].cost - got.history[0].cost) > 1e-6


def test_two_shards_weighted_gradient_is_the_full_batch_weighted_gradient(rng: np.random.Generator) -> None:
    """Shards' weighted sums over the round's total weight: the full batch's weighted mean gradient."""
    X, Y = _data(rng, m=40)
    w = _weights(rng, 40, zeros=False)
    params = _params()
    shards = dist.split_shards(X, Y, 2)
    task = dist._Task(check_activations(ACTIVATIONS, 2), resolve_loss("loss", LOSS), 0, None, None, 0.0, None, None, sgd(0.1), None)
    inputs = dist.RoundInput(params, sgd(0.1).init(params), 0, task)
    sums = [dist.gradient_sum(shard, s, inputs, w[20 * s : 20 * s + 20]) for s, shard in enumerate(shards)]
    assert [g.weight for g in sums] == [float(np.sum(w[:20])), float(np.sum(w[20:]))]
    assert [g.samples for g in sums] == [20, 20]
    AL, caches = forward_propagation(X, params, ACTIVATIONS)
    expected = backward_propagation(AL, Y, caches, LOSS, sample_weight=w)
    total = sum(g.weight or 0.0 for g in sums)
    for key in expected:
        weighted = sums[0].grads[key] * sums[0].unit + sums[1].grads[key] * sums[1].unit  # each in units of its batch's largest weight
        np.testing.assert_allclose(weighted / total, expected[key], rtol=1e-13, atol=1e-16)
    # and one synchronous round of plain SGD is train's one weighted full-batch step, to rounding
    one = _last(dist.train_rounds(shards, params, activations=ACTIVATIONS, loss=LOSS, rounds=1, learning_rate=0.5, sample_weight=w))
    step = train(X, Y, params, activations=ACTIVATIONS, loss=LOSS, epochs=1, learning_rate=0.5, sample_weight=w)
    for key in params:
        np.testing.assert_allclose(one.params[key], step.params[key], rtol=0, atol=1e-15)


def test_a_weight_of_two_counts_as_a_copy_of_the_sample_in_its_shard(rng: np.random.Generator) -> None:
    X, Y = _data(rng, m=30)
    w = np.ones(30)
    w[[3, 17]] = 2.0
    copied = np.concatenate([X[:, :15], X[:, 3:4], X[:, 15:], X[:, 17:18]], axis=1)
    copied_Y = np.concatenate([Y[:, :15], Y[:, 3:4], Y[:, 15:], Y[:, 17:18]], axis=1)
    common: dict[str, Any] = dict(activations=ACTIVATIONS, loss=LOSS, rounds=10, optimizer=adam(0.01), lambd=0.3)
    weighted = _last(dist.train_rounds(dist.split_shards(X, Y, 2), _params(), sample_weight=w, **common))
    duplicated = _last(dist.train_rounds(dist.split_shards(copied, copied_Y, 2), _params(), **common))
    for key in weighted.params:
        np.testing.assert_allclose(weighted.params[key], duplicated.params[key], rtol=0, atol=1e-12)
    np.testing.assert_allclose([r.cost for r in weighted.history], [r.cost for r in duplicated.history], rtol=1e-12)


@pytest.mark.parametrize("local", [None, 3])
def test_weights_all_one_give_the_unweighted_rounds_bitwise(rng: np.random.Generator, local: int | None) -> None:
    X, Y = _data(rng)
    dev = _data(rng, m=20)
    common: dict[str, Any] = dict(
        activations=ACTIVATIONS, loss=LOSS, rounds=4, optimizer=adam(0.01), batch_size=9, local_steps=local, keep_probs=0.8,
        seed=2, lambd=0.2, dev=dev,
    )  # fmt: skip
    shards = dist.split_shards(X, Y, 3)
    plain = _last(dist.train_rounds(shards, _params(), **common))
    ones = _last(dist.train_rounds(shards, _params(), sample_weight=np.ones(90), dev_sample_weight=np.ones(20), **common))
    _assert_bitwise(ones.params, plain.params)
    for name, slot in plain.optimizer_state.slots.items():
        _assert_bitwise(dict(ones.optimizer_state.slots[name]), dict(slot))
    # the figures to rounding: a weighted mean sums each sample's loss first, then the samples
    for a, b in zip(ones.history, plain.history):
        assert (a.round, a.samples, a.epochs, a.dev_cost is None) == (b.round, b.samples, b.epochs, b.dev_cost is None)
        np.testing.assert_allclose(_floats([a.cost, a.accuracy, a.dev_cost, a.dev_accuracy]), _floats([b.cost, b.accuracy, b.dev_cost, b.dev_accuracy]), rtol=1e-14)


def test_local_sgd_averages_the_shards_by_their_total_weights(rng: np.random.Generator) -> None:
    """theta_{r+1} = sum_s S_s / sum_t S_t theta^(s, K), S_s the shard's total weight."""
    X, Y = _data(rng, m=40)
    w = _weights(rng, 40)
    w[:20] *= 3.0  # shard 0 weighs more than its share of samples
    params = _params()
    common: dict[str, Any] = dict(activations=ACTIVATIONS, loss=LOSS, optimizer=momentum(0.1), lambd=0.0)
    shards = dist.split_shards(X, Y, 2)
    got = _last(dist.train_rounds(shards, params, rounds=1, local_steps=2, sample_weight=w, **common))
    # each shard alone: train on its own samples with its own weights, 2 full-batch steps
    alone = [train(shard.X, shard.Y, params, epochs=2, sample_weight=w[20 * s : 20 * s + 20], **common) for s, shard in enumerate(shards)]
    totals = [float(np.sum(w[:20])), float(np.sum(w[20:]))]
    for key in params:
        average = sum(t / sum(totals) * a.params[key] for t, a in zip(totals, alone))
        np.testing.assert_allclose(got.params[key], average, rtol=0, atol=1e-13)
    for key, value in got.optimizer_state.slots["velocity"].items():
        average = sum(t / sum(totals) * a.optimizer_state.slots["velocity"][key] for t, a in zip(totals, alone))
        np.testing.assert_allclose(value, average, rtol=0, atol=1e-13)
    # with one step of plain SGD on full shards the average is the synchronous weighted round
    one = _last(dist.train_rounds(shards, params, rounds=3, local_steps=1, sample_weight=w, **{**common, "optimizer": sgd(0.4)}))
    sync = _last(dist.train_rounds(shards, params, rounds=3, sample_weight=w, **{**common, "optimizer": sgd(0.4)}))
    for key in params:
        np.testing.assert_allclose(one.params[key], sync.params[key], rtol=0, atol=1e-13)
    np.testing.assert_allclose([r.cost for r in one.history], [r.cost for r in sync.history], rtol=1e-12)


def test_minibatch_weighted_rounds_weigh_each_batch_as_train_does(rng: np.random.Generator) -> None:
    """One shard, local SGD of K steps on mini-batches: K of train's weighted steps, batch by
    batch, the shard's permutation drawn from its own generator (first pass only)."""
    X, Y = _data(rng, m=24)
    w = _weights(rng, 24, zeros=False)
    params = _params()
    got = _last(
        dist.train_rounds([dist.Shard(X, Y)], params, activations=ACTIVATIONS, loss=LOSS, rounds=1, local_steps=3, batch_size=8,
                          optimizer=sgd(0.3), lambd=0.4, sample_weight=w, seed=4)
    )  # fmt: skip
    order = dist.shard_generator(4, 0, dist.PERMUTATION_STREAM, 0).permutation(24)
    expected = params
    costs = []
    for k in range(3):
        batch = order[8 * k : 8 * k + 8]
        step = train(X[:, batch], Y[:, batch], expected, activations=ACTIVATIONS, loss=LOSS, epochs=1, learning_rate=0.3,
                     lambd=0.4, sample_weight=w[batch])  # fmt: skip
        costs.append((step.history[0].cost, float(np.sum(w[batch]))))
        expected = step.params
    for key in params:
        np.testing.assert_allclose(got.params[key], expected[key], rtol=0, atol=1e-14)
    weighted_cost = sum(c * s for c, s in costs) / sum(s for _, s in costs)
    assert got.history[0].cost == pytest.approx(weighted_cost, rel=1e-13)


# --------------------------------------------------------------------------------------------
# refused, naming the argument


def test_bad_weights_are_refused_naming_the_argument(rng: np.random.Generator) -> None:
    X, Y = _data(rng, m=20)
    dev = _data(rng, m=6)
    shards = dist.split_shards(X, Y, 2)
    common: dict[str, Any] = dict(activations=ACTIVATIONS, loss=LOSS, rounds=1, learning_rate=0.1)
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        (dict(sample_weight=np.ones(19)), ValueError, r"sample_weight must have shape \(20,\), one weight for each of the shards' 20 columns"),
        (dict(sample_weight=np.r_[np.ones(19), -1.0]), ValueError, r"sample_weight must hold finite weights >= 0, got \S*-1\.0\S* at index 19"),
        (dict(sample_weight=np.zeros(20)), ValueError, r"sample_weight is 0 for every sample: at least one must count"),
        (dict(sample_weight=np.r_[np.zeros(10), np.ones(10)]), ValueError, r"sample_weight is 0 for every sample of shards\[0\] \(columns 0 to 9\)"),
        (dict(sample_weight="heavy"), TypeError, r"sample_weight must be an array of 20 weights"),
        (dict(dev_sample_weight=np.ones(6)), ValueError, r"dev_sample_weight weighs the dev set's samples: pass dev=\(X_dev, Y_dev\) too"),
        (dict(dev=dev, dev_sample_weight=np.ones(5)), ValueError, r"dev_sample_weight must have shape \(6,\), one weight for each of dev\[0\]'s 6 columns"),
        (dict(dev=dev, dev_sample_weight=np.zeros(6)), ValueError, r"dev_sample_weight is 0 for every sample"),
    ]
    for extra, error, message in cases:
        with pytest.raises(error, match=message):
            dist.train_rounds(shards, _params(), **common, **extra)


def test_sweep_weights_are_refused_naming_the_argument(rng: np.random.Generator) -> None:
    X, Y = _data(rng, m=20)
    setting = dist.RunSettings((5, 4, 3), ACTIVATIONS, LOSS, sgd(0.1), epochs=1)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(20,\)"):
        dist.sweep([setting], X, Y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match=r"dev_sample_weight weighs the dev set's samples"):
        dist.sweep([setting], X, Y, dev_sample_weight=np.ones(3))
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(20,\)"):
        dist.run_settings(setting, dist.SweepData(X, Y, None, np.ones(3)))


# --------------------------------------------------------------------------------------------
# checkpoints


def test_a_weighted_runs_checkpoints_name_its_weights_and_resume_bitwise(rng: np.random.Generator, tmp_path: Path) -> None:
    X, Y = _data(rng)
    dev = _data(rng, m=12)
    w, w_dev = _weights(rng, 90), _weights(rng, 12)
    shards = dist.split_shards(X, Y, 3)
    common: dict[str, Any] = dict(
        activations=ACTIVATIONS, loss=LOSS, optimizer=adam(0.01), batch_size=7, local_steps=2, seed=5, dev=dev,
        sample_weight=w, dev_sample_weight=w_dev,
    )  # fmt: skip
    whole = _last(dist.train_rounds(shards, _params(), rounds=4, **common))
    _last(dist.train_rounds(shards, _params(), rounds=2, checkpoint_dir=tmp_path, **common))
    resumed = _last(dist.train_rounds(shards, _params(), rounds=4, checkpoint_dir=tmp_path, resume=True, **common))
    _assert_bitwise(resumed.params, whole.params)
    assert [r.cost for r in resumed.history] == [r.cost for r in whole.history]
    assert [r.dev_cost for r in resumed.history] == [r.dev_cost for r in whole.history]
    with pytest.raises(CheckpointError, match=r"belongs to another run: sample_weight: checkpoint '[0-9a-f]{32}', now '[0-9a-f]{32}'$"):
        dist.train_rounds(shards, _params(), rounds=4, checkpoint_dir=tmp_path, resume=True, **{**common, "sample_weight": w * 2})
    with pytest.raises(CheckpointError, match=r"belongs to another run: dev_sample_weight: checkpoint '[0-9a-f]{32}', now None$"):
        dist.train_rounds(shards, _params(), rounds=4, checkpoint_dir=tmp_path, resume=True, **{**common, "dev_sample_weight": None})
    # an unweighted run's description holds no weights' digest: its checkpoints resume as before
    run = dist._Run(dist._Task((), resolve_loss("loss", LOSS), 0, None, None, 0.0, None, None, sgd(0.1), None), None, 1, 90, None)
    assert "sample_weight" not in dist._describe_run(run, (5, 7, 3), shards)


# --------------------------------------------------------------------------------------------
# on a cluster, and sweeps


def test_weighted_rounds_on_a_cluster_equal_the_in_process_rounds_bitwise(rng: np.random.Generator, client: Client) -> None:
    X, Y = _data(rng, m=120)
    w = _weights(rng, 120)
    w[30:60] = rng.uniform(0.5, 2.0, 30)  # shard 1 has no weight 0: placed as it was, only its weights sent
    w_dev = _weights(rng, 20)
    dev = _data(rng, m=20)
    shards = dist.split_shards(X, Y, 4)
    placed = dist.place_shards(client, shards)
    for local in (None, 3):
        common: dict[str, Any] = dict(
            activations=ACTIVATIONS, loss=LOSS, rounds=4, optimizer=adam(0.01), batch_size=9, local_steps=local, keep_probs=0.8,
            seed=2, dev=dev, sample_weight=w, dev_sample_weight=w_dev,
        )  # fmt: skip
        here = _last(dist.train_rounds(shards, _params(), **common))
        states = dist.train_rounds(placed, _params(), **common)
        there = _last(states)
        _assert_bitwise(there.params, here.params)
        assert [r[:5] + r[7:] for r in there.history] == [r[:5] + r[7:] for r in here.history]  # all but the times
    assert placed.replaced == 0 and placed.weights is None  # the caller's placement is left as it was


def test_one_placed_shard_in_synchronous_rounds_equals_the_weighted_train(rng: np.random.Generator, client: Client) -> None:
    """One shard on one worker of the cluster: train's weighted full-batch steps, to rounding."""
    X, Y = _data(rng)
    w = _weights(rng, 90)
    common: dict[str, Any] = dict(activations=ACTIVATIONS, loss=LOSS, optimizer=momentum(0.1), lambd=0.5)
    expected = train(X, Y, _params(), epochs=10, sample_weight=w, **common)
    placed = dist.place_shards(client, [dist.Shard(X, Y)])
    got = _last(dist.train_rounds(placed, _params(), rounds=10, sample_weight=w, **common))
    for key in expected.params:
        np.testing.assert_allclose(got.params[key], expected.params[key], rtol=0, atol=1e-12)
    np.testing.assert_allclose([r.cost for r in got.history], [r.cost for r in expected.history], rtol=1e-12)


def test_a_weighted_round_sends_a_lost_shards_weights_again_with_it(rng: np.random.Generator, client: Client) -> None:
    X, Y = _data(rng, m=40)
    w = _weights(rng, 40)
    shards = dist.split_shards(X, Y, 2)
    kept, parts = dist._weighted_shards(shards, check_sample_weight("sample_weight", w, 40, "X"))
    placed = dist.place_shards(client, shards)._weighted(kept, parts)
    task = dist._Task(check_activations(ACTIVATIONS, 2), resolve_loss("loss", LOSS), 0, None, None, 0.0, None, None, sgd(0.1), None)
    inputs = dist.RoundInput(_params(), sgd(0.1).init(_params()), 0, task)
    before, _ = placed.map(dist.gradient_sum, inputs)
    client.cancel([placed.weight_futures[1]])  # type: ignore[no-untyped-call]  # lost, as with its worker
    after, _ = placed.map(dist.gradient_sum, inputs)
    assert placed.replaced == 1 and placed.weight_futures[1].status == "finished"
    for a, b in zip(before, after):
        _assert_bitwise(a.grads, b.grads)
        assert (a.cost, a.weight) == (b.cost, b.weight)


def test_a_weighted_sweep_gives_each_run_bitwise_as_train_with_its_weights(rng: np.random.Generator, client: Client, tmp_path: Path) -> None:
    X, Y = _data(rng, m=60)
    dev = _data(rng, m=20)
    w, w_dev = _weights(rng, 60), _weights(rng, 20)
    settings = [
        dist.RunSettings((5, h, 3), ACTIVATIONS, LOSS, optimizer, epochs=3, seed=seed, batch_size=16, keep_probs=keep, lambd=0.1)
        for h, optimizer, seed, keep in [(4, sgd(0.2), 0, None), (8, adam(0.01), 1, 0.8), (6, momentum(0.1), 2, None)]
    ]
    sequential = dist.sweep(settings, X, Y, dev=dev, sample_weight=w, dev_sample_weight=w_dev)
    scattered = dist.sweep(settings, X, Y, dev=dev, client=client, sample_weight=w, dev_sample_weight=w_dev)
    stored = dist.sweep(settings, X, Y, dev=dev, client=client, data_dir=tmp_path, sample_weight=w, dev_sample_weight=w_dev)
    for setting, a, b, c in zip(settings, sequential, scattered, stored):
        rng_run = np.random.default_rng(setting.seed)
        params = initialize_parameters(setting.layer_sizes, rng_run)
        expected = train(
            X, Y, params, activations=setting.activations, loss=setting.loss, epochs=setting.epochs, optimizer=setting.optimizer,
            batch_size=setting.batch_size, rng=rng_run, dev=dev, lambd=setting.lambd, keep_probs=setting.keep_probs,
            sample_weight=w, dev_sample_weight=w_dev,
        )  # fmt: skip
        for result in (a, b, c):
            _assert_bitwise(result.params, expected.params)
            assert result.history == expected.history
    unweighted = dist.sweep(settings[:1], X, Y, dev=dev)
    assert unweighted[0].history != sequential[0].history
    saved = dist.load_sweep_data(dist.save_sweep_data(tmp_path / "saved", dist.SweepData(X, Y, dev, w, w_dev)))
    assert saved.sample_weight is not None and np.array_equal(saved.sample_weight, w)
    assert saved.dev_sample_weight is not None and np.array_equal(saved.dev_sample_weight, w_dev)
    # written again without weights: the old weights' files go, and are not read
    assert dist.load_sweep_data(dist.save_sweep_data(tmp_path / "saved", dist.SweepData(X, Y, dev))).sample_weight is None
    with pytest.raises(ValueError, match=r"data.sample_weight must have shape \(60,\)"):
        dist.save_sweep_data(tmp_path / "bad", dist.SweepData(X, Y, dev, w[:5]))
