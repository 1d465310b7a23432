"""User review, data-parallel training over many rounds: what Dask's scheduler keeps in the driver.

Dask's scheduler files each round's tasks under a task group, and each new group under a span,
which it keeps as long as it runs (dask/distributed#7977). A round sent once the last round's
tasks were all released made a new group and a new span: about 5 KB a round, kept by the
scheduler, which for ``local_cluster`` lives in the driver's process. 2,000 rounds of
784-512-256-10 on 2 worker processes left 1,494 spans (7.9 MB) there, growing without bound:
some 60 MB over the 11,730 rounds of ``python scripts/train_mnist.py --workers 2``."""

from __future__ import annotations

import time

import numpy as np

from functional_nn import distributed as dist
from test_user_review_dist_realsize import rounds_on_two_shards


def test_the_scheduler_keeps_one_span_for_a_whole_run(rng: np.random.Generator) -> None:
    with dist.cluster_client(n_workers=1, processes=False) as client:
        for state in rounds_on_two_shards(client, rng, 20):
            time.sleep(0.01)  # the reader's own work between rounds (a real round takes longer than these)
        spans = client.cluster.scheduler.extensions["spans"].spans  # type: ignore[union-attr]  # a LocalCluster's
        assert state.round == 20
        assert len(spans) == 1, f"the scheduler keeps {len(spans)} spans after 20 rounds"
