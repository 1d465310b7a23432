"""A user review of upgrading: files and pickles written by older versions, read by this one."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from functional_nn import adam, initialize_parameters
from functional_nn import distributed as dist
from functional_nn.checkpoints import CheckpointError, latest_checkpoint, load_checkpoint, save_checkpoint
from functional_nn.sklearn import MLPClassifier


def _pickled_as_before_ema_averaging(estimator: MLPClassifier) -> bytes:
    """``estimator`` pickled as versions before the ema-averaged ``params_`` (697fc6f) and
    the kept early-stopping split (df0c43d) pickled a fitted estimator: the same attributes
    but ``_trained_params`` and ``_split_seed``, which they did not have."""
    older = copy.deepcopy(estimator)
    del older._trained_params
    del older._split_seed
    return pickle.dumps(older)


def test_an_estimator_pickled_by_an_older_version_continues_with_partial_fit_and_warm_start(
    rng: np.random.Generator,
) -> None:
    X = rng.normal(size=(24, 3))
    y = (X[:, 0] > 0).astype(np.int64)
    fitted = MLPClassifier((4,), epochs=2, batch_size=8, random_state=1).fit(X, y)
    older = _pickled_as_before_ema_averaging(fitted)
    np.testing.assert_array_equal(pickle.loads(older).predict_proba(X), fitted.predict_proba(X))
    # those versions continued from params_, which is what this one continues from without ema
    expected = pickle.loads(pickle.dumps(fitted)).partial_fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(older).partial_fit(X, y).predict_proba(X), expected)
    warm: MLPClassifier = pickle.loads(older)
    expected = pickle.loads(pickle.dumps(fitted)).set_params(warm_start=True).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(warm.set_params(warm_start=True).fit(X, y).predict_proba(X), expected)


def test_an_estimator_with_early_stopping_pickled_by_an_older_version_warm_starts(rng: np.random.Generator) -> None:
    X = rng.normal(size=(24, 3))
    y = (X[:, 0] > 0).astype(np.int64)
    fitted = MLPClassifier(
        (4,), epochs=2, batch_size=8, random_state=1, early_stopping=True, validation_fraction=0.25, n_iter_no_change=2
    ).fit(X, y)
    warm: MLPClassifier = pickle.loads(_pickled_as_before_ema_averaging(fitted))
    warm.set_params(warm_start=True, epochs=1).fit(X, y)
    assert warm.n_iter_ == fitted.n_iter_ + 1
    assert warm.params_["W1"].shape == (4, 3)


def test_a_rounds_checkpoint_scored_on_an_unrecorded_dev_set_says_so_and_resumes_without_dev(
    rng: np.random.Generator, tmp_path: Path
) -> None:
    """train_rounds checkpoints from before 2289c5a scored dev but kept no dev_data or dev_every:
    resuming one with the same dev set was refused as 'another run' whose dev_data differs."""
    X = rng.normal(size=(3, 24))
    Y = np.eye(2)[(X[0] > 0).astype(np.int64)].T.copy()
    dev = (X[:, :6] + 0.5, Y[:, :6])
    shards = dist.split_shards(X, Y, 2)
    params = initialize_parameters((3, 4, 2), np.random.default_rng(1))
    settings: dict[str, Any] = {"activations": ["relu", "softmax"], "loss": "categorical_cross_entropy", "batch_size": 6, "seed": 3}
    whole = list(dist.train_rounds(shards, params, rounds=3, optimizer=adam(0.01), dev=dev, **settings))[-1]
    list(dist.train_rounds(shards, params, rounds=2, optimizer=adam(0.01), dev=dev, checkpoint_dir=tmp_path, **settings))
    latest = latest_checkpoint(tmp_path)
    assert latest is not None
    saved = load_checkpoint(latest)
    older_run = {key: value for key, value in saved.run.items() if key not in ("dev_data", "dev_every")}
    save_checkpoint(tmp_path, saved.state, rng=None, run=older_run)  # as those versions wrote it
    with pytest.raises(CheckpointError, match=r"holds dev figures but no record of their dev set .*resume without dev"):
        dist.train_rounds(shards, params, rounds=3, optimizer=adam(0.01), dev=dev, checkpoint_dir=tmp_path, resume=True, **settings)
    resumed = list(dist.train_rounds(shards, params, rounds=3, optimizer=adam(0.01), checkpoint_dir=tmp_path, resume=True, **settings))[-1]
    for key in params:
        np.testing.assert_array_equal(resumed.params[key], whole.params[key])
