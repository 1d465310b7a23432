"""User review of a diff: scikit-learn's names on the estimators, and how data reaches Dask's workers.

- A subclass of an estimator that takes a setting of its own named like one of scikit-learn's
  refused names (``verbose``, ``loss``, ...) could not be made, nor cloned.
- ``best_loss_`` of an estimator fitted with early stopping and pickled before ``_best_epoch``
  was kept gave the lowest training cost, where it is documented ``None``.
- ``_scatter`` sent straight to workers whose addresses were on loopback, also of a cluster on
  another machine reached through an SSH tunnel to ``localhost`` (its workers' loopback, not
  ours): the send waited Dask's connect timeout and failed. Only a cluster of this process
  is known to be here; one reached by address keeps Dask's default, through the scheduler.
"""

from __future__ import annotations

import pickle

import numpy as np
from sklearn.base import clone

from functional_nn import distributed as dist
from functional_nn.sklearn import MLPClassifier
from test_user_review_sweep_realsize import _scatters_through_scheduler


class _Chatty(MLPClassifier):
    """A user's subclass with a ``verbose`` setting of its own."""

    def __init__(self, hidden_layer_sizes: tuple[int, ...] = (3,), *, epochs: int = 2, verbose: bool = False) -> None:
        super().__init__(hidden_layer_sizes, epochs=epochs, random_state=0)
        self.verbose = verbose


def test_a_subclass_may_take_a_setting_named_like_one_of_scikit_learns(rng: np.random.Generator) -> None:
    chatty = _Chatty(verbose=True)
    assert chatty.get_params()["verbose"] is True
    copied = clone(chatty)
    assert isinstance(copied, _Chatty) and copied.verbose is True
    X = rng.standard_normal((20, 2))
    assert copied.fit(X, (X[:, 0] > 0).astype(np.int64)).n_iter_ == 2


def test_best_loss_is_none_for_an_early_stopped_fit_pickled_before_best_epoch_was_kept(rng: np.random.Generator) -> None:
    X = rng.standard_normal((40, 2))
    fitted = MLPClassifier((3,), epochs=3, early_stopping=True, random_state=0).fit(X, (X[:, 0] > 0).astype(np.int64))
    state = pickle.loads(pickle.dumps(vars(fitted)))
    del state["_best_epoch"]  # as an older version pickled it
    old = MLPClassifier()
    old.__setstate__(state)  # what unpickling that older estimator does
    assert fitted.best_loss_ is None
    assert old.best_loss_ is None
    assert fitted.best_validation_score_ is not None
    assert old.best_validation_score_ is None  # documented so, not an AttributeError
    assert old.validation_scores_ == fitted.validation_scores_


def test_a_cluster_reached_by_address_gets_the_data_through_its_scheduler(rng: np.random.Generator) -> None:
    X = rng.standard_normal((3, 8))
    Y = rng.standard_normal((1, 8))
    with dist.local_cluster(1, processes=False) as cluster, dist.cluster_client(cluster.scheduler_address) as client:
        placed = dist.place_shards(client, dist.split_shards(X, Y, 1))
        assert _scatters_through_scheduler(client) == 1
        shard = placed.futures[0].result()
    assert np.array_equal(shard.X, X)
