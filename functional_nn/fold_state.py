"""The values a training fold passes along: its states, their records, and its settings.

``training`` makes them, ``checkpoints`` writes and reads them, ``distributed`` folds over
them on a cluster; all three import these types from here, so that none imports another
just for a type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple, TypeAlias, get_args

from functional_nn.optimizers import OptimizerState
from functional_nn.types import Caches, FloatArray, record_repr


class EpochRecord(NamedTuple):
    """The figures of one epoch.

    ``cost`` and ``accuracy`` are the means over the epoch's mini-batches, each taken from
    the forward pass that computed that batch's gradient (so before that batch's update),
    weighted by batch size; full-batch, they are the figures of the parameters the epoch
    started from, as the tutorials print them (on the augmented batches, with dropout, when
    training has those); ``cost`` includes the L2 penalty (``lambd``), the cost training
    minimises. ``dev_cost`` and ``dev_accuracy`` are taken with the parameters the epoch
    ended with, or their moving average when the optimizer is wrapped in ``ema``;
    ``dev_cost`` is the loss alone, without the penalty. Accuracies are ``None`` for a
    regression loss, dev figures ``None`` without a dev set. With several output units under
    softmax a sample is right when its largest output is its class; with several units of
    their own (sigmoids and binary cross-entropy, or the hinge loss: multi-label targets, a
    column may hold several 1s or none) it is right when every unit's output is on its
    label's side of the loss's ``decision_threshold``: the exact-match (subset) accuracy of
    scikit-learn's ``accuracy_score``.
    """

    epoch: int
    cost: float
    accuracy: float | None
    dev_cost: float | None = None
    dev_accuracy: float | None = None


Monitor: TypeAlias = Literal["dev_cost", "dev_accuracy"]
MONITORS: tuple[Monitor, ...] = get_args(Monitor)


class EarlyStopping(NamedTuple):
    """Stop training when a dev-set figure has not improved for ``patience`` epochs.

    An epoch improves on the best so far when its ``monitor`` figure is lower (``"dev_cost"``)
    or higher (``"dev_accuracy"``) than the best by more than ``min_delta``. The first epoch
    always sets the best; a NaN figure (a dev set whose forward pass overflowed) improves on
    nothing, and any number improves on a NaN best. After ``patience`` epochs in a row
    without improvement the fold ends; the state it ends with has ``stopped=True`` and keeps,
    in ``best_params``, the parameters of the best epoch (``best_epoch``), which are the ones
    to use.

    Parameters
    ----------
    patience : int >= 1
        Epochs without improvement tolerated before stopping.
    monitor : {"dev_cost", "dev_accuracy"}, default "dev_cost"
        ``"dev_accuracy"`` needs a classification loss.
    min_delta : float >= 0, default 0
        The smallest change that counts as an improvement.
    """

    patience: int
    monitor: Monitor = "dev_cost"
    min_delta: float = 0.0


class TrainState(NamedTuple):
    """The state of the fold after ``epoch`` epochs (0: the state it starts from).

    ``params`` are the parameters after the last step of epoch ``epoch``;
    ``optimizer_state`` is what the optimizer's ``update`` returned last; ``history`` has one
    record per epoch run.

    With early stopping (else these keep their defaults): ``best_params`` are the
    parameters at the end of epoch ``best_epoch``, the best so far on the monitored dev
    figure (with ``ema``, the averaged parameters: the optimizer state's read-only arrays,
    to copy before changing), whose value is ``best_value``; ``epochs_since_best`` counts
    the epochs since; ``stopped`` is ``True`` when patience ran out at this epoch, and the
    fold ends here. The last state is patience epochs past the best: predict with
    ``best_params``.
    """

    epoch: int
    params: dict[str, FloatArray]
    optimizer_state: OptimizerState
    history: tuple[EpochRecord, ...]
    best_params: dict[str, FloatArray] | None = None
    best_epoch: int | None = None
    best_value: float | None = None
    epochs_since_best: int = 0
    stopped: bool = False

    def __repr__(self) -> str:
        return record_repr(self)


TrainResult: TypeAlias = TrainState
"""What ``train`` returns: the fold's last state."""


class BatchProgress(NamedTuple):
    """What ``on_batch`` is told after each update: the ``step``-th of ``steps`` batches of
    ``epoch``, the ``samples`` seen so far in the epoch and their mean ``cost``."""

    epoch: int
    step: int
    steps: int
    samples: int
    cost: float


class RoundRecord(NamedTuple):
    r"""The figures of one round of distributed training (see ``functional_nn.distributed``).

    ``cost`` and ``accuracy`` are means over the ``samples`` the round trained on, each
    taken from the forward pass that computed that sample's gradient, weighted by sample
    (with the L2 penalty of the parameters each forward pass used: the round's starting
    parameters in a synchronous round, each local step's own in local SGD). ``epochs``
    counts the passes over the data made so far, ``samples_seen / m``. ``seconds`` is the
    round's wall time on the driver and ``waiting`` the part of it spent waiting on the
    cluster (placing, computing, gathering). Dev figures are taken with the parameters the
    round ended with, or their moving average when the optimizer is wrapped in ``ema`` (as
    ``EpochRecord``'s), on the rounds the dev set is evaluated, else ``None``.

    ``weight`` is ``None`` for a round trained without sample weights. With them
    (``train_rounds(..., sample_weight=w)``) ``cost`` and ``accuracy`` are the weighted means
    over the round's samples and ``weight`` is their total weight, the sum of the weights of
    the batches the round trained on: :math:`\sum_s S_{B_s}` in a synchronous round (every
    shard's batch :math:`B_s`), :math:`\sum_s \sum_k S_{B_{s,k}}` over the ``K`` local
    steps of every shard in local SGD, with :math:`S_B = \sum_{j \in B} w_j`. It is what
    ``cost`` and ``accuracy`` were divided by, so that ``epoch_states`` can weigh the rounds
    of an epoch by it. It comes last, with a default: records of older versions (and older
    checkpoints' round histories, one field shorter) read as unweighted rounds.
    """

    round: int
    cost: float
    accuracy: float | None
    samples: int
    epochs: float
    seconds: float
    waiting: float
    dev_cost: float | None = None
    dev_accuracy: float | None = None
    weight: float | None = None


class RoundState(NamedTuple):
    """The state of a distributed fold after ``round`` rounds (0: the state it starts from).

    ``params`` are the parameters after round ``round``; ``optimizer_state`` is the
    driver's (synchronous rounds) or the shard-weighted average of the workers' (local
    SGD); ``history`` has one ``RoundRecord`` per round run.
    """

    round: int
    params: dict[str, FloatArray]
    optimizer_state: OptimizerState
    history: tuple[RoundRecord, ...]

    def __repr__(self) -> str:
        return record_repr(self)


class StepView(NamedTuple):
    """What an ``Observer`` sees after an update: the batch, its forward and backward pass,
    and the parameters the update made.

    Every array is a read-only view of the fold's own (writing into one raises
    ``ValueError``), so an observer can look at everything and change nothing. ``caches``
    hold the weights the forward pass used, so ``params[f"W{l}"] - caches[l - 1].W`` is the
    step the update took; ``grads`` are the gradients the optimizer was given (after
    clipping, when ``clip_norm`` is set). The views are for the call: copy what must outlive
    it (``np.array(view.params["W1"])``), as a later step may reuse the fold's buffers.
    """

    progress: BatchProgress
    X: FloatArray  # (n_0, b): the batch
    Y: FloatArray  # (n_L, b)
    caches: Caches
    grads: dict[str, FloatArray]  # "dW1", "db1", ...
    params: dict[str, FloatArray]  # after the update

    def __repr__(self) -> str:
        return record_repr(self)


class Observer(NamedTuple):
    """Watches the fold's steps: ``train(..., on_batch=Observer(observe, every=k))``.

    ``observe`` is called with a ``StepView`` after every ``every``-th update of the run
    (counted from its first batch, across epochs), or after the last update of every epoch
    when ``every`` is ``None``. Steps it does not watch cost nothing: the read-only views
    are made only for the steps it sees. ``functional_nn.diagnostics.layer_statistics_observer``
    is one.
    """

    observe: Callable[[StepView], object]  # its return value, if any, is ignored
    every: int | None = None
