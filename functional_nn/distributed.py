r"""The same pure functions on a Dask cluster: data-parallel rounds, local SGD and sweeps.

A gradient is a pure function of ``(params, shard)`` and a training run a pure function of
its settings, so both can run anywhere, be retried anywhere, and be summed in a fixed order.
This module holds two layers:

* **engine-agnostic pieces**, pure module-level functions (so they pickle): ``split_shards``
  cuts the data into contiguous column blocks; ``gradient_sum`` and ``local_steps`` are a
  round's work on one shard; ``train_rounds`` is the driver, a lazy fold like
  ``train_epochs`` that yields one ``RoundState`` per round. Given plain ``Shard``\ s it runs
  every shard's task in this process, one after another.
* **a thin Dask layer**: ``place_shards`` sends each shard to one worker, once, and
  returns ``DaskShards``, which ``train_rounds`` accepts in place of the shards and which
  runs each round's tasks on the workers holding the shards; ``sweep`` trains a list of
  ``RunSettings`` as independent tasks; ``cluster_client`` starts a ``LocalCluster`` of
  worker processes or connects to a running scheduler.

Synchronous rounds
------------------
Round :math:`r` starts from :math:`\theta_r`. Shard :math:`s` computes, on its batch
:math:`B_s` (the whole shard, or ``batch_size`` columns), the *sum* of the per-sample
gradients and its count :math:`|B_s|`; the driver adds the sums in shard order, divides
once, adds the L2 term once, and applies the optimizer's ``update`` as ``train`` does:

.. math::

    g = \frac{1}{\sum_s |B_s|} \sum_{s=1}^{S} \sum_{i \in B_s} \nabla_\theta \ell_i(\theta_r)
        + \frac{\lambda}{\sum_s |B_s|} W, \qquad
    \theta_{r+1}, \sigma_{r+1} = \mathrm{update}(g, \sigma_r, \theta_r)

A shard's sum is ``backward``'s mean over its batch times :math:`|B_s|` (the kernel is
reused, not copied). In exact arithmetic this is ``train``'s full-batch step when every
batch is its whole shard; in floating point each shard's sum and the driver's division
round a few times where ``train`` rounds once, a relative difference of a few units in
the last place per step, which stays below 1e-12 over the tested float64 runs.

Local SGD (model averaging)
---------------------------
With ``local_steps=K`` (Zinkevich et al. 2010; McMahan et al. 2017, FedAvg) every shard
runs ``K`` ordinary training steps (forward, backward with L2, clip, ``update``, max-norm)
from :math:`(\theta_r, \sigma_r)` on its own batches, and the driver averages the results
weighted by shard size :math:`m_s / m`:

.. math:: \theta_{r+1} = \sum_s \frac{m_s}{m}\, \theta_r^{(s, K)}, \qquad
          \sigma_{r+1} = \sum_s \frac{m_s}{m}\, \sigma_r^{(s, K)}

The optimizer's slots (momentum, Adam's moments) are averaged the same way, and its step
count advances by ``K`` per round, so a schedule sees the number of local steps each
worker has made. With ``K = 1``, plain SGD, full-shard batches and no clipping or
max-norm a round equals the synchronous round (up to rounding) but for the L2 term: each
shard's step adds :math:`\frac{\lambda}{m_s} W` as ``train``'s step on a batch does, so the
averaged round adds :math:`\frac{S \lambda}{m} W`, the synchronous round's with ``S lambd``
(and so does its cost).

Sample weights
--------------
``train_rounds(..., sample_weight=w)`` weighs the samples as ``train`` does (see
``functional_nn.sample_weights``): a sample of weight 0 is left out of its shard before the
first round, as if it were not there, and every batch :math:`B` weighs its samples' losses
by :math:`w_j` over its total weight :math:`S_B = \sum_{j \in B} w_j`. Each shard's weights
travel with the shard: they are placed on the worker holding it, once, and sent again with it
if that worker is lost. A synchronous round's gradient is the weighted mean over the global
batch, each shard returning its weighted sum :math:`\sum_{j \in B_s} w_j \nabla\ell_j` and
its :math:`S_{B_s}`:

.. math::

    g = \frac{1}{\sum_s S_{B_s}} \sum_{s=1}^{S} \sum_{j \in B_s} w_j \nabla_\theta \ell_j(\theta_r)
        + \frac{\lambda}{\sum_s S_{B_s}} W

(weights all 1 give the unweighted round's parameters above, bit for bit; its recorded cost
to rounding, the weighted mean's sum being taken in another order). The shards' sums travel in
units of their batch's largest weight :math:`u_s = \max_{j \in B_s} w_j`, as ``train`` weighs
each batch by its own weights: shard :math:`s` returns :math:`\sum_{j \in B_s} \frac{w_j}{u_s}
\nabla\ell_j` (``backward``'s weighted mean times :math:`1 \le S_{B_s}/u_s \le |B_s|`) and
:math:`u_s`; the driver adds them, each times :math:`u_s / u \le 1` for the round's largest
:math:`u = \max_s u_s`, and multiplies the total by :math:`u / \sum_s S_{B_s} \le 1`, so that
float32 rounds take any weights ``train`` takes (a shard's :math:`S_{B_s}` may pass float32's
3.4e38, or its reciprocal, for weights near 1e-40, and a round's batches may weigh far less than
the run's largest weight); :math:`u_s = 1` without weights, or with weights all 1. Local SGD's
shards step as
``train`` steps on their weighted batches, and the driver averages them by each shard's total
weight :math:`S_s = \sum_{j \in \text{shard } s} w_j`, the weighted analogue of :math:`m_s`:
:math:`\theta_{r+1} = \sum_s \frac{S_s}{\sum_t S_t}\, \theta_r^{(s, K)}` (and the slots
alike). So weights all 1 average as unweighted shards do, bit for bit, and with ``K = 1``,
plain SGD and full-shard batches the round is the synchronous weighted round (but for the
L2 term, as above). A ``RoundRecord``'s cost and accuracy are the weighted means over the
round's samples, its ``samples`` their count and its ``weight`` their total weight (the sum of
the :math:`S_B` of the batches the round trained on), by which ``epoch_states`` weighs the
rounds of an epoch, as ``train`` weighs its batches; ``dev_sample_weight`` makes the dev figures
weighted means too (``epoch_states`` takes it as well).

Randomness
----------
There is no generator to carry: every draw comes from a generator made on the spot from
``seed``, the shard's index and a counter, ``np.random.default_rng(SeedSequence(seed,
spawn_key=(s, stream, i)))``, which is exactly the generator ``SeedSequence(seed).spawn``
hands to child ``i`` of stream ``stream`` of child ``s``. Stream 0 draws shard ``s``'s
permutation of its columns for its ``i``-th pass over them (``batch_size`` set: the pass is
cut into batches as in ``minibatches``); stream 1 draws the dropout masks of its ``i``-th
step, stream 2 the augmentation of its ``i``-th step's batch. So a round's draws depend only on the seed, the shards and the round number: not
on the number of workers, where a task runs, the order tasks finish in, or whether a task
was retried after its worker died, and a resumed run continues bit for bit.

Bit for bit
-----------
The arithmetic depends on one thing more than the draws: how many threads the BLAS
(OpenBLAS, MKL) splits its work across, whose results can differ in their last bits from one
thread count to another (measured with OpenBLAS). Two runs of the same shards and settings are equal bit for bit when every
task of both runs has the same number of BLAS threads, whatever else differs. The worker
processes of ``local_cluster`` have one each (``WORKER_ENV``), so any number of them gives the
same bits; this process, which has one per core unless told otherwise, gives those bits
when it too has one, e.g. inside ``threadpoolctl.threadpool_limits(1, user_api="blas")``
(tested), and otherwise agrees to rounding (measured after 2 Adam rounds of a
784-256-128-10 network on 2 cores: 5e-14 in float64, 7e-6 in float32). Workers that are
threads of this process (``processes=False``) use its BLAS threads, and so give its bits.
Workers started by hand should all have one BLAS thread too (``OPENBLAS_NUM_THREADS=1``,
``OMP_NUM_THREADS=1`` and ``MKL_NUM_THREADS=1`` in their environment), or a round's bits may
depend on which worker ran which shard.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import hashlib
import inspect
import logging
import math
import os
import shutil
import signal
import tempfile
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from functional_nn import _validation as check
from functional_nn import allocator, checkpoints, fused
from functional_nn.activations import check_one_record_per_name
from functional_nn.data.augmentation import Augmentation
from functional_nn.data.augmentation import describe as describe_augmentation
from functional_nn.data.preparation import _minibatches
from functional_nn.fold_state import EpochRecord, RoundRecord, RoundState, TrainState
from functional_nn.initializers import check_scheme, initialize_parameters
from functional_nn.losses import check_targets, check_weighable, cost_value, l2_penalty, resolve_loss, weighted_cost_value
from functional_nn.optimizers import (
    LearningRate,
    Optimizer,
    OptimizerState,
    _apply_max_norm,
    _clip_by_global_norm,
    _params_already_checked,
    call_update,
    check_max_norm,
    checked_init,
    read_only_views,
)
from functional_nn.propagation import (
    backward,
    check_activations,
    check_keep_probs,
    check_loss_pairing,
    check_softmax_units,
    check_trainable_network,
    correct_columns,
    count_correct,
    forward,
)
from functional_nn.averaging import averaged_params
from functional_nn.sample_weights import Weights, check_sample_weight, weighted_mean
from functional_nn.serialization import check_writable_directory, remove_stale_temporaries
from functional_nn.training import (
    TrainingDivergedError,
    TrainResult,
    _augmented,
    _check_checkpoint_dir,
    _nonfinite_cost_cause,
    _own_backward_cause,
    _released_on_error,
    check_dev_set,
    check_dev_weights,
    check_resumed_within,
    classification_labels,
    dev_figures,
    diverged_advice,
    diverged_parameter,
    resolve_optimizer,
    train,
    train_epochs,
)
from functional_nn.types import Activation, ActivationFunction, FloatArray, InitScheme, IntArray, Loss, LossFunction, Params

if TYPE_CHECKING:
    from distributed import Client, Future, LocalCluster

__all__ = [
    "DaskShards",
    "RoundRecord",
    "RoundState",
    "RunSettings",
    "SchedulerUnreachableError",
    "Shard",
    "SlowAllocatorWarning",
    "SweepData",
    "WorkerEnvironmentError",
    "check_workers",
    "cluster_client",
    "epoch_states",
    "gradient_sum",
    "local_cluster",
    "local_steps",
    "place_shards",
    "load_sweep_data",
    "run_settings",
    "save_sweep_data",
    "shard_generator",
    "split_shards",
    "sweep",
    "train_rounds",
]

DASK_EXTRA: Final = 'pip install -e ".[dask]"'
REQUIRED_PACKAGES: Final = ("numpy", "functional_nn")
"""What every worker must be able to import to run this module's tasks."""
PERMUTATION_STREAM: Final = 0
DROPOUT_STREAM: Final = 1
AUGMENTATION_STREAM: Final = 2
WORKER_ENV: Final = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
"""Set for ``cluster_client``'s worker processes: one BLAS thread each, one worker per core."""

PRE_SPAWN_ENVIRON: Final = "distributed.nanny.pre-spawn-environ"
NO_MESSAGE_LOG: Final = {"distributed.admin.low-level-log-length": 0}
"""Dask setting for the clients and local clusters started here: each of Dask's message streams
keeps its last 1,000 messages under 1 MB for debugging, and every round's parameters travel in
its tasks, so a network under 1 MB (784-256-10 in float32) had the driver hold a thousand
rounds' parameters, in the client's stream and in the scheduler's to each worker: 1.1 GB. For
a ``Client`` or scheduler of one's own, set it before starting them
(``DASK_DISTRIBUTED__ADMIN__LOW_LEVEL_LOG_LENGTH=0``)."""
QUIET_CLUSTER: Final = {
    # The workers' statistical profiler wakes every 10 ms to walk every thread's stack,
    # taking the GIL from the training thread; the dashboard is its only reader.
    "distributed.worker.profile.enabled": False,
    # Every server's event loop wakes every 20 ms to time itself (warnings about a blocked
    # loop), every 0.5 s to sample the system (the dashboard's charts), and the nannies poll
    # their worker's memory every 0.1 s. Idle, a 2-worker cluster's processes took 0.96 s of
    # CPU in 10 s, 0.14 s with these (measured): with one worker per core, that time is taken
    # from the training.
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}
"""Dask settings ``local_cluster`` uses when no dashboard is asked for."""

R = TypeVar("R")


def _import_distributed() -> Any:  # Any: the module object; its functions carry their own types
    try:
        import distributed
    except ImportError as error:  # pragma: no cover - the dev extra installs it
        raise ImportError(f"functional_nn.distributed needs Dask's distributed scheduler: {DASK_EXTRA}") from error
    return distributed


# --------------------------------------------------------------------------------------------
# the pure pieces


class Shard(NamedTuple):
    """One block of the training data: ``X`` ``(n_0, m_s)`` and ``Y`` ``(n_L, m_s)``."""

    X: FloatArray
    Y: FloatArray

    def __reduce__(self) -> tuple[Callable[..., Shard], tuple[object, ...]]:
        return _unpickled_shard, tuple(self)  # rebuilt with aligned arrays: see _realigned


def _realigned(value: Any) -> Any:  # Any: an array, or a dict or tuple of them, as it came
    """``value`` with each array whose buffer is not aligned to its dtype replaced by an
    aligned copy in its own memory order (and writeability), in dicts and plain tuples too.

    Dask sends an array inside a pickled object as a buffer of its message, which reaches the
    worker at any byte offset, and NumPy's matrix products take another path for an array
    that is not aligned, with other last bits: a shard so received made the rounds differ
    from this process's (``D @ X.T``, 1 ulp in float64). What travels is rebuilt aligned.
    """
    if isinstance(value, np.ndarray):
        if value.flags.aligned:
            return value
        copy = value.copy(order="A")
        copy.flags.writeable = value.flags.writeable
        return copy
    if type(value) is dict:
        return {key: _realigned(item) for key, item in value.items()}
    if type(value) is tuple:
        return tuple(_realigned(item) for item in value)
    return value


def _unpickled_shard(X: FloatArray, Y: FloatArray) -> Shard:
    return Shard(_realigned(X), _realigned(Y))


def split_shards(X: FloatArray, Y: FloatArray, n_shards: int) -> tuple[Shard, ...]:
    """Cut the columns of ``X`` ``(n_0, m)`` and ``Y`` ``(n_L, m)`` into ``n_shards`` contiguous blocks.

    Block ``s`` of ``S`` starts at column ``s (m // S) + min(s, m % S)`` and holds
    ``m // S`` columns, one more for the first ``m % S`` blocks, as ``np.array_split`` cuts
    them: the blocks in order are the columns in order. They are views, not copies.
    ``X`` and ``Y`` must share one dtype, float32 or float64 (``train_rounds`` needs it).
    """
    X = check.check_float_array("X", X)
    Y = check.check_float_array("Y", Y, targets=True)
    check.check_same_dtype("Y", Y, X.dtype, "X")  # train_rounds would refuse the shards: refused here, where it is clearer
    m = check.check_samples("X", X)
    if Y.shape[1] != m:
        raise ValueError(f"Y must have one column per column of X ({m}), got shape {Y.shape}")
    n_shards = check.check_positive_int("n_shards", n_shards)
    if n_shards > m:
        raise ValueError(f"n_shards must be at most the number of samples: {n_shards} shards of {m} samples would leave some empty")
    bounds = _bounds(m, n_shards)
    return tuple(Shard(X[:, start:stop], Y[:, start:stop]) for start, stop in zip(bounds[:-1], bounds[1:]))


def _bounds(m: int, n_shards: int) -> list[int]:
    size, extra = divmod(m, n_shards)
    bounds = [0]
    for s in range(n_shards):
        bounds.append(bounds[-1] + size + (1 if s < extra else 0))
    return bounds


def shard_generator(seed: int, shard: int, stream: int, index: int) -> np.random.Generator:
    """The generator of draw ``index`` of ``stream`` on shard ``shard`` (see the module's notes).

    Equal to the generator of ``SeedSequence(seed).spawn(...)[shard].spawn(...)[stream]
    .spawn(...)[index]``, made without spawning, so no task carries generator state.
    Each argument is an int >= 0.
    """
    for argument, value in (("seed", seed), ("shard", shard), ("stream", stream), ("index", index)):
        check.check_positive_int(argument, value, minimum=0)  # SeedSequence would take lists and say "seed" for any of them
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(shard, stream, index)))


class _Task(NamedTuple):
    """What a round's task needs besides the parameters and its shard: fixed for the run."""

    activations: tuple[ActivationFunction, ...]
    loss: LossFunction
    seed: int
    batch_size: int | None
    keep_probs: tuple[float, ...] | None
    lambd: float
    clip_norm: float | None
    max_norm: float | None
    optimizer: Optimizer
    local_steps: int | None
    augmentation: Augmentation | None = None


class RoundInput(NamedTuple):
    """Everything a round's task receives besides its shard: sent with each of the round's tasks.

    Synchronous rounds send the parameters alone (``optimizer_state`` has no slots); local
    SGD sends the optimizer's slots too, since every worker steps with them.
    """

    params: dict[str, FloatArray]
    optimizer_state: OptimizerState
    round: int  # the index of the round being run, from 0
    task: _Task

    def __reduce__(self) -> tuple[Callable[..., RoundInput], tuple[object, ...]]:
        return _unpickled_round_input, tuple(self)  # rebuilt with aligned arrays: see _realigned


def _unpickled_round_input(params: dict[str, FloatArray], optimizer_state: OptimizerState, round: int, task: _Task) -> RoundInput:
    slots = optimizer_state.slots
    aligned = {name: _realigned(dict(slot)) for name, slot in slots.items()} if type(slots) is dict else slots
    return RoundInput(_realigned(params), optimizer_state._replace(slots=aligned), round, task)


class ShardGradient(NamedTuple):
    """``gradient_sum``'s result: per-sample gradient sums ``"dW1"``, ... shaped like the
    parameters, the batch's sample count, the sum of its per-sample losses, and its number
    of correctly classified samples (``None`` for a regression loss).

    With sample weights the sums, the cost and ``correct`` are weighted (each sample counted
    :math:`w_j` times; the gradient sums in units of ``unit``, the batch's largest weight, see
    ``gradient_sum``) and ``weight`` is the batch's total weight :math:`S_B`; else ``None``
    (and ``unit`` 1)."""

    grads: dict[str, FloatArray]
    samples: int
    cost: float
    correct: int | float | None
    weight: float | None = None
    unit: float = 1.0


class ShardUpdate(NamedTuple):
    """``local_steps``' result: the shard's parameters and optimizer state after its steps,
    the samples they used, the sum of each step's (cost + L2 penalty) times its batch size,
    and the correctly classified samples (``None`` for a regression loss).

    With sample weights each step's cost is weighted by its batch's total weight :math:`S_B`
    instead, ``correct`` is the weight of the samples classified correctly, and ``weight``
    the sum of the steps' :math:`S_B`; else ``None``."""

    params: dict[str, FloatArray]
    optimizer_state: OptimizerState
    samples: int
    cost: float
    correct: int | float | None
    weight: float | None = None


def _batch(
    shard: Shard, shard_index: int, step: int, task: _Task, weights: Weights | None
) -> tuple[FloatArray, FloatArray, Weights | None]:
    """The columns shard ``shard_index`` trains on at its ``step``-th step (counted from 0), and
    their sample weights (``None`` without ``weights``, the shard's)."""
    if task.batch_size is None:
        return _augment(shard.X, shard_index, step, task), shard.Y, weights
    m_s = int(shard.X.shape[1])
    per_pass = -(-m_s // task.batch_size)
    pass_index, j = divmod(step, per_pass)
    order = shard_generator(task.seed, shard_index, PERMUTATION_STREAM, pass_index).permutation(m_s)
    indices = order[j * task.batch_size : (j + 1) * task.batch_size]
    X_B, Y_B, _ = next(_minibatches(shard.X, shard.Y, task.batch_size, indices))
    return _augment(X_B, shard_index, step, task), Y_B, None if weights is None else weights[indices]


def _augment(X_B: FloatArray, shard_index: int, step: int, task: _Task) -> FloatArray:
    """``X_B`` distorted by the run's augmentation, with the shard's own generator for this step."""
    if task.augmentation is None:
        return X_B
    return _augmented(task.augmentation, X_B, shard_generator(task.seed, shard_index, AUGMENTATION_STREAM, step))


def _dropout_rng(shard_index: int, step: int, task: _Task) -> np.random.Generator | None:
    return None if task.keep_probs is None else shard_generator(task.seed, shard_index, DROPOUT_STREAM, step)


def _correct(AL: FloatArray, Y: FloatArray, task: _Task, weights: Weights | None = None) -> int | float | None:
    """The batch's correctly classified samples (``None`` for a regression loss), or their total weight."""
    labels = classification_labels(Y, task.loss)
    if labels is None:
        return None
    if weights is None:
        return count_correct(AL, labels, task.activations[-1], task.loss.decision_threshold)
    return float(weights @ correct_columns(AL, labels, task.activations[-1], task.loss.decision_threshold))


def _task_weights(sample_weight: object) -> Weights | None:
    """A task's shard weights as received (possibly unaligned, from a message): see ``_realigned``."""
    if sample_weight is None:
        return None
    weights: Weights = _realigned(np.asarray(sample_weight, dtype=np.float64))
    return weights


_TASK_NOTE_SUFFIX: Final = "(train_rounds)"
"""Ends the note a round's task adds to an exception it raises (see ``_noting_task``)."""


def _add_note(error: BaseException, note: str) -> None:
    """``error.add_note(note)``, on Python 3.10 too (where the note is kept but not printed).

    Notes live in the exception's ``__dict__``, so they survive the pickling that brings a
    worker's exception to the driver."""
    with contextlib.suppress(AttributeError):  # an exception type that takes no attributes keeps its words alone
        setattr(error, "__notes__", [*getattr(error, "__notes__", ()), note])


@contextlib.contextmanager
def _noting_task(shard_index: int, inputs: RoundInput) -> Iterator[None]:
    """Any exception the task raises goes on as itself, its type and words unchanged, with a
    note naming the round (counted from 1, as ``RoundRecord.round``) and the shard."""
    try:
        yield
    except Exception as error:
        _add_note(error, f"in round {inputs.round + 1} on shard {shard_index} {_TASK_NOTE_SUFFIX}")
        raise


def _raised_by_task(error: BaseException) -> bool:
    return any(isinstance(note, str) and note.endswith(_TASK_NOTE_SUFFIX) for note in getattr(error, "__notes__", ()))


def gradient_sum(shard: Shard, shard_index: int, inputs: RoundInput, sample_weight: npt.ArrayLike | None = None) -> ShardGradient:
    r"""A synchronous round's work on one shard: :math:`\sum_{i \in B_s} \nabla_\theta \ell_i(\theta)`.

    With ``sample_weight`` (the shard's weights, ``(m_s,)``, all > 0) the weighted sum in units
    of the batch's largest weight :math:`u_s = \max_{i \in B_s} w_i` (returned as ``unit``),
    :math:`\sum_{i \in B_s} \frac{w_i}{u_s} \nabla_\theta \ell_i(\theta)`: ``backward``'s weighted
    mean over the batch times :math:`S_{B_s} / u_s`, where :math:`S_{B_s} = \sum_{i \in B_s} w_i` is
    the batch's total weight, returned (in float64, not in units) as ``weight``. In units the factor
    is between 1 and :math:`|B_s|`, so that the sums stay in float32's range for any weights ``train``
    takes (:math:`S_{B_s}` itself may pass 3.4e38, or fall below float32's smallest normal number
    1.2e-38, where the product would overflow or lose its digits); the driver rescales them to
    the round's largest unit and divides by :math:`\sum_s S_{B_s}` (``_synchronous_step``).
    Weights all 1 make :math:`u_s = 1`: the unweighted sums' bits.

    An exception raised here goes on as itself, with a note naming the round and the shard.

    Parameters
    ----------
    shard : Shard
        ``X`` ``(n_0, m_s)``, ``Y`` ``(n_L, m_s)``.
    shard_index : int
        The shard's place ``s`` in the run: picks its generators.
    inputs : RoundInput
        The round's parameters and number, and the run's settings.

    Returns
    -------
    ShardGradient
        The sums ``"dW1"``: ``(n_1, n_0)``, ``"db1"``: ``(n_1, 1)``, ... without the L2
        term (the driver adds it once), in the parameters' dtype: ``backward``'s mean over
        the batch times its size :math:`|B_s|` (with weights, times :math:`S_{B_s}/u_s`). A
        diverging run's NaN or infinite values are returned, not warned about: the driver
        reports them (``TrainingDivergedError``).
    """
    task = inputs.task
    weights = _task_weights(sample_weight)
    # Divergence is reported by the driver, naming the round and the shard, as train does by
    # epoch and step: numpy's overflow warnings would only repeat it less clearly (and, where
    # warnings are errors, replace it).
    with _noting_task(shard_index, inputs), np.errstate(over="ignore", invalid="ignore"):
        X_B, Y_B, w_B = _batch(shard, shard_index, inputs.round, task, weights)
        kernel = fused.check_kernel(None)  # the worker's own: Numba's fused ReLU passes if it has Numba
        AL, caches = forward(X_B, inputs.params, task.activations, task.keep_probs, _dropout_rng(shard_index, inputs.round, task), None, kernel)
        b = int(X_B.shape[1])
        unit = 1.0  # the unit of the sums: the batch's largest weight (1 without weights: total / unit is b)
        if w_B is None:
            total: float = b
            cost = cost_value(task.loss, AL, Y_B) * b  # a float, whatever a loss of one's own returns
        else:
            total = float(np.sum(w_B))  # > 0: the samples of weight 0 were left out of the shard
            unit = float(np.max(w_B))
            cost = weighted_cost_value(task.loss, AL, Y_B, w_B) * total
        means = backward(AL, Y_B, caches, task.loss, 0.0, kernel, w_B)
        size = AL.dtype.type(total / unit)  # between 1 and b
        grads: dict[str, FloatArray] = {key: grad * size for key, grad in means.items()}
        return ShardGradient(grads, b, cost, _correct(AL, Y_B, task, w_B), None if w_B is None else total, unit)


def local_steps(shard: Shard, shard_index: int, inputs: RoundInput, sample_weight: npt.ArrayLike | None = None) -> ShardUpdate:
    r"""A local-SGD round's work on one shard: ``K`` ordinary training steps from the round's state.

    Step ``k`` of round ``r`` is the shard's step ``t = r K + k``: its batch and dropout
    masks come from ``shard_generator`` with that ``t`` (see the module's notes), then it
    runs forward, backward with L2, clipping, the optimizer's ``update`` and max-norm, as
    ``train`` does on a mini-batch. An exception raised here goes on as itself, with a note
    naming the round and the shard. With ``sample_weight`` (the shard's weights, all > 0)
    each step weighs its batch as ``train`` does: cost
    :math:`\frac{1}{S_B}\sum_{j \in B} w_j \ell_j + \frac{\lambda}{2 S_B}\sum_l \lVert W_l\rVert^2`.
    """
    with _noting_task(shard_index, inputs):
        return _local_steps(shard, shard_index, inputs, _task_weights(sample_weight))


def _local_steps(shard: Shard, shard_index: int, inputs: RoundInput, weights: Weights | None = None) -> ShardUpdate:
    task = inputs.task
    K = task.local_steps
    assert K is not None
    params, state = read_only_views(inputs.params, inputs.optimizer_state)  # the driver's, in this process
    loss = task.loss
    cost_sum, samples, weight = 0.0, 0, 0.0
    correct: float = 0  # samples, or their weight
    any_correct = False
    kernel = fused.check_kernel(None)  # the worker's own, bitwise the same either way
    # Divergence is reported by the driver, which also checked the params the rounds start
    # from; each update is given what the last returned, so it leaves out check_params.
    with np.errstate(over="ignore", invalid="ignore"), _params_already_checked():
        for k in range(K):
            t = inputs.round * K + k
            X_B, Y_B, w_B = _batch(shard, shard_index, t, task, weights)
            AL, caches = forward(X_B, params, task.activations, task.keep_probs, _dropout_rng(shard_index, t, task), None, kernel)
            b = int(X_B.shape[1])
            if w_B is None:
                cost_sum += (cost_value(loss, AL, Y_B) + l2_penalty(params, task.lambd, b)) * b
            else:
                S_B = float(np.sum(w_B))  # > 0: the samples of weight 0 were left out of the shard
                cost_sum += (weighted_cost_value(loss, AL, Y_B, w_B) + l2_penalty(params, task.lambd, S_B)) * S_B
                weight += S_B
            samples += b
            right = _correct(AL, Y_B, task, w_B)
            if right is not None:
                correct += right
                any_correct = True
            grads = backward(AL, Y_B, caches, task.loss, task.lambd, kernel, w_B)
            if task.clip_norm is not None:
                grads = _clip_by_global_norm(grads, task.clip_norm)
            params, state = call_update(task.optimizer, grads, state, params)
            if task.max_norm is not None:
                params = _apply_max_norm(params, task.max_norm)
    return ShardUpdate(dict(params), state, samples, cost_sum, correct if any_correct else None, None if weights is None else weight)


def _shard_cause(shard: Shard, shard_index: int, inputs: RoundInput, weights: Weights | None = None) -> str | None:
    """Once a shard's round gave a NaN or infinite cost or array: its steps run again, here on
    the driver (which keeps every shard), step by step as the task ran them, until one of them
    names a piece of one's own that made NaN or inf of moderate inputs, as ``train`` names it
    (its forward pass or cost, then its backward pass); ``None`` if none does. Never run
    while the rounds are finite: a finite round costs nothing more."""
    task = inputs.task
    K = 1 if task.local_steps is None else task.local_steps
    lambd = 0.0 if task.local_steps is None else task.lambd  # a gradient sum leaves the L2 term to the driver
    params, state = read_only_views(inputs.params, inputs.optimizer_state)
    kernel = fused.check_kernel(None)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"), _params_already_checked():
        for k in range(K):
            t = inputs.round * K + k
            X_B, Y_B, w_B = _batch(shard, shard_index, t, task, weights)
            AL, caches = forward(X_B, params, task.activations, task.keep_probs, _dropout_rng(shard_index, t, task), None, kernel)
            if w_B is None:
                data_cost, size = cost_value(task.loss, AL, Y_B), float(X_B.shape[1])
            else:
                data_cost, size = weighted_cost_value(task.loss, AL, Y_B, w_B), float(np.sum(w_B))
            if not math.isfinite(data_cost + l2_penalty(params, lambd, size)):
                function = "cost" if w_B is None else "sample_costs"  # which of its functions gave it, as train names it
                return _nonfinite_cost_cause(task.loss, AL, Y_B, caches, math.isfinite(data_cost), function=function)
            cause = _own_backward_cause(task.loss, Y_B, caches)
            if cause is not None or task.local_steps is None:
                return cause
            grads = backward(AL, Y_B, caches, task.loss, lambd, kernel, w_B)
            if task.clip_norm is not None:
                grads = _clip_by_global_norm(grads, task.clip_norm)
            params, state = call_update(task.optimizer, grads, state, params)
            if task.max_norm is not None:
                params = _apply_max_norm(params, task.max_norm)
    return None


def _sum_in_order(dicts: Sequence[Mapping[str, FloatArray]], weights: Sequence[float] | None = None) -> dict[str, FloatArray]:
    """``sum_s w_s d_s`` key by key, added in the order given (fresh arrays, inputs untouched)."""
    total: dict[str, FloatArray] = {}
    for key in dicts[0]:
        dtype = dicts[0][key].dtype
        acc = dicts[0][key] * dtype.type(1 if weights is None else weights[0])
        for s in range(1, len(dicts)):
            term = dicts[s][key] if weights is None else dicts[s][key] * dtype.type(weights[s])
            acc += term  # acc is a fresh array
        total[key] = acc
    return total


def _round_weight(results: Sequence[ShardGradient] | Sequence[ShardUpdate]) -> float | int:
    """What a round's sums are divided by: its samples, or with sample weights their total
    weight (added in shard order)."""
    if results[0].weight is None:
        return sum(r.samples for r in results)
    return sum(r.weight or 0.0 for r in results)


def _synchronous_step(
    results: Sequence[ShardGradient], params: Params, state: OptimizerState, task: _Task
) -> tuple[dict[str, FloatArray], OptimizerState]:
    r"""The driver's update from the shards' gradient sums: divided once by the round's samples
    :math:`\sum_s |B_s|`, or with sample weights by its total weight :math:`\sum_s S_{B_s}` (the
    sums being in units of their batches' largest weights :math:`u_s`: each multiplied by
    :math:`u_s / u` for the round's largest :math:`u`, their total by :math:`u / \sum_s S_{B_s}`,
    factors all at most 1), plus the L2 term over the same, then clipping, ``update`` and
    max-norm as ``train``."""
    m = _round_weight(results)
    unit = max(r.unit for r in results)
    same = all(r.unit == unit for r in results)  # unweighted, or weights all 1: the plain sum's bits
    sums = _sum_in_order([r.grads for r in results], None if same else [r.unit / unit for r in results])
    dtype = params["W1"].dtype
    inv_m = dtype.type(unit / m)  # 1 / m without weights, to the bit
    grads: dict[str, FloatArray] = {}
    for key, value in sums.items():
        value *= inv_m  # value is a fresh sum
        if task.lambd and key.startswith("dW"):
            value += params[key[1:]] * dtype.type(task.lambd / m)
        grads[key] = value
    if task.clip_norm is not None:
        grads = _clip_by_global_norm(grads, task.clip_norm)
    views, state = read_only_views(params, state)  # the driver's, handed out in the last RoundState
    new_params, new_state = call_update(task.optimizer, grads, state, views)
    if task.max_norm is not None:
        new_params = _apply_max_norm(new_params, task.max_norm)
    return new_params, new_state


def _average_step(results: Sequence[ShardUpdate], sizes: Sequence[int] | Sequence[float]) -> tuple[dict[str, FloatArray], OptimizerState]:
    r"""The shards' parameters and slots averaged with weights :math:`m_s / m` (``sizes``: the
    shards' sample counts), or with sample weights :math:`S_s / \sum_t S_t` (their total weights)."""
    m = sum(sizes)
    weights = [m_s / m for m_s in sizes]
    params = _sum_in_order([r.params for r in results], weights)
    slots: dict[str, dict[str, FloatArray]] = {}
    for name in results[0].optimizer_state.slots:
        averaged = _sum_in_order([r.optimizer_state.slots[name] for r in results], weights)
        for value in averaged.values():
            value.flags.writeable = False  # optimizer states are values, as the optimizers make them
        slots[name] = averaged
    return params, OptimizerState(results[0].optimizer_state.step, slots)


# --------------------------------------------------------------------------------------------
# where the shards live: this process, or a Dask cluster


class _InProcessShards(NamedTuple):
    """Shards held by this process: each round's tasks run here, in shard order."""

    shards: tuple[Shard, ...]
    weights: tuple[Weights, ...] | None = None  # each shard's sample weights, given to its task as a 4th argument

    def map(self, function: Callable[..., R], inputs: RoundInput) -> tuple[list[R], float]:
        started = time.perf_counter()
        if self.weights is None:
            return [function(shard, s, inputs) for s, shard in enumerate(self.shards)], time.perf_counter() - started
        results = [function(shard, s, inputs, self.weights[s]) for s, shard in enumerate(self.shards)]
        return results, time.perf_counter() - started


class DaskShards:
    """Shards placed on a Dask cluster's workers by ``place_shards``; pass it to ``train_rounds``.

    Each shard lives on one worker, sent there once. Each round sends the ``RoundInput``
    (the parameters, and the optimizer's slots for local SGD) with each shard's task, runs
    it on the worker holding the shard, and gathers the results in shard order.

    Data placed with ``scatter`` has no lineage: if its worker dies it is gone and Dask
    cannot recompute it. So the driver keeps its own copy of every shard (``shards``), and
    when a round finds a shard lost it sends that shard again, once, to a living worker
    and runs the round again. Tasks are pure, so the retried round is bitwise the round
    that was lost (on workers with as many BLAS threads: see the module's notes). An
    exception raised by a task's own code is not a lost worker, whatever its type: it is
    raised as ``train_rounds`` documents, without a retry. A round that fails, or is
    interrupted, cancels its tasks still queued or running before the error goes on.
    """

    def __init__(self, client: Client, shards: tuple[Shard, ...], futures: list[Future[Shard]], holders: list[str], retries: int) -> None:
        self.client = client
        self.shards = shards
        self.futures = futures
        self.holders = holders
        self.retries = retries
        self.replaced = 0  # shards sent again after their worker was lost
        self._origin: DaskShards | None = None  # a run's copy (_weighted): the caller's placement, told of its re-sends too
        # A run's sample weights (train_rounds' own copy of the shards, see _weighted): each
        # shard's weights, placed on its holder beside it and sent again with it
        self.weights: tuple[Weights, ...] | None = None
        self.weight_futures: list[Future[Any]] = []
        self._previous: list[Future[Any]] = []  # the last round's tasks, released once the next round's are sent (see map) or the run ends

    def _place(self, s: int, worker: str) -> None:
        self.futures[s] = _scatter(self.client, self.shards[s], [worker])
        if self.weights is not None:  # the shard's weights go where it goes
            self.weight_futures[s] = _scatter(self.client, self.weights[s], [worker])
        self.holders[s] = worker

    def _weighted(self, shards: tuple[Shard, ...], weights: tuple[Weights, ...]) -> DaskShards:
        """A copy of these placed shards for one run with sample ``weights`` (one array per
        shard): each shard's weights are placed on the worker holding it, as the shard was;
        a shard that lost samples of weight 0 (``shards[s]`` is not ``self.shards[s]``) is
        placed again there, without them. The copy's shards live as long as the run; a shard it
        sends again after its worker was lost counts in this placement's ``replaced`` too.

        A shard lost since it was placed (its worker gone, by a crash or a retirement) is
        first sent again to a living worker, as a round would, so that its weights are not
        sent to a worker that is no longer there."""
        self._replace_lost(suspect=True)
        copy = DaskShards(self.client, shards, list(self.futures), list(self.holders), self.retries)
        copy.weights, copy._origin = weights, self
        copy.weight_futures = [_scatter(self.client, w, [holder]) for w, holder in zip(weights, copy.holders)]
        for s, shard in enumerate(shards):
            if shard is not self.shards[s]:
                copy.futures[s] = _scatter(self.client, shard, [copy.holders[s]])
        return copy

    def _replace_lost(self, suspect: bool) -> None:
        """Send again the shards whose futures are lost (or, when ``suspect``, whose worker is gone)."""
        if not suspect and all(future.status == "finished" for future in [*self.futures, *self.weight_futures]):
            return  # the common case costs no message to the scheduler
        workers = _worker_addresses(self.client, wait=1, timeout=60.0)
        living = set(workers)
        weight_lost = [bool(self.weight_futures) and self.weight_futures[s].status != "finished" for s in range(len(self.futures))]
        lost = [
            s for s, future in enumerate(self.futures)
            if future.status != "finished" or weight_lost[s] or self.holders[s] not in living
        ]  # fmt: skip
        if not lost:
            return
        for s in lost:
            load = {w: sum(1 for t, h in enumerate(self.holders) if h == w and t not in lost) for w in workers}
            worker = min(workers, key=lambda w: (load[w], w))
            self._place(s, worker)
            lost = [t for t in lost if t != s]
            self.replaced += 1
            if self._origin is not None:  # the caller reads replaced on the placement it passed to train_rounds
                self._origin.replaced += 1

    def map(self, function: Callable[..., R], inputs: RoundInput) -> tuple[list[R], float]:
        """One round: ``function(shard, s, inputs)`` (with sample weights ``function(shard, s,
        inputs, weights)``, the shard's weights) run on the worker holding shard ``s``, for
        every shard, and the results gathered in shard order with the round's wall time in
        seconds. Lost shards are sent again and the round retried, up to ``retries`` times;
        an exception of ``function`` itself is raised at once (as ``train_rounds`` documents).
        ``ValueError`` if the client was closed since ``place_shards``."""
        # Checked each round, not only when train_rounds was called: its rounds are lazy, and
        # one read after the client's `with` block would fail inside Dask ("IOLoop is closed").
        _check_client("shards.client", self.client, hint=_PLACE_AGAIN)
        started = time.perf_counter()
        failure: BaseException | None = None
        for attempt in range(self.retries + 1):
            self._replace_lost(suspect=attempt > 0)
            futures: list[Future[R]] = []
            try:
                try:
                    # The round's input travels inside each task, through the scheduler, which
                    # already holds a stream to every worker. Scattering it to the workers first
                    # would open connections of our own, and one opened to a worker that has just
                    # died waits out Dask's connect timeout (30 s) before the round can be retried.
                    # The holder is a loose restriction: a worker retired (client.retire_workers, an
                    # adaptive cluster scaling down) hands its shards to another, and a task bound to
                    # it alone would wait for it for ever (Dask's "no-worker"); it runs where they went.
                    # (Dask's work stealing may then also run one on an idle worker, which gets a copy
                    # of its shard: the same sums, at the price of that copy's transfer and memory.)
                    with warnings.catch_warnings():
                        warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
                        weighted = [() if self.weights is None else (self.weight_futures[s],) for s in range(len(self.futures))]
                        futures = [
                            self.client.submit(
                                function, future, s, inputs, *weighted[s], workers=[self.holders[s]], allow_other_workers=True, pure=False
                            )
                            for s, future in enumerate(self.futures)
                        ]
                    # Dask's scheduler files tasks under a task group, and each new group under a span,
                    # which it keeps as long as it runs (dask/distributed#7977): a round sent after the
                    # last round's tasks were all released made a new group and span, about 5 KB a round
                    # kept by the scheduler (for local_cluster, in this process): 7.9 MB after 2,000
                    # rounds of 784-512-256-10, some 60 MB over train_mnist.py --workers 2's 11,730.
                    # The last round's tasks, released only now that this round's are sent (or the run
                    # ends), keep one group and span for the whole run; their results wait on the
                    # workers meanwhile, one round's.
                    self._previous = futures
                    results: list[R] = self.client.gather(futures)  # type: ignore[no-untyped-call]  # distributed's partial types
                    return results, time.perf_counter() - started
                except Exception as error:  # noqa: BLE001 - sorted below: a lost worker is retried, anything else raised
                    if not _raised_by_task(error):
                        # the client closed during the round (by another thread): no worker was lost
                        _check_client("shards.client", self.client, hint=_PLACE_AGAIN)
                        if not _is_lost_work(error) and all(f.status == "finished" for f in [*self.futures, *self.weight_futures]):
                            raise
                        failure = error
                        _cancel(self.client, futures)  # the lost attempt's tasks still running: the retry sends them all again
                        continue
                    raised = error
                # The task's own code raised (its note says so): not a lost worker, whatever its type
                # (an OSError of the user's augmentation included), so never retried. Raised outside
                # the handler, so that the exception keeps its own cause and context.
                raise _first_task_error(futures, raised)
            except BaseException:
                # Failed or interrupted (KeyboardInterrupt): the round's other tasks would run on,
                # and their futures, which the traceback keeps, would hold their results.
                _cancel(self.client, futures)
                raise
        raise RuntimeError(f"a round failed {self.retries + 1} times as workers were lost; last: {failure}") from failure


_TASK_ERROR_WAIT: Final = 10.0
"""Seconds a failed round waits for its other tasks, to raise the first error in shard order."""


def _first_task_error(futures: Sequence[Future[Any]], raised: BaseException) -> BaseException:
    """The exception of the first task, in shard order, that raised one itself: the one this
    process would have raised, running the shards in order. ``raised`` (which ``gather`` gave,
    the first to arrive) if none before it is known within ``_TASK_ERROR_WAIT`` seconds."""
    deadline = time.monotonic() + _TASK_ERROR_WAIT
    for future in futures:
        try:  # waits for the task to end; None if it finished or was cancelled
            error: BaseException | None = future.exception(timeout=max(deadline - time.monotonic(), 0.001))  # type: ignore[no-untyped-call]  # distributed's partial types
        except Exception:  # noqa: BLE001 - timed out, or the client went away: the error gather gave stands
            return raised
        if error is not None and _raised_by_task(error):
            return error.with_traceback(future.traceback())  # type: ignore[no-untyped-call]  # distributed's partial types
    return raised


def _cancel(client: Client, futures: Sequence[Future[Any]]) -> None:
    """Cancel ``futures``: their tasks, queued or running, and the results or data they hold,
    which the client then no longer keeps. Quietly if the client is already closing."""
    if futures:
        with contextlib.suppress(Exception):  # the error being raised matters, not this one
            client.cancel(list(futures))  # type: ignore[no-untyped-call]  # distributed's partial types


def _is_lost_work(error: BaseException) -> bool:
    """Whether ``error`` says work was lost with a worker, rather than a task failing."""
    distributed = _import_distributed()
    from distributed.comm.core import CommClosedError

    # A comm closed or timed out under a loaded machine (a worker missing its heartbeats is
    # dropped by the scheduler) is lost work too: the round is pure, so running it again is safe.
    # A future cancelled as its worker was lost raises distributed's FutureCancelledError from
    # 2024.7, and before it (back to the extra's floor, 2024.1) its base, concurrent.futures'
    # CancelledError: the base takes both.
    lost = (concurrent.futures.CancelledError, distributed.scheduler.KilledWorker, CommClosedError, TimeoutError, OSError)
    return isinstance(error, lost)


def _scatter(client: Client, value: object, workers: Sequence[str], *, broadcast: bool = False) -> Future[Any]:
    """``value`` as one object (not element by element) on ``workers``: a future for it.

    Sent straight to the workers when the client's cluster is a ``LocalCluster`` of this
    process (``cluster_client`` without an address), whose workers are on this machine and
    reachable, rather than through the scheduler, Dask's default, which for a
    ``local_cluster`` is this process: MNIST's 190 MB scattered to 2 workers held 181 MB more
    here while it was sent, and took 4.2-6.9 s against 1.3-3.7 s (measured). A cluster reached
    by address keeps Dask's default, even when its workers' addresses are on loopback: those
    of a cluster on another machine reached through an SSH tunnel to ``localhost`` are that
    machine's loopback, where a direct send waited Dask's connect timeout and failed. A
    client's own ``direct_to_workers`` setting is left to decide.
    """
    local = isinstance(getattr(client, "cluster", None), _import_distributed().LocalCluster)
    direct = True if client.direct_to_workers is None and local else None
    futures = client.scatter([value], workers=list(workers), broadcast=broadcast, hash=False, direct=direct)  # type: ignore[no-untyped-call]  # distributed's partial types
    future: Future[Any] = futures[0]
    return future


def _worker_addresses(client: Client, *, wait: int, timeout: float) -> list[str]:
    try:
        client.wait_for_workers(wait, timeout=timeout)
    except TimeoutError as error:
        raise RuntimeError(f"the Dask cluster at {getattr(client.scheduler, 'address', '?')} has no workers (waited {timeout:g} s)") from error
    return sorted(client.scheduler_info(n_workers=-1)["workers"])


def _probe_environment(packages: Sequence[str]) -> tuple[list[str], str, str]:
    """Run on a worker: which of ``packages`` it cannot import, its Python and its host."""
    import importlib.util
    import socket
    import sys

    def missing(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is None
        except Exception:  # noqa: BLE001 - "a.b" imports "a" first: missing, or failing as it is imported
            return True

    return [name for name in packages if missing(name)], sys.executable, socket.gethostname()


# Pickled by value, so that it runs on a worker that cannot import functional_nn and says so.
_probe_environment.__module__ = "__main__"


class WorkerEnvironmentError(RuntimeError):
    """A worker cannot import what the tasks need; the message names the packages and the worker."""


class SlowAllocatorWarning(UserWarning):
    """Workers whose C library hands freed memory back to the system at once, so that every
    training step's fresh arrays fault their pages in again; the message names them and the fix."""


def check_workers(client: Client, packages: Sequence[str] = REQUIRED_PACKAGES, *, timeout: float = 60.0) -> list[str]:
    """Make sure every worker can import ``packages``; return the workers' addresses.

    ``packages`` is a list of module names (``["numpy", "scipy.sparse"]``; a submodule whose
    package is missing is missing too) and ``timeout`` the seconds to wait for a first
    worker, both checked before anything is asked of the cluster. Raises
    ``WorkerEnvironmentError`` naming, for each worker lacking one, the packages missing, the
    worker's address, host and Python, before any task is sent. Warns
    (``SlowAllocatorWarning``) of workers whose allocator returns freed memory at once
    (``allocator.freed_memory_returned``), as Dask's nannies make it by default.
    """
    _check_client("client", client)
    names = _check_packages(packages)
    timeout = check.check_positive_float("timeout", timeout)
    workers = _worker_addresses(client, wait=1, timeout=timeout)
    _refuse_missing(client.run(_probe_environment, names, workers=workers))
    # Import this module on every worker now (0.15-0.25 s each, measured), as the driver has,
    # and start Numba's kernels (0.9 s), rather than inside the first task each worker runs.
    client.run(_warm_up, workers=workers)
    _warn_of_returned_memory(client.run(_allocator_behaviour, workers=workers))
    return workers


def _refuse_missing(found: Mapping[str, tuple[list[str], str, str]]) -> None:
    """Raise ``WorkerEnvironmentError`` naming each worker of ``found`` (``_probe_environment``'s
    answers by address) that lacks a package, with the packages, its host and its Python."""
    problems = [
        f"{', '.join(missing)} on worker {address} (host {host}, Python {python})"
        for address, (missing, python, host) in sorted(found.items())
        if missing
    ]
    if problems:
        raise WorkerEnvironmentError(
            "cannot import " + "; ".join(problems) + f": install the library there ({DASK_EXTRA}) or put it on the workers' path"
        )


def _check_packages(packages: object) -> list[str]:
    """``packages`` as a list of dotted module names, or a ``TypeError``/``ValueError`` naming the item."""
    if isinstance(packages, str):  # a sequence too, of one-letter "packages"
        raise TypeError(f"packages must be a list of module names, not a str: pass [{packages!r}] to check that one")
    if not isinstance(packages, Sequence):
        raise TypeError(f"packages must be a list of module names such as ['numpy', 'functional_nn'], got {type(packages).__name__}")
    for i, name in enumerate(packages):
        if not isinstance(name, str):
            raise TypeError(f"packages[{i}] must be a module name (a str) such as 'numpy', got {type(name).__name__} {name!r}")
        if not name or not all(part.isidentifier() for part in name.split(".")):
            raise ValueError(f"packages[{i}] must be a module name such as 'numpy' or 'scipy.sparse', got {name!r}")
    return list(packages)


def _warm_up() -> None:
    """Unpickled on a worker (by reference), imports this module there; then loads the fused kernels."""
    if fused.AVAILABLE:
        fused.warm_up()


def _allocator_behaviour() -> tuple[bool | None, str | None]:
    """Run on a worker: whether its C library returns freed blocks at once (``None`` unless it
    is glibc, which the warning's fixes are for), and its ``MALLOC_TRIM_THRESHOLD_``."""
    import platform

    returned = allocator.freed_memory_returned() if platform.libc_ver()[0] == "glibc" else None
    return returned, os.environ.get("MALLOC_TRIM_THRESHOLD_")


_WARNED_OF_RETURNED_MEMORY: set[str] = set()
"""Workers already named in a ``SlowAllocatorWarning``: ``sweep`` and ``place_shards`` check
the workers again after a script's own ``check_workers``, and once is enough."""


def _warn_of_returned_memory(found: Mapping[str, tuple[bool | None, str | None]]) -> None:
    """``SlowAllocatorWarning`` if any worker in ``found`` (address: ``_allocator_behaviour()``)
    returns freed memory at once and has not been named in one before."""
    returning = sorted(address for address, (returned, _) in found.items() if returned)
    if not returning or _WARNED_OF_RETURNED_MEMORY.issuperset(returning):
        return
    _WARNED_OF_RETURNED_MEMORY.update(returning)
    settings = sorted({value for returned, value in found.values() if returned and value is not None})
    cause = (
        f"MALLOC_TRIM_THRESHOLD_={', '.join(settings)} in their environment, which Dask's nannies set by default"
        if settings
        else "their C library's settings"
    )
    warnings.warn(
        SlowAllocatorWarning(
            f"{len(returning)} of {len(found)} workers ({', '.join(returning)}) hand freed memory back to the system "
            f"at once ({cause}), so every training step's fresh arrays fault their pages in again (a sweep measured "
            "on such workers took 8.8 s against 6.5 s, medians). Start the workers with 'distributed: nanny: pre-spawn-environ: "
            "MALLOC_TRIM_THRESHOLD_: null' in Dask's configuration, as local_cluster does, or with "
            "'--preload functional_nn.distributed', or run client.run(functional_nn.allocator.keep_freed_memory) on them"
        ),
        stacklevel=3,
    )


_PLACE_AGAIN: Final = "place the shards again, with place_shards on an open client"


def _check_client(argument: str, client: object, *, hint: str = "open one with cluster_client()") -> None:
    """Refuse ``client`` unless it is a ``distributed.Client`` that is not closed: a closed one
    would fail only inside Dask ("IOLoop is closed"), after the arguments had been accepted."""
    distributed = _import_distributed()
    if not isinstance(client, distributed.Client):
        raise TypeError(f"{argument} must be a distributed.Client, e.g. from cluster_client(), got {type(client).__name__}")
    if client.asynchronous:  # its methods would return coroutines, which fail unawaited deep inside
        raise TypeError(
            f"{argument} must be a synchronous distributed.Client, got one made with asynchronous=True (or used inside "
            "its event loop): make one without asynchronous=True, e.g. with cluster_client(), and call this outside async code"
        )
    if client.status in ("closing", "closed"):
        raise ValueError(f"{argument} is closed (status {client.status!r}): {hint}")


def _check_shards(shards: object) -> tuple[Shard, ...]:
    if isinstance(shards, Shard) or not isinstance(shards, Sequence) or not shards:
        raise TypeError(f"shards must be a non-empty sequence of Shard(X, Y), e.g. split_shards(X, Y, 4), got {type(shards).__name__}")
    checked: list[Shard] = []
    for s, shard in enumerate(shards):
        if not isinstance(shard, tuple) or len(shard) != 2:
            raise TypeError(f"shards[{s}] must be a Shard(X, Y), got {type(shard).__name__}")
        X = check.check_float_array(f"shards[{s}].X", shard[0])
        Y = check.check_float_array(f"shards[{s}].Y", shard[1], targets=True)
        if X.shape[1] == 0:
            raise ValueError(f"shards[{s}] is empty: X has shape {X.shape}; every shard needs at least one sample")
        if Y.shape[1] != X.shape[1]:
            raise ValueError(f"shards[{s}].Y must have one column per sample of shards[{s}].X ({X.shape[1]}), got shape {Y.shape}")
        check.check_same_dtype(f"shards[{s}].Y", Y, X.dtype, f"shards[{s}].X")
        if checked:
            first = checked[0]
            check.check_same_dtype(f"shards[{s}].X", X, first.X.dtype, "shards[0].X")
            if (X.shape[0], Y.shape[0]) != (first.X.shape[0], first.Y.shape[0]):
                raise ValueError(
                    f"shards[{s}] has {X.shape[0]} features, {Y.shape[0]} outputs; shards[0] has "
                    f"{first.X.shape[0]}, {first.Y.shape[0]}"
                )
        checked.append(Shard(_realigned(X), _realigned(Y)))  # as a worker holds it (see _realigned): the same bits here
    return tuple(checked)


def place_shards(client: Client, shards: Sequence[Shard], *, retries: int = 3) -> DaskShards:
    """Send each shard, once, to one of the cluster's workers, round robin in address order.

    Checks the shards (none empty, all alike: features, outputs and one dtype), the client
    (a ``distributed.Client``, not closed) and the workers (``check_workers``) first.

    Parameters
    ----------
    client : distributed.Client
    shards : sequence of Shard
        E.g. ``split_shards(X, Y, n)``. The driver keeps them, to send a shard again if its
        worker is lost.
    retries : int >= 0, default 3
        How many times a round is run again after losing workers before giving up.
    """
    checked = _check_shards(shards)
    retries = check.check_positive_int("retries", retries, minimum=0)
    _check_client("client", client)
    workers = check_workers(client)
    holders = [workers[s % len(workers)] for s in range(len(checked))]
    futures = [_scatter(client, shard, [holder]) for shard, holder in zip(checked, holders)]
    return DaskShards(client, checked, futures, holders, retries)


# --------------------------------------------------------------------------------------------
# the driver: a lazy fold over rounds


class _Run(NamedTuple):
    task: _Task
    dev: tuple[FloatArray, FloatArray, IntArray | None] | None
    dev_every: int
    m: int
    checkpointing: tuple[Path, dict[str, object], checkpoints.DirectoryLock] | None  # directory, description, its hold on it
    weights: Weights | None = None  # sample_weight as given (checked), for the run's description
    dev_weights: Weights | None = None  # dev_sample_weight (checked)
    shard_weights: tuple[float, ...] | None = None  # each shard's total weight S_s: local SGD's averaging weights


def train_rounds(
    shards: Sequence[Shard] | DaskShards,
    params: Params,
    *,
    activations: Sequence[Activation | ActivationFunction],
    loss: Loss | LossFunction,
    rounds: int,
    learning_rate: LearningRate | None = None,
    optimizer: Optimizer | None = None,
    batch_size: int | None = None,
    local_steps: int | None = None,
    seed: int = 0,
    dev: tuple[FloatArray, FloatArray] | None = None,
    dev_every: int = 1,
    lambd: float = 0.0,
    keep_probs: float | Sequence[float] | None = None,
    clip_norm: float | None = None,
    max_norm: float | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    augmentation: Augmentation | None = None,
    sample_weight: npt.ArrayLike | None = None,
    dev_sample_weight: npt.ArrayLike | None = None,
) -> Generator[RoundState, None, None]:
    r"""The states of data-parallel training after rounds 1, 2, ..., ``rounds``, computed as asked.

    Everything is checked when this is called, before any task is sent.

    Parameters
    ----------
    shards : sequence of Shard, or DaskShards
        Plain shards (``split_shards(X, Y, S)``) run every task in this process;
        ``place_shards(client, shards)`` runs them on a Dask cluster. The result depends on
        the shards and the settings, not on where they run, bit for bit as long as every task
        has the same number of BLAS threads: one on ``local_cluster``'s worker processes,
        whatever their number, so that this process gives their bits inside
        ``threadpoolctl.threadpool_limits(1, user_api="blas")`` and agrees to rounding
        outside it (see the module's notes).
    params : dict of str to ndarray
        The starting parameters; not modified.
    activations, loss, learning_rate, optimizer, lambd, keep_probs, clip_norm, max_norm
        As for ``train``.
    rounds : int >= 0
        Rounds counted from the start of the run (a resumed run continues up to it).
    batch_size : int >= 1, optional
        Columns each shard trains on per step (``None``: its whole shard). Each shard cuts
        its own passes over its columns, shuffled with its own generator.
    local_steps : int >= 1, optional
        ``None``: synchronous rounds (one update from the summed gradients). ``K``: local
        SGD, ``K`` steps per shard per round, then the shard-weighted average.
    seed : int, default 0
        The root of every draw (see the module's notes).
    dev : (X_dev, Y_dev), optional
        Evaluated by the driver every ``dev_every`` rounds and after the last, with the
        round's parameters or, with an ``ema`` optimizer, their average (as ``train``).
    dev_every : int >= 1, default 1
        Rounds between two evaluations of ``dev`` (and the last is always evaluated); the
        other rounds' records hold ``None`` dev figures.
    checkpoint_dir, resume
        As for ``train``: a checkpoint per round, and a resumed run ends bitwise equal to
        an uninterrupted one. A ``checkpoint_dir`` that cannot hold checkpoints is refused
        when this is called, as ``train`` refuses it. The checkpoint must come from the
        same run, ``dev`` and ``dev_every`` included (they make the records' dev figures),
        else ``CheckpointError`` lists what differs.
    augmentation : function of (X_batch, rng), optional
        As for ``train``: applied to every training batch of every shard (never to ``dev``),
        with the shard's generator for that step (stream ``AUGMENTATION_STREAM``). It travels
        to the workers with each round's settings, so it must pickle (a module-level
        function, a ``functools.partial`` of one, or ``augmentation.compose`` of such): on a
        cluster, each piece that travels (``activations``, ``loss``, the optimizer and
        ``augmentation``) is pickled as Dask pickles it (cloudpickle) when this is called,
        and one that cannot be is refused by name.
    sample_weight : array-like of shape (m,), optional
        How much each sample counts, ``m`` the shards' columns in shard order (the ``X`` that
        ``split_shards`` cut): finite weights >= 0, not all 0, as for ``train``. A sample of
        weight 0 is left out of its shard before the first round (a shard whose samples all
        weigh 0 is refused); each shard's weights are placed with it, on the worker holding
        it. Every batch :math:`B` costs
        :math:`\frac{1}{S_B}\sum_{j \in B} w_j\ell_j + \frac{\lambda}{2 S_B}\sum_l\lVert W_l\rVert^2`,
        :math:`S_B = \sum_{j \in B} w_j`; a synchronous round's gradient is the weighted mean over
        the union of the shards' batches (their sums divided by :math:`\sum_s S_{B_s}`), and
        local SGD averages the shards by their total weights :math:`S_s` (see the module's
        notes). The records' cost and accuracy are weighted means, and their ``weight`` the
        round's total weight :math:`\sum_B S_B` (``None`` without ``sample_weight``). Weights
        all 1 give the unweighted rounds' parameters bit for bit (and their figures to rounding).
    dev_sample_weight : array-like of shape (m_dev,), optional
        The dev set's weights, likewise: its cost and accuracy become weighted means. Needs ``dev``.

    Yields
    ------
    RoundState
        ``round``, ``params``, ``optimizer_state`` and ``history`` (one ``RoundRecord`` per
        round, with its wall time and the time spent waiting on the cluster).

    Raises
    ------
    TrainingDivergedError
        When a shard's cost or gradient sum holds NaN or infinite values, or its parameters
        after local SGD steps a value beyond ``training.weight_bound`` (NaN and inf
        included), naming the round and the first such shard in shard order; or when the
        update made the parameters so, as ``train`` checks them after each epoch.
    Exception
        Raised by a shard's task (a user's augmentation, say): the same exception, of the
        same type, with a note ``"in round r on shard s (train_rounds)"``. On a cluster it
        is the first shard's in shard order, as in this process, and it is never taken for
        a lost worker: it is raised at once, not retried, and the round's other tasks are
        cancelled.
    ValueError
        When a round is read after the client of ``place_shards`` was closed (the rounds
        are lazy: the client is checked for each).
    """
    runner: _InProcessShards | DaskShards
    if isinstance(shards, DaskShards):
        _check_client("shards.client", shards.client, hint=_PLACE_AGAIN)
        runner = shards
        held = shards.shards
    else:
        held = _check_shards(shards)
        runner = _InProcessShards(held)
    sizes, names, loss_record = check_trainable_network(params, activations, loss)
    L = len(sizes) - 1
    dtype = params["W1"].dtype
    for s, shard in enumerate(held):
        if shard.X.shape[0] != sizes[0] or shard.Y.shape[0] != sizes[-1]:
            raise ValueError(
                f"shards[{s}] has X {shard.X.shape} and Y {shard.Y.shape} but the params expect "
                f"({sizes[0]}, m) and ({sizes[-1]}, m)"
            )
        check.check_same_dtype(f"shards[{s}].X", shard.X, dtype, "params['W1']")
        check.check_same_dtype(f"shards[{s}].Y", shard.Y, dtype, "params['W1']")
        check_targets(f"shards[{s}].Y", shard.Y, loss_record)
    optimizer_argument = "learning_rate" if optimizer is None else "optimizer"  # the one to name if it cannot travel
    optimizer = resolve_optimizer(learning_rate, optimizer)
    if batch_size is not None:
        batch_size = check.check_positive_int("batch_size", batch_size)
    if local_steps is not None:
        local_steps = check.check_positive_int("local_steps", local_steps)
    seed = check.check_positive_int("seed", seed, minimum=0)
    rounds = check.check_positive_int("rounds", rounds, minimum=0)
    dev_every = check.check_positive_int("dev_every", dev_every)
    lambd = check.check_positive_float("lambd", lambd, allow_zero=True)
    keeps = check_keep_probs(keep_probs, L, dtype)
    if clip_norm is not None:
        clip_norm = check.check_positive_float("clip_norm", clip_norm)
    if max_norm is not None:
        max_norm = check_max_norm(max_norm, dtype)
    checked_dev = check_dev_set(dev, sizes, dtype, loss_record)
    weights, dev_weights = _check_weights(sample_weight, dev_sample_weight, held, checked_dev, loss_record)
    if augmentation is not None and not callable(augmentation):
        raise TypeError(f"augmentation must be a function of (X_batch, rng), got {type(augmentation).__name__}")
    task = _Task(names, loss_record, seed, batch_size, keeps, lambd, clip_norm, max_norm, optimizer, local_steps, augmentation)
    if isinstance(runner, DaskShards):
        pieces = _task_pieces(task, optimizer_argument)
        blobs = _pickled(pieces, "each round's tasks")
        _check_unpickled(runner.client, _worker_addresses(runner.client, wait=1, timeout=60.0), pieces, blobs)
    start_params = dict(params)
    state = RoundState(0, start_params, checked_init(optimizer, start_params), ())
    m = sum(int(shard.X.shape[1]) for shard in held)
    run = _Run(task, checked_dev, dev_every, m, None, weights, dev_weights)
    kept: tuple[Shard, ...] = held
    shard_weights: tuple[Weights, ...] = ()
    if weights is not None:
        kept, shard_weights = _weighted_shards(held, weights)
        m = sum(int(shard.X.shape[1]) for shard in kept)
        run = run._replace(m=m, shard_weights=tuple(float(np.sum(w)) for w in shard_weights))
    _check_bool("resume", resume)
    if checkpoint_dir is not None:
        run, state = _resume_or_start(run, state, check.check_path("checkpoint_dir", checkpoint_dir), resume, sizes, held)
    elif resume:
        raise ValueError("resume=True needs checkpoint_dir, the directory of the checkpoints to resume from")
    with _released_on_error(run.checkpointing):
        check_resumed_within("rounds", rounds, state.round, "round")
        if weights is not None:  # the last thing done: placing the weights sends data to the workers
            runner = runner._weighted(kept, shard_weights) if isinstance(runner, DaskShards) else _InProcessShards(kept, shard_weights)
    return _fold(runner, run, state, rounds)


def _check_weights(
    sample_weight: object,
    dev_sample_weight: object,
    shards: Sequence[Shard],
    dev: tuple[FloatArray, FloatArray, IntArray | None] | None,
    loss: LossFunction,
) -> tuple[Weights | None, Weights | None]:
    """``train_rounds``' ``sample_weight`` and ``dev_sample_weight`` checked as ``train`` checks
    them (``check_sample_weight``), or ``None`` for those not given."""
    weights = None
    if sample_weight is not None:
        check_weighable("sample_weight", loss)
        m = sum(int(shard.X.shape[1]) for shard in shards)
        weights = check_sample_weight("sample_weight", sample_weight, m, f"the shards' {m} columns, in shard order")
    return weights, check_dev_weights(dev_sample_weight, dev, loss)


def _weighted_shards(shards: Sequence[Shard], weights: Weights) -> tuple[tuple[Shard, ...], tuple[Weights, ...]]:
    """Each shard with its columns of ``weights`` (the shards' columns in order), its samples of
    weight 0 left out as ``train`` leaves them out (a shard holding none is the same object);
    ``ValueError`` naming ``sample_weight`` for a shard whose samples all weigh 0."""
    kept: list[Shard] = []
    parts: list[Weights] = []
    start = 0
    for s, shard in enumerate(shards):
        m_s = int(shard.X.shape[1])
        w = weights[start : start + m_s]
        if not w.any():
            raise ValueError(
                f"sample_weight is 0 for every sample of shards[{s}] (columns {start} to {start + m_s - 1}): a shard "
                "needs a sample that counts; leave that shard out, or cut the shards elsewhere"
            )
        if not w.all():  # as train leaves them out: column-major, as X.T's rows gather fastest
            nonzero = np.flatnonzero(w)
            shard, w = Shard(_realigned(shard.X.T[nonzero].T), _realigned(shard.Y.T[nonzero].T)), w[nonzero]
        kept.append(shard)
        parts.append(np.ascontiguousarray(w))
        start += m_s
    return tuple(kept), tuple(parts)


def _task_pieces(task: _Task, optimizer_argument: str) -> list[tuple[str, object]]:
    """The pieces of a round's task that are the caller's to give, each with the argument naming it."""
    pieces: list[tuple[str, object]] = [(f"activations[{i}] {a.name!r}", a) for i, a in enumerate(task.activations)]
    return pieces + [(f"loss {task.loss.name!r}", task.loss), (optimizer_argument, task.optimizer), ("augmentation", task.augmentation)]


def _pickled(pieces: Sequence[tuple[str, object]], travels_with: str) -> list[bytes]:
    """Each piece of a run (``(argument, value)``) pickled as Dask pickles a task, refusing one
    that cannot be, naming its argument.

    Dask pickles each task with ``pickle``, else cloudpickle (which also takes lambdas and
    local functions): a piece cloudpickle cannot pickle (a ``functools.partial`` holding a
    lock, an open file) would fail inside Dask at the first task, in words naming none of the
    arguments.
    """
    return [_check_pickles(argument, value, travels_with) for argument, value in pieces]


def _check_unpickled(client: Client, workers: Sequence[str], pieces: Sequence[tuple[str, object]], blobs: Sequence[bytes]) -> None:
    """Refuse, naming its argument and the worker, a piece (``blobs``, from ``_pickled``) that
    one of ``workers`` cannot unpickle.

    A function of a module (an activation of one's own in ``my_pieces.py``) travels by
    reference, as its module's name: a worker that cannot import that module fails to read the
    task's message and dies, and the run fails later in Dask's words (a cancelled future, a
    lost worker, no workers left). So each piece is unpickled on every worker first
    (``WorkerEnvironmentError``), after the library: a worker without it (one that joined after
    ``check_workers``) is named as ``check_workers`` names it.
    """
    found: dict[str, tuple[tuple[list[str], str, str], list[str | None]]] = client.run(
        _unpickling_errors, blobs, REQUIRED_PACKAGES, workers=list(workers)
    )
    _refuse_missing({address: environment for address, (environment, _) in found.items()})  # one that joined after check_workers
    for address, (_, errors) in sorted(found.items()):
        for (argument, _), error in zip(pieces, errors):
            if error is not None:
                raise WorkerEnvironmentError(
                    f"{argument} cannot be unpickled on worker {address}: {error}. A function of a module travels to "
                    "the workers by reference (only a script's own, in __main__, by value), so every worker must import "
                    "its module: install it there or put it on the workers' path (client.upload_file sends a .py file), "
                    "or send the module by value with cloudpickle.register_pickle_by_value(module) before the run"
                )


def _unpickling_errors(blobs: Sequence[bytes], packages: Sequence[str]) -> tuple[tuple[list[str], str, str], list[str | None]]:
    """Run on a worker: ``_probe_environment(packages)``, then, if none is missing, for each of
    ``blobs`` (pickled pieces) ``None`` if it unpickles here, else the error."""
    import pickle

    environment = _probe_environment(packages)
    if environment[0]:  # a worker without the library: that is the error, not each piece's
        return environment, []
    errors: list[str | None] = []
    for blob in blobs:
        try:
            pickle.loads(blob)
        except Exception as error:  # noqa: BLE001 - whatever unpickling raises (ModuleNotFoundError, AttributeError, ...)
            errors.append(f"{type(error).__name__}: {error}")
        else:
            errors.append(None)
    return environment, errors


# Pickled by value, as _probe_environment: a worker that joined after check_workers without
# functional_nn says so rather than failing to unpickle this function, in Dask's words.
_unpickling_errors.__module__ = "__main__"


def _check_pickles(argument: str, value: object, travels_with: str) -> bytes:
    """``value`` pickled by cloudpickle (Dask's serializer), or a ``TypeError`` naming ``argument`` if it cannot be."""
    import cloudpickle  # type: ignore[import-untyped]  # untyped; a dependency of Dask's

    try:
        blob: bytes = cloudpickle.dumps(value)
    except Exception as error:  # noqa: BLE001 - whatever pickling raises (TypeError, PicklingError, ...)
        raise TypeError(
            f"{argument} must pickle to travel to the workers with {travels_with}, but cloudpickle (Dask's "
            f"serializer) cannot pickle {value!r}: {error}; use a module-level function, a functools.partial "
            "of one, or a record of such"
        ) from error
    return blob


def _fold(runner: _InProcessShards | DaskShards, run: _Run, state: RoundState, rounds: int) -> Generator[RoundState, None, None]:
    try:
        yield from _rounds(runner, run, state, rounds)
    finally:  # ended, failed or closed: the directory is free for the next run (a resume)
        if isinstance(runner, DaskShards):
            runner._previous = []  # the last round's tasks (see DaskShards.map): the workers keep the shards only
            if runner.weights is not None:  # the run's own placement (DaskShards._weighted): released with it
                runner.weight_futures, runner.futures = [], []
        if run.checkpointing is not None:
            run.checkpointing[2].release()


def _rounds(runner: _InProcessShards | DaskShards, run: _Run, state: RoundState, rounds: int) -> Iterator[RoundState]:
    task = run.task
    sizes: Sequence[int] | Sequence[float] = [int(shard.X.shape[1]) for shard in (runner.shards)]
    if run.shard_weights is not None:
        sizes = run.shard_weights  # local SGD averages the shards by their total weights
    seen = sum(record.samples for record in state.history)
    while state.round < rounds:
        started = time.perf_counter()
        number = state.round + 1
        # a diverging run overflows on its way to inf/NaN: the checks below name the round and shard;
        # and values rounding to subnormals or 0 are right, also for a caller under errstate(all="raise")
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            if task.local_steps is None:
                # the workers need only the parameters: the optimizer's slots stay with the driver
                inputs = RoundInput(state.params, OptimizerState(state.optimizer_state.step, {}), state.round, task)
                gradients, waiting = runner.map(gradient_sum, inputs)
                _check_shard_results(
                    number, [(g.cost, g.grads, "the gradient sum", False) for g in gradients], runner.shards, inputs, runner.weights
                )
                params, opt_state = _synchronous_step(gradients, state.params, state.optimizer_state, task)
                samples = sum(g.samples for g in gradients)
                total = _round_weight(gradients)  # samples, or their weight
                cost = sum(g.cost for g in gradients) / total + l2_penalty(state.params, task.lambd, total)
                corrects = [g.correct for g in gradients]
            else:
                inputs = RoundInput(state.params, state.optimizer_state, state.round, task)
                updates, waiting = runner.map(local_steps, inputs)
                _check_shard_results(
                    number,
                    [(u.cost, u.params, "after its local steps, the parameter", True) for u in updates],
                    runner.shards,
                    inputs,
                    runner.weights,
                )
                params, opt_state = _average_step(updates, sizes)
                samples = sum(u.samples for u in updates)
                total = _round_weight(updates)
                cost = sum(u.cost for u in updates) / total
                corrects = [u.correct for u in updates]
        diverged = diverged_parameter(params)
        if diverged is not None:
            key, what = diverged
            raise TrainingDivergedError(
                f"training diverged at round {number}: the update made {key} hold {what}; {diverged_advice(params[key])}"
            )
        seen += samples
        accuracy = None if corrects[0] is None else sum(c or 0 for c in corrects) / total
        dev_cost = dev_accuracy = None
        if run.dev is not None and (number % run.dev_every == 0 or number == rounds):
            evaluated = averaged_params(opt_state, params)  # ema's average, if the optimizer keeps one, as train scores it
            with np.errstate(under="ignore"):
                dev_cost, dev_accuracy = dev_figures(run.dev, run.dev_weights, evaluated, task.activations, task.loss)
        weight = None if run.weights is None else float(total)  # what cost and accuracy were divided by
        record = RoundRecord(
            number, cost, accuracy, samples, seen / run.m, time.perf_counter() - started, waiting, dev_cost, dev_accuracy, weight
        )
        state = RoundState(number, params, opt_state, state.history + (record,))
        if run.checkpointing is not None:
            directory, description, _ = run.checkpointing
            as_epoch = TrainState(number, params, opt_state, ())
            history = [list(r) for r in state.history]
            checkpoints.save_checkpoint(directory, as_epoch, rng=None, run={**description, _HISTORY_KEY: history})
        yield state


def _check_shard_results(
    number: int,
    results: Sequence[tuple[float, Mapping[str, FloatArray], str, bool]],
    shards: Sequence[Shard],
    inputs: RoundInput,
    weights: Sequence[Weights] | None = None,
) -> None:
    """Raise ``TrainingDivergedError`` naming round ``number`` and the first shard, in shard
    order, whose cost or arrays (``results[s]``: cost, arrays, what they are, and whether they
    are parameters) are not finite, or, for parameters, beyond ``training.weight_bound``.
    A NaN or inf is first looked for in a piece of one's own, on the round's ``shards`` and
    ``inputs``, and named as ``train`` names it (``_shard_cause``, run only then)."""
    for s, (cost, arrays, what, parameters) in enumerate(results):
        if not math.isfinite(cost):
            cause = _shard_cause(shards[s], s, inputs, None if weights is None else weights[s])
            raise TrainingDivergedError(
                f"training diverged at round {number} on shard {s}: its cost is {cost}; "
                f"{cause or 'try a smaller learning rate (or check the data for extreme values)'}"
            )
        diverged = diverged_parameter(arrays) if parameters else next(
            ((key, "NaN or infinite values") for key, value in arrays.items() if not np.isfinite(value).all()), None
        )
        if diverged is not None:
            key, held = diverged
            cause = None
            if not np.isfinite(arrays[key]).all():
                cause = _shard_cause(shards[s], s, inputs, None if weights is None else weights[s])
            raise TrainingDivergedError(
                f"training diverged at round {number} on shard {s}: {what} {key} holds {held}; "
                f"{cause or diverged_advice(arrays[key])}"
            )


def epoch_states(
    states: Iterable[RoundState],
    *,
    activations: Sequence[Activation | ActivationFunction],
    loss: Loss | LossFunction,
    dev: tuple[FloatArray, FloatArray] | None = None,
    dev_sample_weight: npt.ArrayLike | None = None,
) -> Iterator[tuple[TrainState, RoundState]]:
    r"""Rounds read as epochs: a ``TrainState`` after the first round of each new whole epoch.

    Epoch ``e`` ends with the first round whose ``RoundRecord.epochs`` reaches ``e``. A round
    that ends several epochs at once (local SGD whose ``K`` steps a round pass over a shard
    more than once) gives one ``TrainState``, numbered by the last of them: its ``epoch`` is
    always the whole epochs the rounds have seen (``floor(RoundRecord.epochs)``), so the
    numbers may skip. Rounds that come after others (``train_rounds(..., resume=True)``,
    whose states' ``history`` holds the rounds run before) continue those epochs: an epoch
    already ended before the first state read is not given again, and the rounds run since
    it count towards the next. Rounds left out between two states read (``states[::10]``)
    count too, from the later state's ``history``; a round read twice, or after a later one,
    is refused (``ValueError``). Each ``TrainState`` comes with the ``RoundState`` it was read
    from, so callers keep the rounds' wall and waiting times.

    Its ``EpochRecord`` has the mean cost and accuracy over the samples of the rounds
    :math:`R` since the last ``TrainState``, as ``train``'s epoch has over its batches: each
    round's figures weighed by its samples :math:`n_r` (``RoundRecord.samples``) or, when the
    rounds were trained with ``sample_weight``, by their total weight :math:`W_r`
    (``RoundRecord.weight``, :math:`\sum_{B} S_B` over the round's batches):

    .. math::

        J = \frac{\sum_{r \in R} n_r J_r}{\sum_{r \in R} n_r}
        \quad\text{or}\quad
        J = \frac{\sum_{r \in R} W_r J_r}{\sum_{r \in R} W_r},

    and the accuracy alike: with weights, the total weight of the samples classified right over
    the epoch's total weight, as ``train(..., sample_weight=w)``'s ``EpochRecord`` (one
    synchronous round of one shard's whole batch is ``train``'s full-batch epoch). An epoch
    holding a round of an older record without ``weight`` (a weighted run resumed from a
    checkpoint of an older version) is weighed by samples. Its dev figures are those of the
    round's parameters, or of their average with an ``ema`` optimizer, as ``train`` takes them
    (``dev``: ``(X_dev, Y_dev)``, evaluated here), weighted means when ``dev_sample_weight``
    (``(m_dev,)``, as for ``train``) is given.

    ``dev`` is checked as ``train`` checks it: the pair itself (a tuple of two float arrays,
    finite, one column per sample in both, targets the loss is defined for) when this is
    called, before any round is read; against the network (its input and output sizes and
    dtype, which only the rounds' parameters tell) when the first round is read, before any
    dev figure is computed. So are ``states`` (an iterable of ``RoundState``, each item
    checked when this is called if it is a sequence, else as it is read), ``activations``
    and ``loss`` (their pairing now, the number of activations against the rounds' layers
    when the first round is read). ``dev_sample_weight`` is checked as ``train_rounds`` checks
    it, when this is called.
    """
    given: object = states  # typed, but checked: users pass what they like
    if isinstance(given, RoundState) or not isinstance(given, Iterable):  # a RoundState is a tuple: an iterable too
        raise TypeError(f"states must be an iterable of RoundState, such as train_rounds(...) returns, got {type(given).__name__}")
    if isinstance(given, Sequence):  # already there: checked now rather than once read
        previous = 0
        for i, state in enumerate(given):
            _check_round_state(i, state)
            previous = _check_round_order(i, state, previous)
    acts: object = activations
    if isinstance(acts, (str, ActivationFunction)) or not isinstance(acts, Sequence):  # a record is a tuple too
        raise TypeError(
            "activations must be a sequence of names or ActivationFunction records, one per layer, such as "
            f"('relu', 'softmax'), got {acts!r}"
        )
    if not acts:
        raise ValueError("activations is empty: name one activation per layer, such as ('relu', 'softmax')")
    names = check_activations(activations, len(activations))
    loss_record = resolve_loss("loss", loss)
    check_loss_pairing(loss_record, names[-1])
    own_dev = check_dev_set(dev, None, None, loss_record)  # what needs no network, now: states may be lazy rounds still to run
    dev_weights = check_dev_weights(dev_sample_weight, own_dev, loss_record)
    return _epoch_states(states, activations, names, loss_record, dev, dev_weights)


def _check_round_state(i: int, state: object) -> None:
    """Refuse item ``i`` of ``epoch_states``' ``states`` unless it is a ``RoundState`` with a round's record."""
    if not isinstance(state, RoundState):
        raise TypeError(f"states[{i}] must be a RoundState, such as train_rounds(...) yields, got {type(state).__name__}")
    if not state.history:
        raise ValueError(f"states[{i}] has no RoundRecord in its history: epoch_states reads the rounds train_rounds yields")


def _check_round_order(i: int, state: RoundState, previous: int) -> int:
    """The round of item ``i`` of ``epoch_states``' ``states``, refused unless it comes after
    ``previous``, the round of the item before it (0 for the first)."""
    number = state.history[-1].round
    if i and number <= previous:
        raise ValueError(
            f"states[{i}] is round {number}, but states[{i - 1}] was round {previous}: epoch_states reads the "
            "rounds of one run in order, each once, as train_rounds yields them"
        )
    return number


def _whole_epochs(record: RoundRecord) -> int:
    """The whole epochs seen by the end of ``record``'s round: a local SGD round may finish several."""
    return math.floor(record.epochs + 1e-9)


def _epoch_states(
    states: Iterable[RoundState],
    activations: Sequence[Activation | ActivationFunction],
    names: tuple[ActivationFunction, ...],
    loss: LossFunction,
    dev: tuple[FloatArray, FloatArray] | None,
    dev_weights: Weights | None,
) -> Iterator[tuple[TrainState, RoundState]]:
    epoch = 0
    pending: list[RoundRecord] = []
    records: tuple[EpochRecord, ...] = ()
    checked_dev: tuple[FloatArray, FloatArray, IntArray | None] | None = None
    previous = 0  # the round of the state read last
    for i, state in enumerate(states):
        _check_round_state(i, state)
        number = _check_round_order(i, state, previous)
        if i == 0:  # the first round tells the network
            sizes = check.check_params(state.params, "the rounds' params", finite=False)
            check_activations(activations, len(sizes) - 1)  # as given, so the error shows them so
            if dev is not None:
                checked_dev = check_dev_set(dev, sizes, state.params["W1"].dtype, loss)
            # Rounds run before the first one read (a resumed run's, or a fold already advanced):
            # the epochs they ended are over, and the rounds since the last of them belong to the next.
            earlier = state.history[:-1]
            epoch = _whole_epochs(earlier[-1]) if earlier else 0
            pending = [r for r in earlier if _whole_epochs(r) == epoch][1 if epoch else 0 :]
        # this round, and the rounds left out since the state read last (states[::10]): all in its history
        pending.extend(state.history[-(number - previous) :] if i else state.history[-1:])
        previous = number
        record = state.history[-1]
        reached = _whole_epochs(record)
        if reached <= epoch:
            continue
        epoch = reached
        summary = EpochRecord(epoch, *_epoch_figures(pending))
        if checked_dev is not None:
            evaluated = averaged_params(state.optimizer_state, state.params)
            dev_cost, dev_accuracy = dev_figures(checked_dev, dev_weights, evaluated, names, loss)
            summary = summary._replace(dev_cost=dev_cost, dev_accuracy=dev_accuracy)
        records += (summary,)
        pending = []
        yield TrainState(epoch, state.params, state.optimizer_state, records), state


def _epoch_figures(rounds: Sequence[RoundRecord]) -> tuple[float, float | None]:
    """The cost and accuracy of an epoch made of ``rounds`` (the last one ends it): their means
    weighed by the rounds' total weights when every record has one, else by their samples
    (see ``epoch_states``). The weighted means are ``weighted_mean``'s, scaled by the largest
    weight only where the products would overflow."""
    last = rounds[-1]
    if any(r.weight is None for r in rounds):
        samples = sum(r.samples for r in rounds)
        cost = sum(r.cost * r.samples for r in rounds) / samples
        accuracy = None if last.accuracy is None else sum((r.accuracy or 0.0) * r.samples for r in rounds) / samples
        return cost, accuracy
    weights: Weights = np.array([r.weight for r in rounds], dtype=np.float64)
    cost = weighted_mean(weights, np.array([r.cost for r in rounds]))
    accuracy = None if last.accuracy is None else weighted_mean(weights, np.array([r.accuracy or 0.0 for r in rounds]))
    return cost, accuracy


_HISTORY_KEY: Final = "round_history"  # kept in the checkpoint's run description, not compared on resume


def _describe_run(run: _Run, sizes: tuple[int, ...], shards: Sequence[Shard]) -> dict[str, object]:
    hasher = hashlib.blake2b(digest_size=16)
    for shard in shards:
        for array in shard:
            hasher.update(repr((array.shape, array.dtype.str)).encode())
            checkpoints.update_in_blocks(hasher, array)  # a shard of a C-ordered X is not contiguous
    t = run.task
    description: dict[str, object] = {
        "kind": "distributed rounds",
        "layer_sizes": list(sizes),
        "activations": [a.name for a in t.activations],
        "loss": t.loss.name,
        "optimizer": t.optimizer.name,
        "optimizer_hyperparameters": checkpoints.described_hyperparameters(t.optimizer.name, t.optimizer.hyperparameters),
        "seed": t.seed,
        "batch_size": t.batch_size,
        "local_steps": t.local_steps,
        "lambd": t.lambd,
        "keep_probs": None if t.keep_probs is None else list(t.keep_probs),
        "clip_norm": t.clip_norm,
        "max_norm": t.max_norm,
        "augmentation": None if t.augmentation is None else describe_augmentation(t.augmentation),
        "shard_sizes": [int(shard.X.shape[1]) for shard in shards],
        "data": hasher.hexdigest(),
    }
    if run.dev is not None:  # only then, as the records' dev figures: a run without one resumes older checkpoints
        description["dev_data"] = checkpoints.data_digest(run.dev[0], run.dev[1])
        description["dev_every"] = run.dev_every
    if run.weights is not None:  # likewise, as training._describe_run: unweighted runs resume older checkpoints
        description["sample_weight"] = checkpoints.data_digest(run.weights)
    if run.dev_weights is not None:
        description["dev_sample_weight"] = checkpoints.data_digest(run.dev_weights)
    return description


def _resume_or_start(
    run: _Run, start: RoundState, directory: Path, resume: bool, sizes: tuple[int, ...], shards: Sequence[Shard]
) -> tuple[_Run, RoundState]:
    check_one_record_per_name("activations", run.task.activations, "a checkpoint")
    _check_checkpoint_dir(directory)  # as train does: the first checkpoint comes after a round's tasks
    description = _describe_run(run, sizes, shards)
    lock = checkpoints.DirectoryLock.acquire(directory)  # before looking: another run may be writing there
    run = run._replace(checkpointing=(directory, description, lock))
    with _released_on_error(run.checkpointing):
        return _resumed(run, start, directory, resume, description)


def _resumed(
    run: _Run, start: RoundState, directory: Path, resume: bool, description: dict[str, object]
) -> tuple[_Run, RoundState]:
    found = checkpoints.checkpoint_to_resume(directory, resume)
    if found is None:
        return run, start
    latest, saved = found
    recorded = dict(saved.run)
    history = recorded.pop(_HISTORY_KEY, None)
    if "dev_data" in description and "dev_data" not in recorded and _has_dev_figures(history):
        # not another run's dev set: versions before 2289c5a scored one but recorded none, so it cannot be checked
        raise checkpoints.CheckpointError(
            f"{latest} holds dev figures but no record of their dev set (older versions of functional_nn kept "
            "none), so dev cannot be checked against it: resume without dev (the rounds from here on then have "
            "no dev figures), or start afresh in an empty checkpoint_dir"
        )
    differences = checkpoints.mismatches(recorded, description)
    if differences or not isinstance(history, list):
        raise checkpoints.CheckpointError(f"{latest} belongs to another run: " + ("; ".join(differences) or "no round history"))
    remove_stale_temporaries(directory, "checkpoint-*.npz")  # left by a run killed mid-write, as train removes them
    state = saved.state
    records = tuple(RoundRecord(*record) for record in history)
    return run, RoundState(state.epoch, state.params, state.optimizer_state, records)


def _has_dev_figures(history: object) -> bool:
    """Whether a checkpoint's round history (``RoundRecord`` fields as JSON lists) holds a dev cost."""
    dev_cost = RoundRecord._fields.index("dev_cost")
    return isinstance(history, list) and any(
        isinstance(record, list) and len(record) > dev_cost and record[dev_cost] is not None for record in history
    )


# --------------------------------------------------------------------------------------------
# sweeps: independent runs of train


class RunSettings(NamedTuple):
    """One training run of a sweep: ``run_settings`` turns it into an ordinary ``train`` call.

    The parameters are ``initialize_parameters(layer_sizes, rng, scheme=init,
    dtype=X.dtype)`` with ``rng = np.random.default_rng(seed)``, and the same ``rng`` then
    draws the run's batches and dropout masks.
    """

    layer_sizes: tuple[int, ...]
    activations: tuple[Activation | ActivationFunction, ...]
    loss: Loss | LossFunction
    optimizer: Optimizer
    epochs: int
    seed: int = 0
    batch_size: int | None = None
    keep_probs: float | tuple[float, ...] | None = None
    lambd: float = 0.0
    max_norm: float | None = None
    clip_norm: float | None = None
    init: InitScheme = "he"


class SweepData(NamedTuple):
    """The data every run of a sweep trains on: ``X`` ``(n_0, m)``, ``Y`` ``(n_L, m)`` and an
    optional dev pair, with optional sample weights ``(m,)`` and dev weights ``(m_dev,)``,
    which every run passes to ``train`` as its ``sample_weight`` and ``dev_sample_weight``."""

    X: FloatArray
    Y: FloatArray
    dev: tuple[FloatArray, FloatArray] | None = None
    sample_weight: FloatArray | None = None
    dev_sample_weight: FloatArray | None = None

    def __reduce__(self) -> tuple[Callable[..., SweepData], tuple[object, ...]]:
        return _unpickled_sweep_data, tuple(self)  # rebuilt with aligned arrays: see _realigned


def _unpickled_sweep_data(
    X: FloatArray,
    Y: FloatArray,
    dev: tuple[FloatArray, FloatArray] | None,
    sample_weight: FloatArray | None = None,
    dev_sample_weight: FloatArray | None = None,
) -> SweepData:
    return SweepData(_realigned(X), _realigned(Y), _realigned(dev), _realigned(sample_weight), _realigned(dev_sample_weight))


def run_settings(settings: RunSettings, data: SweepData) -> TrainResult:
    """Train one ``RunSettings`` on ``data`` in this process: a sweep's task."""
    return _settings_fold(settings, data, train)


_Fold = TypeVar("_Fold")


def _settings_fold(settings: RunSettings, data: SweepData, fold: Callable[..., _Fold]) -> _Fold:
    """``fold`` (``train``, or ``train_epochs`` to check the arguments alone) called on
    ``data`` as ``settings`` describe the run, from parameters drawn with its seed."""
    _check_settings_and_data(settings, data)
    rng = np.random.default_rng(check.check_positive_int("seed", settings.seed, minimum=0))
    init = check_scheme("init", settings.init)  # checked here, or initialize_parameters names it scheme
    params = initialize_parameters(settings.layer_sizes, rng, scheme=init, dtype=data.X.dtype.type)
    _check_layers(settings, data)
    return fold(
        data.X, data.Y, params, activations=settings.activations, loss=settings.loss, epochs=settings.epochs,
        optimizer=settings.optimizer, batch_size=settings.batch_size, rng=rng, dev=data.dev, lambd=settings.lambd,
        keep_probs=settings.keep_probs, max_norm=settings.max_norm, clip_norm=settings.clip_norm,
        sample_weight=data.sample_weight, dev_sample_weight=data.dev_sample_weight,
    )  # fmt: skip


def _check_settings_and_data(settings: object, data: object) -> None:
    """Refuse, naming the argument, what a run would otherwise fail on before ``train`` checks
    its arguments: ``settings`` not a ``RunSettings`` (or arguments swapped), ``data`` not a
    ``SweepData``, an optimizer that is not one, and an ``X`` whose dtype cannot be the
    parameters' (``train`` checks the rest of the data)."""
    if not isinstance(settings, RunSettings):
        raise TypeError(f"settings must be a RunSettings, got {type(settings).__name__}")
    if not isinstance(settings.optimizer, Optimizer):
        raise TypeError(f"settings.optimizer must be an Optimizer such as sgd(0.1), got {type(settings.optimizer).__name__}")
    if not isinstance(data, SweepData):
        raise TypeError(f"data must be a SweepData(X, Y, dev), got {type(data).__name__}")
    check.check_float_array("data.X", data.X, finite=False)  # its dtype is the parameters'; train checks its values


def _check_layers(settings: RunSettings, data: SweepData) -> None:
    """Refuse, naming ``layer_sizes``, what ``train`` would refuse in terms of the parameters
    drawn from it (``W1``, ``params' W2``), which the settings' user never wrote: activations
    not one per layer, a softmax over one unit, an input layer other than ``X``'s (and ``dev[0]``'s) rows."""
    sizes = tuple(settings.layer_sizes)  # initialize_parameters checked them
    L = len(sizes) - 1
    records = check_activations(settings.activations, L, layers=f"layer_sizes {sizes} has {L} layers")
    check_softmax_units(records, sizes, named=lambda l: (f"layer_sizes[{l}]", f"activations[{l - 1}]"))
    dev: object = data.dev
    inputs: list[tuple[str, object]] = [("X", data.X)]
    if isinstance(dev, tuple) and len(dev) == 2:  # else train names what dev is
        inputs.append(("dev[0]", dev[0]))
    for argument, X in inputs:
        if isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[0] != sizes[0]:  # else train names what X is
            raise ValueError(
                f"layer_sizes[0] is {sizes[0]}, the input layer, but {argument} has {X.shape[0]} rows (features): "
                f"{argument} is (n_features, m), one sample per column"
            )


SWEEP_DATA_FILES: Final = ("X", "Y", "X_dev", "Y_dev", "sample_weight", "dev_sample_weight")
"""The ``.npy`` files ``save_sweep_data`` writes into its directory (the dev pair and the weights only if given)."""


def save_sweep_data(path: str | os.PathLike[str], data: SweepData) -> Path:
    """Write ``data`` into the directory ``path`` as one ``.npy`` file per array, for ``load_sweep_data``.

    Plain ``.npy`` files, each array in its own memory order, which ``load_sweep_data``
    maps into memory rather than reads. Every array is checked first (float32 or float64,
    one dtype, finite; ``X`` ``(n_0, m)`` and ``Y`` ``(n_L, m)`` with ``m >= 1``, a dev pair
    shaped alike), so nothing is written for data that no run could use. Then all files are
    written under temporary names and only then renamed into place, so that a failed write
    leaves the earlier files, all of them, and no temporary file; a reader never sees half a
    file. They are not fsynced, being the sweep's scratch data.

    ``path`` must be a str or ``os.PathLike`` (else ``TypeError``), not empty (``"."`` is the
    current folder) and a folder that can be made and take files (else ``ValueError``).
    """
    target = check.check_path("path", path, example="sweep-data")
    arrays = _checked_sweep_arrays(data)
    check_writable_directory(target, "path", "hold the sweep's data")
    target.mkdir(parents=True, exist_ok=True)
    partials: dict[str, Path] = {}
    try:
        for name, array in arrays.items():
            partials[name] = target / f".{name}.{os.getpid()}.tmp.npy"
            # as laid out (MNIST's X is Fortran-ordered, a sample per contiguous column, which a
            # batch's column gather needs: a C-ordered copy made every run 1.4x slower)
            np.save(partials[name], array, allow_pickle=False)
        for name in SWEEP_DATA_FILES:
            final = target / f"{name}.npy"
            if name in partials:
                os.replace(partials.pop(name), final)
            else:
                final.unlink(missing_ok=True)  # a dev pair left by an earlier sweep must not be read
    finally:
        for partial in partials.values():
            partial.unlink(missing_ok=True)
    return target


def _checked_sweep_arrays(data: object) -> dict[str, FloatArray]:
    """``data``'s arrays by file name, checked as ``train`` checks its data, before anything is written."""
    if not isinstance(data, SweepData):
        raise TypeError(f"data must be a SweepData(X, Y, dev), got {type(data).__name__}")
    X = check.check_float_array("data.X", data.X)
    Y = check.check_float_array("data.Y", data.Y, targets=True)
    m = check.check_samples("data.X", X)
    if Y.shape[1] != m:
        raise ValueError(f"data.Y has {Y.shape[1]} columns but data.X has {m} samples: both hold one sample per column")
    check.check_same_dtype("data.Y", Y, X.dtype, "data.X")
    arrays = {"X": X, "Y": Y}
    dev: object = data.dev  # typed, but users pass what they like
    if dev is not None:
        if not isinstance(dev, tuple) or len(dev) != 2:
            raise TypeError(f"data.dev must be a tuple (X_dev, Y_dev), got {type(dev).__name__}")
        X_dev = check.check_float_array("data.dev[0]", dev[0])
        Y_dev = check.check_float_array("data.dev[1]", dev[1], targets=True)
        m_dev = check.check_samples("data.dev[0]", X_dev)
        for argument, array, rows in (("data.dev[0]", X_dev, X.shape[0]), ("data.dev[1]", Y_dev, Y.shape[0])):
            if array.shape != (rows, m_dev):
                raise ValueError(
                    f"{argument} must have shape {(rows, m_dev)}: {rows} rows like the training data and "
                    f"data.dev[0]'s {m_dev} samples as columns, got {array.shape}"
                )
            check.check_same_dtype(argument, array, X.dtype, "data.X")
        arrays.update(X_dev=X_dev, Y_dev=Y_dev)
    for name, weights, columns in (("sample_weight", data.sample_weight, (m, "data.X")), ("dev_sample_weight", data.dev_sample_weight, None)):
        if weights is None:
            continue
        if columns is None:
            if "X_dev" not in arrays:
                raise ValueError("data.dev_sample_weight weighs the dev set's samples: give data.dev too")
            columns = (arrays["X_dev"].shape[1], "data.dev[0]")
        arrays[name] = check_sample_weight(f"data.{name}", weights, columns[0], f"{columns[1]}'s {columns[0]} columns")
    return arrays


def load_sweep_data(path: str | os.PathLike[str]) -> SweepData:
    """What ``save_sweep_data`` wrote into the directory ``path``, as read-only memory maps.

    Nothing is copied: each array's pages come from the operating system's page cache as
    they are first touched, shared by every process on the machine that maps the file.
    Reading MNIST's 190 MB into each worker instead took 0.3-0.6 s (measured). ``path`` is
    checked as ``save_sweep_data`` checks it: an empty one is refused, not read as ``"."``.
    """
    source = check.check_path("path", path, example="sweep-data")

    def load(name: str) -> FloatArray:
        # Mapped, not read: the workers of one machine share the page cache's copy, and
        # none pays for reading and copying the whole file before its first step.
        array: FloatArray = np.asarray(np.load(source / f"{name}.npy", mmap_mode="r", allow_pickle=False))
        return array

    dev = (load("X_dev"), load("Y_dev")) if (source / "X_dev.npy").exists() else None
    weights = [load(name) if (source / f"{name}.npy").exists() else None for name in ("sample_weight", "dev_sample_weight")]
    return SweepData(load("X"), load("Y"), dev, *weights)


def _stamp(path: str) -> tuple[tuple[int, int], ...]:
    """The files' (modification time, size): what tells one sweep's data from another's."""
    return tuple((int(f.st_mtime_ns), int(f.st_size)) for f in (os.stat(p) for p in sorted(Path(path).glob("*.npy"))))


@functools.lru_cache(maxsize=1)
def _worker_data(path: str, stamp: tuple[tuple[int, int], ...]) -> SweepData:
    """``load_sweep_data(path)``, once per worker process for a sweep's data (``stamp`` keys a new one).

    Every run the worker is given then trains on the same arrays, mapped from the files once,
    so no run is tied to the worker that holds a copy. The cache holds one sweep's data.
    """
    return load_sweep_data(path)


def _forget_worker_data() -> None:
    """Drop this worker's maps of a sweep's files (``_worker_data``'s cache), as the sweep ends."""
    _worker_data.cache_clear()


def _run_stored(settings: RunSettings, path: str) -> TrainResult:
    """``_run_task`` on the data ``save_sweep_data`` wrote into ``path``: a sweep's task with ``data_dir``."""
    return _run_task(settings, _worker_data(path, _stamp(path)))


class _RunCancelled(Exception):
    """Ends a sweep's run on a worker once its task was cancelled: no one waits for its result."""


def _run_task(settings: RunSettings, data: SweepData) -> TrainResult:
    """``run_settings`` as a sweep's task on a worker: the same epochs and the same result,
    but a run whose task was cancelled (the sweep failed) stops at the end of its epoch.

    Dask cannot stop a running task, so without this the run would train on for nothing and
    hold its worker from the next sweep's runs. Its task's state, which the worker keeps in
    this process, says whether it was cancelled: reading it costs no message.
    """
    state: TrainResult | None = None
    for state in _settings_fold(settings, data, train_epochs):  # train's own fold, one epoch at a time
        if _task_cancelled():
            raise _RunCancelled(f"the sweep was cancelled: run stopped after epoch {state.epoch}")
    return state if state is not None else run_settings(settings, data)  # no epoch: train's starting state


def _task_cancelled() -> bool:
    """Whether the Dask task running this code was cancelled (``False`` outside a task)."""
    distributed = _import_distributed()
    try:
        worker = distributed.get_worker()
        key = worker.get_current_task()
        task = worker.state.tasks.get(key)
    except (ValueError, KeyError, AttributeError):  # not in a worker's task thread, or another Dask
        return False
    return task is None or task.state in ("cancelled", "released", "forgotten")


def _check_run_settings(settings: Sequence[RunSettings], data: SweepData) -> None:
    """Refuse, before any run starts, every setting that ``run_settings`` would refuse once
    its run had started: each is checked by ``train_epochs``, which checks all of ``train``'s
    arguments when called and trains nothing until iterated. The error names the setting:
    ``settings[i]: ...``."""
    for i, setting in enumerate(settings):
        try:
            _settings_fold(setting, data, train_epochs)
        except (TypeError, ValueError) as error:
            kind = TypeError if isinstance(error, TypeError) else ValueError
            raise kind(f"settings[{i}]: {error}") from error


def _work(settings: RunSettings, m: int) -> int:
    """A run's cost in multiply-adds, roughly: epochs x samples x weights (x 3 for forward and backward).

    Used as the task's priority, so the longest runs start first and the short ones fill
    the gaps at the end (longest-processing-time-first scheduling).
    """
    sizes = settings.layer_sizes
    return 3 * settings.epochs * m * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


@contextlib.contextmanager
def _noting_run(i: int) -> Iterator[None]:
    """An exception of run ``i`` of a sweep goes on as itself, with a note naming its setting."""
    try:
        yield
    except Exception as error:
        _add_note(error, f"in settings[{i}] (sweep)")
        raise


def sweep(
    settings: Sequence[RunSettings],
    X: FloatArray,
    Y: FloatArray,
    *,
    dev: tuple[FloatArray, FloatArray] | None = None,
    client: Client | None = None,
    on_done: Callable[[int, TrainResult], object] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    sample_weight: npt.ArrayLike | None = None,
    dev_sample_weight: npt.ArrayLike | None = None,
) -> list[TrainResult]:
    """Train every one of ``settings`` on the same data; results in the order given.

    With a ``client`` each run is one task on the cluster; without, they run one after
    another in this process. Either way each result is bitwise the one ``run_settings``
    gives for that setting alone with as many BLAS threads: a run on ``local_cluster``'s
    worker processes (one BLAS thread each) equals ``run_settings`` in this process inside
    ``threadpoolctl.threadpool_limits(1, user_api="blas")``, and agrees with it to rounding
    outside (see the module's notes). ``on_done(i, result)`` is called as run ``i``
    finishes (in finishing order), e.g. to move a progress bar. ``sample_weight`` and
    ``dev_sample_weight`` (checked as ``train`` checks them, once) are every run's, as for
    ``train``; they travel with the data (``SweepData``), and with ``data_dir`` are written beside it.

    The data reaches the workers once: sent by the driver to every worker, or, with
    ``data_dir`` (a directory every worker can read, such as a local disk for a local
    cluster or a shared file system), written once by the driver into a folder of the
    sweep's own under ``data_dir/sweep-data`` as ``.npy`` files that each worker maps into
    memory the first time it runs one of the sweep's runs (and unmaps as the sweep ends),
    which saves the driver sending it once per worker, lets the workers of one
    machine share one copy, and lets a run be retried on any worker. The folder is removed
    when the sweep ends, however it ends; sweeps run at once with the same ``data_dir``
    each train on their own data.

    No run is tied to a worker: each is a task whose priority is its estimated work
    (epochs x samples x weights), so the scheduler starts the longest runs first and gives
    the next one to whichever worker comes free (longest-processing-time-first), which
    keeps the workers busy until the end when the runs' lengths differ.

    Everything is checked before any run starts: every setting against the data (as
    ``train`` would), ``X``, ``Y`` and ``dev`` of one dtype, ``on_done`` (a function that
    takes two positional arguments), ``data_dir`` (a path, not empty, where the folder can
    be made and written) and the client (a ``distributed.Client``, not closed), and with a
    client that each setting's activations, loss and optimizer pickle (Dask sends them with
    its run, as ``train_rounds`` sends its pieces), naming the one that does not. A run that
    fails raises its own exception (``TrainingDivergedError``, say), with a note naming
    ``settings[i]``. On a cluster, a run that fails, an ``on_done`` that raises or an
    interruption (``KeyboardInterrupt``) first cancels the sweep's other runs, queued or
    running (a running one stops at the end of its epoch), and frees the data sent, so the
    next sweep on the client finds the workers free.
    """
    given: object = settings  # typed, but checked: users pass what they like
    if isinstance(given, RunSettings) or not isinstance(given, Sequence) or not given:
        raise TypeError(f"settings must be a non-empty sequence of RunSettings, got {type(given).__name__}")
    for i, setting in enumerate(given):
        if not isinstance(setting, RunSettings):
            raise TypeError(f"settings[{i}] must be a RunSettings, got {type(setting).__name__}")
        if not isinstance(setting.optimizer, Optimizer):
            raise TypeError(f"settings[{i}].optimizer must be an Optimizer such as sgd(0.1), got {type(setting.optimizer).__name__}")
    _check_on_done(on_done)
    folder = None if data_dir is None else check.check_path("data_dir", data_dir) / "sweep-data"
    data = SweepData(check.check_float_array("X", X), check.check_float_array("Y", Y, targets=True), dev)
    m = check.check_samples("X", data.X)
    if sample_weight is not None:  # as float64 (train's own copy of them): the runs here and on the workers get the same
        data = data._replace(sample_weight=check_sample_weight("sample_weight", sample_weight, m, f"X's {m} columns"))
    if dev_sample_weight is not None and dev is None:
        raise ValueError("dev_sample_weight weighs the dev set's samples: pass dev=(X_dev, Y_dev) too")
    if dev_sample_weight is not None and isinstance(dev, tuple) and len(dev) == 2:  # else train's check of dev says what came
        m_dev = check.check_samples("dev[0]", check.check_float_array("dev[0]", dev[0]))
        weights = check_sample_weight("dev_sample_weight", dev_sample_weight, m_dev, f"dev[0]'s {m_dev} columns")
        data = data._replace(dev_sample_weight=weights)
    # One dtype for the data, as train_rounds and save_sweep_data (data_dir) require: a float32
    # run stays float32 and the data sent to the workers is the data the runs train on.
    check.check_same_dtype("Y", data.Y, data.X.dtype, "X")
    if isinstance(dev, tuple) and len(dev) == 2:  # else train's check of dev, in _check_run_settings, says what came
        check.check_same_dtype("dev[0]", check.check_float_array("dev[0]", dev[0]), data.X.dtype, "X")
        check.check_same_dtype("dev[1]", check.check_float_array("dev[1]", dev[1], targets=True), data.X.dtype, "X")
    _check_run_settings(given, data)  # all of them before any run starts: none fails half-way through
    if folder is not None:  # tried for real, and left as it was: the data is written only with a client
        check_writable_directory(folder, "data_dir's folder", "hold the sweep's data")
    if client is None:
        results = []
        for i, setting in enumerate(settings):
            with _noting_run(i):
                results.append(run_settings(setting, data))
            if on_done is not None:
                on_done(i, results[-1])
        return results
    distributed = _import_distributed()
    _check_client("client", client)
    pieces = [(f"settings[{i}].{field}", getattr(setting, field)) for i, setting in enumerate(settings) for field in ("activations", "loss", "optimizer")]
    blobs = _pickled(pieces, "its run's task")  # each run is a task: a piece Dask cannot pickle would fail in its words
    workers = check_workers(client)
    _check_unpickled(client, workers, pieces, blobs)  # and so would one a worker cannot unpickle (its module missing there)
    sent: list[Future[Any]] = []  # the data scattered, then the runs: cancelled if the sweep fails
    stored: Path | None = None  # the sweep's own folder of data_dir, removed when it ends
    try:
        # No task is pinned to a worker: the scheduler hands the next run, longest first, to
        # whichever worker comes free, so the long runs do not pile up on one worker while the
        # other idles at the end.
        if folder is None:
            shared = _scatter(client, data, workers, broadcast=True)
            sent.append(shared)
            futures = [client.submit(_run_task, s, shared, priority=_work(s, m), pure=False) for s in settings]
        else:
            folder.mkdir(parents=True, exist_ok=True)
            stored = Path(tempfile.mkdtemp(prefix="sweep-", dir=folder)).absolute()  # another sweep's runs never read it; a
            # worker started in another working directory finds it too (mkdtemp keeps a relative dir relative)
            path = str(save_sweep_data(stored, data))
            futures = [client.submit(_run_stored, s, path, priority=_work(s, m), pure=False) for s in settings]
        sent.extend(futures)
        index = {future.key: i for i, future in enumerate(futures)}
        done: dict[int, TrainResult] = {}
        for future in distributed.as_completed(futures, loop=client.loop):
            i = index[future.key]
            with _noting_run(i):
                done[i] = future.result()
            if on_done is not None:
                on_done(i, done[i])
    except BaseException:
        # A run failed, on_done raised, or the caller was interrupted: the other runs would
        # train on for nothing, holding the workers from the next sweep, and their futures
        # (which the traceback keeps) the data sent.
        _cancel(client, sent)
        raise
    finally:
        if stored is not None:
            # The workers unmap the files first: Windows removes no file still in use (mapped, it
            # stayed, and sweep.py's temporary folder then failed after the runs); Linux removes
            # the name, but a file in /dev/shm holds its memory until the last map goes. A
            # cancelled run that starts meanwhile fails unread.
            with contextlib.suppress(Exception):  # the error being raised, if any, matters more
                client.run(_forget_worker_data)
            shutil.rmtree(stored, ignore_errors=True)
    return [done[i] for i in range(len(futures))]


def _check_on_done(on_done: object) -> None:
    """Refuse an ``on_done`` that is not a function of ``(index, result)``: it would fail
    only once the first run had finished."""
    if on_done is None:
        return
    if not callable(on_done):
        raise TypeError(f"on_done must be a function of (index, result), got {type(on_done).__name__}")
    try:
        signature = inspect.signature(on_done)
    except (TypeError, ValueError):  # some built-in functions have none: called as they are
        return
    try:
        signature.bind(0, None)
    except TypeError as error:
        name = getattr(on_done, "__name__", type(on_done).__name__)
        raise TypeError(f"on_done must take two positional arguments (index, result), got {name}{signature}: {error}") from None


# --------------------------------------------------------------------------------------------
# clusters


HEARTBEAT_FAILURE: Final = "Failed to communicate with scheduler during heartbeat."
"""What a Dask worker logs, with a ``CommClosedError`` traceback, when a heartbeat to the scheduler fails."""


class _ClosingWorkerFilter(logging.Filter):
    """Drops two records of workers that are closing: the heartbeat failure (``distributed.worker``)
    and the warning that a task's execution ended with ``CancelledError``
    (``distributed.worker.state_machine``, which Dask logs as ``Worker.close`` cancels the
    tasks still running: a sweep or a run stopped by Ctrl-C or SIGTERM).

    A worker closes its connections while a heartbeat may be on its way to the scheduler;
    that heartbeat then fails and the worker logs ``HEARTBEAT_FAILURE`` at ERROR level with a
    ``CommClosedError`` traceback (a race in Dask's own shutdown, which the open pull request dask/distributed#6543 "Don't heartbeat while Worker is closing" addresses:
    about 1 closing in 6 on a 2-core machine). Nothing was lost, the worker was going anyway.
    A running worker's heartbeat failure, a real lost scheduler, is still logged, and so is
    every other record.
    """

    def __init__(self) -> None:
        super().__init__()
        self.workers: weakref.WeakSet[Any] = weakref.WeakSet()  # Any: distributed.Worker, not imported here

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg if isinstance(record.msg, str) else ""
        cancelled = message.startswith("Async instruction for ") and message.endswith(" ended with CancelledError")
        if message != HEARTBEAT_FAILURE and not cancelled:
            return True
        # A process holds one worker (processes=True) or all of a cluster's (threads): the
        # record names none, so it is dropped only when every worker here is closing.
        statuses = [getattr(worker.status, "name", None) for worker in list(self.workers)]
        return not statuses or not all(status in ("closing", "closed") for status in statuses)


_CLOSING_WORKER_FILTER: Final = _ClosingWorkerFilter()


class _DivergedTaskFilter(logging.Filter):
    """Drops a worker's "Compute Failed" record (ERROR level: the task, the exception and its
    traceback, about ten lines) for a task that ended with ``TrainingDivergedError``: the
    driver raises that error itself, which the scripts print in one line, so a diverged sweep
    printed Dask's record first and the clear message under it. Every other failed task is
    still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args  # Dask's: key, state, task, exception text, traceback text
        failed = isinstance(record.msg, str) and record.msg.startswith("Compute Failed")
        exception = args[3] if isinstance(args, tuple) and len(args) > 3 else None
        return not (failed and isinstance(exception, str) and exception.startswith(f"{TrainingDivergedError.__name__}("))


_DIVERGED_TASK_FILTER: Final = _DivergedTaskFilter()


def dask_setup(worker: Any) -> None:  # Any: a distributed.Worker; this module imports no Dask
    """Run by Dask in every worker of ``local_cluster`` as it starts (its ``preload``; a worker
    started by hand runs it with ``dask worker ... --preload functional_nn.distributed``).

    Makes the worker's closing quiet (see ``_ClosingWorkerFilter``), and a diverged task's
    failure, which the driver reports (``_DivergedTaskFilter``). And in a
    worker process of its own (one a nanny started: the process is the worker's, and training
    is what it is for) it calls ``allocator.keep_freed_memory``, as ``train_mnist.py`` does
    in its own process, so that each step's fresh arrays reuse the last step's memory instead
    of faulting pages in again. Measured on 2 such workers (local SGD, 784-1024-1024-1024-10,
    8 rounds of 20 steps of 64 samples a shard): 4.51-4.88 s against 5.35-5.69 s with glibc's
    own thresholds, a quarter to a third of the page faults; the sweep of small networks took
    the same time either way. Dask's nannies start workers with ``MALLOC_TRIM_THRESHOLD_``,
    which returns every freed array at once: ``local_cluster`` asks its nannies not to set it,
    but a worker inherits it all the same when an earlier Dask cluster in the starting process
    left it in that process's environment; ``keep_freed_memory`` overrides it either way.
    Such a worker process also ignores SIGINT: Ctrl-C in a terminal reaches every process of
    the group, and its nanny, which closes it, is the one to act (the worker printed
    ``KeyboardInterrupt`` tracebacks under the script's one-line message).
    """
    _CLOSING_WORKER_FILTER.workers.add(worker)
    for name in ("distributed.worker", "distributed.worker.state_machine"):  # once each: the same filter is not added twice
        logging.getLogger(name).addFilter(_CLOSING_WORKER_FILTER)
    logging.getLogger("distributed.worker").addFilter(_DIVERGED_TASK_FILTER)
    if getattr(worker, "nanny", None) is not None:  # not threads of the user's own process
        allocator.keep_freed_memory()
        if threading.current_thread() is threading.main_thread():
            # Ctrl-C in a terminal reaches the whole process group: the nanny, in the process
            # that started the cluster, closes its worker; the worker itself would print
            # KeyboardInterrupt tracebacks over the driver's one-line message
            signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def _environment_kept() -> Iterator[None]:
    """This process's environment variables that Dask's nannies write, put back as they were
    when the block ends.

    A nanny writes its pre-spawn environment (``distributed.nanny.pre-spawn-environ``: one
    BLAS and OpenMP thread, its allocator setting) into the environment of the process that
    runs it, here the user's, because a worker process must find them there as it starts
    (Dask calls this poisoning that process). Left there, every later subprocess of the user's,
    and every BLAS a library loads later in this process, would get one thread. The workers
    already started keep theirs; a nanny restarting one writes them again first.
    """
    import dask.config

    # and two a nanny writes beside its configured ones: the hash seed it gives its workers
    # (every later subprocess would get it: no hash randomisation) and its process-title marker
    names = set(dask.config.get(PRE_SPAWN_ENVIRON, None) or {}) | set(WORKER_ENV) | {"PYTHONHASHSEED", "__DASK_PARENT_PID"}
    before = {name: os.environ.get(name) for name in names}
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def local_cluster(n_workers: int | None = None, *, processes: bool = True, dashboard: bool = False) -> LocalCluster:
    """A ``LocalCluster`` on 127.0.0.1: ``n_workers`` (default one per core this process may use) of one thread each.

    With ``processes`` (the default) each worker is a process started with one BLAS
    thread (``WORKER_ENV``); without, the workers are threads of this process, talking
    over loopback TCP. The dashboard is served on port 8787 only if asked; otherwise the
    scheduler's small HTTP server (health checks) takes a free port, so that several
    clusters on one machine do not compete for 8787. Without the dashboard, the cluster
    keeps its own bookkeeping quiet (``QUIET_CLUSTER``: no profiler, slower health ticks),
    which leaves the cores to the tasks. Its scheduler keeps no log of the messages it sends
    (``NO_MESSAGE_LOG``), which would hold a thousand rounds' parameters. Each worker runs this module's ``dask_setup`` as it
    starts (Dask's ``preload``, after any configured in ``distributed.worker.preload``), so
    that closing the cluster prints no traceback of Dask's own shutdown race, and so that
    worker processes keep the memory each step frees for the next
    (``allocator.keep_freed_memory``). The variables Dask's nannies write into this
    process's environment for their workers (one BLAS thread) are put back as they were once
    the workers have started.
    """
    _check_bool("processes", processes)
    _check_bool("dashboard", dashboard)
    distributed = _import_distributed()
    import dask.config
    import dask.system  # its count of the cores this process may use: CPU affinity and a cgroup's CPU quota

    workers = check.check_positive_int("n_workers", n_workers if n_workers is not None else dask.system.CPU_COUNT)
    options: dict[str, Any] = {"env": dict(WORKER_ENV)} if processes else {}
    preload = dask.config.get("distributed.worker.preload", None) or []
    preload = [preload] if isinstance(preload, str) else list(preload)
    argv = list(dask.config.get("distributed.worker.preload-argv", None) or [])
    if argv and not isinstance(argv[0], str):  # one list per configured preload: ours takes none
        argv.append([])
    options.update(preload=[*preload, __name__], preload_argv=argv)
    # Dask's nannies start workers with MALLOC_TRIM_THRESHOLD_=65536, which sends every array
    # above 64 KiB back to the kernel when freed: a training step's temporaries then fault
    # their pages in afresh each time, measured 2.6x slower (0.49 s against 0.19 s for 50
    # steps of 784-256-10 on batches of 64). None leaves it out (see the nanny's
    # pre-spawn-environ), and dask_setup then keeps each worker's freed memory for its next
    # steps, overriding the variable where a worker inherits it all the same.
    settings: dict[str, Any] = {f"{PRE_SPAWN_ENVIRON}.MALLOC_TRIM_THRESHOLD_": None, **NO_MESSAGE_LOG}
    if not dashboard:
        settings.update(QUIET_CLUSTER)
    with dask.config.set(settings), _environment_kept():
        cluster: LocalCluster = distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=processes, host="127.0.0.1", protocol="tcp://",
            dashboard_address=":8787" if dashboard else None,
            scheduler_kwargs=None if dashboard else {"dashboard_address": ":0"}, **options,
        )  # fmt: skip
    return cluster


def _check_bool(argument: str, value: object) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{argument} must be a bool, got {type(value).__name__} {value!r}")


ADDRESS_SCHEMES: Final = ("tcp", "tls")
"""The schemes ``cluster_client`` reaches a scheduler by: Dask's TCP, and TCP with TLS."""


def check_scheduler_address(argument: str, address: object) -> str:
    """``address`` if it has the form of a scheduler's address: ``scheme://host:port`` with a
    scheme of ``ADDRESS_SCHEMES`` (or none: Dask's default, TCP), a host (an IPv6 one in
    brackets) and a port from 1 to 65535. Dask would otherwise take a port such as 99999 and
    wait the whole timeout to connect to it, or fail in words naming none of the arguments."""
    example = "such as 'tcp://10.0.0.5:8786'"
    if not isinstance(address, str):
        scheduler_address = getattr(address, "scheduler_address", None)  # a LocalCluster, SSHCluster, ...
        hint = f" (a cluster: pass its scheduler_address, {scheduler_address!r})" if isinstance(scheduler_address, str) else ""
        raise TypeError(f"{argument} must be a scheduler's address {example}, got {type(address).__name__}{hint}")
    refused = f"{argument} must be a scheduler's address {example}, got {address!r}"
    if not address.strip():
        raise ValueError(refused)
    scheme, separator, location = address.partition("://")
    if not separator:
        location = address
    elif scheme not in ADDRESS_SCHEMES:
        raise ValueError(f"{refused}: the scheme must be one of {', '.join(s + '://' for s in ADDRESS_SCHEMES)}, got {scheme!r}")
    if location.startswith("["):  # [IPv6]:port
        host, _, rest = location[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
    else:
        host, colon, port_text = location.rpartition(":")
        host, port = (host, port_text) if colon else (location, None)
        if ":" in host:
            raise ValueError(f"{refused}: an IPv6 host goes in brackets, as in 'tcp://[::1]:8786'")
    if not host or any(character.isspace() or character in "/[]@" for character in host):
        raise ValueError(f"{refused}: no host name or IP address before the port")
    if port is None:
        raise ValueError(f"{refused}: no port (the scheduler's is printed as it starts, 8786 by default)")
    if not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        raise ValueError(f"{refused}: the port must be a number from 1 to 65535, got {port!r}")
    return address


class SchedulerUnreachableError(ConnectionError):
    """The Dask scheduler could not be reached; the message names the address and the time waited."""


@contextlib.contextmanager
def cluster_client(
    address: str | None = None,
    *,
    n_workers: int | None = None,
    timeout: float = 10.0,
    dashboard: bool = False,
    processes: bool = True,
) -> Iterator[Client]:
    """A Dask client for the duration of a ``with`` block, on a cluster started here or reached by address.

    Parameters
    ----------
    address : str, optional
        A running scheduler, e.g. ``"tcp://10.0.0.5:8786"`` (``dask scheduler`` prints it):
        ``tcp://`` or ``tls://`` (with Dask's TLS settings), or no scheme (Dask's default,
        TCP), then a host (an IPv6 one in brackets) and a port from 1 to 65535; another form
        is refused at once, before anything is tried. ``None``: Dask's ``scheduler-address``
        setting (``DASK_SCHEDULER_ADDRESS``), checked alike, if set,
        else a ``LocalCluster`` of ``n_workers`` worker processes on 127.0.0.1, one thread
        and one BLAS thread each, closed on leaving the block.
    n_workers : int >= 1, optional
        Local workers; default one per core this process may use (Dask's count: its CPU
        affinity, as ``taskset`` or a Slurm job sets it, and a container's CPU quota). Refused
        with an address.
    timeout : float > 0, default 10
        Seconds to wait for the scheduler; ``SchedulerUnreachableError`` after that.
    dashboard : bool, default False
        Serve the local cluster's dashboard on port 8787.
    processes : bool, default True
        Local workers as processes; ``False``: threads of this process (see ``local_cluster``).
    """
    given: object = address  # typed, but checked: users pass what they like
    if given is not None:
        check_scheduler_address("address", given)
    _check_bool("processes", processes)
    _check_bool("dashboard", dashboard)
    distributed = _import_distributed()
    import dask.config

    timeout = check.check_positive_float("timeout", timeout)
    if address is None:
        configured = dask.config.get("scheduler-address", None)
        address = check_scheduler_address("Dask's scheduler-address setting", str(configured)) if configured else None
    if address is not None:
        if n_workers is not None:
            raise ValueError("n_workers applies to a local cluster: the cluster at an address has its own workers")
        if address.startswith("tls://") and distributed.Security().get_connection_args("client")["ssl_context"] is None:
            # Dask would fail with a TypeError about an ssl_context, and a traceback as the client is dropped
            raise ValueError(
                f"address {address!r} is reached over TLS, but Dask's TLS settings are missing (distributed.comm.tls: "
                "ca-file, and client: cert and key): set them, or reach the scheduler at a tcp:// address"
            )
        started = time.perf_counter()
        try:
            with dask.config.set(NO_MESSAGE_LOG):  # read as the client's stream is made
                client = distributed.Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as error:
            waited = time.perf_counter() - started
            raise SchedulerUnreachableError(
                f"could not reach the Dask scheduler at {address} (waited {waited:.1f} s, timeout {timeout:g} s): "
                f"is `dask scheduler` running there, and the port open? ({error})"
            ) from error
        try:
            yield client
        finally:
            client.close()
        return
    with _environment_kept():  # a nanny restarting a lost worker writes the variables again
        cluster = local_cluster(n_workers, processes=processes, dashboard=dashboard)
        try:
            with dask.config.set(NO_MESSAGE_LOG):
                client = distributed.Client(cluster, set_as_default=False)
            with client:
                yield client
        finally:
            cluster.close()
