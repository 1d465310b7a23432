"""Mutation testing of the Dask and script plumbing: tests for the mutants no other test killed.

- ``sweep.keep_finished`` (an interrupted sweep's outputs) takes the finished runs keyed by
  their place in the grid, in the order they finished: on a cluster that is neither the grid's
  order nor a run of consecutive places (run 5 may finish before run 2, and run 3 not at all).
  The sequential sweep's interruption tests finish 0, 1, 2, ... in order, so writing the rows
  in finishing order, or taking the best run's parameters by its row's place instead of its
  grid place, passed them.
- ``_scatter`` sends straight to the workers of a ``LocalCluster`` of this process, but leaves
  a client's own ``direct_to_workers`` setting to decide: nothing held it to that.
- ``train_mnist.py`` tells ``check_output_dir`` that ``checkpoints`` is a folder: without it,
  no test failed, though an earlier run's ``checkpoints/`` was then said to be "a folder where
  this run writes a file" (and a file named ``checkpoints`` was taken: see
  test_user_review_mutants_skl.py).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest
from distributed import Client

from functional_nn import distributed as dist
from functional_nn.data import one_hot
from functional_nn.serialization import load_parameters
from test_user_review_sweep_realsize import _scatters_through_scheduler

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import sweep  # noqa: E402  (the scripts folder is not a package)
import train_mnist  # noqa: E402


def test_an_interrupted_sweeps_runs_finished_out_of_grid_order_are_written_in_grid_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    X = rng.random((784, 24), dtype=np.float32)
    y = rng.integers(0, 10, 24)
    data = dist.SweepData(X[:, :16], one_hot(y[:16], 10, dtype=np.float32), (X[:, 16:], one_hot(y[16:], 10, dtype=np.float32)))
    settings = sweep.grid(2, 8, 1)
    # as a cluster's on_done fills them: run 5 finished first, then run 2; the others did not
    finished = {i: dist.run_settings(settings[i], data) for i in (5, 2)}
    out = tmp_path / "out"
    said = sweep.keep_finished(out, settings, finished, overwrite=False)
    assert said == f"after 2 of 12 runs: the 2 finished are in {out / 'sweep.csv'} and {out / 'best_params.npz'}"
    assert sorted(p.name for p in out.iterdir()) == ["best_params.npz", "sweep.csv"]
    with open(out / "sweep.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(float(r["learning_rate"]), int(r["hidden"]), float(r["keep_prob"])) for r in rows] == [(3e-4, 256, 1.0), (1e-3, 64, 0.8)]
    for row, i in zip(rows, (2, 5)):
        assert float(row["dev_accuracy"]) == finished[i].history[-1].dev_accuracy
        assert float(row["train_cost"]) == finished[i].history[-1].cost
    accuracies = [finished[i].history[-1].dev_accuracy for i in (2, 5)]
    assert None not in accuracies
    best = (2, 5)[accuracies.index(max(a for a in accuracies if a is not None))]  # the first of those tied, in grid order
    params, metadata, _ = load_parameters(out / "best_params.npz")
    assert metadata["dev_accuracy"] == finished[best].history[-1].dev_accuracy
    assert params.keys() == finished[best].params.keys()
    for name, value in finished[best].params.items():
        np.testing.assert_array_equal(params[name], value, strict=True)


def test_a_clients_own_direct_to_workers_false_sends_the_shards_through_the_scheduler(rng: np.random.Generator) -> None:
    X = rng.standard_normal((3, 8))
    Y = rng.standard_normal((1, 8))
    with dist.local_cluster(1, processes=False) as cluster, Client(cluster, direct_to_workers=False) as client:  # type: ignore[no-untyped-call]  # distributed's partial types
        placed = dist.place_shards(client, dist.split_shards(X, Y, 1))
        assert _scatters_through_scheduler(client) == 1, "the client's direct_to_workers=False was overruled"
        shard = placed.futures[0].result()
    assert np.array_equal(shard.X, X)


def test_an_earlier_runs_checkpoints_folder_is_an_earlier_output_not_a_misplaced_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    (out / "checkpoints").mkdir(parents=True)  # an earlier run's, its checkpoints gone
    (out / "params.npz").write_text("an earlier run's")
    assert train_mnist.main(["--out", str(out), "--epochs", "1"]) == 2
    assert capsys.readouterr().err == (
        f"error: --out {out} already holds params.npz, checkpoints from an earlier run: choose another --out, or pass --overwrite to replace them\n"
    )
